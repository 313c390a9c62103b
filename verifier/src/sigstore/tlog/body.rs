//! The entry body the log stored must describe exactly what the bundle carries: the same
//! signature, the same signer, the same artifact or payload.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_model::bundle::TransparencyLogEntry;
use hallmark_model::dsse::Envelope;
use serde_json::Value;

use crate::sigstore::error::BodyError;

/// What the bundle signs.
#[derive(Debug, Clone, Copy)]
pub enum SignedContent<'a> {
    /// A signature over an artifact whose SHA-256 is `digest`.
    Message {
        /// SHA-256 of the artifact.
        digest: &'a [u8],
        /// The signature.
        signature: &'a [u8],
    },
    /// A DSSE envelope.
    Dsse(&'a Envelope),
}

/// Who signed: the DER leaf certificate, or the DER public key.
#[derive(Debug, Clone, Copy)]
pub enum SignerMaterial<'a> {
    /// A Fulcio (or other) certificate.
    Certificate(&'a [u8]),
    /// A public key.
    PublicKey(&'a [u8]),
}

impl SignerMaterial<'_> {
    fn der(&self) -> &[u8] {
        match self {
            SignerMaterial::Certificate(d) | SignerMaterial::PublicKey(d) => d,
        }
    }
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, BodyError> {
    get(v, path)
        .and_then(Value::as_str)
        .ok_or_else(|| BodyError::MissingField(path.join(".")))
}

fn b64(v: &Value, path: &[&str]) -> Result<Vec<u8>, BodyError> {
    STANDARD
        .decode(text(v, path)?)
        .map_err(|_| BodyError::NotBase64(path.join(".")))
}

/// The base64 lines of a PEM block, between its BEGIN and END lines.
fn pem_body(text: &str) -> Option<&str> {
    let begin = text.find("-----BEGIN ")?;
    let (header, rest) = text[begin..].split_once('\n')?;
    if !header.trim_end().ends_with("-----") {
        return None;
    }
    Some(&rest[..rest.find("-----END ")?])
}

/// The signer v0.0.1 bodies store as base64 of PEM text must be the bundle's. Canonical base64
/// has one form, so the PEM's base64 is compared with the signer DER's (with line breaks left
/// out) instead of decoding the block.
fn same_pem_signer(v: &Value, path: &[&str], signer: &SignerMaterial<'_>) -> Result<(), BodyError> {
    let pem = b64(v, path)?;
    let not_pem = || BodyError::NotPem(path.join("."));
    let text = std::str::from_utf8(&pem).map_err(|_| not_pem())?;
    let body = pem_body(text).ok_or_else(not_pem)?;
    let logged = body.bytes().filter(|b| !b.is_ascii_whitespace());
    if logged.eq(STANDARD.encode(signer.der()).bytes()) {
        Ok(())
    } else {
        Err(BodyError::Signer)
    }
}

fn same_signer(found: &[u8], signer: &SignerMaterial<'_>) -> Result<(), BodyError> {
    if found == signer.der() {
        Ok(())
    } else {
        Err(BodyError::Signer)
    }
}

fn v002_signer(verifier: &Value, signer: &SignerMaterial<'_>) -> Result<(), BodyError> {
    let der = if get(verifier, &["x509Certificate"]).is_some() {
        b64(verifier, &["x509Certificate", "rawBytes"])?
    } else {
        b64(verifier, &["publicKey", "rawBytes"])?
    };
    same_signer(&der, signer)
}

/// Checks the entry's canonicalized body against the bundle.
pub fn check_body(
    entry: &TransparencyLogEntry,
    content: SignedContent<'_>,
    signer: SignerMaterial<'_>,
) -> Result<(), BodyError> {
    let body: Value =
        serde_json::from_slice(&entry.canonicalized_body).map_err(|_| BodyError::NotJson)?;
    let kind = (
        entry.kind_version.kind.as_str(),
        entry.kind_version.version.as_str(),
    );
    if text(&body, &["kind"])? != kind.0 || text(&body, &["apiVersion"])? != kind.1 {
        return Err(BodyError::KindMismatch {
            kind: kind.0.to_owned(),
            version: kind.1.to_owned(),
        });
    }
    match (kind, content) {
        (("hashedrekord", "0.0.1"), SignedContent::Message { digest, signature }) => {
            let spec = &body["spec"];
            if text(spec, &["data", "hash", "algorithm"])? != "sha256"
                || text(spec, &["data", "hash", "value"])? != hallmark_model::hex::encode(digest)
            {
                return Err(BodyError::Digest);
            }
            if b64(spec, &["signature", "content"])? != signature {
                return Err(BodyError::Signature);
            }
            same_pem_signer(spec, &["signature", "publicKey", "content"], &signer)
        }
        (("hashedrekord", "0.0.2"), content) => {
            // Rekor v2 logs DSSE as a hashedrekord over SHA-256(PAE(type, payload)).
            let (expected_digest, signature) = match content {
                SignedContent::Message { digest, signature } => (digest.to_vec(), signature),
                SignedContent::Dsse(envelope) => {
                    let [only] = envelope.signatures.as_slice() else {
                        return Err(BodyError::HashedRekordSignatures);
                    };
                    (
                        digest(&SHA256, &envelope.signed_bytes()).as_ref().to_vec(),
                        only.sig.as_slice(),
                    )
                }
            };
            let spec = get(&body, &["spec", "hashedRekordV002"])
                .ok_or_else(|| BodyError::MissingField("spec.hashedRekordV002".to_owned()))?;
            if text(spec, &["data", "algorithm"])? != "SHA2_256"
                || b64(spec, &["data", "digest"])? != expected_digest
            {
                return Err(BodyError::Digest);
            }
            if b64(spec, &["signature", "content"])? != signature {
                return Err(BodyError::Signature);
            }
            v002_signer(&spec["signature"]["verifier"], &signer)
        }
        (("dsse", "0.0.1"), SignedContent::Dsse(envelope)) => {
            let spec = &body["spec"];
            let payload_hash =
                hallmark_model::hex::encode(digest(&SHA256, &envelope.payload).as_ref());
            if text(spec, &["payloadHash", "algorithm"])? != "sha256"
                || text(spec, &["payloadHash", "value"])? != payload_hash
            {
                return Err(BodyError::Payload);
            }
            same_signatures(&spec["signatures"], envelope, |logged, sig| {
                Ok(b64(logged, &["signature"])? == sig
                    && same_pem_signer(logged, &["verifier"], &signer).is_ok())
            })
        }
        (("dsse", "0.0.2"), SignedContent::Dsse(envelope)) => {
            let spec = get(&body, &["spec", "dsseV002"])
                .ok_or_else(|| BodyError::MissingField("spec.dsseV002".to_owned()))?;
            let payload_hash = digest(&SHA256, &envelope.payload);
            if text(spec, &["payloadHash", "algorithm"])? != "SHA2_256"
                || b64(spec, &["payloadHash", "digest"])? != payload_hash.as_ref()
            {
                return Err(BodyError::Payload);
            }
            same_signatures(&spec["signatures"], envelope, |logged, sig| {
                Ok(b64(logged, &["content"])? == sig
                    && v002_signer(&logged["verifier"], &signer).is_ok())
            })
        }
        (("intoto", "0.0.2"), SignedContent::Dsse(envelope)) => {
            check_intoto(&body["spec"]["content"], envelope, signer)
        }
        (kind, _) => Err(BodyError::UnsupportedKind {
            kind: kind.0.to_owned(),
            version: kind.1.to_owned(),
        }),
    }
}

/// The logged signature list must match the envelope's one for one; `matches` compares one
/// logged signature (and its signer) with the envelope's signature bytes.
fn same_signatures(
    logged: &Value,
    envelope: &Envelope,
    matches: impl Fn(&Value, &[u8]) -> Result<bool, BodyError>,
) -> Result<(), BodyError> {
    let logged = logged
        .as_array()
        .ok_or_else(|| BodyError::MissingField("signatures".to_owned()))?;
    if logged.len() != envelope.signatures.len() {
        return Err(BodyError::SignatureCount);
    }
    for (logged, sig) in logged.iter().zip(&envelope.signatures) {
        if !matches(logged, &sig.sig)? {
            return Err(BodyError::DsseSignature);
        }
    }
    Ok(())
}

/// Legacy `intoto` 0.0.2 entries store the envelope without its payload, with each signature
/// base64-encoded twice.
fn check_intoto(
    content: &Value,
    envelope: &Envelope,
    signer: SignerMaterial<'_>,
) -> Result<(), BodyError> {
    let payload_hash = hallmark_model::hex::encode(digest(&SHA256, &envelope.payload).as_ref());
    if text(content, &["payloadHash", "algorithm"])? != "sha256"
        || text(content, &["payloadHash", "value"])? != payload_hash
    {
        return Err(BodyError::Payload);
    }
    if text(content, &["envelope", "payloadType"])? != envelope.payload_type {
        return Err(BodyError::PayloadType);
    }
    same_signatures(
        &content["envelope"]["signatures"],
        envelope,
        |logged, sig| {
            let once = b64(logged, &["sig"])?;
            let twice = STANDARD.decode(&once).unwrap_or_default();
            Ok((once == sig || twice == sig)
                && same_pem_signer(logged, &["publicKey"], &signer).is_ok())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_signer_is_compared_by_its_base64() {
        let der = b"\x30\x03\x02\x01\x07 a signer of some length to wrap lines";
        let pem = pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()));
        let body = |pem: &str| serde_json::json!({ "k": STANDARD.encode(pem) });
        let signer = SignerMaterial::Certificate(der);
        assert_eq!(same_pem_signer(&body(&pem), &["k"], &signer), Ok(()));
        let crlf = pem.replace('\n', "\r\n");
        assert_eq!(same_pem_signer(&body(&crlf), &["k"], &signer), Ok(()));
        let other = SignerMaterial::Certificate(&der[1..]);
        let signer_error = Err(BodyError::Signer);
        assert_eq!(same_pem_signer(&body(&pem), &["k"], &other), signer_error);
        let not_pem = Err(BodyError::NotPem("k".into()));
        let header_only = "-----BEGIN CERTIFICATE-----\nMAMCAQc=\n";
        for broken in [
            "MAMCAQc=",
            header_only,
            "-----BEGIN CERTIFICATE\nMAMCAQc=\n-----END ",
        ] {
            assert_eq!(same_pem_signer(&body(broken), &["k"], &signer), not_pem);
        }
    }
}
