//! Denial of service by anyone who can write to the store or hand over a `--bundle`: each attack
//! of the security report, replayed at test scale, ends in the right verdict (ALLOWED on the
//! genuine evidence next to the junk, with a warning, or DENIED with a stable code), never an
//! error or a stall. bench/dos.sh replays them at full scale and times them.

use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{Run, Scratch};

const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// The policy of the genuine build → package chain (key k).
pub(crate) const POLICY: &str = "apiVersion: hallmark.dev/policy/v1
kind: ReleasePolicy
steps:
  build:   {signers: [k.pub], inputs: [source]}
  package: {signers: [k.pub], inputs: [build]}
sources:
  repositories: [https://git.example/acme/app]
  refs: [refs/heads/*]
";

/// The genuine two-step chain (build → package, key k) and a policy for it.
fn genuine() -> Scratch {
    let s = Scratch::repo();
    s.build_and_package();
    std::fs::write(s.file("release.yaml"), POLICY).unwrap();
    s
}

/// `verify dist/app.tar` against [`POLICY`], as JSON, expecting exit `code`.
pub(crate) fn verify(s: &Scratch, code: i32) -> Run {
    s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--policy",
            "release.yaml",
            "--format",
            "json",
        ],
        code,
    )
}

fn sha256(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    format!("sha256:{}", hallmark_model::hex::encode(d.as_ref()))
}

fn file_digest(s: &Scratch, rel: &str) -> String {
    sha256(&std::fs::read(s.file(rel)).unwrap())
}

/// The digests of the chain: the artifact and every material.
fn chain_digests(s: &Scratch) -> Vec<String> {
    ["dist/app.tar", "out/app", "src/a.c", "src/b.c"]
        .iter()
        .map(|f| file_digest(s, f))
        .collect()
}

fn store(s: &Scratch) -> PathBuf {
    s.file(".hallmark/store")
}

fn put_blob(s: &Scratch, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let path = store(s).join("blobs/sha256").join(&digest[7..]);
    std::fs::write(path, bytes).unwrap();
    digest
}

/// Index entries naming `manifest` for each of `subjects`, appended to index.json.
fn list(s: &Scratch, manifest: &str, subjects: &[String]) {
    let path = store(s).join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let entries = index["manifests"].as_array_mut().unwrap();
    for subject in subjects {
        entries.push(
            json!({"mediaType": MANIFEST, "digest": manifest, "size": 400,
            "artifactType": BUNDLE, "annotations": {"dev.hallmark.subject": subject}}),
        );
    }
    std::fs::write(&path, serde_json::to_vec(&index).unwrap()).unwrap();
}

/// A bundle claiming SLSA provenance for `subjects` (padded with `padding` more), with
/// `signatures` bogus signatures.
fn junk_bundle(subjects: &[String], padding: usize, signatures: usize) -> Vec<u8> {
    let mut claimed: Vec<Value> = subjects
        .iter()
        .map(|d| json!({"name": "x", "digest": {"sha256": &d[7..]}}))
        .collect();
    claimed.extend((0..padding).map(|i| {
        json!({"name": format!("pad{i}"), "digest": {"sha256": &sha256(&i.to_le_bytes())[7..]}})
    }));
    let statement = json!({"_type": "https://in-toto.io/Statement/v1", "subject": claimed,
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "https://x", "externalParameters": {}},
                      "runDetails": {"builder": {"id": "junk"}}}});
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.encode(serde_json::to_vec(&statement).unwrap());
    let signature = json!({"keyid": "", "sig": b64.encode([0x30u8; 70])});
    serde_json::to_vec(&json!({"mediaType": BUNDLE,
        "verificationMaterial": {"publicKey": {"hint": "junk"}, "tlogEntries": []},
        "dsseEnvelope": {"payload": payload, "payloadType": "application/vnd.in-toto+json",
                         "signatures": vec![signature; signatures]}}))
    .unwrap()
}

/// Stores `bundle` as an attestation manifest and returns the manifest's digest.
fn put_attestation(s: &Scratch, bundle: &[u8]) -> String {
    let config = put_blob(s, b"{}");
    let layer = put_blob(s, bundle);
    let manifest = json!({"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": BUNDLE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": BUNDLE, "digest": layer, "size": bundle.len()}]});
    put_blob(s, &serde_json::to_vec(&manifest).unwrap())
}

fn allowed(run: &Run) {
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["verdict"], "allow", "{}", run.text());
}

/// Asserts that the JSON verdict denies, first by `rule`; returns the document.
fn denied(run: &Run, rule: &str) -> Value {
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["verdict"], "deny", "{}", run.text());
    assert_eq!(doc["violations"][0]["rule"], rule, "{}", run.text());
    doc
}

/// The report's first attack: many index entries naming the same large bundles. Each bundle is
/// read, parsed and checked once for the decision (the verifier's tests count it).
#[test]
fn bundles_listed_for_every_digest_are_read_once_and_the_genuine_chain_decides() {
    let s = genuine();
    let digests = chain_digests(&s);
    for n in 0..4 {
        let manifest = put_attestation(&s, &junk_bundle(&digests, 5000 + n, 1));
        list(&s, &manifest, &digests);
    }
    allowed(&verify(&s, 0));
}

#[test]
fn dangling_index_entry_does_not_block_the_decision() {
    let s = genuine();
    let missing = sha256(b"a manifest nobody stored");
    list(&s, &missing, &[file_digest(&s, "out/app")]);
    let run = verify(&s, 0);
    allowed(&run);
    assert!(
        run.stderr.contains("warning") && run.stderr.contains(&format!("skipped {missing}")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_tampered_blob_is_skipped_and_the_genuine_evidence_decides() {
    let s = genuine();
    let manifest = put_attestation(&s, b"original bundle");
    list(&s, &manifest, &chain_digests(&s));
    let layer = sha256(b"original bundle");
    std::fs::write(store(&s).join("blobs/sha256").join(&layer[7..]), b"evil").unwrap();
    let run = verify(&s, 0);
    allowed(&run);
    assert!(
        run.stderr.contains("the store was modified"),
        "{}",
        run.stderr
    );
}

/// The report's third attack: an index.json over the limit is refused by its size, unread; the
/// store is left out with a warning and the decision is made without it.
#[test]
fn an_oversize_store_index_is_left_out_unread() {
    let s = genuine();
    let index = std::fs::OpenOptions::new()
        .append(true)
        .open(store(&s).join("index.json"))
        .unwrap();
    // Sparse: the size is what is refused, before a byte is read.
    index
        .set_len(hallmark_model::limits::MAX_STORE_INDEX_BYTES + 1)
        .unwrap();
    let run = verify(&s, 1);
    denied(&run, "no-attestation");
    assert!(
        run.stderr.contains("is left out") && run.stderr.contains("over the limit"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_store_index_of_many_junk_entries_still_decides_on_the_genuine_ones() {
    let s = genuine();
    let junk: Vec<String> = (0..50_000u32).map(|i| sha256(&i.to_le_bytes())).collect();
    list(&s, &sha256(b"junk manifest"), &junk);
    allowed(&verify(&s, 0));
}

/// The report's fourth attack: a `--bundle` with a flood of bogus signatures and
/// `--threshold 1` is refused before any signature is checked.
#[test]
fn many_signatures_are_refused_before_verifying() {
    let s = genuine();
    let flood = junk_bundle(&[file_digest(&s, "dist/app.tar")], 0, 5000);
    std::fs::write(s.file("flood.json"), flood).unwrap();
    std::fs::create_dir(s.file("empty")).unwrap();
    let args = [
        "verify",
        "dist/app.tar",
        "--bundle",
        "flood.json",
        "--key",
        "k.pub",
        "--store",
        "empty",
        "--format",
        "json",
        "--threshold",
    ];
    let run = s.expect(&[&args[..], &["1"]].concat(), 1);
    let doc = denied(&run, "none-verified");
    assert_eq!(
        doc["attestations"][0]["check"], "signature-count",
        "{}",
        run.stdout
    );
    // A threshold no envelope may meet is a usage error, not a silent deny.
    let run = s.expect(&[&args[..], &["17"]].concat(), 2);
    assert!(run.stderr.contains("at most 16"), "{}", run.stderr);
}
