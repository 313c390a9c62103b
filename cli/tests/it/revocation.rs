//! `hallmark revoke` and `--revocations` (docs/revocation.md): revoked artifacts and materials are
//! denied, revoked keys and identities count only for what a verified time proves older than
//! the revocation, and a list that does not verify against the revocation signers stops the
//! command (exit 2) with its code.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hallmark_testsvc::services::Services;
use serde_json::{Value, json};

use crate::common::{Scratch, error_code, rejection_codes};

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn violation_codes(run: &crate::common::Run) -> Vec<String> {
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect()
}

/// A signed list `file` (sequence 1, valid a day) from the revocation key `sec.key`.
fn revoke(s: &Scratch, file: &str, entries: &[&str], code: i32) -> crate::common::Run {
    let mut args = vec![
        "revoke",
        "--name",
        "plant-a",
        "--sequence",
        "1",
        "--valid-for",
        "1d",
        "--key",
        "sec.key",
        "--output",
        file,
    ];
    args.extend(entries);
    s.expect(&args, code)
}

/// Key k, the two-step build, and the security team's revocation key `sec`.
fn built() -> Scratch {
    let s = Scratch::repo();
    s.build_and_package();
    s.expect(&["keygen", "--output", "sec"], 0);
    s
}

fn verify<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "verify",
        "dist/app.tar",
        "--key",
        "k.pub",
        "--format",
        "json",
    ];
    args.extend(extra);
    args
}

#[test]
fn a_revoked_artifact_is_denied_and_a_revoked_material_denies_what_was_made_from_it() {
    let s = built();
    revoke(
        &s,
        "r.json",
        &["--artifact", "dist/app.tar", "--reason", "malware found"],
        0,
    );
    let trust = ["--revocations", "r.json", "--revocation-key", "sec.pub"];
    s.expect(&verify(&[]), 0);
    let run = s.expect(&verify(&trust), 1);
    assert_eq!(
        violation_codes(&run),
        ["revocation.artifact"],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("malware found"), "{}", run.stdout);

    // out/app went into the package step: the package is denied through its chain.
    revoke(
        &s,
        "m.json",
        &["--artifact", "out/app", "--reason", "CVE-2026-1"],
        0,
    );
    std::fs::write(
        s.file("any.rego"),
        "package hallmark\n\nimport rego.v1\n\ndeny contains v if {\n\tsome e in input.revocations.entries\n\te.kind == \"artifact\"\n\tinput.revocations.lists[0].name == \"plant-a\"\n\tv := {\"code\": \"policy.saw-revocation\", \"msg\": e.reason}\n}\n",
    )
    .unwrap();
    let run = s.expect(
        &verify(&[
            "--policy",
            "any.rego",
            "--revocations",
            "m.json",
            "--revocation-key",
            "sec.pub",
        ]),
        1,
    );
    // The engine's violation, then the policy's, which saw the list in its input.
    assert_eq!(
        violation_codes(&run),
        ["revocation.material", "policy.saw-revocation"],
        "{}",
        run.stdout
    );
    s.expect(&verify(&["--policy", "any.rego"]), 0);
}

#[test]
fn a_revoked_key_counts_before_its_effective_time_and_not_after() {
    let s = built();
    let later = rfc3339(now() + Duration::from_secs(3600));
    let earlier = rfc3339(now() - Duration::from_secs(60));
    let entries = |effective: &str| -> Vec<String> {
        [
            "--revoke-key",
            "k.pub",
            "--reason",
            "build key retired",
            "--effective",
            effective,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let planned = entries(&later);
    let planned: Vec<&str> = planned.iter().map(String::as_str).collect();
    revoke(&s, "later.json", &planned, 0);
    let past = entries(&earlier);
    let past: Vec<&str> = past.iter().map(String::as_str).collect();
    revoke(&s, "now.json", &past, 0);
    // Not yet in force: the build key still signs.
    s.expect(
        &verify(&["--revocations", "later.json", "--revocation-key", "sec.pub"]),
        0,
    );
    // In force: a key-signed bundle has no verified time, so nothing it signed counts.
    let run = s.expect(
        &verify(&["--revocations", "now.json", "--revocation-key", "sec.pub"]),
        1,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rejection_codes(&doc), ["revocation.key"], "{}", run.stdout);
    assert!(run.stdout.contains("no verified time"), "{}", run.stdout);
    // inspect honours the lists too: nothing verified, so no chain (exit 1).
    let run = s.expect(
        &[
            "inspect",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--format",
            "json",
            "--revocations",
            "now.json",
            "--revocation-key",
            "sec.pub",
        ],
        1,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["chain"]["steps"], json!([]), "{}", run.stdout);
    s.expect(
        &[
            "inspect",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--revocations",
            "later.json",
            "--revocation-key",
            "sec.pub",
        ],
        0,
    );
}

#[test]
fn a_list_not_signed_by_a_revocation_signer_or_changed_is_refused() {
    let s = built();
    s.expect(&["keygen", "--output", "mallory"], 0);
    revoke(
        &s,
        "r.json",
        &["--artifact", "dist/app.tar", "--reason", "malware"],
        0,
    );
    // Signed by sec, trusted as k: refused, never ignored.
    let run = s.expect(
        &verify(&["--revocations", "r.json", "--revocation-key", "mallory.pub"]),
        2,
    );
    assert_eq!(
        error_code(&run.stderr),
        Some("revocation.unverified"),
        "{}",
        run.stderr
    );
    // Without --revocation-key the verification's own trust (k) must have signed it.
    let run = s.expect(&verify(&["--revocations", "r.json"]), 2);
    assert_eq!(
        error_code(&run.stderr),
        Some("revocation.unverified"),
        "{}",
        run.stderr
    );

    // A changed list: an entry dropped from the signed payload.
    let mut bundle: Value =
        serde_json::from_slice(&std::fs::read(s.file("r.json")).unwrap()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    let mut statement: Value = serde_json::from_slice(&b64.decode(payload).unwrap()).unwrap();
    statement["predicate"]["entries"][0]["value"] = json!(format!("sha256:{}", "0".repeat(64)));
    bundle["dsseEnvelope"]["payload"] = json!(b64.encode(serde_json::to_vec(&statement).unwrap()));
    std::fs::write(s.file("changed.json"), serde_json::to_vec(&bundle).unwrap()).unwrap();
    let run = s.expect(
        &verify(&[
            "--revocations",
            "changed.json",
            "--revocation-key",
            "sec.pub",
        ]),
        2,
    );
    assert_eq!(
        error_code(&run.stderr),
        Some("revocation.unverified"),
        "{}",
        run.stderr
    );

    // Another signed attestation is not a revocation list.
    s.expect(
        &[
            "attest",
            "--subject",
            "src/a.c",
            "--provenance",
            "--key",
            "sec.key",
            "--output",
            "prov.json",
            "--no-store",
        ],
        0,
    );
    let run = s.expect(
        &verify(&["--revocations", "prov.json", "--revocation-key", "sec.pub"]),
        2,
    );
    assert_eq!(
        error_code(&run.stderr),
        Some("revocation.invalid"),
        "{}",
        run.stderr
    );

    // An expired list.
    s.expect(
        &[
            "revoke",
            "--name",
            "p",
            "--sequence",
            "1",
            "--valid-for",
            "1s",
            "--artifact",
            "dist/app.tar",
            "--reason",
            "r",
            "--key",
            "sec.key",
            "--output",
            "short.json",
        ],
        0,
    );
    std::thread::sleep(Duration::from_millis(2100));
    let run = s.expect(
        &verify(&["--revocations", "short.json", "--revocation-key", "sec.pub"]),
        2,
    );
    assert_eq!(
        error_code(&run.stderr),
        Some("revocation.stale"),
        "{}",
        run.stderr
    );
}

fn integrated_time(bundle: &Value) -> SystemTime {
    let t = &bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"];
    let secs = t
        .as_str()
        .map_or_else(|| t.as_u64().unwrap(), |s| s.parse().unwrap());
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A keyless signature carries verified times (the test log's integrated time and the test TSA's
/// timestamp): revoking its identity from a time after them leaves it counting; revoking from
/// before them rejects it.
#[test]
fn a_revoked_identity_counts_only_for_signatures_proven_older_than_the_revocation() {
    let s = Scratch::repo();
    let services = Services::start().unwrap();
    std::fs::write(
        s.file("root.json"),
        serde_json::to_vec(&services.trusted_root()).unwrap(),
    )
    .unwrap();
    std::fs::write(
        s.file("trust_config.json"),
        serde_json::to_vec(&services.client_trust_config()).unwrap(),
    )
    .unwrap();
    let exp = now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 300;
    let token = services
        .token(&json!({"sub": "ops@acme.example", "email": "ops@acme.example", "aud": "sigstore", "exp": exp}))
        .unwrap();
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
            "root.json",
            "--output",
            "b.json",
            "--no-store",
        ],
        0,
    );
    let bundle: Value = serde_json::from_slice(&std::fs::read(s.file("b.json")).unwrap()).unwrap();
    let tsa = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    assert_eq!(tsa.as_array().unwrap().len(), 1, "the TSA countersigned");
    let signed = integrated_time(&bundle);
    s.expect(&["keygen", "--output", "sec"], 0);
    let issuer = format!("{}/oidc", services.url);
    let list = |file: &str, effective: SystemTime| {
        s.expect(
            &[
                "revoke",
                "--name",
                "idp",
                "--sequence",
                "1",
                "--valid-for",
                "1d",
                "--revoke-identity",
                "ops@acme.example",
                "--identity-issuer",
                &issuer,
                "--reason",
                "account compromised",
                "--effective",
                &rfc3339(effective),
                "--key",
                "sec.key",
                "--output",
                file,
            ],
            0,
        );
    };
    // Revoked from two seconds after the log entry: in force by the time we verify.
    let after = signed + Duration::from_secs(2);
    list("after.json", after);
    list("before.json", signed - Duration::from_secs(60));
    while now() < after + Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let verify = |file: &str, code: i32| {
        s.expect(
            &[
                "verify",
                "src/b.c",
                "--bundle",
                "b.json",
                "--certificate-identity",
                "ops@acme.example",
                "--certificate-oidc-issuer",
                &issuer,
                "--trusted-root",
                "root.json",
                "--format",
                "json",
                "--revocations",
                file,
                "--revocation-key",
                "sec.pub",
            ],
            code,
        )
    };
    verify("after.json", 0);
    let run = verify("before.json", 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        rejection_codes(&doc),
        ["revocation.identity"],
        "{}",
        run.stdout
    );
    // The security team signs lists keyless too: trusted by its identity, not by a key.
    let sec_token = services
        .token(&json!({"sub": "security@acme.example", "email": "security@acme.example", "aud": "sigstore", "exp": exp}))
        .unwrap();
    s.expect(
        &[
            "revoke",
            "--name",
            "idp",
            "--sequence",
            "2",
            "--valid-for",
            "1d",
            "--revoke-identity",
            "ops@acme.example",
            "--identity-issuer",
            &issuer,
            "--reason",
            "account compromised",
            "--effective",
            &rfc3339(signed - Duration::from_secs(60)),
            "--keyless",
            "--identity-token",
            &sec_token,
            "--signing-config",
            "trust_config.json",
            "--sigstore-trusted-root",
            "root.json",
            "--output",
            "keyless-list.json",
        ],
        0,
    );
    let by_identity = |who: &str, code: i32| {
        s.expect(
            &[
                "verify",
                "src/b.c",
                "--bundle",
                "b.json",
                "--certificate-identity",
                "ops@acme.example",
                "--certificate-oidc-issuer",
                &issuer,
                "--trusted-root",
                "root.json",
                "--format",
                "json",
                "--revocations",
                "keyless-list.json",
                "--revocation-identity",
                who,
                "--revocation-oidc-issuer",
                &issuer,
            ],
            code,
        )
    };
    let run = by_identity("security@acme.example", 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        rejection_codes(&doc),
        ["revocation.identity"],
        "{}",
        run.stdout
    );
    let run = by_identity("intern@acme.example", 2);
    assert_eq!(
        error_code(&run.stderr),
        Some("revocation.unverified"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_vsa_signed_by_a_revoked_verifier_key_is_not_accepted() {
    let s = built();
    s.expect(&["keygen", "--output", "verifier"], 0);
    std::fs::write(
        s.file("policy.yaml"),
        "apiVersion: hallmark.dev/policy/v1\nsteps:\n  build: {signers: [k.pub], inputs: [source]}\n",
    )
    .unwrap();
    s.expect(
        &[
            "verify",
            "out/app",
            "--policy",
            "policy.yaml",
            "--emit-vsa",
            "app.vsa.json",
            "--vsa-signing-key",
            "verifier.key",
        ],
        0,
    );
    let explain = s.expect(&["policy", "explain", "policy.yaml"], 0);
    let digest = explain
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("{}", explain.stdout))
        .to_owned();
    let accept = |extra: &[&str], code: i32| {
        let mut args = vec![
            "verify",
            "out/app",
            "--accept-vsa-from",
            "verifier.pub",
            "--vsa-policy-digest",
            &digest,
            "--format",
            "json",
        ];
        args.extend(extra);
        s.expect(&args, code)
    };
    accept(&[], 0);
    revoke(
        &s,
        "v.json",
        &[
            "--revoke-key",
            "verifier.pub",
            "--reason",
            "verifier host reimaged",
        ],
        0,
    );
    let run = accept(
        &["--revocations", "v.json", "--revocation-key", "sec.pub"],
        1,
    );
    assert_eq!(
        violation_codes(&run),
        ["vsa.not-accepted"],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("revoked"), "{}", run.stdout);
    revoke(
        &s,
        "a.json",
        &["--artifact", "out/app", "--reason", "recalled"],
        0,
    );
    let run = accept(
        &["--revocations", "a.json", "--revocation-key", "sec.pub"],
        1,
    );
    assert_eq!(
        violation_codes(&run),
        ["revocation.artifact"],
        "{}",
        run.stdout
    );
}

/// The webhook's configuration names lists like the CLI's flags: a revoked image is denied with
/// the revocation, and a list the revocation keys do not verify refuses the configuration.
#[test]
fn the_admission_gate_denies_a_revoked_image_and_refuses_an_unverified_list() {
    use hallmark_testsvc::registry::{Registry, push_image};
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path()).unwrap();
    let host = registry.host();
    let digest = push_image(storage.path(), &format!("{host}/demo/app:v1"), "app").unwrap();
    s.expect(&["keygen", "--output", "k"], 0);
    s.expect(&["keygen", "--output", "sec"], 0);
    s.expect(&["keygen", "--output", "mallory"], 0);
    let subject = format!("oci://{host}/demo/app:v1");
    s.expect(
        &[
            "attest",
            "--subject",
            &subject,
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &host,
        ],
        0,
    );
    revoke(
        &s,
        "r.json",
        &["--artifact", &digest, "--reason", "recalled"],
        0,
    );
    let config = |keys: &str| {
        format!(
            "apiVersion: hallmark.dev/admission/v1\ntrust:\n  keys: [k.pub]\n  revocations: [r.json]\n  revocationKeys: [{keys}]\nregistries:\n  insecure: [\"{host}\"]\nrules:\n  - name: default\n"
        )
    };
    std::fs::write(s.file("good.yaml"), config("sec.pub")).unwrap();
    std::fs::write(s.file("bad.yaml"), config("mallory.pub")).unwrap();
    let review = |image: &str| {
        json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": "default",
                "operation": "CREATE",
                "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
                           "spec": {"containers": [{"name": "app", "image": image}]}},
            }
        })
        .to_string()
    };
    std::fs::write(
        s.file("review.json"),
        review(&format!("{host}/demo/app:v1")),
    )
    .unwrap();
    let run = s.expect(&["admission", "review.json", "--config", "good.yaml"], 1);
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("denied: revocation.artifact: "),
        "{message}"
    );
    let run = s.expect(&["admission", "review.json", "--config", "bad.yaml"], 2);
    assert!(
        run.stderr.contains("revocation.unverified"),
        "{}",
        run.stderr
    );
}

/// A keyid written in upper case or with a `sha256:` prefix names the same key: the spelling
/// of a revocation entry must not let the key slip past.
#[test]
fn a_revoked_keyid_matches_whatever_its_spelling() {
    let s = built();
    let pem = std::fs::read(s.file("k.pub")).unwrap();
    let keyid = hallmark_verifier::keys::TrustedKey::from_pem(&pem, "k.pub")
        .unwrap()
        .keyid()
        .to_owned();
    let spelled = format!("sha256:{}", keyid.to_uppercase());
    revoke(
        &s,
        "r.json",
        &["--revoke-keyid", &spelled, "--reason", "leaked"],
        0,
    );
    let run = s.run(&verify(&[
        "--revocations",
        "r.json",
        "--revocation-key",
        "sec.pub",
    ]));
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stdout.contains("revocation.key"), "{}", run.stdout);
}
