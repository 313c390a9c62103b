'use strict';
// action.yml and the code agree (inputs, defaults, outputs), and dist/ is the build of src/.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const YAML = require('yaml');
const { INPUTS, DEFAULTS } = require('../../../src/index');

const root = path.join(__dirname, '..', '..', '..');
const action = YAML.parse(fs.readFileSync(path.join(root, 'action.yml'), 'utf8'));

test('every input in action.yml is read, with the same defaults', () => {
  assert.deepEqual([...INPUTS].sort(), Object.keys(action.inputs).sort());
  for (const [name, value] of Object.entries(DEFAULTS)) assert.equal(action.inputs[name].default, value, name);
  assert.deepEqual(Object.keys(action.outputs).sort(), ['allowed', 'attestation-digest', 'bundle-path', 'hallmark-path', 'pending']);
  assert.equal(action.runs.using, 'node24');
  assert.equal(action.runs.main, 'dist/index.js');
});

test('the pinned version is the workspace version', () => {
  const cargo = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
  assert.equal(action.inputs.version.default, /^version = "(.*)"$/m.exec(cargo)[1]);
});

test('dist/index.js is the build of src/ (run npm run build)', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dist-')), 'index.js');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const args = pkg.scripts.build.split(' ').slice(1).map((a) => (a.startsWith('--outfile=') ? `--outfile=${out}` : a));
  execFileSync(path.join(root, 'node_modules', '.bin', 'esbuild'), args, { cwd: root, stdio: 'pipe' });
  assert.equal(fs.readFileSync(out, 'utf8'), fs.readFileSync(path.join(root, 'dist', 'index.js'), 'utf8'));
});
