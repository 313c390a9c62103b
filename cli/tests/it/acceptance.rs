//! The acceptance commands of the first milestone, exactly as a user types them.

use serde_json::Value;

use crate::common::Scratch;

#[test]
fn the_acceptance_story() {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "k"], 0);
    let key = std::fs::read_to_string(s.file("k.key")).unwrap();
    assert!(
        key.starts_with("-----BEGIN PRIVATE KEY-----"),
        "unencrypted PKCS#8: {key}"
    );
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
            "--",
            "sh",
            "-c",
            "mkdir -p out && cat src/*.c > out/app",
        ],
        0,
    );
    s.expect(
        &[
            "run",
            "--step",
            "package",
            "-m",
            "out",
            "-p",
            "dist",
            "--key",
            "k.key",
            "--",
            "sh",
            "-c",
            "mkdir -p dist && tar -cf dist/app.tar out",
        ],
        0,
    );
    let ok = s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--step",
            "package",
        ],
        0,
    );
    assert!(ok.stdout.starts_with("ALLOWED"), "{}", ok.stdout);
    assert!(ok.stdout.contains("step:       package"));
    assert!(
        ok.stdout
            .contains("git+https://git.example/acme/app.git@refs/heads/main"),
        "credentials stripped: {}",
        ok.stdout
    );
    assert!(!ok.text().contains("s3cr3t"));

    let json = s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--format",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["verdict"], "allow");
    let digest = doc["artifact"]["digest"].as_str().unwrap();
    let att = &doc["attestations"][0];
    assert_eq!(att["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(att["step"], "package");
    assert_eq!(att["subjects"][0]["name"], "dist/app.tar");
    assert_eq!(
        format!(
            "sha256:{}",
            att["subjects"][0]["digest"]["sha256"].as_str().unwrap()
        ),
        digest
    );
    assert_eq!(att["signers"][0]["key"], "k.pub");
    assert_eq!(att["signers"][0]["keyid"].as_str().unwrap().len(), 64);

    // Tampered artifact: nothing attests the new digest.
    std::fs::OpenOptions::new()
        .append(true)
        .open(s.file("dist/app.tar"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"x\n"))
        .unwrap();
    let denied = s.expect(&["verify", "dist/app.tar", "--key", "k.pub"], 1);
    assert!(
        denied.stdout.contains("no attestation matches this digest"),
        "{}",
        denied.stdout
    );

    // Untrusted key.
    s.expect(&["keygen", "--output", "other"], 0);
    let denied = s.expect(&["verify", "out/app", "--key", "other.pub"], 1);
    assert!(
        denied
            .stdout
            .contains("the signature does not match the trusted keys"),
        "{}",
        denied.stdout
    );
}

#[test]
fn a_missing_step_is_named() {
    let s = Scratch::repo();
    s.build_and_package();
    let denied = s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--step",
            "package",
            "--step",
            "build",
        ],
        1,
    );
    assert!(
        denied
            .stdout
            .contains("required step \"build\" has no verified attestation"),
        "{}",
        denied.stdout
    );
    assert!(
        denied.stdout.contains("verified steps: package"),
        "{}",
        denied.stdout
    );
}

#[test]
fn the_demo_runs_by_itself() {
    let s = Scratch::repo();
    let run = s.expect(&["demo"], 0);
    assert!(run.stdout.contains("Demo complete"), "{}", run.stdout);
}

#[test]
fn verify_by_digest_and_errors_exit_two() {
    let s = Scratch::repo();
    s.build_and_package();
    let json = s.expect(
        &["verify", "out/app", "--key", "k.pub", "--format", "json"],
        0,
    );
    let digest = serde_json::from_str::<Value>(&json.stdout).unwrap()["artifact"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    s.expect(&["verify", &digest, "--key", "k.pub", "--step", "build"], 0);
    let err = s.expect(&["verify", "nope.bin", "--key", "k.pub"], 2);
    assert!(
        err.stderr.contains("neither an existing file nor a digest"),
        "{}",
        err.stderr
    );
    let err = s.expect(&["verify", "out/app"], 2);
    assert_eq!(crate::common::error_code(&err.stderr), Some("trust.none"));
    assert!(err.stderr.contains("--key PUB"), "the hint: {}", err.stderr);
    let err = s.expect(&["verify", "sha256:abc", "--key", "k.pub"], 2);
    assert!(err.stderr.contains("64 hex characters"), "{}", err.stderr);
    let err = s.expect(&["verify", "out/app", "--key", "k.key"], 2);
    assert!(
        err.stderr.contains("expected a PUBLIC KEY"),
        "{}",
        err.stderr
    );
}

#[test]
fn help_and_version_name_the_trust_root_snapshot() {
    let s = Scratch::repo();
    let snapshot = hallmark_verifier::sigstore::embedded::SNAPSHOT;
    assert!(s.expect(&["--help"], 0).stdout.contains(snapshot));
    assert!(s.expect(&["version"], 0).stdout.contains(snapshot));
}
