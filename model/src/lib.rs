//! Hallmark's vocabulary: the data types every other crate speaks.
//!
//! - [`digest`]: digest algorithms, digests and digest sets, validated as in-toto does;
//! - [`resource`]: the in-toto ResourceDescriptor;
//! - [`statement`]: the in-toto Statement v1 (and v0.1 on read);
//! - [`test_result`]: the in-toto test-result predicate a test step signs;
//! - [`provenance`]: the SLSA provenance v1 predicate;
//! - [`approval`]: Hallmark's approval predicate;
//! - [`deployment`], [`lot`], [`target`]: deployment and lot records and the `SITE/LINE/ASSET`
//!   targets they name (traceability);
//! - [`vsa`]: the SLSA verification summary (VSA) v1 predicate;
//! - [`sbom`]: SBOM predicate types (CycloneDX, SPDX), format detection, the typed inventory,
//!   purls and version ranges;
//! - [`revocation`]: Hallmark's revocation list predicate;
//! - [`dsse`]: the DSSE envelope and its pre-authentication encoding;
//! - [`bundle`]: the Sigstore bundle wire format (default-valued fields always written);
//! - [`signer`]: who signed a verified attestation, as the policy input shows it;
//! - [`signing_config`]: the Sigstore SigningConfig and its service selection;
//! - [`time`]: RFC 3339 timestamps;
//! - [`keyid`]: securesystemslib's default keyid preimage, so other in-toto tools recognise our
//!   keys;
//! - [`limits`]: size limits for everything read from outside;
//! - [`budget`]: the work one decision may do (bytes read, bundles parsed, signatures checked);
//! - [`clock`]: the [`clock::Clock`] through which library code reads the time;
//! - [`asn1`]: minimal DER writing for the structures Hallmark builds by hand (PKCS#10, RFC 3161
//!   requests);
//! - [`hex`]: the one lowercase hexadecimal encoder and decoder;
//! - [`text`]: attacker-supplied text made safe for a terminal.
//!
//! This crate does no I/O and no cryptography: it parses, validates and serializes.
#![forbid(unsafe_code)]

pub mod approval;
pub mod asn1;
mod base64_serde;
pub mod budget;
pub mod bundle;
pub mod clock;
pub mod deployment;
pub mod digest;
pub mod dsse;
mod error;
pub mod hex;
pub mod keyid;
pub mod limits;
pub mod lot;
pub mod provenance;
pub mod resource;
pub mod revocation;
pub mod sbom;
pub mod signer;
pub mod signing_config;
pub mod statement;
pub mod target;
pub mod test_result;
pub mod text;
pub mod time;
pub mod vsa;

pub use error::{Error, FieldProblem, NoServiceReason};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
