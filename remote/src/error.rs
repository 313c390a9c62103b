use std::path::PathBuf;

/// What can go wrong with a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file in the store could not be read or written.
    #[error("store {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A store file is not what the OCI image layout says it should be.
    #[error("store {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A blob's content does not match its digest.
    #[error("store blob {expected} has digest {actual}: the store was modified")]
    DigestMismatch {
        /// The digest it is stored under.
        expected: String,
        /// The digest of its content.
        actual: String,
    },
    /// A directory exists but is not an OCI image layout.
    #[error(
        "{0} exists but is not an OCI image layout (no oci-layout file); refusing to write into it"
    )]
    NotALayout(PathBuf),
    /// An `oci://` reference that cannot be used.
    #[error("{reference:?} {message}")]
    Reference {
        /// The reference as written.
        reference: String,
        /// What is wrong.
        message: String,
    },
    /// A registry request failed.
    #[error("registry {registry}: {message}")]
    Registry {
        /// The registry host.
        registry: String,
        /// What happened.
        message: String,
    },
    /// A registry reached over TLS answered in plain HTTP: it serves HTTP only. Hallmark
    /// reaches such a registry only when told to (insecure hosts of
    /// [`crate::registry::client::ClientOptions`]).
    #[error("the registry at {registry} answered in plain HTTP, not TLS")]
    PlainHttp {
        /// The registry host (`host:port`).
        registry: String,
    },
    /// A layout holds several images and none was named.
    #[error("store {path} holds several images ({names}) and none was named")]
    SeveralImages {
        /// The layout's index.
        path: PathBuf,
        /// Their names, comma-separated.
        names: String,
    },
    /// A platform was asked of a reference that names a single-platform manifest.
    #[error(
        "{reference} is a single-platform manifest ({digest}), not an image index with platforms to choose from"
    )]
    NotAnIndex {
        /// The reference.
        reference: String,
        /// The manifest's digest.
        digest: String,
    },
    /// A SigningConfig selects other than one transparency log, or several timestamp
    /// authorities: the keyless signer writes one entry and asks one authority.
    #[error(
        "the signing config selects {selected} services from {kind}; keyless signing uses exactly one log and at most one timestamp authority"
    )]
    ServiceSelection {
        /// The list (`rekorTlogUrls`, `tsaUrls`).
        kind: &'static str,
        /// How many it selects.
        selected: usize,
    },
    /// Input too large or malformed.
    #[error(transparent)]
    Model(#[from] hallmark_model::Error),
}

impl Error {
    pub(crate) fn budget(e: hallmark_model::budget::Exhausted) -> Error {
        Error::Model(e.into())
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
