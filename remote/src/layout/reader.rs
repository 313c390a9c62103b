//! The store as one decision reads it. `index.json` is parsed once into a table of subject →
//! manifests (a typed, borrowing parse of the fields used, not a document tree) and the
//! subject lists it names, each list opened once and read at most once whole (see
//! [`super::subjects`]); `index.json` and the lists are the store's index, bounded by their
//! own limits and not spent from a decision's budget. Each manifest and bundle blob is read and
//! digest-checked at most once, however many entries list it; every byte and document of
//! evidence read is spent from the decision's [`Budget`]; and an entry that
//! cannot be read (dangling, tampered, oversize, not JSON) is skipped with its reason, so the
//! decision is made on what verifies instead of failing for everyone.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use hallmark_model::budget::{Budget, Work};
use hallmark_model::bundle::BUNDLE_V0_3;
use hallmark_model::digest::Digest;
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES, MAX_STORE_SUBJECT_LISTS};
use serde::Deserialize;

use super::LayoutStore;
use super::subjects::{self, ListRoom, SUBJECTS_ARTIFACT_TYPE, SubjectList};
use crate::oci::Manifest;
use crate::{Error, Result};

/// Most attestations read for one digest (approvals and VSAs accumulate; beyond this the store
/// is taken as flooded and the rest are not read).
pub const MAX_STORED_ATTESTATIONS: usize = 4096;

/// `index.json` as the lookups need it: each entry's manifest digest and subject annotation.
#[derive(Deserialize)]
struct IndexDoc<'a> {
    #[serde(borrow, default)]
    manifests: Vec<IndexEntry<'a>>,
}

#[derive(Deserialize)]
struct IndexEntry<'a> {
    #[serde(borrow)]
    digest: Cow<'a, str>,
    #[serde(borrow, default, rename = "artifactType")]
    artifact_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    annotations: Option<EntryAnnotations<'a>>,
}

#[derive(Deserialize)]
struct EntryAnnotations<'a> {
    #[serde(borrow, rename = "dev.hallmark.subject")]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "dev.hallmark.subjects.of")]
    subjects_of: Option<Cow<'a, str>>,
}

/// A subject list `index.json` names.
#[derive(Debug, Clone)]
struct ListEntry {
    /// Its place in the index (lookups answer oldest first).
    position: usize,
    /// The list manifest.
    digest: String,
    /// The attestation manifest the index says it lists the subjects of.
    annotated_of: Option<String>,
}

/// The store's index read once: subject digest → attestation manifest digests (oldest first,
/// each once), and the subject lists (see [`super::subjects`]) to search.
#[derive(Debug, Clone, Default)]
pub struct ReferrerIndex {
    /// Subject → (place in the index, manifest).
    by_subject: HashMap<String, Vec<(usize, String)>>,
    lists: Vec<ListEntry>,
}

impl ReferrerIndex {
    /// Parses `index.json`.
    pub(super) fn parse(bytes: &[u8]) -> serde_json::Result<Self> {
        let doc: IndexDoc<'_> = serde_json::from_slice(bytes)?;
        let mut by_subject: HashMap<String, Vec<(usize, String)>> = HashMap::new();
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        let mut lists = Vec::new();
        let mut seen_lists: HashSet<&str> = HashSet::new();
        for (position, entry) in doc.manifests.iter().enumerate() {
            let annotations = entry.annotations.as_ref();
            if entry.artifact_type.as_deref() == Some(SUBJECTS_ARTIFACT_TYPE) {
                if seen_lists.insert(&entry.digest) {
                    lists.push(ListEntry {
                        position,
                        digest: entry.digest.clone().into_owned(),
                        annotated_of: annotations
                            .and_then(|a| a.subjects_of.as_deref())
                            .map(str::to_owned),
                    });
                }
                continue;
            }
            let Some(subject) = annotations.and_then(|a| a.subject.as_deref()) else {
                continue;
            };
            if seen.insert((subject, &entry.digest)) {
                by_subject
                    .entry(subject.to_owned())
                    .or_default()
                    .push((position, entry.digest.clone().into_owned()));
            }
        }
        Ok(ReferrerIndex { by_subject, lists })
    }

    /// The manifests `index.json` lists under `digest` itself (not those of subject lists),
    /// with their places in the index.
    fn entries(&self, digest: &Digest) -> &[(usize, String)] {
        self.by_subject
            .get(&digest.to_string())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// How many subject lists the index names.
    pub fn subject_lists(&self) -> usize {
        self.lists.len()
    }
}

/// An attestation read from the store for a decision.
#[derive(Debug, Clone)]
pub struct Referrer {
    /// The artifact manifest that holds it.
    pub manifest_digest: String,
    /// The bundle blob's digest (checked).
    pub bundle_digest: String,
    /// The bundle, shared between every lookup that finds it.
    pub bundle: Arc<[u8]>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// An index entry that could not be used, and why.
#[derive(Debug)]
pub struct Skipped {
    /// The manifest the entry names.
    pub manifest_digest: String,
    /// What went wrong reading it.
    pub error: Error,
}

/// What reading one listed attestation came to.
pub(crate) enum EntryRead<T> {
    /// It, or `None` when the entry is not an attestation.
    Found(Option<T>),
    /// It could not be used: skip it, with the reason.
    Skipped(Error),
    /// The decision's budget is spent: read nothing more.
    OutOfBudget,
}

impl<T> From<Result<Option<T>>> for EntryRead<T> {
    fn from(read: Result<Option<T>>) -> Self {
        match read {
            Ok(found) => EntryRead::Found(found),
            Err(Error::Model(hallmark_model::Error::Budget(_))) => EntryRead::OutOfBudget,
            Err(error) => EntryRead::Skipped(error),
        }
    }
}

/// The store read for one decision (see the module documentation).
#[derive(Debug)]
pub struct StoreReader {
    store: LayoutStore,
    index: ReferrerIndex,
    /// Manifest digest → its attestation; `None` when it holds none or was skipped.
    manifests: RefCell<HashMap<String, Option<Referrer>>>,
    /// Bundle blobs by digest (several manifests may share one).
    blobs: RefCell<HashMap<String, Arc<[u8]>>>,
    /// The subject lists a lookup searches, opened at the first lookup: each with its place in
    /// `index.lists`, only those within the store's limits that opened (the rest are noted
    /// once and dropped, so a lookup's work is bounded by [`MAX_STORE_SUBJECT_LISTS`], not by
    /// how many list entries `index.json` names); a list found bad later is dropped too.
    lists: RefCell<Option<Vec<(usize, SubjectList)>>>,
    skipped: RefCell<Vec<Skipped>>,
}

impl StoreReader {
    /// Reads `store`'s index.
    pub fn open(store: LayoutStore) -> Result<Self> {
        let index = store.referrer_index()?;
        Ok(StoreReader {
            store,
            index,
            manifests: RefCell::default(),
            blobs: RefCell::default(),
            lists: RefCell::default(),
            skipped: RefCell::default(),
        })
    }

    /// The store.
    pub fn store(&self) -> &LayoutStore {
        &self.store
    }

    /// The entries skipped so far (each once), emptying the list.
    pub fn take_skipped(&self) -> Vec<Skipped> {
        std::mem::take(&mut self.skipped.borrow_mut())
    }

    /// The attestations the index lists for `digest`, oldest first. Unreadable entries are
    /// skipped (see [`Self::take_skipped`]); once `budget` is spent, the rest are not read.
    pub fn referrers(&self, digest: &Digest, budget: &Budget) -> Vec<Referrer> {
        let mut found = Vec::new();
        let listed = self.listed(digest);
        if listed.len() > MAX_STORED_ATTESTATIONS {
            self.skipped.borrow_mut().push(Skipped {
                manifest_digest: format!("{} more", listed.len() - MAX_STORED_ATTESTATIONS),
                error: Error::Corrupt {
                    path: self.store.index_path(),
                    message: format!(
                        "more than {MAX_STORED_ATTESTATIONS} attestations refer to {digest}; the rest were not read"
                    ),
                },
            });
        }
        for manifest_digest in listed.iter().take(MAX_STORED_ATTESTATIONS) {
            let known = self.manifests.borrow().get(manifest_digest).cloned();
            let read = match known {
                Some(read) => read,
                None => match EntryRead::from(self.read(manifest_digest, budget)) {
                    EntryRead::Found(read) => {
                        self.manifests
                            .borrow_mut()
                            .insert(manifest_digest.clone(), read.clone());
                        read
                    }
                    EntryRead::OutOfBudget => break,
                    EntryRead::Skipped(error) => {
                        self.manifests
                            .borrow_mut()
                            .insert(manifest_digest.clone(), None);
                        self.skipped.borrow_mut().push(Skipped {
                            manifest_digest: manifest_digest.clone(),
                            error,
                        });
                        None
                    }
                },
            };
            found.extend(read);
        }
        found
    }

    /// The manifests listed for `digest`, by entry or subject list, in index order, each once.
    /// A list that cannot be used is skipped with a note (once), the rest of the store still
    /// answers.
    fn listed(&self, digest: &Digest) -> Vec<String> {
        let mut listed: Vec<(usize, String)> = self.index.entries(digest).to_vec();
        // A digest no list can hold (not SHA-256) opens none.
        let Some(target) = subjects::key(digest) else {
            return Self::in_order(listed);
        };
        let mut lists = self.lists.borrow_mut();
        let lists = lists.get_or_insert_with(|| self.open_lists());
        lists.retain_mut(|(i, subjects)| {
            let entry = &self.index.lists[*i];
            match subjects.contains(&self.store, &target) {
                Ok(true) => {
                    listed.push((entry.position, subjects.of.clone()));
                    true
                }
                Ok(false) => true,
                Err(error) => {
                    // A list found bad is not searched again.
                    self.skip(&entry.digest, error);
                    false
                }
            }
        });
        Self::in_order(listed)
    }

    /// The manifests of `listed` in index order, each once.
    fn in_order(mut listed: Vec<(usize, String)>) -> Vec<String> {
        listed.sort_by_key(|(position, _)| *position);
        let mut seen = HashSet::new();
        listed
            .into_iter()
            .map(|(_, manifest)| manifest)
            .filter(|m| seen.insert(m.clone()))
            .collect()
    }

    /// Opens the lists the index names, in its order, each once for this reader; those that
    /// cannot be read are noted, and those beyond the store's limits on lists are not read
    /// (one note for them all).
    fn open_lists(&self) -> Vec<(usize, SubjectList)> {
        let mut room = ListRoom::default();
        let mut beyond: Option<(usize, String)> = None;
        let mut opened_lists = Vec::new();
        for (i, entry) in self.index.lists.iter().enumerate() {
            // Beyond the count, not even the manifest is read: anyone who can append to the
            // store can add lists, and a lookup must stay bounded.
            if room.lists >= MAX_STORE_SUBJECT_LISTS
                && let Some((count, _)) = beyond.as_mut()
            {
                *count += 1;
                continue;
            }
            let opened = (room.lists < MAX_STORE_SUBJECT_LISTS).then(|| {
                SubjectList::open(&self.store, &entry.digest, entry.annotated_of.as_deref())
            });
            let bytes = opened
                .as_ref()
                .and_then(|o| o.as_ref().ok())
                .map(SubjectList::bytes);
            match (room.take(bytes), opened) {
                (Ok(()), Some(Ok(list))) => opened_lists.push((i, list)),
                (Ok(()), Some(Err(error))) => self.skip(&entry.digest, error),
                (Ok(()), None) => {}
                (Err(why), _) => {
                    beyond
                        .get_or_insert_with(|| (0, format!("{}: {why}", entry.digest)))
                        .0 += 1;
                }
            }
        }
        if let Some((count, first)) = beyond {
            self.skip(
                &format!("{count} subject lists"),
                Error::Corrupt {
                    path: self.store.index_path(),
                    message: format!("{count} subject lists not read; the first: {first}"),
                },
            );
        }
        opened_lists
    }

    /// How many subject lists a lookup searches now (none before the first lookup).
    #[cfg(test)]
    pub(super) fn searched_lists(&self) -> usize {
        self.lists.borrow().as_ref().map_or(0, Vec::len)
    }

    fn skip(&self, manifest_digest: &str, error: Error) {
        self.skipped.borrow_mut().push(Skipped {
            manifest_digest: manifest_digest.to_owned(),
            error,
        });
    }

    /// One manifest and its bundle; `Ok(None)` when it is not an attestation manifest.
    fn read(&self, manifest_digest: &str, budget: &Budget) -> Result<Option<Referrer>> {
        budget.spend(Work::Attestations, 1).map_err(Error::budget)?;
        let bytes =
            self.store
                .read_blob_within(manifest_digest, MAX_MANIFEST_BYTES, Some(budget))?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path: self.store.blob_path(manifest_digest).unwrap_or_default(),
            message: format!("manifest: {e}"),
        })?;
        // Only attestation manifests. The index entry names the subject (a manifest's OCI
        // subject is only the first of a multi-product step); the verifier then checks that
        // the signed statement itself lists the artifact, so a forged entry is just rejected.
        if manifest.artifact_type.as_deref() != Some(BUNDLE_V0_3) {
            return Ok(None);
        }
        let Some(layer) = manifest.layers.iter().find(|l| {
            l.media_type
                .starts_with("application/vnd.dev.sigstore.bundle")
        }) else {
            return Ok(None);
        };
        let known = self.blobs.borrow().get(&layer.digest).cloned();
        let bundle = match known {
            Some(bundle) => bundle,
            None => {
                let bundle: Arc<[u8]> = self
                    .store
                    .read_blob_within(&layer.digest, MAX_BUNDLE_BYTES, Some(budget))?
                    .into();
                self.blobs
                    .borrow_mut()
                    .insert(layer.digest.clone(), Arc::clone(&bundle));
                bundle
            }
        };
        Ok(Some(Referrer {
            manifest_digest: manifest_digest.to_owned(),
            bundle_digest: layer.digest.clone(),
            bundle,
            annotations: manifest.annotations,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_read_by_subject_with_duplicates_once() {
        let index = ReferrerIndex::parse(
            br#"{"schemaVersion":2,"manifests":[
                {"digest":"sha256:m1","annotations":{"dev.hallmark.subject":"sha256:aa","x":"y"}},
                {"digest":"sha256:m1","annotations":{"dev.hallmark.subject":"sha256:aa"}},
                {"digest":"sha256:m2","size":1,"annotations":{"dev.hallmark.subject":"sha256:aa"}},
                {"digest":"sha256:img","annotations":{"org.opencontainers.image.ref.name":"v1"}},
                {"digest":"sha256:m3"}]}"#,
        )
        .unwrap();
        assert_eq!(index.by_subject.len(), 1);
        assert_eq!(
            index.by_subject["sha256:aa"],
            [(0, "sha256:m1".to_owned()), (2, "sha256:m2".to_owned())]
        );
        assert!(index.lists.is_empty());
    }
}
