//! The test services checked against Hallmark's own verifier and keyless signer, in one binary so
//! the suite links once.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod keyless_end_to_end;
mod keyless_signer;
mod log_entries_verify;
mod tsa_verifies;
