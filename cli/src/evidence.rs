//! What `verify` and `inspect` share: flags into the engine's trust, and the places an
//! artifact's attestations are looked up in (bundle files, its registry, the local store).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_attester::hashing::hash_file_with;
use hallmark_model::budget::Budget;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::limits::{MAX_DSSE_SIGNATURES, MAX_KEY_BYTES};
use hallmark_model::text::{is_unsafe, printable};
use hallmark_remote::layout::{LayoutStore, Skipped, StoreReader};
use hallmark_remote::registry::attestations::RegistryAttestations;
use hallmark_remote::registry::reference::Reference;
use hallmark_remote::sources::{BundleFiles, RegistrySource, StoreSource};
use hallmark_verifier::attestation::SignaturePolicy;
use hallmark_verifier::engine::{self, Trust};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::sigstore::identity::IdentityPolicy;
use hallmark_verifier::source::AttestationSource;

use crate::cmd::verify_bundle::IdentityArgs;
use crate::registry::RegistryArgs;
use crate::signing::read_limited;
use crate::store::StoreArgs;

/// Who is trusted to have signed.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// A trusted public key (PEM), or a `pkcs11:` URI naming one in a token. Repeatable.
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,
    /// Require at least N signatures from distinct trusted keys on each envelope (default: exactly one).
    #[arg(long, value_name = "N")]
    pub threshold: Option<usize>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Sigstore trust roots for keyless bundles: a trusted_root.json, a ClientTrustConfig, or
    /// JSON lines of roots (`gh attestation trusted-root`). Repeatable; a bundle verifies if one
    /// root verifies it. Default: the last `hallmark trust update`, else the embedded
    /// public-good snapshot.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Vec<PathBuf>,
}

/// Reads a PEM public key file.
pub fn read_key(path: &Path) -> Result<TrustedKey> {
    if crate::pkcs11::is_uri(path) {
        return crate::pkcs11::trusted_key(path);
    }
    let text = read_limited(path, MAX_KEY_BYTES)?;
    Ok(TrustedKey::from_pem(&text, &path.display().to_string())?)
}

impl TrustArgs {
    /// The keys, keyless identities and trust root these flags name (a policy's are added by
    /// the engine).
    pub fn trust(&self) -> Result<Trust> {
        let keys = self
            .key
            .iter()
            .map(|p| read_key(p))
            .collect::<Result<Vec<_>>>()?;
        let identities: Vec<IdentityPolicy> = self.identity.policy()?.into_iter().collect();
        Ok(Trust {
            keys,
            identities,
            roots: Some(crate::roots::resolve(&self.trusted_root)?.roots),
        })
    }

    /// How many signatures each envelope needs (`--threshold`).
    pub fn signatures(&self) -> Result<SignaturePolicy> {
        Ok(match self.threshold {
            Some(n) if (1..=MAX_DSSE_SIGNATURES).contains(&n) => SignaturePolicy::Threshold(n),
            Some(0) => bail!("--threshold must be at least 1"),
            Some(n) => bail!(
                "--threshold {n}: an envelope carries at most {MAX_DSSE_SIGNATURES} signatures"
            ),
            None => SignaturePolicy::ExactlyOne,
        })
    }
}

/// The engine's errors: their stable code first (docs/error-codes.md), then the words, and the
/// flags that fix them.
pub fn explain(error: engine::Error) -> anyhow::Error {
    let hint = match &error {
        engine::Error::NoTrust => {
            " (pass --key PUB, the public key the attestations were signed with, or \
             --certificate-identity with --certificate-oidc-issuer for keyless attestations)"
        }
        engine::Error::VsaPolicyUnknown => " (--policy FILE or --vsa-policy-digest sha256:HEX)",
        _ => "",
    };
    crate::coded::coded(error.code(), format!("{error}{hint}"))
}

/// Where to look for an artifact's attestations.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// A Sigstore bundle or DSSE envelope file to check as well as the store's. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub bundle: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// For an oci:// image index: verify this platform's manifest instead of the index.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The artifact and the places its attestations are looked up in.
pub struct Evidence {
    /// The artifact's name or reference, for messages.
    pub name: Option<String>,
    /// Its digest.
    pub digest: Digest,
    /// Its digests under other algorithms (files only).
    pub aliases: Vec<Digest>,
    /// The `--bundle` files.
    files: BundleFiles,
    /// The store, its index read once for all lookups.
    store: Option<StoreSource>,
    /// The registry repository of an `oci://` artifact.
    registry: Option<RegistrySource>,
}

/// Tells the user about evidence left out of the decision (and why), on stderr.
pub fn warn_skipped(where_: &str, skipped: &[Skipped]) {
    for s in skipped {
        eprintln!(
            "hallmark: warning: {where_}: skipped {}: {}",
            printable(&s.manifest_digest),
            printable(&s.error.to_string())
        );
    }
}

/// Prints the notes of a decision (evidence left out, and why) as warnings. Sources cut the
/// attacker-supplied parts of a note to length; here only control characters are neutralised.
pub fn warn_notes(notes: &[String]) {
    for note in notes {
        let safe: String = note
            .chars()
            .map(|c| if is_unsafe(c) { '?' } else { c })
            .collect();
        eprintln!("hallmark: warning: {safe}");
    }
}

/// The artifact's name (for messages), digest and other digests. A file is hashed with every
/// algorithm subjects may name it by (SHA-256, SHA-512 and SHA-384, in one read), so provenance
/// that names it by SHA-512 only (npm's) or SHA-384 only finds it.
fn resolve(artifact: &str) -> Result<(Option<String>, Digest, Vec<Digest>)> {
    let path = Path::new(artifact);
    if path.is_file() {
        let mut digests = hash_file_with(
            path,
            &[
                DigestAlgorithm::Sha256,
                DigestAlgorithm::Sha512,
                DigestAlgorithm::Sha384,
            ],
        )?
        .into_iter();
        let primary = digests.next().context("hashing returned no digest")?;
        return Ok((Some(artifact.to_owned()), primary, digests.collect()));
    }
    if ["sha256:", "sha512:", "sha384:"]
        .iter()
        .any(|p| artifact.starts_with(p))
    {
        return Ok((None, artifact.parse()?, Vec::new()));
    }
    if path.exists() {
        bail!("{artifact} is a directory; verify the files it holds, or pass sha256:HEX");
    }
    bail!("{artifact} is neither an existing file nor a digest (sha256:HEX)")
}

/// The registry repository of an `oci://` artifact, its tag resolved once (discovery and
/// verification use the digest only).
fn registry_source(artifact: &str, args: &SourceArgs) -> Result<RegistrySource> {
    let env = process_env();
    let reference: Reference = artifact.parse()?;
    let client = args.registry.client(&reference.registry, &env)?;
    let subject = RegistryAttestations::new(&client)
        .resolve_platform(&reference, args.platform.as_deref())?;
    eprintln!(
        "hallmark: {artifact} is {}",
        subject.describe(args.platform.as_deref())
    );
    Ok(RegistrySource::new(client, subject))
}

impl Evidence {
    /// Resolves `artifact` (file, digest or `oci://`) and opens the places to look in, spending
    /// from the decision's `budget`. A store whose index cannot be read is left out with a
    /// warning: the decision is made on the rest.
    pub fn gather(artifact: &str, args: &SourceArgs, budget: &Budget) -> Result<Self> {
        let (name, digest, aliases, registry) = if artifact.starts_with("oci://") {
            let registry = registry_source(artifact, args)?;
            let subject = registry.subject();
            (
                Some(subject.reference.to_string()),
                subject.digest.parse::<Digest>()?,
                Vec::new(),
                Some(registry),
            )
        } else {
            let (name, digest, aliases) = resolve(artifact)?;
            (name, digest, aliases, None)
        };
        let files = BundleFiles::read(&args.bundle, budget)?;
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let dir = args.store.dir(&cwd);
        let store = match LayoutStore::open_existing(&dir)
            .with_context(|| format!("opening the store {}", dir.display()))?
        {
            Some(store) => match StoreReader::open(store) {
                Ok(reader) => Some(StoreSource::new(reader)),
                Err(e) => {
                    eprintln!(
                        "hallmark: warning: the store {} is left out: {}",
                        dir.display(),
                        printable(&e.to_string())
                    );
                    None
                }
            },
            None => None,
        };
        Ok(Evidence {
            name,
            digest,
            aliases,
            files,
            store,
            registry,
        })
    }

    /// The places to look in: the `--bundle` files first, then the registry, then the store.
    pub fn sources(&self) -> Vec<&dyn AttestationSource> {
        let mut sources: Vec<&dyn AttestationSource> = vec![&self.files];
        if let Some(registry) = &self.registry {
            sources.push(registry);
        }
        if let Some(store) = &self.store {
            sources.push(store);
        }
        sources
    }

    /// The artifact's name, or its digest.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.digest.to_string())
    }
}

/// Warns when the `budget` ran out, so some evidence was not read.
pub fn warn_budget(budget: &Budget) {
    if let Some(e) = budget.exhausted() {
        eprintln!("hallmark: warning: {e}: the rest of the evidence was not read");
    }
}
