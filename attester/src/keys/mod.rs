//! Signing keys: generation, PKCS#8 PEM in and out, cosign's encrypted key format, and keys
//! kept in PKCS#11 tokens ([`pkcs11`]).

mod cosign;
pub mod pkcs11;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::{KeyKind, keyid_preimage, pem_encode, public_key_pem};
use hallmark_model::limits::{MAX_KEY_BYTES, check};

use crate::{Error, Result};

pub use cosign::{encrypt_pkcs8, is_encrypted};

/// A private key that can sign, with its public half precomputed.
pub struct SigningKey {
    pair: Pair,
    kind: KeyKind,
    pkcs8: Vec<u8>,
    spki_der: Vec<u8>,
    keyid: String,
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl std::fmt::Debug for SigningKey {
    // Never print key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kind", &self.kind)
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

/// True when the PEM text holds an encrypted key, so the caller knows to ask for a password.
pub fn needs_password(text: &[u8]) -> bool {
    pem::parse(text).is_ok_and(|block| is_encrypted(block.tag()))
}

impl SigningKey {
    /// Generates a fresh key.
    pub fn generate(kind: KeyKind) -> Result<Self> {
        let pkcs8 = match kind {
            KeyKind::EcdsaP256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map_err(|e| Error::Key(format!("generating an ECDSA key: {e}")))?,
            KeyKind::Ed25519 => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map_err(|e| Error::Key(format!("generating an Ed25519 key: {e}")))?,
        };
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// Loads a key from PKCS#8 DER (ECDSA P-256 or Ed25519).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self> {
        if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            return Self::assemble(Pair::Ecdsa(pair), KeyKind::EcdsaP256, der);
        }
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Self::assemble(Pair::Ed25519(pair), KeyKind::Ed25519, der);
        }
        Err(Error::Key(
            "not an ECDSA P-256 or Ed25519 PKCS#8 private key".to_owned(),
        ))
    }

    /// Loads a PEM private key: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1), or cosign's
    /// `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY` (needs `password`).
    pub fn from_pem(text: &[u8], password: Option<&[u8]>) -> Result<Self> {
        check("private key", text.len() as u64, MAX_KEY_BYTES)?;
        let block = pem::parse(text).map_err(|e| Error::Key(format!("not a PEM file: {e}")))?;
        match block.tag() {
            "PRIVATE KEY" => Self::from_pkcs8(block.contents()),
            "EC PRIVATE KEY" => {
                let pair = EcdsaKeyPair::from_private_key_der(
                    &ECDSA_P256_SHA256_ASN1_SIGNING,
                    block.contents(),
                )
                .map_err(|e| Error::Key(format!("not a P-256 EC private key: {e}")))?;
                let pkcs8 = pair
                    .to_pkcs8v1()
                    .map_err(|e| Error::Key(format!("re-encoding the EC key: {e}")))?;
                Self::from_pkcs8(pkcs8.as_ref())
            }
            tag if is_encrypted(tag) => {
                let password = password.ok_or_else(|| {
                    Error::Key("the key is encrypted and no password was given".to_owned())
                })?;
                let der = cosign::decrypt(block.contents(), password)?;
                Self::from_pkcs8(&der)
            }
            "ENCRYPTED PRIVATE KEY" => Err(Error::EncryptedPkcs8Key),
            other => Err(Error::Key(format!("unsupported PEM block {other:?}"))),
        }
    }

    fn assemble(pair: Pair, kind: KeyKind, pkcs8: &[u8]) -> Result<Self> {
        let (spki_der, raw_public) = match &pair {
            Pair::Ecdsa(p) => (spki_der(p.public_key())?, p.public_key().as_ref().to_vec()),
            Pair::Ed25519(p) => (spki_der(p.public_key())?, p.public_key().as_ref().to_vec()),
        };
        let keyid = keyid_of(kind, &spki_der, &raw_public);
        Ok(SigningKey {
            pair,
            kind,
            pkcs8: pkcs8.to_vec(),
            spki_der,
            keyid,
        })
    }

    /// The key type.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// securesystemslib's default keyid, used as the DSSE keyid and the bundle's key hint.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// DER SubjectPublicKeyInfo of the public key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// PEM of the public key.
    pub fn public_key_pem(&self) -> String {
        public_key_pem(&self.spki_der)
    }

    /// Unencrypted PKCS#8 PEM of the private key.
    pub fn private_key_pem(&self) -> String {
        pem_encode("PRIVATE KEY", &self.pkcs8)
    }

    /// cosign-compatible encrypted PEM of the private key.
    pub fn encrypted_private_key_pem(&self, password: &[u8]) -> Result<String> {
        encrypt_pkcs8(&self.pkcs8, password)
    }

    /// Signs `message`: DER ECDSA-SHA256, or Ed25519.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.pair {
            Pair::Ecdsa(p) => p
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| Error::Signing(e.to_string())),
            Pair::Ed25519(p) => Ok(p.sign(message).as_ref().to_vec()),
        }
    }
}

/// securesystemslib's default keyid of a public key (lowercase hex SHA-256 of its canonical
/// JSON), the same for a key file and a key in a token.
pub(crate) fn keyid_of(kind: KeyKind, spki_der: &[u8], raw_public: &[u8]) -> String {
    let preimage = keyid_preimage(kind, spki_der, raw_public);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, preimage.as_bytes());
    Digest::from_bytes(DigestAlgorithm::Sha256, digest.as_ref())
        .hex()
        .to_owned()
}

fn spki_der<K>(key: &K) -> Result<Vec<u8>>
where
    K: AsDer<aws_lc_rs::encoding::PublicKeyX509Der<'static>>,
{
    key.as_der()
        .map(|d| d.as_ref().to_vec())
        .map_err(|e| Error::Key(format!("encoding the public key: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pkcs8_encrypted_key_is_named_as_such() {
        let pem =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(matches!(
            SigningKey::from_pem(pem, Some(b"pw")),
            Err(Error::EncryptedPkcs8Key)
        ));
    }

    #[test]
    fn round_trips_through_pem_for_both_kinds() {
        for kind in [KeyKind::EcdsaP256, KeyKind::Ed25519] {
            let key = SigningKey::generate(kind).unwrap();
            let again = SigningKey::from_pem(key.private_key_pem().as_bytes(), None).unwrap();
            assert_eq!(again.keyid(), key.keyid());
            assert_eq!(again.kind(), kind);
            let enc = key.encrypted_private_key_pem(b"pw").unwrap();
            let back = SigningKey::from_pem(enc.as_bytes(), Some(b"pw")).unwrap();
            assert_eq!(back.public_key_der(), key.public_key_der());
            assert!(matches!(
                SigningKey::from_pem(enc.as_bytes(), Some(b"wrong")),
                Err(Error::WrongPassword)
            ));
        }
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("pkcs8") && shown.contains(key.keyid()));
    }
}
