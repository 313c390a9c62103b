//! cosign's encrypted private-key format (go-securesystemslib `encrypted`): PEM whose body is
//! JSON `{"kdf":{scrypt params, salt}, "cipher":{"nacl/secretbox", nonce}, "ciphertext"}`; the
//! plaintext is a PKCS#8 DER key. Hallmark writes the same format, so cosign reads our keys too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// PEM label cosign v2 writes, and Hallmark too.
const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// PEM label of cosign v1 keys.
const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// The scrypt parameter sets go-securesystemslib accepts (legacy, standard, OWASP), as
/// `(N, r, p)`. Anything else is refused: a hostile N could exhaust memory.
const ACCEPTED_PARAMS: [(u64, u32, u32); 3] = [(1 << 15, 8, 1), (1 << 16, 8, 1), (1 << 17, 8, 1)];
/// What Hallmark writes: the "standard" set, as current cosign does.
const WRITE_PARAMS: (u64, u32, u32) = (1 << 16, 8, 1);

#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// True for the PEM labels of cosign-encrypted keys.
pub fn is_encrypted(label: &str) -> bool {
    label == SIGSTORE_LABEL || label == COSIGN_LABEL
}

fn derive_key(password: &[u8], salt: &[u8], (n, r, p): (u64, u32, u32)) -> Result<[u8; 32]> {
    if !ACCEPTED_PARAMS.contains(&(n, r, p)) {
        return Err(Error::Key(format!(
            "unsupported scrypt parameters N={n} r={r} p={p}"
        )));
    }
    let log_n = u8::try_from(n.trailing_zeros())
        .map_err(|_| Error::Key("scrypt N out of range".to_owned()))?;
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| Error::Key(format!("scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key)
        .map_err(|e| Error::Key(format!("scrypt: {e}")))?;
    Ok(key)
}

fn decode(field: &str, text: &str) -> Result<Vec<u8>> {
    STANDARD
        .decode(text)
        .map_err(|e| Error::Key(format!("encrypted key field {field}: {e}")))
}

/// Decrypts the JSON body of an encrypted key PEM into PKCS#8 DER.
pub(super) fn decrypt(body: &[u8], password: &[u8]) -> Result<Vec<u8>> {
    let sealed: Sealed = serde_json::from_slice(body)
        .map_err(|e| Error::Key(format!("encrypted key is not cosign's JSON format: {e}")))?;
    if sealed.kdf.name != "scrypt" || sealed.cipher.name != "nacl/secretbox" {
        return Err(Error::Key(format!(
            "unsupported key encryption {}/{}",
            sealed.kdf.name, sealed.cipher.name
        )));
    }
    let salt = decode("kdf.salt", &sealed.kdf.salt)?;
    let nonce = decode("cipher.nonce", &sealed.cipher.nonce)?;
    let ciphertext = decode("ciphertext", &sealed.ciphertext)?;
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| Error::Key("encrypted key nonce must be 24 bytes".to_owned()))?;
    let p = &sealed.kdf.params;
    let key = derive_key(password, &salt, (p.n, p.r, p.p))?;
    XSalsa20Poly1305::new(&key.into())
        .decrypt(&nonce.into(), ciphertext.as_slice())
        .map_err(|_| Error::WrongPassword)
}

/// Encrypts PKCS#8 DER into a cosign-compatible `ENCRYPTED SIGSTORE PRIVATE KEY` PEM.
pub fn encrypt_pkcs8(pkcs8: &[u8], password: &[u8]) -> Result<String> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|e| Error::Key(format!("random salt: {e}")))?;
    aws_lc_rs::rand::fill(&mut nonce).map_err(|e| Error::Key(format!("random nonce: {e}")))?;
    let key = derive_key(password, &salt, WRITE_PARAMS)?;
    let ciphertext = XSalsa20Poly1305::new(&key.into())
        .encrypt(&nonce.into(), pkcs8)
        .map_err(|_| Error::Key("encryption failed".to_owned()))?;
    let (n, r, p) = WRITE_PARAMS;
    let sealed = Sealed {
        kdf: Kdf {
            name: "scrypt".into(),
            params: KdfParams { n, r, p },
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(ciphertext),
    };
    let json = serde_json::to_vec(&sealed).map_err(|e| Error::Key(e.to_string()))?;
    Ok(hallmark_model::keyid::pem_encode(SIGSTORE_LABEL, &json))
}

#[cfg(test)]
mod tests {
    use super::super::SigningKey;
    use crate::Error;

    /// `pemsigstorekey` from cosign's pkg/cosign/keys_test.go (Apache-2.0), password "hello".
    const COSIGN_SIGSTORE_KEY: &str = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiI3T3VGd2VsbWZZNXVId2NoaURSc210anNwZ2ZlZjFG
Mk5lOGFDTjVLYVpZPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJQNHk4OGhCb3ZTa09MbXN0bFVBaGJwdDJ0K2xTNUxQSCJ9LCJj
aXBoZXJ0ZXh0IjoiMnB1QzdyZldJOWh3bnJlQ2s4aUZDRlVwQlRrSzRJNlIvbFBF
cnBDekpXUGpJWXl4eGVIL1A2VW52cFJHdVhla1NNb3JMdGhLamdoQ1JlNy82NDVH
QWtoVm1LRC92eEF0S2EvbE1abENSQ3FlekJGUFd1dzNpeFRtZ2xhb2J1ZFVSbUVs
bmNGOGlZbzBTMVl6Y1ZOMVFwY2J2c0dNcUlYRzVlbmdteGp5dCtBcXlyZTF0Q0Y0
V01tU1BlaEljNlBqd2h1Q2xHaVpJUWRvTGc9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----
";
    /// Its public key, as cosign derives it.
    const COSIGN_SIGSTORE_PUB: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7z9gA/tqa9iHt/f9F3ulyVi4lwqULfHWfhG2mK4eyJ8LDcLstb+VVhxj3pkMjc3fNo+sSfiIY2NLR7c+DG1V4w==";

    #[test]
    fn imports_a_real_cosign_key() {
        let key = SigningKey::from_pem(COSIGN_SIGSTORE_KEY.as_bytes(), Some(b"hello")).unwrap();
        let pem = key.public_key_pem();
        assert_eq!(
            pem.lines().skip(1).take(2).collect::<String>(),
            COSIGN_SIGSTORE_PUB
        );
    }

    #[test]
    fn wrong_password_and_missing_password_are_refused() {
        assert!(matches!(
            SigningKey::from_pem(COSIGN_SIGSTORE_KEY.as_bytes(), Some(b"nope")),
            Err(Error::WrongPassword)
        ));
        assert!(matches!(
            SigningKey::from_pem(COSIGN_SIGSTORE_KEY.as_bytes(), None),
            Err(Error::Key(_))
        ));
    }

    #[test]
    fn hostile_scrypt_parameters_are_refused() {
        let body = br#"{"kdf":{"name":"scrypt","params":{"N":1099511627776,"r":8,"p":1},"salt":"AA=="},"cipher":{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"ciphertext":"AA=="}"#;
        let err = super::decrypt(body, b"x").unwrap_err();
        assert!(
            err.to_string().contains("unsupported scrypt parameters"),
            "{err}"
        );
    }
}
