//! `hallmark trust update|show` against a TUF repository served on loopback, and what
//! verification then trusts: the refreshed root without flags, several `--trusted-root` files,
//! and `gh attestation trusted-root`'s JSON lines.

use std::time::{SystemTime, UNIX_EPOCH};

use hallmark_testsvc::services::Services;
use hallmark_testsvc::tuf::{Repository, serve_dir};
use serde_json::{Value, json};

use crate::common::Scratch;

const WORKFLOW: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
const PRODUCTION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../verifier/roots/public-good-production.json"
);

/// A keyless attestation of `out/app` from the test services, and the verify flags for it
/// (without a trust root).
fn keyless_build(s: &Scratch, services: &Services, extra: &[&str]) -> Vec<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    s.git(&[
        "remote",
        "set-url",
        "origin",
        "https://github.com/acme/app.git",
    ]);
    let token = services
        .token(&json!({"sub": "repo:acme/app:ref:refs/heads/main", "aud": "sigstore", "exp": now + 300,
                       "job_workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main", "repository": "acme/app"}))
        .unwrap();
    std::fs::write(s.file("token"), &token).unwrap();
    let fulcio = format!("{}/fulcio", services.url);
    let rekor = format!("{}/rekor", services.url);
    let mut args = vec![
        "run",
        "--step",
        "build",
        "-m",
        "src",
        "-p",
        "out",
        "--keyless",
        "--identity-token",
        "@token",
        "--fulcio-url",
        &fulcio,
        "--rekor-url",
        &rekor,
    ];
    args.extend(extra);
    args.extend(["--", "sh", "-c", "mkdir -p out && cat src/*.c > out/app"]);
    s.expect(&args, 0);
    let issuer = format!("{}/oidc", services.url);
    [
        "verify",
        "out/app",
        "--certificate-identity",
        WORKFLOW,
        "--certificate-oidc-issuer",
        &issuer,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn with(base: &[String], more: &[&str]) -> Vec<String> {
    base.iter()
        .cloned()
        .chain(more.iter().map(|s| s.to_string()))
        .collect()
}

fn expect(s: &Scratch, args: &[String], code: i32) -> crate::common::Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    s.expect(&args, code)
}

#[test]
fn after_a_trust_update_verify_and_keyless_signing_trust_the_refreshed_root() {
    let s = Scratch::repo();
    let services = Services::start().unwrap();
    let test_root = serde_json::to_vec(&services.trusted_root()).unwrap();

    // Before: the embedded public-good root does not know the test CA.
    let fresh = s.expect(&["trust", "show", "--format", "json"], 0);
    let doc: Value = serde_json::from_str(&fresh.stdout).unwrap();
    assert_eq!(doc["source"], "embedded", "{doc}");

    let tuf_dir = s.file("tuf-repo");
    let mut repo = Repository::create(&tuf_dir).unwrap();
    repo.publish(&[("trusted_root.json", &test_root)]).unwrap();
    std::fs::write(s.file("tuf-root.json"), repo.root_json().unwrap()).unwrap();
    let mirror = serve_dir(&tuf_dir).unwrap();

    // Another repository's root cannot be refreshed from the public-good root.
    let refused = s.expect(
        &["trust", "update", "--mirror", &mirror, "--format", "json"],
        2,
    );
    let err: Value = serde_json::from_str(&refused.stdout).unwrap();
    assert_eq!(err["error"]["code"], "tuf.signature", "{err}");
    assert!(refused.stderr.contains("--root"), "{}", refused.stderr);

    let updated = s.expect(
        &[
            "trust",
            "update",
            "--mirror",
            &mirror,
            "--root",
            "tuf-root.json",
        ],
        0,
    );
    assert!(
        updated.stdout.contains(&format!("TUF {mirror}")),
        "{}",
        updated.stdout
    );
    assert!(
        updated.stdout.contains("TUF root v1, timestamp v1"),
        "{}",
        updated.stdout
    );

    // Keyless signing checks its bundle against the refreshed root, and verify trusts it: no
    // trust-root flag anywhere.
    let verify = keyless_build(&s, &services, &[]);
    let ok = expect(&s, &verify, 0);
    assert!(ok.stdout.contains("ALLOWED"), "{}", ok.stdout);
    let shown = s.expect(&["trust", "show", "--format", "json"], 0);
    let doc: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(doc["source"], "tuf");
    assert_eq!(doc["tuf"]["versions"]["root"], 1);
    assert_eq!(doc["tuf"]["mirror"], mirror);
    assert_eq!(doc["tuf"]["due"], false);

    // A tampered target on the mirror: the update fails with its code, the cache is kept.
    repo.publish(&[("trusted_root.json", &test_root), ("other.txt", b"x")])
        .unwrap();
    let target = repo.target_path("trusted_root.json").unwrap();
    let mut bytes = std::fs::read(&target).unwrap();
    bytes.push(b' ');
    std::fs::write(&target, bytes).unwrap();
    let failed = s.expect(
        &["trust", "update", "--mirror", &mirror, "--format", "json"],
        2,
    );
    let err: Value = serde_json::from_str(&failed.stdout).unwrap();
    assert_eq!(err["error"]["code"], "tuf.target-mismatch", "{err}");
    expect(&s, &verify, 0);

    // --trusted-root still overrides the cache.
    let denied = expect(&s, &with(&verify, &["--trusted-root", PRODUCTION]), 1);
    assert!(denied.stdout.contains("DENIED"), "{}", denied.stdout);

    // A cache that was tampered with stops verification: it never falls back to the embedded
    // public-good root (that would widen a private instance's trust).
    let cached = s.path().join(".hallmark-cache/tuf/trusted_root.json");
    let mut bytes = std::fs::read(&cached).unwrap();
    bytes.push(b' ');
    std::fs::write(&cached, bytes).unwrap();
    let refused = expect(&s, &verify, 2);
    assert!(refused.stderr.contains("tuf.cache"), "{}", refused.stderr);
    std::fs::write(s.file("test-root.json"), &test_root).unwrap();
    expect(&s, &with(&verify, &["--trusted-root", "test-root.json"]), 0);
}

#[test]
fn several_trusted_roots_and_json_lines_verify_when_one_root_does() {
    let s = Scratch::repo();
    let services = Services::start().unwrap();
    let test_root = serde_json::to_string(&services.trusted_root()).unwrap();
    std::fs::write(s.file("test-root.json"), &test_root).unwrap();
    let verify = keyless_build(
        &s,
        &services,
        &[
            "--sigstore-trusted-root",
            "test-root.json",
            "--output",
            "b.sigstore.json",
        ],
    );

    expect(&s, &with(&verify, &["--trusted-root", PRODUCTION]), 1);
    expect(
        &s,
        &with(
            &verify,
            &[
                "--trusted-root",
                PRODUCTION,
                "--trusted-root",
                "test-root.json",
            ],
        ),
        0,
    );

    // What `gh attestation trusted-root` writes: one compact root per line.
    let production: Value = serde_json::from_slice(&std::fs::read(PRODUCTION).unwrap()).unwrap();
    let lines = format!("{production}\n{test_root}\n");
    std::fs::write(s.file("roots.jsonl"), lines).unwrap();
    expect(&s, &with(&verify, &["--trusted-root", "roots.jsonl"]), 0);
    let shown = s.expect(
        &[
            "trust",
            "show",
            "--trusted-root",
            "roots.jsonl",
            "--format",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(doc["source"], "files");
    assert_eq!(doc["roots"].as_array().unwrap().len(), 2);

    // verify-bundle too; and when every root refuses, the reason is the one from the root that
    // knew the signer, not "another instance's certificate" from the first root tried.
    let issuer = format!("{}/oidc", services.url);
    let bundle_args = |artifact: &str, roots: &str| {
        [
            "verify-bundle",
            "--format",
            "json",
            "--bundle",
            "b.sigstore.json",
            "--trusted-root",
            roots,
            "--certificate-identity",
            WORKFLOW,
            "--certificate-oidc-issuer",
            &issuer,
            artifact,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    expect(&s, &bundle_args("out/app", "roots.jsonl"), 0);
    std::fs::write(s.file("other"), b"not the artifact").unwrap();
    let alone = expect(&s, &bundle_args("other", "test-root.json"), 1);
    let alone: Value = serde_json::from_str(&alone.stdout).unwrap();
    let both = expect(&s, &bundle_args("other", "roots.jsonl"), 1);
    let both: Value = serde_json::from_str(&both.stdout).unwrap();
    assert_eq!(
        both["rejection"]["code"], alone["rejection"]["code"],
        "{both}"
    );
    assert_ne!(
        both["rejection"]["code"], "sigstore.certificate.chain",
        "{both}"
    );

    // Only the public-good line: rejected. A broken line: an error naming the line.
    std::fs::write(s.file("one.jsonl"), format!("{production}\n")).unwrap();
    expect(&s, &with(&verify, &["--trusted-root", "one.jsonl"]), 1);
    std::fs::write(
        s.file("bad.jsonl"),
        format!("{production}\n{{\"tlogs\": 1}}\n"),
    )
    .unwrap();
    let bad = expect(
        &s,
        &with(
            &verify,
            &["--trusted-root", "bad.jsonl", "--format", "json"],
        ),
        2,
    );
    let err: Value = serde_json::from_str(&bad.stdout).unwrap();
    assert_eq!(err["error"]["code"], "trust.root", "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains("line 2"),
        "{err}"
    );
}
