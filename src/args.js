'use strict';
// Inputs → hallmark command lines. Pure functions: what the action runs is decided here and tested.
const { lines, bool } = require('./runner');

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The signing flags: a key file when one was given (or HALLMARK_KEY names one), else keyless. */
function signing(inp, keyFile, env) {
  const args = [];
  if (keyFile) args.push('--key', keyFile);
  else if (!env.HALLMARK_KEY) args.push('--keyless');
  if (!keyFile && !env.HALLMARK_KEY) {
    if (inp['signing-config']) args.push('--signing-config', inp['signing-config']);
    if (inp['fulcio-url']) args.push('--fulcio-url', inp['fulcio-url']);
    if (inp['rekor-url']) args.push('--rekor-url', inp['rekor-url']);
    if (inp['trusted-root']) args.push('--sigstore-trusted-root', inp['trusted-root']);
  }
  return args;
}

function repeat(flag, values) {
  return values.flatMap((v) => [flag, v]);
}

function insecure(inp) {
  return inp['allow-insecure-registry'] ? ['--allow-insecure-registry', inp['allow-insecure-registry']] : [];
}

/** `hallmark run`: one step, the command run by bash as GitHub's `run:` does. */
function runArgs(inp, { keyFile, store, bundle, env }) {
  if (!inp.step) throw new Error('mode run needs the input step');
  if (!inp.command) throw new Error('mode run needs the input command');
  const products = lines(inp.products);
  if (products.length === 0 && lines(inp.materials).length === 0) {
    // A step without products (tests, scans) attests the materials it checked.
    throw new Error('mode run needs products (what the step writes) or materials (what it checked)');
  }
  return [
    'run', '--step', inp.step,
    ...repeat('-m', lines(inp.materials)),
    ...repeat('-p', products),
    ...repeat('--exclude', lines(inp.exclude)),
    ...signing(inp, keyFile, env),
    '--store', store, '--output', bundle,
    '--', 'bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c', inp.command,
  ];
}

/** The subjects of `hallmark attest`: files, or a name with its digest (an image when pushed). */
function subjects(inp) {
  const out = lines(inp['subject-path']);
  const name = inp['subject-name'];
  const digest = inp['subject-digest'];
  if (name || digest) {
    if (!name || !digest) throw new Error('subject-name and subject-digest go together');
    if (!DIGEST.test(digest)) throw new Error(`subject-digest must be sha256:<64 hex>, got ${JSON.stringify(digest)}`);
    const bare = name.replace(/^oci:\/\//, '');
    out.push(bool('push-to-registry', inp['push-to-registry']) ? `oci://${bare}@${digest}` : `${bare}@${digest}`);
  } else if (bool('push-to-registry', inp['push-to-registry'])) {
    throw new Error('push-to-registry needs the image as subject-name and subject-digest');
  }
  if (out.length === 0) throw new Error('mode attest needs subject-path, or subject-name with subject-digest');
  return out;
}

/** `hallmark attest`: job provenance (as GitHub's attester writes it), or a given predicate. */
function attestArgs(inp, { keyFile, store, bundle, env }) {
  const type = inp['predicate-type'];
  const predicate = inp['predicate-path'];
  if (Boolean(type) !== Boolean(predicate)) throw new Error('predicate-type and predicate-path go together');
  return [
    'attest',
    ...repeat('--subject', subjects(inp)),
    ...(type ? ['--predicate', predicate, '--type', type] : ['--provenance']),
    ...repeat('--exclude', lines(inp.exclude)),
    ...signing(inp, keyFile, env),
    '--store', store, '--output', bundle,
    ...insecure(inp),
  ];
}

/** `hallmark verify --format json`: the gate. */
function verifyArgs(inp, { store }) {
  if (!inp.artifact) throw new Error('mode verify needs the input artifact');
  const args = ['verify', inp.artifact, '--format', 'json', '--store', store];
  if (inp.policy) args.push('--policy', inp.policy);
  args.push(...repeat('--key', lines(inp['public-key'])));
  if (inp['certificate-identity']) args.push('--certificate-identity', inp['certificate-identity']);
  if (inp['certificate-identity-regexp']) {
    args.push('--certificate-identity-regexp', inp['certificate-identity-regexp']);
  }
  if ((inp['certificate-identity'] || inp['certificate-identity-regexp']) && inp['certificate-oidc-issuer']) {
    args.push('--certificate-oidc-issuer', inp['certificate-oidc-issuer']);
  }
  if (inp['trusted-root']) args.push('--trusted-root', inp['trusted-root']);
  args.push(...repeat('--step', lines(inp['required-steps'])));
  args.push(...repeat('--bundle', lines(inp.bundle)));
  args.push(...insecure(inp));
  return args;
}

module.exports = { runArgs, attestArgs, verifyArgs, subjects, signing };
