use serde::Serialize;

use crate::sigstore::error::{BundleError, Error as SigstoreError, SubjectError};

/// Failures that prevent reaching a verdict at all (bad trust material).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A public key could not be read.
    #[error("public key {origin}: {error}")]
    Key {
        /// Where the key came from.
        origin: String,
        /// What is wrong.
        error: crate::keys::KeyError,
    },
    /// Input too large or malformed.
    #[error(transparent)]
    Model(#[from] hallmark_model::Error),
}

impl Error {
    /// The stable dotted code (docs/error-codes.md, "No verdict"): trust material that cannot
    /// be used.
    pub fn code(&self) -> &'static str {
        match self {
            // Only keys are read through this error (their size is checked by the model).
            Error::Key { .. } | Error::Model(_) => "trust.key",
        }
    }
}

/// Why one attestation was not accepted. Each variant names the check that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "check", content = "detail", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rejection {
    /// The bundle could not be parsed.
    #[error("the bundle could not be read: {0}")]
    Bundle(String),
    /// The bundle is signed with a certificate, and only keys were given as trust.
    #[error(
        "the bundle is signed keyless (with a certificate), and no keyless identity is trusted"
    )]
    Keyless,
    /// The bundle has no DSSE envelope.
    #[error("the bundle holds a plain message signature, not an attestation")]
    NotDsse,
    /// Wrong number of DSSE signatures.
    #[error("the DSSE envelope carries {found} signatures; {required} required")]
    SignatureCount {
        /// Signatures present.
        found: usize,
        /// What was required, in words (`exactly 1`, `at least 2`).
        required: String,
    },
    /// More DSSE signatures than anyone verifies ([`hallmark_model::limits::MAX_DSSE_SIGNATURES`]):
    /// refused before any signature is checked.
    #[serde(rename = "signature-count")]
    #[error(
        "the DSSE envelope carries {found} signatures, more than the {limit} accepted; none was checked"
    )]
    TooManySignatures {
        /// Signatures present.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// The decision's budget was spent before this attestation could be checked.
    #[error("not checked: {0}")]
    Budget(String),
    /// No trusted key verifies the signature.
    #[error("the signature does not match the trusted keys (signed by key {keyid})")]
    Signature {
        /// The (unauthenticated) keyid the signature names.
        keyid: String,
    },
    /// The payload is not an in-toto statement.
    #[error("the DSSE payloadType is {0:?}, not application/vnd.in-toto+json")]
    PayloadType(String),
    /// The payload is not a valid statement.
    #[error("the signed payload is not a valid in-toto statement: {0}")]
    Statement(String),
    /// The statement does not name the artifact.
    #[error("no subject of the statement has digest {digest} (subjects: {subjects})")]
    Subject {
        /// The artifact digest.
        digest: String,
        /// The subjects it does name.
        subjects: String,
    },
    /// A certificate-signed bundle failed Sigstore verification.
    #[error("Sigstore verification failed: {0}")]
    Sigstore(crate::sigstore::Error),
    /// A signer of the bundle is revoked (a key or a keyless identity, directly or through its
    /// vendor), and no verified time proves the signature older than the revocation.
    #[error(
        "signed by a revoked {} {} (revoked from {} by list {}: {}); signing time: {}",
        .0.kind, .0.value, .0.effective, .0.list, .0.reason, .0.signed
    )]
    Revoked(Box<RevokedSigner>),
    /// The predicate claims a type it does not satisfy.
    #[error("the predicate claims to be {predicate_type} but is invalid: {message}")]
    Predicate {
        /// The predicate type.
        predicate_type: String,
        /// What is wrong.
        message: String,
    },
}

/// Who was revoked, for [`Rejection::Revoked`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevokedSigner {
    /// `key` or `identity`.
    pub kind: &'static str,
    /// The keyid or identity.
    pub value: String,
    /// Why it was revoked.
    pub reason: String,
    /// From when (RFC 3339).
    pub effective: String,
    /// The list that revoked it (`name#sequence`).
    pub list: String,
    /// The earliest verified signing time, or `no verified time`.
    pub signed: String,
}

impl Rejection {
    /// The stable dotted code of the check that failed, for machines (documented in
    /// docs/error-codes.md; [`ALL_CODES`] lists them all).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Bundle(_) => "bundle.parse",
            Rejection::Keyless => "bundle.keyless-needs-identity",
            Rejection::NotDsse => "dsse.not-dsse",
            Rejection::SignatureCount { .. } | Rejection::TooManySignatures { .. } => {
                "dsse.signature-count"
            }
            Rejection::Budget(_) => "budget.exhausted",
            Rejection::Signature { .. } => "dsse.signature",
            Rejection::PayloadType(_) => "dsse.payload-type",
            Rejection::Statement(_) => "statement.invalid",
            Rejection::Subject { .. } => "statement.subject",
            Rejection::Sigstore(e) => e.code(),
            Rejection::Predicate { .. } => "predicate.invalid",
            Rejection::Revoked(r) if r.kind == "identity" => "revocation.identity",
            Rejection::Revoked(_) => "revocation.key",
        }
    }
}

/// A check both kinds of bundle make (parsing, the DSSE payload type, the statement) is the
/// same rejection whoever signed; the rest are Sigstore's.
impl From<SigstoreError> for Rejection {
    fn from(e: SigstoreError) -> Self {
        match e {
            SigstoreError::Bundle(BundleError::Parse(message)) => Rejection::Bundle(message),
            SigstoreError::Bundle(BundleError::NotDsse) => Rejection::NotDsse,
            SigstoreError::Subject(e) => e.into(),
            other => Rejection::Sigstore(other),
        }
    }
}

impl From<SubjectError> for Rejection {
    fn from(e: SubjectError) -> Self {
        match e {
            SubjectError::PayloadType(found) => Rejection::PayloadType(found),
            SubjectError::Statement(message) => Rejection::Statement(message),
            other => Rejection::Sigstore(SigstoreError::Subject(other)),
        }
    }
}

impl crate::engine::Error {
    /// The stable code of why no decision could be made (docs/error-codes.md).
    pub fn code(&self) -> &'static str {
        use crate::engine::Error as E;
        match self {
            E::NoTrust => "trust.none",
            E::VsaPolicyUnknown => "vsa.policy-unknown",
            E::VsaCannotProve(_) => "vsa.cannot-prove",
            E::TrustRoot(_) => "trust.root",
            E::Source(_) => "source.unavailable",
            E::PredicateTypeNotEvidence(_) => "request.predicate-type",
            E::Revocation(e) => e.code(),
        }
    }
}

impl crate::revocation::ListError {
    /// The stable code of why a revocation list cannot be used (docs/error-codes.md).
    pub fn code(&self) -> &'static str {
        use crate::revocation::ListError as E;
        match self {
            E::NoSigners => "revocation.no-signers",
            E::Unverified { .. } => "revocation.unverified",
            E::Invalid { .. } => "revocation.invalid",
            E::Stale { .. } => "revocation.stale",
            E::Conflict { .. } => "revocation.conflict",
            E::Rollback { .. } => "revocation.rollback",
        }
    }
}

impl crate::vendor::VendorError {
    /// The stable code of why vendor profiles cannot be used (docs/error-codes.md).
    pub fn code(&self) -> &'static str {
        use crate::vendor::VendorError as E;
        match self {
            E::Profile { .. } => "vendor.profile",
            E::Unknown { .. } => "vendor.unknown",
        }
    }
}

/// The violation code of a vendor profile not valid yet.
pub const VENDOR_NOT_YET_VALID: &str = "vendor.not-yet-valid";
/// The violation code of a predicate type a vendor must deliver and did not.
pub const VENDOR_PREDICATE_MISSING: &str = "vendor.predicate-missing";
/// The violation code of a vendor delivery older than the profile's maximum age.
pub const VENDOR_TOO_OLD: &str = "vendor.too-old";

/// The violation code of a revoked artifact ([`crate::verdict::Violation::Revoked`]).
pub const REVOKED_ARTIFACT: &str = "revocation.artifact";
/// The violation code of a revoked material in the chain behind the artifact.
pub const REVOKED_MATERIAL: &str = "revocation.material";

/// Every stable code, sorted: those [`Rejection::code`] can return, and those of the errors
/// that stop a verification before any verdict ([`Error::code`],
/// [`crate::sigstore::trust_root::TrustRootError::code`]), those of a trust-root refresh
/// (`tuf.*`, hallmark-remote's `tuf::Error`, which checks they are listed here), and the
/// admission gate's (`hallmark_admission::error::ADMISSION_CODES`), and hardware keys'
/// (`pkcs11.*`, hallmark-attester's `Pkcs11Error`). docs/error-codes.md documents each.
pub const ALL_CODES: &[&str] = &[
    "admission.config",
    "admission.deadline",
    "admission.image",
    "admission.no-rule",
    "admission.registry",
    "admission.review",
    "budget.exhausted",
    "bundle.keyless-needs-identity",
    "bundle.parse",
    "dsse.not-dsse",
    "dsse.payload-type",
    "dsse.signature",
    "dsse.signature-count",
    "evidence.archive",
    "evidence.blob-digest",
    "evidence.denied",
    "evidence.io",
    "evidence.manifest",
    "evidence.missing",
    "evidence.signature",
    "evidence.unlisted",
    "pkcs11.ambiguous",
    "pkcs11.device",
    "pkcs11.key-type",
    "pkcs11.module",
    "pkcs11.object-exists",
    "pkcs11.object-not-found",
    "pkcs11.pin-incorrect",
    "pkcs11.pin-locked",
    "pkcs11.pin-missing",
    "pkcs11.pin-source",
    "pkcs11.token-not-found",
    "pkcs11.uri",
    "predicate.invalid",
    "request.predicate-type",
    "revocation.artifact",
    "revocation.conflict",
    "revocation.identity",
    "revocation.invalid",
    "revocation.key",
    "revocation.material",
    "revocation.no-signers",
    "revocation.rollback",
    "revocation.stale",
    "revocation.unverified",
    "sigstore.bundle.no-content",
    "sigstore.bundle.no-signer",
    "sigstore.bundle.signer-kind",
    "sigstore.certificate.bundled-root",
    "sigstore.certificate.chain",
    "sigstore.certificate.empty-chain",
    "sigstore.certificate.expired",
    "sigstore.certificate.malformed",
    "sigstore.certificate.not-yet-valid",
    "sigstore.identity.mismatch",
    "sigstore.sct.log-validity",
    "sigstore.sct.malformed",
    "sigstore.sct.missing",
    "sigstore.sct.signature",
    "sigstore.sct.untrusted-log",
    "sigstore.signature.mismatch",
    "sigstore.signature.needs-artifact",
    "sigstore.subject.digest-algorithm",
    "sigstore.subject.message-digest",
    "sigstore.time.no-verified-time",
    "sigstore.timestamp.authority-validity",
    "sigstore.timestamp.certificate-expired",
    "sigstore.timestamp.certificate-not-yet-valid",
    "sigstore.timestamp.duplicate",
    "sigstore.timestamp.eku",
    "sigstore.timestamp.imprint-mismatch",
    "sigstore.timestamp.in-future",
    "sigstore.timestamp.malformed",
    "sigstore.timestamp.signature",
    "sigstore.timestamp.too-many",
    "sigstore.timestamp.unsupported-algorithm",
    "sigstore.timestamp.untrusted",
    "sigstore.tlog.body",
    "sigstore.tlog.checkpoint",
    "sigstore.tlog.duplicate-entry",
    "sigstore.tlog.inclusion-proof",
    "sigstore.tlog.integrated-time",
    "sigstore.tlog.log-validity",
    "sigstore.tlog.missing",
    "sigstore.tlog.negative-index",
    "sigstore.tlog.no-inclusion-proof",
    "sigstore.tlog.set",
    "sigstore.tlog.too-many-entries",
    "sigstore.tlog.unknown-log",
    "source.unavailable",
    "statement.invalid",
    "statement.subject",
    "trust.key",
    "trust.none",
    "trust.root",
    "tuf.cache",
    "tuf.expired",
    "tuf.metadata",
    "tuf.mirror",
    "tuf.rollback",
    "tuf.signature",
    "tuf.target-mismatch",
    "tuf.target-missing",
    "tuf.trusted-root",
    "tuf.unavailable",
    "vendor.not-yet-valid",
    "vendor.predicate-missing",
    "vendor.profile",
    "vendor.too-old",
    "vendor.unknown",
    "vsa.cannot-prove",
    "vsa.policy-unknown",
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::sigstore::error::{TimestampError, TlogError};

    /// The codes docs/error-codes.md documents: the first cell of each table row.
    fn documented() -> BTreeSet<&'static str> {
        let doc = include_str!("../../docs/error-codes.md");
        let rows = doc.lines().filter_map(|l| l.strip_prefix("| `"));
        rows.filter_map(|row| Some(row.split_once('`')?.0))
            .collect()
    }

    /// Every string literal shaped like a code in the `code()` functions: what they can return.
    fn returned() -> BTreeSet<&'static str> {
        let own = include_str!("error.rs");
        let own = own.split("pub const ALL_CODES").next().unwrap_or_default();
        let sources = [
            own,
            include_str!("sigstore/error.rs"),
            // The trust-root refresh's codes (hallmark-remote, which depends on this crate).
            include_str!("../../remote/src/tuf/error.rs"),
            // The admission gate's codes (hallmark-admission; its error module lists them all).
            include_str!("../../admission/src/error.rs"),
            // Evidence bundles (hallmark-remote's `evidence::Error` and its verdict codes).
            include_str!("../../remote/src/evidence/error.rs"),
            // Hardware keys (hallmark-attester's PKCS#11 signer, which the CLI reports with codes).
            include_str!("../../attester/src/keys/pkcs11/error.rs"),
        ];
        let literals = sources
            .into_iter()
            .flat_map(|s| s.split('"').skip(1).step_by(2));
        let is_code = |s: &&str| {
            s.contains('.')
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        };
        literals.filter(is_code).collect()
    }

    #[test]
    fn every_code_is_documented_and_every_documented_code_exists() {
        let all: BTreeSet<&str> = ALL_CODES.iter().copied().collect();
        assert_eq!(all.len(), ALL_CODES.len(), "ALL_CODES has duplicates");
        assert!(ALL_CODES.is_sorted(), "keep ALL_CODES sorted");
        let documented = documented();
        let undocumented: Vec<_> = all.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&all).collect();
        assert!(
            undocumented.is_empty(),
            "not in docs/error-codes.md: {undocumented:?}"
        );
        assert!(
            unknown.is_empty(),
            "documented but never returned: {unknown:?}"
        );
        assert_eq!(
            returned(),
            all,
            "the code() functions and ALL_CODES disagree"
        );
    }

    #[test]
    fn codes_follow_the_check_whoever_signed() {
        let from_sigstore = |e: SigstoreError| Rejection::from(e);
        let payload_type = SubjectError::PayloadType("application/json".into());
        let r = from_sigstore(payload_type.into());
        assert_eq!(r, Rejection::PayloadType("application/json".into()));
        assert_eq!(r.code(), "dsse.payload-type");
        let r = from_sigstore(BundleError::NotDsse.into());
        assert_eq!((r.code(), r), ("dsse.not-dsse", Rejection::NotDsse));
        let r = from_sigstore(BundleError::Parse("eof".into()).into());
        assert_eq!(
            (r.code(), r),
            ("bundle.parse", Rejection::Bundle("eof".into()))
        );
        let r = from_sigstore(TlogError::DuplicateEntry.into());
        assert_eq!(r.code(), "sigstore.tlog.duplicate-entry");
        assert!(matches!(r, Rejection::Sigstore(_)));
        for r in [
            Rejection::Keyless,
            Rejection::Budget("spent".into()),
            Rejection::Predicate {
                predicate_type: "p".into(),
                message: "m".into(),
            },
            Rejection::TooManySignatures {
                found: 99,
                limit: 16,
            },
        ] {
            assert!(ALL_CODES.contains(&r.code()), "{r:?}");
        }
    }

    #[test]
    fn a_timestamp_refused_by_every_authority_has_the_most_telling_code() {
        let untrusted = TimestampError::Untrusted("no path".into());
        let expired = TimestampError::Authority {
            authority: "tsa".into(),
            error: Box::new(TimestampError::CertificateExpired("ended".into())),
        };
        let both = TimestampError::NoAuthority(vec![untrusted.clone(), expired]);
        assert_eq!(both.code(), "sigstore.timestamp.certificate-expired");
        let none = TimestampError::NoAuthority(vec![untrusted.clone(), untrusted]);
        assert_eq!(none.code(), "sigstore.timestamp.untrusted");
    }
}
