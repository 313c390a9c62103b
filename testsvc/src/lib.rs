//! Local Sigstore test services with real cryptography, for tests and demos that cannot reach the
//! public-good instance. Independent of the verifier: what they produce is judged by Hallmark's
//! verifier and by sigstore-python.
//!
//! - [`services`]: all of them behind one loopback HTTP port, speaking the real APIs (OIDC
//!   discovery and JWKS, Fulcio v2 `signingCert`, Rekor v1 `log/entries`), with fault modes;
//! - [`oidc`]: a test OIDC issuer: ES256-signed ID tokens and the JWKS that verifies them;
//! - [`fulcio`]: a test Fulcio CA: short-lived code-signing certificates with Fulcio's extensions
//!   and an embedded SCT from its own CT log;
//! - [`log`]: an RFC 6962 transparency log with signed checkpoints and signed entry timestamps,
//!   accepting Rekor v1 `dsse` entries;
//! - [`tsa`]: a test RFC 3161 time-stamping authority;
//! - [`tuf`]: a TUF repository made with tough's editor, and a loopback mirror serving it;
//! - [`http`]: the minimal loopback HTTP/1.1 server under them;
//! - [`postgres`]: a throw-away PostgreSQL (Debian `postgresql`) on loopback, for the index;
//! - [`registry`]: a real OCI registry (`docker-registry`) on loopback and images pushed with skopeo.
#![forbid(unsafe_code)]

pub mod fulcio;
pub mod http;
pub mod log;
pub mod oidc;
pub mod postgres;
pub mod registry;
pub mod services;
pub mod tsa;
pub mod tuf;
