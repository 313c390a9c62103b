//! cosign v2's legacy attestations: the `sha256-<hex>.att` tag holds a manifest whose layers are
//! DSSE envelopes (`application/vnd.dsse.envelope.v1+json`), with the signing certificate, its
//! chain and the Rekor entry (SET) in layer annotations (cosign's SIGNATURE_SPEC and
//! ATTESTATION_SPEC). Each layer becomes a Sigstore bundle v0.1, so one verifier judges both.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_model::bundle::{
    Bundle, InclusionPromise, KindVersion, LogId, TransparencyLogEntry, VerificationMaterial,
    X509Certificate, X509CertificateChain,
};
use hallmark_model::dsse::Envelope;
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES};
use serde_json::Value;

use super::attestations::{Discovered, MAX_ATTESTATIONS, Resolved, tag_schema_tag};
use super::client::RegistryClient;
use super::reference::Reference;
use crate::layout::{EntryRead, Skipped, StoredAttestation};
use crate::oci::{Descriptor, Manifest};
use crate::{Error, Result};
use hallmark_model::budget::{Budget, Work};

/// Media type of a DSSE layer in a cosign attestation manifest.
pub const DSSE_LAYER: &str = "application/vnd.dsse.envelope.v1+json";
const ANNOTATION_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
const ANNOTATION_CHAIN: &str = "dev.sigstore.cosign/chain";
const ANNOTATION_BUNDLE: &str = "dev.sigstore.cosign/bundle";
const BUNDLE_V0_1: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

fn bad(reference: &Reference, message: impl Into<String>) -> Error {
    Error::Registry {
        registry: reference.registry.clone(),
        message: message.into(),
    }
}

/// The attestations cosign attached to `subject`, as Sigstore bundles. A layer that cannot be
/// used (oversize, missing, not a DSSE envelope) is skipped with its reason; reading stops when
/// `budget` is spent.
pub fn discover(
    client: &RegistryClient,
    subject: &Resolved,
    budget: &Budget,
) -> Result<Discovered> {
    let tag = format!("{}.att", tag_schema_tag(&subject.digest));
    let reference = Reference {
        tag: Some(tag),
        digest: None,
        ..subject.reference.clone()
    };
    let mut found = Discovered::default();
    let Some(fetched) = client.get_manifest(&reference, MAX_MANIFEST_BYTES)? else {
        return Ok(found);
    };
    let manifest: Manifest = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| bad(&reference, format!("cosign attestation manifest: {e}")))?;
    for layer in manifest
        .layers
        .iter()
        .filter(|l| l.media_type == DSSE_LAYER)
        .take(MAX_ATTESTATIONS)
    {
        let origin = format!("{} (cosign .att layer {})", fetched.digest, layer.digest);
        match EntryRead::from(read_layer(client, &reference, layer, budget)) {
            EntryRead::Found(bundle) => {
                found.attestations.extend(bundle.map(|b| StoredAttestation {
                    manifest_digest: origin,
                    bundle: b.to_json(),
                    annotations: layer.annotations.clone(),
                }))
            }
            EntryRead::OutOfBudget => break,
            EntryRead::Skipped(error) => found.skipped.push(Skipped {
                manifest_digest: origin,
                error,
            }),
        }
    }
    Ok(found)
}

/// One DSSE layer as a bundle; `Ok(None)` when it is not a DSSE envelope.
fn read_layer(
    client: &RegistryClient,
    reference: &Reference,
    layer: &Descriptor,
    budget: &Budget,
) -> Result<Option<Bundle>> {
    if layer.size > MAX_BUNDLE_BYTES {
        return Err(bad(
            reference,
            format!(
                "cosign attestation layer {} claims {} bytes, over the limit of {MAX_BUNDLE_BYTES}",
                layer.digest, layer.size
            ),
        ));
    }
    budget.spend(Work::Attestations, 1).map_err(Error::budget)?;
    budget
        .spend(Work::Bytes, layer.size)
        .map_err(Error::budget)?;
    let envelope_bytes = client.get_blob(reference, &layer.digest, MAX_BUNDLE_BYTES)?;
    budget
        .spend(
            Work::Bytes,
            (envelope_bytes.len() as u64).saturating_sub(layer.size),
        )
        .map_err(Error::budget)?;
    let Ok(envelope) = Envelope::from_slice(&envelope_bytes) else {
        return Ok(None);
    };
    let annotation = |k: &str| layer.annotations.get(k).map(String::as_str);
    to_bundle(
        envelope,
        annotation(ANNOTATION_CERTIFICATE),
        annotation(ANNOTATION_CHAIN),
        annotation(ANNOTATION_BUNDLE),
    )
    .map(Some)
    .map_err(|m| {
        bad(
            reference,
            format!("cosign attestation layer {}: {m}", layer.digest),
        )
    })
}

/// Builds a bundle from a cosign DSSE layer and its annotations.
pub fn to_bundle(
    envelope: Envelope,
    certificate: Option<&str>,
    chain: Option<&str>,
    rekor: Option<&str>,
) -> std::result::Result<Bundle, String> {
    let Some(certificate) = certificate else {
        // Key-signed: the key decides.
        return Ok(Bundle::for_key_signed(envelope, ""));
    };
    let mut certificates = Vec::new();
    for text in std::iter::once(certificate).chain(chain) {
        for block in pem::parse_many(text).map_err(|e| format!("certificate annotation: {e}"))? {
            certificates.push(X509Certificate {
                raw_bytes: block.into_contents(),
            });
        }
    }
    let tlog_entries = match rekor {
        Some(text) => vec![rekor_entry(text)?],
        None => Vec::new(),
    };
    Ok(Bundle {
        media_type: BUNDLE_V0_1.to_owned(),
        verification_material: VerificationMaterial {
            x509_certificate_chain: Some(X509CertificateChain { certificates }),
            tlog_entries,
            ..Default::default()
        },
        dsse_envelope: Some(envelope),
        message_signature: None,
    })
}

/// cosign's `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`.
fn rekor_entry(text: &str) -> std::result::Result<TransparencyLogEntry, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("bundle annotation: {e}"))?;
    let payload = &v["Payload"];
    let body_b64 = payload["body"]
        .as_str()
        .ok_or("bundle annotation has no body")?;
    let body = STANDARD
        .decode(body_b64)
        .map_err(|_| "bundle body is not base64")?;
    let body_json: Value = serde_json::from_slice(&body).map_err(|_| "bundle body is not JSON")?;
    let log_id_hex = payload["logID"]
        .as_str()
        .ok_or("bundle annotation has no logID")?;
    let key_id = hallmark_model::hex::decode(log_id_hex).ok_or("bundle logID is not hex")?;
    Ok(TransparencyLogEntry {
        log_index: payload["logIndex"]
            .as_i64()
            .ok_or("bundle annotation has no logIndex")?,
        log_id: LogId { key_id },
        kind_version: KindVersion {
            kind: body_json["kind"].as_str().unwrap_or_default().to_owned(),
            version: body_json["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        },
        integrated_time: payload["integratedTime"]
            .as_i64()
            .ok_or("bundle annotation has no integratedTime")?,
        inclusion_promise: Some(InclusionPromise {
            signed_entry_timestamp: STANDARD
                .decode(
                    v["SignedEntryTimestamp"]
                        .as_str()
                        .ok_or("bundle annotation has no SignedEntryTimestamp")?,
                )
                .map_err(|_| "SignedEntryTimestamp is not base64")?,
        }),
        inclusion_proof: None,
        canonicalized_body: body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            payload: b"{}".to_vec(),
            payload_type: "application/vnd.in-toto+json".into(),
            signatures: vec![],
        }
    }

    #[test]
    fn keyless_layers_become_v0_1_bundles_with_chain_and_set() {
        let leaf = pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3]));
        let chain = format!(
            "{}{}",
            pem::encode(&pem::Pem::new("CERTIFICATE", vec![4])),
            pem::encode(&pem::Pem::new("CERTIFICATE", vec![5]))
        );
        // The shape of cosign's SIGNATURE_SPEC example (body shortened).
        let body = STANDARD.encode(r#"{"apiVersion":"0.0.2","kind":"intoto","spec":{}}"#);
        let rekor = format!(
            r#"{{"SignedEntryTimestamp":"AAEC","Payload":{{"body":"{body}","integratedTime":1624396085,"logIndex":5179,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}}}}"#
        );
        let bundle = to_bundle(envelope(), Some(&leaf), Some(&chain), Some(&rekor)).unwrap();
        assert_eq!(bundle.media_type, BUNDLE_V0_1);
        let vm = &bundle.verification_material;
        assert_eq!(
            vm.x509_certificate_chain
                .as_ref()
                .unwrap()
                .certificates
                .len(),
            3
        );
        let entry = &vm.tlog_entries[0];
        assert_eq!(
            (
                entry.kind_version.kind.as_str(),
                entry.kind_version.version.as_str()
            ),
            ("intoto", "0.0.2")
        );
        assert_eq!((entry.integrated_time, entry.log_index), (1624396085, 5179));
        assert_eq!(entry.log_id.key_id[0], 0xc0);
        assert_eq!(
            entry
                .inclusion_promise
                .as_ref()
                .unwrap()
                .signed_entry_timestamp,
            vec![0, 1, 2]
        );
    }

    #[test]
    fn key_signed_layers_and_broken_annotations() {
        assert!(
            to_bundle(envelope(), None, None, None)
                .unwrap()
                .verification_material
                .public_key
                .is_some()
        );
        let leaf = pem::encode(&pem::Pem::new("CERTIFICATE", vec![1]));
        assert!(to_bundle(envelope(), Some(&leaf), None, Some("{not json")).is_err());
        assert!(
            to_bundle(
                envelope(),
                Some(&leaf),
                None,
                Some(r#"{"Payload":{"body":"!!"}}"#)
            )
            .is_err()
        );
        assert!(
            to_bundle(
                envelope(),
                Some(&leaf),
                None,
                Some(r#"{"Payload":{"body":"e30=","logID":"zz"}}"#)
            )
            .is_err()
        );
    }
}
