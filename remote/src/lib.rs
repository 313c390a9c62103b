//! Hallmark's stores and the services it talks to.
//!
//! - [`layout`]: the local store, an OCI image layout holding attestations as OCI artifact
//!   manifests whose `subject` is the attested artifact (the shape a registry holds), with the
//!   pending-push outbox;
//! - [`registry`]: `oci://` references, a distribution client, attestations as referrers (with
//!   the tag-schema fallback) and cosign's legacy `.att` tags;
//! - [`sources`]: the store, a registry and bundle files as the verifier's attestation sources;
//! - [`transfer`]: copying artifacts with their attestations between registries and layouts;
//! - [`keyless`]: the keyless signer (Fulcio, Rekor, RFC 3161 TSA);
//! - [`http`]: the one HTTP stack (ureq + rustls on aws-lc-rs).
#![forbid(unsafe_code)]

mod error;
pub mod http;
pub mod keyless;
pub mod layout;
pub mod oci;
pub mod registry;
pub mod sources;
pub mod transfer;

pub use error::Error;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
