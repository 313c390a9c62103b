//! Keys that never leave a hardware module: signing through PKCS#11 (HSMs, smart cards,
//! SoftHSM2), keys named by RFC 7512 `pkcs11:` URIs. docs/pkcs11.md describes the choices.
//!
//! A [`Pkcs11Key`] is a logged-in session with a private key object and the public key read from
//! the token's public key object; it implements [`Signer`] like a key file does, and its keyid
//! is computed the same way, so `hallmark verify --key exported.pub` cannot tell the two apart.
//! ECDSA P-256 hashes in software (SHA-256) and signs the digest with CKM_ECDSA; Ed25519 signs
//! the whole message with CKM_EDDSA. Every signature is checked against the public key before it
//! is used, so a token whose public and private objects do not belong together is caught here.

mod error;
mod generate;
mod module;
mod pin;
mod session;
mod spki;
mod uri;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, ED25519, UnparsedPublicKey};
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
    kind: KeyKind,
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
        let attrs = opened
            .session
            .get_attributes(
                public,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                ],
            )
            .map_err(|e| Pkcs11Error::from_module(&opened.token, "C_GetAttributeValue", e))?;
        let (mut key_type, mut params, mut point) = (None, None, None);
        for attr in attrs {
            match attr {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                _ => {}
            }
        }
        if !matches!(key_type, Some(t) if t == KeyType::EC || t == KeyType::EC_EDWARDS) {
            return Err(Pkcs11Error::KeyType(format!(
                "the key on token {:?} is not an EC key (Hallmark signs with ECDSA P-256 or \
                 Ed25519)",
                opened.token
            )));
        }
        let missing = |what: &str| {
            Pkcs11Error::KeyType(format!("the public key object has no readable {what}"))
        };
        let kind = spki::kind_of(&params.ok_or_else(|| missing("CKA_EC_PARAMS"))?)?;
        let raw_public = spki::raw_point(kind, &point.ok_or_else(|| missing("CKA_EC_POINT"))?)?;
        let spki_der = spki::spki_der(kind, &raw_public);
        let keyid = super::keyid_of(kind, &spki_der, &raw_public);
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
    pub fn kind(&self) -> KeyKind {
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
            KeyKind::EcdsaP256 => {
                let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
                let raw = self
                    .session
                    .sign(&Mechanism::Ecdsa, private, digest.as_ref())
                    .map_err(device)?;
                spki::ecdsa_der(&raw)?
            }
            KeyKind::Ed25519 => {
                let params = EddsaParams::new(EddsaSignatureScheme::Pure);
                self.session
                    .sign(&Mechanism::Eddsa(params), private, message)
                    .map_err(device)?
            }
        };
        let algorithm: &'static dyn aws_lc_rs::signature::VerificationAlgorithm = match self.kind {
            KeyKind::EcdsaP256 => &ECDSA_P256_SHA256_ASN1,
            KeyKind::Ed25519 => &ED25519,
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
}
