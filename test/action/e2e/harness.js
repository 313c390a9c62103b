'use strict';
// Real parts for running the Action offline: the local Sigstore services (hallmark-testsvc), the
// CNCF distribution registry (docker-registry), a release of the hallmark under test served over
// loopback HTTP, and `npx local-action run` with a runner's environment.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const net = require('node:net');
const { spawn, spawnSync, execFileSync } = require('node:child_process');

/** A child process to its end, without blocking this process (which serves the release). */
function exec(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill(), options.timeout || 300000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
const VERSION = /^version = "(.*)"$/m.exec(fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'))[1];
const TARGET = 'x86_64-unknown-linux-gnu';
/** The bearer the test services' GitHub Actions token endpoint expects (testsvc ACTIONS_RUNTIME_TOKEN). */
const RUNTIME_TOKEN = 'hallmark-test-runtime-token';
const WORKFLOW_REF = 'acme/app/.github/workflows/release.yml@refs/heads/main';

/** A required tool, or a loud failure naming the install step (never a skip). */
function need(file, hint) {
  if (!file || !fs.existsSync(file)) throw new Error(`missing ${file || hint}: ${hint}`);
  return file;
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`missing ${cmd} on PATH: run scripts/install-test-deps.sh`);
  return r.stdout.trim();
}

function binaries() {
  const dir = path.join(process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'debug');
  return {
    hallmark: need(process.env.HALLMARK_BIN || path.join(dir, 'hallmark'), 'build it: cargo build -p hallmark-cli --bin hallmark (or set HALLMARK_BIN)'),
    testsvc: need(process.env.HALLMARK_TESTSVC_BIN || path.join(dir, 'hallmark-testsvc'), 'build it: cargo build -p hallmark-testsvc (or set HALLMARK_TESTSVC_BIN)'),
  };
}

async function waitFor(what, probe, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function httpStatus(url) {
  return new Promise((resolve) => {
    http.get(url, (res) => { res.resume(); resolve(res.statusCode); }).on('error', () => resolve(0));
  });
}

function httpGet(url, accept) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: accept ? { accept } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}

/** hallmark-testsvc DIR: OIDC, Fulcio, Rekor and the Actions token endpoint on loopback. */
async function startServices(dir, testsvc) {
  fs.mkdirSync(dir, { recursive: true });
  const child = spawn(testsvc, [dir, '1800'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('hallmark-testsvc', () => fs.existsSync(path.join(dir, 'url')) && fs.existsSync(path.join(dir, 'trusted_root.json')));
  const url = fs.readFileSync(path.join(dir, 'url'), 'utf8').trim();
  return { child, url, trustedRoot: path.join(dir, 'trusted_root.json'), issuer: `${url}/oidc`, stop: () => child.kill() };
}

/** The CNCF distribution registry on a loopback port with its own storage; restartable on that port. */
async function startRegistry(dir, port) {
  const bin = which('docker-registry');
  port = port || await freePort();
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const config = path.join(dir, 'config.yml');
  fs.writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn(bin, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  await waitFor(`docker-registry on ${port} (${stderr})`, async () => (await httpStatus(`http://127.0.0.1:${port}/v2/`)) === 200);
  const stop = () => new Promise((r) => { child.once('exit', r); child.kill(); });
  return { host: `127.0.0.1:${port}`, port, child, stop };
}

/** The hallmark under test packaged by scripts/release.sh and served as a release download. */
async function serveRelease(dir, hallmark) {
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, 'hallmark');
  // Stripped (the code is the same): the debug binary is 300 MB, slow to gzip, and each job that
  // installs it writes a copy.
  execFileSync('strip', ['-o', bin, hallmark]);
  const out = path.join(dir, 'release');
  execFileSync('bash', [path.join(ROOT, 'scripts', 'release.sh'), 'package', bin, TARGET], {
    cwd: ROOT, env: { ...process.env, OUT: out, SOURCE_DATE_EPOCH: '0' }, stdio: 'inherit',
  });
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url);
    const name = path.basename(req.url);
    const file = path.join(out, name);
    if (req.url !== `/v${VERSION}/${name}` || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.end(fs.readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/v{version}`, hits, dir: out, stop: () => server.close() };
}

/** A dotenv value quoted so dotenv reads it back verbatim (multi-line values included). */
function dotenvValue(v) {
  const s = String(v);
  for (const q of ["'", '`']) if (!s.includes(q)) return `${q}${s}${q}`;
  throw new Error(`cannot quote ${JSON.stringify(s)} for dotenv`);
}

/** Outputs as the runner reads $GITHUB_OUTPUT (NAME<<DELIM … DELIM, or NAME=VALUE). */
function parseOutputs(text) {
  const out = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (m) {
      const vals = [];
      for (i++; i < lines.length && lines[i] !== m[2]; i++) vals.push(lines[i]);
      out[m[1]] = vals.join('\n');
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1);
    }
  }
  return out;
}

/** The variables a GitHub-hosted runner gives a job, for a workspace and a runner directory. */
function runnerEnv({ workspace, runnerDir, services, job, sha, toolCache }) {
  const cache = toolCache || path.join(runnerDir, 'tool-cache');
  for (const d of [path.join(runnerDir, 'temp'), cache]) fs.mkdirSync(d, { recursive: true });
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_REPOSITORY_ID: '123456',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_REPOSITORY_OWNER_ID: '654321',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_SHA: sha,
    GITHUB_WORKFLOW: 'release',
    GITHUB_WORKFLOW_REF: WORKFLOW_REF,
    GITHUB_JOB: job,
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_WORKSPACE: workspace,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 1',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: path.join(runnerDir, 'temp'),
    RUNNER_TOOL_CACHE: cache,
    // The runtime URL names the job; the test services put its commit in the token (sha claim).
    ACTIONS_ID_TOKEN_REQUEST_URL: `${services.url}/actions/token/sha/${sha}?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: RUNTIME_TOKEN,
    // The release archive here is the host build (the Action picks musl on real runners).
    HALLMARK_TARGET: TARGET,
  };
}

/**
 * Runs the Action's entry point through `npx local-action run` with `inputs` and `env` in a
 * dotenv file. Returns the exit code, the log, the outputs and the job summary it wrote.
 */
async function runAction({ inputs, env, dir }) {
  fs.mkdirSync(dir, { recursive: true });
  const output = path.join(dir, 'github_output');
  const summaryFile = path.join(dir, 'step_summary.md');
  for (const f of [output, summaryFile]) fs.writeFileSync(f, '');
  const vars = { ...env, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summaryFile };
  for (const [k, v] of Object.entries(inputs)) vars[`INPUT_${k.toUpperCase()}`] = v;
  const dotenv = path.join(dir, 'action.env');
  fs.writeFileSync(dotenv, Object.entries(vars).map(([k, v]) => `${k}=${dotenvValue(v)}`).join('\n') + '\n');
  const started = process.hrtime.bigint();
  const r = await exec('npx', ['--no-install', 'local-action', 'run', ROOT, 'dist/index.js', dotenv], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', NODE_PACKAGE_MANAGER: 'npm', NO_COLOR: '1' },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    code: r.status,
    log: `${r.stdout}\n${r.stderr}`,
    outputs: parseOutputs(fs.readFileSync(output, 'utf8')),
    summary: fs.readFileSync(summaryFile, 'utf8'),
    seconds,
  };
}

function git(cwd, ...args) {
  return execFileSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();
}

/** A repository acme/app holding `files` (a directory copied in), committed on main. */
function sourceRepo(dir, from) {
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(from, dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'source');
  return git(dir, 'rev-parse', 'HEAD');
}

/** A job's checkout: a clone whose origin is the GitHub URL, as actions/checkout leaves it. */
function checkout(src, workspace) {
  fs.mkdirSync(path.dirname(workspace), { recursive: true });
  execFileSync('git', ['clone', '-q', src, workspace]);
  git(workspace, 'remote', 'set-url', 'origin', 'https://github.com/acme/app.git');
}

function tmpdir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `hallmark-action-${name}-`));
}

module.exports = {
  ROOT, VERSION, TARGET, WORKFLOW_REF, binaries, startServices, startRegistry, serveRelease, runAction,
  runnerEnv, parseOutputs, exec, sourceRepo, checkout, git, tmpdir, httpGet, which,
};
