//! Public-key identifiers that other in-toto and Sigstore tools agree on.
//!
//! Hallmark names a key by securesystemslib's default keyid: the SHA-256 of the canonical JSON
//! `{"keytype":T,"keyval":{"public":V},"scheme":S}`. in-toto layouts and securesystemslib's DSSE
//! verifier then recognise our signatures without extra configuration. This module builds the
//! preimage; callers hash it with their crypto provider.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The key types Hallmark signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// ECDSA on NIST P-256 with SHA-256.
    EcdsaP256,
    /// Ed25519.
    Ed25519,
}

impl KeyKind {
    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::EcdsaP256 => "ecdsa-p256",
            KeyKind::Ed25519 => "ed25519",
        }
    }
}

/// PEM (`PUBLIC KEY`, LF line endings, 64 columns, trailing newline) of a DER SubjectPublicKeyInfo.
pub fn public_key_pem(spki_der: &[u8]) -> String {
    pem_encode("PUBLIC KEY", spki_der)
}

/// PEM-encodes DER bytes with LF line endings and 64-column lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The canonical JSON whose SHA-256 (lowercase hex) is securesystemslib's default keyid.
/// `raw_public` is the raw 32-byte Ed25519 key; it is ignored for ECDSA, which uses the PEM.
pub fn keyid_preimage(kind: KeyKind, spki_der: &[u8], raw_public: &[u8]) -> String {
    // PEM and hex contain neither `"` nor `\`, so no escaping is needed for canonical JSON.
    let (keytype, scheme, public) = match kind {
        KeyKind::EcdsaP256 => ("ecdsa", "ecdsa-sha2-nistp256", public_key_pem(spki_der)),
        KeyKind::Ed25519 => ("ed25519", "ed25519", crate::hex::encode(raw_public)),
    };
    format!(r#"{{"keytype":"{keytype}","keyval":{{"public":"{public}"}},"scheme":"{scheme}"}}"#)
}
