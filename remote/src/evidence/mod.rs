//! Evidence bundles: one OCI image layout in a tar carrying artifacts, the attestations of
//! their chains, the trust material and policy used, revocation lists, and a signed manifest of
//! the whole, for delivery across an air gap (docs/evidence-bundle.md).
//!
//! - [`stage`]: export, assembling and signing a staging layout;
//! - [`archive`]: the tar, streamed out and unpacked with every entry checked;
//! - [`staged`]: import, reading the unpacked bundle and committing it once verified;
//! - [`manifest`]: the signed manifest document and the predicate types.

pub mod archive;
mod error;
pub mod manifest;
pub mod stage;
pub mod staged;

pub use error::{DENIED_CODE, Error, SIGNATURE_CODE};
