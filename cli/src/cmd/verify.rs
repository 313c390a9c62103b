//! `hallmark verify`: the yes-or-no answer for one artifact.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hallmark_attester::hashing::hash_file;
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::Digest;
use hallmark_model::dsse::Envelope;
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_KEY_BYTES};
use hallmark_remote::layout::LayoutStore;
use hallmark_verifier::attestation::SignaturePolicy;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::policy::{Policy, policy_input};
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::trust_root::{MAX_TRUST_ROOT_BYTES, TrustRoot};
use hallmark_verifier::verdict::{Candidate, KeylessTrust, Requirements, Violation, decide};

use super::verify_bundle::IdentityArgs;

use crate::Outcome;
use crate::registry::RegistryArgs;
use crate::render::{self, Format};
use crate::signing::read_limited;
use crate::store::StoreArgs;
use hallmark_attester::ci::process_env;
use hallmark_remote::registry::attestations::RegistryAttestations;
use hallmark_remote::registry::reference::Reference;

/// Arguments of `hallmark verify`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark verify dist/app.tar --key k.pub --step package\n  \
hallmark verify sha256:<hex> --key k.pub --format json\n  \
hallmark verify app.bin --key k.pub --bundle app.bin.sigstore.json\n  \
hallmark verify app.tar --bundle app.sigstore.json --certificate-identity https://github.com/o/r/.github/workflows/release.yml@refs/heads/main \\\n    \
--certificate-oidc-issuer https://token.actions.githubusercontent.com --source-repository https://github.com/o/r\n\n\
Exit codes: 0 allowed, 1 denied (the output says which check failed), 2 error."
)]
pub struct Args {
    /// The artifact: a file path, sha256:HEX / sha512:HEX, or oci://REGISTRY/REPO:TAG|@DIGEST.
    #[arg(value_name = "ARTIFACT")]
    pub artifact: String,
    /// A trusted public key (PEM). Repeatable.
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,
    /// A Sigstore bundle or DSSE envelope file to check as well as the store's. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,
    /// A step that must have a verified attestation for this artifact. Repeatable.
    #[arg(long, value_name = "NAME")]
    pub step: Vec<String>,
    /// Require at least N signatures from distinct trusted keys on each envelope (default: exactly one).
    #[arg(long, value_name = "N")]
    pub threshold: Option<usize>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// A trusted_root.json or ClientTrustConfig for keyless bundles (default: the embedded
    /// public-good root).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
    /// A Rego policy file or directory (with data.json/.yaml) the verified attestations must
    /// satisfy; see policies/README.md. Fail closed.
    #[arg(long, value_name = "FILE|DIR")]
    pub policy: Option<PathBuf>,
    /// For an oci:// image index: verify this platform's manifest instead of the index.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The artifact's name (for messages) and digest.
fn resolve(artifact: &str) -> Result<(Option<String>, Digest)> {
    let path = Path::new(artifact);
    if path.is_file() {
        return Ok((Some(artifact.to_owned()), hash_file(path)?));
    }
    if artifact.starts_with("sha256:") || artifact.starts_with("sha512:") {
        return Ok((None, artifact.parse()?));
    }
    if path.exists() {
        bail!("{artifact} is a directory; verify the files it holds, or pass sha256:HEX");
    }
    bail!("{artifact} is neither an existing file nor a digest (sha256:HEX)")
}

/// Reads a `--bundle` file: a Sigstore bundle, or a bare DSSE envelope (wrapped into one).
fn candidate_from_file(path: &Path) -> Result<Candidate> {
    let bytes = read_limited(path, MAX_BUNDLE_BYTES)?;
    let is_bare_dsse = serde_json::from_slice::<serde_json::Value>(&bytes)
        .map(|v| v.get("payloadType").is_some() && v.get("mediaType").is_none())
        .unwrap_or(false);
    let bytes = if is_bare_dsse {
        let envelope = Envelope::from_slice(&bytes)?;
        Bundle::for_key_signed(envelope, "").to_json()
    } else {
        bytes
    };
    Ok(Candidate {
        origin: path.display().to_string(),
        bytes,
    })
}

/// Runs `hallmark verify`.
pub fn run(args: Args) -> Result<Outcome> {
    let identity = args.identity.policy()?;
    if args.key.is_empty() && identity.is_none() {
        bail!(
            "no trust given: pass --key PUB (the public key the attestations were signed with), \
             or --certificate-identity with --certificate-oidc-issuer for keyless attestations"
        );
    }
    let keyless = match identity {
        Some(identity) => {
            let root = match &args.trusted_root {
                Some(path) => TrustRoot::from_json(&read_limited(path, MAX_TRUST_ROOT_BYTES)?)
                    .with_context(|| format!("reading {}", path.display()))?,
                None => embedded::production()?,
            };
            Some(KeylessTrust { root, identity })
        }
        None => None,
    };
    let keys = args
        .key
        .iter()
        .map(|p| {
            let text = read_limited(p, MAX_KEY_BYTES)?;
            Ok(TrustedKey::from_pem(&text, &p.display().to_string())?)
        })
        .collect::<Result<Vec<_>>>()?;
    let env = process_env();
    let mut from_registry = Vec::new();
    let (name, digest) = if args.artifact.starts_with("oci://") {
        let reference: Reference = args.artifact.parse()?;
        let client = args.registry.client(&reference.registry, &env)?;
        let attestations = RegistryAttestations::new(&client);
        // Resolve the tag once; discovery and verification use the digest only.
        let subject = attestations.resolve_platform(&reference, args.platform.as_deref())?;
        eprintln!(
            "hallmark: {} is {}",
            args.artifact,
            subject.describe(args.platform.as_deref())
        );
        let where_ = format!("registry {}/{}", reference.registry, reference.repository);
        let referrers = attestations.discover(&subject)?;
        // cosign v2's legacy `sha256-<hex>.att` attestations go through the same checks.
        let legacy = hallmark_remote::registry::cosign::discover(&client, &subject)?;
        from_registry = referrers
            .into_iter()
            .map(|a| Candidate {
                origin: format!("{where_} {}", short(&a.manifest_digest)),
                bytes: a.bundle,
            })
            .chain(legacy.into_iter().map(|a| Candidate {
                origin: format!("{where_} cosign .att {}", short(&a.manifest_digest)),
                bytes: a.bundle,
            }))
            .collect();
        (
            Some(subject.reference.to_string()),
            subject.digest.parse::<Digest>()?,
        )
    } else {
        resolve(&args.artifact)?
    };
    let mut candidates = args
        .bundle
        .iter()
        .map(|p| candidate_from_file(p))
        .collect::<Result<Vec<_>>>()?;
    candidates.extend(from_registry);
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let dir = args.store.dir(&cwd);
    if let Some(store) = LayoutStore::open_existing(&dir)? {
        let found = store
            .referrers(&digest)
            .with_context(|| format!("reading the store {}", dir.display()))?;
        candidates.extend(found.into_iter().map(|a| Candidate {
            origin: format!("store {}", short(&a.manifest_digest)),
            bytes: a.bundle,
        }));
    }
    let requirements = Requirements {
        keys,
        keyless,
        at: None,
        steps: args.step,
        signatures: match args.threshold {
            Some(n) if n >= 1 => SignaturePolicy::Threshold(n),
            Some(_) => bail!("--threshold must be at least 1"),
            None => SignaturePolicy::ExactlyOne,
        },
    };
    let mut verdict = decide(&digest, &candidates, &requirements);
    if let Some(path) = &args.policy {
        let policy = Policy::load(path, false)?;
        let input = policy_input(
            &verdict,
            name.as_deref(),
            std::time::SystemTime::now(),
            &serde_json::json!({}),
        );
        let decision = policy.evaluate(&input);
        for w in &decision.warn {
            eprintln!("hallmark: warning: {}: {}", w.code, w.msg);
        }
        verdict
            .violations
            .extend(decision.deny.into_iter().map(|f| Violation::Policy {
                code: f.code,
                message: f.msg,
            }));
        verdict.allowed = verdict.violations.is_empty();
    }
    render::verdict(&verdict, name.as_deref(), args.format, &requirements.keys)?;
    Ok(if verdict.allowed {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}

/// `sha256:0123456789ab` for display.
pub fn short(digest: &str) -> String {
    digest.chars().take(19).collect()
}
