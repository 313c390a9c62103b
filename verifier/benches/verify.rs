//! In-process verification cost per bundle (docs/benchmarks.md).
//!
//! Uses the sigstore-conformance happy paths from `$HALLMARK_VECTORS` (default
//! `../shared/vectors`) against the embedded production trust root, and a key-signed Hallmark
//! step attestation.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

/// The allocator `hallmark-webhook` uses, so the figures are the admission gate's
/// (docs/decisions/0029-allocator.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::attestation::{SignaturePolicy, verify_bundle as verify_key_bundle};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher};
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn vectors() -> PathBuf {
    std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"))
}

fn sigstore(c: &mut Criterion) {
    let dir = vectors().join("sigstore-conformance/test/assets/bundle-verify");
    let root = embedded::production().unwrap();
    let policy = IdentityPolicy {
        identity: Matcher::Exact(IDENTITY.into()),
        issuer: Matcher::Exact(ISSUER.into()),
        extensions: vec![],
    };
    let a_txt = std::fs::read(dir.join("a.txt")).unwrap();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &a_txt);
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref());
    for case in ["happy-path-v0.3", "happy-path-intoto-in-dsse-v3"] {
        let bundle = std::fs::read(dir.join(case).join("bundle.sigstore.json")).unwrap();
        c.bench_function(&format!("sigstore verify {case}"), |b| {
            b.iter(|| {
                verify_bundle(
                    &bundle,
                    Artifact {
                        sha256: &digest,
                        bytes: None,
                    },
                    &root,
                    SignerTrust::Identity(&policy),
                    SystemTime::now(),
                )
                .unwrap()
            })
        });
    }
    c.bench_function("trust root parse (embedded production)", |b| {
        b.iter(|| embedded::production().unwrap())
    });
}

fn key_signed(c: &mut Criterion) {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[7; 32]);
    let statement = Statement::new(
        vec![ResourceDescriptor::named("dist/app.tar", digest.to_set())],
        "https://slsa.dev/provenance/v1",
        serde_json::json!({"buildDefinition": {"buildType": "https://hallmark.dev/buildtypes/step/v1", "externalParameters": {"step": "package"}}, "runDetails": {"builder": {"id": "https://hallmark.dev/builders/local/self-asserted"}}}),
    )
    .unwrap();
    let bundle = KeySigner::new(key)
        .sign_statement(&statement)
        .unwrap()
        .to_json();
    c.bench_function("key-signed step attestation verify", |b| {
        b.iter(|| {
            verify_key_bundle(
                &bundle,
                &digest,
                std::slice::from_ref(&trusted),
                SignaturePolicy::ExactlyOne,
            )
            .unwrap()
        })
    });
}

/// The floor: the public-key operations alone, with aws-lc (a Sigstore bundle of the conformance
/// suite needs one P-384 and four P-256 verifications, a key-signed attestation one).
fn floor(c: &mut Criterion) {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1,
        ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair, ParsedPublicKey, UnparsedPublicKey,
    };
    let rng = SystemRandom::new();
    let message = [7u8; 200];
    for (name, signing, verifying) in [
        (
            "P-256",
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &ECDSA_P256_SHA256_ASN1,
        ),
        (
            "P-384",
            &ECDSA_P384_SHA384_ASN1_SIGNING,
            &ECDSA_P384_SHA384_ASN1,
        ),
    ] {
        let pair = EcdsaKeyPair::generate(signing).unwrap();
        let signature = pair.sign(&rng, &message).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        c.bench_function(&format!("floor: ECDSA {name} verify"), |b| {
            b.iter(|| {
                UnparsedPublicKey::new(verifying, &public)
                    .verify(&message, signature.as_ref())
                    .unwrap()
            })
        });
        let parsed = ParsedPublicKey::new(verifying, &public).unwrap();
        c.bench_function(
            &format!("floor: ECDSA {name} verify, key parsed once"),
            |b| b.iter(|| parsed.verify_sig(&message, signature.as_ref()).unwrap()),
        );
    }
}

criterion_group!(benches, sigstore, key_signed, floor);
criterion_main!(benches);
