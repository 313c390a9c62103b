//! Where a decision finds attestations: the [`AttestationSource`] trait.
//!
//! The verifier does no I/O of its own. A source (the local store, a registry, bundle files: see
//! `hallmark_remote::sources`) answers one question, "which bundles claim to be about this
//! digest?", within the decision's [`Budget`]; the engine asks it for the artifact and, while
//! walking the chain, for each material. Nothing a source returns is trusted: every candidate is
//! verified by the decision.

use hallmark_model::budget::Budget;
use hallmark_model::digest::Digest;

use crate::verdict::Candidate;

/// Why a digest is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The artifact under decision. A source of files returns every file, so that a file that
    /// does not name the artifact is reported as rejected rather than silently ignored.
    Artifact,
    /// A material of a step found while walking the chain.
    Material,
}

/// What one lookup found.
#[derive(Debug, Default)]
pub struct Found {
    /// Bundles that claim to be about the digest (unverified).
    pub candidates: Vec<Candidate>,
    /// Evidence left out, and why (unreadable store entries, oversize referrers): for the
    /// user, not for the decision.
    pub notes: Vec<String>,
    /// False when the source stopped short of everything it holds for the digest (a lookup
    /// limit): a chain built on it is marked truncated, which policy denies.
    pub complete: bool,
}

impl Found {
    /// Everything the source holds for the digest.
    pub fn complete(candidates: Vec<Candidate>, notes: Vec<String>) -> Self {
        Found {
            candidates,
            notes,
            complete: true,
        }
    }
}

/// A source could not answer: the decision cannot be made on the evidence it holds.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {error}")]
pub struct SourceError {
    /// The source, in words (`store .hallmark/store`, `registry r.example/app`).
    pub source_name: String,
    /// What went wrong.
    #[source]
    pub error: Box<dyn std::error::Error + Send + Sync>,
}

/// A place that holds attestations, looked up by the digest of their subject.
///
/// Implementations bound their own work (bytes, documents, requests) and spend from `budget`,
/// which the whole decision shares.
pub trait AttestationSource {
    /// The source, in words, for messages.
    fn name(&self) -> String;

    /// The bundles that claim to be about `digest`.
    fn lookup(&self, digest: &Digest, why: Lookup, budget: &Budget) -> Result<Found, SourceError>;
}

/// Asks every source in turn; the candidates are concatenated in source order.
pub(crate) fn lookup_all(
    sources: &[&dyn AttestationSource],
    digest: &Digest,
    why: Lookup,
    budget: &Budget,
) -> Result<Found, SourceError> {
    let mut all = Found::complete(Vec::new(), Vec::new());
    for source in sources {
        let found = source.lookup(digest, why, budget)?;
        all.candidates.extend(found.candidates);
        all.notes.extend(found.notes);
        all.complete &= found.complete;
    }
    Ok(all)
}
