//! `--key pkcs11:…`: signing with, verifying against and generating keys in PKCS#11 tokens
//! (docs/pkcs11.md). Errors carry their stable `pkcs11.*` code; no PIN is ever printed.

use std::io::IsTerminal;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Result;
use hallmark_attester::ci::process_env;
use hallmark_attester::keys::pkcs11::{
    self, AuthPin, KeyAlgorithm, Pkcs11Error, Pkcs11Key, Pkcs11Uri,
};
use hallmark_verifier::keys::TrustedKey;

use crate::coded::coded;

/// True when a `--key` value is a `pkcs11:` URI rather than a file.
pub fn is_uri(value: &Path) -> bool {
    value.to_str().is_some_and(Pkcs11Uri::is_pkcs11)
}

fn text(value: &Path) -> &str {
    value.to_str().unwrap_or_default()
}

/// The error with its code first, as every coded error prints.
fn explain(error: Pkcs11Error) -> anyhow::Error {
    coded(error.code(), error.to_string())
}

/// Parses the URI and warns about what it carries: a PIN on a command line, a PIN file others
/// can read, query attributes ignored.
fn parse(value: &Path) -> Result<Pkcs11Uri> {
    let uri = Pkcs11Uri::parse(text(value)).map_err(explain)?;
    if uri.has_pin_value() {
        eprintln!(
            "hallmark: warning: pin-value puts the PIN in the command line, where other users \
             of this machine can read it; prefer ${} or pin-source=file:…",
            pkcs11::PIN_ENV
        );
    }
    if let Some(path) = uri.pin_source().and_then(|s| pkcs11::source_path(s).ok()) {
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode());
        if mode.is_ok_and(|m| m & 0o077 != 0) {
            eprintln!(
                "hallmark: warning: the PIN file {} is readable by other users (chmod 600 it)",
                path.display()
            );
        }
    }
    for name in &uri.ignored {
        eprintln!("hallmark: warning: {name} in the PKCS#11 URI is not understood; ignored");
    }
    Ok(uri)
}

/// Asks for the PIN on the terminal, only when there is one (never in CI or a pipe).
fn prompt(token: &str) -> Option<AuthPin> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    rpassword::prompt_password(format!("User PIN for token {token:?}: "))
        .ok()
        .filter(|p| !p.is_empty())
        .map(AuthPin::from)
}

/// A signer for the private key the URI names.
pub fn signer(value: &Path) -> Result<Pkcs11Key> {
    let uri = parse(value)?;
    Pkcs11Key::open_signing(&uri, &process_env(), &prompt).map_err(explain)
}

/// The public key the URI names, read from the token, as a trusted key.
pub fn trusted_key(value: &Path) -> Result<TrustedKey> {
    let uri = parse(value)?;
    let key = Pkcs11Key::open_public(&uri, &process_env()).map_err(explain)?;
    Ok(TrustedKey::from_spki_der(
        key.public_key_der(),
        &uri.to_string(),
    )?)
}

/// Generates a key pair in the token and returns it (the caller writes the public key) with
/// the URI to sign with, which never carries a PIN.
pub fn generate(value: &Path, kind: KeyAlgorithm) -> Result<(Pkcs11Key, String)> {
    let uri = parse(value)?;
    let key = Pkcs11Key::generate(&uri, kind, &process_env(), &prompt).map_err(explain)?;
    Ok((key, uri.to_string()))
}

/// The stable code of one error of a chain, when a token gave it (while signing, say).
pub fn code_of(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    match error.downcast_ref() {
        Some(hallmark_attester::Error::Pkcs11(p)) => Some(p.code()),
        _ => error.downcast_ref::<Pkcs11Error>().map(Pkcs11Error::code),
    }
}
