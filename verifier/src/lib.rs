//! Hallmark's verifier: decides whether an artifact may be trusted, without network I/O.
//!
//! - [`engine`]: the one decision call, [`engine::decide`]: trust, requirements, policy, facts,
//!   VSA acceptance and the clock in a [`engine::Request`], evidence from attestation sources, a
//!   [`engine::Decision`] out; `verify`, `inspect` and later the admission webhook all call it;
//! - [`source`]: the [`source::AttestationSource`] trait, lookup of candidate bundles by subject
//!   digest within the decision's budget (implemented in `hallmark-remote`);
//! - [`keys`]: public keys (ECDSA P-256/P-384, Ed25519, RSA): the user's trusted keys and those in
//!   certificates and trust roots;
//! - [`attestation`]: checks one bundle (DSSE signature, payload type, statement, predicate) into a
//!   [`attestation::VerifiedAttestation`], which only this crate can make, with its provenance
//!   summary;
//! - [`sigstore`]: Sigstore bundle verification against a trust root the caller chooses: the
//!   trust root (embedded public-good snapshots), certificate chain and identity policy, SCTs,
//!   transparency-log evidence (entry body, inclusion proof, checkpoint, SET), RFC 3161
//!   timestamps, and `verify`, which checks a bundle's evidence once and then who signed it;
//!   `error` names each failed check with a stable dotted code ([`Rejection::code`],
//!   [`ALL_CODES`], docs/error-codes.md);
//! - [`session`]: one decision's memory (each bundle parsed and checked once) and work budget;
//! - [`verdict`]: checks all candidate bundles for an artifact against the requirements into a
//!   [`verdict::Verdict`], whose [`verdict::Verdict::allowed`] is computed from its violations;
//! - [`chain`]: the walk back from an artifact through the verified step attestations that produced
//!   its materials;
//! - [`policy`]: Rego policies (regorus) over the policy input document built from verified
//!   attestations, fail closed; the declarative policy, the built-in library and the `test_*`
//!   runner;
//! - [`revocation`]: signed revocation lists, verified into [`revocation::Revocations`] that
//!   the engine applies (revoked artifacts, materials, keys and identities);
//! - [`vendor`]: vendor trust profiles (signers, required predicate types, maximum age,
//!   validity), applied by the engine through `Request::vendor`;
//! - [`vsa`]: SLSA verification summary attestations: the record of a decision, and accepting a
//!   trusted verifier's record as evidence.
//!
//! A policy violation is a result (a denied verdict), not an error.
#![forbid(unsafe_code)]

pub mod attestation;
pub mod chain;
pub mod engine;
mod error;
pub mod keys;
pub mod policy;
pub mod revocation;
pub mod session;
pub mod sigstore;
pub mod source;
pub mod vendor;
mod vendor_rules;
pub mod verdict;
pub mod vsa;

pub use error::{ALL_CODES, Error, Rejection, RevokedSigner};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
