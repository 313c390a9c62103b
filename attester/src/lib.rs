//! Hallmark's attester: everything that happens on the build side.
//!
//! - [`ci`]: which CI platform we run on (GitHub Actions, GitLab CI, local), from an injected
//!   environment map;
//! - [`source`]: the git source (commit, ref, remote URL without credentials, dirty state), read
//!   through the `git` command with a cleared environment;
//! - [`hashing`]: parallel, deterministic, bounded-memory hashing of files and directory trees that
//!   never reads outside its root, reporting its progress through [`hashing::Progress`] (the CLI
//!   draws the bar);
//! - [`repository`]: what hashing takes from the repository (its git directory, committed ignore
//!   rules), read through git;
//! - [`step`]: recording one build step (materials, command, products) into a statement;
//! - [`redact`]: the one redaction routine for everything a step records (command, environment,
//!   URLs);
//! - [`provenance`]: SLSA provenance builders (Hallmark's step buildType, GitHub's and GitLab's
//!   whole-job formats);
//! - [`keys`]: signing keys: generation, PKCS#8 PEM, cosign's encrypted key format;
//! - [`signer`]: the [`signer::Signer`] trait and the key signer (keyless signers live in
//!   `hallmark-remote`).
#![forbid(unsafe_code)]

pub mod ci;
mod error;
mod git;
pub mod hashing;
pub mod keys;
pub mod provenance;
pub mod redact;
pub mod repository;
pub mod signer;
pub mod source;
pub mod step;

pub use error::Error;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Hallmark's version, recorded in provenance.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
