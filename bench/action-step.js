'use strict';
// Overhead per recorded step through the GitHub Action, as a runner runs it (`node dist/index.js`
// with INPUT_* variables): install from the tool cache + record + keyless sign (local Fulcio/Rekor,
// OIDC token through the Actions runtime path) + store; and attest + push next to an image in a
// local registry. Next to the same command without the Action.
//
//   node bench/action-step.js            (HALLMARK_BIN: the hallmark to install, default the
//                                          release build; BENCH_RUNS, default 10)
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('../test/action/e2e/harness');

const runs = Number(process.env.BENCH_RUNS || 10);
const node = process.execPath;

async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { mean, median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

async function action(env, inputs, cwd) {
  const vars = { ...env };
  for (const [k, v] of Object.entries(inputs)) vars[`INPUT_${k.toUpperCase()}`] = v;
  const r = await h.exec(node, [path.join(h.ROOT, 'dist', 'index.js')], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...vars } });
  if (r.status !== 0) throw new Error(`action failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function main() {
  const hallmark = process.env.HALLMARK_BIN ? path.resolve(process.env.HALLMARK_BIN) : path.join(process.env.CARGO_TARGET_DIR || path.join(h.ROOT, 'target'), 'release', 'hallmark');
  const { testsvc } = h.binaries();
  const tmp = h.tmpdir('bench');
  const services = await h.startServices(path.join(tmp, 'services'), testsvc);
  const registry = await h.startRegistry(path.join(tmp, 'registry'));
  const release = await h.serveRelease(path.join(tmp, 'release'), hallmark);
  try {
    const src = path.join(tmp, 'source');
    fs.cpSync(path.join(h.ROOT, 'examples', 'github'), src, { recursive: true });
    const sha = h.sourceRepo(path.join(tmp, 'origin'), src);
    const workspace = path.join(tmp, 'work');
    h.checkout(path.join(tmp, 'origin'), workspace);
    const env = h.runnerEnv({ workspace, runnerDir: path.join(tmp, 'runner'), services, job: 'bench', sha });
    const dir = path.join(tmp, 'out');
    fs.mkdirSync(dir);
    env.GITHUB_OUTPUT = path.join(dir, 'output');
    env.GITHUB_STEP_SUMMARY = path.join(dir, 'summary');
    const sigstore = { 'download-url': release.url, 'fulcio-url': `${services.url}/fulcio`, 'rekor-url': `${services.url}/rekor`, 'trusted-root': services.trustedRoot };
    const command = 'mkdir -p out && cc -O2 -o out/hello src/hello.c';
    const step = { mode: 'run', step: 'build', materials: 'src', products: 'out', command, ...sigstore };

    const install = await time(() => action(env, step, workspace));
    const bare = [];
    const recorded = [];
    for (let i = 0; i < runs; i++) {
      bare.push(await time(() => h.exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', command], { cwd: workspace, env: { PATH: process.env.PATH } })));
      recorded.push(await time(() => action(env, step, workspace)));
    }
    const digest = execFileSync('sh', ['scripts/oci-image.sh', 'src/hello.c', 'image'], { cwd: workspace, encoding: 'utf8' }).trim();
    const image = `${registry.host}/acme/app/hello`;
    execFileSync(hallmark, ['copy', 'image', `oci://${image}:v1`, '--allow-insecure-registry', registry.host], { cwd: workspace, stdio: 'pipe' });
    const pushed = [];
    for (let i = 0; i < runs; i++) {
      pushed.push(await time(() => action(env, { mode: 'attest', 'subject-name': image, 'subject-digest': digest, 'push-to-registry': 'true', 'allow-insecure-registry': registry.host, ...sigstore }, workspace)));
    }
    const b = stats(bare);
    const r = stats(recorded);
    const p = stats(pushed);
    const f = (x) => x.toFixed(0);
    console.log(`first run (download, checksum, unpack into the tool cache, record, sign): ${f(install)} ms`);
    console.log('| what (ms, %d runs) | mean | median | min | max |', runs);
    console.log('|---|---|---|---|---|');
    console.log(`| the command alone (cc, bash) | ${f(b.mean)} | ${f(b.median)} | ${f(b.min)} | ${f(b.max)} |`);
    console.log(`| run mode: tool cache + record + keyless sign + store | ${f(r.mean)} | ${f(r.median)} | ${f(r.min)} | ${f(r.max)} |`);
    console.log(`| attest mode: tool cache + keyless sign + push next to the image | ${f(p.mean)} | ${f(p.median)} | ${f(p.min)} | ${f(p.max)} |`);
    console.log(`overhead per recorded step (run mode mean − command mean): ${f(r.mean - b.mean)} ms; with the push: ${f(r.mean - b.mean + p.mean)} ms`);
  } finally {
    await registry.stop();
    services.stop();
    release.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
