//! Fresh Sigstore trust roots through TUF.
//!
//! A TUF client (tough) walks a repository's root rotations from a trusted root (the embedded
//! public-good root by default), checks the timestamp, snapshot and targets roles, and downloads
//! `trusted_root.json` (and the signing config) as verified targets. What it gets is kept in a
//! cache that `hallmark verify` reads offline ([`cache`]).
//!
//! Expiry is checked here, against the caller's clock, and not by tough, which reads the system
//! clock: every other check (signatures and thresholds, rollback of every role, root rotation,
//! target lengths and hashes) is tough's. One clock for the whole of Hallmark lets a test, or an
//! auditor replaying a past refresh, fix it (docs/decisions/0023-tuf-trust-roots.md).

pub mod cache;
mod error;
mod transport;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hallmark_verifier::sigstore::trust_root::TrustRoot;
use tough::schema::RoleType;
use tough::{ExpirationEnforcement, IntoVec, Limits, RepositoryLoader, TargetName};
use url::Url;

pub use error::Error;
pub use transport::{MAX_FETCH_BYTES, MirrorTransport};

/// The public-good Sigstore TUF repository (metadata at its root, targets under `targets/`).
pub const PUBLIC_GOOD: &str = "https://tuf-repo-cdn.sigstore.dev/";

/// The target holding the Sigstore trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

/// The target holding the Sigstore signing config (services for keyless signing), when the
/// repository publishes one.
pub const SIGNING_CONFIG_TARGET: &str = "signing_config.v0.2.json";

/// Largest root.json accepted (tough's own default is 1 MiB; Sigstore's are ~6 KiB).
const MAX_ROOT_BYTES: u64 = 512 * 1024;

/// Where a TUF repository is: its metadata and targets base URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// Metadata base URL (ends with `/`).
    pub metadata: Url,
    /// Targets base URL (ends with `/`).
    pub targets: Url,
}

impl Mirror {
    /// A repository at `location`: an `http(s)://` or `file://` URL, or a directory. Targets are
    /// under `targets/` of the metadata URL, as tuf-on-ci publishes them; a directory holding
    /// `metadata/` and `targets/` (a repository as its build writes it) is read that way.
    pub fn parse(location: &str) -> Result<Mirror, Error> {
        let bad = |why: String| Error::Mirror(format!("{location:?}: {why}"));
        let metadata = if location.contains("://") {
            let url = Url::parse(location).map_err(|e| bad(e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https" | "file") {
                return Err(bad("only http, https and file URLs are supported".into()));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(bad("credentials in a mirror URL are not supported".into()));
            }
            url
        } else {
            let dir = std::fs::canonicalize(location).map_err(|e| bad(e.to_string()))?;
            if !dir.is_dir() {
                return Err(bad("not a directory".into()));
            }
            if dir.join("metadata").is_dir() && dir.join("targets").is_dir() {
                let metadata = dir_url(&dir.join("metadata")).ok_or_else(|| bad("path".into()))?;
                let targets = dir_url(&dir.join("targets")).ok_or_else(|| bad("path".into()))?;
                return Ok(Mirror { metadata, targets });
            }
            dir_url(&dir).ok_or_else(|| bad("not an absolute path".into()))?
        };
        let metadata = with_slash(metadata);
        let targets = metadata.join("targets/").map_err(|e| bad(e.to_string()))?;
        Ok(Mirror { metadata, targets })
    }

    /// The public-good Sigstore repository.
    pub fn public_good() -> Mirror {
        // A constant that parses: checked by a unit test.
        Mirror::parse(PUBLIC_GOOD).unwrap_or_else(|_| unreachable!("PUBLIC_GOOD parses"))
    }

    /// The metadata URL, for messages and the cache's record (never holds credentials).
    pub fn name(&self) -> &str {
        self.metadata.as_str()
    }
}

fn dir_url(dir: &Path) -> Option<Url> {
    Url::from_directory_path(dir).ok()
}

fn with_slash(url: Url) -> Url {
    if url.path().ends_with('/') {
        return url;
    }
    let mut url = url;
    let path = format!("{}/", url.path());
    url.set_path(&path);
    url
}

/// One refresh: from which repository, starting from which trusted TUF root, at which time.
#[derive(Debug)]
pub struct Refresh<'a> {
    /// The repository.
    pub mirror: &'a Mirror,
    /// The TUF root to start from when the cache holds none newer (the embedded public-good root,
    /// or the root.json of a private repository).
    pub initial_root: &'a [u8],
    /// The user named `initial_root`: start from it even when the cache holds a newer root (which
    /// may belong to another repository that answered at this URL before).
    pub explicit_root: bool,
    /// The cache directory (see [`cache`]).
    pub cache: &'a Path,
    /// The time every role's expiry is checked against.
    pub at: SystemTime,
    /// The HTTP agent for `http(s)://` mirrors.
    pub agent: ureq::Agent,
}

/// What a successful refresh verified.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The version of each top-level role.
    pub versions: Versions,
    /// When the first of those roles expires.
    pub expires: SystemTime,
    /// Which role that is.
    pub expires_role: String,
    /// The `trusted_root.json` target.
    pub trusted_root: Vec<u8>,
    /// The signing config target, if the repository has one.
    pub signing_config: Option<Vec<u8>>,
}

/// The versions of the top-level roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Versions {
    /// root.json
    pub root: u64,
    /// timestamp.json
    pub timestamp: u64,
    /// snapshot.json
    pub snapshot: u64,
    /// targets.json
    pub targets: u64,
}

impl Refresh<'_> {
    /// The per-repository directory where tough keeps what it trusts (the newest root, the last
    /// timestamp and snapshot for rollback checks).
    fn datastore(&self) -> PathBuf {
        cache::repository_dir(self.cache, self.mirror)
    }

    /// The root to start from: the one named, else the one this repository's last refresh
    /// reached (a walk never starts over from an older root of the same repository, and the
    /// default root of one repository is never compared with another's), else the default.
    fn start_root(&self, datastore: &Path) -> Result<Vec<u8>, Error> {
        if self.explicit_root {
            return Ok(self.initial_root.to_vec());
        }
        let cached = read_optional_root(&datastore.join("root.json"))?;
        Ok(cached.unwrap_or_else(|| self.initial_root.to_vec()))
    }
}

fn read_optional_root(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    cache::read_optional(path, MAX_ROOT_BYTES)
}

/// A root.json's `signed.version`, if it has one.
pub fn root_version(bytes: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.get("signed")?.get("version")?.as_u64()
}

/// Refreshes the trusted root from a TUF repository and records it as the cache's current one.
pub fn refresh(refresh: &Refresh<'_>) -> Result<Refreshed, Error> {
    let datastore = refresh.datastore();
    cache::create_dir(&datastore)?;
    let root = refresh.start_root(&datastore)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| Error::Cache {
            path: datastore.clone(),
            source: e,
        })?;
    let refreshed = runtime.block_on(load(refresh, &root, &datastore))?;
    cache::record(refresh.cache, refresh.mirror, &refreshed, refresh.at)?;
    Ok(refreshed)
}

async fn load(refresh: &Refresh<'_>, root: &[u8], datastore: &Path) -> Result<Refreshed, Error> {
    let limits = Limits {
        max_root_size: MAX_ROOT_BYTES,
        max_targets_size: MAX_FETCH_BYTES,
        max_timestamp_size: 64 * 1024,
        max_snapshot_size: MAX_FETCH_BYTES,
        max_root_updates: 1024,
    };
    let repo = RepositoryLoader::new(
        &root,
        refresh.mirror.metadata.clone(),
        refresh.mirror.targets.clone(),
    )
    .transport(MirrorTransport::new(refresh.agent.clone()))
    .limits(limits)
    .datastore(datastore)
    // Expiry is checked below against `refresh.at` (see the module comment).
    .expiration_enforcement(ExpirationEnforcement::Unsafe)
    .load()
    .await
    .map_err(|e| Error::from_tough(e, refresh.mirror))?;

    // TUF 5.3.10 (the final root), 5.4.4 (timestamp), 5.5.6 (snapshot), 5.6.6 (targets).
    let roles = [
        (RoleType::Root, repo.root().signed.expires),
        (RoleType::Timestamp, repo.timestamp().signed.expires),
        (RoleType::Snapshot, repo.snapshot().signed.expires),
        (RoleType::Targets, repo.targets().signed.expires),
    ];
    for (role, expires) in roles {
        // "MUST be higher than the fixed update start time": expired at the instant itself.
        if refresh.at >= SystemTime::from(expires) {
            return Err(Error::Expired {
                role: role.to_string(),
                expires: expires.to_string(),
            });
        }
    }
    let (expires_role, expires) = roles
        .iter()
        .min_by_key(|(_, t)| *t)
        .map(|(r, t)| (r.to_string(), SystemTime::from(*t)))
        .unwrap_or_else(|| unreachable!("four roles"));

    let trusted_root = read_target(&repo, TRUSTED_ROOT_TARGET, refresh.mirror)
        .await?
        .ok_or_else(|| Error::TargetMissing(TRUSTED_ROOT_TARGET.into()))?;
    TrustRoot::from_json(&trusted_root).map_err(Error::TrustedRoot)?;
    let signing_config = read_target(&repo, SIGNING_CONFIG_TARGET, refresh.mirror).await?;
    Ok(Refreshed {
        versions: Versions {
            root: repo.root().signed.version.get(),
            timestamp: repo.timestamp().signed.version.get(),
            snapshot: repo.snapshot().signed.version.get(),
            targets: repo.targets().signed.version.get(),
        },
        expires,
        expires_role,
        trusted_root,
        signing_config,
    })
}

/// A target of the top-level targets role. Delegated roles are not consulted: Sigstore's
/// trust material is listed there, and a delegation's own expiry would need checking too.
async fn read_target(
    repo: &tough::Repository,
    name: &str,
    mirror: &Mirror,
) -> Result<Option<Vec<u8>>, Error> {
    let target = TargetName::new(name).map_err(|e| Error::Metadata(e.to_string()))?;
    if !repo.targets().signed.targets.contains_key(&target) {
        return Ok(None);
    }
    let Some(stream) = repo
        .read_target(&target)
        .await
        .map_err(|e| Error::from_tough(e, mirror))?
    else {
        return Ok(None);
    };
    let bytes = stream
        .into_vec()
        .await
        .map_err(|e| Error::from_tough(e, mirror))?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_good_mirror_parses() {
        let m = Mirror::public_good();
        assert_eq!(m.metadata.as_str(), PUBLIC_GOOD);
        assert_eq!(
            m.targets.as_str(),
            "https://tuf-repo-cdn.sigstore.dev/targets/"
        );
    }

    #[test]
    fn mirrors_without_a_trailing_slash_and_with_credentials() {
        let m = Mirror::parse("http://127.0.0.1:9/repo").unwrap();
        assert_eq!(m.metadata.as_str(), "http://127.0.0.1:9/repo/");
        assert_eq!(m.targets.as_str(), "http://127.0.0.1:9/repo/targets/");
        assert!(Mirror::parse("https://u:p@example.com/").is_err());
        assert!(Mirror::parse("ftp://example.com/").is_err());
        assert!(Mirror::parse("/nonexistent/hallmark/mirror").is_err());
    }
}
