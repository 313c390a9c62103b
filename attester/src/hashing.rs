//! Hashing of files and directory trees: parallel (rayon), bounded memory (one fixed buffer per
//! worker), deterministic order, `/`-separated relative names, and symlinks never followed outside
//! the root.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use aws_lc_rs::digest::{Context, SHA256, SHA512};
use hallmark_model::digest::{Digest, DigestAlgorithm, DigestSet};
use hallmark_model::resource::ResourceDescriptor;
use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::{Error, Result};

/// Read buffer per worker thread.
const BUFFER_BYTES: usize = 128 * 1024;

/// Directories never hashed: git's own data and Hallmark's store.
const ALWAYS_EXCLUDED: &[&str] = &[".git", ".hallmark"];

/// How to hash.
#[derive(Debug, Clone)]
pub struct HashOptions {
    /// Glob patterns (gitignore syntax) of paths to leave out.
    pub excludes: Vec<String>,
    /// Also leave out what `.gitignore` files ignore.
    pub respect_gitignore: bool,
    /// Digests to compute; SHA-256 always.
    pub algorithms: Vec<DigestAlgorithm>,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

impl Default for HashOptions {
    fn default() -> Self {
        HashOptions {
            excludes: Vec::new(),
            respect_gitignore: false,
            algorithms: vec![DigestAlgorithm::Sha256],
            progress: false,
        }
    }
}

/// One hashed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFile {
    /// Path relative to the root, `/`-separated.
    pub name: String,
    /// Its digests.
    pub digest: DigestSet,
    /// Its size in bytes.
    pub size: u64,
}

impl HashedFile {
    /// As an in-toto ResourceDescriptor.
    pub fn to_descriptor(&self) -> ResourceDescriptor {
        ResourceDescriptor::named(self.name.clone(), self.digest.clone())
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
    let set = hash_one(
        path,
        &[DigestAlgorithm::Sha256],
        &mut vec![0u8; BUFFER_BYTES],
    )?
    .0;
    let hex = set.get("sha256").cloned().unwrap_or_default();
    Ok(Digest::from_hex(DigestAlgorithm::Sha256, &hex)?)
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
    entries: Mutex<HashMap<PathBuf, (FileStamp, DigestSet)>>,
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

    fn hash(
        &self,
        path: &Path,
        algorithms: &[DigestAlgorithm],
        buffer: &mut [u8],
    ) -> Result<(DigestSet, u64)> {
        // A stat is cheaper than open + fstat + close for the files that hit; files the cache
        // has never seen (the first pass) go straight to reading.
        let cached = {
            let entries = self
                .entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            entries.get(path).cloned()
        };
        if let Some((stamp, digest)) = cached {
            let now = FileStamp::of(&std::fs::metadata(path).map_err(Error::io(path))?);
            let covers = algorithms.iter().all(|a| digest.contains_key(a.name()));
            if now == stamp && now.settled(self.settled_before) && covers {
                return Ok((digest, stamp.size));
            }
        }
        let mut file = File::open(path).map_err(Error::io(path))?;
        let before = FileStamp::of(&file.metadata().map_err(Error::io(path))?);
        let (digest, size) = hash_open(&mut file, path, algorithms, buffer)?;
        let after = FileStamp::of(&file.metadata().map_err(Error::io(path))?);
        if after == before && after.settled(self.settled_before) {
            let mut entries = self
                .entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            entries.insert(path.to_path_buf(), (after, digest.clone()));
        }
        Ok((digest, size))
    }
}

fn hash_one(
    path: &Path,
    algorithms: &[DigestAlgorithm],
    buffer: &mut [u8],
) -> Result<(DigestSet, u64)> {
    let mut file = File::open(path).map_err(Error::io(path))?;
    hash_open(&mut file, path, algorithms, buffer)
}

fn hash_open(
    file: &mut File,
    path: &Path,
    algorithms: &[DigestAlgorithm],
    buffer: &mut [u8],
) -> Result<(DigestSet, u64)> {
    let mut contexts: Vec<(DigestAlgorithm, Context)> = algorithms
        .iter()
        .map(|&a| {
            let ctx = match a {
                DigestAlgorithm::Sha256 => Context::new(&SHA256),
                DigestAlgorithm::Sha512 => Context::new(&SHA512),
            };
            (a, ctx)
        })
        .collect();
    let mut size = 0u64;
    loop {
        let n = match file.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path)(e)),
        };
        size += n as u64;
        for (_, ctx) in &mut contexts {
            ctx.update(&buffer[..n]);
        }
    }
    let set = contexts
        .into_iter()
        .map(|(a, ctx)| {
            let d = Digest::from_bytes(a, ctx.finish().as_ref());
            (a.name().to_owned(), d.hex().to_owned())
        })
        .collect();
    Ok((set, size))
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
    let root = root.canonicalize().map_err(Error::io(root))?;
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in paths {
        collect(&root, path, options, &mut files)?;
    }
    let algorithms = algorithms_with_sha256(&options.algorithms);
    let bar = progress_bar(options.progress, files.len() as u64);
    // One read buffer per rayon task, reused across files: no per-file allocation or zeroing.
    let hashed: Result<Vec<HashedFile>> = files
        .into_par_iter()
        .map_init(
            || vec![0u8; BUFFER_BYTES],
            |buffer, (name, path)| {
                let (digest, size) = match cache {
                    Some(cache) => cache.hash(&path, &algorithms, buffer)?,
                    None => hash_one(&path, &algorithms, buffer)?,
                };
                bar.inc(1);
                Ok(HashedFile { name, digest, size })
            },
        )
        .collect();
    bar.finish_and_clear();
    hashed
}

fn algorithms_with_sha256(requested: &[DigestAlgorithm]) -> Vec<DigestAlgorithm> {
    let mut all = vec![DigestAlgorithm::Sha256];
    all.extend(requested.iter().filter(|a| **a != DigestAlgorithm::Sha256));
    all.sort();
    all.dedup();
    all
}

fn progress_bar(enabled: bool, total: u64) -> ProgressBar {
    if !enabled || total < 64 {
        return ProgressBar::hidden();
    }
    // The stderr target draws only when stderr is a terminal.
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("hashing {bar:30} {pos}/{len} files {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Resolves `path` against `root` and checks it stays inside without following anything.
fn inside_root(root: &Path, path: &Path) -> Result<PathBuf> {
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
    if !clean.starts_with(root) {
        return Err(Error::OutsideWorkingDirectory(path.to_path_buf()));
    }
    Ok(clean)
}

fn relative_name(root: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(root)
        .map_err(|_| Error::OutsideWorkingDirectory(path.to_path_buf()))?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Ok(parts.join("/"))
}

fn collect(
    root: &Path,
    path: &Path,
    options: &HashOptions,
    files: &mut BTreeMap<String, PathBuf>,
) -> Result<()> {
    let start = inside_root(root, path)?;
    let meta = std::fs::symlink_metadata(&start).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing(path.to_path_buf()),
        _ => Error::io(path)(e),
    })?;
    if !meta.is_dir() {
        if let Some(target) = file_target(root, &start, meta.file_type())? {
            files.insert(relative_name(root, &start)?, target);
        }
        return Ok(());
    }
    let mut overrides = OverrideBuilder::new(&start);
    for pattern in ALWAYS_EXCLUDED
        .iter()
        .map(|p| format!("{p}/"))
        .chain(options.excludes.iter().cloned())
    {
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
    let walker = WalkBuilder::new(&start)
        .standard_filters(false)
        .hidden(false)
        .git_ignore(options.respect_gitignore)
        .git_exclude(options.respect_gitignore)
        .parents(options.respect_gitignore)
        .require_git(false)
        .follow_links(false)
        .overrides(overrides)
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| Error::Walk {
            path: start.clone(),
            message: e.to_string(),
        })?;
        let Some(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            continue;
        }
        if let Some(target) = file_target(root, entry.path(), kind)? {
            files.insert(relative_name(root, entry.path())?, target);
        }
    }
    Ok(())
}

/// What to read for a non-directory entry: the file itself, the target of a symlink to a file
/// inside the root, or nothing (symlinks to directories, special files).
fn file_target(root: &Path, path: &Path, kind: std::fs::FileType) -> Result<Option<PathBuf>> {
    if !kind.is_symlink() {
        // Regular files only: sockets, FIFOs and devices are not build outputs to hash.
        return Ok(kind.is_file().then(|| path.to_path_buf()));
    }
    let target = path.canonicalize().map_err(Error::io(path))?;
    if !target.starts_with(root) {
        return Err(Error::SymlinkOutsideRoot {
            link: path.to_path_buf(),
            target,
            root: root.to_path_buf(),
        });
    }
    // Directories reached through links are hashed where they really are, if at all.
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

    #[test]
    fn names_are_relative_sorted_and_excludes_apply() {
        let dir = tree();
        let options = HashOptions {
            excludes: vec!["*.o".into()],
            ..Default::default()
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
        assert!(files[0].digest["sha512"].starts_with("ddaf35a193617aba"));
        assert_eq!(files[0].digest.len(), 2);
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
}
