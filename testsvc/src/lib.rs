//! Local Sigstore test services with real cryptography, for tests and demos that cannot reach the
//! public-good instance. Independent of the verifier: what they produce is judged by Hallmark's
//! verifier and by sigstore-python.
//!
//! - [`log`]: an RFC 6962 transparency log with signed checkpoints and signed entry timestamps,
//!   accepting Rekor v1 `dsse` entries.
#![forbid(unsafe_code)]

pub mod fulcio;
pub mod http;
pub mod log;
pub mod oidc;
pub mod services;
pub mod tsa;
