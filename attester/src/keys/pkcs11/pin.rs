//! Where a token's user PIN comes from, in order: the URI's `pin-value`, the URI's `pin-source`
//! (a file), `$HALLMARK_PKCS11_PIN`, then the caller's prompt (a terminal). The PIN is held as
//! a zeroizing secret and never formatted.

use std::io::Read;
use std::path::{Path, PathBuf};

use cryptoki::types::AuthPin;

use super::error::Pkcs11Error;
use super::uri::{Pkcs11Uri, UriPin};
use crate::ci::Env;

/// The environment variable holding the user PIN.
pub const PIN_ENV: &str = "HALLMARK_PKCS11_PIN";

/// Largest PIN file read, in bytes.
const MAX_PIN_FILE_BYTES: u64 = 1024;

/// Asks for a PIN (on a terminal); `None` when no one can be asked.
pub type PinPrompt<'a> = &'a dyn Fn(&str) -> Option<AuthPin>;

/// The PIN to log in with, if any source has one; `prompt` is asked last, with the token label.
pub(crate) fn resolve(
    uri: &Pkcs11Uri,
    env: &Env,
    token: &str,
    prompt: PinPrompt<'_>,
) -> Result<Option<AuthPin>, Pkcs11Error> {
    match &uri.pin {
        Some(UriPin::Value(pin)) => return Ok(Some(pin.clone())),
        Some(UriPin::Source(source)) => return read_source(source).map(Some),
        None => {}
    }
    if let Some(pin) = env.get(PIN_ENV).filter(|p| !p.is_empty()) {
        return Ok(Some(AuthPin::from(pin.clone())));
    }
    Ok(prompt(token))
}

/// The file a `pin-source` names: `file:` URIs (`file:/p`, `file:///p`, `file://localhost/p`)
/// or a plain path. Programs (`|cmd`) are refused: running one is not a key lookup.
pub fn source_path(source: &str) -> Result<PathBuf, Pkcs11Error> {
    let bad = |message: &str| Pkcs11Error::PinSource {
        path: source.to_owned(),
        message: message.to_owned(),
    };
    if source.starts_with('|') {
        return Err(bad(
            "running a program for the PIN is not supported; use a file",
        ));
    }
    let path = match source.strip_prefix("file:") {
        Some(rest) => match rest.strip_prefix("//") {
            Some(authority_path) => {
                let (host, path) = authority_path
                    .split_at(authority_path.find('/').unwrap_or(authority_path.len()));
                if !(host.is_empty() || host == "localhost") {
                    return Err(bad("only local files can hold the PIN"));
                }
                path
            }
            None => rest,
        },
        None if source.contains("://") => return Err(bad("only file: sources are supported")),
        None => source,
    };
    if path.is_empty() {
        return Err(bad("no file named"));
    }
    Ok(PathBuf::from(path))
}

fn read_source(source: &str) -> Result<AuthPin, Pkcs11Error> {
    let path = source_path(source)?;
    read_file(&path)
}

/// Reads a PIN file: at most 1 KiB, one trailing line break dropped, never empty.
fn read_file(path: &Path) -> Result<AuthPin, Pkcs11Error> {
    let fail = |message: String| Pkcs11Error::PinSource {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PIN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_PIN_FILE_BYTES {
        return Err(fail(format!("larger than {MAX_PIN_FILE_BYTES} bytes")));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".to_owned()))?;
    for ending in ["\r\n", "\n"] {
        if text.ends_with(ending) {
            text.truncate(text.len() - ending.len());
            break;
        }
    }
    if text.is_empty() {
        return Err(fail("the file is empty".to_owned()));
    }
    Ok(AuthPin::from(text))
}

#[cfg(test)]
mod tests {
    use cryptoki::types::AuthPin;
    use secrecy::ExposeSecret;

    use super::*;

    fn no_prompt(_: &str) -> Option<AuthPin> {
        None
    }

    fn pin_of(uri: &str, env: &[(&str, &str)]) -> Result<Option<String>, Pkcs11Error> {
        let uri = Pkcs11Uri::parse(uri)?;
        let env: Env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(resolve(&uri, &env, "t", &no_prompt)?.map(|p| p.expose_secret().to_owned()))
    }

    #[test]
    fn sources_in_order_value_file_env_prompt() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin");
        std::fs::write(&file, "from-file\n").unwrap();
        let env = [(PIN_ENV, "from-env")];
        assert_eq!(
            pin_of("pkcs11:token=t?pin-value=from%2Duri", &env)
                .unwrap()
                .as_deref(),
            Some("from-uri")
        );
        let by_file = format!("pkcs11:token=t?pin-source=file:{}", file.display());
        assert_eq!(
            pin_of(&by_file, &env).unwrap().as_deref(),
            Some("from-file")
        );
        let by_file = format!("pkcs11:token=t?pin-source=file://{}", file.display());
        assert_eq!(pin_of(&by_file, &[]).unwrap().as_deref(), Some("from-file"));
        assert_eq!(
            pin_of("pkcs11:token=t", &env).unwrap().as_deref(),
            Some("from-env")
        );
        assert_eq!(pin_of("pkcs11:token=t", &[(PIN_ENV, "")]).unwrap(), None);
        let asked = |token: &str| Some(AuthPin::from(format!("asked-for-{token}")));
        let uri = Pkcs11Uri::parse("pkcs11:token=t").unwrap();
        let pin = resolve(&uri, &Env::new(), "plant", &asked)
            .unwrap()
            .unwrap();
        assert_eq!(pin.expose_secret(), "asked-for-plant");
    }

    #[test]
    fn bad_pin_sources_are_refused_without_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, "9".repeat(2000)).unwrap();
        for source in [
            format!("file:{}", empty.display()),
            format!("file:{}", big.display()),
            format!("file:{}", dir.path().join("missing").display()),
            "file://host.example/pin".to_owned(),
            "https://host.example/pin".to_owned(),
            "|/usr/bin/ask-pin".to_owned(),
        ] {
            let err = pin_of(&format!("pkcs11:token=t?pin-source={source}"), &[]).unwrap_err();
            assert_eq!(err.code(), "pkcs11.pin-source", "{source}: {err}");
            assert!(!err.to_string().contains("9999"), "{err}");
        }
    }
}
