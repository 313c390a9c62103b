//! The embedded public-good trust roots (see verifier/roots/README.md).

use super::trust_root::{TrustRoot, TrustRootError};

/// Date of the embedded production snapshot, shown by `hallmark version`.
pub const SNAPSHOT: &str = "2025-09-22";

const PRODUCTION: &[u8] = include_bytes!("../../roots/public-good-production.json");
const STAGING: &[u8] = include_bytes!("../../roots/public-good-staging.json");

/// The public-good production trust root.
pub fn production() -> Result<TrustRoot, TrustRootError> {
    TrustRoot::from_json(PRODUCTION)
}

/// The public-good staging trust root.
pub fn staging() -> Result<TrustRoot, TrustRootError> {
    TrustRoot::from_json(STAGING)
}
