//! What the test log produces is accepted by Hallmark's Sigstore verifier, and tampering with it is
//! rejected: the log is real enough to test clients against.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::bundle::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TransparencyLogEntry,
};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_testsvc::log::TransparencyLog;
use hallmark_verifier::keys::PublicKey;
use hallmark_verifier::sigstore::Error;
use hallmark_verifier::sigstore::error::{
    CheckpointError, InclusionProofError, SetError, SignatureError, TlogError,
};
use hallmark_verifier::sigstore::tlog::merkle;
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};
use serde_json::json;

fn trust_root(log: &TransparencyLog) -> TrustRoot {
    let root = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": "http://127.0.0.1/test-log",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": STANDARD.encode(log.public_key_der()), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                          "validFor": {"start": "2020-01-01T00:00:00Z"}},
            "logId": {"keyId": STANDARD.encode(log.log_id())}
        }]
    });
    TrustRoot::from_json(&serde_json::to_vec(&root).unwrap()).unwrap()
}

#[test]
fn logged_key_signed_bundles_verify_and_tampering_is_caught() {
    let mut log = TransparencyLog::new("test-log.local - 42").unwrap();
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let public = PublicKey::from_spki_der(key.public_key_der()).unwrap();
    let signer = KeySigner::new(key);
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[9; 32]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 5;
    // Other entries before and after ours, so the proof is not trivial.
    for i in 0..5u8 {
        log.append(vec![i], now).unwrap();
    }
    let statement = Statement::new(
        vec![ResourceDescriptor::named("app", digest.to_set())],
        "https://example.com/t/v1",
        json!({}),
    )
    .unwrap();
    let mut bundle = signer.sign_statement(&statement).unwrap();
    let envelope = bundle.dsse_envelope.clone().unwrap();
    let sigs: Vec<Vec<u8>> = envelope.signatures.iter().map(|s| s.sig.clone()).collect();
    let pem = signer.key().public_key_pem();
    let logged = log
        .append_dsse(
            &serde_json::to_vec(&envelope).unwrap(),
            &envelope.payload,
            &sigs,
            &pem,
            now,
        )
        .unwrap();
    bundle
        .verification_material
        .tlog_entries
        .push(TransparencyLogEntry {
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
        });
    let root = trust_root(&log);
    let check = |b: &hallmark_model::bundle::Bundle| {
        verify_bundle(
            &b.to_json(),
            Artifact {
                sha256: &digest,
                bytes: None,
            },
            &root,
            SignerTrust::Key(&public),
            SystemTime::now() + Duration::from_secs(1),
        )
    };
    let verified = check(&bundle).unwrap();
    assert_eq!(verified.tlog_entries, 1);
    assert_eq!(verified.times.len(), 1, "the SET dates the signature");

    let mut tampered = bundle.clone();
    tampered.verification_material.tlog_entries[0]
        .inclusion_proof
        .as_mut()
        .unwrap()
        .hashes[0][0] ^= 1;
    let err = check(&tampered).unwrap_err();
    let expected = TlogError::InclusionProof(InclusionProofError::RootMismatch);
    assert_eq!(err, Error::Tlog(expected));
    assert_eq!(err.code(), "sigstore.tlog.inclusion-proof");
    let mut tampered = bundle.clone();
    tampered.verification_material.tlog_entries[0].integrated_time += 1;
    let err = check(&tampered).unwrap_err();
    assert_eq!(err, Error::Tlog(TlogError::Set(SetError::Signature)));
    assert_eq!(err.code(), "sigstore.tlog.set");
    let mut tampered = bundle.clone();
    tampered.dsse_envelope.as_mut().unwrap().payload = b"{}".to_vec();
    let err = check(&tampered).unwrap_err();
    assert_eq!(err, Error::Signature(SignatureError::Dsse));
    assert_eq!(err.code(), "sigstore.signature.mismatch");
}

#[test]
fn a_proof_against_a_later_tree_verifies_and_a_size_its_checkpoint_does_not_sign_is_refused() {
    let mut log = TransparencyLog::new("test-log.local - 42").unwrap();
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let public = PublicKey::from_spki_der(key.public_key_der()).unwrap();
    let signer = KeySigner::new(key);
    let digest = Digest::from_bytes(DigestAlgorithm::Sha256, &[7; 32]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 5;
    for i in 0..5u8 {
        log.append(vec![i], now).unwrap();
    }
    let statement = Statement::new(
        vec![ResourceDescriptor::named("app", digest.to_set())],
        "https://example.com/t/v1",
        json!({}),
    )
    .unwrap();
    let mut bundle = signer.sign_statement(&statement).unwrap();
    let envelope = bundle.dsse_envelope.clone().unwrap();
    let sigs: Vec<Vec<u8>> = envelope.signatures.iter().map(|s| s.sig.clone()).collect();
    let logged = log
        .append_dsse(
            &serde_json::to_vec(&envelope).unwrap(),
            &envelope.payload,
            &sigs,
            &signer.key().public_key_pem(),
            now,
        )
        .unwrap();
    // Read back after five more entries: leaf 5 of 11.
    for i in 0..5u8 {
        log.append(vec![100 + i], now).unwrap();
    }
    let later = log.prove(logged.log_index).unwrap();
    assert_eq!(later.tree_size, 11);
    let entry = |tree_size: u64| TransparencyLogEntry {
        log_index: logged.log_index as i64,
        log_id: LogId {
            key_id: log.log_id().to_vec(),
        },
        kind_version: KindVersion {
            kind: "dsse".into(),
            version: "0.0.1".into(),
        },
        integrated_time: logged.integrated_time,
        inclusion_promise: None,
        inclusion_proof: Some(InclusionProof {
            log_index: logged.log_index as i64,
            root_hash: later.root_hash.to_vec(),
            tree_size: tree_size as i64,
            hashes: later.hashes.iter().map(|h| h.to_vec()).collect(),
            checkpoint: Some(Checkpoint {
                envelope: later.checkpoint.clone(),
            }),
        }),
        canonicalized_body: logged.body.clone(),
    };
    let root = trust_root(&log);
    let mut check = |tree_size: u64| {
        bundle.verification_material.tlog_entries = vec![entry(tree_size)];
        verify_bundle(
            &bundle.to_json(),
            Artifact {
                sha256: &digest,
                bytes: None,
            },
            &root,
            SignerTrust::Key(&public),
            SystemTime::now() + Duration::from_secs(1),
        )
    };
    assert_eq!(check(11).unwrap().tlog_entries, 1);

    // Leaf 5 sits in the left 8-leaf subtree of every tree of 9 to 16 leaves, so its proof hashes
    // the same way for all of them: the proof alone does not bind the size (RFC 9162 §2.1.3.2).
    let leaf = merkle::leaf_hash(&logged.body);
    let hashes: Vec<Vec<u8>> = later.hashes.iter().map(|h| h.to_vec()).collect();
    assert_eq!(
        merkle::verify_inclusion(5, 12, leaf, &hashes, &later.root_hash),
        Ok(())
    );
    // The checkpoint signs the size: a proof claiming another is refused.
    let err = check(12).unwrap_err();
    assert_eq!(
        err,
        Error::Tlog(TlogError::Checkpoint(CheckpointError::DifferentTree))
    );
    assert_eq!(err.code(), "sigstore.tlog.checkpoint");
}
