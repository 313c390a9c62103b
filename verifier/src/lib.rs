//! Hallmark's verifier: decides whether an artifact may be trusted, without network I/O.
//!
//! - [`keys`]: trusted public keys (ECDSA P-256, Ed25519);
//! - [`attestation`]: checks one bundle (DSSE signature, payload, statement, predicate) into a
//!   [`attestation::VerifiedAttestation`], which only this crate can make;
//! - [`verdict`]: checks all candidate bundles for an artifact against the requirements and
//!   returns a [`verdict::Verdict`]: allowed, or denied with the violations in plain words;
//! - [`session`]: one decision's memory (each bundle checked once) and work budget.
//!
//! A policy violation is a result (a denied verdict), not an error.
#![forbid(unsafe_code)]

pub mod attestation;
pub mod chain;
pub mod engine;
mod error;
pub mod keys;
pub mod policy;
pub mod session;
pub mod sigstore;
pub mod source;
pub mod verdict;
pub mod vsa;

pub use error::{Error, Rejection};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
