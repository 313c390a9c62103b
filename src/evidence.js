'use strict';
// What an attestation left behind: its bundle, its manifest in the store, the outbox.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const MAX_JSON = 16 * 1024 * 1024;

function readJson(file) {
  const st = fs.statSync(file);
  if (st.size > MAX_JSON) throw new Error(`${file} is larger than ${MAX_JSON} bytes`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function sha256File(file) {
  return `sha256:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
}

/** The statement inside a bundle (unverified: for the summary only) and how it was signed. */
function describeBundle(file) {
  const b = readJson(file);
  const env = b.dsseEnvelope || {};
  const statement = JSON.parse(Buffer.from(env.payload || '', 'base64').toString('utf8'));
  const vm = b.verificationMaterial || {};
  const signer = vm.publicKey ? `key ${vm.publicKey.hint || ''}`.trim() : vm.certificate || vm.x509CertificateChain ? 'keyless (Fulcio certificate, Rekor entry)' : 'unknown';
  return {
    predicateType: statement.predicateType || '',
    subjects: (statement.subject || []).map((s) => ({ name: s.name || '', digest: s.digest || {} })),
    signer,
  };
}

/** The digest of the store manifest whose layer is this bundle (the attestation as stored and pushed). */
function manifestDigestOf(store, bundleDigest) {
  const index = readJson(path.join(store, 'index.json'));
  const seen = new Set();
  for (const m of index.manifests || []) {
    if (!m.digest || seen.has(m.digest)) continue;
    seen.add(m.digest);
    const [alg, hex] = m.digest.split(':');
    if (alg !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex || '')) continue;
    let manifest;
    try {
      manifest = readJson(path.join(store, 'blobs', 'sha256', hex));
    } catch {
      continue;
    }
    if ((manifest.layers || []).some((l) => l.digest === bundleDigest)) return m.digest;
  }
  return null;
}

/** The outbox entries (pushes that failed and wait for `hallmark push --pending`). */
function pending(store) {
  const file = path.join(store, 'pending.json');
  if (!fs.existsSync(file)) return [];
  const p = readJson(file);
  return Array.isArray(p) ? p : [];
}

module.exports = { describeBundle, manifestDigestOf, pending, sha256File, readJson };
