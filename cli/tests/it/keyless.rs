//! `hallmark run --keyless` and `attest --keyless` against the local test services over HTTP,
//! judged by `hallmark verify` with identity flags.

use std::time::{SystemTime, UNIX_EPOCH};

use hallmark_testsvc::services::{ACTIONS_RUNTIME_TOKEN, Services};
use serde_json::{Value, json};

use crate::common::{Scratch, into_run, rejection_codes};

const WORKFLOW: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn setup() -> (Scratch, Services, String) {
    let s = Scratch::repo();
    let services = Services::start().unwrap();
    let root = s.file("test-root.json");
    std::fs::write(&root, serde_json::to_vec(&services.trusted_root()).unwrap()).unwrap();
    (s, services, root.display().to_string())
}

#[test]
fn run_keyless_with_a_token_then_verify_by_identity() {
    let (s, services, root) = setup();
    // The checkout is the repository the certificate will name (as on a GitHub runner).
    s.git(&[
        "remote",
        "set-url",
        "origin",
        "https://github.com/acme/app.git",
    ]);
    let token = services
        .token(&json!({"sub": "repo:acme/app:ref:refs/heads/main", "aud": "sigstore", "exp": now() + 300,
                       "job_workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main", "repository": "acme/app"}))
        .unwrap();
    std::fs::write(s.file("token"), &token).unwrap();
    let fulcio = format!("{}/fulcio", services.url);
    let rekor = format!("{}/rekor", services.url);
    let run = s.expect(
        &[
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
            "--sigstore-trusted-root",
            &root,
            "--",
            "sh",
            "-c",
            "mkdir -p out && cat src/*.c > out/app",
        ],
        0,
    );
    assert!(
        run.stderr.contains("keyless identity repo:acme/app"),
        "{}",
        run.stderr
    );
    assert!(!run.text().contains(&token), "the token is never printed");
    let issuer = format!("{}/oidc", services.url);
    let ok = s.expect(
        &[
            "verify",
            "out/app",
            "--certificate-identity",
            WORKFLOW,
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
            &root,
            "--source-repository",
            "https://github.com/acme/app",
            "--step",
            "build",
        ],
        0,
    );
    assert!(ok.stdout.contains(WORKFLOW), "{}", ok.stdout);
    // The policy input carries the keyless signer in detail: issuer, Fulcio extensions, and the
    // times the log proved.
    let rego = |repo: &str| {
        format!(
            "package hallmark\n\nimport rego.v1\n\ndeny contains v if {{\n\tnot signed_from({repo:?})\n\tv := {{\"code\": \"signer.repo\", \"msg\": sprintf(\"%v\", [input.attestations[0].signerDetails])}}\n}}\n\n\
             signed_from(repo) if {{\n\tsome a in input.attestations\n\tsome d in a.signerDetails\n\td.issuer == {issuer:?}\n\t\
             d.extensions.sourceRepositoryURI == repo\n\tcount(a.verifiedTimes) > 0\n}}\n"
        )
    };
    std::fs::write(s.file("repo.rego"), rego("https://github.com/acme/app")).unwrap();
    std::fs::write(s.file("other.rego"), rego("https://github.com/evil/app")).unwrap();
    let keyless_flags = [
        "--certificate-identity",
        WORKFLOW,
        "--certificate-oidc-issuer",
        &issuer,
        "--trusted-root",
        &root,
    ];
    let mut allowed = vec!["verify", "out/app", "--policy", "repo.rego"];
    allowed.extend(keyless_flags);
    s.expect(&allowed, 0);
    let mut denied = vec!["verify", "out/app", "--policy", "other.rego"];
    denied.extend(keyless_flags);
    let run = s.expect(&denied, 1);
    assert!(run.stdout.contains("signer.repo"), "{}", run.stdout);
    // A declarative policy's keyless signers are trusted identities: no certificate flags.
    let declarative = |identity: &str| {
        format!(
            "apiVersion: hallmark.dev/policy/v1\nsteps:\n  build: {{signers: [{{identity: \"{identity}\", issuer: \"{issuer}\"}}], inputs: [source]}}\n"
        )
    };
    std::fs::write(s.file("keyless.yaml"), declarative(WORKFLOW)).unwrap();
    let run = s.expect(
        &[
            "verify",
            "out/app",
            "--policy",
            "keyless.yaml",
            "--trusted-root",
            &root,
        ],
        0,
    );
    assert!(run.stdout.contains(WORKFLOW), "{}", run.stdout);
    let other = "https://github.com/acme/app/.github/workflows/other.yml@refs/heads/main";
    std::fs::write(s.file("other.yaml"), declarative(other)).unwrap();
    let run = s.expect(
        &[
            "verify",
            "out/app",
            "--policy",
            "other.yaml",
            "--trusted-root",
            &root,
            "--format",
            "json",
        ],
        1,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        rejection_codes(&doc),
        ["sigstore.identity.mismatch"],
        "{doc}"
    );
    let violations = doc["violations"].as_array().unwrap();
    assert!(
        violations.iter().any(|v| v["code"] == "step.missing"),
        "{doc}"
    );
    let denied = s.expect(
        &[
            "verify",
            "out/app",
            "--certificate-identity",
            "https://github.com/evil/x/.github/workflows/y.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
            &root,
            "--format",
            "json",
        ],
        1,
    );
    let doc: Value = serde_json::from_str(&denied.stdout).unwrap();
    assert_eq!(
        rejection_codes(&doc),
        ["sigstore.identity.mismatch"],
        "{doc}"
    );
    // The statement claims another repository than the certificate vouches for: a keyless step
    // recorded in a checkout of a fork is denied, though its signer is the trusted workflow.
    s.git(&[
        "remote",
        "set-url",
        "origin",
        "https://github.com/evil/app.git",
    ]);
    s.expect(
        &[
            "run",
            "--step",
            "build",
            "-m",
            "src",
            "-p",
            "fork",
            "--keyless",
            "--identity-token",
            "@token",
            "--fulcio-url",
            &fulcio,
            "--rekor-url",
            &rekor,
            "--sigstore-trusted-root",
            &root,
            "--",
            "sh",
            "-c",
            "mkdir -p fork && cat src/*.c > fork/app && echo 1 >> fork/app",
        ],
        0,
    );
    let run = s.expect(
        &[
            "verify",
            "fork/app",
            "--policy",
            "keyless.yaml",
            "--trusted-root",
            &root,
        ],
        1,
    );
    assert!(
        run.stdout.contains("source.claim-mismatch"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("https://github.com/evil/app.git"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_github_actions_token_path() {
    let (s, services, root) = setup();
    s.git(&[
        "remote",
        "set-url",
        "origin",
        "https://github.com/acme/app.git",
    ]);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(s.path())
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap().trim().to_owned();
    let mut cmd = s.command(&[
        "attest",
        "--subject",
        "src/a.c",
        "--provenance",
        "--keyless",
        "--fulcio-url",
        &format!("{}/fulcio", services.url),
        "--rekor-url",
        &format!("{}/rekor", services.url),
        "--sigstore-trusted-root",
        &root,
        "--output",
        "a.sigstore.json",
    ]);
    cmd.env(
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        format!("{}/actions/token?api-version=2.0", services.url),
    )
    .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ACTIONS_RUNTIME_TOKEN);
    // A job of a caller workflow running the reusable release.yml: the token's job_workflow_ref
    // names release.yml, GITHUB_WORKFLOW_REF the caller.
    for (k, v) in [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/app"),
        ("GITHUB_REF", "refs/heads/main"),
        ("GITHUB_SHA", head.as_str()),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/app/.github/workflows/caller.yml@refs/heads/main",
        ),
        ("GITHUB_RUN_ID", "7"),
        ("GITHUB_RUN_ATTEMPT", "1"),
        // A key named in the environment does not fight the --keyless flag: flags win.
        ("HALLMARK_KEY", "ci.key"),
    ] {
        cmd.env(k, v);
    }
    let run = into_run(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("$HALLMARK_KEY is not used"),
        "{}",
        run.stderr
    );
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(s.file("a.sigstore.json")).unwrap()).unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        bundle["dsseEnvelope"]["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["predicate"]["runDetails"]["builder"]["id"],
        "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
        "the builder is the token's job_workflow_ref"
    );
    assert_eq!(
        statement["predicate"]["buildDefinition"]["externalParameters"]["workflow"]["path"],
        ".github/workflows/caller.yml"
    );
    let issuer = format!("{}/oidc", services.url);
    s.expect(
        &[
            "verify-bundle",
            "--bundle",
            "a.sigstore.json",
            "--certificate-identity",
            WORKFLOW,
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
            &root,
            "src/a.c",
        ],
        0,
    );
    // Without any token source, keyless signing says what is missing.
    let none = s.expect(
        &[
            "attest",
            "--subject",
            "src/a.c",
            "--provenance",
            "--keyless",
        ],
        2,
    );
    assert!(
        none.stderr.contains("needs an identity token"),
        "{}",
        none.stderr
    );
}

#[test]
fn a_signing_config_names_the_services() {
    let (s, services, root) = setup();
    std::fs::write(
        s.file("trust_config.json"),
        serde_json::to_vec(&services.client_trust_config()).unwrap(),
    )
    .unwrap();
    let token = services.token(&json!({"sub": "ops@acme.example", "email": "ops@acme.example", "aud": "sigstore", "exp": now() + 300})).unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "src/b.c",
            "--provenance",
            "--keyless",
            "--identity-token",
            &token,
            "--signing-config",
            "trust_config.json",
            "--sigstore-trusted-root",
            &root,
            "--output",
            "b.json",
            "--no-store",
        ],
        0,
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.file("b.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let issuer = format!("{}/oidc", services.url);
    s.expect(
        &[
            "verify-bundle",
            "--bundle",
            "b.json",
            "--certificate-identity",
            "ops@acme.example",
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
            &root,
            "src/b.c",
        ],
        0,
    );
}

#[test]
fn a_keyless_verifier_signs_a_vsa_that_is_accepted_by_its_identity() {
    let (s, services, root) = setup();
    let token = services.token(&json!({"sub": "verifier@acme.example", "email": "verifier@acme.example", "aud": "sigstore", "exp": now() + 300})).unwrap();
    std::fs::write(s.file("token"), &token).unwrap();
    // Key k, build (src -> out/app) and package, as in the acceptance tests; out/app is judged.
    s.build_and_package();
    std::fs::write(
        s.file("policy.yaml"),
        "apiVersion: hallmark.dev/policy/v1\nsteps:\n  build: {signers: [k.pub], inputs: [source]}\n",
    )
    .unwrap();
    let fulcio = format!("{}/fulcio", services.url);
    let rekor = format!("{}/rekor", services.url);
    let run = s.expect(
        &[
            "verify",
            "out/app",
            "--policy",
            "policy.yaml",
            "--emit-vsa",
            "vsa.json",
            "--vsa-keyless",
            "--identity-token",
            "@token",
            "--fulcio-url",
            &fulcio,
            "--rekor-url",
            &rekor,
            "--sigstore-trusted-root",
            &root,
        ],
        0,
    );
    assert!(run.stderr.contains("VSA (PASSED)"), "{}", run.stderr);
    assert!(!run.text().contains(&token), "the token is never printed");
    let issuer = format!("{}/oidc", services.url);
    let explained = s.expect(&["policy", "explain", "policy.yaml"], 0).stdout;
    let digest = explained
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap()
        .to_owned();
    let accept = |identity: &str, code: i32| {
        s.expect(
            &[
                "verify",
                "out/app",
                "--accept-vsa-identity",
                identity,
                "--accept-vsa-issuer",
                &issuer,
                "--trusted-root",
                &root,
                "--vsa-policy-digest",
                &digest,
            ],
            code,
        )
    };
    let run = accept("verifier@acme.example", 0);
    assert!(
        run.stdout.contains("verifier@acme.example"),
        "{}",
        run.stdout
    );
    let run = accept("someone-else@acme.example", 1);
    assert!(
        run.stdout.contains("vsa.not-accepted") && run.stdout.contains("identity"),
        "{}",
        run.stdout
    );
}
