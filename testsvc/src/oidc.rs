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

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity token rejected: {0}")]
pub struct TokenError(pub String);

/// Verifies an ES256 ID token against the issuers Fulcio trusts (`iss` → JWKS), checking the
/// signature, `aud`, `exp` and `nbf`. Returns the claims.
pub fn verify_token(
    token: &str,
    issuers: &[(String, Value)],
    audience: &str,
    now: i64,
) -> Result<Value, TokenError> {
    let bad = |m: &str| TokenError(m.to_owned());
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a JWT"));
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| bad("JWT part is not base64url"))
    };
    let header: Value =
        serde_json::from_slice(&decode(h)?).map_err(|_| bad("JWT header is not JSON"))?;
    let claims: Value =
        serde_json::from_slice(&decode(p)?).map_err(|_| bad("JWT claims are not JSON"))?;
    if header["alg"] != "ES256" {
        return Err(bad("only ES256 tokens are accepted"));
    }
    let iss = claims["iss"].as_str().ok_or_else(|| bad("no iss"))?;
    let (_, jwks) = issuers
        .iter()
        .find(|(url, _)| url == iss)
        .ok_or_else(|| TokenError(format!("untrusted issuer {iss:?}")))?;
    let kid = header["kid"].as_str().unwrap_or("");
    let key = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["kid"].as_str().unwrap_or("") == kid)
        .ok_or_else(|| bad("no JWKS key for the token's kid"))?;
    let (x, y) = (
        decode(key["x"].as_str().unwrap_or(""))?,
        decode(key["y"].as_str().unwrap_or(""))?,
    );
    let mut point = vec![4u8];
    point.extend(x);
    point.extend(y);
    let signature = decode(s)?;
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
        &point,
    )
    .verify(format!("{h}.{p}").as_bytes(), &signature)
    .map_err(|_| bad("signature does not verify"))?;
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == audience,
        Value::Array(list) => list.iter().any(|a| a == audience),
        _ => false,
    };
    if !aud_ok {
        return Err(TokenError(format!("audience is not {audience:?}")));
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Err(bad("expired"));
    }
    if claims["nbf"].as_i64().is_some_and(|nbf| nbf > now + 60) {
        return Err(bad("not valid yet"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_forgeries_do_not() {
        let issuer = Issuer::new("http://127.0.0.1:1/oidc").unwrap();
        let trusted = vec![(issuer.url().to_owned(), issuer.jwks())];
        let token = issuer
            .token(&json!({"sub": "repo:acme/app", "aud": "sigstore", "exp": 2000}))
            .unwrap();
        assert_eq!(
            verify_token(&token, &trusted, "sigstore", 1000).unwrap()["sub"],
            "repo:acme/app"
        );
        assert!(
            verify_token(&token, &trusted, "sigstore", 2001)
                .unwrap_err()
                .0
                .contains("expired")
        );
        assert!(verify_token(&token, &trusted, "other", 1000).is_err());
        let stranger = Issuer::new("http://127.0.0.1:2/evil").unwrap();
        let forged = stranger
            .token(&json!({"sub": "x", "aud": "sigstore", "exp": 2000}))
            .unwrap();
        assert!(
            verify_token(&forged, &trusted, "sigstore", 1000)
                .unwrap_err()
                .0
                .contains("untrusted issuer")
        );
        // Same issuer URL, another key: the signature fails.
        let impostor = Issuer::new(issuer.url()).unwrap();
        let fake = impostor
            .token(&json!({"sub": "x", "aud": "sigstore", "exp": 2000}))
            .unwrap();
        assert!(verify_token(&fake, &trusted, "sigstore", 1000).is_err());
    }
}
