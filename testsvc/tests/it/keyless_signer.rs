//! Hallmark's keyless signer against the test services over real HTTP: the token buys a
//! certificate, the signature is logged, the bundle verifies; bad tokens are refused before any
//! bundle exists.

use std::time::{SystemTime, UNIX_EPOCH};

use hallmark_attester::signer::Signer;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_remote::keyless::{KeylessConfig, KeylessSigner};
use hallmark_testsvc::oidc::Issuer;
use hallmark_testsvc::services::Services;
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher};
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};
use serde_json::json;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn signer(services: &Services, token: String) -> KeylessSigner {
    let root =
        TrustRoot::from_json(&serde_json::to_vec(&services.trusted_root()).unwrap()).unwrap();
    let config = KeylessConfig {
        fulcio_url: format!("{}/fulcio", services.url),
        rekor_url: format!("{}/rekor", services.url),
        token,
        trust_root: root,
        timestamp_url: Some(format!("{}/tsa/api/v1/timestamp", services.url)),
    };
    KeylessSigner::new(hallmark_remote::http::agent(None, None).unwrap(), config).unwrap()
}

fn statement(digest: &Digest) -> Statement {
    Statement::new(
        vec![ResourceDescriptor::named("app", digest.to_set())],
        "https://example.com/t/v1",
        json!({}),
    )
    .unwrap()
}

#[test]
fn a_workflow_identity_signs_keyless_and_verifies() {
    let services = Services::start().unwrap();
    let token = services
        .token(&json!({"sub": "repo:acme/app:ref:refs/heads/main", "aud": "sigstore", "exp": now() + 300,
                       "job_workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
                       "repository": "acme/app", "ref": "refs/heads/main", "sha": "0123456789abcdef0123456789abcdef01234567"}))
        .unwrap();
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[5; 32]);
    let bundle = signer(&services, token)
        .sign_statement(&statement(&digest))
        .unwrap();
    let root =
        TrustRoot::from_json(&serde_json::to_vec(&services.trusted_root()).unwrap()).unwrap();
    let policy = IdentityPolicy {
        identity: Matcher::Exact(
            "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main".into(),
        ),
        issuer: Matcher::Exact(format!("{}/oidc", services.url)),
        extensions: vec![(
            12,
            Matcher::Exact("https://github.com/acme/app".into()),
            "--source-repository",
        )],
    };
    let verified = verify_bundle(
        &bundle.to_json(),
        Artifact {
            sha256: &digest,
            bytes: None,
        },
        &root,
        SignerTrust::Identity(&policy),
        SystemTime::now(),
    )
    .unwrap();
    assert_eq!(verified.tlog_entries, 1);
    assert_eq!(
        bundle
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps
            .len(),
        1
    );
    assert_eq!(
        verified.times.len(),
        2,
        "the SET and the RFC 3161 timestamp both date the signature"
    );
}

#[test]
fn untrusted_and_expired_tokens_are_refused_before_any_bundle() {
    let services = Services::start().unwrap();
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[6; 32]);
    let stranger = Issuer::new(&format!("{}/oidc", services.url)).unwrap();
    let forged = stranger
        .token(&json!({"sub": "https://evil.example/x", "aud": "sigstore", "exp": now() + 300}))
        .unwrap();
    let err = signer(&services, forged)
        .sign_statement(&statement(&digest))
        .unwrap_err();
    assert!(err.to_string().contains("Fulcio refused"), "{err}");
    let expired = services
        .token(&json!({"sub": "https://acme.example/ci", "aud": "sigstore", "exp": now() - 10}))
        .unwrap();
    let err = signer(&services, expired)
        .sign_statement(&statement(&digest))
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    let wrong_audience = services
        .token(&json!({"sub": "https://acme.example/ci", "aud": "other", "exp": now() + 300}))
        .unwrap();
    let err = signer(&services, wrong_audience)
        .sign_statement(&statement(&digest))
        .unwrap_err();
    assert!(err.to_string().contains("audience is not"), "{err}");
}

#[test]
fn misbehaving_services_are_caught_before_any_bundle() {
    use hallmark_testsvc::services::Fault;
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[7; 32]);
    for (fault, expected) in [
        (Fault::FulcioWrongKey, "not for our key"),
        (
            Fault::RekorBadSet,
            "does not verify against the trust root: sigstore.tlog.set:",
        ),
        (
            Fault::RekorBadProof,
            "does not verify against the trust root: sigstore.tlog.inclusion-proof:",
        ),
    ] {
        let services = Services::start_with(fault).unwrap();
        let token = services
            .token(
                &json!({"sub": "https://acme.example/ci", "aud": "sigstore", "exp": now() + 300}),
            )
            .unwrap();
        let err = signer(&services, token)
            .sign_statement(&statement(&digest))
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{fault:?}: {err}");
    }
}

#[test]
fn fulcio_refuses_a_csr_whose_signature_is_not_the_keys() {
    use base64::Engine;
    use hallmark_attester::keys::SigningKey;
    use hallmark_model::keyid::KeyKind;
    let services = Services::start().unwrap();
    let token = services
        .token(&json!({"sub": "https://acme.example/ci", "aud": "sigstore", "exp": now() + 300}))
        .unwrap();
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let mut csr = hallmark_remote::keyless::certificate_request(&key).unwrap();
    let last = csr.len() - 1;
    csr[last] ^= 1;
    let pem = hallmark_model::keyid::pem_encode("CERTIFICATE REQUEST", &csr);
    let body = json!({"credentials": {"oidcIdentityToken": token},
                      "certificateSigningRequest": base64::engine::general_purpose::STANDARD.encode(pem)});
    let agent = hallmark_remote::http::agent(None, None).unwrap();
    let response = agent
        .post(format!("{}/fulcio/api/v2/signingCert", services.url))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    assert_eq!(response.status(), 400);
}
