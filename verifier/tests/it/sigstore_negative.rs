//! Every Sigstore check proven by a tampered copy of a real bundle that must be rejected, with
//! the error of the check that failed (its variant, and its stable code). The bundles are the sigstore-conformance happy paths
//! (`$HALLMARK_VECTORS/sigstore-conformance`), verified against the embedded production root.

use std::path::PathBuf;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::error::{
    BodyError, CertificateError, CheckpointError, IdentityError, InclusionProofError, SetError,
    SignatureError, SignerKind, SubjectError, TimeError, TlogError,
};
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher, arcs};
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};
use hallmark_verifier::sigstore::{Error, error::BundleError};
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

fn check_with(bundle: &Value, digest_hex: &str, policy: &IdentityPolicy) -> Result<(), Error> {
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

fn check(bundle: &Value) -> Result<(), Error> {
    check_with(bundle, A_TXT, &policy())
}

/// The bundle is rejected with exactly `expected`, whose code is `code`.
#[track_caller]
fn rejected(bundle: &Value, expected: impl Into<Error>, code: &str) {
    let err = check(bundle).expect_err("tampered bundle must be rejected");
    assert_eq!(err, expected.into());
    assert_eq!(err.code(), code, "{err}");
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
    let expected = TlogError::InclusionProof(InclusionProofError::RootMismatch);
    rejected(&b, expected, "sigstore.tlog.inclusion-proof");
}

#[test]
fn forged_set() {
    let mut b = case("happy-path-v0.3");
    flip_b64(
        &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"],
    );
    rejected(&b, TlogError::Set(SetError::Signature), "sigstore.tlog.set");
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
    rejected(&b, TlogError::Set(SetError::Signature), "sigstore.tlog.set");
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
    let expected = TlogError::Checkpoint(CheckpointError::Signature);
    rejected(&b, expected, "sigstore.tlog.checkpoint");
}

#[test]
fn log_id_not_in_the_root() {
    let mut b = case("happy-path-v0.3");
    let unknown = STANDARD.encode([7u8; 32]);
    b["verificationMaterial"]["tlogEntries"][0]["logId"]["keyId"] = json!(unknown);
    rejected(
        &b,
        TlogError::UnknownLog(unknown),
        "sigstore.tlog.unknown-log",
    );
}

/// Verifies a conformance case with its own trust root and artifact.
fn check_case(name: &str) -> Result<(), Error> {
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
fn certificate_not_valid_at_signing_time() {
    // Issued for 2030, signed (by the SET's time) in 2023.
    let err = check_case("intoto-expired-certificate_fail").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Certificate(CertificateError::NotYetValid { .. })
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "sigstore.certificate.not-yet-valid");
    let err = check_case("intoto-set-outside-signing-cert-validity_fail").unwrap_err();
    assert!(
        matches!(err, Error::Certificate(CertificateError::Expired { .. })),
        "{err:?}"
    );
    assert_eq!(err.code(), "sigstore.certificate.expired");
}

#[test]
fn tsa_time_outside_the_certificate_validity() {
    let err = check_case("intoto-tsa-timestamp-outside-cert-validity_fail")
        .expect_err("TSA time outside validity");
    assert!(
        matches!(err, Error::Certificate(CertificateError::Expired { .. })),
        "{err:?}"
    );
    assert_eq!(err.code(), "sigstore.certificate.expired");
}

#[test]
fn wrong_identity_issuer_and_workflow_show_expected_and_actual() {
    let b = case("happy-path-v0.3");
    let mut p = policy();
    p.identity = Matcher::Exact(
        "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main".into(),
    );
    let err = check_with(&b, A_TXT, &p).unwrap_err();
    let expected = IdentityError::Identity {
        expected: "\"https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main\"".into(),
        found: vec![IDENTITY.into()],
    };
    assert_eq!(err, Error::Identity(expected));
    assert_eq!(err.code(), "sigstore.identity.mismatch");

    let mut p = policy();
    p.issuer = Matcher::Exact("https://accounts.google.com".into());
    let err = check_with(&b, A_TXT, &p).unwrap_err();
    let expected = IdentityError::Issuer {
        expected: "\"https://accounts.google.com\"".into(),
        found: ISSUER.into(),
    };
    assert_eq!(err, Error::Identity(expected));
    assert_eq!(err.code(), "sigstore.identity.mismatch");

    let mut p = policy();
    let workflow = "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1";
    p.extensions.push((
        arcs::BUILD_SIGNER_URI,
        Matcher::Exact(workflow.into()),
        "--signer-workflow",
    ));
    let err = check_with(&b, A_TXT, &p).unwrap_err();
    let Error::Identity(IdentityError::Extension {
        label,
        arc,
        expected,
        found,
    }) = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (*label, *arc),
        ("--signer-workflow", arcs::BUILD_SIGNER_URI)
    );
    assert_eq!(expected, &format!("{workflow:?}"));
    assert!(
        found.contains("extremely-dangerous-oidc-beacon.yml"),
        "{found}"
    );

    // Regular expressions must match the whole value, not a prefix.
    let mut p = policy();
    p.identity = Matcher::regex("https://github.com/sigstore-conformance/.*").unwrap();
    check_with(&b, A_TXT, &p).unwrap();
    p.identity = Matcher::regex("https://github.com/sigstore-conformance").unwrap();
    let err = check_with(&b, A_TXT, &p).unwrap_err();
    assert!(
        matches!(&err, Error::Identity(IdentityError::Identity { found, .. }) if found == &[IDENTITY]),
        "{err:?}"
    );
}

#[test]
fn dsse_with_two_signatures() {
    let mut b = case("happy-path-intoto-in-dsse-v3");
    let sig = b["dsseEnvelope"]["signatures"][0].clone();
    b["dsseEnvelope"]["signatures"]
        .as_array_mut()
        .unwrap()
        .push(sig);
    rejected(&b, SignatureError::DsseCount(2), "dsse.signature-count");
}

#[test]
fn dsse_payload_changed_after_signing() {
    let mut b = case("happy-path-intoto-in-dsse-v3");
    let mut payload = STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    payload.push(b' ');
    b["dsseEnvelope"]["payload"] = json!(STANDARD.encode(payload));
    rejected(&b, SignatureError::Dsse, "sigstore.signature.mismatch");
}

#[test]
fn subject_digest_mismatch() {
    let b = case("happy-path-intoto-in-dsse-v3");
    let other = "0".repeat(64);
    let err = check_with(&b, &other, &policy()).unwrap_err();
    let expected = SubjectError::NotNamed(format!("sha256:{other}"));
    assert_eq!(err, Error::Subject(expected));
    assert_eq!(err.code(), "statement.subject");
}

#[test]
fn message_signature_over_another_artifact() {
    // The bundle's digest hint names a.txt: the inconsistency is caught first.
    let b = case("happy-path-v0.3");
    let err = check_with(&b, &"1".repeat(64), &policy()).unwrap_err();
    assert_eq!(err, Error::Subject(SubjectError::MessageDigest));
    assert_eq!(err.code(), "sigstore.subject.message-digest");
    // Without the (unsigned) hint, the signature itself does not cover the other artifact.
    let mut b = case("happy-path-v0.3");
    b["messageSignature"]
        .as_object_mut()
        .unwrap()
        .remove("messageDigest");
    let err = check_with(&b, &"1".repeat(64), &policy()).unwrap_err();
    assert_eq!(err, Error::Signature(SignatureError::Message));
    assert_eq!(err.code(), "sigstore.signature.mismatch");
}

#[test]
fn certificate_replaced_by_another_valid_one() {
    let mut b = case("happy-path-v0.3");
    let other = case("happy-path-intoto-in-dsse-v3");
    b["verificationMaterial"]["certificate"] = other["verificationMaterial"]["certificate"].clone();
    rejected(&b, SignatureError::Message, "sigstore.signature.mismatch");
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
    rejected(&b, TlogError::Body(BodyError::Digest), "sigstore.tlog.body");
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
    assert!(
        matches!(err, Error::Tlog(TlogError::LogValidity(_))),
        "{err:?}"
    );
    assert_eq!(err.code(), "sigstore.tlog.log-validity");
}

#[test]
fn duplicate_log_entries_are_rejected() {
    let mut b = case("happy-path-v0.3");
    let entry = b["verificationMaterial"]["tlogEntries"][0].clone();
    b["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
        .push(entry);
    rejected(
        &b,
        TlogError::DuplicateEntry,
        "sigstore.tlog.duplicate-entry",
    );
}

#[test]
fn a_certificate_bundle_without_log_entries_is_rejected() {
    let mut b = case("happy-path-v0.3");
    b["verificationMaterial"]["tlogEntries"] = json!([]);
    rejected(&b, TlogError::Missing, "sigstore.tlog.missing");
}

/// happy-path-v0.3 with `field` taken out of its log entry.
fn without_entry_field(field: &str) -> Value {
    let mut b = case("happy-path-v0.3");
    let entry = b["verificationMaterial"]["tlogEntries"][0].as_object_mut();
    entry.unwrap().remove(field).unwrap();
    b
}

#[test]
fn a_log_entry_without_its_set_gives_no_verified_time() {
    // The inclusion proof still verifies, but only the SET vouches for a time of signing.
    let b = without_entry_field("inclusionPromise");
    rejected(
        &b,
        TimeError::NoVerifiedTime,
        "sigstore.time.no-verified-time",
    );
}

#[test]
fn a_v0_3_entry_without_inclusion_proof_is_rejected() {
    let b = without_entry_field("inclusionProof");
    rejected(
        &b,
        TlogError::NoInclusionProof,
        "sigstore.tlog.no-inclusion-proof",
    );
}

#[test]
fn a_certificate_bundle_checked_against_a_key_names_the_signer_kinds() {
    let b = case("happy-path-v0.3");
    let other = case("managed-key-happy-path");
    let digest = Digest::from_hex(DigestAlgorithm::Sha256, A_TXT).unwrap();
    let root = embedded::production().unwrap();
    let leaf = &b["verificationMaterial"]["certificate"]["rawBytes"];
    let der = STANDARD.decode(leaf.as_str().unwrap()).unwrap();
    let cert = hallmark_verifier::sigstore::certificate::LeafCertificate::parse(&der).unwrap();
    let artifact = Artifact {
        sha256: &digest,
        bytes: None,
    };
    let verify = |bundle: &Value, signer| {
        let bytes = serde_json::to_vec(bundle).unwrap();
        verify_bundle(&bytes, artifact, &root, signer, SystemTime::now()).unwrap_err()
    };
    let err = verify(&b, SignerTrust::Key(&cert.key));
    let expected = BundleError::SignerKind {
        found: SignerKind::Certificate,
        expected: SignerKind::Key,
    };
    assert_eq!(err, Error::Bundle(expected));
    assert_eq!(err.code(), "sigstore.bundle.signer-kind");
    let err = verify(&other, SignerTrust::Identity(&policy()));
    let expected = BundleError::SignerKind {
        found: SignerKind::Key,
        expected: SignerKind::Certificate,
    };
    assert_eq!(err, Error::Bundle(expected));
}

#[test]
fn a_chain_that_brings_its_own_root_is_rejected() {
    // A v0.1 bundle whose chain ends in a self-signed certificate the trust root does not hold.
    let mut b = case("happy-path-v0.1");
    // The staging root: self-signed, and not the production root the bundle is checked against.
    let staging = embedded::staging().unwrap();
    let own_root = staging.certificate_authorities[0].chain.last().unwrap();
    let vm = &mut b["verificationMaterial"]["x509CertificateChain"]["certificates"];
    let own_root = json!({"rawBytes": STANDARD.encode(own_root)});
    vm.as_array_mut().unwrap().push(own_root);
    rejected(
        &b,
        CertificateError::BundledRoot,
        "sigstore.certificate.bundled-root",
    );
    let vm = &mut b["verificationMaterial"]["x509CertificateChain"]["certificates"];
    *vm = json!([]);
    rejected(
        &b,
        CertificateError::EmptyChain,
        "sigstore.certificate.empty-chain",
    );
}

#[test]
fn a_keyless_bundle_is_verified_once_whatever_the_number_of_identities() {
    use hallmark_model::budget::{Budget, Work};
    use hallmark_verifier::Rejection;
    use hallmark_verifier::session::Session;
    use hallmark_verifier::verdict::{Candidate, KeylessTrust, Requirements};

    let bundle = serde_json::to_vec(&case("happy-path-intoto-in-dsse-v3")).unwrap();
    let digest = Digest::from_hex(DigestAlgorithm::Sha256, A_TXT).unwrap();
    let candidate = Candidate::new("b.json", bundle);
    let strangers: Vec<IdentityPolicy> = ["a", "b", "c"]
        .iter()
        .map(|who| IdentityPolicy::exact(&format!("https://github.com/{who}/x"), ISSUER))
        .collect();
    // Checks the bundle against `identities`; returns the result and the signature work spent.
    let check = |identities: Vec<IdentityPolicy>| {
        let mut requirements = Requirements::at(SystemTime::now());
        requirements.keyless = Some(KeylessTrust {
            roots: embedded::production().unwrap().into(),
            identities,
        });
        let budget = Budget::default();
        let result = Session::new(&requirements, &budget).check(&candidate, &digest);
        (result, budget.spent(Work::Signatures))
    };
    // The certificate chain and SCT (2) and the one log entry (1): once, not once per identity.
    let (result, spent) = check(strangers.clone());
    let err = result.unwrap_err();
    let Rejection::Sigstore(Error::Identity(IdentityError::NoneMatched { tried, first })) = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*tried, 3);
    assert!(
        matches!(**first, IdentityError::Identity { .. }),
        "{first:?}"
    );
    assert_eq!(err.code(), "sigstore.identity.mismatch");
    assert_eq!(spent, 3);
    let mut last_matches = strangers;
    last_matches.push(policy());
    let (result, spent) = check(last_matches);
    result.unwrap();
    assert_eq!(spent, 3);
}
