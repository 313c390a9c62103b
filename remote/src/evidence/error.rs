//! What can go wrong reading or writing an evidence bundle, each with a stable code
//! (docs/error-codes.md, "Evidence bundles").

use std::path::PathBuf;

/// The code of a bundle whose manifest is not signed by a trusted exporter (exit 1).
pub const SIGNATURE_CODE: &str = "evidence.signature";
/// The code of a bundle with an artifact the importer's trust and policy deny (exit 1).
pub const DENIED_CODE: &str = "evidence.denied";

/// An evidence bundle that cannot be written, read or imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The archive is not a tar Hallmark accepts: truncated, unreadable, or an entry of a kind or
    /// at a path an OCI image layout does not hold (links, devices, `..`, absolute paths).
    #[error("the bundle archive is malformed: {0}")]
    Archive(String),
    /// The same entry twice in the archive.
    #[error("the bundle archive holds {0} twice")]
    Duplicate(String),
    /// An entry, or the archive, is over its size limit.
    #[error("{what} is over its limit of {limit} bytes")]
    TooLarge {
        /// The entry or the archive.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A blob's content does not hash to the digest it is named by.
    #[error("blob {name} has digest {actual}: its content was changed")]
    BlobDigest {
        /// The digest in its name.
        name: String,
        /// The digest of its content.
        actual: String,
    },
    /// The bundle's signed manifest is missing, several, or unreadable.
    #[error("the bundle manifest: {0}")]
    Manifest(String),
    /// A blob the signed manifest lists is not in the bundle.
    #[error("blob {digest} ({role}) is listed in the signed manifest but missing from the bundle")]
    Missing {
        /// Its digest.
        digest: String,
        /// Its role.
        role: String,
    },
    /// A blob is in the bundle but not in the signed manifest.
    #[error("blob {0} is in the bundle but not in its signed manifest")]
    Unlisted(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The store or a registry failed.
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl Error {
    /// The stable code of this error (docs/error-codes.md).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Archive(_) | Error::Duplicate(_) | Error::TooLarge { .. } => "evidence.archive",
            Error::BlobDigest { .. } => "evidence.blob-digest",
            Error::Manifest(_) => "evidence.manifest",
            Error::Missing { .. } => "evidence.missing",
            Error::Unlisted(_) => "evidence.unlisted",
            Error::Io { .. } | Error::Store(_) => "evidence.io",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
