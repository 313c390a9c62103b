//! Transparency-log evidence: the entry body, the inclusion proof and its signed checkpoint, and
//! the signed entry timestamp, all checked against the trust root's logs.

pub mod body;
pub mod checkpoint;
pub mod merkle;
pub mod set;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_model::bundle::TransparencyLogEntry;

use super::error::{CheckpointError, SetError, TlogError};
use super::trust_root::{TrustRoot, valid_at};
use body::{SignedContent, SignerMaterial, check_body};

/// What a verified entry proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The log's integration time, when a verified SET vouches for it.
    pub integrated_time: Option<SystemTime>,
    /// The log (base URL).
    pub log: String,
    /// When the log's key was valid, to check against timestamps when there is no SET.
    pub validity: Option<super::trust_root::Validity>,
}

/// Whether an entry may rest on its SET alone (bundle v0.1) or needs an inclusion proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofRequirement {
    /// An inclusion proof with a checkpoint is required (bundles v0.2 and later).
    InclusionProof,
    /// A SET is enough (bundle v0.1).
    SetOrProof,
}

/// Verifies one entry. `now` bounds the integrated time from above.
pub fn verify_entry(
    entry: &TransparencyLogEntry,
    trust: &TrustRoot,
    content: SignedContent<'_>,
    signer: SignerMaterial<'_>,
    requirement: ProofRequirement,
    now: SystemTime,
) -> Result<VerifiedEntry, TlogError> {
    if entry.log_index < 0 {
        return Err(TlogError::Negative(entry.log_index));
    }
    let log = trust
        .tlog(&entry.log_id.key_id)
        .ok_or_else(|| TlogError::UnknownLog(STANDARD.encode(&entry.log_id.key_id)))?;
    check_body(entry, content, signer)?;

    let mut integrated_time = None;
    if let Some(promise) = &entry.inclusion_promise {
        if entry.integrated_time <= 0 {
            return Err(SetError::NoIntegratedTime.into());
        }
        set::verify_set(
            &promise.signed_entry_timestamp,
            &log.key,
            &STANDARD.encode(&entry.canonicalized_body),
            entry.integrated_time,
            &hallmark_model::hex::encode(&entry.log_id.key_id),
            entry.log_index,
        )?;
        let time = UNIX_EPOCH + Duration::from_secs(entry.integrated_time.unsigned_abs());
        if time > now {
            return Err(TlogError::IntegratedTimeInFuture(time));
        }
        if !valid_at(log.validity.as_ref(), time) {
            return Err(TlogError::LogValidity(log.base_url.clone()));
        }
        integrated_time = Some(time);
    }
    match &entry.inclusion_proof {
        Some(proof) => {
            if proof.log_index < 0 || proof.tree_size < 0 {
                return Err(TlogError::Negative(proof.log_index.min(proof.tree_size)));
            }
            // The proof's hashes first (cheap, and a wrong proof is named as such), then the
            // log's signature over the root they lead to. Both must hold.
            merkle::verify_inclusion(
                proof.log_index.unsigned_abs(),
                proof.tree_size.unsigned_abs(),
                merkle::leaf_hash(&entry.canonicalized_body),
                &proof.hashes,
                &proof.root_hash,
            )?;
            let checkpoint = proof.checkpoint.as_ref().ok_or(CheckpointError::Missing)?;
            let note = checkpoint::verify_checkpoint(&checkpoint.envelope, &log.key, &log.log_id)?;
            if note.size != proof.tree_size.unsigned_abs() || note.root_hash != proof.root_hash {
                return Err(CheckpointError::DifferentTree.into());
            }
        }
        None if requirement == ProofRequirement::InclusionProof => {
            return Err(TlogError::NoInclusionProof);
        }
        None if entry.inclusion_promise.is_none() => return Err(TlogError::NoInclusionProof),
        None => {}
    }
    Ok(VerifiedEntry {
        validity: log.validity,
        integrated_time,
        log: log.base_url.clone(),
    })
}
