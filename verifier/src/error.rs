use serde::Serialize;

/// Failures that prevent reaching a verdict at all (bad trust material).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A public key could not be read.
    #[error("public key {origin}: {message}")]
    Key {
        /// Where the key came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// Input too large or malformed.
    #[error(transparent)]
    Model(#[from] hallmark_model::Error),
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
    /// A keyless bundle failed Sigstore verification.
    #[error("Sigstore verification failed: {0}")]
    Sigstore(String),
    /// The predicate claims a type it does not satisfy.
    #[error("the predicate claims to be {predicate_type} but is invalid: {message}")]
    Predicate {
        /// The predicate type.
        predicate_type: String,
        /// What is wrong.
        message: String,
    },
}
