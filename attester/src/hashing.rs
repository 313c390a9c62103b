//! Hashing of files and directory trees: parallel (rayon) walk and hashing, bounded memory (one
//! fixed buffer per worker, a compact record per file), deterministic order, `/`-separated
//! relative names, and nothing read outside the root.
//!
//! What is hashed is decided only by the caller's options, never by files in the tree: no
//! directory is skipped by name (only the exact paths in [`HashOptions::skip`]), and ignore rules
//! come from the repository's commit ([`IgnoreRules`]), not from `.gitignore` files on disk. Every
//! directory on the way to a named path is resolved, so a symlinked directory cannot lead out of
//! the root; names are those of where files really are, and must be UTF-8.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{Context, SHA256, SHA384, SHA512};
use hallmark_model::digest::{Digest, DigestAlgorithm, DigestSet};
use hallmark_model::resource::ResourceDescriptor;
use ignore::overrides::{Override, OverrideBuilder};
use rayon::prelude::*;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::repository::IgnoreRules;
use crate::{Error, Result};

/// Directory levels below a walk's start whose subdirectories are walked in parallel.
const PARALLEL_DEPTH: usize = 16;

/// Read buffer per worker thread.
const BUFFER_BYTES: usize = 128 * 1024;

/// How to hash.
#[derive(Debug, Clone)]
pub struct HashOptions {
    /// Glob patterns (gitignore syntax) of paths to leave out.
    pub excludes: Vec<String>,
    /// Also leave out what these committed ignore rules ignore (`--gitignore`).
    pub ignores: Option<Arc<IgnoreRules>>,
    /// Exact canonical paths never hashed, with all they contain: the repository's own `.git`
    /// and the store (see [`crate::repository::never_hashed`]). Paths found below a named
    /// directory are compared as they are; nothing is left out by its name alone.
    pub skip: Vec<PathBuf>,
    /// Digests to compute; SHA-256 always.
    pub algorithms: Vec<DigestAlgorithm>,
    /// Told how far hashing has come (the command line draws a bar from it).
    pub progress: Arc<dyn Progress>,
}

impl Default for HashOptions {
    fn default() -> Self {
        HashOptions {
            excludes: Vec::new(),
            ignores: None,
            skip: Vec::new(),
            algorithms: vec![DigestAlgorithm::Sha256],
            progress: Arc::new(NoProgress),
        }
    }
}

/// Hears how far one hashing run has come: `start` with the number of files, `advance` as files
/// are done (from the worker threads), `finish` when the run ends, with or without an error. One
/// [`HashOptions`] may be used for several runs (a step's materials, then its products). Every
/// method does nothing by default.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// A run of `total` files begins.
    fn start(&self, total: u64) {
        let _ = total;
    }
    /// `n` more files are hashed.
    fn advance(&self, n: u64) {
        let _ = n;
    }
    /// The run is over.
    fn finish(&self) {}
}

/// Progress heard by nobody: the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// The digests of one file: SHA-256 always, as raw bytes (no allocation per file), and any other
/// algorithm asked for. Serializes as an in-toto DigestSet (keys sorted, lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigests {
    sha256: [u8; 32],
    /// Other algorithms, sorted by name; empty (no allocation) unless asked for.
    others: Vec<Digest>,
}

impl FileDigests {
    /// The SHA-256 digest.
    pub fn sha256(&self) -> Digest {
        Digest::from_bytes(DigestAlgorithm::Sha256, &self.sha256)
    }

    /// The SHA-256 digest's bytes.
    pub fn sha256_bytes(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The digest of `algorithm`, when computed.
    pub fn get(&self, algorithm: DigestAlgorithm) -> Option<Digest> {
        match algorithm {
            DigestAlgorithm::Sha256 => Some(self.sha256()),
            other => self.others.iter().find(|d| d.algorithm() == other).cloned(),
        }
    }

    /// As an in-toto DigestSet.
    pub fn to_set(&self) -> DigestSet {
        let mut set = DigestSet::new();
        set.insert(
            "sha256".to_owned(),
            hallmark_model::hex::encode(&self.sha256),
        );
        for d in &self.others {
            set.insert(d.algorithm().name().to_owned(), d.hex().to_owned());
        }
        set
    }

    fn covers(&self, algorithms: &[DigestAlgorithm]) -> bool {
        algorithms.iter().all(|a| {
            *a == DigestAlgorithm::Sha256 || self.others.iter().any(|d| d.algorithm() == *a)
        })
    }
}

/// Lowercase hex of a SHA-256 digest, without allocating.
struct Hex32<'a>(&'a [u8; 32]);

impl Serialize for Hex32<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
        }
        // Only ASCII digits were written.
        serializer.serialize_str(std::str::from_utf8(&out).unwrap_or_default())
    }
}

impl Serialize for FileDigests {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        // The order of a DigestSet (a BTreeMap): "sha256" < "sha384" < "sha512".
        let mut map = serializer.serialize_map(Some(1 + self.others.len()))?;
        map.serialize_entry("sha256", &Hex32(&self.sha256))?;
        for d in &self.others {
            map.serialize_entry(d.algorithm().name(), d.hex())?;
        }
        map.end()
    }
}

/// One hashed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFile {
    /// Path relative to the root, `/`-separated.
    pub name: String,
    /// Its digests.
    pub digest: FileDigests,
    /// Its size in bytes.
    pub size: u64,
}

impl HashedFile {
    /// As an in-toto ResourceDescriptor.
    pub fn to_descriptor(&self) -> ResourceDescriptor {
        ResourceDescriptor::named(self.name.clone(), self.digest.to_set())
    }
}

/// SHA-256 of bytes already in memory.
pub fn sha256(bytes: &[u8]) -> Digest {
    Digest::from_bytes(
        DigestAlgorithm::Sha256,
        aws_lc_rs::digest::digest(&SHA256, bytes).as_ref(),
    )
}

/// Hashes one file with SHA-256.
pub fn hash_file(path: &Path) -> Result<Digest> {
    let mut file = File::open(path).map_err(Error::io(path))?;
    let (digests, _) = hash_open(
        &mut file,
        path,
        &[DigestAlgorithm::Sha256],
        &mut vec![0u8; BUFFER_BYTES],
    )?;
    Ok(digests.sha256())
}

/// Hashes one file with each of `algorithms` in one read.
pub fn hash_file_with(path: &Path, algorithms: &[DigestAlgorithm]) -> Result<Vec<Digest>> {
    let mut file = File::open(path).map_err(Error::io(path))?;
    let (digests, _) = hash_open(&mut file, path, algorithms, &mut vec![0u8; BUFFER_BYTES])?;
    Ok(algorithms.iter().filter_map(|a| digests.get(*a)).collect())
}

/// Digests of files hashed earlier in this process, reused when a file is hashed again (a step's
/// products that were also its materials) only while it provably has not changed: the same
/// device, inode, size, mtime and ctime, with both timestamps older than the cache's creation
/// minus [`RACY_MARGIN`]. The margin is git's "racy clean" rule: file timestamps are coarse, so a
/// file written just before or during the step is always hashed again. Userspace cannot set ctime,
/// so a command that rewrites a file and restores its mtime still changes its stamp.
#[derive(Debug)]
pub struct HashCache {
    settled_before: std::time::SystemTime,
    /// Keyed by the file's path as bytes (hashing a `Path` goes component by component).
    entries: Mutex<HashMap<OsString, (FileStamp, FileDigests)>>,
}

/// How long before the cache's creation a file must have last changed to be reusable.
pub const RACY_MARGIN: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    fn settled(&self, before: std::time::SystemTime) -> bool {
        let limit = before
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.mtime.0 < limit && self.ctime.0 < limit
    }
}

impl HashCache {
    /// An empty cache; files changed after `now - RACY_MARGIN` are never reused.
    pub fn new(now: std::time::SystemTime) -> Self {
        HashCache {
            settled_before: now
                .checked_sub(RACY_MARGIN)
                .unwrap_or(std::time::UNIX_EPOCH),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OsString, (FileStamp, FileDigests)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn knows(&self, path: &Path) -> bool {
        self.lock().contains_key(path.as_os_str())
    }

    /// The cached digests of `path` if `now` (its stamp, taken by the walk without following a
    /// symlink) is the stamp it was hashed with, settled, and they cover `algorithms`.
    fn reuse(
        &self,
        path: &Path,
        now: FileStamp,
        algorithms: &[DigestAlgorithm],
    ) -> Option<(FileDigests, u64)> {
        let entries = self.lock();
        let (stamp, digests) = entries.get(path.as_os_str())?;
        (now == *stamp && now.settled(self.settled_before) && digests.covers(algorithms))
            .then(|| (digests.clone(), stamp.size))
    }

    fn hash(
        &self,
        listed: &Listed,
        algorithms: &[DigestAlgorithm],
        buffer: &mut [u8],
    ) -> Result<(FileDigests, u64)> {
        let path = listed.path.as_path();
        // The walk stat'ed the files the cache knows (relative to their directory, without
        // following a symlink); files it has never seen (the first pass) go straight to reading.
        if let Some(hit) = listed
            .stamp
            .and_then(|now| self.reuse(path, now, algorithms))
        {
            return Ok(hit);
        }
        let mut file = open_listed(path)?;
        let before = FileStamp::of(&file.metadata().map_err(Error::io(path))?);
        let (digest, size) = hash_open(&mut file, path, algorithms, buffer)?;
        let after = FileStamp::of(&file.metadata().map_err(Error::io(path))?);
        if after == before && after.settled(self.settled_before) {
            self.lock()
                .insert(path.as_os_str().to_owned(), (after, digest.clone()));
        }
        Ok((digest, size))
    }
}

fn hash_one(
    path: &Path,
    algorithms: &[DigestAlgorithm],
    buffer: &mut [u8],
) -> Result<(FileDigests, u64)> {
    let mut file = open_listed(path)?;
    hash_open(&mut file, path, algorithms, buffer)
}

/// Opens a file the listing found to be a regular file inside the root, without following a
/// symlink that replaced it since (O_NOFOLLOW: the same one `open`, no extra call). A directory
/// above it swapped for a symlink in that window is not caught here; see docs/threat-model.md.
fn open_listed(path: &Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => Error::BecameSymlink(path.to_path_buf()),
            _ => Error::io(path)(e),
        })
}

fn hash_open(
    file: &mut File,
    path: &Path,
    algorithms: &[DigestAlgorithm],
    buffer: &mut [u8],
) -> Result<(FileDigests, u64)> {
    let mut sha256 = Context::new(&SHA256);
    let mut others: Vec<(DigestAlgorithm, Context)> = algorithms
        .iter()
        .filter_map(|&a| match a {
            DigestAlgorithm::Sha256 => None,
            DigestAlgorithm::Sha512 => Some((a, Context::new(&SHA512))),
            DigestAlgorithm::Sha384 => Some((a, Context::new(&SHA384))),
        })
        .collect();
    others.sort_by_key(|(a, _)| a.name());
    others.dedup_by_key(|(a, _)| *a);
    let mut size = 0u64;
    loop {
        let n = match file.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path)(e)),
        };
        size += n as u64;
        sha256.update(&buffer[..n]);
        for (_, ctx) in &mut others {
            ctx.update(&buffer[..n]);
        }
    }
    let mut digest = [0u8; 32];
    digest.copy_from_slice(sha256.finish().as_ref());
    let others = others
        .into_iter()
        .map(|(a, ctx)| Digest::from_bytes(a, ctx.finish().as_ref()))
        .collect();
    Ok((
        FileDigests {
            sha256: digest,
            others,
        },
        size,
    ))
}

/// A file found by the listing: its name, what to read (the file, or a symlink's target), and,
/// when a cache knows the file, its stamp taken by the walk.
#[derive(Debug)]
struct Listed {
    name: String,
    path: PathBuf,
    stamp: Option<FileStamp>,
}

/// Hashes every file under `paths` (files or directories, relative to `root` or absolute inside
/// it). Names are relative to `root`. The result is sorted by name and free of duplicates.
pub fn hash_paths(
    root: &Path,
    paths: &[PathBuf],
    options: &HashOptions,
) -> Result<Vec<HashedFile>> {
    hash_paths_cached(root, paths, options, None)
}

/// [`hash_paths`], reusing digests from `cache` for files that provably did not change.
pub fn hash_paths_cached(
    root: &Path,
    paths: &[PathBuf],
    options: &HashOptions,
    cache: Option<&HashCache>,
) -> Result<Vec<HashedFile>> {
    let listing = list_paths(root, paths, options, cache)?;
    hash_listing(listing, options, cache)
}

/// The files under `paths`, sorted by name, not yet hashed: see [`list_paths`].
#[derive(Debug)]
pub struct Listing {
    files: Vec<Listed>,
}

impl Listing {
    /// The names found, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.name.as_str())
    }

    /// How many files were found.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was found.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Lists, without reading them, the files [`hash_paths_cached`] would hash: the walk runs on all
/// cores, and files `cache` knows are stat'ed on the way.
pub fn list_paths(
    root: &Path,
    paths: &[PathBuf],
    options: &HashOptions,
    cache: Option<&HashCache>,
) -> Result<Listing> {
    let root = root.canonicalize().map_err(Error::io(root))?;
    let found = Mutex::new(Vec::new());
    for path in paths {
        collect(&root, path, options, cache, &found)?;
    }
    let mut files = found
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    files.sort_by(|a: &Listed, b: &Listed| a.name.cmp(&b.name));
    // Named twice (`-p out -p out/app`): listed once. Both entries read the same file.
    files.dedup_by(|a, b| a.name == b.name);
    Ok(Listing { files })
}

/// Hashes the files of `listing` on all cores, reusing digests from `cache` for files that
/// provably did not change.
pub fn hash_listing(
    listing: Listing,
    options: &HashOptions,
    cache: Option<&HashCache>,
) -> Result<Vec<HashedFile>> {
    let algorithms = algorithms_with_sha256(&options.algorithms);
    let progress = options.progress.as_ref();
    progress.start(listing.files.len() as u64);
    // One read buffer per rayon task, reused across files: no per-file allocation or zeroing.
    let hashed: Result<Vec<HashedFile>> = listing
        .files
        .into_par_iter()
        .map_init(
            || vec![0u8; BUFFER_BYTES],
            |buffer, listed| {
                let (digest, size) = match cache {
                    Some(cache) => cache.hash(&listed, &algorithms, buffer)?,
                    None => hash_one(&listed.path, &algorithms, buffer)?,
                };
                progress.advance(1);
                Ok(HashedFile {
                    name: listed.name,
                    digest,
                    size,
                })
            },
        )
        .collect();
    progress.finish();
    hashed
}

fn algorithms_with_sha256(requested: &[DigestAlgorithm]) -> Vec<DigestAlgorithm> {
    let mut all = vec![DigestAlgorithm::Sha256];
    all.extend(requested.iter().filter(|a| **a != DigestAlgorithm::Sha256));
    all.sort();
    all.dedup();
    all
}

/// Where a named path really is: `..` is applied to the name as written, then every directory
/// leading to it is resolved (symlinks followed), and the result must stay inside `root`
/// (canonical). The final component is not followed here; [`collect`] decides about it.
fn resolve(root: &Path, path: &Path) -> Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    };
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    if clean == root {
        return Ok(clean);
    }
    if !path.is_absolute() && !clean.starts_with(root) {
        return Err(Error::OutsideWorkingDirectory(path.to_path_buf()));
    }
    let (Some(parent), Some(name)) = (clean.parent(), clean.file_name()) else {
        return Err(Error::OutsideWorkingDirectory(path.to_path_buf()));
    };
    let parent = parent.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing(path.to_path_buf()),
        _ => Error::io(path)(e),
    })?;
    let resolved = parent.join(name);
    if resolved.starts_with(root) {
        Ok(resolved)
    } else if clean.starts_with(root) {
        // The name looked inside; a symlinked directory on the way leads out.
        Err(Error::ResolvesOutsideRoot {
            path: path.to_path_buf(),
            resolved,
            root: root.to_path_buf(),
        })
    } else {
        Err(Error::OutsideWorkingDirectory(path.to_path_buf()))
    }
}

/// The `/`-separated name of `path` relative to `root`. Non-UTF-8 names are refused rather than
/// made lossy: two different names must never become one material.
fn relative_name(root: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(root)
        .map_err(|_| Error::OutsideWorkingDirectory(path.to_path_buf()))?;
    // Resolved paths hold no `.` or `..` and Unix separators are already `/`.
    rel.to_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::NonUtf8Name(path.to_path_buf()))
}

/// The stamp of a file named directly or reached through a symlink, when `cache` knows it.
fn stamp_for(cache: Option<&HashCache>, path: &Path) -> Option<FileStamp> {
    cache.filter(|c| c.knows(path))?;
    // lstat: a file swapped for a symlink no longer matches and is opened (and refused).
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| FileStamp::of(&m))
}

fn collect(
    root: &Path,
    path: &Path,
    options: &HashOptions,
    cache: Option<&HashCache>,
    found: &Mutex<Vec<Listed>>,
) -> Result<()> {
    let start = resolve(root, path)?;
    let meta = std::fs::symlink_metadata(&start).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing(path.to_path_buf()),
        _ => Error::io(path)(e),
    })?;
    let push = |name: String, path: PathBuf| {
        let stamp = stamp_for(cache, &path);
        found
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Listed { name, path, stamp });
    };
    if meta.is_dir() {
        return walk(root, &start, options, cache, found);
    }
    if meta.file_type().is_symlink() {
        let target = link_target(root, &start)?;
        // A named link to a directory inside the root: hashed where it really is.
        if target.is_dir() {
            return walk(root, &target, options, cache, found);
        }
        if target.is_file() {
            push(relative_name(root, &start)?, target);
        }
        return Ok(());
    }
    // Regular files only: sockets, FIFOs and devices are not build outputs to hash.
    if meta.is_file() {
        push(relative_name(root, &start)?, start);
    }
    Ok(())
}

/// Walks the real directory `start`, one rayon task per directory. Named paths are always
/// hashed; the skip list, the excludes and the ignore rules apply to what is found below them.
struct Walker<'a> {
    root: &'a Path,
    start: &'a Path,
    overrides: Override,
    skip: &'a [PathBuf],
    ignores: Option<&'a IgnoreRules>,
    cache: Option<&'a HashCache>,
}

impl Walker<'_> {
    /// Whether an entry found below the start is left out: a few byte comparisons and glob
    /// matches, no system call (the directory listing gives the type).
    fn left_out(&self, path: &Path, is_dir: bool) -> bool {
        if self.skip.iter().any(|s| s.as_os_str() == path.as_os_str()) {
            return true;
        }
        if self.overrides.matched(path, is_dir).is_ignore() {
            return true;
        }
        self.ignores
            .is_some_and(|rules| rules.is_ignored(path, is_dir))
    }

    fn error(&self, dir: &Path, e: &std::io::Error) -> Error {
        Error::Walk {
            path: self.start.to_path_buf(),
            message: format!("{}: {e}", dir.display()),
        }
    }

    /// Walks `dir`, `depth` levels below the start: subdirectories in parallel near the top,
    /// then, deeper down, one after the other from a list on this thread, so a tree nested
    /// thousands of levels deep cannot exhaust a worker's stack.
    fn dir(&self, dir: &Path, depth: usize, found: &Mutex<Vec<Listed>>) -> Result<()> {
        let subdirs = self.list(dir, found)?;
        if depth < PARALLEL_DEPTH {
            return subdirs
                .into_par_iter()
                .try_for_each(|sub| self.dir(&sub, depth + 1, found));
        }
        let mut pending = subdirs;
        while let Some(sub) = pending.pop() {
            pending.extend(self.list(&sub, found)?);
        }
        Ok(())
    }

    /// Lists the files of `dir` into `found`; returns its subdirectories to walk.
    fn list(&self, dir: &Path, found: &Mutex<Vec<Listed>>) -> Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(dir).map_err(|e| self.error(dir, &e))?;
        let mut files = Vec::new();
        let mut subdirs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.error(dir, &e))?;
            let kind = entry.file_type().map_err(|e| self.error(dir, &e))?;
            let path = entry.path();
            if self.left_out(&path, kind.is_dir()) {
                continue;
            }
            if kind.is_dir() {
                subdirs.push(path);
                continue;
            }
            if kind.is_file() {
                // Stat'ed relative to the open directory, without following a symlink, and
                // only when the cache could reuse the file's digest.
                let stamp = match self.cache {
                    Some(cache) if cache.knows(&path) => {
                        entry.metadata().ok().map(|m| FileStamp::of(&m))
                    }
                    _ => None,
                };
                let name = relative_name(self.root, &path)?;
                files.push(Listed { name, path, stamp });
                continue;
            }
            if let Some(target) = file_target(self.root, &path, kind)? {
                let stamp = stamp_for(self.cache, &target);
                let name = relative_name(self.root, &path)?;
                files.push(Listed {
                    name,
                    path: target,
                    stamp,
                });
            }
        }
        if !files.is_empty() {
            found
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .append(&mut files);
        }
        Ok(subdirs)
    }
}

fn walk(
    root: &Path,
    start: &Path,
    options: &HashOptions,
    cache: Option<&HashCache>,
    found: &Mutex<Vec<Listed>>,
) -> Result<()> {
    let mut overrides = OverrideBuilder::new(start);
    for pattern in &options.excludes {
        overrides
            .add(&format!("!{pattern}"))
            .map_err(|e| Error::Glob {
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
    }
    let overrides = overrides.build().map_err(|e| Error::Glob {
        pattern: options.excludes.join(","),
        message: e.to_string(),
    })?;
    let walker = Walker {
        root,
        start,
        overrides,
        skip: &options.skip,
        ignores: options.ignores.as_deref(),
        cache,
    };
    walker.dir(start, 0, found)
}

/// The canonical target of the symlink `link`, which must lie inside the root.
fn link_target(root: &Path, link: &Path) -> Result<PathBuf> {
    let target = link.canonicalize().map_err(Error::io(link))?;
    if !target.starts_with(root) {
        return Err(Error::SymlinkOutsideRoot {
            link: link.to_path_buf(),
            target,
            root: root.to_path_buf(),
        });
    }
    Ok(target)
}

/// What to read for a non-directory entry found by the walk: the file itself, the target of a
/// symlink to a file inside the root, or nothing (special files); a symlink to a directory is an
/// error.
fn file_target(root: &Path, path: &Path, kind: std::fs::FileType) -> Result<Option<PathBuf>> {
    if !kind.is_symlink() {
        // Regular files only: sockets, FIFOs and devices are not build outputs to hash.
        return Ok(kind.is_file().then(|| path.to_path_buf()));
    }
    let target = link_target(root, path)?;
    // A link to a directory found by the walk is refused: skipped, it would hide what it points
    // at from the record while tools that follow links (tar h, cp -L, zip, loaders) use it.
    if target.is_dir() {
        return Err(Error::SymlinkToDirectory {
            link: path.to_path_buf(),
            target,
        });
    }
    Ok(target.is_file().then_some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/sub")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("src/a.c"), b"int a;").unwrap();
        std::fs::write(root.join("src/sub/b.c"), b"int b;").unwrap();
        std::fs::write(root.join("src/skip.o"), b"obj").unwrap();
        std::fs::write(root.join(".git/HEAD"), b"ref").unwrap();
        dir
    }

    /// Progress as a log: `start N`, the files advanced, `finish`.
    #[derive(Debug, Default)]
    struct Recorded(Mutex<Vec<String>>, std::sync::atomic::AtomicU64);

    impl Progress for Recorded {
        fn start(&self, total: u64) {
            self.0.lock().unwrap().push(format!("start {total}"));
        }
        fn advance(&self, n: u64) {
            self.1.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
        fn finish(&self) {
            let done = self.1.swap(0, std::sync::atomic::Ordering::Relaxed);
            self.0.lock().unwrap().push(format!("finish after {done}"));
        }
    }

    #[test]
    fn progress_hears_each_run_from_start_to_finish() {
        let dir = tree();
        let recorded = Arc::new(Recorded::default());
        let options = HashOptions {
            progress: recorded.clone(),
            ..skipping_root_git(dir.path())
        };
        hash_paths(dir.path(), &[PathBuf::from("src")], &options).unwrap();
        hash_paths(dir.path(), &[PathBuf::from("src/a.c")], &options).unwrap();
        assert_eq!(
            *recorded.0.lock().unwrap(),
            ["start 3", "finish after 3", "start 1", "finish after 1"]
        );
    }

    fn skipping_root_git(dir: &Path) -> HashOptions {
        HashOptions {
            skip: vec![dir.canonicalize().unwrap().join(".git")],
            ..Default::default()
        }
    }

    fn names(files: &[HashedFile]) -> Vec<&str> {
        files.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn a_symlink_to_a_directory_found_by_the_walk_is_refused_not_skipped() {
        let dir = tree();
        std::fs::create_dir_all(dir.path().join("cache/x")).unwrap();
        std::fs::write(dir.path().join("cache/x/plugin.so"), b"evil").unwrap();
        std::os::unix::fs::symlink("../cache/x", dir.path().join("src/plugins")).unwrap();
        let err = hash_paths(
            dir.path(),
            &[PathBuf::from("src")],
            &skipping_root_git(dir.path()),
        )
        .unwrap_err();
        assert!(matches!(err, Error::SymlinkToDirectory { .. }), "{err}");
        // Left out on purpose, it is the user's explicit choice.
        let options = HashOptions {
            excludes: vec!["plugins".into()],
            ..skipping_root_git(dir.path())
        };
        hash_paths(dir.path(), &[PathBuf::from("src")], &options).unwrap();
    }

    #[test]
    fn names_are_relative_sorted_and_excludes_apply() {
        let dir = tree();
        let options = HashOptions {
            excludes: vec!["*.o".into()],
            ..skipping_root_git(dir.path())
        };
        let files = hash_paths(
            dir.path(),
            &[PathBuf::from("."), PathBuf::from("src/a.c")],
            &options,
        )
        .unwrap();
        let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["src/a.c", "src/sub/b.c"]);
    }

    #[test]
    fn digests_match_a_known_value() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"abc").unwrap();
        let d = hash_file(&dir.path().join("f")).unwrap();
        assert_eq!(
            d.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn sha512_is_added_on_request() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"abc").unwrap();
        let options = HashOptions {
            algorithms: vec![DigestAlgorithm::Sha512],
            ..Default::default()
        };
        let files = hash_paths(dir.path(), &[PathBuf::from("f")], &options).unwrap();
        let set = files[0].digest.to_set();
        assert!(set["sha512"].starts_with("ddaf35a193617aba"));
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn refuses_paths_and_symlinks_outside_the_root() {
        let dir = tree();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        let err = hash_paths(
            &dir.path().join("src"),
            &[PathBuf::from("../.git")],
            &HashOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::OutsideWorkingDirectory(_)), "{err}");
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("src/link"))
            .unwrap();
        let err =
            hash_paths(dir.path(), &[PathBuf::from("src")], &HashOptions::default()).unwrap_err();
        assert!(matches!(err, Error::SymlinkOutsideRoot { .. }), "{err}");
    }

    #[test]
    fn follows_symlinks_to_files_inside_the_root() {
        let dir = tree();
        std::os::unix::fs::symlink(dir.path().join("src/a.c"), dir.path().join("src/alias.c"))
            .unwrap();
        let files =
            hash_paths(dir.path(), &[PathBuf::from("src")], &HashOptions::default()).unwrap();
        let alias = files.iter().find(|f| f.name == "src/alias.c").unwrap();
        let real = files.iter().find(|f| f.name == "src/a.c").unwrap();
        assert_eq!(alias.digest, real.digest);
    }

    #[test]
    fn the_cache_reuses_settled_files_and_rehashes_changed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"abc").unwrap();
        let options = HashOptions::default();
        let paths = [PathBuf::from("f")];
        // A cache created now treats the just-written file as racy: never reused.
        let fresh = HashCache::new(std::time::SystemTime::now());
        hash_paths_cached(dir.path(), &paths, &options, Some(&fresh)).unwrap();
        assert!(fresh.entries.lock().unwrap().is_empty());
        // A cache whose window starts later reuses it while unchanged ...
        let later =
            HashCache::new(std::time::SystemTime::now() + std::time::Duration::from_secs(10));
        let first = hash_paths_cached(dir.path(), &paths, &options, Some(&later)).unwrap();
        assert_eq!(later.entries.lock().unwrap().len(), 1);
        let again = hash_paths_cached(dir.path(), &paths, &options, Some(&later)).unwrap();
        assert_eq!(first, again);
        // ... and a rewrite of the same size changes ctime, so it is hashed again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&f, b"xyz").unwrap();
        let changed = hash_paths_cached(dir.path(), &paths, &options, Some(&later)).unwrap();
        assert_ne!(changed[0].digest, first[0].digest);
    }

    /// Attack: files slipped into `out/.git/` or `out/sub/.hallmark/` between steps were
    /// invisible. Only the exact skip paths are left out.
    #[test]
    fn nested_git_and_hallmark_dirs_are_hashed() {
        let dir = tree();
        for (sub, file) in [("out/.git", "evil"), ("out/sub/.hallmark", "evil2")] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join(file), b"x").unwrap();
        }
        let options = skipping_root_git(dir.path());
        let files = hash_paths(dir.path(), &[PathBuf::from(".")], &options).unwrap();
        assert!(names(&files).contains(&"out/.git/evil"), "{files:?}");
        assert!(
            names(&files).contains(&"out/sub/.hallmark/evil2"),
            "{files:?}"
        );
        assert!(!names(&files).iter().any(|n| n.starts_with(".git/")));
        // Named explicitly, the root's own .git is not a skip target's child: it is hashed.
        let files = hash_paths(dir.path(), &[PathBuf::from(".git")], &options).unwrap();
        assert_eq!(names(&files), [".git/HEAD"]);
    }

    /// Attack variant: a `.gitignore` written into the inputs by an earlier step hid files.
    /// Only the rules given (committed ones) apply.
    #[test]
    fn a_gitignore_on_disk_hides_nothing() {
        let dir = tree();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("src/.gitignore"), b"evil.sh\n").unwrap();
        std::fs::write(root.join("src/evil.sh"), b"x").unwrap();
        let rules =
            IgnoreRules::from_files(&root, "c".into(), &[(String::new(), b"*.o\n".to_vec())])
                .unwrap();
        let options = HashOptions {
            ignores: Some(Arc::new(rules)),
            ..Default::default()
        };
        let files = hash_paths(&root, &[PathBuf::from("src")], &options).unwrap();
        assert_eq!(
            names(&files),
            ["src/.gitignore", "src/a.c", "src/evil.sh", "src/sub/b.c"]
        );
    }

    /// Attack variant: two different non-UTF-8 names collapsed into one lossy material name.
    #[test]
    fn non_utf8_names_are_refused() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tree();
        for name in [b"x\xff".as_slice(), b"x\xfe"] {
            let path = dir
                .path()
                .join("src")
                .join(std::ffi::OsStr::from_bytes(name));
            std::fs::write(path, b"x").unwrap();
        }
        let err =
            hash_paths(dir.path(), &[PathBuf::from("src")], &HashOptions::default()).unwrap_err();
        assert!(matches!(err, Error::NonUtf8Name(_)), "{err}");
        assert!(err.to_string().contains(r"\xF"), "names the path: {err}");
        // Left out explicitly, the rest hashes.
        let options = HashOptions {
            excludes: vec!["x?".into()],
            ..Default::default()
        };
        assert!(hash_paths(dir.path(), &[PathBuf::from("src")], &options).is_ok());
    }

    /// Attack: `ln -s /etc out; -p out/hostname` attested /etc/hostname as out/hostname.
    #[test]
    fn a_symlinked_directory_leading_out_of_the_root_is_refused() {
        let dir = tree();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("hostname"), b"h").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        for named in ["out/hostname", "out/../out/hostname", "out"] {
            let err = hash_paths(dir.path(), &[PathBuf::from(named)], &HashOptions::default())
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::ResolvesOutsideRoot { .. } | Error::SymlinkOutsideRoot { .. }
                ),
                "{named}: {err}"
            );
        }
        let err = hash_paths(
            dir.path(),
            &[PathBuf::from("out/hostname")],
            &HashOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::ResolvesOutsideRoot { .. }), "{err}");
    }

    #[test]
    fn symlinked_directories_inside_the_root_are_hashed_where_they_really_are() {
        let dir = tree();
        std::os::unix::fs::symlink(dir.path().join("src"), dir.path().join("alias")).unwrap();
        let options = HashOptions::default();
        let files = hash_paths(dir.path(), &[PathBuf::from("alias/a.c")], &options).unwrap();
        assert_eq!(names(&files), ["src/a.c"]);
        let files = hash_paths(dir.path(), &[PathBuf::from("alias")], &options).unwrap();
        assert_eq!(names(&files), ["src/a.c", "src/skip.o", "src/sub/b.c"]);
        // Absolute names through a symlinked prefix resolve the same way.
        let absolute = dir.path().join("alias/sub/b.c");
        let files = hash_paths(dir.path(), &[absolute], &options).unwrap();
        assert_eq!(names(&files), ["src/sub/b.c"]);
    }

    #[test]
    fn a_listed_file_swapped_for_a_symlink_is_not_followed() {
        let dir = tree();
        let swapped = dir.path().join("src/a.c");
        std::fs::remove_file(&swapped).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &swapped).unwrap();
        let err = open_listed(&swapped).unwrap_err();
        assert!(matches!(err, Error::BecameSymlink(_)), "{err}");
    }

    #[test]
    fn missing_paths_are_named() {
        let dir = tree();
        let err = hash_paths(
            dir.path(),
            &[PathBuf::from("nope")],
            &HashOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "nope does not exist");
    }

    /// A tree nested far deeper than the parallel levels is walked whole (and without
    /// recursing once per level, which could exhaust a worker's stack).
    #[test]
    fn a_deeply_nested_tree_is_walked_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut path = dir.path().join("deep");
        for level in 0..1500 {
            if level % 500 == 0 {
                std::fs::create_dir_all(&path).unwrap();
                std::fs::write(path.join("f"), level.to_string()).unwrap();
            }
            path.push("d");
        }
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join("f"), b"bottom").unwrap();
        let files = hash_paths(
            dir.path(),
            &[PathBuf::from("deep")],
            &HashOptions::default(),
        )
        .unwrap();
        assert_eq!(files.len(), 4);
        assert!(files.iter().any(|f| f.name.matches("/d").count() == 1500));
    }
}
