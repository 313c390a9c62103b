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
) -> Result<VerifiedEntry, String> {
    if entry.log_index < 0 {
        return Err(format!("log index {} is negative", entry.log_index));
    }
    let log = trust.tlog(&entry.log_id.key_id).ok_or_else(|| {
        format!(
            "log id {} is not a transparency log of the trust root",
            STANDARD.encode(&entry.log_id.key_id)
        )
    })?;
    check_body(entry, content, signer)?;

    let mut integrated_time = None;
    if let Some(promise) = &entry.inclusion_promise {
        if entry.integrated_time <= 0 {
            return Err("the entry has a SET but no integrated time".to_owned());
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
            return Err(format!(
                "the log's integrated time {} is in the future",
                humantime::format_rfc3339(time)
            ));
        }
        if !valid_at(log.validity.as_ref(), time) {
            return Err(format!(
                "log {} was not valid at the integrated time",
                log.base_url
            ));
        }
        integrated_time = Some(time);
    }
    match &entry.inclusion_proof {
        Some(proof) => {
            if proof.log_index < 0 || proof.tree_size < 0 {
                return Err("inclusion proof has a negative index or size".to_owned());
            }
            let checkpoint = proof
                .checkpoint
                .as_ref()
                .ok_or("the inclusion proof has no signed checkpoint")?;
            let note = checkpoint::verify_checkpoint(&checkpoint.envelope, &log.key, &log.log_id)?;
            if note.size != proof.tree_size.unsigned_abs() || note.root_hash != proof.root_hash {
                return Err(
                    "the checkpoint is for a different tree than the inclusion proof".to_owned(),
                );
            }
            merkle::verify_inclusion(
                proof.log_index.unsigned_abs(),
                proof.tree_size.unsigned_abs(),
                merkle::leaf_hash(&entry.canonicalized_body),
                &proof.hashes,
                &proof.root_hash,
            )?;
        }
        None if requirement == ProofRequirement::InclusionProof => {
            return Err(
                "the log entry has no inclusion proof (required for bundles v0.2 and later)"
                    .to_owned(),
            );
        }
        None if entry.inclusion_promise.is_none() => {
            return Err("the log entry has neither an inclusion proof nor a SET".to_owned());
        }
        None => {}
    }
    Ok(VerifiedEntry {
        validity: log.validity,
        integrated_time,
        log: log.base_url.clone(),
    })
}
