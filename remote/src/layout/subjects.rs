//! Subject lists: the subjects of an attestation with many, in one sorted blob that a lookup
//! binary-searches with positioned reads, instead of one `index.json` entry per subject.
//!
//! A list is a standard OCI artifact manifest: artifactType [`SUBJECTS_ARTIFACT_TYPE`], the
//! empty config, one layer of [`SUBJECTS_LAYER_MEDIA_TYPE`], and as OCI `subject` the
//! attestation manifest it lists the subjects of. `index.json` lists it, annotated with
//! [`ANNOTATION_SUBJECTS_OF`] = that attestation manifest. The layer holds the distinct SHA-256
//! subject digests, sorted, each as the [`SUBJECT_RECORD_BYTES`] bytes `sha256:<64 lowercase
//! hex>\n` (so the blob is also a readable text file).
//!
//! Lists are hints, as index entries are: the verifier checks that the signed statement names
//! the artifact, so a tampered list can only hide or misdirect (which deleting entries can
//! already). A reader searches a list with positioned reads for its first few lookups, then
//! reads it whole once (see [`SubjectList::contains`]): a chain walk of 20,000 materials reads
//! each list once, not once per material. A store's lists are bounded in number and bytes
//! ([`MAX_STORE_SUBJECT_LISTS`], [`MAX_STORE_SUBJECT_LIST_BYTES`]): lists beyond are not read
//! (with a note), and a writer stores one entry per subject instead of a list beyond them.
//! Every read is bounded, and a list that is not what this module writes is refused with a
//! note, never a panic.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::limits::{
    MAX_BUNDLE_BYTES, MAX_STORE_SUBJECT_LIST_BYTES, MAX_STORE_SUBJECT_LISTS,
};

use super::LayoutStore;
use crate::oci::{Descriptor, EMPTY_CONFIG, EMPTY_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Manifest};
use crate::{Error, Result};

/// An attestation with more distinct subjects than this gets a subject list; up to this many,
/// one `index.json` entry per subject (the format older Hallmark versions read and write).
pub const SUBJECT_LIST_THRESHOLD: usize = 16;

/// artifactType of a subject-list manifest.
pub const SUBJECTS_ARTIFACT_TYPE: &str = "application/vnd.dev.hallmark.subjects.v1";

/// Media type of a subject list's one layer: sorted `sha256:<hex>\n` records.
pub const SUBJECTS_LAYER_MEDIA_TYPE: &str = "application/vnd.dev.hallmark.subjects.v1.sha256";

/// Index annotation on a subject-list entry: the attestation manifest whose subjects it lists.
pub const ANNOTATION_SUBJECTS_OF: &str = "dev.hallmark.subjects.of";

/// Bytes per record: `sha256:` + 64 hex digits + `\n`.
pub const SUBJECT_RECORD_BYTES: u64 = 72;

/// Largest subject list read: every record names a subject of a statement signed in a bundle of
/// at most [`MAX_BUNDLE_BYTES`], where a subject takes more than a record's 72 bytes.
pub const MAX_SUBJECT_LIST_BYTES: u64 = MAX_BUNDLE_BYTES;

/// Largest subject-list manifest read: 16 KiB (the manifests written here are about 600
/// bytes: a config, one layer and a subject). Up to [`MAX_STORE_SUBJECT_LISTS`] are read per
/// reader, so this bounds that reading to 16 MiB.
pub const MAX_SUBJECT_LIST_MANIFEST_BYTES: u64 = 16 * 1024;

const RECORD: usize = SUBJECT_RECORD_BYTES as usize;

/// Lookups a reader answers from one list by positioned reads before it reads the list whole.
/// One `verify` looks a digest or two up; a chain walk looks up every material and so reads
/// each list once: at most 8 searches of about 18 records (10 KiB), then the list.
pub const PROBED_LOOKUPS: u32 = 8;

/// True when the subject key `key` (a digest's text) can go into a list.
pub(super) fn listable(key: &str) -> bool {
    key.len() == RECORD - 1
        && key.starts_with("sha256:")
        && key[7..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Writes the list blob and manifest of the listable `keys` for the attestation manifest
/// `manifest_digest` (of `manifest_size` bytes); returns the `index.json` entry to add and the
/// list's layer bytes, or `None` when no key is listable.
pub(super) fn write_list(
    store: &LayoutStore,
    keys: &[String],
    manifest_digest: &str,
    manifest_size: u64,
    config_digest: &str,
) -> Result<Option<(Descriptor, u64)>> {
    let mut listed: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| listable(k))
        .collect();
    if listed.is_empty() {
        return Ok(None);
    }
    listed.sort_unstable();
    listed.dedup();
    let mut blob = Vec::with_capacity(listed.len() * RECORD);
    for key in &listed {
        blob.extend_from_slice(key.as_bytes());
        blob.push(b'\n');
    }
    let blob_digest = store.write_blob(&blob)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE.to_owned(),
        artifact_type: Some(SUBJECTS_ARTIFACT_TYPE.to_owned()),
        config: Descriptor::plain(
            EMPTY_MEDIA_TYPE,
            config_digest.to_owned(),
            EMPTY_CONFIG.len() as u64,
        ),
        layers: vec![Descriptor::plain(
            SUBJECTS_LAYER_MEDIA_TYPE,
            blob_digest,
            blob.len() as u64,
        )],
        subject: Some(Descriptor::plain(
            MANIFEST_MEDIA_TYPE,
            manifest_digest.to_owned(),
            manifest_size,
        )),
        annotations: Default::default(),
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Corrupt {
        path: store.root().to_path_buf(),
        message: e.to_string(),
    })?;
    let digest = store.write_blob(&bytes)?;
    let mut entry = Descriptor::plain(MANIFEST_MEDIA_TYPE, digest, bytes.len() as u64);
    entry.artifact_type = Some(SUBJECTS_ARTIFACT_TYPE.to_owned());
    entry.annotations.insert(
        ANNOTATION_SUBJECTS_OF.to_owned(),
        manifest_digest.to_owned(),
    );
    Ok(Some((entry, blob.len() as u64)))
}

/// A subject list whose manifest has been read and checked.
#[derive(Debug)]
pub(super) struct SubjectList {
    /// The attestation manifest it lists the subjects of.
    pub(super) of: String,
    /// The layer blob's digest.
    layer_digest: String,
    /// The layer blob.
    path: PathBuf,
    /// Records in it.
    records: u64,
    /// Lookups answered so far by positioned reads.
    probed: u32,
    /// The whole list, once read (see [`SubjectList::contains`]).
    loaded: Option<Vec<[u8; 32]>>,
}

fn corrupt(path: PathBuf, message: String) -> Error {
    Error::Corrupt { path, message }
}

impl SubjectList {
    /// Reads and checks the list manifest `list_digest`, which `index.json` says lists the
    /// subjects of `annotated_of` (when it says). Like `index.json`, a list is the store's
    /// index, not evidence: it is read under the store's own limits
    /// ([`MAX_STORE_SUBJECT_LISTS`], [`MAX_STORE_SUBJECT_LIST_BYTES`]), at most once per reader,
    /// and not spent from a decision's budget (the attestations it leads to are).
    pub(super) fn open(
        store: &LayoutStore,
        list_digest: &str,
        annotated_of: Option<&str>,
    ) -> Result<Self> {
        let bytes = store.read_blob(list_digest, MAX_SUBJECT_LIST_MANIFEST_BYTES)?;
        let manifest_path = store.blob_path(list_digest)?;
        let bad = |message: &str| {
            corrupt(
                manifest_path.clone(),
                format!("subject list {list_digest}: {message}"),
            )
        };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| bad(&format!("not an OCI manifest: {e}")))?;
        if manifest.artifact_type.as_deref() != Some(SUBJECTS_ARTIFACT_TYPE) {
            return Err(bad("its artifactType is not a subject list"));
        }
        let of = manifest
            .subject
            .as_ref()
            .map(|s| s.digest.clone())
            .ok_or_else(|| bad("names no attestation manifest as subject"))?;
        // Checks the digest's form before it is used as a path.
        store.blob_path(&of)?;
        if annotated_of.is_some_and(|a| a != of) {
            return Err(bad("index.json names another attestation manifest for it"));
        }
        let [layer] = manifest.layers.as_slice() else {
            return Err(bad("it has not exactly one layer"));
        };
        if layer.media_type != SUBJECTS_LAYER_MEDIA_TYPE {
            return Err(bad(&format!(
                "unknown layer media type {:?}",
                hallmark_model::text::printable(&layer.media_type)
            )));
        }
        hallmark_model::limits::check("subject list", layer.size, MAX_SUBJECT_LIST_BYTES)?;
        if layer.size == 0 || layer.size % SUBJECT_RECORD_BYTES != 0 {
            return Err(bad(&format!(
                "its layer of {} bytes is not whole {SUBJECT_RECORD_BYTES}-byte records",
                layer.size
            )));
        }
        Ok(SubjectList {
            of,
            path: store.blob_path(&layer.digest)?,
            layer_digest: layer.digest.clone(),
            records: layer.size / SUBJECT_RECORD_BYTES,
            probed: 0,
            loaded: None,
        })
    }

    /// Bytes of the list's layer, as its manifest declares (checked when it is read).
    pub(super) fn bytes(&self) -> u64 {
        self.records * SUBJECT_RECORD_BYTES
    }

    /// Whether the list holds `digest`. The first [`PROBED_LOOKUPS`] lookups binary-search the
    /// file with positioned reads (about 18 reads of 72 bytes for the largest list: a single
    /// `verify` reads almost nothing); the next one reads the whole list once, digest-checked,
    /// and every later lookup searches it in memory, so a chain walk looking 20,000 materials up
    /// reads each list once instead of 20,000 times. A record that is not a SHA-256 digest
    /// line, or out of order, makes the list refused (the caller notes it and stops using it).
    /// `target` is the looked-up digest's [`key`], decoded once per lookup for every list.
    pub(super) fn contains(&mut self, store: &LayoutStore, target: &[u8; 32]) -> Result<bool> {
        if self.loaded.is_none() && self.probed >= PROBED_LOOKUPS {
            self.loaded = Some(self.load(store)?);
        }
        if let Some(records) = &self.loaded {
            return Ok(records.binary_search(target).is_ok());
        }
        self.probed += 1;
        self.probe(target)
    }

    /// Reads the whole list (its size checked against the manifest, its digest checked) and
    /// decodes it, refusing records out of order.
    fn load(&self, store: &LayoutStore) -> Result<Vec<[u8; 32]>> {
        let bytes = store.read_blob(&self.layer_digest, self.bytes())?;
        let bad = |message: String| corrupt(self.path.clone(), format!("subject list: {message}"));
        if bytes.len() as u64 != self.bytes() {
            return Err(bad(format!(
                "the blob is {} bytes, its manifest says {}",
                bytes.len(),
                self.bytes()
            )));
        }
        let mut records: Vec<[u8; 32]> = Vec::with_capacity(bytes.len() / RECORD);
        for (i, record) in bytes.chunks_exact(RECORD).enumerate() {
            let decoded = decode(record)
                .ok_or_else(|| bad(format!("record {i} is not a sha256 digest line")))?;
            if records.last().is_some_and(|last| *last >= decoded) {
                return Err(bad(format!("record {i} is out of order")));
            }
            records.push(decoded);
        }
        Ok(records)
    }

    /// A binary search of the file, one positioned read per step.
    fn probe(&self, target: &[u8; 32]) -> Result<bool> {
        let bad = |message: String| corrupt(self.path.clone(), format!("subject list: {message}"));
        let file = File::open(&self.path).map_err(Error::io(&self.path))?;
        let size = file.metadata().map_err(Error::io(&self.path))?.len();
        if size != self.bytes() {
            return Err(bad(format!(
                "the blob is {size} bytes, its manifest says {}",
                self.bytes()
            )));
        }
        let (mut lo, mut hi) = (0u64, self.records);
        let mut below: Option<[u8; 32]> = None;
        let mut above: Option<[u8; 32]> = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let mut record = [0u8; RECORD];
            file.read_exact_at(&mut record, mid * SUBJECT_RECORD_BYTES)
                .map_err(Error::io(&self.path))?;
            let record = decode(&record)
                .ok_or_else(|| bad(format!("record {mid} is not a sha256 digest line")))?;
            if below.is_some_and(|b| record <= b) || above.is_some_and(|a| record >= a) {
                return Err(bad(format!("record {mid} is out of order")));
            }
            match record.cmp(target) {
                std::cmp::Ordering::Equal => return Ok(true),
                std::cmp::Ordering::Less => {
                    lo = mid + 1;
                    below = Some(record);
                }
                std::cmp::Ordering::Greater => {
                    hi = mid;
                    above = Some(record);
                }
            }
        }
        Ok(false)
    }
}

/// The 32 bytes a list would hold `digest` as: `None` when it is not SHA-256 (no list holds it).
pub(super) fn key(digest: &Digest) -> Option<[u8; 32]> {
    if digest.algorithm() != DigestAlgorithm::Sha256 {
        return None;
    }
    <[u8; 32]>::try_from(digest.to_bytes().as_slice()).ok()
}

/// The 32 bytes of a record `sha256:<64 lowercase hex>\n`, or `None` when it is not one.
fn decode(record: &[u8]) -> Option<[u8; 32]> {
    let hex = record.strip_prefix(b"sha256:")?.strip_suffix(b"\n")?;
    if hex.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

/// What the lists a store may hold still allow, counted in `index.json` order as readers count
/// them: the first [`MAX_STORE_SUBJECT_LISTS`] list entries are used, and of those each whose
/// layer still fits in [`MAX_STORE_SUBJECT_LIST_BYTES`] (a list that cannot be opened uses a
/// place but no bytes).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ListRoom {
    /// List entries counted.
    pub(super) lists: usize,
    /// Layer bytes of the lists used.
    pub(super) bytes: u64,
}

impl ListRoom {
    /// Counts one more list entry of `bytes` layer bytes (`None`: it could not be opened);
    /// `Err` with the reason when it is beyond the limits, and then it is not counted.
    pub(super) fn take(&mut self, bytes: Option<u64>) -> std::result::Result<(), String> {
        if self.lists >= MAX_STORE_SUBJECT_LISTS {
            return Err(format!(
                "the store holds more than {MAX_STORE_SUBJECT_LISTS} subject lists (the limit); this one is not read"
            ));
        }
        let bytes = bytes.unwrap_or(0);
        if self.bytes.saturating_add(bytes) > MAX_STORE_SUBJECT_LIST_BYTES {
            return Err(format!(
                "the store's subject lists pass {MAX_STORE_SUBJECT_LIST_BYTES} bytes (the limit) with this one of {bytes}; it is not read"
            ));
        }
        self.lists += 1;
        self.bytes += bytes;
        Ok(())
    }
}
