//! SLSA provenance v1 builders.
//!
//! - [`step`]: Hallmark's per-step buildType (`https://hallmark.dev/buildtypes/step/v1`);
//! - [`job`]: whole-job provenance: exactly GitHub's own format on GitHub Actions, the GitLab
//!   runner's format on GitLab CI, and a self-asserted local format elsewhere.

pub mod job;
pub mod step;

use std::time::SystemTime;

/// RFC 3339 UTC with seconds, as SLSA timestamps are written.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}
