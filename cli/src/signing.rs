//! Signing options shared by `run` and `attest`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::KeySigner;
use hallmark_model::limits::MAX_KEY_BYTES;

use crate::password;

/// How to sign.
#[derive(Debug, Clone, clap::Args)]
pub struct SignArgs {
    /// Private key to sign with: PKCS#8 PEM (ECDSA P-256 or Ed25519), SEC1 EC PEM, or a cosign
    /// encrypted key (password from $HALLMARK_PASSWORD / $COSIGN_PASSWORD, or a prompt).
    #[arg(long, value_name = "FILE", env = "HALLMARK_KEY")]
    pub key: Option<PathBuf>,
}

/// Reads a whole file, refusing more than `limit` bytes.
pub fn read_limited(path: &std::path::Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{} is larger than the {limit}-byte limit", path.display());
    }
    Ok(bytes)
}

/// Loads a private key, asking for a password only when the key is encrypted.
pub fn load_key(path: &std::path::Path) -> Result<SigningKey> {
    let text = read_limited(path, MAX_KEY_BYTES)?;
    let pw = if hallmark_attester::keys::needs_password(&text) {
        Some(password::read(&format!(
            "Password for {}: ",
            path.display()
        ))?)
    } else {
        None
    };
    SigningKey::from_pem(&text, pw.as_deref().map(str::as_bytes))
        .with_context(|| format!("loading the key {}", path.display()))
}

impl SignArgs {
    /// The signer these options name.
    pub fn signer(&self) -> Result<KeySigner> {
        let Some(path) = &self.key else {
            bail!(
                "no signing key: pass --key FILE (create one with `hallmark keygen`); \
                 keyless signing is not available in this version"
            );
        };
        Ok(KeySigner::new(load_key(path)?))
    }
}
