use std::path::PathBuf;

/// What can go wrong while attesting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A directory walk failed.
    #[error("walking {path}: {message}")]
    Walk {
        /// The root being walked.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An exclude glob is invalid.
    #[error("invalid exclude pattern {pattern:?}: {message}")]
    Glob {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A symbolic link points outside the working directory.
    #[error("symlink {link} points outside {root} ({target}); exclude it or copy the file in")]
    SymlinkOutsideRoot {
        /// The link.
        link: PathBuf,
        /// Where it points.
        target: PathBuf,
        /// The root it must stay within.
        root: PathBuf,
    },
    /// A material or product path leads outside the working directory through a symlinked
    /// directory on the way (`out -> /etc`, then `-p out/hostname`).
    #[error(
        "{path} resolves to {resolved}, outside {root}; materials and products must really be inside it"
    )]
    ResolvesOutsideRoot {
        /// The path as given.
        path: PathBuf,
        /// Where it really leads.
        resolved: PathBuf,
        /// The root it must stay within.
        root: PathBuf,
    },
    /// A symlink found inside a hashed directory points at a directory.
    #[error(
        "{link} is a symlink to the directory {target}; hashing through it would hide that \
         directory's files from the record"
    )]
    SymlinkToDirectory {
        /// The link.
        link: PathBuf,
        /// The directory it points at.
        target: PathBuf,
    },
    /// A file's name is not UTF-8; names are recorded as text and two such names must never
    /// collapse into one.
    #[error("{0:?}: the name is not valid UTF-8, and names are recorded as text")]
    NonUtf8Name(PathBuf),
    /// A file listed for hashing became a symlink before it was opened.
    #[error("{0} was replaced by a symlink while being hashed; refusing to follow it")]
    BecameSymlink(PathBuf),
    /// A committed `.gitignore` (`--gitignore`) holds a pattern that cannot be used.
    #[error("{file}: {message}")]
    IgnoreFile {
        /// `<commit>:<path>` of the file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A material or product path lies outside the working directory.
    #[error("{0} is outside the working directory; materials and products must be inside it")]
    OutsideWorkingDirectory(PathBuf),
    /// A material or product path does not exist.
    #[error("{0} does not exist")]
    Missing(PathBuf),
    /// Key material could not be read.
    #[error("key: {0}")]
    Key(String),
    /// The password for an encrypted key is wrong (or the key is corrupt).
    #[error("could not decrypt the private key: wrong password or corrupted key")]
    WrongPassword,
    /// A key in a PKCS#11 token could not be used.
    #[error(transparent)]
    Pkcs11(#[from] crate::keys::pkcs11::Pkcs11Error),
    /// A cryptographic operation failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// `git` could not describe the source.
    #[error("git: {0}")]
    Git(String),
    /// The working tree has uncommitted changes and a clean tree was required.
    #[error("the working tree at {0} has uncommitted changes, and a clean tree is required")]
    DirtyTree(PathBuf),
    /// A clean working tree was required outside a git checkout.
    #[error("{0} is not in a git checkout, so its working tree cannot be shown clean")]
    CleanTreeOutsideCheckout(PathBuf),
    /// Ignore rules committed at HEAD were asked for where there are none to read.
    #[error("{path}: no committed ignore rules to read: {reason}")]
    NoCommittedIgnoreRules {
        /// The directory.
        path: PathBuf,
        /// Why (`not in a git checkout`, `the repository has no commit`).
        reason: &'static str,
    },
    /// A PKCS#8-encrypted private key (`ENCRYPTED PRIVATE KEY`), a format not read.
    #[error("the key is a PKCS#8-encrypted private key (ENCRYPTED PRIVATE KEY), which is not read")]
    EncryptedPkcs8Key,
    /// Whole-job provenance where the checkout is not what the CI platform ran for.
    #[error(
        "the checkout here (commit {commit}, {remote}) is not what the CI platform ran for \
         ({claimed_url} {claimed_ref} at {claimed_commit}); whole-job provenance would name code \
         that was not built"
    )]
    CheckoutNotClaimed {
        /// The commit checked out.
        commit: String,
        /// Its remote URL, or `no remote`.
        remote: String,
        /// The repository the platform names.
        claimed_url: String,
        /// The ref it names.
        claimed_ref: String,
        /// The commit it names.
        claimed_commit: String,
    },
    /// The build command could not be started.
    #[error("could not run {command:?}: {source}")]
    Spawn {
        /// The program.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The step has nothing to attest: no products, and no materials to vouch for.
    #[error(
        "step {0:?} has no products and no materials: nothing to attest (name what it reads with -m, what it writes with -p)"
    )]
    NoProducts(String),
    /// A subject argument could not be understood.
    #[error("subject {0:?} is neither an existing file nor NAME@sha256:HEX")]
    Subject(String),
    /// Provenance needs CI facts that are missing.
    #[error("{0}")]
    Context(String),
    /// The model rejected what we built.
    #[error(transparent)]
    Model(#[from] hallmark_model::Error),
}

impl Error {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
