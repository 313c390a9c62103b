//! Trusted public keys.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ED25519, UnparsedPublicKey};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::{KeyKind, keyid_preimage};
use hallmark_model::limits::{MAX_KEY_BYTES, check};
use spki::SubjectPublicKeyInfoRef;
use spki::der::Decode;

use crate::{Error, Result};

const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_ED25519: &str = "1.3.101.112";

/// A public key the user trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    kind: KeyKind,
    raw: Vec<u8>,
    keyid: String,
    origin: String,
}

impl TrustedKey {
    /// Reads a `PUBLIC KEY` PEM (SubjectPublicKeyInfo). `origin` names it in messages.
    pub fn from_pem(text: &[u8], origin: &str) -> Result<Self> {
        let bad = |message: String| Error::Key {
            origin: origin.to_owned(),
            message,
        };
        check("public key", text.len() as u64, MAX_KEY_BYTES)?;
        let block = pem::parse(text).map_err(|e| bad(format!("not a PEM file: {e}")))?;
        if block.tag() != "PUBLIC KEY" {
            return Err(bad(format!(
                "expected a PUBLIC KEY PEM block, found {:?}",
                block.tag()
            )));
        }
        Self::from_spki_der(block.contents(), origin)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8], origin: &str) -> Result<Self> {
        let bad = |message: String| Error::Key {
            origin: origin.to_owned(),
            message,
        };
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| bad(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let algorithm = spki.algorithm.oid.to_string();
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| bad("public key bits are not whole bytes".to_owned()))?
            .to_vec();
        let kind = match algorithm.as_str() {
            OID_EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters_oid()
                    .map(|o| o.to_string())
                    .unwrap_or_default();
                if curve != OID_P256 {
                    return Err(bad(format!(
                        "unsupported elliptic curve {curve}; only P-256"
                    )));
                }
                KeyKind::EcdsaP256
            }
            OID_ED25519 => KeyKind::Ed25519,
            other => return Err(bad(format!("unsupported key algorithm {other}"))),
        };
        let preimage = keyid_preimage(kind, der, &raw);
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, preimage.as_bytes());
        let keyid = Digest::from_bytes(DigestAlgorithm::Sha256, hash.as_ref())
            .hex()
            .to_owned();
        Ok(TrustedKey {
            kind,
            raw,
            keyid,
            origin: origin.to_owned(),
        })
    }

    /// The key type.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// securesystemslib's default keyid of this key.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// Where the key came from (a file name), for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// True when `signature` is this key's signature over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let algorithm: &dyn aws_lc_rs::signature::VerificationAlgorithm = match self.kind {
            KeyKind::EcdsaP256 => &ECDSA_P256_SHA256_ASN1,
            KeyKind::Ed25519 => &ED25519,
        };
        UnparsedPublicKey::new(algorithm, &self.raw)
            .verify(message, signature)
            .is_ok()
    }
}
