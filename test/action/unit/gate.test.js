'use strict';
// verify mode end to end against stand-ins for hallmark on PATH: the `allowed` output is 'true'
// only for a verdict that allows; a denial, a crash or an install failure all leave 'false'.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ENTRY = path.join(__dirname, '..', '..', '..', 'src', 'index.js');

/** NAME<<DELIMITER blocks of $GITHUB_OUTPUT, as the runner reads them. */
function parseOutputs(text) {
  return Object.fromEntries([...text.matchAll(/^([a-z-]+)<<(ghadelimiter_[0-9a-f-]+)\n([^]*?)\n\2$/gm)].map((m) => [m[1], m[3]]));
}

/** Runs the Action in verify mode with `script` as the hallmark on PATH. */
function gate(script, extra = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hallmark-gate-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'hallmark'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  const output = path.join(dir, 'output');
  const summary = path.join(dir, 'summary.md');
  for (const f of [output, summary]) fs.writeFileSync(f, '');
  const env = {
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
    GITHUB_WORKSPACE: dir, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary,
    INPUT_MODE: 'verify', INPUT_ARTIFACT: 'sha256:' + 'ab'.repeat(32), INPUT_INSTALL: 'false', INPUT_STORE: 'store',
    ...extra,
  };
  // A process of its own: the Action writes workflow commands to its stdout.
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(ENTRY)}).run()`], { env, encoding: 'utf8' });
  try {
    return {
      status: r.status, failed: r.status === 1, outputs: parseOutputs(fs.readFileSync(output, 'utf8')),
      summary: fs.readFileSync(summary, 'utf8'), log: r.stdout + r.stderr,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a verdict that allows sets allowed=true', () => {
  const r = gate(`echo '{"allowed": true, "violations": []}'`);
  assert.equal(r.status, 0, r.log);
  assert.equal(r.outputs.allowed, 'true');
});

test('a document saying allowed from a hallmark that then failed is no allow', () => {
  const r = gate(`echo '{"allowed": true, "violations": []}'; exit 1`);
  assert.equal(r.failed, true);
  assert.equal(r.outputs.allowed, 'false');
  assert.match(r.summary, /Hallmark: DENIED/);
});

test('a denial sets allowed=false and fails the step with the violations', () => {
  const r = gate(`echo '{"allowed": false, "violations": [{"code": "chain.unattested-input", "message": "m"}]}'; exit 1`);
  assert.equal(r.failed, true);
  assert.equal(r.outputs.allowed, 'false');
  assert.match(r.log, /::error::DENIED .*chain\.unattested-input: m/);
});

test('hallmark that crashes without a JSON document leaves allowed=false and says what it printed', () => {
  const r = gate(`echo 'thread main panicked at src/x.rs:1:1' >&2; exit 101`);
  assert.equal(r.failed, true);
  assert.equal(r.outputs.allowed, 'false');
  assert.match(r.log, /::error::hallmark verify exited 101 without a JSON document: thread main panicked/);
});

test('exit 0 with allowed missing from the document is not an allow', () => {
  const r = gate(`echo '{"violations": []}'`);
  assert.equal(r.failed, true);
  assert.equal(r.outputs.allowed, 'false');
});

test('no hallmark to run leaves allowed=false', () => {
  const r = gate('exit 0', { PATH: '/nonexistent' });
  assert.equal(r.failed, true);
  assert.equal(r.outputs.allowed, 'false');
  assert.match(r.log, /no hallmark is on PATH/);
});
