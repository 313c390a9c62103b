'use strict';
// The Hallmark GitHub Action: installs hallmark, then runs one mode (run, attest, verify) with
// the job's inputs, and reports outputs and a job summary. Node built-ins only.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { spawn, spawnSync } = require('node:child_process');

const runner = require('./runner');
const { runArgs, attestArgs, verifyArgs } = require('./args');
const { install, onPath } = require('./install');
const evidence = require('./evidence');
const summary = require('./summary');

const INPUTS = [
  'mode', 'version', 'install', 'download-url', 'sha256', 'step', 'command', 'materials', 'products',
  'exclude', 'working-directory', 'subject-path', 'subject-name', 'subject-digest', 'predicate-type',
  'predicate-path', 'push-to-registry', 'on-push-failure', 'signing-key', 'signing-key-password',
  'fulcio-url', 'rekor-url', 'signing-config', 'trusted-root', 'artifact', 'policy', 'public-key',
  'certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'required-steps',
  'bundle', 'store', 'allow-insecure-registry', 'github-token', 'summary',
];

/** Defaults for inputs the runner did not pass (action.yml's defaults; a test keeps them equal). */
const DEFAULTS = {
  version: '0.1.0', install: 'true', 'working-directory': '.', 'push-to-registry': 'false',
  'on-push-failure': 'fail', 'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
  summary: 'true',
};

function readInputs(env) {
  const inp = {};
  for (const name of INPUTS) {
    const v = runner.input(name, env);
    inp[name] = v === '' && DEFAULTS[name] !== undefined && env[`INPUT_${name.toUpperCase()}`] === undefined ? DEFAULTS[name] : v;
  }
  return inp;
}

/** Runs hallmark with args in cwd; stdout captured (and echoed unless quiet), stderr echoed and kept. */
function hallmark(bin, args, { cwd, env, quiet = false }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!quiet) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      process.stdout.write(d);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code === null ? 128 : code, signal, stdout, stderr }));
  });
}

function defaultStore(cwd, env) {
  if (env.HALLMARK_STORE) return path.resolve(cwd, env.HALLMARK_STORE);
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8' });
  return path.join(top.status === 0 ? top.stdout.trim() : cwd, '.hallmark', 'store');
}

function bundlePathFor(env, label) {
  const dir = path.join(env.RUNNER_TEMP || os.tmpdir(), 'hallmark-attestations');
  fs.mkdirSync(dir, { recursive: true });
  const base = label.replace(/[^A-Za-z0-9._-]/g, '_') || 'attestation';
  for (let i = 1; ; i++) {
    const p = path.join(dir, i === 1 ? `${base}.sigstore.json` : `${base}-${i}.sigstore.json`);
    if (!fs.existsSync(p)) return p;
  }
}

async function run(env = process.env) {
  const started = process.hrtime.bigint();
  let keyDir = null;
  // A gate that reached no decision did not allow: `allowed` is 'false' unless a verdict says so.
  let gate = false;
  try {
    const inp = readInputs(env);
    const mode = inp.mode;
    gate = mode === 'verify';
    if (!['run', 'attest', 'verify'].includes(mode)) {
      throw new Error(`input mode must be run, attest or verify, got ${JSON.stringify(mode)}`);
    }
    if (!['fail', 'warn'].includes(inp['on-push-failure'])) {
      throw new Error(`input on-push-failure must be fail or warn, got ${JSON.stringify(inp['on-push-failure'])}`);
    }
    if (inp['signing-key']) runner.mask(inp['signing-key']);
    if (inp['signing-key-password']) runner.mask(inp['signing-key-password']);
    if (inp['github-token']) runner.mask(inp['github-token']);

    const bin = runner.bool('install', inp.install)
      ? (await install({ version: inp.version, baseUrl: inp['download-url'], sha256: inp.sha256, env, log: runner.info })).bin
      : onPath(env);
    runner.setOutput('hallmark-path', bin, env);

    const cwd = path.resolve(env.GITHUB_WORKSPACE || process.cwd(), inp['working-directory']);
    const store = inp.store ? path.resolve(cwd, inp.store) : defaultStore(cwd, env);
    const childEnv = { ...env };
    for (const k of Object.keys(childEnv)) if (k.startsWith('INPUT_')) delete childEnv[k];
    // The registry token reaches hallmark only where it talks to a registry: in run mode the
    // build command would inherit it (hallmark run withholds only its signing variables).
    if (mode !== 'run' && inp['github-token'] && !childEnv.GITHUB_TOKEN) childEnv.GITHUB_TOKEN = inp['github-token'];
    // The runner's own service credentials (the Actions cache, artifacts, results) are not the
    // build's: a `run` step gets none of them, as a plain `run:` step gets none.
    if (mode === 'run') {
      for (const k of ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RUNTIME_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL']) delete childEnv[k];
    }

    if (mode === 'verify') {
      const args = verifyArgs(inp, { store });
      runner.info(`hallmark ${args.join(' ')}`);
      const res = await hallmark(bin, args, { cwd, env: childEnv, quiet: true });
      let doc;
      try {
        doc = JSON.parse(res.stdout);
      } catch {
        const why = res.signal ? `was killed by ${res.signal}` : `exited ${res.code}`;
        const last = res.stderr.trim().split('\n').slice(-3).join(' / ');
        throw new Error(`hallmark verify ${why} without a JSON document${last ? `: ${last}` : ''}`);
      }
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      // Allowed only by a verdict that allows and the exit status that goes with it: a document
      // saying allowed from a process that then failed (killed after printing) is no verdict.
      const allowed = res.code === 0 && doc.allowed === true;
      if (runner.bool('summary', inp.summary)) runner.summary(summary.verdict({ ...doc, allowed }, inp.artifact), env);
      runner.setOutput('allowed', allowed ? 'true' : 'false', env);
      gate = false;
      if (allowed) return;
      if (doc.error) throw new Error(`no decision: ${doc.error.code}: ${doc.error.message}`);
      const why = (doc.violations || []).map((v) => `${v.code}: ${v.message}`).join('; ');
      throw new Error(`DENIED ${inp.artifact}: ${why}`);
    }

    let keyFile = null;
    if (inp['signing-key']) {
      keyDir = fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), 'hallmark-key-'));
      keyFile = path.join(keyDir, 'signing.key');
      fs.writeFileSync(keyFile, inp['signing-key'].endsWith('\n') ? inp['signing-key'] : `${inp['signing-key']}\n`, { mode: 0o600 });
      if (inp['signing-key-password']) childEnv.HALLMARK_PASSWORD = inp['signing-key-password'];
    }
    const bundle = bundlePathFor(env, mode === 'run' ? inp.step : 'attestation');
    const ctx = { keyFile, store, bundle, env: childEnv };
    const args = mode === 'run' ? runArgs(inp, ctx) : attestArgs(inp, ctx);
    // The command line holds no secret: the key is a file, the token comes from the runtime.
    runner.info(`hallmark ${args.join(' ')}`);
    const res = await hallmark(bin, args, { cwd, env: childEnv });
    if (!fs.existsSync(bundle)) {
      throw new Error(res.signal ? `hallmark ${mode} was killed by ${res.signal}` : `hallmark ${mode} exited ${res.code}; nothing was attested`);
    }
    const bundleDigest = evidence.sha256File(bundle);
    const manifest = evidence.manifestDigestOf(store, bundleDigest);
    const waiting = manifest ? evidence.pending(store).filter((p) => p.manifestDigest === manifest) : [];
    const pushTargets = mode === 'attest' && runner.bool('push-to-registry', inp['push-to-registry'])
      ? attestArgs(inp, ctx).filter((a, i, all) => all[i - 1] === '--subject' && a.startsWith('oci://'))
      : [];
    // What the registry holds (its manifest names the image with its size, so its digest differs
    // from the store's): `hallmark: pushed to TARGET as DIGEST`.
    const pushedAs = new Map([...res.stderr.matchAll(/^hallmark: pushed to (\S+) as (sha256:[0-9a-f]{64})$/gm)].map((m) => [m[1], m[2]]));
    const pushed = pushTargets.filter((t) => pushedAs.has(t));
    runner.setOutput('bundle-path', bundle, env);
    runner.setOutput('attestation-digest', (pushed.length ? pushedAs.get(pushed[0]) : manifest) || '', env);
    runner.setOutput('pending', waiting.length > 0 ? 'true' : 'false', env);
    if (runner.bool('summary', inp.summary)) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      runner.summary(summary.attested({
        mode, step: inp.step, description: evidence.describeBundle(bundle), bundlePath: bundle,
        attestationDigest: manifest, pushed: pushed.map((t) => `${t} as ${pushedAs.get(t)}`), pending: waiting, seconds,
      }), env);
    }
    if (waiting.length > 0) {
      const msg = `the push to ${waiting.map((p) => p.target).join(', ')} failed: the attestation waits in ${store} (run hallmark push --pending)`;
      if (inp['on-push-failure'] === 'warn') {
        runner.warning(msg);
        return;
      }
      throw new Error(msg);
    }
    if (res.code !== 0) throw new Error(`hallmark ${mode} exited ${res.code}`);
  } catch (e) {
    if (gate) runner.setOutput('allowed', 'false', env);
    runner.error(e.message);
    process.exitCode = 1;
  } finally {
    if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
  }
}

module.exports = { run, readInputs, INPUTS, DEFAULTS };

if (require.main === module) run();
