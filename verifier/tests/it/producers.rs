//! Statement shapes real producers write, signed with a key: each is accepted, and its tampered
//! twin rejected with the code of the check that catches it. (The keyless versions, made with
//! the test services, are in the CLI's `producers` tests.)

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::statement::PAYLOAD_TYPE;
use hallmark_verifier::Rejection;
use hallmark_verifier::attestation::{SignaturePolicy, VerifiedAttestation, verify_bundle};
use hallmark_verifier::keys::TrustedKey;
use serde_json::{Value, json};

/// cosign v3's predicate type for an image signature, whose statement has no predicate.
const COSIGN_SIGN: &str = "https://sigstore.dev/cosign/sign/v1";

struct Fixture {
    signer: KeySigner,
    trusted: TrustedKey,
    digest: Digest,
}

fn fixture() -> Fixture {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    Fixture {
        signer: KeySigner::new(key),
        trusted,
        digest: Digest::from_bytes(DigestAlgorithm::Sha256, &[7; 32]),
    }
}

impl Fixture {
    /// Signs `statement` exactly as written (no attester-side validation).
    fn sign(&self, statement: &Value) -> Bundle {
        self.signer
            .sign_dsse(PAYLOAD_TYPE, statement.to_string().as_bytes())
            .unwrap()
    }

    fn check(&self, bundle: &Bundle) -> Result<VerifiedAttestation, Rejection> {
        verify_bundle(
            &bundle.to_json(),
            &self.digest,
            std::slice::from_ref(&self.trusted),
            SignaturePolicy::ExactlyOne,
        )
    }

    /// A v1 statement about the fixture's digest of `predicate_type`, without a predicate.
    fn without_predicate(&self, predicate_type: &str) -> Value {
        json!({"_type": "https://in-toto.io/Statement/v1",
               "subject": [{"name": "registry.example/app", "digest": {"sha256": self.digest.hex()}}],
               "predicateType": predicate_type})
    }
}

#[test]
fn a_cosign_image_signature_statement_without_predicate_verifies() {
    let f = fixture();
    let v = f.check(&f.sign(&f.without_predicate(COSIGN_SIGN))).unwrap();
    assert_eq!(v.predicate_type(), COSIGN_SIGN);
    assert_eq!(v.statement().predicate, None);
    assert!(v.provenance().is_none());
    // Its twin, the payload changed after signing (a predicate slipped in), is not.
    let mut tampered = f.sign(&f.without_predicate(COSIGN_SIGN));
    let mut statement: Value =
        serde_json::from_slice(&tampered.dsse_envelope.as_ref().unwrap().payload).unwrap();
    statement["predicate"] = json!({"approved": true});
    tampered.dsse_envelope.as_mut().unwrap().payload = statement.to_string().into_bytes();
    let err = f.check(&tampered).unwrap_err();
    assert_eq!(err.code(), "dsse.signature", "{err}");
}

#[test]
fn types_whose_rules_need_a_predicate_still_require_one() {
    let f = fixture();
    for predicate_type in [
        "https://slsa.dev/provenance/v1",
        "https://slsa.dev/provenance/v0.2",
        "https://slsa.dev/verification_summary/v1",
        "https://hallmark.dev/approval/v1",
    ] {
        let err = f
            .check(&f.sign(&f.without_predicate(predicate_type)))
            .unwrap_err();
        assert_eq!(err.code(), "predicate.invalid", "{predicate_type}: {err}");
        assert!(
            err.to_string().contains(predicate_type) && err.to_string().contains("no predicate"),
            "{err}"
        );
    }
    // An explicit null is no predicate either.
    let mut null = f.without_predicate("https://slsa.dev/provenance/v1");
    null["predicate"] = Value::Null;
    let err = f.check(&f.sign(&null)).unwrap_err();
    assert_eq!(err.code(), "predicate.invalid", "{err}");
}

#[test]
fn an_empty_predicate_type_is_read_as_a_fact_for_the_policy() {
    // slsa-github-generator's container-based builder: Statement v0.1, empty predicateType.
    let f = fixture();
    let statement = json!({"_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "ghcr.io/acme/app", "digest": {"sha256": f.digest.hex()}}],
        "predicateType": "",
        "predicate": {"builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v1.9.0"},
                      "buildType": "https://slsa.dev/container-based-build/v0.1?draft"}});
    let v = f.check(&f.sign(&statement)).unwrap();
    assert_eq!(v.predicate_type(), "");
    assert!(
        v.provenance().is_none(),
        "an untyped predicate is no provenance"
    );
    // Absent reads as empty.
    let mut absent = statement.clone();
    absent.as_object_mut().unwrap().remove("predicateType");
    assert_eq!(f.check(&f.sign(&absent)).unwrap().predicate_type(), "");
    // Its twin for another artifact is rejected by the subject check.
    let mut other = statement;
    other["subject"][0]["digest"]["sha256"] = json!("0".repeat(64));
    let err = f.check(&f.sign(&other)).unwrap_err();
    assert_eq!(err.code(), "statement.subject", "{err}");
}
