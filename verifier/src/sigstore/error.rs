//! Why a Sigstore bundle was rejected: one enum per area of the verification, one variant per
//! check, and for each a stable dotted code (listed in docs/error-codes.md). Decisions branch on
//! the variants, never on the text.

use std::fmt;
use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use serde::{Serialize, Serializer};

use crate::keys::KeyError;
use crate::sigstore::trust_root::TrustRootError;

fn show(time: &SystemTime) -> humantime::Rfc3339Timestamp {
    humantime::format_rfc3339(*time)
}

/// Why a Sigstore bundle was not accepted: the area of the check that failed, then the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bundle's shape: what it carries, and whether it fits the trust given.
    #[error("bundle: {0}")]
    Bundle(#[from] BundleError),
    /// The signing certificate: its encoding, validity and chain to a trusted authority.
    #[error("signing certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The signed certificate timestamps embedded in the signing certificate.
    #[error("certificate transparency: {0}")]
    Sct(#[from] SctError),
    /// The transparency-log entries: body, inclusion proof, checkpoint, SET.
    #[error("transparency log: {0}")]
    Tlog(#[from] TlogError),
    /// The RFC 3161 timestamps.
    #[error("RFC 3161 timestamp: {0}")]
    Timestamp(#[from] TimestampError),
    /// The certificate's identity, issuer and CI extensions against the trusted identities.
    #[error("{0}")]
    Identity(#[from] IdentityError),
    /// What was signed against what is being verified.
    #[error("{0}")]
    Subject(#[from] SubjectError),
    /// The signature over the content.
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    /// The verified times of signing.
    #[error("time: {0}")]
    Time(#[from] TimeError),
}

impl Error {
    /// The stable dotted code of the check that failed (docs/error-codes.md).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Bundle(e) => e.code(),
            Error::Certificate(e) => e.code(),
            Error::Sct(e) => e.code(),
            Error::Tlog(e) => e.code(),
            Error::Timestamp(e) => e.code(),
            Error::Identity(e) => e.code(),
            Error::Subject(e) => e.code(),
            Error::Signature(e) => e.code(),
            Error::Time(e) => e.code(),
        }
    }
}

/// Serialized as its message: the code is reported beside it, by [`Error::code`].
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Which kind of signer a bundle has, or a verification expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerKind {
    /// A (Fulcio) certificate.
    Certificate,
    /// A public key.
    Key,
}

impl fmt::Display for SignerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignerKind::Certificate => "a certificate",
            SignerKind::Key => "a public key",
        })
    }
}

/// What the bundle carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle is not a Sigstore bundle this verifier reads.
    #[error("the bundle could not be read: {0}")]
    Parse(String),
    /// Neither a certificate nor a public-key hint.
    #[error("the bundle has no certificate or public key")]
    NoSigner,
    /// Neither a DSSE envelope nor a message signature.
    #[error("the bundle has no content (no DSSE envelope, no message signature)")]
    NoContent,
    /// A message signature, where an attestation (a DSSE envelope) is needed.
    #[error("the bundle holds a plain message signature, not an attestation")]
    NotDsse,
    /// Signed by another kind of signer than the trust given can verify.
    #[error("the bundle is signed with {found}, and {expected} was given to verify it")]
    SignerKind {
        /// What signed the bundle.
        found: SignerKind,
        /// What the caller trusts.
        expected: SignerKind,
    },
}

impl BundleError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::Parse(_) => "bundle.parse",
            BundleError::NoSigner => "sigstore.bundle.no-signer",
            BundleError::NoContent => "sigstore.bundle.no-content",
            BundleError::NotDsse => "dsse.not-dsse",
            BundleError::SignerKind { .. } => "sigstore.bundle.signer-kind",
        }
    }
}

/// The signing certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not DER X.509.
    #[error("the signing certificate is not valid DER X.509: {0}")]
    Malformed(der::Error),
    /// Its public key cannot be read.
    #[error("the signing certificate's public key: {0}")]
    Key(KeyError),
    /// A Fulcio extension from arc 8 on that is not a DER UTF8String.
    #[error("Fulcio extension {0} is not a UTF8String")]
    Extension(ObjectIdentifier),
    /// `x509CertificateChain` with no certificate.
    #[error("the bundle's certificate chain is empty")]
    EmptyChain,
    /// The bundle's chain holds a self-signed certificate that is not a trust-root root: a
    /// bundle never brings its own trust anchor.
    #[error("the bundle carries a root certificate that is not the trust root's")]
    BundledRoot,
    /// A verified time of signing is after the certificate's notAfter.
    #[error(
        "the signing certificate had expired at the time of signing {} (valid {} to {})",
        show(.time), show(.not_before), show(.not_after)
    )]
    Expired {
        /// The verified time of signing.
        time: SystemTime,
        /// The certificate's notBefore.
        not_before: SystemTime,
        /// The certificate's notAfter.
        not_after: SystemTime,
    },
    /// A verified time of signing is before the certificate's notBefore.
    #[error(
        "the signing certificate was not yet valid at the time of signing {} (valid {} to {})",
        show(.time), show(.not_before), show(.not_after)
    )]
    NotYetValid {
        /// The verified time of signing.
        time: SystemTime,
        /// The certificate's notBefore.
        not_before: SystemTime,
        /// The certificate's notAfter.
        not_after: SystemTime,
    },
    /// No path to a trust-root certificate authority.
    #[error("{0}")]
    Chain(ChainError),
}

impl CertificateError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        match self {
            CertificateError::Malformed(_)
            | CertificateError::Key(_)
            | CertificateError::Extension(_) => "sigstore.certificate.malformed",
            CertificateError::EmptyChain => "sigstore.certificate.empty-chain",
            CertificateError::BundledRoot => "sigstore.certificate.bundled-root",
            CertificateError::Expired { .. } => "sigstore.certificate.expired",
            CertificateError::NotYetValid { .. } => "sigstore.certificate.not-yet-valid",
            CertificateError::Chain(_) => "sigstore.certificate.chain",
        }
    }
}

/// Why the signing certificate does not chain to a trusted certificate authority (the last
/// authority tried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The trust root has no certificate authority.
    #[error("no certificate authority in the trust root")]
    NoAuthority,
    /// webpki refuses the leaf itself.
    #[error("the signing certificate cannot be used: {0:?}")]
    Unusable(webpki::Error),
    /// The authority's validity window does not hold the time of signing.
    #[error("certificate authority {0} was not valid at the signing time")]
    AuthorityNotValid(String),
    /// A certificate of the authority's chain is not valid at the time of signing.
    #[error("certificate authority {0} has a certificate not valid at the signing time")]
    AuthorityCertificateNotValid(String),
    /// A certificate of the authority's chain cannot be read.
    #[error("certificate authority {uri}: {error}")]
    AuthorityUnreadable {
        /// The authority.
        uri: String,
        /// Why its certificate cannot be read.
        error: der::Error,
    },
    /// The leaf does not chain to the authority.
    #[error("the signing certificate does not chain to {uri} at the signing time: {error:?}")]
    NotChained {
        /// The authority.
        uri: String,
        /// What webpki found.
        error: webpki::Error,
    },
}

/// The signed certificate timestamps (RFC 6962) embedded in the signing certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SctError {
    /// The leaf has no SCT list extension (1.3.6.1.4.1.11129.2.4.2).
    #[error("the signing certificate has no SCT extension")]
    Missing,
    /// The leaf cannot be taken apart into its precertificate.
    #[error("the signing certificate is not a well-formed certificate: {0}")]
    Certificate(der::Error),
    /// The SCT list does not follow RFC 6962 §3.3.
    #[error("malformed SCT list: {0}")]
    Malformed(String),
    /// An SCT from a trusted log has a time outside that log's validity.
    #[error("SCT time {} is outside the validity of log {log_id}", show(.time))]
    LogValidity {
        /// The log id (hex).
        log_id: String,
        /// The SCT's time.
        time: SystemTime,
    },
    /// An SCT from a trusted log does not verify.
    #[error(
        "SCT signature invalid for log {log_id} ({url}; hash {hash}, signature algorithm {algorithm})"
    )]
    Signature {
        /// The log id (hex).
        log_id: String,
        /// The log's base URL.
        url: String,
        /// The TLS hash algorithm the SCT declares.
        hash: u8,
        /// The TLS signature algorithm the SCT declares.
        algorithm: u8,
    },
    /// No SCT comes from a CT log of the trust root.
    #[error("no SCT from a trusted log (SCT log ids: {})", .0.join(", "))]
    Untrusted(Vec<String>),
}

impl SctError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        match self {
            SctError::Missing => "sigstore.sct.missing",
            SctError::Certificate(_) | SctError::Malformed(_) => "sigstore.sct.malformed",
            SctError::LogValidity { .. } => "sigstore.sct.log-validity",
            SctError::Signature { .. } => "sigstore.sct.signature",
            SctError::Untrusted(_) => "sigstore.sct.untrusted-log",
        }
    }
}

/// The transparency-log entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlogError {
    /// More entries than anyone verifies.
    #[error("{found} log entries; at most {limit} are accepted")]
    TooManyEntries {
        /// Entries present.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// The same entry twice (it would count twice).
    #[error("the bundle carries the same log entry twice")]
    DuplicateEntry,
    /// A certificate-signed bundle without any log entry.
    #[error("the bundle has no transparency-log entry")]
    Missing,
    /// A negative log index, tree size or proof index.
    #[error("log index or tree size {0} is negative")]
    Negative(i64),
    /// The entry's log is not one of the trust root's.
    #[error("log id {0} is not a transparency log of the trust root")]
    UnknownLog(String),
    /// The logged body does not describe what the bundle carries.
    #[error("the log entry body: {0}")]
    Body(#[from] BodyError),
    /// The signed entry timestamp.
    #[error("{0}")]
    Set(#[from] SetError),
    /// The SET-vouched integration time is later than the time of verification.
    #[error("the log's integrated time {} is in the future", show(.0))]
    IntegratedTimeInFuture(SystemTime),
    /// The log's key was not valid at the integrated time (or, for entries without a SET, at
    /// any verified time of signing).
    #[error("log {0} was not valid at the verified time of signing")]
    LogValidity(String),
    /// The inclusion proof.
    #[error("{0}")]
    InclusionProof(#[from] InclusionProofError),
    /// The signed checkpoint the inclusion proof leads to.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// No inclusion proof where one is required (bundles v0.2 and later), or neither a proof
    /// nor a SET (v0.1).
    #[error("the log entry has no inclusion proof (required from bundle v0.2, and without a SET)")]
    NoInclusionProof,
}

impl TlogError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        match self {
            TlogError::TooManyEntries { .. } => "sigstore.tlog.too-many-entries",
            TlogError::DuplicateEntry => "sigstore.tlog.duplicate-entry",
            TlogError::Missing => "sigstore.tlog.missing",
            TlogError::Negative(_) => "sigstore.tlog.negative-index",
            TlogError::UnknownLog(_) => "sigstore.tlog.unknown-log",
            TlogError::Body(_) => "sigstore.tlog.body",
            TlogError::Set(_) => "sigstore.tlog.set",
            TlogError::IntegratedTimeInFuture(_) => "sigstore.tlog.integrated-time",
            TlogError::LogValidity(_) => "sigstore.tlog.log-validity",
            TlogError::InclusionProof(_) => "sigstore.tlog.inclusion-proof",
            TlogError::Checkpoint(_) => "sigstore.tlog.checkpoint",
            TlogError::NoInclusionProof => "sigstore.tlog.no-inclusion-proof",
        }
    }
}

/// The logged entry body against the bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The canonicalized body is not JSON.
    #[error("it is not JSON")]
    NotJson,
    /// A field the kind requires is missing or not a string.
    #[error("it has no {0}")]
    MissingField(String),
    /// A field is not base64.
    #[error("field {0} is not base64")]
    NotBase64(String),
    /// A field is not PEM.
    #[error("field {0} is not PEM")]
    NotPem(String),
    /// The body's kind or apiVersion is not the one the bundle declares.
    #[error("it is not the {kind} {version} the bundle declares")]
    KindMismatch {
        /// The declared kind.
        kind: String,
        /// The declared version.
        version: String,
    },
    /// A kind that does not fit the bundle's content.
    #[error("kind {kind} {version} does not fit this bundle")]
    UnsupportedKind {
        /// The kind.
        kind: String,
        /// The version.
        version: String,
    },
    /// Another artifact digest.
    #[error("it records a different artifact digest")]
    Digest,
    /// Another signature.
    #[error("it records a different signature")]
    Signature,
    /// Another certificate or key.
    #[error("it names a different signing certificate or key")]
    Signer,
    /// Another DSSE payload.
    #[error("it records a different DSSE payload")]
    Payload,
    /// Another DSSE payload type.
    #[error("it records a different DSSE payload type")]
    PayloadType,
    /// Another number of DSSE signatures.
    #[error("it records a different number of DSSE signatures")]
    SignatureCount,
    /// A DSSE signature or its signer differs.
    #[error("it records a different DSSE signature or signer")]
    DsseSignature,
    /// A hashedrekord over DSSE covers exactly one signature.
    #[error("a hashedrekord entry covers exactly one DSSE signature")]
    HashedRekordSignatures,
}

/// The signed entry timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// A SET needs the integrated time it signs.
    #[error("the entry has a SET but no integrated time")]
    NoIntegratedTime,
    /// The SET does not verify.
    #[error("the signed entry timestamp (SET) does not verify with the log's key")]
    Signature,
}

/// The Merkle inclusion proof (RFC 9162 §2.1.3.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InclusionProofError {
    /// The leaf index is not inside the tree.
    #[error("inclusion proof: leaf index {index} is not below the tree size {size}")]
    IndexOutsideTree {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A proof hash is not a SHA-256.
    #[error("inclusion proof: a hash of {0} bytes (expected 32)")]
    HashLength(usize),
    /// More hashes than the tree is deep.
    #[error("inclusion proof is longer than the tree is deep")]
    TooLong,
    /// Fewer hashes than the tree is deep.
    #[error("inclusion proof is shorter than the tree is deep")]
    TooShort,
    /// The proof leads to another root.
    #[error("inclusion proof does not lead to the root hash")]
    RootMismatch,
}

/// The signed checkpoint (C2SP signed note).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The inclusion proof has no checkpoint.
    #[error("the inclusion proof has no signed checkpoint")]
    Missing,
    /// Over the size limit.
    #[error("checkpoint is too large")]
    TooLarge,
    /// No blank line before the signatures.
    #[error("checkpoint has no signature block")]
    NoSignatureBlock,
    /// No origin line.
    #[error("checkpoint has no origin")]
    NoOrigin,
    /// No tree size line.
    #[error("checkpoint has no tree size")]
    NoSize,
    /// No root hash line.
    #[error("checkpoint has no root hash")]
    NoRootHash,
    /// A signature line of the wrong shape.
    #[error("malformed checkpoint signature line")]
    SignatureLine,
    /// No signature carries the log key's hint.
    #[error("checkpoint carries no signature from the log's key")]
    NoLogSignature,
    /// The log key's signature does not verify.
    #[error("checkpoint signature does not verify with the log's key")]
    Signature,
    /// The checkpoint's tree is not the proof's.
    #[error("the checkpoint is for a different tree than the inclusion proof")]
    DifferentTree,
}

/// The RFC 3161 timestamps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// Not a well-formed TimeStampResp / TimeStampToken.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The token stamps other bytes than the signature (set aside by the bundle verifier); it
    /// names the imprint's hash algorithm.
    #[error("imprint mismatch: not the {0} of the signed bytes")]
    ImprintMismatch(&'static str),
    /// A digest or signature algorithm Hallmark does not verify.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// No trust-root timestamp authority vouches for the signer.
    #[error("untrusted TSA: {0}")]
    Untrusted(String),
    /// The SignerInfo signature does not verify, or does not cover the TSTInfo.
    #[error("bad signature: {0}")]
    Signature(&'static str),
    /// genTime is outside the authority's validity in the trust root.
    #[error(
        "time outside TSA validity: genTime {} is outside {authority}'s [{start}, {end}]",
        show(.gen_time)
    )]
    AuthorityValidity {
        /// The authority.
        authority: String,
        /// The token's genTime.
        gen_time: SystemTime,
        /// Start of the authority's validity.
        start: String,
        /// End of the authority's validity (`unbounded` when open).
        end: String,
    },
    /// A TSA certificate had expired at genTime.
    #[error("TSA certificate expired at genTime: {0}")]
    CertificateExpired(String),
    /// A TSA certificate was not yet valid at genTime.
    #[error("TSA certificate not yet valid at genTime: {0}")]
    CertificateNotYetValid(String),
    /// The TSA certificate lacks the (critical, sole) timeStamping EKU.
    #[error("TSA certificate lacks the timeStamping EKU: {0}")]
    Eku(String),
    /// The failure with one authority of the trust root.
    #[error("{error} (authority {authority})")]
    Authority {
        /// The authority.
        authority: String,
        /// Its failure.
        error: Box<TimestampError>,
    },
    /// Every authority refused the token (each failure listed).
    #[error("no timestamp authority accepts it: {}", list(.0))]
    NoAuthority(Vec<TimestampError>),
    /// genTime is later than the time of verification.
    #[error("the RFC 3161 timestamp {} is in the future", show(.0))]
    InFuture(SystemTime),
    /// The same token twice.
    #[error("the bundle carries the same RFC 3161 timestamp twice")]
    Duplicate,
    /// More tokens than anyone verifies.
    #[error("{found} RFC 3161 timestamps; at most {limit} are accepted")]
    TooMany {
        /// Tokens present.
        found: usize,
        /// The limit.
        limit: usize,
    },
}

fn list(errors: &[TimestampError]) -> String {
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    shown.join("; ")
}

impl TimestampError {
    /// True when the token is a valid-looking timestamp of other bytes: it says nothing about
    /// this signature, so the bundle verifier sets it aside rather than rejecting the bundle.
    pub fn is_imprint_mismatch(&self) -> bool {
        matches!(self, TimestampError::ImprintMismatch(_))
    }

    /// The failure itself, without the authority it came from.
    fn innermost(&self) -> &TimestampError {
        match self {
            TimestampError::Authority { error, .. } => error.innermost(),
            other => other,
        }
    }

    /// The stable dotted code. Every authority refused: the first refusal that says more than
    /// "untrusted" (an authority that did vouch for the signer, but not at that time).
    pub fn code(&self) -> &'static str {
        match self {
            TimestampError::Malformed(_) => "sigstore.timestamp.malformed",
            TimestampError::ImprintMismatch(_) => "sigstore.timestamp.imprint-mismatch",
            TimestampError::UnsupportedAlgorithm(_) => "sigstore.timestamp.unsupported-algorithm",
            TimestampError::Untrusted(_) => "sigstore.timestamp.untrusted",
            TimestampError::Signature(_) => "sigstore.timestamp.signature",
            TimestampError::AuthorityValidity { .. } => "sigstore.timestamp.authority-validity",
            TimestampError::CertificateExpired(_) => "sigstore.timestamp.certificate-expired",
            TimestampError::CertificateNotYetValid(_) => {
                "sigstore.timestamp.certificate-not-yet-valid"
            }
            TimestampError::Eku(_) => "sigstore.timestamp.eku",
            TimestampError::Authority { error, .. } => error.code(),
            TimestampError::NoAuthority(all) => all
                .iter()
                .find(|e| !matches!(e.innermost(), TimestampError::Untrusted(_)))
                .map_or("sigstore.timestamp.untrusted", TimestampError::code),
            TimestampError::InFuture(_) => "sigstore.timestamp.in-future",
            TimestampError::Duplicate => "sigstore.timestamp.duplicate",
            TimestampError::TooMany { .. } => "sigstore.timestamp.too-many",
        }
    }
}

/// The certificate's identity against the trusted identities.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// No subject alternative name matches.
    #[error("certificate identity mismatch: expected {expected}, certificate has {found:?}")]
    Identity {
        /// What was expected (a value, or a pattern).
        expected: String,
        /// The certificate's identities.
        found: Vec<String>,
    },
    /// The OIDC issuer does not match.
    #[error("OIDC issuer mismatch: expected {expected}, certificate has {found:?}")]
    Issuer {
        /// What was expected.
        expected: String,
        /// The certificate's issuer.
        found: String,
    },
    /// A Fulcio extension does not match.
    #[error(
        "{label} mismatch: expected {expected}, certificate has {found:?} (extension 1.3.6.1.4.1.57264.1.{arc})"
    )]
    Extension {
        /// What the caller calls the extension.
        label: &'static str,
        /// The extension's last arc.
        arc: u32,
        /// What was expected.
        expected: String,
        /// The certificate's value.
        found: String,
    },
    /// No identity was trusted at all.
    #[error("no certificate identity is trusted")]
    NoneTrusted,
    /// Several identities were trusted and none matched.
    #[error("matches none of the {tried} trusted identities; the first: {first}")]
    NoneMatched {
        /// How many identities were tried.
        tried: usize,
        /// Why the first did not match.
        first: Box<IdentityError>,
    },
}

impl IdentityError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        "sigstore.identity.mismatch"
    }
}

/// What was signed against what is verified. A DSSE statement is checked as for key-signed
/// bundles, so those checks keep their codes (`dsse.payload-type`, `statement.invalid`,
/// `statement.subject`) whoever signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The DSSE payload is not an in-toto statement.
    #[error("the DSSE payloadType is {0:?}, not application/vnd.in-toto+json")]
    PayloadType(String),
    /// The payload does not parse as a statement.
    #[error("the signed payload is not a valid in-toto statement: {0}")]
    Statement(String),
    /// No subject names the artifact.
    #[error("no subject of the statement has digest {0}")]
    NotNamed(String),
    /// The message signature's digest hint is not the artifact's.
    #[error("the bundle's message digest is not the artifact's digest")]
    MessageDigest,
    /// The artifact is named by another digest than SHA-256.
    #[error("Sigstore verification needs the artifact's SHA-256, not {0}")]
    DigestAlgorithm(&'static str),
}

impl SubjectError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        match self {
            SubjectError::PayloadType(_) => "dsse.payload-type",
            SubjectError::Statement(_) => "statement.invalid",
            SubjectError::NotNamed(_) => "statement.subject",
            SubjectError::MessageDigest => "sigstore.subject.message-digest",
            SubjectError::DigestAlgorithm(_) => "sigstore.subject.digest-algorithm",
        }
    }
}

/// The signature over the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A Sigstore DSSE envelope carries exactly one signature.
    #[error("the DSSE envelope carries {0} signatures; exactly 1 required")]
    DsseCount(usize),
    /// The DSSE signature does not verify with the signer's key.
    #[error("the DSSE signature does not match the signing key")]
    Dsse,
    /// The message signature does not verify over the artifact with the signer's key.
    #[error("the signature does not match the artifact and the signing key")]
    Message,
    /// Ed25519 signs messages, not digests: the artifact's bytes are needed.
    #[error("an Ed25519 message signature needs the artifact itself, not its digest")]
    NeedsArtifact,
}

impl SignatureError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::DsseCount(_) => "dsse.signature-count",
            SignatureError::Dsse | SignatureError::Message => "sigstore.signature.mismatch",
            SignatureError::NeedsArtifact => "sigstore.signature.needs-artifact",
        }
    }
}

/// The verified times of signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// A certificate-signed bundle with no verified time to check the certificate at.
    #[error(
        "no verified time of signing: the bundle needs a signed entry timestamp or an RFC 3161 timestamp"
    )]
    NoVerifiedTime,
}

impl TimeError {
    /// The stable dotted code.
    pub fn code(&self) -> &'static str {
        match self {
            TimeError::NoVerifiedTime => "sigstore.time.no-verified-time",
        }
    }
}

impl TrustRootError {
    /// The stable dotted code: a trust root that cannot be used stops verification before any
    /// verdict.
    pub fn code(&self) -> &'static str {
        "trust.root"
    }
}
