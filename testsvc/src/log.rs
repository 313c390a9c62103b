//! A Rekor-compatible transparency log: an append-only RFC 6962 Merkle tree, signed checkpoints
//! (C2SP signed-note, ECDSA P-256, Rekor's key hint) and signed entry timestamps over the JCS of
//! `{body, integratedTime, logID, logIndex}`.

use aws_lc_rs::digest::{Context, SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// Errors of the test log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Key generation or signing failed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// A proposed entry was malformed.
    #[error("bad entry: {0}")]
    Entry(String),
}

/// One appended entry, with everything a Sigstore bundle needs.
#[derive(Debug, Clone)]
pub struct LoggedEntry {
    /// Index in the log.
    pub log_index: u64,
    /// The canonicalized body.
    pub body: Vec<u8>,
    /// Seconds since the epoch.
    pub integrated_time: i64,
    /// The SET.
    pub signed_entry_timestamp: Vec<u8>,
    /// Inclusion proof hashes, leaf to root.
    pub proof: Vec<[u8; 32]>,
    /// Tree size the proof is for.
    pub tree_size: u64,
    /// Root hash of that tree.
    pub root_hash: [u8; 32],
    /// The signed checkpoint text.
    pub checkpoint: String,
}

/// An inclusion proof of an entry against the log's current tree, with that tree's checkpoint.
#[derive(Debug, Clone)]
pub struct LaterProof {
    /// Proof hashes, leaf to root.
    pub hashes: Vec<[u8; 32]>,
    /// Tree size the proof is for.
    pub tree_size: u64,
    /// Root hash of that tree.
    pub root_hash: [u8; 32],
    /// The signed checkpoint text.
    pub checkpoint: String,
}

/// The log.
pub struct TransparencyLog {
    key: EcdsaKeyPair,
    spki: Vec<u8>,
    log_id: [u8; 32],
    origin: String,
    leaves: Vec<[u8; 32]>,
}

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// RFC 6962 leaf hash of an entry body.
pub fn leaf_hash(body: &[u8]) -> [u8; 32] {
    sha(&[&[0], body])
}

/// RFC 6962 root of `leaves` (leaf hashes).
fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => sha(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            sha(&[&[1], &root(&leaves[..k]), &root(&leaves[k..])])
        }
    }
}

/// The largest power of two smaller than `n`.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 6962 audit path for leaf `m` in `leaves`.
fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(root(&leaves[..k]));
        p
    }
}

impl TransparencyLog {
    /// A new, empty log with a fresh P-256 key; `origin` names it in checkpoints.
    pub fn new(origin: &str) -> Result<Self, LogError> {
        let crypto = |e: aws_lc_rs::error::Unspecified| LogError::Crypto(e.to_string());
        let pkcs8 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map_err(crypto)?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
            .map_err(|e| LogError::Crypto(e.to_string()))?;
        let spki = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(
            key.public_key(),
        )
        .map_err(crypto)?
        .as_ref()
        .to_vec();
        let log_id = sha(&[&spki]);
        Ok(TransparencyLog {
            key,
            spki,
            log_id,
            origin: origin.to_owned(),
            leaves: Vec::new(),
        })
    }

    /// DER SubjectPublicKeyInfo of the log key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    /// The log id (SHA-256 of the key).
    pub fn log_id(&self) -> [u8; 32] {
        self.log_id
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, LogError> {
        self.key
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| LogError::Crypto(e.to_string()))
    }

    /// The signed checkpoint for the current tree.
    pub fn checkpoint(&self) -> Result<String, LogError> {
        let body = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.leaves.len(),
            STANDARD.encode(root(&self.leaves))
        );
        let mut signature = self.log_id[..4].to_vec();
        signature.extend(self.sign(body.as_bytes())?);
        let name = self.origin.split(' ').next().unwrap_or(&self.origin);
        Ok(format!(
            "{body}\n\u{2014} {name} {}\n",
            STANDARD.encode(signature)
        ))
    }

    /// Appends a Rekor v1 `dsse` 0.0.1 entry for a DSSE envelope signed by the holder of the PEM
    /// certificate or key `verifier_pem`, and returns it with its proof, checkpoint and SET.
    pub fn append_dsse(
        &mut self,
        envelope_json: &[u8],
        payload: &[u8],
        signatures: &[Vec<u8>],
        verifier_pem: &str,
        now: i64,
    ) -> Result<LoggedEntry, LogError> {
        if signatures.is_empty() {
            return Err(LogError::Entry("a DSSE entry needs a signature".into()));
        }
        let payload_hash = hallmark_model::hex::encode(digest(&SHA256, payload).as_ref());
        let envelope_hash = hallmark_model::hex::encode(digest(&SHA256, envelope_json).as_ref());
        let sigs: Vec<Value> = signatures
            .iter()
            .map(|s| json!({"signature": STANDARD.encode(s), "verifier": STANDARD.encode(verifier_pem)}))
            .collect();
        // Rekor's canonical JSON: keys sorted, no whitespace (serde_json's Map is sorted).
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": envelope_hash},
                "payloadHash": {"algorithm": "sha256", "value": payload_hash},
                "signatures": sigs,
            }
        });
        let body = serde_json::to_vec(&body).map_err(|e| LogError::Entry(e.to_string()))?;
        self.append(body, now)
    }

    /// The inclusion proof of the entry at `log_index` against the current tree, as Rekor answers
    /// for an entry read back after more were appended.
    pub fn prove(&self, log_index: u64) -> Result<LaterProof, LogError> {
        let index = usize::try_from(log_index)
            .ok()
            .filter(|&i| i < self.leaves.len())
            .ok_or_else(|| LogError::Entry(format!("no entry {log_index} in the log")))?;
        Ok(LaterProof {
            hashes: path(index, &self.leaves),
            tree_size: self.leaves.len() as u64,
            root_hash: root(&self.leaves),
            checkpoint: self.checkpoint()?,
        })
    }

    /// Appends a canonical body.
    pub fn append(&mut self, body: Vec<u8>, now: i64) -> Result<LoggedEntry, LogError> {
        let log_index = self.leaves.len();
        self.leaves.push(sha(&[&[0], &body]));
        let set_payload = format!(
            r#"{{"body":"{}","integratedTime":{now},"logID":"{}","logIndex":{log_index}}}"#,
            STANDARD.encode(&body),
            hallmark_model::hex::encode(&self.log_id)
        );
        Ok(LoggedEntry {
            log_index: log_index as u64,
            integrated_time: now,
            signed_entry_timestamp: self.sign(set_payload.as_bytes())?,
            proof: path(log_index, &self.leaves),
            tree_size: self.leaves.len() as u64,
            root_hash: root(&self.leaves),
            checkpoint: self.checkpoint()?,
            body,
        })
    }
}
