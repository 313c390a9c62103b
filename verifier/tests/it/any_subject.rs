//! `session::verify_any_subject`: one bundle verified for every subject it names (what the
//! evidence index ingests), with a decision's checks: tampering and strangers are rejected.

use std::time::SystemTime;

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::provenance::SLSA_PROVENANCE_V1;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::Rejection;
use hallmark_verifier::attestation::SignaturePolicy;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::session::verify_any_subject;
use hallmark_verifier::verdict::Requirements;
use serde_json::json;

fn key() -> (KeySigner, TrustedKey) {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    (KeySigner::new(key), trusted)
}

fn two_subjects() -> Statement {
    let d = |b: u8| Digest::from_bytes(DigestAlgorithm::Sha256, &[b; 32]).to_set();
    Statement::new(
        vec![
            ResourceDescriptor::named("a.bin", d(1)),
            ResourceDescriptor::named("b.bin", d(2)),
        ],
        "https://example.com/custom/v1",
        json!({"anything": true}),
    )
    .unwrap()
}

fn trusting(key: &TrustedKey) -> Requirements {
    Requirements {
        keys: vec![key.clone()],
        ..Requirements::at(SystemTime::now())
    }
}

#[test]
fn a_good_bundle_verifies_for_all_its_subjects() {
    let (signer, trusted) = key();
    let bytes = signer.sign_statement(&two_subjects()).unwrap().to_json();
    let verified = verify_any_subject(&bytes, &trusting(&trusted)).unwrap();
    assert_eq!(verified.statement().subject.len(), 2);
    assert_eq!(verified.signers(), [trusted.keyid().to_owned()]);
}

#[test]
fn a_tampered_payload_is_rejected() {
    let (signer, trusted) = key();
    let mut bundle = signer.sign_statement(&two_subjects()).unwrap();
    let env = bundle.dsse_envelope.as_mut().unwrap();
    env.payload = String::from_utf8(env.payload.clone())
        .unwrap()
        .replace("a.bin", "c.bin")
        .into_bytes();
    let err = verify_any_subject(&bundle.to_json(), &trusting(&trusted)).unwrap_err();
    assert!(matches!(err, Rejection::Signature { .. }), "{err}");
}

#[test]
fn a_stranger_key_and_no_trust_are_rejected() {
    let (signer, _) = key();
    let (_, other) = key();
    let bytes = signer.sign_statement(&two_subjects()).unwrap().to_json();
    let err = verify_any_subject(&bytes, &trusting(&other)).unwrap_err();
    assert_eq!(err.code(), "dsse.signature");
    let nothing = Requirements::at(SystemTime::now());
    assert!(verify_any_subject(&bytes, &nothing).is_err());
}

#[test]
fn a_signature_threshold_is_applied() {
    let (signer, trusted) = key();
    let bytes = signer.sign_statement(&two_subjects()).unwrap().to_json();
    let requirements = Requirements {
        signatures: SignaturePolicy::Threshold(2),
        ..trusting(&trusted)
    };
    let err = verify_any_subject(&bytes, &requirements).unwrap_err();
    assert!(matches!(err, Rejection::SignatureCount { .. }), "{err}");
}

#[test]
fn an_invalid_predicate_of_a_known_type_is_rejected() {
    // The signature verifies; a provenance predicate that is not one is still refused, as a
    // decision refuses it.
    let (signer, trusted) = key();
    let mut statement = two_subjects();
    statement.predicate_type = SLSA_PROVENANCE_V1.to_owned();
    let bytes = signer.sign_statement(&statement).unwrap().to_json();
    let err = verify_any_subject(&bytes, &trusting(&trusted)).unwrap_err();
    assert!(matches!(err, Rejection::Predicate { .. }), "{err}");
}

#[test]
fn garbage_is_rejected_without_panicking() {
    let (_, trusted) = key();
    for bytes in [&b""[..], b"{}", b"not json", b"{\"mediaType\":1}"] {
        assert!(verify_any_subject(bytes, &trusting(&trusted)).is_err());
    }
}
