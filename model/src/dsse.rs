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

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Reads `(type, body)` back from a PAE, by the spec's grammar alone. That this inverts
        /// [`pae`] for every input is what makes the encoding injective.
        fn unpae(encoded: &[u8]) -> Option<(String, Vec<u8>)> {
            fn length(rest: &[u8]) -> Option<(usize, &[u8])> {
                let space = rest.iter().position(|&b| b == b' ')?;
                let digits = std::str::from_utf8(&rest[..space]).ok()?;
                // ASCII decimal, no sign, no leading zero (what `usize::to_string` writes).
                if digits.is_empty()
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || (digits.len() > 1 && digits.starts_with('0'))
                {
                    return None;
                }
                Some((digits.parse().ok()?, &rest[space + 1..]))
            }
            let rest = encoded.strip_prefix(b"DSSEv1 ")?;
            let (type_len, rest) = length(rest)?;
            let payload_type = std::str::from_utf8(rest.get(..type_len)?).ok()?.to_owned();
            let rest = rest.get(type_len..)?.strip_prefix(b" ")?;
            let (body_len, rest) = length(rest)?;
            (rest.len() == body_len).then(|| (payload_type, rest.to_vec()))
        }

        /// Printable ASCII with digits and spaces over-represented, the characters that could
        /// confuse a length prefix.
        fn tricky_text() -> impl Strategy<Value = String> {
            "[0-9 ]{0,6}[ -~]{0,24}[0-9 ]{0,6}"
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn pae_is_the_spec_formula(
                payload_type in any::<String>(),
                body in prop::collection::vec(any::<u8>(), 0..512),
            ) {
                let mut expected = format!(
                    "DSSEv1 {} {} {} ",
                    payload_type.len(),
                    payload_type,
                    body.len()
                )
                .into_bytes();
                expected.extend_from_slice(&body);
                prop_assert_eq!(pae(&payload_type, &body), expected);
            }

            #[test]
            fn pae_decodes_back_to_its_type_and_body(
                payload_type in prop_oneof![tricky_text(), any::<String>()],
                body in prop_oneof![
                    tricky_text().prop_map(String::into_bytes),
                    prop::collection::vec(any::<u8>(), 0..256),
                ],
            ) {
                let encoded = pae(&payload_type, &body);
                prop_assert_eq!(unpae(&encoded), Some((payload_type, body)));
            }

            #[test]
            fn moving_bytes_between_type_and_body_changes_the_pae(
                text in tricky_text(),
                split in any::<prop::sample::Index>(),
                other in any::<prop::sample::Index>(),
            ) {
                // The same bytes cut in two places: only the lengths tell the pairs apart.
                let (i, j) = (split.index(text.len() + 1), other.index(text.len() + 1));
                let first = pae(&text[..i], &text.as_bytes()[i..]);
                let second = pae(&text[..j], &text.as_bytes()[j..]);
                prop_assert_eq!(first == second, i == j);
            }

            #[test]
            fn different_pairs_give_different_pae(
                a in (tricky_text(), prop::collection::vec(any::<u8>(), 0..64)),
                b in (tricky_text(), prop::collection::vec(any::<u8>(), 0..64)),
            ) {
                prop_assert_eq!(pae(&a.0, &a.1) == pae(&b.0, &b.1), a == b);
            }
        }
    }
}
