//! `hallmark verify --vendor NAME --vendors DIR` (docs/vendor-profiles.md): a third party's
//! delivery counts only when signed by the keys of its profile, with every predicate type the
//! profile requires, while the profile is valid.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::common::{Scratch, error_code, rejection_codes};

const CYCLONEDX: &str = "https://cyclonedx.org/bom";

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The vendor's key `acme`, firmware `fw.bin` attested by it (provenance), a profile per case.
fn delivered() -> Scratch {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "acme"], 0);
    // The vendor's build step: its provenance records when it ran (what maxAge judges).
    s.expect(
        &[
            "run",
            "--step",
            "build",
            "-m",
            "src",
            "-p",
            "fw.bin",
            "--key",
            "acme.key",
            "--",
            "sh",
            "-c",
            "cat src/*.c > fw.bin",
        ],
        0,
    );
    std::fs::create_dir(s.file("vendors")).unwrap();
    s
}

fn profile(s: &Scratch, file: &str, body: &str) {
    std::fs::write(
        s.file("vendors").join(file),
        format!("apiVersion: hallmark.dev/vendor/v1\n{body}"),
    )
    .unwrap();
}

fn verify(s: &Scratch, vendor: &str, code: i32) -> Value {
    let run = s.expect(
        &[
            "verify",
            "fw.bin",
            "--vendor",
            vendor,
            "--vendors",
            "vendors",
            "--format",
            "json",
        ],
        code,
    );
    serde_json::from_str(&run.stdout).unwrap()
}

fn violation_codes(doc: &Value) -> Vec<&str> {
    doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect()
}

#[test]
fn the_vendors_key_allows_and_another_key_does_not() {
    let s = delivered();
    s.expect(&["keygen", "--output", "other"], 0);
    profile(
        &s,
        "acme.yaml",
        "name: acme\nkeys: [../acme.pub]\nmaxAge: 30d\n",
    );
    profile(&s, "other.yaml", "name: other\nkeys: [../other.pub]\n");
    let doc = verify(&s, "acme", 0);
    assert_eq!(doc["allowed"], true);
    // Signed by acme, judged as a delivery of `other`: nothing verifies.
    let doc = verify(&s, "other", 1);
    assert_eq!(
        violation_codes(&doc),
        ["attestation.none-verified"],
        "{doc}"
    );
    assert_eq!(rejection_codes(&doc), ["dsse.signature"]);
    // A delivery older than the profile's maxAge.
    profile(
        &s,
        "acme.yaml",
        "name: acme\nkeys: [../acme.pub]\nmaxAge: 1s\n",
    );
    std::thread::sleep(Duration::from_millis(2100));
    let doc = verify(&s, "acme", 1);
    assert_eq!(violation_codes(&doc), ["vendor.too-old"], "{doc}");
    // An unknown vendor, or --key beside --vendor, is an error.
    let run = s.expect(
        &[
            "verify",
            "fw.bin",
            "--vendor",
            "nobody",
            "--vendors",
            "vendors",
        ],
        2,
    );
    assert_eq!(
        error_code(&run.stderr),
        Some("vendor.unknown"),
        "{}",
        run.stderr
    );
    s.expect(
        &[
            "verify",
            "fw.bin",
            "--vendor",
            "acme",
            "--vendors",
            "vendors",
            "--key",
            "acme.pub",
        ],
        2,
    );
    // A verification summary cannot stand in for a vendor profile (its validUntil, maxAge and
    // required types are judged on the evidence, today).
    let run = s.expect(
        &[
            "verify",
            "fw.bin",
            "--vendor",
            "acme",
            "--vendors",
            "vendors",
            "--accept-vsa-from",
            "acme.pub",
            "--vsa-policy-digest",
            &format!("sha256:{}", "0".repeat(64)),
        ],
        2,
    );
    assert!(run.stderr.contains("a vendor profile"), "{}", run.stderr);
}

/// A provenance that claims to finish in the future is not "fresh for ever": with no verified
/// time, its claimed time is no age at all.
#[test]
fn a_delivery_from_the_future_is_not_fresh() {
    let s = delivered();
    let future = rfc3339(SystemTime::now() + Duration::from_secs(400 * 24 * 3600));
    std::fs::write(
        s.file("future.json"),
        format!(
            r#"{{"buildDefinition": {{"buildType": "https://example.com/b/v1", "externalParameters": {{}}}},
                "runDetails": {{"builder": {{"id": "https://example.com/builder"}},
                "metadata": {{"startedOn": "{future}", "finishedOn": "{future}"}}}}}}"#
        ),
    )
    .unwrap();
    std::fs::remove_dir_all(s.file(".hallmark")).unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "fw.bin",
            "--predicate",
            "future.json",
            "--type",
            "https://slsa.dev/provenance/v1",
            "--key",
            "acme.key",
        ],
        0,
    );
    profile(
        &s,
        "acme.yaml",
        "name: acme\nkeys: [../acme.pub]\nmaxAge: 30d\n",
    );
    let doc = verify(&s, "acme", 1);
    assert_eq!(violation_codes(&doc), ["vendor.too-old"], "{doc}");
}

#[test]
fn an_expired_profile_retires_the_vendors_key_like_a_revocation() {
    let s = delivered();
    let past = rfc3339(SystemTime::now() - Duration::from_secs(3600));
    let start = rfc3339(SystemTime::now() - Duration::from_secs(86_400));
    profile(
        &s,
        "acme.yaml",
        &format!("name: acme\nkeys: [../acme.pub]\nvalidFrom: {start}\nvalidUntil: {past}\n"),
    );
    let doc = verify(&s, "acme", 1);
    assert_eq!(rejection_codes(&doc), ["revocation.key"], "{doc}");
    assert!(doc.to_string().contains("profile expired"), "{doc}");
    let future = rfc3339(SystemTime::now() + Duration::from_secs(3600));
    profile(
        &s,
        "acme.yaml",
        &format!("name: acme\nkeys: [../acme.pub]\nvalidFrom: {future}\n"),
    );
    let doc = verify(&s, "acme", 1);
    assert_eq!(violation_codes(&doc), ["vendor.not-yet-valid"], "{doc}");
}

#[test]
fn a_required_sbom_that_was_not_delivered_denies() {
    let s = delivered();
    profile(
        &s,
        "all.yaml",
        &format!(
            "name: acme\nkeys: [../acme.pub]\npredicateTypes: [https://slsa.dev/provenance/v1, {CYCLONEDX}]\n"
        ),
    );
    let doc = verify(&s, "acme", 1);
    assert_eq!(violation_codes(&doc), ["vendor.predicate-missing"], "{doc}");
    assert!(doc.to_string().contains(CYCLONEDX));
    std::fs::write(
        s.file("bom.json"),
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}"#,
    )
    .unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "fw.bin",
            "--predicate",
            "bom.json",
            "--type",
            CYCLONEDX,
            "--key",
            "acme.key",
        ],
        0,
    );
    verify(&s, "acme", 0);
    // A malformed profile is an error, never an empty trust.
    profile(&s, "all.yaml", "name: acme\nkeys: []\n");
    let run = s.expect(
        &[
            "verify",
            "fw.bin",
            "--vendor",
            "acme",
            "--vendors",
            "vendors",
        ],
        2,
    );
    assert_eq!(
        error_code(&run.stderr),
        Some("vendor.profile"),
        "{}",
        run.stderr
    );
}

/// A declarative policy names the vendor per artifact glob: the delivery is judged by that
/// vendor's profile, and the profiles are part of the policy's digest.
#[test]
fn a_policy_names_the_vendor_of_matching_artifacts() {
    let s = delivered();
    s.expect(&["keygen", "--output", "other"], 0);
    profile(&s, "acme.yaml", "name: acme\nkeys: [../acme.pub]\n");
    profile(&s, "other.yaml", "name: other\nkeys: [../other.pub]\n");
    let policy = |vendor: &str| {
        format!(
            "apiVersion: hallmark.dev/policy/v1\nsteps:\n  build: {{inputs: [source]}}\nvendors:\n  - artifacts: \"*.bin\"\n    vendor: {vendor}\n"
        )
    };
    std::fs::write(s.file("acme.yaml"), policy("acme")).unwrap();
    std::fs::write(s.file("other.yaml"), policy("other")).unwrap();
    let run = s.expect(&["verify", "fw.bin", "--policy", "acme.yaml"], 0);
    assert!(
        run.stdout.to_lowercase().contains("allow"),
        "{}",
        run.stdout
    );
    // The same delivery judged as `other`'s: acme's signature does not count.
    let run = s.expect(
        &[
            "verify",
            "fw.bin",
            "--policy",
            "other.yaml",
            "--format",
            "json",
        ],
        1,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(rejection_codes(&doc), ["dsse.signature"], "{doc}");
    // A name no vendor profile has: the policy does not load.
    std::fs::write(s.file("nobody.yaml"), policy("nobody")).unwrap();
    let run = s.expect(&["verify", "fw.bin", "--policy", "nobody.yaml"], 2);
    assert!(run.stderr.contains("nobody"), "{}", run.stderr);
}
