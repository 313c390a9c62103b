//! The [`Signer`] trait and the key-based signer. Keyless (Fulcio/Rekor) signers implement the
//! same trait in `hallmark-remote`.

use hallmark_model::bundle::Bundle;
use hallmark_model::dsse::{Envelope, Signature, pae};
use hallmark_model::statement::{PAYLOAD_TYPE, Statement};

use crate::keys::SigningKey;
use crate::{Error, Result};

/// Something that turns a payload into a signed Sigstore bundle.
pub trait Signer {
    /// Signs `payload` as a DSSE envelope of `payload_type` and wraps it in a bundle with the
    /// material needed to verify it.
    fn sign_dsse(&self, payload_type: &str, payload: &[u8]) -> Result<Bundle>;

    /// Who signs, for messages: a key id or a certificate identity.
    fn identity(&self) -> String;

    /// A claim of the identity token a keyless signer is certified for (`job_workflow_ref`, …);
    /// `None` for key signers. Read, not verified, here: Fulcio verifies the token and writes
    /// these claims into the certificate the signature is bound to.
    fn oidc_claim(&self, _name: &str) -> Option<String> {
        None
    }

    /// The public key (PEM) of a key signer, so a command can check what it signed before
    /// (`hallmark record deployment` reads a target's history); `None` for keyless signers.
    fn public_key_pem(&self) -> Option<String> {
        None
    }

    /// Signs an in-toto statement.
    fn sign_statement(&self, statement: &Statement) -> Result<Bundle> {
        let payload = serde_json::to_vec(statement)
            .map_err(|e| Error::Signing(format!("serializing the statement: {e}")))?;
        self.sign_dsse(PAYLOAD_TYPE, &payload)
    }
}

/// Seeds aws-lc's random generator, which it does from CPU jitter (tens of ms of CPU) on first
/// use: a caller that will sign later can run this on a thread of its own while it does other
/// work, so the signature does not wait for it.
pub fn seed_random() {
    let _ = aws_lc_rs::rand::fill(&mut [0u8; 1]);
}

/// Signs with a private key; bundles carry the key's id as a public-key hint.
#[derive(Debug)]
pub struct KeySigner {
    key: SigningKey,
}

impl KeySigner {
    /// Wraps a key.
    pub fn new(key: SigningKey) -> Self {
        KeySigner { key }
    }

    /// The key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }
}

impl Signer for KeySigner {
    fn sign_dsse(&self, payload_type: &str, payload: &[u8]) -> Result<Bundle> {
        let sig = self.key.sign(&pae(payload_type, payload))?;
        Ok(key_signed_bundle(
            self.key.keyid(),
            payload_type,
            payload,
            sig,
        ))
    }

    fn identity(&self) -> String {
        format!("key {} ({})", self.key.keyid(), self.key.kind().name())
    }

    fn public_key_pem(&self) -> Option<String> {
        Some(self.key.public_key_pem())
    }
}

/// The bundle of a key signature `sig` over the DSSE PAE of `payload`: the envelope with one
/// signature, and the keyid as the public-key hint. Key files and PKCS#11 tokens share it.
pub fn key_signed_bundle(keyid: &str, payload_type: &str, payload: &[u8], sig: Vec<u8>) -> Bundle {
    let envelope = Envelope {
        payload: payload.to_vec(),
        payload_type: payload_type.to_owned(),
        signatures: vec![Signature {
            keyid: keyid.to_owned(),
            sig,
        }],
    };
    Bundle::for_key_signed(envelope, keyid)
}
