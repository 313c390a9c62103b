//! Public keys: the user's trusted keys, and the keys inside certificates and trust roots.

use aws_lc_rs::digest::{self as lc_digest, SHA256, SHA384};
use aws_lc_rs::signature::{
    self as sig, ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1, ED25519, ParsedPublicKey,
    UnparsedPublicKey, VerificationAlgorithm,
};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::{KeyKind, keyid_preimage};
use hallmark_model::limits::{MAX_KEY_BYTES, check};
use spki::der::Decode;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use std::sync::OnceLock;

use const_oid::db::{rfc5912, rfc8410};

use crate::{Error, Result};

/// The securesystemslib keyid Hallmark writes for a trusted key (64 hex characters).
pub type KeyId = String;

/// Why a public key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The DER is not a SubjectPublicKeyInfo.
    #[error("not a SubjectPublicKeyInfo: {0}")]
    NotSpki(spki::der::Error),
    /// The BIT STRING holding the key has unused bits.
    #[error("the public key bits are not whole bytes")]
    UnalignedBits,
    /// An EC key on a curve Hallmark does not verify.
    #[error("unsupported elliptic curve {}", .0.map_or("(none named)".to_owned(), |o| o.to_string()))]
    UnsupportedCurve(Option<ObjectIdentifier>),
    /// A key algorithm Hallmark does not verify.
    #[error("unsupported key algorithm {0}")]
    UnsupportedAlgorithm(ObjectIdentifier),
    /// A trust root names a key algorithm Hallmark does not know.
    #[error("unsupported keyDetails {0}")]
    UnsupportedDetails(String),
    /// A trust root names an algorithm the key cannot have.
    #[error("keyDetails {details} does not match the key ({actual:?})")]
    DetailsMismatch {
        /// The keyDetails as written.
        details: String,
        /// What the key is.
        actual: Algorithm,
    },
    /// The file is not PEM.
    #[error("not a PEM file: {0}")]
    NotPem(String),
    /// The PEM block is not a public key.
    #[error("expected a PUBLIC KEY PEM block, found {0:?}")]
    NotPublicKeyPem(String),
}

/// Signature algorithms Hallmark verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA P-256, SHA-256, DER signatures.
    EcdsaP256Sha256,
    /// ECDSA P-384, SHA-384, DER signatures.
    EcdsaP384Sha384,
    /// Ed25519.
    Ed25519,
    /// RSA PKCS#1 v1.5 with SHA-256 (2048 to 8192 bits).
    RsaPkcs1Sha256,
    /// RSA-PSS with SHA-256.
    RsaPssSha256,
}

impl Algorithm {
    fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Algorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1,
            Algorithm::EcdsaP384Sha384 => &ECDSA_P384_SHA384_ASN1,
            Algorithm::Ed25519 => &ED25519,
            Algorithm::RsaPkcs1Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RsaPssSha256 => &sig::RSA_PSS_2048_8192_SHA256,
        }
    }

    /// The digest the algorithm signs, for prehashed verification; `None` for Ed25519.
    pub fn digest(self) -> Option<&'static lc_digest::Algorithm> {
        match self {
            Algorithm::EcdsaP256Sha256 | Algorithm::RsaPkcs1Sha256 | Algorithm::RsaPssSha256 => {
                Some(&SHA256)
            }
            Algorithm::EcdsaP384Sha384 => Some(&SHA384),
            Algorithm::Ed25519 => None,
        }
    }
}

/// A parsed public key.
#[derive(Clone)]
pub struct PublicKey {
    algorithm: Algorithm,
    raw: Vec<u8>,
    spki: Vec<u8>,
    /// aws-lc's form of the key, made on first use: a trust root's log keys and a trusted key
    /// verify many signatures, and are parsed once.
    parsed: OnceLock<Option<ParsedPublicKey>>,
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        (self.algorithm, &self.raw, &self.spki) == (other.algorithm, &other.raw, &other.spki)
    }
}

impl Eq for PublicKey {}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm)
            .field("spki", &hallmark_model::hex::encode(&self.spki))
            .finish()
    }
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo. RSA keys default to PKCS#1 v1.5 with SHA-256.
    pub fn from_spki_der(der: &[u8]) -> std::result::Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(KeyError::NotSpki)?;
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or(KeyError::UnalignedBits)?
            .to_vec();
        let algorithm = match spki.algorithm.oid {
            rfc5912::ID_EC_PUBLIC_KEY => match spki.algorithm.parameters_oid().ok() {
                Some(rfc5912::SECP_256_R_1) => Algorithm::EcdsaP256Sha256,
                Some(rfc5912::SECP_384_R_1) => Algorithm::EcdsaP384Sha384,
                other => return Err(KeyError::UnsupportedCurve(other)),
            },
            rfc8410::ID_ED_25519 => Algorithm::Ed25519,
            rfc5912::RSA_ENCRYPTION => Algorithm::RsaPkcs1Sha256,
            other => return Err(KeyError::UnsupportedAlgorithm(other)),
        };
        Ok(PublicKey {
            algorithm,
            raw,
            spki: der.to_vec(),
            parsed: OnceLock::new(),
        })
    }

    /// Parses a key whose algorithm a trust root names (`PKIX_ECDSA_P256_SHA_256`, ...).
    pub fn from_spki_with_details(
        der: &[u8],
        details: &str,
    ) -> std::result::Result<Self, KeyError> {
        let mut key = Self::from_spki_der(der)?;
        let wanted = match details {
            "PKIX_ECDSA_P256_SHA_256" => Some(Algorithm::EcdsaP256Sha256),
            "PKIX_ECDSA_P384_SHA_384" => Some(Algorithm::EcdsaP384Sha384),
            "PKIX_ED25519" => Some(Algorithm::Ed25519),
            d if d.starts_with("PKIX_RSA_PKCS1V15") || d.starts_with("PKCS1_RSA_PKCS1V5") => {
                Some(Algorithm::RsaPkcs1Sha256)
            }
            d if d.starts_with("PKIX_RSA_PSS") || d.starts_with("PKCS1_RSA_PSS") => {
                Some(Algorithm::RsaPssSha256)
            }
            "" | "PUBLIC_KEY_DETAILS_UNSPECIFIED" => None,
            other => return Err(KeyError::UnsupportedDetails(other.to_owned())),
        };
        if let Some(wanted) = wanted {
            let compatible = key.algorithm == wanted
                || matches!(
                    (key.algorithm, wanted),
                    (Algorithm::RsaPkcs1Sha256, Algorithm::RsaPssSha256)
                );
            if !compatible {
                return Err(KeyError::DetailsMismatch {
                    details: details.to_owned(),
                    actual: key.algorithm,
                });
            }
            key.algorithm = wanted;
        }
        Ok(key)
    }

    /// A bare PKCS#1 RSAPublicKey, as some trust roots hold CT log keys.
    pub fn from_pkcs1_rsa(der: &[u8], details: &str) -> std::result::Result<Self, KeyError> {
        let algorithm = if details.contains("PSS") {
            Algorithm::RsaPssSha256
        } else {
            Algorithm::RsaPkcs1Sha256
        };
        Ok(PublicKey {
            algorithm,
            raw: der.to_vec(),
            spki: der.to_vec(),
            parsed: OnceLock::new(),
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The subjectPublicKey bits (EC point, Ed25519 key, or RSAPublicKey DER).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The key as aws-lc verifies with it; `None` when aws-lc refuses it (nothing verifies).
    fn parsed(&self) -> Option<&ParsedPublicKey> {
        self.parsed
            .get_or_init(|| ParsedPublicKey::new(self.algorithm.verification(), &self.raw).ok())
            .as_ref()
    }

    /// True when `signature` is this key's signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.parsed()
            .is_some_and(|key| key.verify_sig(message, signature).is_ok())
    }

    /// Like [`Self::verify`], for a message already hashed with this key's
    /// [`Algorithm::digest`] (so a message checked against many signatures is hashed once).
    /// False for Ed25519 and for a digest of another algorithm.
    pub fn verify_digest(&self, digest: &lc_digest::Digest, signature: &[u8]) -> bool {
        if self.algorithm.digest() != Some(digest.algorithm()) {
            return false;
        }
        self.parsed()
            .is_some_and(|key| key.verify_digest_sig(digest, signature).is_ok())
    }

    /// True when `signature` signs a message whose SHA-256 is `digest`. The hash follows the
    /// signed message, not the key: Sigstore clients sign SHA-256 digests with P-384 keys too.
    /// Ed25519 cannot verify prehashed messages and always answers false.
    pub fn verify_prehashed_sha256(&self, digest: &[u8], signature: &[u8]) -> bool {
        let algorithm: &'static dyn VerificationAlgorithm = match self.algorithm {
            Algorithm::EcdsaP256Sha256 => &ECDSA_P256_SHA256_ASN1,
            Algorithm::EcdsaP384Sha384 => &sig::ECDSA_P384_SHA256_ASN1,
            Algorithm::RsaPkcs1Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RsaPssSha256 => &sig::RSA_PSS_2048_8192_SHA256,
            Algorithm::Ed25519 => return false,
        };
        let Ok(digest) = lc_digest::Digest::import_less_safe(digest, &SHA256) else {
            return false;
        };
        if self.algorithm.digest() == Some(&SHA256) {
            return self.verify_digest(&digest, signature);
        }
        UnparsedPublicKey::new(algorithm, &self.raw)
            .verify_digest(&digest, signature)
            .is_ok()
    }
}

/// A public key the user trusts, with the securesystemslib keyid and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    key: PublicKey,
    keyid: KeyId,
    origin: String,
}

impl TrustedKey {
    /// Reads a `PUBLIC KEY` PEM (SubjectPublicKeyInfo). `origin` names it in messages.
    pub fn from_pem(text: &[u8], origin: &str) -> Result<Self> {
        let bad = |error: KeyError| Error::Key {
            origin: origin.to_owned(),
            error,
        };
        check("public key", text.len() as u64, MAX_KEY_BYTES)?;
        let block = pem::parse(text).map_err(|e| bad(KeyError::NotPem(e.to_string())))?;
        if block.tag() != "PUBLIC KEY" {
            return Err(bad(KeyError::NotPublicKeyPem(block.tag().to_owned())));
        }
        Self::from_spki_der(block.contents(), origin)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8], origin: &str) -> Result<Self> {
        let key = PublicKey::from_spki_der(der).map_err(|error| Error::Key {
            origin: origin.to_owned(),
            error,
        })?;
        let kind = match key.algorithm {
            Algorithm::EcdsaP256Sha256 => Some(KeyKind::EcdsaP256),
            Algorithm::Ed25519 => Some(KeyKind::Ed25519),
            _ => None,
        };
        // securesystemslib's keyid where it defines one for the key type, else the SPKI digest.
        let preimage = match kind {
            Some(kind) => keyid_preimage(kind, der, &key.raw).into_bytes(),
            None => der.to_vec(),
        };
        let hash = lc_digest::digest(&SHA256, &preimage);
        let keyid = Digest::from_bytes(DigestAlgorithm::Sha256, hash.as_ref())
            .hex()
            .to_owned();
        Ok(TrustedKey {
            key,
            keyid,
            origin: origin.to_owned(),
        })
    }

    /// The parsed key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The keyid Hallmark writes for this key.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// Where the key came from (a file name), for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// True when `signature` is this key's signature over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify(message, signature)
    }
}
