//! The DSSE envelope (Dead Simple Signing Envelope) and its pre-authentication encoding.

use serde::{Deserialize, Serialize};

use crate::base64_serde;
use crate::limits::{MAX_BUNDLE_BYTES, check};
use crate::{Error, Result};

/// A DSSE envelope. The payload is held decoded; JSON carries it as base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The signed bytes.
    #[serde(with = "base64_serde")]
    pub payload: Vec<u8>,
    /// How to interpret the payload, e.g. `application/vnd.in-toto+json`.
    pub payload_type: String,
    /// Signatures over [`pae`] of the type and payload.
    #[serde(default)]
    pub signatures: Vec<Signature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Optional, unauthenticated hint naming the key.
    #[serde(default)]
    pub keyid: String,
    /// The signature bytes.
    #[serde(with = "base64_serde")]
    pub sig: Vec<u8>,
}

impl Envelope {
    /// Parses a bare DSSE envelope (as in-toto tools exchange them), with a size limit.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        check("DSSE envelope", bytes.len() as u64, MAX_BUNDLE_BYTES)?;
        serde_json::from_slice(bytes).map_err(Error::json("DSSE envelope"))
    }

    /// The bytes every signature in this envelope must cover.
    pub fn signed_bytes(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn reads_url_safe_unpadded_base64() {
        let env = Envelope::from_slice(
            br#"{"payload":"_-8","payloadType":"t","signatures":[{"sig":"AA"}]}"#,
        )
        .unwrap();
        assert_eq!(env.payload, vec![0xff, 0xef]);
        assert_eq!(env.signatures[0].sig, vec![0]);
        assert_eq!(env.signatures[0].keyid, "");
    }
}
