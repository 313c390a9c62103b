//! Every Sigstore check proven by a tampered copy of a real bundle that must be rejected, naming
//! the failed check. The bundles are the sigstore-conformance happy paths
//! (`$HALLMARK_VECTORS/sigstore-conformance`), verified against the embedded production root.

use std::path::PathBuf;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher, arcs};
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, SigstoreError, verify_bundle};
use serde_json::{Value, json};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// sha256 of the conformance suite's a.txt.
const A_TXT: &str = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

fn case(name: &str) -> Value {
    let vectors = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let path = vectors
        .join("sigstore-conformance/test/assets/bundle-verify")
        .join(name)
        .join("bundle.sigstore.json");
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set HALLMARK_VECTORS)", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

fn policy() -> IdentityPolicy {
    IdentityPolicy {
        identity: Matcher::Exact(IDENTITY.into()),
        issuer: Matcher::Exact(ISSUER.into()),
        extensions: vec![],
    }
}

fn check_with(
    bundle: &Value,
    digest_hex: &str,
    policy: &IdentityPolicy,
) -> Result<(), SigstoreError> {
    let digest = Digest::from_hex(DigestAlgorithm::Sha256, digest_hex).unwrap();
    let root = embedded::production().unwrap();
    verify_bundle(
        &serde_json::to_vec(bundle).unwrap(),
        Artifact {
            sha256: &digest,
            bytes: None,
        },
        &root,
        SignerTrust::Identity(policy),
        SystemTime::now(),
    )
    .map(|_| ())
}

fn check(bundle: &Value) -> Result<(), SigstoreError> {
    check_with(bundle, A_TXT, &policy())
}

fn rejected(bundle: &Value, check_name: &str, words: &str) {
    let err = check(bundle).expect_err("tampered bundle must be rejected");
    assert_eq!(err.check, check_name, "{err}");
    assert!(err.message.contains(words), "{err}");
}

fn flip_b64(v: &mut Value) {
    let mut bytes = STANDARD.decode(v.as_str().unwrap()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    *v = json!(STANDARD.encode(bytes));
}

#[test]
fn the_untampered_bundles_verify() {
    check(&case("happy-path-v0.3")).unwrap();
    check(&case("happy-path-v0.1")).unwrap();
    check(&case("happy-path-intoto-in-dsse-v3")).unwrap();
}

#[test]
fn corrupted_inclusion_proof() {
    let mut b = case("happy-path-v0.3");
    flip_b64(&mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][0]);
    rejected(&b, "tlog", "inclusion proof");
}

#[test]
fn forged_set() {
    let mut b = case("happy-path-v0.3");
    flip_b64(
        &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"],
    );
    rejected(&b, "tlog", "SET");
}

#[test]
fn shifted_integrated_time() {
    let mut b = case("happy-path-v0.3");
    let t: i64 = b["verificationMaterial"]["tlogEntries"][0]["integratedTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    b["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = json!((t - 60).to_string());
    rejected(&b, "tlog", "SET");
}

#[test]
fn checkpoint_signed_by_another_key() {
    let mut b = case("happy-path-v0.3");
    let entry = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"];
    let text = entry.as_str().unwrap().to_owned();
    let (body, sig_line) = text.split_once("\n\n").unwrap();
    let (name, sig) = sig_line.trim_end().rsplit_once(' ').unwrap();
    let mut raw = STANDARD.decode(sig).unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 0x55;
    *entry = json!(format!("{body}\n\n{name} {}\n", STANDARD.encode(raw)));
    rejected(&b, "tlog", "checkpoint");
}

#[test]
fn log_id_not_in_the_root() {
    let mut b = case("happy-path-v0.3");
    b["verificationMaterial"]["tlogEntries"][0]["logId"]["keyId"] =
        json!(STANDARD.encode([7u8; 32]));
    rejected(&b, "tlog", "not a transparency log of the trust root");
}

/// Verifies a conformance case with its own trust root and artifact.
fn check_case(name: &str) -> Result<(), SigstoreError> {
    let vectors = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let dir = vectors
        .join("sigstore-conformance/test/assets/bundle-verify")
        .join(name);
    let root =
        TrustRoot::from_json(&std::fs::read(dir.join("trusted_root.json")).unwrap()).unwrap();
    let artifact = std::fs::read(dir.join("artifact")).unwrap();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &artifact);
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref());
    verify_bundle(
        &std::fs::read(dir.join("bundle.sigstore.json")).unwrap(),
        Artifact {
            sha256: &digest,
            bytes: Some(&artifact),
        },
        &root,
        SignerTrust::Identity(&policy()),
        SystemTime::now(),
    )
    .map(|_| ())
}

#[test]
fn certificate_expired_at_signing_time() {
    for name in [
        "intoto-expired-certificate_fail",
        "intoto-set-outside-signing-cert-validity_fail",
    ] {
        let err = check_case(name).expect_err(name);
        assert_eq!(err.check, "time", "{name}: {err}");
        assert!(err.message.contains("was not valid at"), "{name}: {err}");
    }
}

#[test]
fn tsa_time_outside_the_certificate_validity() {
    let err = check_case("intoto-tsa-timestamp-outside-cert-validity_fail")
        .expect_err("TSA time outside validity");
    assert_eq!(err.check, "time", "{err}");
    assert!(err.message.contains("was not valid at"), "{err}");
}

#[test]
fn wrong_identity_issuer_and_workflow_show_expected_and_actual() {
    let b = case("happy-path-v0.3");
    let mut p = policy();
    p.identity = Matcher::Exact(
        "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main".into(),
    );
    let err = check_with(&b, A_TXT, &p).unwrap_err();
    assert_eq!(err.check, "identity");
    assert!(
        err.message.contains("expected \"https://github.com/evil")
            && err.message.contains(IDENTITY),
        "{err}"
    );

    let mut p = policy();
    p.issuer = Matcher::Exact("https://accounts.google.com".into());
    let err = check_with(&b, A_TXT, &p).unwrap_err();
    assert!(
        err.message.contains("OIDC issuer mismatch") && err.message.contains(ISSUER),
        "{err}"
    );

    let mut p = policy();
    p.extensions.push((
        arcs::BUILD_SIGNER_URI,
        Matcher::Exact("https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1".into()),
        "--signer-workflow",
    ));
    let err = check_with(&b, A_TXT, &p).unwrap_err();
    assert!(
        err.message.contains("--signer-workflow mismatch")
            && err.message.contains("extremely-dangerous-oidc-beacon.yml"),
        "{err}"
    );

    // Regular expressions must match the whole value, not a prefix.
    let mut p = policy();
    p.identity = Matcher::regex("https://github.com/sigstore-conformance/.*").unwrap();
    check_with(&b, A_TXT, &p).unwrap();
    p.identity = Matcher::regex("https://github.com/sigstore-conformance").unwrap();
    assert_eq!(check_with(&b, A_TXT, &p).unwrap_err().check, "identity");
}

#[test]
fn dsse_with_two_signatures() {
    let mut b = case("happy-path-intoto-in-dsse-v3");
    let sig = b["dsseEnvelope"]["signatures"][0].clone();
    b["dsseEnvelope"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(sig);
    rejected(&b, "signature", "exactly 1 required");
}

#[test]
fn subject_digest_mismatch() {
    let b = case("happy-path-intoto-in-dsse-v3");
    let err = check_with(&b, &"0".repeat(64), &policy()).unwrap_err();
    assert_eq!(err.check, "subject", "{err}");
}

#[test]
fn message_signature_over_another_artifact() {
    let b = case("happy-path-v0.3");
    let err = check_with(&b, &"1".repeat(64), &policy()).unwrap_err();
    assert_eq!(err.check, "signature", "{err}");
}

#[test]
fn certificate_replaced_by_another_valid_one() {
    let mut b = case("happy-path-v0.3");
    let other = case("happy-path-intoto-in-dsse-v3");
    b["verificationMaterial"]["certificate"] = other["verificationMaterial"]["certificate"].clone();
    assert!(check(&b).is_err());
}

#[test]
fn tampered_log_body() {
    let mut b = case("happy-path-v0.3");
    let body = STANDARD
        .decode(
            b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let text = String::from_utf8(body)
        .unwrap()
        .replace(A_TXT, &"2".repeat(64));
    b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"] = json!(STANDARD.encode(text));
    rejected(&b, "tlog", "different artifact digest");
}

#[test]
fn rekor_v2_log_not_valid_at_the_timestamp() {
    let vectors = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let dir = vectors.join("sigstore-conformance/test/assets/bundle-verify/rekor2-happy-path");
    let mut root: Value =
        serde_json::from_slice(&std::fs::read(dir.join("trusted_root.json")).unwrap()).unwrap();
    let bundle = std::fs::read(dir.join("bundle.sigstore.json")).unwrap();
    let digest = Digest::from_hex(DigestAlgorithm::Sha256, A_TXT).unwrap();
    let verify = |root: &Value| {
        let trust = TrustRoot::from_json(&serde_json::to_vec(root).unwrap()).unwrap();
        verify_bundle(
            &bundle,
            Artifact {
                sha256: &digest,
                bytes: None,
            },
            &trust,
            SignerTrust::Identity(&policy()),
            SystemTime::now(),
        )
    };
    verify(&root).unwrap();
    for log in root["tlogs"].as_array_mut().unwrap() {
        log["publicKey"]["validFor"] =
            json!({"start": "2000-01-01T00:00:00Z", "end": "2001-01-01T00:00:00Z"});
    }
    let err = verify(&root).unwrap_err();
    assert_eq!(err.check, "tlog", "{err}");
    assert!(
        err.message.contains("not valid at any verified time"),
        "{err}"
    );
}

#[test]
fn duplicate_log_entries_are_rejected() {
    let mut b = case("happy-path-v0.3");
    let entry = b["verificationMaterial"]["tlogEntries"][0].clone();
    b["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
        .push(entry);
    rejected(&b, "tlog", "same log entry twice");
}
