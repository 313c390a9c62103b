//! What `verify` and `inspect` share: the trust to verify with, and the evidence for an artifact
//! (bundle files, the registry's attestations, the local store's), plus lookups for the chain.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_attester::hashing::hash_file;
use hallmark_model::budget::{Budget, Work};
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::Digest;
use hallmark_model::dsse::Envelope;
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_DSSE_SIGNATURES, MAX_KEY_BYTES};
use hallmark_model::text::printable;
use hallmark_remote::layout::{LayoutStore, Skipped, StoreReader};
use hallmark_remote::registry::attestations::RegistryAttestations;
use hallmark_remote::registry::reference::Reference;
use hallmark_verifier::attestation::SignaturePolicy;
use hallmark_verifier::chain::{self, Chain};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::policy::Policy;
use hallmark_verifier::session::Session;
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::identity::IdentityPolicy;
use hallmark_verifier::sigstore::trust_root::{MAX_TRUST_ROOT_BYTES, TrustRoot};
use hallmark_verifier::verdict::{Candidate, KeylessTrust, Requirements};

use crate::cmd::verify_bundle::IdentityArgs;
use crate::registry::RegistryArgs;
use crate::signing::read_limited;
use crate::store::StoreArgs;

/// Who is trusted to have signed.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// A trusted public key (PEM). Repeatable.
    #[arg(long, value_name = "PUB")]
    pub key: Vec<PathBuf>,
    /// Require at least N signatures from distinct trusted keys on each envelope (default: exactly one).
    #[arg(long, value_name = "N")]
    pub threshold: Option<usize>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// A trusted_root.json or ClientTrustConfig for keyless bundles (default: the embedded
    /// public-good root).
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

/// Reads a PEM public key file.
pub fn read_key(path: &Path) -> Result<TrustedKey> {
    let text = read_limited(path, MAX_KEY_BYTES)?;
    Ok(TrustedKey::from_pem(&text, &path.display().to_string())?)
}

/// Reads `--trusted-root`, or the embedded public-good root.
pub fn trust_root(path: Option<&Path>) -> Result<TrustRoot> {
    Ok(match path {
        Some(path) => TrustRoot::from_json(&read_limited(path, MAX_TRUST_ROOT_BYTES)?)
            .with_context(|| format!("reading {}", path.display()))?,
        None => embedded::production()?,
    })
}

impl TrustArgs {
    /// The requirements: these keys and identities plus those a declarative policy names
    /// (`policy`), the signature threshold and the required steps.
    pub fn requirements(
        &self,
        policy: Option<&Policy>,
        steps: Vec<String>,
    ) -> Result<Requirements> {
        let mut keys = self
            .key
            .iter()
            .map(|p| read_key(p))
            .collect::<Result<Vec<_>>>()?;
        let mut identities: Vec<IdentityPolicy> = self.identity.policy()?.into_iter().collect();
        if let Some(policy) = policy {
            for k in policy.keys() {
                if !keys.iter().any(|have| have.keyid() == k.keyid()) {
                    keys.push(k.clone());
                }
            }
            identities.extend(
                policy
                    .identities()
                    .iter()
                    .map(|(identity, issuer)| IdentityPolicy::exact(identity, issuer)),
            );
        }
        if keys.is_empty() && identities.is_empty() {
            bail!(
                "no trust given: pass --key PUB (the public key the attestations were signed with), \
                 or --certificate-identity with --certificate-oidc-issuer for keyless attestations"
            );
        }
        let keyless = if identities.is_empty() {
            None
        } else {
            Some(KeylessTrust {
                root: trust_root(self.trusted_root.as_deref())?,
                identities,
            })
        };
        Ok(Requirements {
            keys,
            keyless,
            at: None,
            steps,
            signatures: match self.threshold {
                Some(n) if (1..=MAX_DSSE_SIGNATURES).contains(&n) => SignaturePolicy::Threshold(n),
                Some(0) => bail!("--threshold must be at least 1"),
                Some(n) => bail!(
                    "--threshold {n}: an envelope carries at most {MAX_DSSE_SIGNATURES} signatures"
                ),
                None => SignaturePolicy::ExactlyOne,
            },
        })
    }
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

/// The artifact and every candidate attestation found for it.
pub struct Evidence {
    /// The artifact's name or reference, for messages.
    pub name: Option<String>,
    /// Its digest.
    pub digest: Digest,
    /// Candidates for the artifact itself.
    pub candidates: Vec<Candidate>,
    /// The `--bundle` files.
    files: Vec<Candidate>,
    /// Indexes into `files` by the subject digests each claims (verified only when used).
    files_by_subject: BTreeMap<String, Vec<usize>>,
    /// The store, its index read once for all lookups.
    store: Option<StoreReader>,
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

/// Most subjects of one `--bundle` file routed to chain lookups.
const MAX_ROUTED_SUBJECTS: usize = 100_000;

/// The distinct sha256 subjects a bundle's statement claims, unverified: only to route
/// `--bundle` files to the lookups that may use them (every use verifies them).
fn claimed_subjects(bytes: &[u8]) -> BTreeSet<String> {
    chain::claim(bytes)
        .map(|c| {
            c.statement
                .subject
                .iter()
                .filter_map(|d| d.digest.get("sha256"))
                .take(MAX_ROUTED_SUBJECTS)
                .map(|hex| format!("sha256:{}", hex.to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default()
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
fn candidate_from_file(path: &Path, budget: &Budget) -> Result<Candidate> {
    let bytes = read_limited(path, MAX_BUNDLE_BYTES)?;
    budget
        .spend(Work::Bytes, bytes.len() as u64)
        .with_context(|| format!("reading {}", path.display()))?;
    // Which shape, by its top-level keys only (no document tree of a large file).
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        payload_type: Option<serde::de::IgnoredAny>,
        media_type: Option<serde::de::IgnoredAny>,
    }
    let is_bare_dsse = serde_json::from_slice::<Shape>(&bytes)
        .map(|v| v.payload_type.is_some() && v.media_type.is_none())
        .unwrap_or(false);
    let bytes = if is_bare_dsse {
        let envelope = Envelope::from_slice(&bytes)?;
        Bundle::for_key_signed(envelope, "").to_json()
    } else {
        bytes
    };
    Ok(Candidate::new(path.display().to_string(), bytes))
}

/// `sha256:0123456789ab` for display.
pub fn short(digest: &str) -> String {
    digest.chars().take(19).collect()
}

/// The attestations a registry holds for `artifact` (referrers and cosign `.att`), with the
/// artifact's reference and digest.
fn from_registry(
    artifact: &str,
    args: &SourceArgs,
    budget: &Budget,
) -> Result<(Option<String>, Digest, Vec<Candidate>)> {
    let env = process_env();
    let reference: Reference = artifact.parse()?;
    let client = args.registry.client(&reference.registry, &env)?;
    let attestations = RegistryAttestations::new(&client);
    // Resolve the tag once; discovery and verification use the digest only.
    let subject = attestations.resolve_platform(&reference, args.platform.as_deref())?;
    eprintln!(
        "hallmark: {artifact} is {}",
        subject.describe(args.platform.as_deref())
    );
    let where_ = format!("registry {}/{}", reference.registry, reference.repository);
    let referrers = attestations.discover(&subject, budget)?;
    // cosign v2's legacy `sha256-<hex>.att` attestations go through the same checks.
    let legacy = hallmark_remote::registry::cosign::discover(&client, &subject, budget)?;
    warn_skipped(&where_, &referrers.skipped);
    warn_skipped(&where_, &legacy.skipped);
    let found = referrers
        .attestations
        .into_iter()
        .map(|a| Candidate::new(format!("{where_} {}", short(&a.manifest_digest)), a.bundle))
        .chain(legacy.attestations.into_iter().map(|a| {
            Candidate::new(
                format!("{where_} cosign .att {}", short(&a.manifest_digest)),
                a.bundle,
            )
        }))
        .collect();
    Ok((
        Some(subject.reference.to_string()),
        subject.digest.parse::<Digest>()?,
        found,
    ))
}

impl Evidence {
    /// Resolves `artifact` (file, digest or `oci://`) and gathers its candidates, spending from
    /// the decision's `budget`. A store whose index cannot be read is left out with a warning:
    /// the decision is made on the rest.
    pub fn gather(artifact: &str, args: &SourceArgs, budget: &Budget) -> Result<Self> {
        let (name, digest, remote) = if artifact.starts_with("oci://") {
            from_registry(artifact, args, budget)?
        } else {
            let (name, digest) = resolve(artifact)?;
            (name, digest, Vec::new())
        };
        let files = args
            .bundle
            .iter()
            .map(|p| candidate_from_file(p, budget))
            .collect::<Result<Vec<_>>>()?;
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let dir = args.store.dir(&cwd);
        let store = match LayoutStore::open_existing(&dir)
            .with_context(|| format!("opening the store {}", dir.display()))?
        {
            Some(store) => match StoreReader::open(store) {
                Ok(reader) => Some(reader),
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
        let mut files_by_subject: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, f) in files.iter().enumerate() {
            for subject in claimed_subjects(f.bytes()) {
                files_by_subject.entry(subject).or_default().push(i);
            }
        }
        let mut evidence = Evidence {
            name,
            digest,
            candidates: Vec::new(),
            files,
            files_by_subject,
            store,
        };
        // Every file is a candidate for the artifact itself, so that one that does not name it
        // is reported as rejected, not silently ignored.
        let mut candidates = evidence.files.clone();
        candidates.extend(remote);
        candidates.extend(evidence.stored(&evidence.digest, budget));
        evidence.candidates = candidates;
        evidence.warn();
        Ok(evidence)
    }

    fn stored(&self, digest: &Digest, budget: &Budget) -> Vec<Candidate> {
        let Some(reader) = &self.store else {
            return Vec::new();
        };
        reader
            .referrers(digest, budget)
            .into_iter()
            .map(|r| {
                Candidate::with_checked_digest(
                    format!("store {}", short(&r.manifest_digest)),
                    r.bundle,
                    r.bundle_digest,
                )
            })
            .collect()
    }

    /// Warns about store entries skipped since the last call.
    pub fn warn(&self) {
        if let Some(reader) = &self.store {
            let where_ = format!("store {}", reader.store().root().display());
            warn_skipped(&where_, &reader.take_skipped());
        }
    }

    /// The artifact's name, or its digest.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.digest.to_string())
    }

    /// Walks the verified provenance chain behind the artifact within the decision's `session`:
    /// upstream steps are looked up in the `--bundle` files and the local store.
    pub fn chain(&self, session: &Session<'_>) -> Result<Chain> {
        let chain = chain::walk_in(session, &self.digest, &self.candidates, |d| {
            let mut found: Vec<Candidate> = self
                .files_by_subject
                .get(&d.to_string())
                .into_iter()
                .flatten()
                .filter_map(|i| self.files.get(*i).cloned())
                .collect();
            found.extend(self.stored(d, session.budget()));
            Ok::<_, anyhow::Error>(found)
        });
        self.warn();
        chain
    }
}

/// Warns when the decision's budget ran out, so some evidence was not read or checked.
pub fn warn_budget(budget: &Budget) {
    if let Some(e) = budget.exhausted() {
        eprintln!(
            "hallmark: warning: {e}: the rest of the evidence was not read or checked (a chain cut short is denied as chain.truncated)"
        );
    }
}
