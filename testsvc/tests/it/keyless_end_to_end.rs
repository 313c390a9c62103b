//! A keyless bundle made entirely by the test services (OIDC identity → Fulcio certificate with
//! an SCT → DSSE signature → transparency-log entry) passes Hallmark's full Sigstore verifier with
//! an identity policy, and fails for the wrong identity or a swapped certificate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::bundle::{
    BUNDLE_V0_3, Bundle, Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId,
    TransparencyLogEntry, VerificationMaterial, X509Certificate,
};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::{KeyKind, pem_encode};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::{PAYLOAD_TYPE, Statement};
use hallmark_testsvc::fulcio::{Identity, TestFulcio};
use hallmark_testsvc::log::TransparencyLog;
use hallmark_verifier::Rejection;
use hallmark_verifier::keys::PublicKey;
use hallmark_verifier::sigstore::Error;
use hallmark_verifier::sigstore::error::{IdentityError, SignatureError, SubjectError};
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher, arcs};
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};
use hallmark_verifier::verdict::{Candidate, KeylessTrust, Requirements, decide};
use serde_json::json;

const WORKFLOW: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn sha256(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// A keyless bundle as the services make it: a Fulcio certificate for WORKFLOW, a DSSE envelope
/// of `payload_type` over `payload` signed with its key, logged with a SET and an inclusion
/// proof. Also the trust root of those services, and what the test needs to swap the certificate.
struct Signed {
    bundle: Bundle,
    root: TrustRoot,
    fulcio: TestFulcio,
    identity: Identity,
    now: SystemTime,
}

fn keyless_bundle(payload_type: &str, payload: &[u8]) -> Signed {
    let now = SystemTime::now() - Duration::from_secs(30);
    let fulcio = TestFulcio::new().unwrap();
    let mut log = TransparencyLog::new("test-rekor.local - 7").unwrap();
    let ephemeral = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let point = PublicKey::from_spki_der(ephemeral.public_key_der())
        .unwrap()
        .raw()
        .to_vec();
    let identity = Identity {
        san: WORKFLOW.into(),
        issuer: ISSUER.into(),
        extensions: vec![
            (arcs::BUILD_SIGNER_URI as u64, WORKFLOW.into()),
            (
                arcs::SOURCE_REPOSITORY_URI as u64,
                "https://github.com/acme/app".into(),
            ),
        ],
    };
    let leaf = fulcio.issue(&point, &identity, now).unwrap();

    let envelope = KeySigner::new(ephemeral)
        .sign_dsse(payload_type, payload)
        .unwrap()
        .dsse_envelope
        .unwrap();
    let sigs: Vec<Vec<u8>> = envelope.signatures.iter().map(|s| s.sig.clone()).collect();
    let logged = log
        .append_dsse(
            &serde_json::to_vec(&envelope).unwrap(),
            &envelope.payload,
            &sigs,
            &pem_encode("CERTIFICATE", &leaf),
            now.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + 1,
        )
        .unwrap();
    let bundle = Bundle {
        media_type: BUNDLE_V0_3.into(),
        verification_material: VerificationMaterial {
            certificate: Some(X509Certificate {
                raw_bytes: leaf.clone(),
            }),
            tlog_entries: vec![TransparencyLogEntry {
                log_index: logged.log_index as i64,
                log_id: LogId {
                    key_id: log.log_id().to_vec(),
                },
                kind_version: KindVersion {
                    kind: "dsse".into(),
                    version: "0.0.1".into(),
                },
                integrated_time: logged.integrated_time,
                inclusion_promise: Some(InclusionPromise {
                    signed_entry_timestamp: logged.signed_entry_timestamp.clone(),
                }),
                inclusion_proof: Some(InclusionProof {
                    log_index: logged.log_index as i64,
                    root_hash: logged.root_hash.to_vec(),
                    tree_size: logged.tree_size as i64,
                    hashes: logged.proof.iter().map(|h| h.to_vec()).collect(),
                    checkpoint: Some(Checkpoint {
                        envelope: logged.checkpoint.clone(),
                    }),
                }),
                canonicalized_body: logged.body.clone(),
            }],
            ..Default::default()
        },
        dsse_envelope: Some(envelope),
        message_signature: None,
    };
    let valid = json!({"start": "2020-01-01T00:00:00Z"});
    let root = TrustRoot::from_json(&serde_json::to_vec(&json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{"baseUrl": "http://127.0.0.1/rekor", "hashAlgorithm": "SHA2_256",
                   "publicKey": {"rawBytes": STANDARD.encode(log.public_key_der()), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": valid},
                   "logId": {"keyId": STANDARD.encode(log.log_id())}}],
        "certificateAuthorities": [{"uri": "http://127.0.0.1/fulcio", "certChain": {"certificates": [{"rawBytes": STANDARD.encode(fulcio.root_der())}]}, "validFor": valid}],
        "ctlogs": [{"baseUrl": "http://127.0.0.1/ct", "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": STANDARD.encode(fulcio.ct_public_key_der()), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": valid},
                    "logId": {"keyId": STANDARD.encode(sha256(fulcio.ct_public_key_der()))}}]
    })).unwrap()).unwrap();
    Signed {
        bundle,
        root,
        fulcio,
        identity,
        now,
    }
}

/// An in-toto statement about `digest`.
fn statement(digest: &Digest) -> Vec<u8> {
    let statement = Statement::new(vec![ResourceDescriptor::named("app.tar", digest.to_set())], "https://slsa.dev/provenance/v1",
        json!({"buildDefinition": {"buildType": "t", "externalParameters": {}}, "runDetails": {"builder": {"id": "b"}}})).unwrap();
    serde_json::to_vec(&statement).unwrap()
}

#[test]
fn keyless_bundles_from_the_test_services_verify() {
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[3; 32]);
    let Signed {
        bundle,
        root,
        fulcio,
        identity,
        now,
    } = keyless_bundle(PAYLOAD_TYPE, &statement(&digest));
    let policy = |identity: &str, workflow: &str| IdentityPolicy {
        identity: Matcher::Exact(identity.into()),
        issuer: Matcher::Exact(ISSUER.into()),
        extensions: vec![(
            arcs::BUILD_SIGNER_URI,
            Matcher::Exact(workflow.into()),
            "--signer-workflow",
        )],
    };
    let check = |b: &Bundle, p: &IdentityPolicy| {
        verify_bundle(
            &b.to_json(),
            Artifact {
                sha256: &digest,
                bytes: None,
            },
            &root,
            SignerTrust::Identity(p),
            SystemTime::now(),
        )
    };
    let ok = check(&bundle, &policy(WORKFLOW, WORKFLOW)).unwrap();
    assert_eq!(ok.identity.as_deref(), Some(WORKFLOW));
    assert_eq!(ok.issuer.as_deref(), Some(ISSUER));

    let err = check(
        &bundle,
        &policy(
            "https://github.com/evil/x/.github/workflows/y.yml@refs/heads/main",
            WORKFLOW,
        ),
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::Identity(IdentityError::Identity { .. })),
        "{err:?}"
    );
    assert_eq!(err.code(), "sigstore.identity.mismatch");
    let err = check(
        &bundle,
        &policy(
            WORKFLOW,
            "https://github.com/acme/app/.github/workflows/other.yml@refs/heads/main",
        ),
    )
    .unwrap_err();
    let Error::Identity(IdentityError::Extension { label, found, .. }) = &err else {
        panic!("{err:?}");
    };
    assert_eq!((*label, found.as_str()), ("--signer-workflow", WORKFLOW));
    // A certificate for another key from the same CA: the envelope signature no longer matches.
    let other = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let other_point = PublicKey::from_spki_der(other.public_key_der())
        .unwrap()
        .raw()
        .to_vec();
    let mut swapped = bundle.clone();
    swapped.verification_material.certificate = Some(X509Certificate {
        raw_bytes: fulcio.issue(&other_point, &identity, now).unwrap(),
    });
    let err = check(&swapped, &policy(WORKFLOW, WORKFLOW)).unwrap_err();
    assert_eq!(err, Error::Signature(SignatureError::Dsse));
    assert_eq!(err.code(), "sigstore.signature.mismatch");
}

#[test]
fn a_keyless_envelope_of_another_payload_type_is_not_an_attestation() {
    // Everything verifies (certificate, SCT, log entry, signature over the PAE of its own type):
    // only the payload type is wrong, and that check must be the one to fail, in the Sigstore
    // verifier and in a decision, with the code key-signed bundles get.
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[3; 32]);
    let signed = keyless_bundle("application/json", &statement(&digest));
    let policy = IdentityPolicy::exact(WORKFLOW, ISSUER);
    let artifact = Artifact {
        sha256: &digest,
        bytes: None,
    };
    let trust = SignerTrust::Identity(&policy);
    let bytes = signed.bundle.to_json();
    let err = verify_bundle(&bytes, artifact, &signed.root, trust, SystemTime::now()).unwrap_err();
    let expected = SubjectError::PayloadType("application/json".into());
    assert_eq!(err, Error::Subject(expected));
    assert_eq!(err.code(), "dsse.payload-type");

    let mut requirements = Requirements::at(SystemTime::now());
    requirements.keyless = Some(KeylessTrust {
        roots: signed.root.clone().into(),
        identities: vec![policy.clone()],
    });
    let verdict = decide(&digest, &[Candidate::new("b.json", bytes)], &requirements);
    let rejected = verdict.attestations()[0].rejected.clone().unwrap();
    assert_eq!(rejected, Rejection::PayloadType("application/json".into()));
    assert_eq!(rejected.code(), "dsse.payload-type");
}
