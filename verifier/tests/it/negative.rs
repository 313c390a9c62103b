//! Every check of the key-based verifier, proven by a tampered input that must be rejected.

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::dsse::Signature;
use hallmark_model::keyid::KeyKind;
use hallmark_model::limits::MAX_BUNDLE_BYTES;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::{PAYLOAD_TYPE, Statement};
use hallmark_verifier::Rejection;
use hallmark_verifier::attestation::{SignaturePolicy, verify_bundle};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::verdict::{Candidate, Requirements, Violation, decide};
use serde_json::json;

fn digest(byte: u8) -> Digest {
    Digest::from_bytes(DigestAlgorithm::Sha256, &[byte; 32])
}

fn statement_for(d: &Digest, predicate_type: &str) -> Statement {
    Statement::new(
        vec![ResourceDescriptor::named("dist/app.tar", d.to_set())],
        predicate_type,
        json!({"anything": true}),
    )
    .unwrap()
}

struct Fixture {
    signer: KeySigner,
    trusted: TrustedKey,
}

fn fixture(kind: KeyKind) -> Fixture {
    let key = SigningKey::generate(kind).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    assert_eq!(
        trusted.keyid(),
        key.keyid(),
        "both sides agree on the keyid"
    );
    Fixture {
        signer: KeySigner::new(key),
        trusted,
    }
}

fn signed(f: &Fixture, st: &Statement) -> Bundle {
    f.signer.sign_statement(st).unwrap()
}

fn check(f: &Fixture, bundle: &Bundle, d: &Digest) -> Result<(), Rejection> {
    verify_bundle(
        &bundle.to_json(),
        d,
        std::slice::from_ref(&f.trusted),
        SignaturePolicy::ExactlyOne,
    )
    .map(|_| ())
}

#[test]
fn good_bundles_verify_with_both_key_kinds() {
    for kind in [KeyKind::EcdsaP256, KeyKind::Ed25519] {
        let f = fixture(kind);
        let d = digest(1);
        check(
            &f,
            &signed(&f, &statement_for(&d, "https://example.com/custom/v1")),
            &d,
        )
        .unwrap();
    }
}

#[test]
fn tampered_payload_is_rejected() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let mut bundle = signed(&f, &statement_for(&d, "t"));
    let env = bundle.dsse_envelope.as_mut().unwrap();
    let text = String::from_utf8(env.payload.clone())
        .unwrap()
        .replace("\"anything\":true", "\"anything\":false");
    env.payload = text.into_bytes();
    assert!(matches!(
        check(&f, &bundle, &d),
        Err(Rejection::Signature { .. })
    ));
}

#[test]
fn tampered_payload_type_is_rejected_by_the_signature() {
    let f = fixture(KeyKind::Ed25519);
    let d = digest(1);
    let mut bundle = signed(&f, &statement_for(&d, "t"));
    bundle.dsse_envelope.as_mut().unwrap().payload_type = "text/plain".into();
    assert!(matches!(
        check(&f, &bundle, &d),
        Err(Rejection::Signature { .. })
    ));
}

#[test]
fn a_validly_signed_envelope_of_another_payload_type_is_not_an_attestation() {
    // Signed over the PAE of its own type: the signature verifies, the payload type does not.
    for kind in [KeyKind::EcdsaP256, KeyKind::Ed25519] {
        let f = fixture(kind);
        let d = digest(1);
        let payload = serde_json::to_vec(&statement_for(&d, "t")).unwrap();
        let bundle = f.signer.sign_dsse("application/json", &payload).unwrap();
        let err = check(&f, &bundle, &d).unwrap_err();
        assert_eq!(err, Rejection::PayloadType("application/json".into()));
        assert_eq!(err.code(), "dsse.payload-type");
    }
}

#[test]
fn wrong_key_is_rejected() {
    let f = fixture(KeyKind::EcdsaP256);
    let other = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let bundle = signed(&other, &statement_for(&d, "t"));
    let err = check(&f, &bundle, &d).unwrap_err();
    assert!(matches!(err, Rejection::Signature { .. }), "{err}");
    assert_eq!(err.code(), "dsse.signature");
}

#[test]
fn wrong_subject_is_rejected() {
    let f = fixture(KeyKind::EcdsaP256);
    let bundle = signed(&f, &statement_for(&digest(1), "t"));
    let err = check(&f, &bundle, &digest(2)).unwrap_err();
    assert!(matches!(err, Rejection::Subject { .. }), "{err}");
    assert_eq!(err.code(), "statement.subject");
    assert!(err.to_string().contains(&digest(2).to_string()));
}

#[test]
fn two_signatures_are_rejected_unless_a_threshold_asks() {
    let f = fixture(KeyKind::EcdsaP256);
    let g = fixture(KeyKind::Ed25519);
    let d = digest(1);
    let mut bundle = signed(&f, &statement_for(&d, "t"));
    let env = bundle.dsse_envelope.as_mut().unwrap();
    let second = g.signer.key().sign(&env.signed_bytes()).unwrap();
    env.signatures.push(Signature {
        keyid: g.trusted.keyid().into(),
        sig: second,
    });
    assert!(matches!(
        check(&f, &bundle, &d),
        Err(Rejection::SignatureCount { found: 2, .. })
    ));
    let both = [f.trusted.clone(), g.trusted.clone()];
    let v = verify_bundle(&bundle.to_json(), &d, &both, SignaturePolicy::Threshold(2)).unwrap();
    assert_eq!(v.signers().len(), 2);
    // A threshold of 2 is not met by one trusted key signing twice.
    let mut doubled = bundle.clone();
    let env = doubled.dsse_envelope.as_mut().unwrap();
    env.signatures[1] = env.signatures[0].clone();
    assert!(matches!(
        verify_bundle(&doubled.to_json(), &d, &both, SignaturePolicy::Threshold(2)),
        Err(Rejection::Signature { .. })
    ));
}

#[test]
fn truncated_and_oversized_bundles_are_rejected() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let json = signed(&f, &statement_for(&d, "t")).to_json();
    let err = verify_bundle(
        &json[..json.len() / 2],
        &d,
        std::slice::from_ref(&f.trusted),
        SignaturePolicy::ExactlyOne,
    )
    .unwrap_err();
    assert!(matches!(err, Rejection::Bundle(_)), "{err}");
    let mut big = json.clone();
    big.resize(MAX_BUNDLE_BYTES as usize + 1, b' ');
    let err = verify_bundle(
        &big,
        &d,
        std::slice::from_ref(&f.trusted),
        SignaturePolicy::ExactlyOne,
    )
    .unwrap_err();
    assert!(matches!(err, Rejection::Bundle(_)), "{err}");
    assert_eq!(err.code(), "bundle.parse");
    assert!(err.to_string().contains("over the limit"), "{err}");
}

/// Signs arbitrary JSON as if it were a statement, bypassing the attester's own validation.
fn signed_raw(f: &Fixture, payload: serde_json::Value) -> Bundle {
    f.signer
        .sign_dsse(PAYLOAD_TYPE, payload.to_string().as_bytes())
        .unwrap()
}

#[test]
fn a_signed_statement_without_subjects_is_rejected() {
    let f = fixture(KeyKind::EcdsaP256);
    let bundle = signed_raw(
        &f,
        json!({"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "t", "predicate": {}}),
    );
    let err = check(&f, &bundle, &digest(1)).unwrap_err();
    assert_eq!(err.code(), "statement.invalid", "{err}");
    assert!(err.to_string().contains("no subjects"), "{err}");
}

#[test]
fn a_signed_subject_name_with_path_traversal_is_rejected() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let bundle = signed_raw(
        &f,
        json!({"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "../../etc/passwd", "digest": {"sha256": d.hex()}}],
        "predicateType": "t", "predicate": {}}),
    );
    let err = check(&f, &bundle, &d).unwrap_err();
    assert_eq!(err.code(), "statement.invalid", "{err}");
    assert!(err.to_string().contains("path traversal"), "{err}");
}

#[test]
fn an_invalid_slsa_predicate_is_rejected_but_unknown_predicates_pass() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let bundle = signed(&f, &statement_for(&d, "https://slsa.dev/provenance/v1"));
    let err = check(&f, &bundle, &d).unwrap_err();
    assert!(matches!(err, Rejection::Predicate { .. }), "{err}");
    let v = verify_bundle(
        &signed(&f, &statement_for(&d, "https://example.com/unknown/v9")).to_json(),
        &d,
        std::slice::from_ref(&f.trusted),
        SignaturePolicy::ExactlyOne,
    )
    .unwrap();
    assert_eq!(v.predicate_type(), "https://example.com/unknown/v9");
    assert!(v.provenance().is_none());
}

#[test]
fn statement_v0_1_and_sha512_only_subjects_are_accepted() {
    let f = fixture(KeyKind::EcdsaP256);
    let hex512 = "ab".repeat(64);
    let d = Digest::from_hex(DigestAlgorithm::Sha512, &hex512).unwrap();
    let bundle = signed_raw(
        &f,
        json!({"_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"digest": {"sha512": hex512}}], "predicateType": "t", "predicate": {}}),
    );
    check(&f, &bundle, &d).unwrap();
}

#[test]
fn keyless_bundles_are_not_mistaken_for_key_signed_ones() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let mut bundle = signed(&f, &statement_for(&d, "t"));
    bundle.verification_material.certificate = Some(hallmark_model::bundle::X509Certificate {
        raw_bytes: vec![0x30, 0x00],
    });
    assert_eq!(check(&f, &bundle, &d), Err(Rejection::Keyless));
}

#[test]
fn verdicts_name_missing_steps_and_missing_attestations() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(7);
    let requirements = Requirements {
        keys: vec![f.trusted.clone()],
        steps: vec!["package".into()],
        ..Requirements::at(std::time::SystemTime::now())
    };
    let none = decide(&d, &[], &requirements);
    assert!(!none.allowed());
    assert!(matches!(
        none.violations()[0],
        Violation::NoAttestation { .. }
    ));
    let bundle = signed(&f, &statement_for(&d, "t"));
    let verdict = decide(
        &d,
        &[Candidate::new("b.json", bundle.to_json())],
        &requirements,
    );
    assert!(!verdict.allowed());
    assert_eq!(verdict.violations().len(), 1);
    assert!(verdict.violations()[0].to_string().contains("\"package\""));
    let no_steps = Requirements {
        steps: vec![],
        ..requirements
    };
    assert!(decide(&d, &[Candidate::new("b", bundle.to_json())], &no_steps).allowed());
}

#[test]
fn a_zero_threshold_never_accepts_an_unsigned_envelope() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let mut bundle = signed(&f, &statement_for(&d, "t"));
    bundle.dsse_envelope.as_mut().unwrap().signatures.clear();
    let err = verify_bundle(
        &bundle.to_json(),
        &d,
        std::slice::from_ref(&f.trusted),
        SignaturePolicy::Threshold(0),
    )
    .unwrap_err();
    assert!(matches!(err, Rejection::SignatureCount { .. }), "{err}");
}

#[test]
fn hostile_keyids_cannot_paint_the_terminal() {
    let f = fixture(KeyKind::EcdsaP256);
    let other = fixture(KeyKind::EcdsaP256);
    let d = digest(1);
    let mut bundle = signed(&other, &statement_for(&d, "t"));
    bundle.dsse_envelope.as_mut().unwrap().signatures[0].keyid = "\u{1b}[2J\nALLOWED".into();
    let err = check(&f, &bundle, &d).unwrap_err().to_string();
    assert!(!err.contains('\u{1b}') && !err.contains('\n'), "{err:?}");
}

/// An SBOM predicate type promises a document of that format: anything else is rejected, so a
/// policy requiring an SBOM cannot be met by a signed placeholder.
#[test]
fn an_sbom_type_over_something_else_is_rejected() {
    let f = fixture(KeyKind::EcdsaP256);
    let d = digest(7);
    for predicate_type in [
        "https://cyclonedx.org/bom",
        "https://spdx.dev/Document/v2.3",
    ] {
        let bundle = signed(&f, &statement_for(&d, predicate_type));
        let err = check(&f, &bundle, &d).unwrap_err();
        assert!(matches!(err, Rejection::Predicate { .. }), "{err}");
        assert_eq!(err.code(), "predicate.invalid");
    }
    // SPDX under the CycloneDX type.
    let spdx = Statement::new(
        vec![ResourceDescriptor::named("dist/app.tar", d.to_set())],
        "https://cyclonedx.org/bom",
        json!({"spdxVersion": "SPDX-2.3", "name": "doc", "packages": []}),
    )
    .unwrap();
    let err = check(&f, &signed(&f, &spdx), &d).unwrap_err();
    assert!(err.to_string().contains("the document is SPDX"), "{err}");
    // The real thing verifies, with its inventory.
    let bom = Statement::new(
        vec![ResourceDescriptor::named("dist/app.tar", d.to_set())],
        "https://cyclonedx.org/bom/v1.6",
        json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
               "components": [{"type": "library", "name": "lodash", "purl": "pkg:npm/lodash@4.17.20"}]}),
    )
    .unwrap();
    let verified = verify_bundle(
        &signed(&f, &bom).to_json(),
        &d,
        std::slice::from_ref(&f.trusted),
        SignaturePolicy::ExactlyOne,
    )
    .unwrap();
    let inventory = verified.sbom().unwrap();
    assert_eq!(
        inventory.components[0].package.as_deref(),
        Some("pkg:npm/lodash")
    );
    assert_eq!(inventory.components[0].semver.as_deref(), Some("4.17.20"));
}
