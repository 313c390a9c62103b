//! Hallmark's stores and services.
//!
//! Today: [`layout::LayoutStore`], the local store, an OCI image layout directory holding
//! attestations as OCI artifact manifests whose `subject` is the attested artifact, the same shape
//! a registry holds. Registries, Fulcio, Rekor and TSA clients come next, behind the same types.
#![forbid(unsafe_code)]

mod error;
pub mod http;
pub mod keyless;
pub mod layout;
pub mod oci;
pub mod registry;
pub mod transfer;

pub use error::Error;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
