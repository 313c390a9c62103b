//! The Sigstore bundle wire format (protobuf-specs JSON), as far as Hallmark writes and reads it.
//!
//! Default-valued fields are always written: other clients reject their absence.

use serde::{Deserialize, Serialize};

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
    /// A plain message signature over an artifact digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
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
    /// Transparency-log entries.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tlog_entries: Vec<TransparencyLogEntry>,
    /// RFC 3161 timestamps.
    #[serde(default, deserialize_with = "null_as_default")]
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
    #[serde(default, deserialize_with = "null_as_default")]
    pub rfc3161_timestamps: Vec<Rfc3161Timestamp>,
}

/// One RFC 3161 timestamp token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rfc3161Timestamp {
    /// DER TimeStampToken.
    #[serde(with = "base64_serde")]
    pub signed_timestamp: Vec<u8>,
}

/// A signature over an artifact digest (hashedrekord).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The digest that was signed, if stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    /// The signature bytes.
    #[serde(with = "base64_serde")]
    pub signature: Vec<u8>,
}

/// A digest with its algorithm, as protobuf-specs writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashOutput {
    /// `SHA2_256`, `SHA2_384`, `SHA2_512`.
    #[serde(default)]
    pub algorithm: String,
    /// The digest bytes.
    #[serde(with = "base64_serde")]
    pub digest: Vec<u8>,
}

/// A transparency-log (Rekor) entry with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogEntry {
    /// Position in the log.
    #[serde(with = "int64")]
    pub log_index: i64,
    /// Which log.
    pub log_id: LogId,
    /// Entry kind and version (`hashedrekord`/`0.0.1`, `dsse`/`0.0.1`, `intoto`/`0.0.2`, ...).
    pub kind_version: KindVersion,
    /// Seconds since the epoch when the log integrated the entry (0 for Rekor v2).
    #[serde(default, with = "int64")]
    pub integrated_time: i64,
    /// The signed entry timestamp (SET), Rekor v1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    /// The Merkle inclusion proof with its checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonicalized entry body the log hashed.
    #[serde(default, with = "base64_serde")]
    pub canonicalized_body: Vec<u8>,
}

/// A log id: SHA-256 of the log's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// The id bytes.
    #[serde(with = "base64_serde")]
    pub key_id: Vec<u8>,
}

/// Entry kind and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersion {
    /// `hashedrekord`, `dsse`, `intoto`.
    pub kind: String,
    /// `0.0.1`, `0.0.2`.
    pub version: String,
}

/// Rekor's promise to include the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// The SET: the log's signature over the entry and its time.
    #[serde(with = "base64_serde")]
    pub signed_entry_timestamp: Vec<u8>,
}

/// An RFC 6962 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// Index of the leaf.
    #[serde(with = "int64")]
    pub log_index: i64,
    /// The tree root the proof leads to.
    #[serde(with = "base64_serde")]
    pub root_hash: Vec<u8>,
    /// Size of that tree.
    #[serde(with = "int64")]
    pub tree_size: i64,
    /// Sibling hashes, leaf to root.
    #[serde(default, with = "base64_vec")]
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint for the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

/// A signed note (checkpoint) as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The note text with its signature lines.
    pub envelope: String,
}

/// protobuf JSON writes `null` for a default value; read it as the default.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// protobuf-JSON int64: written as a string, read from a string or a number.
mod int64 {
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_string())
    }

    /// A string or a number, read where the parser holds it (an untagged enum would buffer it).
    struct Int64Visitor;

    impl serde::de::Visitor<'_> for Int64Visitor {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an int64, as a string or a number")
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<i64, E> {
            Ok(n)
        }

        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<i64, E> {
            i64::try_from(n).map_err(E::custom)
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<i64, E> {
            text.parse().map_err(E::custom)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_any(Int64Visitor)
    }
}

/// A list of base64 byte strings.
mod base64_vec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        items: &[Vec<u8>],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        let texts: Vec<String> = items
            .iter()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
            .collect();
        texts.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        /// One base64 item of the list, decoded where the parser holds it.
        struct Item(Vec<u8>);

        impl<'de> Deserialize<'de> for Item {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let visitor = crate::base64_serde::Base64Visitor;
                deserializer.deserialize_str(visitor).map(Item)
            }
        }

        let items = Vec::<Item>::deserialize(deserializer)?;
        Ok(items.into_iter().map(|Item(bytes)| bytes).collect())
    }
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
        // Sized for the base64 payload up front: a bundle of a big statement would otherwise
        // grow its buffer by doubling, to twice its size.
        let payload = self.dsse_envelope.as_ref().map_or(0, |e| e.payload.len());
        let mut out = Vec::with_capacity(payload.div_ceil(3) * 4 + 16 * 1024);
        // Plain data with string keys: serialization cannot fail.
        match serde_json::to_writer(&mut out, self) {
            Ok(()) => out,
            Err(_) => Vec::new(),
        }
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
        let json: serde_json::Value =
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
