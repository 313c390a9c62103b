//! Which Sigstore trust roots a command trusts, in order of precedence:
//!
//! 1. `--trusted-root FILE`, repeatable: each file one trusted_root.json, a ClientTrustConfig, or
//!    JSON lines of roots (`gh attestation trusted-root`); a bundle verifies if one root does;
//! 2. the last `hallmark trust update` (the TUF cache);
//! 3. the public-good snapshot embedded in this binary.

use std::path::{Path, PathBuf};

use anyhow::Result;
use hallmark_remote::tuf::cache::{self, Current};
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::trust_root::{MAX_TRUST_ROOT_BYTES, TrustRoots};

use crate::coded::coded;
use crate::signing::read_limited;

/// Where the trust roots in use came from.
#[derive(Debug)]
pub enum Origin {
    /// `--trusted-root` files.
    Files,
    /// The TUF cache.
    Cache(Box<Current>),
    /// The embedded snapshot.
    Embedded,
}

/// The trust roots a command uses, and where they came from.
#[derive(Debug)]
pub struct Resolved {
    /// The roots.
    pub roots: TrustRoots,
    /// Their origin.
    pub origin: Origin,
}

/// The TUF cache directory (`$HALLMARK_CACHE_DIR/tuf`, `$XDG_CACHE_HOME/hallmark/tuf`,
/// `~/.cache/hallmark/tuf`).
pub fn cache_dir() -> Option<PathBuf> {
    cache::default_dir(|name| std::env::var(name).ok())
}

/// Reads `--trusted-root` files; `None` when none was given. A root that cannot be used is an
/// error with its code (trust.root), never skipped.
pub fn from_files(paths: &[PathBuf]) -> Result<Option<TrustRoots>> {
    let mut all: Option<TrustRoots> = None;
    for path in paths {
        let roots = TrustRoots::from_json(&read_limited(path, MAX_TRUST_ROOT_BYTES)?)
            .map_err(|e| coded(e.code(), format!("reading {}: {e}", path.display())))?;
        match &mut all {
            Some(all) => all.extend(roots),
            None => all = Some(roots),
        }
    }
    Ok(all)
}

/// The trust roots to use: the files, else the TUF cache, else the embedded snapshot. A cache
/// that exists but cannot be used is an error (`tuf.cache`), never passed over: it may hold a
/// private instance's root, and falling back to public-good would widen the trust.
/// A cache past its TUF expiry is still used (verification is offline; the roots it holds are
/// no older than when they were fetched); `hallmark trust show` tells when it is due.
pub fn resolve(paths: &[PathBuf]) -> Result<Resolved> {
    if let Some(roots) = from_files(paths)? {
        return Ok(Resolved {
            roots,
            origin: Origin::Files,
        });
    }
    if let Some(dir) = cache_dir()
        && let Some(resolved) = cached(&dir)?
    {
        return Ok(resolved);
    }
    let root = embedded::production().map_err(|e| coded(e.code(), format!("embedded: {e}")))?;
    Ok(Resolved {
        roots: root.into(),
        origin: Origin::Embedded,
    })
}

fn cached(dir: &Path) -> Result<Option<Resolved>> {
    let Some(current) = cache::current(dir).map_err(|e| coded(e.code(), e.to_string()))? else {
        return Ok(None);
    };
    let roots = TrustRoots::from_json(&current.trusted_root)
        .map_err(|e| coded(e.code(), format!("{}: {e}", dir.display())))?;
    Ok(Some(Resolved {
        roots,
        origin: Origin::Cache(Box::new(current)),
    }))
}
