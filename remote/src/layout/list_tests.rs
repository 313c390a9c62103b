//! Subject lists under many lookups (a chain walk) and at the store's limits on lists.

use std::collections::BTreeMap;

use hallmark_model::budget::{Budget, Limits, Work};
use hallmark_model::digest::Digest;
use hallmark_model::limits::{MAX_STORE_SUBJECT_LIST_BYTES, MAX_STORE_SUBJECT_LISTS};

use super::subjects::{self, MAX_SUBJECT_LIST_BYTES, PROBED_LOOKUPS};
use super::*;

/// `n` distinct subjects, different for each `seed`.
fn subjects_of(seed: u32, n: u32) -> Vec<Subject> {
    (0..n)
        .map(|i| Subject {
            digest: hallmark_attester::hashing::sha256(
                &[seed.to_be_bytes(), i.to_be_bytes()].concat(),
            ),
            size: 1,
            media_type: crate::oci::FILE_MEDIA_TYPE.to_owned(),
        })
        .collect()
}

fn list_entries(store: &LayoutStore) -> Vec<Descriptor> {
    store
        .read_index()
        .unwrap()
        .manifests
        .into_iter()
        .filter(|d| d.artifact_type.as_deref() == Some(SUBJECTS_ARTIFACT_TYPE))
        .collect()
}

fn layer_of(store: &LayoutStore, list: &Descriptor) -> Descriptor {
    let manifest: Manifest =
        serde_json::from_slice(&store.read_blob(&list.digest, MAX_MANIFEST_BYTES).unwrap())
            .unwrap();
    manifest.layers[0].clone()
}

/// Adds to `store`'s index `count` lists of `of`'s subjects that declare a layer of
/// `declared` bytes (their layer is `layer`, whatever its real size), each a distinct manifest
/// (written without fsync: a test of thousands).
static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn add_lists(
    store: &LayoutStore,
    of: &Descriptor,
    layer: &Descriptor,
    declared: u64,
    count: usize,
) {
    let config = store.write_blob(EMPTY_CONFIG).unwrap();
    let entries = (0..count)
        .map(|_| {
            let mut layer = layer.clone();
            layer.size = declared;
            let manifest = Manifest {
                schema_version: 2,
                media_type: MANIFEST_MEDIA_TYPE.to_owned(),
                artifact_type: Some(SUBJECTS_ARTIFACT_TYPE.to_owned()),
                config: Descriptor::plain(
                    crate::oci::EMPTY_MEDIA_TYPE,
                    config.clone(),
                    EMPTY_CONFIG.len() as u64,
                ),
                layers: vec![layer],
                subject: Some(Descriptor::plain(
                    MANIFEST_MEDIA_TYPE,
                    of.digest.clone(),
                    of.size,
                )),
                // Makes each manifest distinct.
                annotations: BTreeMap::from([(
                    "n".to_owned(),
                    MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        .to_string(),
                )]),
            };
            let bytes = serde_json::to_vec(&manifest).unwrap();
            let digest = sha256_digest(&bytes);
            std::fs::write(store.blob_path(&digest).unwrap(), &bytes).unwrap();
            let mut entry = Descriptor::plain(MANIFEST_MEDIA_TYPE, digest, bytes.len() as u64);
            entry.artifact_type = Some(SUBJECTS_ARTIFACT_TYPE.to_owned());
            entry
                .annotations
                .insert(ANNOTATION_SUBJECTS_OF.to_owned(), of.digest.clone());
            entry
        })
        .collect();
    store.add_index_entries(entries).unwrap();
}

/// The one note `reader` has taken since it was last asked.
fn one_note(reader: &StoreReader) -> String {
    let skipped = reader.take_skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    skipped[0].error.to_string()
}

/// A store with one attestation of 20 subjects (so one list): the store, the attestation, its
/// subjects and its list's layer.
/// [`store_of_one_list`] with as many more lists as the count limit allows readers to use.
fn store_at_the_list_limit(dir: &Path) -> (LayoutStore, Descriptor, Vec<Subject>, Descriptor) {
    let (store, kept, first, layer) = store_of_one_list(dir);
    add_lists(
        &store,
        &kept,
        &layer,
        layer.size,
        MAX_STORE_SUBJECT_LISTS - 1,
    );
    (store, kept, first, layer)
}

fn store_of_one_list(dir: &Path) -> (LayoutStore, Descriptor, Vec<Subject>, Descriptor) {
    let store = LayoutStore::open(dir).unwrap();
    let subjects = subjects_of(1, 20);
    let kept = store.put(b"kept", &subjects, &BTreeMap::new()).unwrap();
    let [list] = list_entries(&store).try_into().unwrap();
    let layer = layer_of(&store, &list);
    (store, kept, subjects, layer)
}

fn found(reader: &StoreReader, digest: &Digest, budget: &Budget) -> Vec<String> {
    reader
        .referrers(digest, budget)
        .into_iter()
        .map(|r| r.manifest_digest)
        .collect()
}

/// The reverted first design searched every list with positioned reads for every lookup and
/// spent each read from the decision's budget: 20,000 materials in a store of 7 lists of
/// 20,000 spent about 150 MB, past the 128 MiB budget. Now each list is read whole once, after
/// a few lookups, and lists (like `index.json`) are not spent from the budget.
#[test]
fn a_walk_of_20000_lookups_reads_each_list_once_and_spends_only_on_what_it_finds() {
    let dir = tempfile::tempdir().unwrap();
    let store = LayoutStore::open(dir.path()).unwrap();
    let steps: Vec<Vec<Subject>> = (0..7).map(|seed| subjects_of(seed, 20_000)).collect();
    let none = BTreeMap::new();
    let batch: Vec<Attestation<'_>> = steps
        .iter()
        .zip([b"b0", b"b1", b"b2", b"b3", b"b4", b"b5", b"b6"])
        .map(|(subjects, bundle)| Attestation {
            bundle,
            subjects,
            annotations: &none,
        })
        .collect();
    let stored = store.put_all(&batch).unwrap();
    assert_eq!(list_entries(&store).len(), 7);
    let reader = StoreReader::open(store.clone()).unwrap();
    // A budget a tenth of a decision's: the lists alone are 10 MB.
    let budget = Budget::new(Limits {
        bytes: 1024 * 1024,
        ..Limits::default()
    });
    // The walk: every product of step 3 (a material of the next step) and as many strangers.
    let strangers = subjects_of(99, 10_000);
    for (i, s) in steps[3]
        .iter()
        .enumerate()
        .step_by(2)
        .chain(strangers.iter().enumerate())
    {
        let hits = found(&reader, &s.digest, &budget);
        if s.digest == steps[3][i].digest {
            assert_eq!(hits, vec![stored[3].digest.clone()], "{i}");
        } else {
            assert!(hits.is_empty(), "{i}");
        }
    }
    assert!(reader.take_skipped().is_empty());
    assert_eq!(budget.exhausted(), None);
    // What was spent is step 3's manifest and bundle, once.
    let manifest_bytes = stored[3].size;
    assert_eq!(budget.spent(Work::Bytes), manifest_bytes + 2);
    assert_eq!(budget.spent(Work::Attestations), 1);
    // Every list is in memory now: with their layers gone, the reader still answers.
    for list in list_entries(&store) {
        std::fs::remove_file(store.blob_path(&layer_of(&store, &list).digest).unwrap()).unwrap();
    }
    for step in 0..7 {
        assert_eq!(
            found(&reader, &steps[step][19_999].digest, &budget),
            vec![stored[step].digest.clone()]
        );
    }
    assert!(reader.take_skipped().is_empty());
    // A new reader (the next decision) reads them again and finds them gone.
    let (hits, skipped) = {
        let reader = StoreReader::open(store.clone()).unwrap();
        let hits = found(&reader, &steps[1][5].digest, &Budget::default());
        (hits, reader.take_skipped())
    };
    assert!(hits.is_empty());
    assert_eq!(skipped.len(), 7, "{skipped:?}");
}

/// A list re-digested after tampering (its manifest and index entry rewritten to match) passes
/// the digest check when read whole; its records are still checked, and the list refused with
/// a note while the rest of the store answers.
#[test]
fn a_consistently_re_digested_bad_list_is_refused_when_read_whole() {
    type Tamper = fn(&mut Vec<u8>);
    let tampers: [(&str, Tamper); 3] = [
        ("two records swapped", |layer| {
            let (a, b) = layer.split_at_mut(72 * 40);
            a[72 * 39..].swap_with_slice(&mut b[..72]);
        }),
        ("a record duplicated", |layer| {
            let copy = layer[72 * 10..72 * 11].to_vec();
            layer[72 * 11..72 * 12].copy_from_slice(&copy);
        }),
        ("upper-case hex", |layer| {
            layer[72 * 60 + 10] = b'A';
        }),
    ];
    for (what, tamper) in tampers {
        let dir = tempfile::tempdir().unwrap();
        let store = LayoutStore::open(dir.path()).unwrap();
        let subjects = subjects_of(1, 100);
        let big = store.put(b"big", &subjects, &BTreeMap::new()).unwrap();
        let other = store
            .put(b"other", &[subjects[50].clone()], &BTreeMap::new())
            .unwrap();
        let [list] = list_entries(&store).try_into().unwrap();
        let layer = layer_of(&store, &list);
        let mut bytes = store
            .read_blob(&layer.digest, MAX_SUBJECT_LIST_BYTES)
            .unwrap();
        tamper(&mut bytes);
        let mut new_layer = layer.clone();
        new_layer.digest = store.write_blob(&bytes).unwrap();
        let mut index = store.read_index().unwrap();
        index.manifests.retain(|d| d.digest != list.digest);
        store.write_index(&index).unwrap();
        add_lists(&store, &big, &new_layer, new_layer.size, 1);
        let reader = StoreReader::open(store.clone()).unwrap();
        let budget = Budget::default();
        let mut skipped = Vec::new();
        // Lookups far from the tampered records: the positioned reads do not see them.
        for _ in 0..PROBED_LOOKUPS {
            found(&reader, &subjects_of(2, 1)[0].digest, &budget);
            skipped.extend(reader.take_skipped());
        }
        // The next lookup reads the list whole.
        assert_eq!(
            found(&reader, &subjects[50].digest, &budget),
            vec![other.digest.clone()],
            "{what}"
        );
        skipped.extend(reader.take_skipped());
        assert_eq!(skipped.len(), 1, "{what}: {skipped:?}");
        assert!(
            skipped[0].error.to_string().contains("subject list"),
            "{what}: {skipped:?}"
        );
        // Refused for good: no second note, and the first subject's own entry still answers.
        assert_eq!(
            found(&reader, &subjects[0].digest, &budget),
            vec![big.digest.clone()]
        );
        assert!(reader.take_skipped().is_empty());
    }
}

/// The layer changed in place (same size, still sorted digest lines): positioned reads cannot
/// tell, reading it whole checks its digest and refuses it.
#[test]
fn a_list_changed_in_place_is_refused_when_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = LayoutStore::open(dir.path()).unwrap();
    let subjects = subjects_of(1, 100);
    store.put(b"big", &subjects, &BTreeMap::new()).unwrap();
    // Looked up in list order, away from the last record, changed below.
    let mut sorted = subjects[1..].to_vec();
    sorted.sort_by_key(|s| s.digest.to_string());
    let [list] = list_entries(&store).try_into().unwrap();
    let path = store.blob_path(&layer_of(&store, &list).digest).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    // The last record's last digit, 0-e raised by one: still sorted, still a digest line.
    let last = bytes.len() - 2;
    bytes[last] = match bytes[last] {
        b'f' => b'e',
        b'9' => b'a',
        c => c + 1,
    };
    std::fs::write(&path, &bytes).unwrap();
    let reader = StoreReader::open(store.clone()).unwrap();
    let budget = Budget::default();
    for s in &sorted[..PROBED_LOOKUPS as usize] {
        assert_eq!(found(&reader, &s.digest, &budget).len(), 1);
    }
    assert!(reader.take_skipped().is_empty());
    assert!(found(&reader, &sorted[50].digest, &budget).is_empty());
    let skipped = reader.take_skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        matches!(skipped[0].error, Error::DigestMismatch { .. }),
        "{skipped:?}"
    );
}

/// Anyone who can append to the store can add lists: beyond 1,024 the rest are not read (not
/// even their manifests), with one note, and the lists within the limit still answer.
#[test]
fn lists_beyond_the_count_limit_are_not_read_with_one_note() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept, first, _) = store_at_the_list_limit(dir.path());
    // One more, beyond the limit (written without the writer, which would not add it).
    let late = subjects_of(2, 20);
    let dropped = store.put(b"late", &late[..1], &BTreeMap::new()).unwrap();
    let config = store.write_blob(EMPTY_CONFIG).unwrap();
    let keys: Vec<String> = late.iter().map(|s| s.digest.to_string()).collect();
    let (entry, _) = subjects::write_list(&store, &keys, &dropped.digest, dropped.size, &config)
        .unwrap()
        .unwrap();
    store.add_index_entries(vec![entry.clone()]).unwrap();
    std::fs::remove_file(store.blob_path(&entry.digest).unwrap()).unwrap();
    let reader = StoreReader::open(store.clone()).unwrap();
    let budget = Budget::default();
    assert_eq!(
        found(&reader, &first[7].digest, &budget),
        vec![kept.digest.clone()]
    );
    // One note for the list beyond; its manifest, removed above, was not even opened.
    let note = one_note(&reader);
    assert!(
        note.contains("1 subject lists not read") && note.contains("1024"),
        "{note}"
    );
    assert!(found(&reader, &late[7].digest, &budget).is_empty());
    // Its attestation's own entry (its first subject) still answers.
    assert_eq!(
        found(&reader, &late[0].digest, &budget),
        vec![dropped.digest.clone()]
    );
    assert!(reader.take_skipped().is_empty());
}

/// Lists declaring more bytes than the store's total allows are not read beyond it, with a
/// note; a writer at the limit stores one entry per subject instead of a list, all found.
#[test]
fn lists_beyond_the_byte_limit_are_not_read_and_writers_fall_back_to_entries() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept, first, used) = store_of_one_list(dir.path());
    let used = used.size;
    // Lists of made-up digests: 7 of the largest size and one of what is left, to the record;
    // then one more, beyond the limit.
    let records = MAX_SUBJECT_LIST_BYTES / SUBJECT_RECORD_BYTES;
    let big: String = (0..records).map(|i| format!("sha256:{i:064x}\n")).collect();
    let layer = |bytes: u64| {
        let blob = &big.as_bytes()[..bytes as usize];
        Descriptor::plain(
            subjects::SUBJECTS_LAYER_MEDIA_TYPE,
            store.write_blob(blob).unwrap(),
            bytes,
        )
    };
    let full = layer(records * SUBJECT_RECORD_BYTES);
    add_lists(&store, &kept, &full, full.size, 7);
    let left = MAX_STORE_SUBJECT_LIST_BYTES - used - 7 * full.size;
    let filler = layer(left / SUBJECT_RECORD_BYTES * SUBJECT_RECORD_BYTES);
    add_lists(&store, &kept, &filler, filler.size, 1);
    add_lists(&store, &kept, &full, full.size, 1);
    let fakes = 9;
    let reader = StoreReader::open(store.clone()).unwrap();
    let budget = Budget::default();
    assert_eq!(
        found(&reader, &first[7].digest, &budget),
        vec![kept.digest.clone()]
    );
    let note = one_note(&reader);
    assert!(
        note.contains("1 subject lists not read") && note.contains("bytes"),
        "{note}"
    );
    drop(reader);
    // The store is full of lists: a new attestation of many subjects gets an entry each.
    let entries_before = store.read_index().unwrap().manifests.len();
    let late = subjects_of(2, 30);
    let d = store.put(b"late", &late, &BTreeMap::new()).unwrap();
    assert_eq!(
        store.read_index().unwrap().manifests.len(),
        entries_before + 30
    );
    assert_eq!(list_entries(&store).len(), fakes + 1);
    let reader = StoreReader::open(store.clone()).unwrap();
    for s in &late {
        assert_eq!(found(&reader, &s.digest, &budget), vec![d.digest.clone()]);
    }
    // And storing it again adds nothing.
    store.put(b"late", &late, &BTreeMap::new()).unwrap();
    assert_eq!(
        store.read_index().unwrap().manifests.len(),
        entries_before + 30
    );
}

/// List entries beyond the count limit cost a lookup nothing: anyone who can append to the store
/// can name hundreds of thousands of lists in `index.json` (600,000 fit in its 128 MiB), and a
/// lookup that stepped over each made a 20,000-material walk take minutes (2.4 ms a lookup).
/// Only the lists in use are searched; the others are noted once.
#[test]
fn a_lookup_searches_only_the_lists_in_use_however_many_the_index_names() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept, first, _) = store_at_the_list_limit(dir.path());
    // Appended entries naming lists that are not there (their manifests are never opened).
    let appended = 5000;
    let mut index = store.read_index().unwrap();
    index.manifests.extend((0..appended).map(|i| {
        let mut entry = Descriptor::plain(MANIFEST_MEDIA_TYPE, format!("sha256:{i:064x}"), 600);
        entry.artifact_type = Some(SUBJECTS_ARTIFACT_TYPE.to_owned());
        entry
    }));
    store.write_index(&index).unwrap();
    let reader = StoreReader::open(store.clone()).unwrap();
    let budget = Budget::default();
    assert_eq!(
        found(&reader, &first[7].digest, &budget),
        vec![kept.digest.clone()]
    );
    assert_eq!(reader.searched_lists(), MAX_STORE_SUBJECT_LISTS);
    let note = one_note(&reader);
    assert!(note.contains("5000 subject lists not read"), "{note}");
    // A list found bad is dropped from the search too.
    let index = store.read_index().unwrap();
    let bad_list = index
        .manifests
        .iter()
        .find(|d| d.artifact_type.as_deref() == Some(SUBJECTS_ARTIFACT_TYPE))
        .unwrap();
    let layer_path = store.blob_path(&layer_of(&store, bad_list).digest).unwrap();
    std::fs::remove_file(layer_path).unwrap();
    let reader = StoreReader::open(store.clone()).unwrap();
    // Every list of this store shares that layer: each is refused at its first search.
    assert!(found(&reader, &first[7].digest, &budget).is_empty());
    assert_eq!(reader.searched_lists(), 0);
}
