//! Verifying many bundles before ingest, on every core: each with the verifier's own checks
//! ([`verify_any_subject`]), nothing of its own.

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
