//! A test OIDC issuer: ES256-signed ID tokens and the JWKS that verifies them.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::log::LogError;

/// The issuer.
pub struct Issuer {
    key: EcdsaKeyPair,
    kid: String,
    url: String,
}

impl Issuer {
    /// A fresh issuer at `url` (its `iss`).
    pub fn new(url: &str) -> Result<Self, LogError> {
        let pkcs8 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map_err(|e| LogError::Crypto(e.to_string()))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|e| LogError::Crypto(e.to_string()))?;
        Ok(Issuer {
            key,
            kid: "test-key-1".to_owned(),
            url: url.to_owned(),
        })
    }

    /// The issuer URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Value {
        // Uncompressed point: 0x04 || X(32) || Y(32).
        let point = self.key.public_key().as_ref();
        let (x, y) = point
            .get(1..)
            .map(|xy| xy.split_at(32))
            .unwrap_or((&[], &[]));
        json!({"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": self.kid,
                         "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)}]})
    }

    /// The OpenID discovery document.
    pub fn discovery(&self) -> Value {
        json!({"issuer": self.url, "jwks_uri": format!("{}/jwks", self.url), "id_token_signing_alg_values_supported": ["ES256"]})
    }

    /// Mints a token with `claims` (plus `iss` and `kid`); callers set `sub`, `aud`, `exp`, ...
    pub fn token(&self, claims: &Value) -> Result<String, LogError> {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let mut claims = claims.clone();
        if let Some(map) = claims.as_object_mut() {
            map.entry("iss")
                .or_insert_with(|| Value::String(self.url.clone()));
        }
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|e| LogError::Crypto(e.to_string()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig.as_ref())
        ))
    }
}
