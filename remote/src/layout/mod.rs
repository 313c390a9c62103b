//! The local store: an OCI image layout directory.
//!
//! Each attestation is an OCI artifact manifest (artifactType = the Sigstore bundle media type,
//! empty config, one bundle layer) whose `subject` is the attested artifact, as in a registry.
//! `index.json` lists the manifests, annotated with their subject digest for fast lookup: an
//! attestation of up to [`SUBJECT_LIST_THRESHOLD`] subjects has one entry per subject, a larger
//! one a single entry plus a *subject list* (see [`SUBJECTS_ARTIFACT_TYPE`]) that lookups
//! binary-search, so the index grows by entries per attestation, not per subject.
//! Blobs are content-addressed and written atomically; `index.json` is replaced atomically under
//! an exclusive lock, so concurrent writers never lose or corrupt entries.

mod atomic;
mod reader;
mod subjects;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use hallmark_model::budget::{Budget, Work};
use hallmark_model::bundle::BUNDLE_V0_3;
use hallmark_model::digest::Digest;
use hallmark_model::limits::{
    MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES, MAX_STORE_INDEX_BYTES, MAX_STORE_SUBJECT_LISTS,
};

use crate::oci::{
    ANNOTATION_PREDICATE_TYPE, ANNOTATION_SUBJECT, Descriptor, EMPTY_CONFIG, Index,
    MANIFEST_MEDIA_TYPE, Manifest, sha256_digest,
};
use crate::{Error, Result};
use atomic::{WriterLock, write_atomic};
pub(crate) use reader::EntryRead;
pub use reader::{MAX_STORED_ATTESTATIONS, Referrer, ReferrerIndex, Skipped, StoreReader};
pub use subjects::{
    ANNOTATION_SUBJECTS_OF, MAX_SUBJECT_LIST_BYTES, SUBJECT_LIST_THRESHOLD, SUBJECT_RECORD_BYTES,
    SUBJECTS_ARTIFACT_TYPE, SUBJECTS_LAYER_MEDIA_TYPE,
};

/// Annotation naming an image in an OCI layout.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const LOCK_FILE: &str = ".hallmark.lock";

/// The thing an attestation is about, as an OCI subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// Its SHA-256 digest.
    pub digest: Digest,
    /// Its size in bytes (0 when unknown).
    pub size: u64,
    /// Media type: [`crate::oci::FILE_MEDIA_TYPE`] for files, a manifest type for images.
    pub media_type: String,
}

/// An attestation waiting to be pushed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    /// The attestation manifest in this store.
    pub manifest_digest: String,
    /// Where it goes: `oci://REGISTRY/REPO@sha256:...` of the attested artifact.
    pub target: String,
}

/// An attestation found in the store.
#[derive(Debug, Clone)]
pub struct StoredAttestation {
    /// Digest of the artifact manifest that holds it.
    pub manifest_digest: String,
    /// The bundle bytes (digest-checked).
    pub bundle: Vec<u8>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image layout directory used as an attestation store.
#[derive(Debug, Clone)]
pub struct LayoutStore {
    root: PathBuf,
}

impl LayoutStore {
    /// Opens the store at `root`, creating the layout when the directory is missing or empty.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let store = LayoutStore { root };
        if store.root.join(LAYOUT_FILE).exists() && store.index_path().exists() {
            return Ok(store);
        }
        // A directory with content but neither a layout nor our lock is someone else's.
        if store.foreign_content(true)? {
            return Err(Error::NotALayout(store.root));
        }
        std::fs::create_dir_all(&store.root).map_err(Error::io(&store.root))?;
        // Initialise under the lock: another process may be creating the same store right now.
        let _lock = WriterLock::acquire(&store.root.join(LOCK_FILE))?;
        if !store.root.join(LAYOUT_FILE).exists() {
            if store.foreign_content(false)? {
                return Err(Error::NotALayout(store.root));
            }
            std::fs::create_dir_all(store.root.join("blobs/sha256"))
                .map_err(Error::io(&store.root))?;
            write_atomic(&store.root.join(LAYOUT_FILE), LAYOUT_CONTENT)?;
        }
        if !store.index_path().exists() {
            store.write_index(&Index::empty())?;
        }
        Ok(store)
    }

    /// True when the directory holds entries other than our lock file (and, when
    /// `lock_means_ours`, holds no lock file at all: a lock means a store is being created).
    fn foreign_content(&self, lock_means_ours: bool) -> Result<bool> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io(&self.root)(e)),
        };
        let names: Vec<std::ffi::OsString> = entries
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        let has_lock = names.iter().any(|n| n == LOCK_FILE);
        if lock_means_ours && has_lock {
            return Ok(false);
        }
        Ok(names.iter().any(|n| n != LOCK_FILE))
    }

    /// Opens an existing store for reading; `Ok(None)` when there is none at `root`.
    pub fn open_existing(root: impl Into<PathBuf>) -> Result<Option<Self>> {
        let root = root.into();
        if !root.join(LAYOUT_FILE).exists() {
            return Ok(None);
        }
        Ok(Some(LayoutStore { root }))
    }

    /// The store directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn index_path(&self) -> PathBuf {
        self.root.join("index.json")
    }

    pub(crate) fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| Error::Corrupt {
                path: self.index_path(),
                message: format!("invalid blob digest {digest:?}"),
            })?;
        Ok(self.root.join("blobs/sha256").join(hex))
    }

    /// Writes a content-addressed blob (idempotent); returns its digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String> {
        let digest = sha256_digest(bytes);
        let path = self.blob_path(&digest)?;
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(digest)
    }

    /// Writes the blob `digest` through `fill` (which streams it and checks its content) into a
    /// temporary file renamed into place; a blob already stored is not fetched again.
    pub fn write_blob_streamed(
        &self,
        digest: &str,
        fill: impl FnOnce(&mut File) -> Result<()>,
    ) -> Result<()> {
        let path = self.blob_path(digest)?;
        if path.exists() {
            return Ok(());
        }
        let dir = self.root.join("blobs/sha256");
        let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(Error::io(&dir))?;
        fill(temp.as_file_mut())?;
        temp.as_file().sync_all().map_err(Error::io(&path))?;
        temp.persist(&path).map_err(|e| Error::io(&path)(e.error))?;
        Ok(())
    }

    /// Reads a blob, refusing more than `limit` bytes and content that does not match its digest.
    pub fn read_blob(&self, digest: &str, limit: u64) -> Result<Vec<u8>> {
        self.read_blob_within(digest, limit, None)
    }

    /// [`Self::read_blob`], spending its size from a decision's `budget` before reading it.
    fn read_blob_within(
        &self,
        digest: &str,
        limit: u64,
        budget: Option<&Budget>,
    ) -> Result<Vec<u8>> {
        let path = self.blob_path(digest)?;
        let bytes = read_limited_within(&path, limit, "blob", budget)?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(Error::DigestMismatch {
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    fn read_index(&self) -> Result<Index> {
        let path = self.index_path();
        let bytes = read_limited(&path, MAX_STORE_INDEX_BYTES, "index.json")?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path,
            message: format!("index.json: {e}"),
        })
    }

    /// The attestation manifests `index.json` lists with the predicate type annotation
    /// `predicate_type`, each once, oldest first (`hallmark record deployment` reads a target's
    /// history from them).
    pub fn manifests_of_type(&self, predicate_type: &str) -> Result<Vec<String>> {
        let index = self.read_index()?;
        let mut seen = HashSet::new();
        Ok(index
            .manifests
            .into_iter()
            .filter(|d| {
                d.annotations
                    .get(ANNOTATION_PREDICATE_TYPE)
                    .map(String::as_str)
                    == Some(predicate_type)
            })
            .filter(|d| seen.insert(d.digest.clone()))
            .map(|d| d.digest)
            .collect())
    }

    fn write_index(&self, index: &Index) -> Result<()> {
        let bytes = serde_json::to_vec(index).map_err(|e| Error::Corrupt {
            path: self.index_path(),
            message: e.to_string(),
        })?;
        write_atomic(&self.index_path(), &bytes)
    }

    /// Stores one bundle as an attestation of `subjects`: one artifact manifest whose OCI
    /// `subject` is the first subject (the shape a registry holds for that artifact). Up to
    /// [`SUBJECT_LIST_THRESHOLD`] distinct subjects get one `index.json` entry each; beyond, the
    /// manifest gets one entry (under its first subject) and the SHA-256 subjects go into a
    /// subject list, listed in the index after it (subjects of other algorithms, rare, keep an
    /// entry each). A step with 20,000 products writes four blobs and two index entries.
    /// Storing the same bundle again is a no-op.
    pub fn put(
        &self,
        bundle: &[u8],
        subjects: &[Subject],
        annotations: &BTreeMap<String, String>,
    ) -> Result<Descriptor> {
        let mut stored = self.put_all(&[Attestation {
            bundle,
            subjects,
            annotations,
        }])?;
        stored.pop().ok_or_else(|| Error::Corrupt {
            path: self.root.clone(),
            message: "nothing stored".to_owned(),
        })
    }

    /// Stores many bundles as [`Self::put`] does, with one update of `index.json` for all of
    /// them (a generated history or an import of thousands of attestations).
    pub fn put_all(&self, attestations: &[Attestation<'_>]) -> Result<Vec<Descriptor>> {
        struct Written {
            digest: String,
            size: u64,
            /// The distinct subjects, first first.
            keys: Vec<String>,
            /// Its subject list and the list's layer bytes, when it has one.
            list: Option<(Descriptor, u64)>,
        }
        let mut written = Vec::with_capacity(attestations.len());
        let config_digest = self.write_blob(EMPTY_CONFIG)?;
        for a in attestations {
            let first = a.subjects.first().ok_or_else(|| Error::Corrupt {
                path: self.root.clone(),
                message: "an attestation needs at least one subject".to_owned(),
            })?;
            let bundle_digest = self.write_blob(a.bundle)?;
            let manifest = Manifest::attestation(
                config_digest.clone(),
                bundle_digest,
                a.bundle.len() as u64,
                Descriptor::plain(
                    &first.media_type.clone(),
                    first.digest.to_string(),
                    first.size,
                ),
                a.annotations,
            );
            let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Corrupt {
                path: self.root.clone(),
                message: e.to_string(),
            })?;
            let digest = self.write_blob(&bytes)?;
            let mut seen = HashSet::new();
            let keys: Vec<String> = a
                .subjects
                .iter()
                .map(|s| s.digest.to_string())
                .filter(|k| seen.insert(k.clone()))
                .collect();
            // Written before the lock: blobs are content-addressed, and the list is only found
            // through the index entry added below (if the store has no room left for it, the
            // blobs stay unreferenced).
            let list = if keys.len() > SUBJECT_LIST_THRESHOLD {
                subjects::write_list(self, &keys, &digest, bytes.len() as u64, &config_digest)?
            } else {
                None
            };
            written.push(Written {
                digest,
                size: bytes.len() as u64,
                keys,
                list,
            });
        }
        fn entry<'x>(w: &'x Written, a: &'x Attestation<'x>, subject: &'x str) -> NewEntry<'x> {
            NewEntry {
                digest: &w.digest,
                size: w.size,
                subject,
                predicate_type: a
                    .annotations
                    .get(ANNOTATION_PREDICATE_TYPE)
                    .map(String::as_str),
            }
        }
        let _lock = WriterLock::acquire(&self.root.join(LOCK_FILE))?;
        let index = self.read_index()?;
        // Entries are written as they are, straight from these strings: a step with many
        // subjects builds no descriptor (and no annotation map) per subject.
        let mut listed: HashSet<(&str, &str)> = index
            .manifests
            .iter()
            .filter_map(|d| {
                let subject = d.annotations.get(ANNOTATION_SUBJECT)?;
                Some((d.digest.as_str(), subject.as_str()))
            })
            .collect();
        let mut lists_listed: HashSet<&str> = HashSet::new();
        let mut room = subjects::ListRoom::default();
        for d in &index.manifests {
            if d.artifact_type.as_deref() == Some(SUBJECTS_ARTIFACT_TYPE)
                && lists_listed.insert(d.digest.as_str())
            {
                // Counted as readers count them; a list readers would not use takes no room.
                // Beyond the count readers do not open a list's manifest, and nor does this:
                // an index may name hundreds of thousands of lists.
                if room.lists >= MAX_STORE_SUBJECT_LISTS {
                    continue;
                }
                let bytes = subjects::SubjectList::open(
                    self,
                    &d.digest,
                    d.annotations
                        .get(ANNOTATION_SUBJECTS_OF)
                        .map(String::as_str),
                )
                .ok()
                .map(|l| l.bytes());
                let _ = room.take(bytes);
            }
        }
        let mut added = Vec::new();
        for (w, a) in written.iter().zip(attestations) {
            // A list already listed (the same attestation stored again) or one the store has
            // room for stands in for the listable subjects; beyond the limits on lists, every
            // subject gets an entry, as in stores of older versions.
            let list = w.list.as_ref().filter(|(list, bytes)| {
                lists_listed.contains(list.digest.as_str()) || room.take(Some(*bytes)).is_ok()
            });
            for (i, key) in w.keys.iter().enumerate() {
                let in_list = list.is_some() && i > 0 && subjects::listable(key);
                if !in_list && listed.insert((w.digest.as_str(), key.as_str())) {
                    added.push(Added::Entry(entry(w, a, key)));
                }
            }
            if let Some((list, _)) = list
                && lists_listed.insert(list.digest.as_str())
            {
                added.push(Added::List(list));
            }
        }
        self.write_index_with(&index, &added)?;
        Ok(written
            .iter()
            .zip(attestations)
            .map(|(w, a)| entry(w, a, &w.keys[0]).descriptor())
            .collect())
    }

    /// Writes `index` with `added` after its own entries.
    fn write_index_with(&self, index: &Index, added: &[Added<'_>]) -> Result<()> {
        // Sized up front (an entry is about 330 bytes): no doubling of a buffer of megabytes.
        let mut bytes = Vec::with_capacity((index.manifests.len() + added.len()) * 400 + 256);
        serde_json::to_writer(&mut bytes, &IndexWith { index, added }).map_err(|e| {
            Error::Corrupt {
                path: self.index_path(),
                message: e.to_string(),
            }
        })?;
        write_atomic(&self.index_path(), &bytes)
    }

    fn pending_path(&self) -> PathBuf {
        self.root.join("pending.json")
    }

    /// Attestations signed and stored here but not yet pushed to their registry.
    pub fn pending(&self) -> Result<Vec<Pending>> {
        let path = self.pending_path();
        if !path.exists() {
            return Ok(Vec::new());
        }
        let bytes = read_limited(&path, MAX_STORE_INDEX_BYTES, "pending.json")?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path,
            message: format!("pending.json: {e}"),
        })
    }

    fn update_pending(&self, change: impl FnOnce(&mut Vec<Pending>)) -> Result<()> {
        let _lock = WriterLock::acquire(&self.root.join(LOCK_FILE))?;
        let mut pending = self.pending()?;
        change(&mut pending);
        let bytes = serde_json::to_vec_pretty(&pending).map_err(|e| Error::Corrupt {
            path: self.pending_path(),
            message: e.to_string(),
        })?;
        write_atomic(&self.pending_path(), &bytes)
    }

    /// Records that the attestation in manifest `manifest_digest` still has to reach `target`.
    pub fn mark_pending(&self, manifest_digest: &str, target: &str) -> Result<()> {
        let entry = Pending {
            manifest_digest: manifest_digest.to_owned(),
            target: target.to_owned(),
        };
        self.update_pending(|p| {
            if !p.contains(&entry) {
                p.push(entry);
            }
        })
    }

    /// Records that a pending attestation has been pushed.
    pub fn clear_pending(&self, entry: &Pending) -> Result<()> {
        self.update_pending(|p| p.retain(|e| e != entry))
    }

    /// The attestation held by the manifest `manifest_digest`.
    pub fn attestation(&self, manifest_digest: &str) -> Result<StoredAttestation> {
        let bytes = self.read_blob(manifest_digest, MAX_MANIFEST_BYTES)?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path: self.blob_path(manifest_digest).unwrap_or_default(),
            message: format!("manifest: {e}"),
        })?;
        let layer = manifest
            .layers
            .iter()
            .find(|l| {
                l.media_type
                    .starts_with("application/vnd.dev.sigstore.bundle")
            })
            .ok_or_else(|| Error::Corrupt {
                path: self.root.clone(),
                message: format!("manifest {manifest_digest} holds no bundle"),
            })?;
        Ok(StoredAttestation {
            manifest_digest: manifest_digest.to_owned(),
            bundle: self.read_blob(&layer.digest, MAX_BUNDLE_BYTES)?,
            annotations: manifest.annotations,
        })
    }

    /// Every attestation manifest the index lists (each once, in index order): what the
    /// evidence index reads to take in a whole store. Read each with [`Self::attestation`].
    pub fn attestation_manifests(&self) -> Result<Vec<String>> {
        let mut seen = HashSet::new();
        Ok(self
            .read_index()?
            .manifests
            .into_iter()
            .filter(|d| d.annotations.contains_key(ANNOTATION_SUBJECT))
            .filter(|d| seen.insert(d.digest.clone()))
            .map(|d| d.digest)
            .collect())
    }

    /// Adds entries to `index.json` under the writer lock (an entry already listed with the same
    /// digest and annotations is not added twice).
    pub fn add_index_entries(&self, entries: Vec<Descriptor>) -> Result<()> {
        let _lock = WriterLock::acquire(&self.root.join(LOCK_FILE))?;
        let mut index = self.read_index()?;
        for entry in entries {
            if !index.manifests.contains(&entry) {
                index.manifests.push(entry);
            }
        }
        self.write_index(&index)
    }

    /// Moves the file at `path` (on the same filesystem, its content already checked to be
    /// `digest`) into the store as that blob; a blob the store already has is kept and the file
    /// removed. Falls back to a streamed copy across filesystems.
    pub fn adopt_blob(&self, path: &Path, digest: &str) -> Result<()> {
        let dest = self.blob_path(digest)?;
        if dest.exists() {
            return std::fs::remove_file(path).map_err(Error::io(path));
        }
        if std::fs::rename(path, &dest).is_ok() {
            return Ok(());
        }
        let dir = self.root.join("blobs/sha256");
        let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(Error::io(&dir))?;
        let mut file = File::open(path).map_err(Error::io(path))?;
        std::io::copy(&mut file, temp.as_file_mut()).map_err(Error::io(path))?;
        temp.as_file().sync_all().map_err(Error::io(&dest))?;
        temp.persist(&dest).map_err(|e| Error::io(&dest)(e.error))?;
        Ok(())
    }

    /// Lists an image manifest (or index) under a ref name, replacing an older entry of that name.
    pub fn tag_image(&self, descriptor: Descriptor, ref_name: &str) -> Result<()> {
        let _lock = WriterLock::acquire(&self.root.join(LOCK_FILE))?;
        let mut index = self.read_index()?;
        index.manifests.retain(|d| {
            d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) != Some(ref_name)
        });
        let mut descriptor = descriptor;
        descriptor
            .annotations
            .insert(ANNOTATION_REF_NAME.to_owned(), ref_name.to_owned());
        index.manifests.push(descriptor);
        self.write_index(&index)
    }

    /// The image listed under `ref_name`, or the only image when `ref_name` is `None`.
    pub fn image(&self, ref_name: Option<&str>) -> Result<Descriptor> {
        let index = self.read_index()?;
        let images: Vec<&Descriptor> = index
            .manifests
            .iter()
            .filter(|d| d.annotations.contains_key(ANNOTATION_REF_NAME))
            .filter(|d| {
                ref_name.is_none_or(|r| {
                    d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) == Some(r)
                })
            })
            .collect();
        match images.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::Corrupt {
                path: self.index_path(),
                message: format!("no image named {}", ref_name.unwrap_or("(any)")),
            }),
            several => Err(Error::SeveralImages {
                path: self.index_path(),
                names: several
                    .iter()
                    .filter_map(|d| d.annotations.get(ANNOTATION_REF_NAME))
                    .take(10)
                    // Names come from the directory, which may have come from anywhere.
                    .map(|name| hallmark_model::text::printable(name))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// The attestations whose subject is `digest`, oldest first. Strict, for copying and
    /// pushing: an unreadable entry is an error (a decision skips it instead, see
    /// [`StoreReader`]).
    pub fn referrers(&self, digest: &Digest) -> Result<Vec<StoredAttestation>> {
        let reader = StoreReader::open(self.clone())?;
        let budget = Budget::default();
        let found = reader.referrers(digest, &budget);
        if let Some(skipped) = reader.take_skipped().into_iter().next() {
            return Err(skipped.error);
        }
        if let Some(e) = budget.exhausted() {
            return Err(Error::budget(e));
        }
        Ok(found
            .into_iter()
            .map(|r| StoredAttestation {
                manifest_digest: r.manifest_digest,
                bundle: r.bundle.to_vec(),
                annotations: r.annotations,
            })
            .collect())
    }

    /// Reads the index once, for many lookups (walking a chain of steps): a typed parse of the
    /// entries' digests and subjects only.
    pub fn referrer_index(&self) -> Result<ReferrerIndex> {
        let path = self.index_path();
        let bytes = read_limited(&path, MAX_STORE_INDEX_BYTES, "index.json")?;
        ReferrerIndex::parse(&bytes).map_err(|e| Error::Corrupt {
            path,
            message: format!("index.json: {e}"),
        })
    }
}

/// An `index.json` entry [`LayoutStore::put`] adds: an attestation manifest listed under one
/// subject. Serializes as the [`Descriptor`] of [`NewEntry::descriptor`] does.
/// One attestation for [`LayoutStore::put_all`].
#[derive(Debug, Clone, Copy)]
pub struct Attestation<'a> {
    /// The serialized bundle.
    pub bundle: &'a [u8],
    /// What it attests (at least one).
    pub subjects: &'a [Subject],
    /// The manifest's annotations (predicate type, step, ...).
    pub annotations: &'a BTreeMap<String, String>,
}

struct NewEntry<'a> {
    digest: &'a str,
    size: u64,
    subject: &'a str,
    predicate_type: Option<&'a str>,
}

impl NewEntry<'_> {
    fn annotations(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let mut pairs = [
            Some((ANNOTATION_SUBJECT, self.subject)),
            self.predicate_type.map(|p| (ANNOTATION_PREDICATE_TYPE, p)),
        ];
        // A descriptor's annotations are a sorted map.
        pairs.sort_by_key(|p| p.map(|(k, _)| k));
        pairs.into_iter().flatten()
    }

    fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: MANIFEST_MEDIA_TYPE.to_owned(),
            digest: self.digest.to_owned(),
            size: self.size,
            artifact_type: Some(BUNDLE_V0_3.to_owned()),
            annotations: self
                .annotations()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

impl serde::Serialize for NewEntry<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Annotations<'b>(&'b NewEntry<'b>);
        impl serde::Serialize for Annotations<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.annotations())
            }
        }
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("mediaType", MANIFEST_MEDIA_TYPE)?;
        map.serialize_entry("digest", self.digest)?;
        map.serialize_entry("size", &self.size)?;
        map.serialize_entry("artifactType", BUNDLE_V0_3)?;
        map.serialize_entry("annotations", &Annotations(self))?;
        map.end()
    }
}

/// An [`Index`] with entries added after its own, serialized as the index holding them all.
struct IndexWith<'a> {
    index: &'a Index,
    added: &'a [Added<'a>],
}

/// An entry [`LayoutStore::put_all`] adds to `index.json`.
enum Added<'a> {
    /// An attestation manifest under one subject.
    Entry(NewEntry<'a>),
    /// A subject list.
    List(&'a Descriptor),
}

impl serde::Serialize for Added<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Added::Entry(e) => e.serialize(serializer),
            Added::List(d) => d.serialize(serializer),
        }
    }
}

impl serde::Serialize for IndexWith<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Entries<'b>(&'b IndexWith<'b>);
        impl serde::Serialize for Entries<'_> {
            fn serialize<S: serde::Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let listed = &self.0.index.manifests;
                let mut seq = serializer.serialize_seq(Some(listed.len() + self.0.added.len()))?;
                for d in listed {
                    seq.serialize_element(d)?;
                }
                for e in self.0.added {
                    seq.serialize_element(e)?;
                }
                seq.end()
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("schemaVersion", &self.index.schema_version)?;
        map.serialize_entry("mediaType", &self.index.media_type)?;
        map.serialize_entry("manifests", &Entries(self))?;
        map.end()
    }
}

fn read_limited(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>> {
    read_limited_within(path, limit, what, None)
}

/// Reads at most `limit` bytes of `path`, refusing a larger file by its size before reading it,
/// and spending what it reads from a decision's `budget` first.
pub(crate) fn read_limited_within(
    path: &Path,
    limit: u64,
    what: &'static str,
    budget: Option<&Budget>,
) -> Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO someone left in the store must not wait for a writer (it is
    // refused below); on a regular file the flag changes nothing.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(Error::io(path))?;
    let meta = file.metadata().map_err(Error::io(path))?;
    if !meta.is_file() {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            message: format!("{what} is not a regular file"),
        });
    }
    let size = meta.len();
    hallmark_model::limits::check(what, size, limit)?;
    let spend = |n: u64| match budget {
        Some(b) => b.spend(Work::Bytes, n).map_err(Error::budget),
        None => Ok(()),
    };
    spend(size)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::io(path))?;
    hallmark_model::limits::check(what, bytes.len() as u64, limit)?;
    // A file that grew, or reports no size (a device), is charged for what was read.
    spend((bytes.len() as u64).saturating_sub(size))?;
    Ok(bytes)
}

#[cfg(test)]
mod list_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use hallmark_model::digest::DigestAlgorithm;

    fn subject(byte: u8) -> Subject {
        Subject {
            digest: Digest::from_bytes(DigestAlgorithm::Sha256, &[byte; 32]),
            size: 3,
            media_type: crate::oci::FILE_MEDIA_TYPE.to_owned(),
        }
    }

    #[test]
    fn a_fifo_in_place_of_a_blob_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("blob");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // Without O_NONBLOCK this open would block until a writer came: the test would hang.
        let e = read_limited(&fifo, 1024, "blob").unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let file = dir.path().join("file");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(read_limited(&file, 1024, "blob").unwrap(), b"abc");
    }

    #[test]
    fn stores_and_finds_by_subject() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path().join("s")).unwrap();
        store
            .put(b"bundle-1", &[subject(1), subject(2)], &BTreeMap::new())
            .unwrap();
        store
            .put(b"bundle-1", &[subject(1)], &BTreeMap::new())
            .unwrap();
        let found = store.referrers(&subject(1).digest).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bundle, b"bundle-1");
        assert_eq!(store.referrers(&subject(2).digest).unwrap().len(), 1);
        // One manifest for both subjects, two index entries.
        assert_eq!(store.read_index().unwrap().manifests.len(), 2);
        assert!(store.referrers(&subject(3).digest).unwrap().is_empty());
    }

    #[test]
    fn put_all_stores_each_once_with_one_index_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path().join("s")).unwrap();
        let none = BTreeMap::new();
        let (one, two) = ([subject(1), subject(2)], [subject(3)]);
        let batch = [
            Attestation {
                bundle: b"bundle-1",
                subjects: &one,
                annotations: &none,
            },
            Attestation {
                bundle: b"bundle-2",
                subjects: &two,
                annotations: &none,
            },
            Attestation {
                bundle: b"bundle-1",
                subjects: &one,
                annotations: &none,
            },
        ];
        let stored = store.put_all(&batch).unwrap();
        assert_eq!(stored.len(), 3);
        assert_eq!(stored[0], stored[2]);
        assert_eq!(store.read_index().unwrap().manifests.len(), 3);
        assert_eq!(
            store.referrers(&subject(3).digest).unwrap()[0].bundle,
            b"bundle-2"
        );
        assert_eq!(
            store.referrers(&subject(2).digest).unwrap()[0].bundle,
            b"bundle-1"
        );
        let empty: [Subject; 0] = [];
        let bad = [Attestation {
            bundle: b"x",
            subjects: &empty,
            annotations: &none,
        }];
        assert!(store.put_all(&bad).is_err());
    }

    #[test]
    fn lists_the_manifests_of_one_predicate_type_once_each_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let typed =
            |t: &str| BTreeMap::from([(ANNOTATION_PREDICATE_TYPE.to_owned(), t.to_owned())]);
        let d1 = store
            .put(b"d1", &[subject(1), subject(2)], &typed("deploy"))
            .unwrap();
        store.put(b"a1", &[subject(1)], &typed("approve")).unwrap();
        store.put(b"u1", &[subject(1)], &BTreeMap::new()).unwrap();
        let d2 = store.put(b"d2", &[subject(3)], &typed("deploy")).unwrap();
        assert_eq!(
            store.manifests_of_type("deploy").unwrap(),
            vec![d1.digest, d2.digest]
        );
        assert!(store.manifests_of_type("other").unwrap().is_empty());
    }

    /// `put` writes its entries itself: the index reads back as the descriptors it returns, and
    /// serializes back to the same bytes.
    #[test]
    fn added_entries_are_plain_descriptors() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let annotations = BTreeMap::from([
            (
                ANNOTATION_PREDICATE_TYPE.to_owned(),
                "https://slsa.dev/provenance/v1".to_owned(),
            ),
            ("x".to_owned(), "y".to_owned()),
        ]);
        let first = store
            .put(b"b1", &[subject(1), subject(2), subject(1)], &annotations)
            .unwrap();
        store.put(b"b2", &[subject(3)], &BTreeMap::new()).unwrap();
        let index = store.read_index().unwrap();
        assert_eq!(index.manifests.len(), 3);
        assert_eq!(index.manifests[0], first);
        assert_eq!(
            first.annotations[ANNOTATION_PREDICATE_TYPE],
            "https://slsa.dev/provenance/v1"
        );
        assert_eq!(
            first.annotations[ANNOTATION_SUBJECT],
            subject(1).digest.to_string()
        );
        assert_eq!(
            index.manifests[1].annotations[ANNOTATION_SUBJECT],
            subject(2).digest.to_string()
        );
        assert!(
            !index.manifests[2]
                .annotations
                .contains_key(ANNOTATION_PREDICATE_TYPE)
        );
        let bytes = std::fs::read(store.index_path()).unwrap();
        assert_eq!(serde_json::to_vec(&index).unwrap(), bytes);
    }

    #[test]
    fn detects_tampered_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let d = store
            .put(b"bundle", &[subject(1)], &BTreeMap::new())
            .unwrap();
        let manifest = store.read_blob(&d.digest, MAX_MANIFEST_BYTES).unwrap();
        let m: Manifest = serde_json::from_slice(&manifest).unwrap();
        let path = store.blob_path(&m.layers[0].digest).unwrap();
        std::fs::write(path, b"evil").unwrap();
        assert!(matches!(
            store.referrers(&subject(1).digest),
            Err(Error::DigestMismatch { .. })
        ));
    }

    #[test]
    fn pending_entries_survive_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let d = store
            .put(b"bundle", &[subject(1)], &BTreeMap::new())
            .unwrap();
        store
            .mark_pending(&d.digest, "oci://r/x@sha256:aa")
            .unwrap();
        store
            .mark_pending(&d.digest, "oci://r/x@sha256:aa")
            .unwrap();
        let pending = store.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            store
                .attestation(&pending[0].manifest_digest)
                .unwrap()
                .bundle,
            b"bundle"
        );
        store.clear_pending(&pending[0]).unwrap();
        assert!(store.pending().unwrap().is_empty());
    }

    #[test]
    fn refuses_to_take_over_a_non_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), b"").unwrap();
        assert!(matches!(
            LayoutStore::open(dir.path()),
            Err(Error::NotALayout(_))
        ));
    }

    #[test]
    fn concurrent_first_opens_create_one_store() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("fresh");
            let threads: Vec<_> = (0..6u8)
                .map(|t| {
                    let root = root.clone();
                    std::thread::spawn(move || {
                        LayoutStore::open(&root)
                            .unwrap()
                            .put(&[t], &[subject(t)], &BTreeMap::new())
                            .unwrap();
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(
                LayoutStore::open(&root)
                    .unwrap()
                    .read_index()
                    .unwrap()
                    .manifests
                    .len(),
                6
            );
        }
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        LayoutStore::open(&root).unwrap();
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let store = LayoutStore::open(&root).unwrap();
                    for i in 0..10u8 {
                        let body = [t, i];
                        store
                            .put(&body, &[subject(t * 10 + i)], &BTreeMap::new())
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = LayoutStore::open(&root).unwrap();
        assert_eq!(store.read_index().unwrap().manifests.len(), 80);
    }

    fn many(n: u16) -> Vec<Subject> {
        (0..n)
            .map(|i| Subject {
                digest: hallmark_attester::hashing::sha256(&i.to_be_bytes()),
                size: 1,
                media_type: crate::oci::FILE_MEDIA_TYPE.to_owned(),
            })
            .collect()
    }

    fn lookup(store: &LayoutStore, digest: &Digest) -> (Vec<String>, Vec<String>) {
        let reader = StoreReader::open(store.clone()).unwrap();
        let found = reader
            .referrers(digest, &Budget::default())
            .into_iter()
            .map(|r| r.manifest_digest)
            .collect();
        let skipped = reader
            .take_skipped()
            .into_iter()
            .map(|s| s.error.to_string())
            .collect();
        (found, skipped)
    }

    /// The list of `store`'s only subject-list entry: (manifest path, layer path).
    fn list_paths(store: &LayoutStore) -> (PathBuf, PathBuf) {
        let index = store.read_index().unwrap();
        let entry = index
            .manifests
            .iter()
            .find(|d| d.artifact_type.as_deref() == Some(SUBJECTS_ARTIFACT_TYPE))
            .unwrap();
        let manifest: Manifest =
            serde_json::from_slice(&store.read_blob(&entry.digest, MAX_MANIFEST_BYTES).unwrap())
                .unwrap();
        (
            store.blob_path(&entry.digest).unwrap(),
            store.blob_path(&manifest.layers[0].digest).unwrap(),
        )
    }

    #[test]
    fn many_subjects_go_into_one_sorted_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let mut subjects = many(1000);
        let sha512 = Subject {
            digest: Digest::from_bytes(DigestAlgorithm::Sha512, &[7; 64]),
            size: 1,
            media_type: crate::oci::FILE_MEDIA_TYPE.to_owned(),
        };
        subjects.push(sha512.clone());
        subjects.push(subjects[5].clone());
        let d = store.put(b"big", &subjects, &BTreeMap::new()).unwrap();
        let small = store.put(b"small", &many(3), &BTreeMap::new()).unwrap();
        // Again: nothing added.
        store.put(b"big", &subjects, &BTreeMap::new()).unwrap();
        let index = store.read_index().unwrap();
        // big: its first subject, the SHA-512 one, its list; small: three entries.
        assert_eq!(index.manifests.len(), 6, "{index:?}");
        assert_eq!(index.manifests[0], d);
        let list = &index.manifests[2];
        assert_eq!(list.artifact_type.as_deref(), Some(SUBJECTS_ARTIFACT_TYPE));
        assert_eq!(list.annotations[ANNOTATION_SUBJECTS_OF], d.digest);
        let manifest: Manifest =
            serde_json::from_slice(&store.read_blob(&list.digest, MAX_MANIFEST_BYTES).unwrap())
                .unwrap();
        assert_eq!(manifest.subject.as_ref().unwrap().digest, d.digest);
        let layer = store
            .read_blob(&manifest.layers[0].digest, MAX_SUBJECT_LIST_BYTES)
            .unwrap();
        assert_eq!(layer.len() as u64, 1000 * SUBJECT_RECORD_BYTES);
        let mut lines: Vec<String> = many(1000)
            .iter()
            .map(|s| format!("{}\n", s.digest))
            .collect();
        lines.sort();
        assert_eq!(String::from_utf8(layer).unwrap(), lines.concat());
        // (The first three are small's subjects too, see below.)
        for s in many(1000)[3..].iter().chain([&sha512]) {
            let (found, skipped) = lookup(&store, &s.digest);
            assert_eq!(found, vec![d.digest.clone()], "{}", s.digest);
            assert!(skipped.is_empty());
        }
        // small's subjects are many(3), also the first three of big's.
        assert_eq!(
            lookup(&store, &many(3)[1].digest).0,
            [d.digest.clone(), small.digest.clone()]
        );
        for other in [subject(1), subject(0xff)] {
            assert_eq!(lookup(&store, &other.digest), (vec![], vec![]));
        }
        assert_eq!(store.referrers(&many(1000)[999].digest).unwrap().len(), 1);
    }

    #[test]
    fn a_bad_list_is_refused_and_the_rest_still_answers() {
        type Tamper = fn(&Path, &Path);
        let tampers: [(&str, Tamper); 6] = [
            ("truncated", |_, layer| {
                let bytes = std::fs::read(layer).unwrap();
                std::fs::write(layer, &bytes[..bytes.len() - 5]).unwrap();
            }),
            ("reversed", |_, layer| {
                let bytes = std::fs::read(layer).unwrap();
                let mut records: Vec<&[u8]> = bytes.chunks(72).collect();
                records.reverse();
                std::fs::write(layer, records.concat()).unwrap();
            }),
            ("not digests", |_, layer| {
                let len = std::fs::metadata(layer).unwrap().len();
                std::fs::write(layer, vec![b'z'; len as usize]).unwrap();
            }),
            ("missing", |_, layer| std::fs::remove_file(layer).unwrap()),
            ("manifest edited", |manifest, _| {
                std::fs::write(manifest, b"{}").unwrap();
            }),
            ("manifest not json", |manifest, _| {
                std::fs::write(manifest, b"\xff").unwrap();
            }),
        ];
        for (what, tamper) in tampers {
            let dir = tempfile::tempdir().unwrap();
            let store = LayoutStore::open(dir.path()).unwrap();
            let subjects = many(100);
            let big = store.put(b"big", &subjects, &BTreeMap::new()).unwrap();
            let other = store
                .put(b"other", &[subjects[50].clone()], &BTreeMap::new())
                .unwrap();
            let (manifest, layer) = list_paths(&store);
            tamper(&manifest, &layer);
            let (found, skipped) = lookup(&store, &subjects[50].digest);
            assert_eq!(found, vec![other.digest.clone()], "{what}");
            assert_eq!(skipped.len(), 1, "{what}: {skipped:?}");
            if ["truncated", "reversed", "not digests"].contains(&what) {
                assert!(skipped[0].contains("subject list"), "{what}: {skipped:?}");
            }
            // The first subject has its own entry.
            assert_eq!(
                lookup(&store, &subjects[0].digest).0,
                vec![big.digest.clone()],
                "{what}"
            );
            // Strict readers (copy, push) report it.
            assert!(store.referrers(&subjects[50].digest).is_err(), "{what}");
        }
    }

    #[test]
    fn a_list_claiming_a_huge_layer_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let subjects = many(20);
        let big = store.put(b"big", &subjects, &BTreeMap::new()).unwrap();
        let config = store.write_blob(EMPTY_CONFIG).unwrap();
        let keys: Vec<String> = subjects.iter().map(|s| s.digest.to_string()).collect();
        let (mut entry, _) = subjects::write_list(&store, &keys, &big.digest, big.size, &config)
            .unwrap()
            .unwrap();
        let mut manifest: Manifest =
            serde_json::from_slice(&store.read_blob(&entry.digest, MAX_MANIFEST_BYTES).unwrap())
                .unwrap();
        manifest.layers[0].size = MAX_SUBJECT_LIST_BYTES + SUBJECT_RECORD_BYTES;
        let bytes = serde_json::to_vec(&manifest).unwrap();
        entry.digest = store.write_blob(&bytes).unwrap();
        let mut index = store.read_index().unwrap();
        index
            .manifests
            .retain(|d| d.artifact_type.as_deref() != Some(SUBJECTS_ARTIFACT_TYPE));
        index.manifests.push(entry);
        store.write_index(&index).unwrap();
        let (found, skipped) = lookup(&store, &subjects[3].digest);
        assert!(found.is_empty());
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].contains("subject list"), "{skipped:?}");
    }

    /// A store written before subject lists: one entry per subject, all still found.
    #[test]
    fn per_subject_entries_of_older_stores_are_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let subjects = many(40);
        let d = store.put(b"old", &subjects[..1], &BTreeMap::new()).unwrap();
        let entries = subjects[1..]
            .iter()
            .map(|s| {
                let mut e = d.clone();
                e.annotations
                    .insert(ANNOTATION_SUBJECT.to_owned(), s.digest.to_string());
                e
            })
            .collect();
        store.add_index_entries(entries).unwrap();
        assert_eq!(store.read_index().unwrap().manifests.len(), 40);
        for s in &subjects {
            assert_eq!(lookup(&store, &s.digest), (vec![d.digest.clone()], vec![]));
        }
        // A new attestation of many subjects lands beside them, and both answer.
        let new = store.put(b"new", &subjects, &BTreeMap::new()).unwrap();
        assert_eq!(store.read_index().unwrap().manifests.len(), 42);
        assert_eq!(
            lookup(&store, &subjects[39].digest).0,
            [d.digest.clone(), new.digest.clone()]
        );
    }

    #[test]
    fn concurrent_writers_of_many_subjects_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        LayoutStore::open(&root).unwrap();
        let threads: Vec<_> = (0..6u8)
            .map(|t| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let store = LayoutStore::open(&root).unwrap();
                    store
                        .put(&[t], &many(50 + u16::from(t)), &BTreeMap::new())
                        .unwrap()
                })
            })
            .collect();
        let digests: Vec<String> = threads
            .into_iter()
            .map(|t| t.join().unwrap().digest)
            .collect();
        let store = LayoutStore::open(&root).unwrap();
        assert_eq!(store.read_index().unwrap().manifests.len(), 12);
        let (found, skipped) = lookup(&store, &many(55)[54].digest);
        assert!(skipped.is_empty());
        assert_eq!(found, [digests[5].clone()]);
        assert_eq!(lookup(&store, &many(1)[0].digest).0.len(), 6);
    }
}
