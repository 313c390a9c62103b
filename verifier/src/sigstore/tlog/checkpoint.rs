//! Signed checkpoints (the C2SP signed-note format): origin, tree size and root hash, signed by
//! the log.

use aws_lc_rs::digest::{Context, SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::keys::{Algorithm, PublicKey};
use crate::sigstore::error::CheckpointError;

/// The body of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root_hash: Vec<u8>,
}

/// Largest checkpoint text accepted.
const MAX_CHECKPOINT_BYTES: usize = 64 * 1024;

/// Parses a signed note and verifies that one of its signatures is the log key's.
/// `log_id` is the SHA-256 of the key's DER SPKI (its first four bytes are the ECDSA key hint).
pub fn verify_checkpoint(
    text: &str,
    key: &PublicKey,
    log_id: &[u8],
) -> Result<Checkpoint, CheckpointError> {
    if text.len() > MAX_CHECKPOINT_BYTES {
        return Err(CheckpointError::TooLarge);
    }
    let (body, signatures) = text
        .split_once("\n\n")
        .ok_or(CheckpointError::NoSignatureBlock)?;
    let body = format!("{body}\n");
    let mut lines = body.lines();
    let origin = lines
        .next()
        .filter(|l| !l.is_empty())
        .ok_or(CheckpointError::NoOrigin)?;
    let size = lines
        .next()
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or(CheckpointError::NoSize)?;
    let root_hash = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .filter(|h| h.len() == 32)
        .ok_or(CheckpointError::NoRootHash)?;
    let mut matched_hint = false;
    for line in signatures.lines().filter(|l| !l.is_empty()) {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or(CheckpointError::SignatureLine)?;
        let (name, encoded) = rest
            .rsplit_once(' ')
            .ok_or(CheckpointError::SignatureLine)?;
        let Ok(raw) = STANDARD.decode(encoded) else {
            continue;
        };
        if raw.len() < 5 {
            continue;
        }
        let (hint, signature) = raw.split_at(4);
        if !key_hints(key, log_id, name).iter().any(|h| h == hint) {
            continue;
        }
        matched_hint = true;
        if key.verify(body.as_bytes(), signature) {
            return Ok(Checkpoint {
                origin: origin.to_owned(),
                size,
                root_hash,
            });
        }
    }
    Err(if matched_hint {
        CheckpointError::Signature
    } else {
        CheckpointError::NoLogSignature
    })
}

/// Key hints the log's signature may carry: Rekor's (the log id prefix) and the signed-note
/// standard's for Ed25519 (`SHA-256(name || "\n" || 0x01 || key)[..4]`).
fn key_hints(key: &PublicKey, log_id: &[u8], name: &str) -> Vec<Vec<u8>> {
    let mut hints = vec![log_id.iter().take(4).copied().collect::<Vec<u8>>()];
    let spki_hash = digest(&SHA256, key.spki_der());
    hints.push(spki_hash.as_ref()[..4].to_vec());
    if key.algorithm() == Algorithm::Ed25519 {
        let mut ctx = Context::new(&SHA256);
        ctx.update(name.as_bytes());
        ctx.update(b"\n\x01");
        ctx.update(key.raw());
        hints.push(ctx.finish().as_ref()[..4].to_vec());
    }
    hints
}
