/// Everything that can be wrong with a document this crate parses or validates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A digest of a known algorithm has the wrong number of hex characters.
    #[error("{algorithm} digest must have {expected} hex characters, found {actual}: {value:?}")]
    DigestLength {
        /// The algorithm name as written (`sha256`, `gitCommit`, ...).
        algorithm: String,
        /// Acceptable lengths, e.g. `64` or `40 or 64`.
        expected: String,
        /// The length found.
        actual: usize,
        /// The offending value.
        value: String,
    },
    /// A digest of a known algorithm is not hexadecimal.
    #[error("{algorithm} digest is not hex: {value:?}")]
    DigestEncoding {
        /// The algorithm name.
        algorithm: String,
        /// The offending value.
        value: String,
    },
    /// A `sha256:HEX` style digest string could not be understood.
    #[error("{0:?} is not a digest of the form ALGORITHM:HEX (for example sha256:<64 hex>)")]
    DigestSyntax(String),
    /// A ResourceDescriptor names nothing at all.
    #[error("resource descriptor has none of name, uri, digest or content")]
    EmptyResourceDescriptor,
    /// The statement `_type` is not one we read.
    #[error("statement _type {0:?} is not https://in-toto.io/Statement/v1 (or v0.1)")]
    StatementType(String),
    /// The statement has no subject.
    #[error("statement has no subjects")]
    NoSubjects,
    /// A subject has no digest.
    #[error("subject {index} ({name:?}) has no digest")]
    SubjectWithoutDigest {
        /// Position in the subject list.
        index: usize,
        /// The subject's name, if any.
        name: String,
    },
    /// A subject name could escape a directory if used as a path.
    #[error("subject name {0:?} tries path traversal")]
    UnsafeSubjectName(String),
    /// A statement to be written has an empty predicateType.
    #[error("statement has no predicateType")]
    NoPredicateType,
    /// A required provenance field is missing or empty.
    #[error("SLSA provenance: {0} is required")]
    ProvenanceField(&'static str),
    /// JSON that does not parse, or does not have the expected shape.
    #[error("{what}: invalid JSON: {source}")]
    Json {
        /// What was being parsed.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A document is larger than Hallmark accepts.
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The DSSE payloadType is not the in-toto one.
    #[error("DSSE payloadType {0:?} is not application/vnd.in-toto+json")]
    PayloadType(String),
    /// A Sigstore bundle media type we do not know.
    #[error("unknown Sigstore bundle mediaType {0:?}")]
    BundleMediaType(String),
    /// A bundle without content or verification material.
    #[error("bundle is malformed: {0}")]
    BundleShape(&'static str),
    /// The decision's budget for some work is spent.
    #[error(transparent)]
    Budget(#[from] crate::budget::Exhausted),
    /// Text that is not an RFC 3339 time.
    #[error("{0:?} is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS with Z or an offset)")]
    Timestamp(String),
    /// An instant before 1970 or after year 9999.
    #[error("time out of range: before 1970 or after year 9999")]
    TimeOutOfRange,
    /// A field of a predicate or configuration is missing, empty or malformed.
    #[error("{what}: {field} {problem}")]
    Field {
        /// The document (`SLSA VSA`, `approval`, `signing config`).
        what: &'static str,
        /// The field's path, e.g. `policy.uri` or `inputAttestations[2].digest`.
        field: String,
        /// What is wrong with it.
        problem: FieldProblem,
    },
    /// A document of another type or version than the one expected.
    #[error("{what}: mediaType {found:?} is not {expected}")]
    MediaType {
        /// The document.
        what: &'static str,
        /// What it says it is.
        found: String,
        /// What is read.
        expected: &'static str,
    },
    /// No service of a kind can be used.
    #[error("signing config: {kind}: {reason}")]
    NoService {
        /// The list it was chosen from (`caUrls`, `rekorTlogUrls`, ...).
        kind: &'static str,
        /// Why none could be chosen.
        reason: NoServiceReason,
    },
    /// A document that is not an SBOM of a format and version Hallmark reads.
    #[error("SBOM: {0}")]
    Sbom(String),
    /// A package URL that cannot name a package.
    #[error("package URL {purl:?}: {reason}")]
    Purl {
        /// The offending purl.
        purl: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A version range (purl-spec `vers`) that cannot be evaluated.
    #[error("version range {range:?}: {reason}")]
    VersionRange {
        /// The offending range.
        range: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What is wrong with a [`Error::Field`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// Absent, or empty where a value is required.
    #[error("must not be empty")]
    Empty,
    /// Longer than the limit, in bytes.
    #[error("is longer than {0} bytes")]
    TooLong(usize),
    /// Not a URL with a scheme and a host.
    #[error("{0:?} is not an http(s) URL with a host")]
    NotUrl(String),
    /// A count that must be positive and within the list it counts.
    #[error("asks for {count} services of {available} listed")]
    Count {
        /// The count asked for.
        count: u32,
        /// The services listed.
        available: usize,
    },
    /// A value this version does not know.
    #[error("{0:?} is not a known value")]
    Unknown(String),
    /// Malformed or inconsistent: the text says how (`holds a control character`).
    #[error("{0}")]
    Invalid(String),
}

/// Why [`Error::NoService`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoServiceReason {
    /// None listed is valid at the time with an API version the client speaks.
    #[error("no service is valid at {at} with a supported major API version ({supported:?})")]
    NoneValid {
        /// The time of the selection (RFC 3339).
        at: String,
        /// The major API versions the client speaks.
        supported: Vec<u32>,
    },
    /// Fewer usable services (one per operator) than the configuration asks for.
    #[error("{required} services required, {usable} usable (at most one per operator)")]
    TooFew {
        /// How many the selector asks for.
        required: usize,
        /// How many could be used.
        usable: usize,
    },
}

impl Error {
    /// Wraps a serde_json error with what was being parsed.
    pub fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Error {
        move |source| Error::Json { what, source }
    }
}
