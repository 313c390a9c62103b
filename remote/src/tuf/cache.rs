//! The trust-root cache: what the last successful refresh verified, read offline by `verify`.
//!
//! ```text
//! CACHE/current.json            which repository, when, role versions and expiry, target digests
//! CACHE/trusted_root.json       the verified trusted_root.json target
//! CACHE/signing_config.json     the verified signing config target, if there was one
//! CACHE/repositories/ID/        tough's datastore for one repository: its newest root.json,
//!                               last timestamp and snapshot (rollback checks); ID names the URL
//! ```
//!
//! Each file is replaced by rename, `current.json` last, and the targets are checked against the
//! digests it records: a refresh that stops half-way leaves the previous state, or an error,
//! never a mix.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hallmark_model::time::Timestamp;
use hallmark_verifier::sigstore::trust_root::MAX_TRUST_ROOT_BYTES;
use serde::{Deserialize, Serialize};

use super::{Error, Mirror, Refreshed, Versions};
use crate::oci::sha256_digest;

const CURRENT: &str = "current.json";
const TRUSTED_ROOT: &str = "trusted_root.json";
const SIGNING_CONFIG: &str = "signing_config.json";

/// The cache's record of the last successful refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    mirror: String,
    refreshed_at: Timestamp,
    versions: Versions,
    expires: Timestamp,
    expires_role: String,
    trusted_root_digest: String,
    #[serde(default)]
    signing_config_digest: Option<String>,
}

/// The trust material of the last successful refresh.
#[derive(Debug, Clone)]
pub struct Current {
    /// The repository's metadata URL.
    pub mirror: String,
    /// When the refresh ran (by the clock it was checked against).
    pub refreshed_at: SystemTime,
    /// The top-level roles' versions.
    pub versions: Versions,
    /// When the first of those roles expires: after this, `trust update` is due.
    pub expires: SystemTime,
    /// Which role expires first.
    pub expires_role: String,
    /// The trusted_root.json target.
    pub trusted_root: Vec<u8>,
    /// Its digest (`sha256:…`).
    pub trusted_root_digest: String,
    /// The signing config target, if there was one.
    pub signing_config: Option<Vec<u8>>,
}

/// The directory of one repository's TUF state.
pub fn repository_dir(cache: &Path, mirror: &Mirror) -> PathBuf {
    let digest = sha256_digest(mirror.metadata.as_str().as_bytes());
    let id = digest.trim_start_matches("sha256:");
    cache.join("repositories").join(&id[..16])
}

/// The default cache directory: `$HALLMARK_CACHE_DIR/tuf`, else `$XDG_CACHE_HOME/hallmark/tuf`,
/// else `~/.cache/hallmark/tuf`; `None` when none of these is set.
pub fn default_dir(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = nonempty("HALLMARK_CACHE_DIR") {
        return Some(dir.join("tuf"));
    }
    if let Some(dir) = nonempty("XDG_CACHE_HOME") {
        return Some(dir.join("hallmark").join("tuf"));
    }
    nonempty("HOME").map(|home| home.join(".cache").join("hallmark").join("tuf"))
}

/// Records a successful refresh as the cache's current trust root.
pub(super) fn record(
    cache: &Path,
    mirror: &Mirror,
    refreshed: &Refreshed,
    at: SystemTime,
) -> Result<(), Error> {
    let time = |t: SystemTime, what: &str| {
        Timestamp::new(t).map_err(|_| Error::Metadata(format!("{what} is out of range")))
    };
    let record = Record {
        mirror: mirror.name().to_owned(),
        refreshed_at: time(at, "the refresh time")?.whole_seconds(),
        versions: refreshed.versions,
        expires: time(refreshed.expires, "the expiry")?,
        expires_role: refreshed.expires_role.clone(),
        trusted_root_digest: sha256_digest(&refreshed.trusted_root),
        signing_config_digest: refreshed.signing_config.as_deref().map(sha256_digest),
    };
    write(cache, TRUSTED_ROOT, &refreshed.trusted_root)?;
    match &refreshed.signing_config {
        Some(bytes) => write(cache, SIGNING_CONFIG, bytes)?,
        None => remove(&cache.join(SIGNING_CONFIG))?,
    }
    let json = serde_json::to_vec_pretty(&record).map_err(|e| Error::CacheCorrupt {
        path: cache.join(CURRENT),
        message: e.to_string(),
    })?;
    write(cache, CURRENT, &json)
}

/// The last successful refresh, if there was one.
pub fn current(cache: &Path) -> Result<Option<Current>, Error> {
    let Some(json) = read_optional(&cache.join(CURRENT), 64 * 1024)? else {
        return Ok(None);
    };
    let corrupt = |path: &Path, message: String| Error::CacheCorrupt {
        path: path.to_owned(),
        message: format!("{message}; run `hallmark trust update` again"),
    };
    let record: Record =
        serde_json::from_slice(&json).map_err(|e| corrupt(&cache.join(CURRENT), e.to_string()))?;
    let checked = |name: &str, digest: &str| -> Result<Vec<u8>, Error> {
        let path = cache.join(name);
        let bytes = read_optional(&path, MAX_TRUST_ROOT_BYTES)?
            .ok_or_else(|| corrupt(&path, "missing".into()))?;
        if sha256_digest(&bytes) != digest {
            return Err(corrupt(&path, format!("its digest is not {digest}")));
        }
        Ok(bytes)
    };
    let trusted_root = checked(TRUSTED_ROOT, &record.trusted_root_digest)?;
    let signing_config = match &record.signing_config_digest {
        Some(digest) => Some(checked(SIGNING_CONFIG, digest)?),
        None => None,
    };
    Ok(Some(Current {
        mirror: record.mirror,
        refreshed_at: record.refreshed_at.time(),
        versions: record.versions,
        expires: record.expires.time(),
        expires_role: record.expires_role,
        trusted_root,
        trusted_root_digest: record.trusted_root_digest,
        signing_config,
    }))
}

/// Creates a directory and its parents.
pub(super) fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Cache {
        path: dir.to_owned(),
        source,
    })
}

/// Reads at most `limit` bytes of a file that may not exist.
pub(super) fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, Error> {
    let io = |source| Error::Cache {
        path: path.to_owned(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(Error::CacheCorrupt {
            path: path.to_owned(),
            message: format!("larger than {limit} bytes"),
        });
    }
    Ok(Some(bytes))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    create_dir(dir)?;
    let path = dir.join(name);
    let io = |source| Error::Cache {
        path: path.clone(),
        source,
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(&path).map_err(|e| io(e.error))?;
    Ok(())
}

fn remove(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Cache {
            path: path.to_owned(),
            source,
        }),
    }
}
