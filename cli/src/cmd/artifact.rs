//! `hallmark push-artifact` and `hallmark pull`: files as OCI artifacts, and attestations from a
//! registry into the local store (for offline verification).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_model::budget::Budget;
use hallmark_model::digest::Digest;
use hallmark_remote::layout::{LayoutStore, Subject};
use hallmark_remote::registry::attestations::{FILE_ARTIFACT_TYPE, RegistryAttestations};
use hallmark_remote::registry::reference::Reference;

use crate::Outcome;
use crate::evidence::{warn_budget, warn_skipped};
use crate::registry::RegistryArgs;
use crate::signing::read_limited;
use crate::store::StoreArgs;

/// Largest file `push-artifact` uploads (it is held in memory).
const MAX_ARTIFACT_BYTES: u64 = 1024 * 1024 * 1024;

/// Arguments of `hallmark push-artifact`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  hallmark push-artifact firmware.bin oci://registry.example/plc/firmware:1.4.2\n  \
hallmark attest --subject oci://registry.example/plc/firmware:1.4.2 --provenance --key k.key"
)]
pub struct PushArtifactArgs {
    /// The file.
    pub file: PathBuf,
    /// Where: oci://REGISTRY/REPO:TAG.
    pub reference: String,
    /// The manifest's artifactType.
    #[arg(long, default_value = FILE_ARTIFACT_TYPE)]
    pub artifact_type: String,
    /// The layer's media type.
    #[arg(long, default_value = "application/octet-stream")]
    pub media_type: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Runs `hallmark push-artifact`.
pub fn push_artifact(args: PushArtifactArgs) -> Result<Outcome> {
    let reference: Reference = args.reference.parse()?;
    if reference.tag.is_none() || reference.digest.is_some() {
        bail!("push-artifact needs a tag and no digest: oci://REGISTRY/REPO:TAG");
    }
    let bytes = read_limited(&args.file, MAX_ARTIFACT_BYTES)?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let client = args.registry.client(&reference.registry, &process_env())?;
    let digest = RegistryAttestations::new(&client).push_file(
        &reference,
        &name,
        &bytes,
        &args.artifact_type,
        &args.media_type,
    )?;
    println!("{}", reference.with_digest(&digest));
    eprintln!(
        "hallmark: pushed {} ({} bytes) as {reference} ({digest})",
        args.file.display(),
        bytes.len()
    );
    Ok(Outcome::Success)
}

/// Arguments of `hallmark pull`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example (then verify offline, e.g. on an air-gapped site):\n  \
hallmark pull oci://registry.example/acme/app:v1 --store evidence/\n  \
hallmark verify sha256:<digest> --store evidence/ --key k.pub"
)]
pub struct PullArgs {
    /// The artifact whose attestations to fetch: oci://REGISTRY/REPO:TAG|@DIGEST.
    pub reference: String,
    /// For an image index: the platform manifest's attestations.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Runs `hallmark pull`.
pub fn pull(args: PullArgs) -> Result<Outcome> {
    let reference: Reference = args.reference.parse()?;
    let client = args.registry.client(&reference.registry, &process_env())?;
    let attestations = RegistryAttestations::new(&client);
    let subject = attestations.resolve_platform(&reference, args.platform.as_deref())?;
    let budget = Budget::default();
    let referrers = attestations.discover(&subject, &budget)?;
    let legacy = hallmark_remote::registry::cosign::discover(&client, &subject, &budget)?;
    let where_ = format!("registry {}/{}", reference.registry, reference.repository);
    warn_skipped(&where_, &referrers.skipped);
    warn_skipped(&where_, &legacy.skipped);
    warn_budget(&budget);
    let mut found = referrers.attestations;
    found.extend(legacy.attestations);
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let dir = args.store.dir(&cwd);
    let store =
        LayoutStore::open(&dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let digest: Digest = subject.digest.parse()?;
    let target = Subject {
        digest,
        size: subject.size,
        media_type: subject.media_type.clone(),
    };
    for attestation in &found {
        store.put(
            &attestation.bundle,
            std::slice::from_ref(&target),
            &attestation.annotations,
        )?;
    }
    eprintln!(
        "hallmark: pulled {} attestation(s) for {} ({}) into {}",
        found.len(),
        reference,
        subject.describe(args.platform.as_deref()),
        dir.display()
    );
    Ok(Outcome::Success)
}
