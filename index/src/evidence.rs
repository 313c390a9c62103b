//! What the index is handed, and the key each piece of evidence is stored under.

use std::time::SystemTime;

use aws_lc_rs::digest::{Context, SHA256};
use hallmark_model::bundle::Bundle;
use hallmark_model::hex;
use hallmark_model::statement::Statement;
use hallmark_verifier::attestation::VerifiedAttestation;

use crate::{Error, Result};

/// One verified attestation to index, with the bundle it was verified from.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The attestation as the verifier returned it (only the verifier can make one).
    pub attestation: &'a VerifiedAttestation,
    /// The Sigstore bundle it was verified from, kept so an auditor can re-verify or export it.
    /// Ingest checks that its payload is the attestation's statement.
    pub bundle: &'a [u8],
    /// Where it was read: a store manifest, a registry reference, a file.
    pub origin: &'a str,
    /// The trust it was verified with, in words (keyids, identities and issuers, revocation
    /// lists): recorded with the row so a later reader knows what vouched for it.
    pub trust: &'a str,
    /// When it was verified.
    pub verified_at: SystemTime,
}

/// The index key of a bundle, and its payload's digest.
pub(crate) struct Keys {
    /// `sha256:` over the DSSE payload and the signatures (see [`evidence_id`]).
    pub(crate) id: String,
    /// `sha256:` of the DSSE payload alone (the chain's step id).
    pub(crate) payload: String,
}

fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex::encode(aws_lc_rs::digest::digest(&SHA256, bytes).as_ref())
    )
}

/// The index key of a DSSE envelope: SHA-256 over a domain tag, the payload type, the payload
/// and the signatures (sorted, so their order does not matter), each length-prefixed. The same
/// statement signed again (by another key, or again by the same one) is a second piece of
/// evidence; the same bundle re-serialized, or with another key hint, is the same one.
pub fn evidence_id(payload_type: &str, payload: &[u8], signatures: &[&[u8]]) -> String {
    let mut context = Context::new(&SHA256);
    let mut part = |bytes: &[u8]| {
        context.update(&(bytes.len() as u64).to_be_bytes());
        context.update(bytes);
    };
    part(b"hallmark-index-evidence/v1");
    part(payload_type.as_bytes());
    part(payload);
    let mut sorted = signatures.to_vec();
    sorted.sort_unstable();
    for sig in sorted {
        part(sig);
    }
    format!("sha256:{}", hex::encode(context.finish().as_ref()))
}

/// The keys of `evidence`'s bundle, after checking that the bundle holds the verified statement
/// (a caller handing over the wrong bytes would otherwise file one attestation's facts under
/// another's evidence).
pub(crate) fn keys(evidence: &Evidence<'_>) -> Result<Keys> {
    let bundle = Bundle::from_slice(evidence.bundle).map_err(|e| Error::Mismatch(e.to_string()))?;
    let envelope = bundle
        .dsse_envelope
        .ok_or_else(|| Error::Mismatch("the bundle holds no DSSE envelope".to_owned()))?;
    let statement =
        Statement::from_slice(&envelope.payload).map_err(|e| Error::Mismatch(e.to_string()))?;
    if &statement != evidence.attestation.statement() {
        return Err(Error::Mismatch(
            "its payload is another statement".to_owned(),
        ));
    }
    let signatures: Vec<&[u8]> = envelope
        .signatures
        .iter()
        .map(|s| s.sig.as_slice())
        .collect();
    Ok(Keys {
        id: evidence_id(&envelope.payload_type, &envelope.payload, &signatures),
        payload: sha256(&envelope.payload),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_order_does_not_matter_and_each_part_counts() {
        let a = evidence_id("t", b"payload", &[b"s1", b"s2"]);
        assert_eq!(a, evidence_id("t", b"payload", &[b"s2", b"s1"]));
        assert_ne!(a, evidence_id("t", b"payload", &[b"s1"]));
        assert_ne!(a, evidence_id("t", b"payloa", &[b"ds1", b"s2"]));
        assert_ne!(a, evidence_id("u", b"payload", &[b"s1", b"s2"]));
    }
}
