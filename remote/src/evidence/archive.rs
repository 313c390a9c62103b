//! The bundle as a tar: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`)
//! streamed in and out entry by entry, never held in memory whole. Unpacking hashes each blob
//! while it is copied and refuses anything an OCI layout does not hold.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{Context, SHA256};
use hallmark_model::limits::MAX_STORE_INDEX_BYTES;

use super::error::Error;

type Result<T, E = Error> = std::result::Result<T, E>;

/// Size limits applied while unpacking.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest single blob.
    pub blob_bytes: u64,
    /// Largest archive.
    pub archive_bytes: u64,
    /// Most entries.
    pub entries: usize,
    /// Blobs larger than this are hashed and checked but not written (for listing a bundle
    /// without the disk space it would take); `None` writes every blob.
    pub keep_blobs_up_to: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            blob_bytes: 64 << 30,
            archive_bytes: 256 << 30,
            entries: 200_000,
            keep_blobs_up_to: None,
        }
    }
}

/// What unpacking found.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// `sha256:` of the whole archive as read.
    pub digest: String,
    /// Its size.
    pub bytes: u64,
    /// The blobs (digest → size), each checked against its name.
    pub blobs: BTreeMap<String, u64>,
}

/// Reports how many bytes of the archive were handled so far.
pub type Progress<'a> = &'a dyn Fn(u64);

const BUFFER: usize = 256 * 1024;
const LAYOUT_LIMIT: u64 = 4096;

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the layout at `dir` (its `oci-layout`, `index.json` and every blob, sorted) as a tar
/// to `out`, through a temporary file renamed into place.
pub fn write(dir: &Path, out: &Path, progress: Progress<'_>) -> Result<u64> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let temp = tempfile::NamedTempFile::new_in(parent).map_err(Error::io(parent))?;
    let mut builder = tar::Builder::new(BufWriter::with_capacity(BUFFER, temp.as_file()));
    let mut written = 0u64;
    let mut names: Vec<(String, PathBuf)> = vec![
        ("oci-layout".to_owned(), dir.join("oci-layout")),
        ("index.json".to_owned(), dir.join("index.json")),
    ];
    let blobs = dir.join("blobs/sha256");
    let mut hexes: Vec<String> = std::fs::read_dir(&blobs)
        .map_err(Error::io(&blobs))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_hex64(n))
        .collect();
    hexes.sort();
    names.extend(
        hexes
            .into_iter()
            .map(|h| (format!("blobs/sha256/{h}"), blobs.join(&h))),
    );
    for (name, path) in names {
        let file = File::open(&path).map_err(Error::io(&path))?;
        let size = file.metadata().map_err(Error::io(&path))?.len();
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        builder
            .append_data(&mut header, &name, BufReader::with_capacity(BUFFER, file))
            .map_err(Error::io(&path))?;
        written += size;
        progress(written);
    }
    let mut inner = builder.into_inner().map_err(Error::io(out))?;
    inner.flush().map_err(Error::io(out))?;
    drop(inner);
    temp.as_file().sync_all().map_err(Error::io(out))?;
    temp.persist(out).map_err(|e| Error::io(out)(e.error))?;
    Ok(written)
}

fn is_hex64(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Hashes and counts everything read through it, and stops at the archive limit.
struct Hashing<R> {
    inner: R,
    context: Context,
    read: u64,
    limit: u64,
    last_report: u64,
    progress: Box<dyn Fn(u64)>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.context.update(&buf[..n]);
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::other(format!(
                "the archive is over its limit of {} bytes",
                self.limit
            )));
        }
        if self.read - self.last_report >= 16 << 20 {
            self.last_report = self.read;
            (self.progress)(self.read);
        }
        Ok(n)
    }
}

/// Where an entry goes, or why it is refused.
enum Target {
    Layout,
    Index,
    Blob(String),
    Dir,
}

fn target(path: &str, kind: tar::EntryType) -> Result<Target> {
    let path = path.strip_prefix("./").unwrap_or(path);
    let dir = matches!(
        path,
        "blobs" | "blobs/" | "blobs/sha256" | "blobs/sha256/" | "." | "./"
    );
    match kind {
        tar::EntryType::Directory if dir => return Ok(Target::Dir),
        tar::EntryType::Regular | tar::EntryType::Continuous => {}
        other => {
            return Err(Error::Archive(format!(
                "entry {path:?} is a {other:?}, not a regular file"
            )));
        }
    }
    match path {
        "oci-layout" => Ok(Target::Layout),
        "index.json" => Ok(Target::Index),
        _ => match path.strip_prefix("blobs/sha256/") {
            Some(h) if is_hex64(h) => Ok(Target::Blob(h.to_owned())),
            _ => Err(Error::Archive(format!(
                "entry {:?} is outside blobs/sha256/, oci-layout and index.json",
                hallmark_model::text::printable(path)
            ))),
        },
    }
}

/// Unpacks the archive read from `reader` into the empty directory `dir` (an OCI layout
/// afterwards), refusing entries outside the layout, links and devices, duplicates, blobs whose
/// content does not match their name, anything over `limits`, and a truncated archive.
pub fn unpack(
    reader: impl Read,
    dir: &Path,
    limits: &Limits,
    progress: impl Fn(u64) + 'static,
) -> Result<Unpacked> {
    let blobs_dir = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs_dir).map_err(Error::io(&blobs_dir))?;
    let hashing = Hashing {
        inner: BufReader::with_capacity(BUFFER, reader),
        context: Context::new(&SHA256),
        read: 0,
        limit: limits.archive_bytes,
        last_report: 0,
        progress: Box::new(progress),
    };
    let mut archive = tar::Archive::new(hashing);
    let mut blobs = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut buffer = vec![0u8; BUFFER];
    let entries = archive
        .entries()
        .map_err(|e| Error::Archive(e.to_string()))?;
    for (count, entry) in entries.enumerate() {
        if count >= limits.entries {
            return Err(Error::TooLarge {
                what: "the number of archive entries".to_owned(),
                limit: limits.entries as u64,
            });
        }
        // A header cut short or not a tar header: truncation or corruption.
        let mut entry = entry
            .map_err(|e| Error::Archive(format!("the archive is truncated or corrupt: {e}")))?;
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| Error::Archive("an entry name is not UTF-8".to_owned()))?;
        let kind = entry.header().entry_type();
        let target = target(&path, kind)?;
        if matches!(target, Target::Dir) {
            continue;
        }
        if !seen.insert(path.trim_start_matches("./").to_owned()) {
            return Err(Error::Duplicate(hallmark_model::text::printable(&path)));
        }
        let size = entry.size();
        let (dest, limit) = match &target {
            Target::Layout => (dir.join("oci-layout"), LAYOUT_LIMIT),
            Target::Index => (dir.join("index.json"), MAX_STORE_INDEX_BYTES),
            Target::Blob(h) => (blobs_dir.join(h), limits.blob_bytes),
            Target::Dir => continue,
        };
        if size > limit {
            return Err(Error::TooLarge { what: path, limit });
        }
        let keep = matches!(target, Target::Layout | Target::Index)
            || limits.keep_blobs_up_to.is_none_or(|k| size <= k);
        let mut out: Box<dyn Write> = if keep {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&dest)
                .map_err(Error::io(&dest))?;
            Box::new(BufWriter::with_capacity(BUFFER, file))
        } else {
            Box::new(std::io::sink())
        };
        let mut context = Context::new(&SHA256);
        let mut copied = 0u64;
        loop {
            let n = entry
                .read(&mut buffer)
                .map_err(|e| Error::Archive(format!("reading {path}: {e}")))?;
            if n == 0 {
                break;
            }
            context.update(&buffer[..n]);
            out.write_all(&buffer[..n]).map_err(Error::io(&dest))?;
            copied += n as u64;
        }
        out.flush().map_err(Error::io(&dest))?;
        if copied != size {
            return Err(Error::Archive(format!(
                "the archive is truncated: {path} has {copied} of its {size} bytes"
            )));
        }
        if let Target::Blob(h) = target {
            let actual = hex(context.finish().as_ref());
            if actual != h {
                return Err(Error::BlobDigest {
                    name: format!("sha256:{h}"),
                    actual: format!("sha256:{actual}"),
                });
            }
            blobs.insert(format!("sha256:{h}"), size);
        }
    }
    // The rest (the end-of-archive blocks and padding) counts towards the archive's digest.
    let mut hashing = archive.into_inner();
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| Error::Archive(e.to_string()))?;
    (hashing.progress)(hashing.read);
    Ok(Unpacked {
        digest: format!("sha256:{}", hex(hashing.context.finish().as_ref())),
        bytes: hashing.read,
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                header.set_link_name("/etc/passwd").unwrap();
            }
            // Raw name bytes: the builder itself refuses `..`, an attacker's tool does not.
            let raw = &mut header.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn blob_name(data: &[u8]) -> String {
        format!(
            "blobs/sha256/{}",
            hex(aws_lc_rs::digest::digest(&SHA256, data).as_ref())
        )
    }

    fn unpack_bytes(bytes: &[u8]) -> Result<Unpacked> {
        let dir = tempfile::tempdir().unwrap();
        unpack(bytes, dir.path(), &Limits::default(), |_| {})
    }

    #[test]
    fn a_layout_unpacks_with_each_blob_checked() {
        let name = blob_name(b"hello");
        let bytes = tar_of(&[
            ("oci-layout", tar::EntryType::Regular, b"{}"),
            (&name, tar::EntryType::Regular, b"hello"),
        ]);
        let unpacked = unpack_bytes(&bytes).unwrap();
        assert_eq!(unpacked.blobs.len(), 1);
        assert_eq!(unpacked.bytes, bytes.len() as u64);
    }

    #[test]
    fn large_blobs_can_be_checked_without_being_kept() {
        let name = blob_name(b"hello");
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            keep_blobs_up_to: Some(4),
            ..Limits::default()
        };
        let bytes = tar_of(&[(&name, tar::EntryType::Regular, b"hello")]);
        let unpacked = unpack(bytes.as_slice(), dir.path(), &limits, |_| {}).unwrap();
        assert_eq!(unpacked.blobs.len(), 1);
        assert!(!dir.path().join(&name).exists());
        let tampered = tar_of(&[(&name, tar::EntryType::Regular, b"hellO")]);
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(tampered.as_slice(), dir.path(), &limits, |_| {}).unwrap_err();
        assert_eq!(err.code(), "evidence.blob-digest");
    }

    #[test]
    fn refuses_what_a_layout_does_not_hold() {
        let name = blob_name(b"hello");
        for (path, kind) in [
            ("../evil", tar::EntryType::Regular),
            ("blobs/sha256/../../x", tar::EntryType::Regular),
            ("etc/passwd", tar::EntryType::Regular),
            (name.as_str(), tar::EntryType::Symlink),
            (name.as_str(), tar::EntryType::Link),
            (name.as_str(), tar::EntryType::Char),
        ] {
            let err = unpack_bytes(&tar_of(&[(path, kind, b"hello")])).unwrap_err();
            assert_eq!(err.code(), "evidence.archive", "{path} {kind:?}: {err}");
        }
    }

    #[test]
    fn refuses_tampered_duplicate_truncated_and_oversize_entries() {
        let name = blob_name(b"hello");
        let tampered = unpack_bytes(&tar_of(&[(&name, tar::EntryType::Regular, b"hellO")]));
        assert_eq!(tampered.unwrap_err().code(), "evidence.blob-digest");
        let twice = tar_of(&[
            (&name, tar::EntryType::Regular, b"hello"),
            (&name, tar::EntryType::Regular, b"hello"),
        ]);
        assert!(matches!(unpack_bytes(&twice), Err(Error::Duplicate(_))));
        let big = vec![7u8; 4096];
        let whole = tar_of(&[(&blob_name(&big), tar::EntryType::Regular, &big)]);
        // Cut inside a blob's data, and inside a header.
        for at in [512 + 1000, 100] {
            let cut = unpack_bytes(&whole[..at]).unwrap_err();
            assert_eq!(cut.code(), "evidence.archive", "{cut}");
            assert!(cut.to_string().contains("truncated"), "{cut}");
        }
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            blob_bytes: 100,
            ..Limits::default()
        };
        let over = unpack(whole.as_slice(), dir.path(), &limits, |_| {}).unwrap_err();
        assert!(matches!(over, Error::TooLarge { .. }), "{over}");
    }
}
