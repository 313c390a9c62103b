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
//! Lists are hints, as index entries are: a lookup neither reads nor hashes a whole list, and
//! the verifier checks that the signed statement names the artifact, so a tampered list can
//! only hide or misdirect (which deleting entries can already). Every read is still bounded,
//! and a list that is not what this module writes is refused with a note, never a panic.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use hallmark_model::budget::{Budget, Work};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES};

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

const RECORD: usize = SUBJECT_RECORD_BYTES as usize;

/// True when the subject key `key` (a digest's text) can go into a list.
pub(super) fn listable(key: &str) -> bool {
    key.len() == RECORD - 1
        && key.starts_with("sha256:")
        && key[7..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Writes the list blob and manifest of the listable `keys` for the attestation manifest
/// `manifest_digest` (of `manifest_size` bytes); returns the `index.json` entry to add, or
/// `None` when no key is listable.
pub(super) fn write_list(
    store: &LayoutStore,
    keys: &[String],
    manifest_digest: &str,
    manifest_size: u64,
    config_digest: &str,
) -> Result<Option<Descriptor>> {
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
    Ok(Some(entry))
}

/// A subject list whose manifest has been read and checked.
#[derive(Debug, Clone)]
pub(super) struct SubjectList {
    /// The attestation manifest it lists the subjects of.
    pub(super) of: String,
    /// The layer blob.
    path: PathBuf,
    /// Records in it.
    records: u64,
}

fn corrupt(path: PathBuf, message: String) -> Error {
    Error::Corrupt { path, message }
}

impl SubjectList {
    /// Reads and checks the list manifest `list_digest`, which `index.json` says lists the
    /// subjects of `annotated_of` (when it says).
    pub(super) fn open(
        store: &LayoutStore,
        list_digest: &str,
        annotated_of: Option<&str>,
        budget: &Budget,
    ) -> Result<Self> {
        let bytes = store.read_blob_within(list_digest, MAX_MANIFEST_BYTES, Some(budget))?;
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
            records: layer.size / SUBJECT_RECORD_BYTES,
        })
    }

    /// Whether the list holds `digest`: a binary search reading one record per step (about 18
    /// for the largest list), each spent from `budget`. A record that is not a SHA-256 digest
    /// line, or out of order with the records read before it, makes the list refused.
    pub(super) fn contains(&self, digest: &Digest, budget: &Budget) -> Result<bool> {
        if digest.algorithm() != DigestAlgorithm::Sha256 {
            return Ok(false);
        }
        let target = format!("{digest}\n");
        let target = target.as_bytes();
        if target.len() != RECORD {
            return Ok(false);
        }
        let bad = |message: String| corrupt(self.path.clone(), format!("subject list: {message}"));
        let file = File::open(&self.path).map_err(Error::io(&self.path))?;
        let size = file.metadata().map_err(Error::io(&self.path))?.len();
        if size != self.records * SUBJECT_RECORD_BYTES {
            return Err(bad(format!(
                "the blob is {size} bytes, its manifest says {}",
                self.records * SUBJECT_RECORD_BYTES
            )));
        }
        let (mut lo, mut hi) = (0u64, self.records);
        let mut below: Option<[u8; RECORD]> = None;
        let mut above: Option<[u8; RECORD]> = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            budget
                .spend(Work::Bytes, SUBJECT_RECORD_BYTES)
                .map_err(Error::budget)?;
            let mut record = [0u8; RECORD];
            file.read_exact_at(&mut record, mid * SUBJECT_RECORD_BYTES)
                .map_err(Error::io(&self.path))?;
            let text = std::str::from_utf8(&record[..RECORD - 1]).unwrap_or_default();
            if record[RECORD - 1] != b'\n' || !listable(text) {
                return Err(bad(format!("record {mid} is not a sha256 digest line")));
            }
            if below.is_some_and(|b| record <= b) || above.is_some_and(|a| record >= a) {
                return Err(bad(format!("record {mid} is out of order")));
            }
            match record.as_slice().cmp(target) {
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
