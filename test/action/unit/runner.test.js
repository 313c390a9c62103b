'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const runner = require('../../../src/runner');
const summary = require('../../../src/summary');

test('inputs are read as the runner names them, hyphens kept', () => {
  assert.equal(runner.input('push-to-registry', { 'INPUT_PUSH-TO-REGISTRY': ' true ' }), 'true');
  assert.equal(runner.input('step', {}), '');
  assert.deepEqual(runner.lines(' a \n\n# note\nb,c\r\n'), ['a', 'b,c']);
});

test('outputs use the heredoc form with a random delimiter', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'out-')), 'o');
  runner.setOutput('pending', 'true', { GITHUB_OUTPUT: file });
  runner.setOutput('bundle-path', '/a b', { GITHUB_OUTPUT: file });
  const text = fs.readFileSync(file, 'utf8');
  const m = [...text.matchAll(/^([a-z-]+)<<(ghadelimiter_[0-9a-f-]+)\n(.*)\n\2$/gm)].map((x) => [x[1], x[3]]);
  assert.deepEqual(m, [['pending', 'true'], ['bundle-path', '/a b']]);
});

test('workflow command data is escaped, so a value cannot start a new command', () => {
  assert.equal(runner.escapeData('a\n::add-mask::x%'), 'a%0A::add-mask::x%25');
});

test('the verdict summary names each violation and escapes table cells', () => {
  const md = summary.verdict({ allowed: false, artifact: { name: 'app.tar', digest: 'sha256:ab' },
    violations: [{ code: 'chain.unattested-input', message: 'step "package" consumed "x|y"' }], attestations: [], chain: null }, 'app.tar');
  assert.match(md, /DENIED `app.tar \(sha256:ab\)`/);
  assert.match(md, /\| `chain.unattested-input` \| step "package" consumed "x\\\|y" \|/);
  assert.match(summary.verdict({ error: { code: 'trust.none', message: 'no trust' } }, 'a'), /no decision.*\n\n`trust.none`/);
});
