//! The verifier's integration tests, in one binary so the suite links once: the chain walk, the
//! key verifier's and the Sigstore verifier's negative cases, mutated bundles, and property tests.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod any_subject;
mod chain;
mod chain_order;
mod engine;
mod mutation;
mod negative;
mod producers;
mod properties;
mod revocation;
mod sigstore_negative;
mod summary;
