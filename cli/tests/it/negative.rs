//! Hostile and broken inputs at the command line: each must be rejected with a clear message.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::common::Scratch;

/// A repo with the two-step build done and the package bundle exported to `pkg.json`.
fn exported() -> Scratch {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "k"], 0);
    s.expect(
        &[
            "run",
            "--step",
            "build",
            "-m",
            "src",
            "-p",
            "out",
            "--key",
            "k.key",
            "--output",
            "build.json",
            "--no-store",
            "--",
            "sh",
            "-c",
            "mkdir -p out && cat src/*.c > out/app",
        ],
        0,
    );
    s
}

fn read_json(s: &Scratch, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(s.file(name)).unwrap()).unwrap()
}

fn write_json(s: &Scratch, name: &str, v: &Value) {
    std::fs::write(s.file(name), serde_json::to_vec(v).unwrap()).unwrap();
}

#[test]
fn exported_bundle_verifies_without_the_store() {
    let s = exported();
    assert!(
        !s.file(".hallmark/store").exists(),
        "--no-store wrote nothing to the store"
    );
    let run = s.expect(
        &[
            "verify",
            "out/app",
            "--key",
            "k.pub",
            "--bundle",
            "build.json",
        ],
        0,
    );
    assert!(
        run.stdout.contains("verified attestation (build.json)"),
        "{}",
        run.stdout
    );
}

#[test]
fn tampered_payload_is_denied() {
    let s = exported();
    let mut b = read_json(&s, "build.json");
    let payload = STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let tampered = String::from_utf8(payload)
        .unwrap()
        .replace("\"build\"", "\"evil\"");
    b["dsseEnvelope"]["payload"] = json!(STANDARD.encode(tampered));
    write_json(&s, "t.json", &b);
    let run = s.expect(
        &["verify", "out/app", "--key", "k.pub", "--bundle", "t.json"],
        1,
    );
    assert!(
        run.stdout
            .contains("the signature does not match the trusted keys"),
        "{}",
        run.stdout
    );
}

#[test]
fn wrong_subject_is_denied() {
    let s = exported();
    let run = s.expect(
        &[
            "verify",
            "src/a.c",
            "--key",
            "k.pub",
            "--bundle",
            "build.json",
        ],
        1,
    );
    assert!(
        run.stdout
            .contains("no subject of the statement has digest"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("out/app sha256:"),
        "names what it does attest: {}",
        run.stdout
    );
}

#[test]
fn truncated_and_oversized_bundles_are_errors_or_denials() {
    let s = exported();
    let bytes = std::fs::read(s.file("build.json")).unwrap();
    std::fs::write(s.file("cut.json"), &bytes[..bytes.len() / 2]).unwrap();
    let run = s.expect(
        &[
            "verify", "out/app", "--key", "k.pub", "--bundle", "cut.json",
        ],
        1,
    );
    assert!(
        run.stdout.contains("the bundle could not be read"),
        "{}",
        run.stdout
    );
    let big = vec![b' '; 17 * 1024 * 1024];
    std::fs::write(s.file("big.json"), big).unwrap();
    let run = s.expect(
        &[
            "verify", "out/app", "--key", "k.pub", "--bundle", "big.json",
        ],
        2,
    );
    assert!(run.stderr.contains("limit"), "{}", run.stderr);
}

#[test]
fn unknown_bundle_versions_are_denied() {
    let s = exported();
    let mut b = read_json(&s, "build.json");
    b["mediaType"] = json!("application/vnd.dev.sigstore.bundle.v0.9+json");
    write_json(&s, "v9.json", &b);
    let run = s.expect(
        &["verify", "out/app", "--key", "k.pub", "--bundle", "v9.json"],
        1,
    );
    assert!(
        run.stdout.contains("unknown Sigstore bundle mediaType"),
        "{}",
        run.stdout
    );
}

#[test]
fn subject_names_with_path_traversal_are_refused_when_attesting() {
    let s = exported();
    let hex = "a".repeat(64);
    let run = s.expect(
        &[
            "attest",
            "--subject",
            &format!("../../etc/passwd@sha256:{hex}"),
            "--predicate",
            "k.pub",
            "--type",
            "x",
            "--key",
            "k.key",
        ],
        2,
    );
    assert!(run.stderr.contains("path traversal"), "{}", run.stderr);
}

#[test]
fn unknown_predicates_are_stored_and_shown() {
    let s = exported();
    std::fs::write(s.file("result.json"), r#"{"passed": 12, "failed": 0}"#).unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "out/app",
            "--predicate",
            "result.json",
            "--type",
            "https://example.com/test-result/v7",
            "--key",
            "k.key",
        ],
        0,
    );
    // Verified, but not provenance: a test result does not make the artifact ALLOWED.
    let denied = s.expect(
        &["verify", "out/app", "--key", "k.pub", "--format", "json"],
        1,
    );
    let doc: Value = serde_json::from_str(&denied.stdout).unwrap();
    assert_eq!(doc["violations"][0]["code"], "predicate.missing", "{doc}");
    assert_eq!(doc["attestations"][0]["verified"], true);
    let human = s.expect(&["verify", "out/app", "--key", "k.pub"], 1);
    assert!(
        human
            .stdout
            .contains("no verified attestation of type https://slsa.dev/provenance/v1 or https://slsa.dev/provenance/v0.2"),
        "{}",
        human.stdout
    );
    // Asked for by its type, it is the evidence.
    let run = s.expect(
        &[
            "verify",
            "out/app",
            "--key",
            "k.pub",
            "--predicate-type",
            "https://example.com/test-result/v7",
            "--format",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["attestations"][0]["predicateType"],
        "https://example.com/test-result/v7"
    );
    assert_eq!(doc["attestations"][0]["satisfies"], true);
    assert_eq!(doc["attestations"][0]["provenance"], Value::Null);
}

#[test]
fn dsse_export_verifies_as_a_bare_envelope() {
    let s = exported();
    s.expect(
        &[
            "attest",
            "--subject",
            "out/app",
            "--provenance",
            "--key",
            "k.key",
            "--output",
            "env.json",
            "--format",
            "dsse",
            "--no-store",
        ],
        0,
    );
    let env = read_json(&s, "env.json");
    assert_eq!(env["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(env["signatures"].as_array().unwrap().len(), 1);
    s.expect(
        &[
            "verify", "out/app", "--key", "k.pub", "--bundle", "env.json",
        ],
        0,
    );
}

/// Attack: `keygen --force` followed a symlink at the key path and wrote the private key into
/// whatever it pointed to, and kept an existing file's loose mode.
#[test]
fn keygen_force_replaces_a_symlink_and_a_loose_mode_instead_of_writing_through() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::repo();
    std::fs::write(s.file("victim"), "precious\n").unwrap();
    std::os::unix::fs::symlink("victim", s.file("k.key")).unwrap();
    let run = s.expect(&["keygen", "--output", "k"], 2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    s.expect(&["keygen", "--output", "k", "--force"], 0);
    assert_eq!(
        std::fs::read_to_string(s.file("victim")).unwrap(),
        "precious\n"
    );
    let key = std::fs::symlink_metadata(s.file("k.key")).unwrap();
    assert!(key.file_type().is_file());
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    // An existing world-readable key file does not keep its mode.
    std::fs::set_permissions(s.file("k.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    s.expect(&["keygen", "--output", "k", "--force"], 0);
    let mode = std::fs::metadata(s.file("k.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    s.expect(
        &[
            "run", "--step", "t", "-p", "src", "--key", "k.key", "--", "true",
        ],
        0,
    );
}

/// Without --force, even a dangling symlink at the key path is refused and nothing is created
/// where it points.
#[test]
fn keygen_refuses_a_dangling_symlink_without_force() {
    let s = Scratch::repo();
    std::os::unix::fs::symlink("elsewhere", s.file("k.key")).unwrap();
    let run = s.expect(&["keygen", "--output", "k"], 2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert!(!s.file("elsewhere").exists());
    assert!(!s.file("k.pub").exists());
    let leftovers: Vec<_> = std::fs::read_dir(s.path())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.starts_with(".hallmark-keygen-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
