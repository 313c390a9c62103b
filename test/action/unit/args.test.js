'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { runArgs, attestArgs, verifyArgs } = require('../../../src/args');

const base = { 'push-to-registry': 'false', exclude: '', materials: '', products: '' };
const ctx = { keyFile: null, store: '/s', bundle: '/b.json', env: {} };

test('run: one step, keyless by default, the command under bash -eo pipefail', () => {
  const args = runArgs({ ...base, step: 'build', command: 'make\nmake check', materials: 'src\n\nMakefile', products: 'out' }, ctx);
  assert.deepEqual(args, ['run', '--step', 'build', '-m', 'src', '-m', 'Makefile', '-p', 'out', '--keyless',
    '--store', '/s', '--output', '/b.json', '--', 'bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c', 'make\nmake check']);
});

test('run: a key file replaces keyless, and no Sigstore URL is passed with it', () => {
  const args = runArgs({ ...base, step: 's', command: 'x', products: 'o', 'fulcio-url': 'http://f' }, { ...ctx, keyFile: '/k' });
  assert.ok(args.includes('--key') && args[args.indexOf('--key') + 1] === '/k');
  assert.ok(!args.includes('--keyless') && !args.includes('--fulcio-url'));
});

test('run: HALLMARK_KEY in the environment signs with that key, never --keyless beside it', () => {
  const args = runArgs({ ...base, step: 's', command: 'x', products: 'o' }, { ...ctx, env: { HALLMARK_KEY: '/k' } });
  assert.ok(!args.includes('--keyless') && !args.includes('--key'));
});

test('run: keyless service overrides are passed through', () => {
  const args = runArgs({ ...base, step: 's', command: 'x', products: 'o', 'fulcio-url': 'http://f', 'rekor-url': 'http://r', 'trusted-root': 't.json' }, ctx);
  for (const [f, v] of [['--fulcio-url', 'http://f'], ['--rekor-url', 'http://r'], ['--sigstore-trusted-root', 't.json']]) {
    assert.equal(args[args.indexOf(f) + 1], v);
  }
});

test('run: step, command and products are required', () => {
  assert.throws(() => runArgs({ ...base, command: 'x', products: 'o' }, ctx), /input step/);
  assert.throws(() => runArgs({ ...base, step: 's', products: 'o' }, ctx), /input command/);
  assert.throws(() => runArgs({ ...base, step: 's', command: 'x' }, ctx), /needs products .* or materials/);
  // A step that checks without producing (tests, scans): its materials become the subjects.
  assert.deepEqual(runArgs({ ...base, step: 'test', command: 'make check', materials: 'out' }, ctx).slice(0, 5), ['run', '--step', 'test', '-m', 'out']);
});

test('attest: job provenance by default; an image is pushed as oci://NAME@DIGEST', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const args = attestArgs({ ...base, 'subject-name': 'ghcr.io/acme/app', 'subject-digest': d, 'push-to-registry': 'true', 'allow-insecure-registry': '127.0.0.1:5000' }, ctx);
  assert.deepEqual(args.slice(0, 4), ['attest', '--subject', `oci://ghcr.io/acme/app@${d}`, '--provenance']);
  assert.equal(args[args.indexOf('--allow-insecure-registry') + 1], '127.0.0.1:5000');
  const local = attestArgs({ ...base, 'subject-name': 'app.tar', 'subject-digest': d }, ctx);
  assert.equal(local[2], `app.tar@${d}`);
});

test('attest: a predicate with its type; files as subjects', () => {
  const args = attestArgs({ ...base, 'subject-path': 'a.tar\nb.tar', 'predicate-type': 'https://x/v1', 'predicate-path': 'p.json' }, ctx);
  assert.deepEqual(args.slice(0, 9), ['attest', '--subject', 'a.tar', '--subject', 'b.tar', '--predicate', 'p.json', '--type', 'https://x/v1']);
});

test('attest: malformed or half-given subjects and predicates are refused', () => {
  assert.throws(() => attestArgs({ ...base }, ctx), /needs subject-path/);
  assert.throws(() => attestArgs({ ...base, 'subject-name': 'x' }, ctx), /go together/);
  assert.throws(() => attestArgs({ ...base, 'subject-name': 'x', 'subject-digest': 'sha256:12' }, ctx), /sha256:<64 hex>/);
  assert.throws(() => attestArgs({ ...base, 'subject-path': 'a', 'predicate-type': 'u' }, ctx), /go together/);
  assert.throws(() => attestArgs({ ...base, 'subject-path': 'a', 'push-to-registry': 'true' }, ctx), /push-to-registry needs/);
  assert.throws(() => attestArgs({ ...base, 'subject-path': 'a', 'push-to-registry': 'yes' }, ctx), /true or false/);
});

test('verify: json, the issuer only beside an identity, steps and keys repeated', () => {
  const args = verifyArgs({ artifact: 'app.tar', policy: 'release.yaml', 'certificate-oidc-issuer': 'https://i', 'public-key': 'a.pub\nb.pub', 'required-steps': 'build\ntest', bundle: '' }, { store: '/s' });
  assert.deepEqual(args, ['verify', 'app.tar', '--format', 'json', '--store', '/s', '--policy', 'release.yaml',
    '--key', 'a.pub', '--key', 'b.pub', '--step', 'build', '--step', 'test']);
  const keyless = verifyArgs({ artifact: 'a', 'certificate-identity': 'https://w', 'certificate-oidc-issuer': 'https://i', bundle: '' }, { store: '/s' });
  assert.deepEqual(keyless.slice(6), ['--certificate-identity', 'https://w', '--certificate-oidc-issuer', 'https://i']);
  assert.throws(() => verifyArgs({}, { store: '/s' }), /input artifact/);
});
