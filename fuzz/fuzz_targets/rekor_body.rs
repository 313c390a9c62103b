//! Rekor entry bodies (`tlog::body::check_body`): the body's own kind and apiVersion are put in
//! the entry so the body is read past the kind check, against a message signature and a DSSE
//! envelope, each with a certificate and a public key as the signer.
#![no_main]

use hallmark_model::bundle::{KindVersion, LogId, TransparencyLogEntry};
use hallmark_model::dsse::{Envelope, Signature};
use hallmark_verifier::sigstore::tlog::body::{SignedContent, SignerMaterial, check_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let text = |key: &str| {
        body.get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let entry = TransparencyLogEntry {
        log_index: 0,
        log_id: LogId {
            key_id: vec![0; 32],
        },
        kind_version: KindVersion {
            kind: text("kind"),
            version: text("apiVersion"),
        },
        integrated_time: 0,
        inclusion_promise: None,
        inclusion_proof: None,
        canonicalized_body: data.to_vec(),
    };
    let envelope = Envelope {
        payload_type: "application/vnd.in-toto+json".into(),
        payload: b"{}".to_vec(),
        signatures: vec![Signature {
            keyid: String::new(),
            sig: b"signature".to_vec(),
        }],
    };
    let digest = [0u8; 32];
    let contents = [
        SignedContent::Message {
            digest: &digest,
            signature: b"signature",
        },
        SignedContent::Dsse(&envelope),
    ];
    for content in contents {
        for signer in [
            SignerMaterial::Certificate(b"der"),
            SignerMaterial::PublicKey(b"der"),
        ] {
            let _ = check_body(&entry, content, signer);
        }
    }
});
