//! The Sigstore bundle wire format (protobuf-specs JSON), as far as Hallmark writes and reads it.
//!
//! Default-valued fields are always written: other clients reject their absence.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base64_serde;
use crate::dsse::Envelope;
use crate::limits::{MAX_BUNDLE_BYTES, check};
use crate::{Error, Result};

/// Media type of the bundles Hallmark writes.
pub const BUNDLE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The v0.3 spelling some clients use.
pub const BUNDLE_V0_3_ALT: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";

/// Bundle media types this version of Hallmark reads. Unknown versions are rejected.
pub const KNOWN_MEDIA_TYPES: &[&str] = &[
    BUNDLE_V0_3,
    BUNDLE_V0_3_ALT,
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

/// A Sigstore bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// The bundle version.
    pub media_type: String,
    /// Key hint or certificate, and log and timestamp evidence.
    pub verification_material: VerificationMaterial,
    /// The signed DSSE envelope (Hallmark's content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    /// A plain message signature (read for interoperability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<Value>,
}

/// How to verify the bundle's signature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// A hint naming the public key that signed (key-based signing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// The signing certificate (v0.3 keyless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<X509Certificate>,
    /// A certificate chain (v0.1/v0.2 keyless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<X509CertificateChain>,
    /// Transparency-log entries, read by the Sigstore verifier.
    #[serde(default)]
    pub tlog_entries: Vec<Value>,
    /// RFC 3161 timestamps, read by the Sigstore verifier.
    #[serde(default)]
    pub timestamp_verification_data: TimestampVerificationData,
}

/// The public-key hint of a key-signed bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    /// Unauthenticated hint; Hallmark writes the hex SHA-256 of the key's SubjectPublicKeyInfo.
    #[serde(default)]
    pub hint: String,
}

/// A DER certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificate {
    /// DER bytes (base64 in JSON).
    #[serde(with = "base64_serde")]
    pub raw_bytes: Vec<u8>,
}

/// A chain of DER certificates, leaf first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct X509CertificateChain {
    /// The certificates.
    #[serde(default)]
    pub certificates: Vec<X509Certificate>,
}

/// RFC 3161 timestamps over the signature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampVerificationData {
    /// The signed timestamps.
    #[serde(default)]
    pub rfc3161_timestamps: Vec<Value>,
}

impl Bundle {
    /// A v0.3 bundle for a key-signed DSSE envelope.
    pub fn for_key_signed(envelope: Envelope, key_hint: impl Into<String>) -> Self {
        Bundle {
            media_type: BUNDLE_V0_3.to_owned(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier {
                    hint: key_hint.into(),
                }),
                ..Default::default()
            },
            dsse_envelope: Some(envelope),
            message_signature: None,
        }
    }

    /// Parses a bundle, with a size limit, and rejects unknown versions and empty content.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        check("bundle", bytes.len() as u64, MAX_BUNDLE_BYTES)?;
        let bundle: Bundle = serde_json::from_slice(bytes).map_err(Error::json("bundle"))?;
        if !KNOWN_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
            return Err(Error::BundleMediaType(bundle.media_type));
        }
        if bundle.dsse_envelope.is_none() && bundle.message_signature.is_none() {
            return Err(Error::BundleShape("no dsseEnvelope or messageSignature"));
        }
        Ok(bundle)
    }

    /// Canonical bytes Hallmark stores and exchanges.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_default_valued_fields() {
        let env = Envelope {
            payload: b"{}".to_vec(),
            payload_type: "t".into(),
            signatures: vec![],
        };
        let json: Value =
            serde_json::from_slice(&Bundle::for_key_signed(env, "h").to_json()).unwrap();
        let vm = &json["verificationMaterial"];
        assert_eq!(vm["tlogEntries"], serde_json::json!([]));
        assert_eq!(
            vm["timestampVerificationData"]["rfc3161Timestamps"],
            serde_json::json!([])
        );
        assert_eq!(vm["publicKey"]["hint"], "h");
    }

    #[test]
    fn rejects_unknown_versions_and_oversize() {
        let b = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.9+json","verificationMaterial":{},"dsseEnvelope":{"payload":"","payloadType":"t","signatures":[]}}"#;
        assert!(matches!(
            Bundle::from_slice(b),
            Err(Error::BundleMediaType(_))
        ));
        let big = vec![b' '; (MAX_BUNDLE_BYTES + 1) as usize];
        assert!(matches!(
            Bundle::from_slice(&big),
            Err(Error::TooLarge { .. })
        ));
    }
}
