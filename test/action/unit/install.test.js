'use strict';
// install(): checksum verified against SHA256SUMS and the sha256 input, the tool cache reused;
// served by a real HTTP server on loopback.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { install, target, checksumFor, archiveName } = require('../../../src/install');

function release(dir, version, tgt) {
  const top = `hallmark-${version}-${tgt}`;
  fs.mkdirSync(path.join(dir, 'stage', top), { recursive: true });
  fs.writeFileSync(path.join(dir, 'stage', top, 'hallmark'), '#!/bin/sh\necho "hallmark 0.1.0"\n', { mode: 0o755 });
  execFileSync('tar', ['-czf', path.join(dir, `${top}.tar.gz`), '-C', path.join(dir, 'stage'), top]);
  const sum = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, `${top}.tar.gz`))).digest('hex');
  fs.writeFileSync(path.join(dir, 'SHA256SUMS'), `${'0'.repeat(64)}  other.tar.gz\n${sum}  ${top}.tar.gz\n`);
  return sum;
}

async function serve(dir) {
  const hits = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url);
    if (req.url === '/moved/SHA256SUMS') { res.writeHead(302, { location: '/v/SHA256SUMS' }); res.end(); return; }
    const file = path.join(dir, path.basename(req.url));
    if (req.url !== `/v/${path.basename(req.url)}` || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.end(fs.readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, hits, url: `http://127.0.0.1:${server.address().port}/v` };
}

test('targets: static musl builds for the runner architecture', () => {
  assert.equal(target({}, 'linux', 'x64'), 'x86_64-unknown-linux-musl');
  assert.equal(target({}, 'linux', 'arm64'), 'aarch64-unknown-linux-musl');
  assert.equal(target({ HALLMARK_TARGET: 'x86_64-unknown-linux-gnu' }, 'linux', 'x64'), 'x86_64-unknown-linux-gnu');
  assert.throws(() => target({}, 'win32', 'x64'), /built for Linux/);
  assert.equal(archiveName('1.2.3', 't'), 'hallmark-1.2.3-t.tar.gz');
  assert.equal(checksumFor(`${'a'.repeat(64)} *x.tar.gz\n`, 'x.tar.gz'), 'a'.repeat(64));
  assert.equal(checksumFor(`${'a'.repeat(64)}  x.tar.gz.sig\n`, 'x.tar.gz'), null);
});

test('installs a checked release into the tool cache, then reuses it', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inst-'));
  const tgt = 'x86_64-unknown-linux-gnu';
  const sum = release(tmp, '0.1.0', tgt);
  const { server, hits, url } = await serve(tmp);
  const env = { RUNNER_TOOL_CACHE: path.join(tmp, 'cache'), RUNNER_TEMP: tmp, HALLMARK_TARGET: tgt };
  try {
    const first = await install({ version: '0.1.0', baseUrl: url, sha256: `sha256:${sum}`, env });
    assert.equal(first.cached, false);
    assert.equal(first.bin, path.join(tmp, 'cache', 'hallmark', '0.1.0', tgt, 'hallmark'));
    assert.equal(execFileSync(first.bin).toString(), 'hallmark 0.1.0\n');
    assert.ok(fs.existsSync(path.join(tmp, 'cache', 'hallmark', '0.1.0', `${tgt}.complete`)));
    const n = hits.length;
    const second = await install({ version: '0.1.0', baseUrl: url, env });
    assert.equal(second.cached, true);
    assert.equal(hits.length, n, 'the tool cache answers without a download');
  } finally {
    server.close();
  }
});

test('a tampered archive, a wrong pinned sum or a missing line is refused and nothing is cached', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inst-'));
  const tgt = 'x86_64-unknown-linux-gnu';
  release(tmp, '0.1.0', tgt);
  const { server, url } = await serve(tmp);
  const env = { RUNNER_TOOL_CACHE: path.join(tmp, 'cache'), RUNNER_TEMP: tmp, HALLMARK_TARGET: tgt };
  try {
    await assert.rejects(install({ version: '0.1.0', baseUrl: url, sha256: 'b'.repeat(64), env }), /the sha256 input says/);
    await assert.rejects(install({ version: '0.2.0', baseUrl: url, env }), /no line for hallmark-0.2.0/);
    fs.appendFileSync(path.join(tmp, `hallmark-0.1.0-${tgt}.tar.gz`), 'x');
    await assert.rejects(install({ version: '0.1.0', baseUrl: url, env }), /checksum mismatch/);
    assert.ok(!fs.existsSync(path.join(tmp, 'cache', 'hallmark', '0.1.0', `${tgt}.complete`)));
    await assert.rejects(install({ version: '0.1.0', baseUrl: `${url}/nowhere`, env }), /HTTP 404/);
    await assert.rejects(install({ version: '../x', baseUrl: url, env }), /invalid version/);
  } finally {
    server.close();
  }
});
