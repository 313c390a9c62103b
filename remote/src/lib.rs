//! Hallmark's stores and the services it talks to.
//!
//! - [`layout`]: the local store, an OCI image layout holding attestations as OCI artifact
//!   manifests whose `subject` is the attested artifact (the shape a registry holds), with the
//!   pending-push outbox;
//! - [`oci`]: the OCI image-spec types Hallmark writes and reads (descriptor, manifest, index);
//! - [`registry`]: `oci://` references, a blocking distribution client, attestations as referrers
//!   (with the tag-schema fallback) and cosign's legacy `.att` tags;
//! - [`sources`]: the local store, a registry and bundle files as the verifier's
//!   [`hallmark_verifier::source::AttestationSource`]s;
//! - [`evidence`]: air-gap evidence bundles (export, checked streaming import);
//! - [`transfer`]: copying artifacts with their attestations between registries and layouts;
//! - [`keyless`]: the keyless signer (OIDC token → Fulcio certificate, Rekor entry, RFC 3161 TSA),
//!   which verifies each bundle before returning it;
//! - [`tuf`]: fresh Sigstore trust roots from a TUF repository, and the cache `verify` reads;
//! - [`http`]: the one HTTP stack (ureq + rustls on aws-lc-rs, TLS verification always on).
#![forbid(unsafe_code)]

mod error;
pub mod evidence;
pub mod http;
pub mod keyless;
pub mod layout;
pub mod oci;
pub mod registry;
pub mod sources;
pub mod transfer;
pub mod tuf;

pub use error::Error;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
