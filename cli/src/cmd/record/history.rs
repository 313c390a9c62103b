//! A target's deployment history, read from the local store: what `record deployment` writes
//! into `replaces` when neither `--replaces` nor `--first` is given. Only records whose
//! signature verifies count (against the signing key used now, plus the trust flags): a record
//! anyone could have dropped into the store must not decide what the new, signed one claims.

use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use hallmark_model::budget::Budget;
use hallmark_model::bundle::Bundle;
use hallmark_model::deployment::{DEPLOYMENT_V1, Deployment};
use hallmark_model::digest::Digest;
use hallmark_model::statement::Statement;
use hallmark_model::target::Target;
use hallmark_model::time::Timestamp;
use hallmark_remote::layout::{LayoutStore, MAX_STORED_ATTESTATIONS};
use hallmark_verifier::engine::Trust;
use hallmark_verifier::session::Session;
use hallmark_verifier::verdict::Candidate;

/// The newest verified deployment on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// The artifact deployed (the record's subject).
    pub artifact: Digest,
    /// When, as the record says.
    pub deployed_at: Timestamp,
    /// The store manifest holding the record.
    pub origin: String,
}

/// What reading the history found.
#[derive(Debug, Default)]
pub struct History {
    /// The newest verified deployment on the target, if any.
    pub current: Option<Current>,
    /// Records that claim this target but did not verify with the trust given.
    pub unverified: usize,
}

/// The subject digest a bundle's statement claims first (unverified: only to say which digest
/// the verification must match).
fn claimed_subject(bytes: &[u8]) -> Option<(Digest, Option<Deployment>)> {
    let bundle = Bundle::from_slice(bytes).ok()?;
    let envelope = bundle.dsse_envelope?;
    let statement: Statement = serde_json::from_slice(&envelope.payload).ok()?;
    let deployment = statement
        .predicate
        .as_ref()
        .and_then(|p| Deployment::from_value(p).ok());
    let subject = statement.subject.first()?;
    let hex = subject.digest.get("sha256")?;
    Some((
        Digest::from_hex(hallmark_model::digest::DigestAlgorithm::Sha256, hex).ok()?,
        deployment,
    ))
}

/// The deployments on exactly `target` in the store at `dir`, verified with `trust` at `at`.
pub fn read(dir: &Path, target: &Target, trust: &Trust, at: SystemTime) -> Result<History> {
    let mut history = History::default();
    let Some(store) = LayoutStore::open_existing(dir)
        .with_context(|| format!("opening the store {}", dir.display()))?
    else {
        return Ok(history);
    };
    let manifests = store
        .manifests_of_type(DEPLOYMENT_V1)
        .with_context(|| format!("reading the store {}", dir.display()))?;
    if trust.is_empty() {
        // Nothing can verify: every record of this target is unverified.
        history.unverified = manifests
            .iter()
            .filter_map(|m| store.attestation(m).ok())
            .filter_map(|a| claimed_subject(&a.bundle))
            .filter(|(_, d)| d.as_ref().is_some_and(|d| &d.target == target))
            .count();
        return Ok(history);
    }
    let requirements = trust.requirements(at)?;
    let budget = Budget::default();
    let session = Session::new(&requirements, &budget);
    // Oldest first: on a tie of deployedAt, the record stored later is the newer one.
    for manifest in manifests.iter().take(MAX_STORED_ATTESTATIONS) {
        let Ok(stored) = store.attestation(manifest) else {
            continue;
        };
        let Some((subject, Some(claimed))) = claimed_subject(&stored.bundle) else {
            continue;
        };
        if &claimed.target != target {
            continue;
        }
        let candidate = Candidate::new(format!("store {manifest}"), stored.bundle);
        let verified = match session.check(&candidate, &subject) {
            Ok(v) if v.predicate_type() == DEPLOYMENT_V1 => v,
            _ => {
                history.unverified += 1;
                continue;
            }
        };
        // The verified predicate, not the claimed one read to route it.
        let Some(deployment) = verified
            .statement()
            .predicate
            .as_ref()
            .and_then(|p| Deployment::from_value(p).ok())
            .filter(|d| &d.target == target)
        else {
            history.unverified += 1;
            continue;
        };
        let newer = history
            .current
            .as_ref()
            .is_none_or(|c| deployment.deployed_at >= c.deployed_at);
        if newer {
            history.current = Some(Current {
                artifact: subject,
                deployed_at: deployment.deployed_at,
                origin: manifest.clone(),
            });
        }
    }
    Ok(history)
}
