//! Key generation inside the token: a sensitive, never-extractable private key and its public
//! key, checked after the token made them.

use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;

use super::error::Pkcs11Error;
use super::pin::PinPrompt;
use super::session::{Opened, find, login, open};
use super::uri::Pkcs11Uri;
use super::{KeyAlgorithm, Pk, Pkcs11Key, spki};

/// The size of RSA keys made in a token (NIST SP 800-57: 128-bit security).
const RSA_BITS: u64 = 3072;
use crate::ci::Env;

impl Pkcs11Key {
    /// Generates a key pair inside the token: the private key is a token object, sensitive and
    /// never extractable, and the token's answer is checked. The URI must name the new key with
    /// `object=`; a key already holding that label (or the URI's `id`) is never replaced.
    pub fn generate(
        uri: &Pkcs11Uri,
        kind: KeyAlgorithm,
        env: &Env,
        prompt: PinPrompt<'_>,
    ) -> Pk<Self> {
        let Some(label) = uri.object.clone() else {
            return Err(Pkcs11Error::Uri(
                "name the new key with object=LABEL".to_owned(),
            ));
        };
        if uri.object_type.is_some() {
            return Err(Pkcs11Error::Uri(
                "type= has no meaning for a new key pair; leave it out".to_owned(),
            ));
        }
        let (opened, info) = open(uri, env, true)?;
        login(&opened, &info, uri, env, prompt)?;
        let by_label = [Attribute::Label(label.as_bytes().to_vec())];
        let mut taken = !find(&opened, &by_label)?.is_empty();
        if let Some(id) = &uri.id {
            taken |= !find(&opened, &[Attribute::Id(id.clone())])?.is_empty();
        }
        if taken {
            return Err(exists(&opened, uri));
        }
        let id = match &uri.id {
            Some(id) => id.clone(),
            None => random_id()?,
        };
        let (mechanism, key_attributes) = match kind {
            KeyAlgorithm::EcdsaP256 => (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(spki::P256_PARAMS.to_vec())],
            ),
            KeyAlgorithm::Ed25519 => (
                Mechanism::EccEdwardsKeyPairGen,
                vec![Attribute::EcParams(spki::ED25519_PARAMS.to_vec())],
            ),
            KeyAlgorithm::RsaPkcs1Sha256 => (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(RSA_BITS.into()),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                ],
            ),
        };
        let common = [
            Attribute::Token(true),
            Attribute::Label(label.into_bytes()),
            Attribute::Id(id),
        ];
        let public_template: Vec<Attribute> = common
            .iter()
            .cloned()
            .chain([Attribute::Private(false), Attribute::Verify(true)])
            .chain(key_attributes)
            .collect();
        let private_template: Vec<Attribute> = common
            .iter()
            .cloned()
            .chain([
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
            ])
            .collect();
        let (public, private) = opened
            .session
            .generate_key_pair(&mechanism, &public_template, &private_template)
            .map_err(|e| Pkcs11Error::from_module(&opened.token, "C_GenerateKeyPair", e))?;
        let key = Self::assemble(opened, public, Some(private))?;
        let kept = key.private_key_protection()?;
        if !kept.sensitive || kept.extractable || kept.value_readable {
            // A token that ignores the template must not keep a key it would give away.
            let _ = key.session.destroy_object(private);
            let _ = key.session.destroy_object(public);
            return Err(Pkcs11Error::KeyType(format!(
                "token {:?} made the private key exportable ({kept:?}); it was deleted",
                key.token
            )));
        }
        Ok(key)
    }
}

fn exists(opened: &Opened, uri: &Pkcs11Uri) -> Pkcs11Error {
    Pkcs11Error::ObjectExists {
        token: opened.token.clone(),
        uri: uri.to_string(),
    }
}

/// A fresh 16-byte CKA_ID linking the new private and public objects.
fn random_id() -> Pk<Vec<u8>> {
    use aws_lc_rs::rand::SecureRandom;
    let mut id = vec![0u8; 16];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut id)
        .map_err(|_| Pkcs11Error::KeyType("no randomness for the key id".to_owned()))?;
    Ok(id)
}
