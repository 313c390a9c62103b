//! Signing options shared by `run` and `attest`.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::limits::{MAX_KEY_BYTES, MAX_SIGNING_CONFIG_BYTES};
use hallmark_model::signing_config::SigningConfig;
use hallmark_remote::keyless::{self, KeylessConfig, KeylessSigner, Services};

use crate::password;

/// How to sign.
#[derive(Debug, Clone, clap::Args)]
pub struct SignArgs {
    /// Private key to sign with: PKCS#8 PEM (ECDSA P-256 or Ed25519), SEC1 EC PEM, or a cosign
    /// encrypted key (password from $HALLMARK_PASSWORD / $COSIGN_PASSWORD, or a prompt); or a
    /// key in a hardware token, `pkcs11:token=…;object=…` (RFC 7512; docs/pkcs11.md).
    /// Default: $HALLMARK_KEY, unless --keyless is given (flags win over the environment).
    #[arg(long, value_name = "FILE|URI", conflicts_with = "keyless")]
    pub key: Option<PathBuf>,
    /// Sign keyless: an OIDC identity token buys a short-lived Fulcio certificate, and the
    /// signature is recorded in Rekor. The token comes from --identity-token, $SIGSTORE_ID_TOKEN,
    /// or the GitHub Actions runtime (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, audience sigstore).
    #[arg(long)]
    pub keyless: bool,
    #[command(flatten)]
    pub sigstore: KeylessArgs,
}

/// Where keyless signing gets its token and which Sigstore services it uses.
#[derive(Debug, Clone, clap::Args)]
pub struct KeylessArgs {
    /// The identity token for keyless signing, or @FILE to read it from a file.
    #[arg(long, value_name = "TOKEN|@FILE")]
    pub identity_token: Option<String>,
    /// Fulcio URL.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://fulcio.sigstore.dev"
    )]
    pub fulcio_url: String,
    /// Rekor URL.
    #[arg(long, value_name = "URL", default_value = "https://rekor.sigstore.dev")]
    pub rekor_url: String,
    /// A Sigstore SigningConfig (v0.2) naming the Fulcio, Rekor and TSA URLs; a ClientTrustConfig's
    /// `signingConfig` works too. The services valid now with the newest supported API version
    /// are used (Rekor v1: one log; at most one TSA). Overrides --fulcio-url, --rekor-url and
    /// --timestamp-server.
    #[arg(long, value_name = "FILE")]
    pub signing_config: Option<PathBuf>,
    /// An RFC 3161 time-stamping authority URL to countersign keyless signatures.
    #[arg(long, value_name = "URL")]
    pub timestamp_server: Option<String>,
    /// Trust root the returned certificate and log entry must verify against (default: the last
    /// `hallmark trust update`, else the embedded public-good root).
    #[arg(long, value_name = "FILE")]
    pub sigstore_trusted_root: Option<PathBuf>,
}

/// Reads a whole file, refusing more than `limit` bytes.
pub fn read_limited(path: &std::path::Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    // A PKCS#11 URI where only a file is taken: never echo it (it may carry pin-value).
    if crate::pkcs11::is_uri(path) {
        bail!("a pkcs11: URI is not accepted here: this option takes a file");
    }
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

/// The signer a `--key` value names: a key file, or a key in a PKCS#11 token (`pkcs11:` URI).
pub fn key_signer(path: &std::path::Path) -> Result<Box<dyn Signer>> {
    if crate::pkcs11::is_uri(path) {
        return Ok(Box::new(crate::pkcs11::signer(path)?));
    }
    Ok(Box::new(KeySigner::new(load_key(path)?)))
}

impl SignArgs {
    /// The signer these options name.
    pub fn signer(&self) -> Result<Box<dyn Signer>> {
        let env_key = std::env::var_os("HALLMARK_KEY").filter(|v| !v.is_empty());
        if self.keyless {
            if env_key.is_some() {
                eprintln!("hallmark: note: --keyless given, so $HALLMARK_KEY is not used");
            }
            return Ok(Box::new(self.sigstore.signer()?));
        }
        if self.sigstore.identity_token.is_some()
            || self.sigstore.signing_config.is_some()
            || self.sigstore.timestamp_server.is_some()
        {
            bail!("--identity-token, --signing-config and --timestamp-server are for --keyless");
        }
        let Some(path) = self.key.clone().or(env_key.map(PathBuf::from)) else {
            bail!(
                "no signing key: pass --key FILE or set $HALLMARK_KEY (create one with \
                 `hallmark keygen`), or --keyless"
            );
        };
        if crate::pkcs11::is_uri(&path) {
            // Its errors name the URI and start with their pkcs11.* code.
            return key_signer(&path);
        }
        key_signer(&path).with_context(|| match &self.key {
            Some(_) => "--key".to_owned(),
            None => "the key named by $HALLMARK_KEY".to_owned(),
        })
    }
}

impl KeylessArgs {
    /// A keyless signer: token, then Fulcio, Rekor (and a TSA) as configured.
    pub fn signer(&self) -> Result<KeylessSigner> {
        let env = hallmark_attester::ci::process_env();
        let agent = hallmark_remote::http::agent(None, None)?;
        let token = match &self.identity_token {
            Some(t) if t.starts_with('@') => {
                let path = PathBuf::from(&t[1..]);
                String::from_utf8(read_limited(&path, 64 * 1024)?).context("the token file is not text")?.trim().to_owned()
            }
            Some(t) => t.clone(),
            None => match env.get("SIGSTORE_ID_TOKEN").filter(|t| !t.is_empty()) {
                Some(t) => t.clone(),
                None => keyless::github_actions_token(&agent, &env)?.context(
                    "keyless signing needs an identity token: --identity-token, $SIGSTORE_ID_TOKEN, or the GitHub Actions \
                     token (add `permissions: id-token: write` to the job)",
                )?,
            },
        };
        // The signer checks its bundle against one root: the first of those given, else the
        // last `hallmark trust update`, else the embedded snapshot.
        let paths: Vec<PathBuf> = self.sigstore_trusted_root.iter().cloned().collect();
        let resolved = crate::roots::resolve(&paths)?;
        let trust_root = resolved
            .roots
            .iter()
            .next()
            .cloned()
            .context("no trust root")?;
        let (mut fulcio_url, mut rekor_url, mut timestamp_url) = (
            self.fulcio_url.clone(),
            self.rekor_url.clone(),
            self.timestamp_server.clone(),
        );
        if let Some(path) = &self.signing_config {
            let config = SigningConfig::from_slice(&read_limited(path, MAX_SIGNING_CONFIG_BYTES)?)
                .with_context(|| format!("reading {}", path.display()))?;
            let services = Services::from_signing_config(&config, SystemTime::now())
                .with_context(|| format!("choosing services from {}", path.display()))?;
            fulcio_url = services.fulcio_url;
            rekor_url = services.rekor_url;
            timestamp_url = services.timestamp_url.or(timestamp_url);
        }
        let config = KeylessConfig {
            fulcio_url,
            rekor_url,
            token,
            trust_root,
            timestamp_url,
        };
        KeylessSigner::new(agent, config).map_err(anyhow::Error::msg)
    }
}
