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
    /// The statement has an empty predicateType.
    #[error("statement has no predicateType")]
    NoPredicateType,
    /// The statement has no predicate.
    #[error("statement has no predicate")]
    NoPredicate,
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
}

impl Error {
    /// Wraps a serde_json error with what was being parsed.
    pub fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Error {
        move |source| Error::Json { what, source }
    }
}
