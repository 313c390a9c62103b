//! Why a trust-root refresh failed, in the terms of the TUF specification.

use std::path::PathBuf;

use hallmark_verifier::sigstore::trust_root::TrustRootError;
use tough::error::Error as Tough;

use super::Mirror;

/// Why a refresh failed. Nothing of a failed refresh becomes the current trust root.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The repository location cannot be used.
    #[error("TUF mirror {0}")]
    Mirror(String),
    /// The repository could not be reached, or a file of it could not be read.
    #[error("TUF repository {mirror} could not be read: {reason}")]
    Unavailable {
        /// The repository.
        mirror: String,
        /// What failed.
        reason: String,
    },
    /// A role's metadata is not signed by a threshold of the keys the trusted root names for it
    /// (a rotated-out key, a forged file).
    #[error("TUF {role} metadata is not signed as the trusted root requires: {reason}")]
    Signature {
        /// The role.
        role: String,
        /// tough's account.
        reason: String,
    },
    /// A role's version is older than the one already trusted (a rollback attack).
    #[error("TUF rollback refused: {0}")]
    Rollback(String),
    /// A role has expired: its metadata may be frozen by an attacker.
    #[error(
        "TUF {role} metadata expired at {expires} (a freeze attack, or a repository that is no longer maintained)"
    )]
    Expired {
        /// The role.
        role: String,
        /// When.
        expires: String,
    },
    /// A target's length or hashes differ from what the targets role lists.
    #[error("TUF target does not match its signed length and hashes: {0}")]
    TargetMismatch(String),
    /// The repository does not list the target.
    #[error("TUF repository lists no target {0:?}")]
    TargetMissing(String),
    /// Other invalid metadata.
    #[error("TUF metadata is invalid: {0}")]
    Metadata(String),
    /// The trusted root the repository signed cannot be read by Hallmark.
    #[error("the TUF target trusted_root.json is not a usable trusted root: {0}")]
    TrustedRoot(#[source] TrustRootError),
    /// The cache could not be read or written.
    #[error("TUF cache {path}: {source}")]
    Cache {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The cache holds something Hallmark did not write.
    #[error("TUF cache {path}: {message}")]
    CacheCorrupt {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The stable code of this error (docs/error-codes.md).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Mirror(_) => "tuf.mirror",
            Error::Unavailable { .. } => "tuf.unavailable",
            Error::Signature { .. } => "tuf.signature",
            Error::Rollback(_) => "tuf.rollback",
            Error::Expired { .. } => "tuf.expired",
            Error::TargetMismatch(_) => "tuf.target-mismatch",
            Error::TargetMissing(_) => "tuf.target-missing",
            Error::Metadata(_) => "tuf.metadata",
            Error::TrustedRoot(_) => "tuf.trusted-root",
            Error::Cache { .. } | Error::CacheCorrupt { .. } => "tuf.cache",
        }
    }

    /// Sorts tough's error into what it means for the user.
    pub(super) fn from_tough(error: Tough, mirror: &Mirror) -> Error {
        let reason = chain(&error);
        // A target's hash is checked while it streams, so a mismatch arrives inside a transport
        // error.
        if let Some(inner) = sources(&error).find(|e| {
            matches!(
                e,
                Tough::HashMismatch { .. } | Tough::MaxSizeExceeded { .. }
            )
        }) {
            return Error::TargetMismatch(chain(inner));
        }
        match &error {
            Tough::VerifyMetadata { role, .. } => Error::Signature {
                role: role.to_string(),
                reason,
            },
            Tough::VerifyRoleMetadata { role, .. } => Error::Signature {
                role: role.clone(),
                reason,
            },
            Tough::VerifyTrustedMetadata { .. } => Error::Signature {
                role: "root (the one trusted to start from)".into(),
                reason,
            },
            Tough::OlderMetadata { .. }
            | Tough::OlderSnapshotInTimestamp { .. }
            | Tough::SnapshotRoleRollback { .. } => Error::Rollback(reason),
            Tough::ExpiredMetadata { role, .. } => Error::Expired {
                role: role.to_string(),
                expires: "an earlier time".into(),
            },
            Tough::Transport { .. } => Error::Unavailable {
                mirror: mirror.name().to_owned(),
                reason,
            },
            Tough::DatastoreCreate { path, source, .. }
            | Tough::DatastoreOpen { path, source, .. }
            | Tough::DatastoreRemove { path, source, .. } => Error::Cache {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            _ => Error::Metadata(reason),
        }
    }
}

/// tough errors among `error`'s sources (itself included).
fn sources(error: &Tough) -> impl Iterator<Item = &Tough> {
    std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .filter_map(|e| e.downcast_ref::<Tough>())
}

/// An error and its sources, as one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_the_registry_of_codes() {
        let io = || std::io::Error::other("x");
        let errors = [
            Error::Mirror(String::new()),
            Error::Unavailable {
                mirror: String::new(),
                reason: String::new(),
            },
            Error::Signature {
                role: String::new(),
                reason: String::new(),
            },
            Error::Rollback(String::new()),
            Error::Expired {
                role: String::new(),
                expires: String::new(),
            },
            Error::TargetMismatch(String::new()),
            Error::TargetMissing(String::new()),
            Error::Metadata(String::new()),
            Error::TrustedRoot(TrustRootError(String::new())),
            Error::Cache {
                path: PathBuf::new(),
                source: io(),
            },
        ];
        for e in &errors {
            assert!(
                hallmark_verifier::ALL_CODES.contains(&e.code()),
                "{} is not in ALL_CODES",
                e.code()
            );
        }
        let listed = hallmark_verifier::ALL_CODES
            .iter()
            .filter(|c| c.split('.').next() == Some("tuf"))
            .count();
        assert_eq!(listed, errors.len());
    }
}
