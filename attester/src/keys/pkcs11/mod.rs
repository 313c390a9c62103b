//! Keys that never leave a hardware module: signing through PKCS#11 (HSMs, smart cards,
//! SoftHSM2), keys named by RFC 7512 `pkcs11:` URIs. docs/pkcs11.md describes the choices.
//!
//! A [`Pkcs11Key`] is a logged-in session with a private key object and the public key read from
//! the token's public key object; it implements [`Signer`] like a key file does, and its keyid
//! is computed the same way, so `hallmark verify --key exported.pub` cannot tell the two apart.
//! ECDSA P-256 hashes in software (SHA-256) and signs the digest with CKM_ECDSA; Ed25519 signs
//! the whole message with CKM_EDDSA; RSA signs PKCS#1 v1.5 with CKM_SHA256_RSA_PKCS. Every signature is checked against the public key before it
//! is used, so a token whose public and private objects do not belong together is caught here.

mod error;
mod generate;
mod module;
mod pin;
mod session;
mod spki;
mod uri;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::Session;
use hallmark_model::bundle::Bundle;
use hallmark_model::keyid::{KeyKind, public_key_pem};

pub use cryptoki::types::AuthPin;
pub use error::Pkcs11Error;
pub use module::{DEFAULT_MODULES, MODULE_ENV, module_path};
pub use pin::{PIN_ENV, PinPrompt, source_path};
pub use uri::{ObjectType, Pkcs11Uri};

use crate::ci::Env;
use crate::signer::{Signer, key_signed_bundle};
use crate::{Error, Result};
use session::{Opened, login, one, open, selection};

type Pk<T> = std::result::Result<T, Pkcs11Error>;

/// A key pair in a token, opened for signing or for reading its public key.
pub struct Pkcs11Key {
    session: Session,
    private: Option<ObjectHandle>,
    token: String,
    kind: KeyAlgorithm,
    raw_public: Vec<u8>,
    spki_der: Vec<u8>,
    keyid: String,
}

impl std::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("token", &self.token)
            .field("kind", &self.kind)
            .field("keyid", &self.keyid)
            .finish_non_exhaustive()
    }
}

/// What a key in a token signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA P-256 over SHA-256 (CKM_ECDSA on a digest computed here).
    EcdsaP256,
    /// Ed25519 (CKM_EDDSA).
    Ed25519,
    /// RSA PKCS#1 v1.5 with SHA-256 (CKM_SHA256_RSA_PKCS), what the verifier reads an RSA key as.
    RsaPkcs1Sha256,
}

impl KeyAlgorithm {
    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::EcdsaP256 => KeyKind::EcdsaP256.name(),
            KeyAlgorithm::Ed25519 => KeyKind::Ed25519.name(),
            KeyAlgorithm::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
        }
    }
}

impl From<KeyKind> for KeyAlgorithm {
    fn from(kind: KeyKind) -> Self {
        match kind {
            KeyKind::EcdsaP256 => KeyAlgorithm::EcdsaP256,
            KeyKind::Ed25519 => KeyAlgorithm::Ed25519,
        }
    }
}

/// How well a private key is kept in its token (CKA_SENSITIVE, CKA_EXTRACTABLE, and whether
/// C_GetAttributeValue hands out CKA_VALUE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    /// CKA_SENSITIVE: the value is never revealed in plaintext.
    pub sensitive: bool,
    /// CKA_EXTRACTABLE: the key can be wrapped out of the token.
    pub extractable: bool,
    /// The token answered a request for CKA_VALUE with a value.
    pub value_readable: bool,
}

impl Pkcs11Key {
    /// Opens the private key a URI names for signing, logging in with the PIN from the URI,
    /// `$HALLMARK_PKCS11_PIN` (in `env`) or `prompt`.
    pub fn open_signing(uri: &Pkcs11Uri, env: &Env, prompt: PinPrompt<'_>) -> Pk<Self> {
        if let Some(kind) = uri.object_type.filter(|t| *t != ObjectType::Private) {
            return Err(Pkcs11Error::KeyType(format!(
                "type={} names no private key to sign with (use type=private or leave it out)",
                kind.as_str()
            )));
        }
        let (opened, info) = open(uri, env, false)?;
        login(&opened, &info, uri, env, prompt)?;
        let private = one(
            &opened,
            &selection(ObjectClass::PRIVATE_KEY, uri),
            "private key",
            uri,
        )?;
        // Its public half: the public key object with the same CKA_ID (else the same label).
        let attrs = opened
            .session
            .get_attributes(private, &[AttributeType::Id, AttributeType::Label])
            .map_err(|e| Pkcs11Error::from_module(&opened.token, "C_GetAttributeValue", e))?;
        let mut template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY)];
        let id = attrs.iter().find_map(|a| match a {
            Attribute::Id(id) if !id.is_empty() => Some(id.clone()),
            _ => None,
        });
        match id {
            Some(id) => template.push(Attribute::Id(id)),
            None => template.extend(
                attrs
                    .into_iter()
                    .filter(|a| matches!(a, Attribute::Label(_))),
            ),
        }
        let public = one(&opened, &template, "public key", uri)?;
        Self::assemble(opened, public, Some(private))
    }

    /// Opens the public key a URI names, without logging in (public objects are readable in a
    /// public session on common tokens; export the key with `keygen` otherwise).
    pub fn open_public(uri: &Pkcs11Uri, env: &Env) -> Pk<Self> {
        if let Some(kind) = uri
            .object_type
            .filter(|t| !matches!(t, ObjectType::Public | ObjectType::Private))
        {
            return Err(Pkcs11Error::KeyType(format!(
                "type={} names no key pair",
                kind.as_str()
            )));
        }
        let (opened, _) = open(uri, env, false)?;
        let public = one(
            &opened,
            &selection(ObjectClass::PUBLIC_KEY, uri),
            "public key",
            uri,
        )?;
        Self::assemble(opened, public, None)
    }

    fn assemble(opened: Opened, public: ObjectHandle, private: Option<ObjectHandle>) -> Pk<Self> {
        let read = |types: &[AttributeType]| {
            opened
                .session
                .get_attributes(public, types)
                .map_err(|e| Pkcs11Error::from_module(&opened.token, "C_GetAttributeValue", e))
        };
        let missing = |what: &str| {
            Pkcs11Error::KeyType(format!("the public key object has no readable {what}"))
        };
        let key_type = read(&[AttributeType::KeyType])?
            .into_iter()
            .find_map(|a| match a {
                Attribute::KeyType(t) => Some(t),
                _ => None,
            })
            .ok_or_else(|| missing("CKA_KEY_TYPE"))?;
        let (kind, raw_public, spki_der, keyid) = if key_type == KeyType::RSA {
            let (mut modulus, mut exponent) = (None, None);
            for attr in read(&[AttributeType::Modulus, AttributeType::PublicExponent])? {
                match attr {
                    Attribute::Modulus(m) => modulus = Some(m),
                    Attribute::PublicExponent(e) => exponent = Some(e),
                    _ => {}
                }
            }
            let modulus = modulus.ok_or_else(|| missing("CKA_MODULUS"))?;
            let exponent = exponent.ok_or_else(|| missing("CKA_PUBLIC_EXPONENT"))?;
            let significant = modulus.iter().skip_while(|&&b| b == 0).count();
            if !(256..=1024).contains(&significant) {
                return Err(Pkcs11Error::KeyType(format!(
                    "the RSA key on token {:?} has {} bits; verifiers accept 2048 to 8192",
                    opened.token,
                    significant * 8
                )));
            }
            let (spki_der, pkcs1) = spki::rsa_spki_der(&modulus, &exponent);
            // The verifier names RSA keys by the SHA-256 of their SubjectPublicKeyInfo.
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &spki_der);
            let keyid = hallmark_model::hex::encode(digest.as_ref());
            (KeyAlgorithm::RsaPkcs1Sha256, pkcs1, spki_der, keyid)
        } else if key_type == KeyType::EC || key_type == KeyType::EC_EDWARDS {
            let (mut params, mut point) = (None, None);
            for attr in read(&[AttributeType::EcParams, AttributeType::EcPoint])? {
                match attr {
                    Attribute::EcParams(p) => params = Some(p),
                    Attribute::EcPoint(p) => point = Some(p),
                    _ => {}
                }
            }
            let kind = spki::kind_of(&params.ok_or_else(|| missing("CKA_EC_PARAMS"))?)?;
            let raw = spki::raw_point(kind, &point.ok_or_else(|| missing("CKA_EC_POINT"))?)?;
            let spki_der = spki::spki_der(kind, &raw);
            let keyid = super::keyid_of(kind, &spki_der, &raw);
            (KeyAlgorithm::from(kind), raw, spki_der, keyid)
        } else {
            return Err(Pkcs11Error::KeyType(format!(
                "the key on token {:?} is neither EC nor RSA (Hallmark signs with ECDSA P-256, \
                 Ed25519 or RSA)",
                opened.token
            )));
        };
        Ok(Pkcs11Key {
            session: opened.session,
            private,
            token: opened.token,
            kind,
            raw_public,
            spki_der,
            keyid,
        })
    }

    /// The key type.
    pub fn kind(&self) -> KeyAlgorithm {
        self.kind
    }

    /// securesystemslib's default keyid, as for key files.
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The token's label.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// DER SubjectPublicKeyInfo of the public key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// PEM of the public key.
    pub fn public_key_pem(&self) -> String {
        public_key_pem(&self.spki_der)
    }

    /// What the token says about the private key's export (opened for signing only).
    pub fn private_key_protection(&self) -> Pk<Protection> {
        let Some(private) = self.private else {
            return Err(Pkcs11Error::KeyType(
                "opened without its private key".to_owned(),
            ));
        };
        let device = |e| Pkcs11Error::from_module(&self.token, "C_GetAttributeValue", e);
        let attrs = self
            .session
            .get_attributes(
                private,
                &[AttributeType::Sensitive, AttributeType::Extractable],
            )
            .map_err(device)?;
        let flag = |wanted: AttributeType| {
            attrs.iter().find_map(|a| match (a, wanted) {
                (Attribute::Sensitive(v), AttributeType::Sensitive) => Some(*v),
                (Attribute::Extractable(v), AttributeType::Extractable) => Some(*v),
                _ => None,
            })
        };
        let value = self
            .session
            .get_attribute_info(private, &[AttributeType::Value])
            .map_err(device)?;
        Ok(Protection {
            // Unknown counts against the key.
            sensitive: flag(AttributeType::Sensitive).unwrap_or(false),
            extractable: flag(AttributeType::Extractable).unwrap_or(true),
            value_readable: matches!(value.first(), Some(AttributeInfo::Available(_))),
        })
    }

    /// Signs `message` in the token: DER ECDSA-SHA256 or Ed25519, checked against the public
    /// key before it is returned.
    pub fn sign(&self, message: &[u8]) -> Pk<Vec<u8>> {
        let Some(private) = self.private else {
            return Err(Pkcs11Error::KeyType(
                "opened without its private key".to_owned(),
            ));
        };
        let device = |e| Pkcs11Error::from_module(&self.token, "C_Sign", e);
        let signature = match self.kind {
            KeyAlgorithm::EcdsaP256 => {
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
                let raw = self
                    .session
                    .sign(&Mechanism::Ecdsa, private, digest.as_ref())
                    .map_err(device)?;
                spki::ecdsa_der(&raw)?
            }
            KeyAlgorithm::Ed25519 => {
                let params = EddsaParams::new(EddsaSignatureScheme::Pure);
                self.session
                    .sign(&Mechanism::Eddsa(params), private, message)
                    .map_err(device)?
            }
            KeyAlgorithm::RsaPkcs1Sha256 => self
                .session
                .sign(&Mechanism::Sha256RsaPkcs, private, message)
                .map_err(device)?,
        };
        let algorithm: &'static dyn aws_lc_rs::signature::VerificationAlgorithm = match self.kind {
            KeyAlgorithm::EcdsaP256 => &ECDSA_P256_SHA256_ASN1,
            KeyAlgorithm::Ed25519 => &ED25519,
            KeyAlgorithm::RsaPkcs1Sha256 => &RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(algorithm, &self.raw_public)
            .verify(message, &signature)
            .map_err(|_| Pkcs11Error::Device {
                token: self.token.clone(),
                operation: "C_Sign",
                message: "the signature does not verify with the token's public key object; \
                          the private and public objects do not belong together"
                    .to_owned(),
            })?;
        Ok(signature)
    }
}

impl Signer for Pkcs11Key {
    fn sign_dsse(&self, payload_type: &str, payload: &[u8]) -> Result<Bundle> {
        let pae = hallmark_model::dsse::pae(payload_type, payload);
        let sig = self.sign(&pae).map_err(Error::Pkcs11)?;
        Ok(key_signed_bundle(&self.keyid, payload_type, payload, sig))
    }

    fn identity(&self) -> String {
        format!(
            "key {} ({}, in PKCS#11 token {:?})",
            self.keyid,
            self.kind.name(),
            self.token
        )
    }

    fn public_key_pem(&self) -> Option<String> {
        Some(Pkcs11Key::public_key_pem(self))
    }
}
