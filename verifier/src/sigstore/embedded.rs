//! The embedded public-good trust roots (see verifier/roots/README.md).

use super::trust_root::{TrustRoot, TrustRootError};

/// Date of the embedded production snapshot, shown by `hallmark version`.
pub const SNAPSHOT: &str = "2025-09-22";

/// The TUF root (root.json, version 15) of the public-good Sigstore TUF repository, from the
/// same sigstore/root-signing commit as the production trust root: where `hallmark trust update`
/// starts walking root rotations from.
pub const TUF_ROOT: &[u8] = include_bytes!("../../roots/public-good-tuf-root.json");

const PRODUCTION: &[u8] = include_bytes!("../../roots/public-good-production.json");
const STAGING: &[u8] = include_bytes!("../../roots/public-good-staging.json");

/// The public-good production trust root.
pub fn production() -> Result<TrustRoot, TrustRootError> {
    TrustRoot::from_json(PRODUCTION)
}

/// The production trust root's JSON as embedded (carried in evidence bundles as the trust
/// material used).
pub fn production_json() -> &'static [u8] {
    PRODUCTION
}

/// The public-good staging trust root.
pub fn staging() -> Result<TrustRoot, TrustRootError> {
    TrustRoot::from_json(STAGING)
}
