//! The CLI's integration tests, in one binary so the suite links once. Each module runs the real
//! `hallmark` binary (`common`) against scratch repositories, local services or vendored vectors.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod oracle;

mod acceptance;
mod admission;
mod bundle;
mod chain;
mod conformance;
mod flooding;
mod index;
mod keyless;
mod keyless_verify;
mod negative;
mod peer_bundles;
mod pipelines;
mod pkcs11;
mod plant;
mod policy;
mod producers;
mod records;
mod registry;
mod revocation;
mod run_step;
mod sbom;
mod store_lists;
mod traceability;
mod trust;
mod vendor;
