//! Verifying many bundles before ingest, on every core: each with the verifier's own checks
//! ([`verify_any_subject`]), nothing of its own; and [`Index::verify_and_add`], which verifies
//! the next batch while the previous one is written.

use std::time::SystemTime;

use crate::{Evidence, Index, Ingested, Result};

use hallmark_verifier::Rejection;
use hallmark_verifier::attestation::VerifiedAttestation;
use hallmark_verifier::session::verify_any_subject;
use hallmark_verifier::verdict::Requirements;
use rayon::prelude::*;

/// Verifies each bundle against `requirements` (in parallel); results in the same order.
pub fn verify_all(
    bundles: &[&[u8]],
    requirements: &Requirements,
) -> Vec<Result<VerifiedAttestation, Rejection>> {
    bundles
        .par_iter()
        .map(|bytes| verify_any_subject(bytes, requirements))
        .collect()
}

/// A bundle to verify and index, and where it was read.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    /// Where it was read (a store manifest, a registry reference, a file).
    pub origin: &'a str,
    /// The Sigstore bundle.
    pub bundle: &'a [u8],
}

impl Index {
    /// Verifies every bundle against `requirements` and indexes those that verify, `batch` at
    /// a time (one transaction each), verifying the next batch while the previous one is
    /// written. `each` hears of every bundle, in order: what ingest did, or why verification
    /// rejected it (a rejected bundle is never written). `trust` describes `requirements` for
    /// the rows. Stops at the first database error (batches before it stay written).
    pub fn verify_and_add(
        &mut self,
        found: &[Found<'_>],
        requirements: &Requirements,
        trust: &str,
        batch: usize,
        mut each: impl FnMut(&Found<'_>, std::result::Result<&Ingested, &Rejection>),
    ) -> Result<()> {
        let chunks: Vec<&[Found<'_>]> = found.chunks(batch.max(1)).collect();
        let verify = |chunk: &[Found<'_>]| {
            let slices: Vec<&[u8]> = chunk.iter().map(|f| f.bundle).collect();
            verify_all(&slices, requirements)
        };
        std::thread::scope(|scope| {
            let mut next = chunks.first().map(|c| scope.spawn(move || verify(c)));
            for (k, chunk) in chunks.iter().enumerate() {
                let verified = match next.take().map(|h| h.join()) {
                    Some(Ok(v)) => v,
                    // A panic in verification is a bug: pass it on.
                    Some(Err(panic)) => std::panic::resume_unwind(panic),
                    None => Vec::new(),
                };
                next = chunks.get(k + 1).map(|c| scope.spawn(move || verify(c)));
                let verified_at = SystemTime::now();
                let evidence: Vec<Evidence<'_>> = verified
                    .iter()
                    .zip(chunk.iter())
                    .filter_map(|(v, f)| {
                        Some(Evidence {
                            attestation: v.as_ref().ok()?,
                            bundle: f.bundle,
                            origin: f.origin,
                            trust,
                            verified_at,
                        })
                    })
                    .collect();
                let mut added = self.add(&evidence)?.into_iter();
                for (v, f) in verified.iter().zip(chunk.iter()) {
                    match v {
                        Ok(_) => {
                            if let Some(outcome) = added.next() {
                                each(f, Ok(&outcome));
                            }
                        }
                        Err(rejection) => each(f, Err(rejection)),
                    }
                }
            }
            Ok(())
        })
    }
}
