//! `hallmark push`: send attestations from the local store to registries.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_model::digest::Digest;
use hallmark_remote::layout::{LayoutStore, Pending};
use hallmark_remote::oci::ANNOTATION_CONTENT;
use hallmark_remote::registry::attestations::RegistryAttestations;
use hallmark_remote::registry::reference::Reference;
use hallmark_remote::transfer::push_chain;

use crate::Outcome;
use crate::registry::RegistryArgs;
use crate::store::StoreArgs;

/// Arguments of `hallmark push`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark push --pending                       # retry every push that failed\n  \
hallmark push oci://registry.example/acme/app:v1    # everything the store holds for that image\n  \
hallmark push oci://registry.example/acme/app:v1 --chain   # and the steps behind it\n\n\
Pushes are idempotent: pushing the same attestation twice stores it once."
)]
pub struct Args {
    /// Push the attestations the store holds for this artifact (oci://REGISTRY/REPO:TAG|@DIGEST).
    #[arg(value_name = "REF", required_unless_present = "pending")]
    pub reference: Option<String>,
    /// Push every attestation whose push failed earlier.
    #[arg(long, conflicts_with = "reference")]
    pub pending: bool,
    /// Also push the attestations of the steps behind the artifact (the materials its
    /// attestations name, and theirs, back to the source), each as a referrer of its own digest
    /// in the same repository: `hallmark verify --policy` then walks the chain from the registry.
    #[arg(long, requires = "reference")]
    pub chain: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Pushes one stored attestation to its target; returns the referrer manifest digest.
pub fn push_one(
    store: &LayoutStore,
    pending: &Pending,
    registry: &RegistryArgs,
    env: &BTreeMap<String, String>,
) -> Result<String> {
    let target: Reference = pending.target.parse()?;
    let client = registry.client(&target.registry, env)?;
    let attestations = RegistryAttestations::new(&client);
    let subject = attestations.resolve(&target)?;
    let stored = store.attestation(&pending.manifest_digest)?;
    // Carry the predicate type and step annotations; the registry side adds its own content one.
    let annotations: BTreeMap<String, String> = stored
        .annotations
        .into_iter()
        .filter(|(k, _)| k != ANNOTATION_CONTENT)
        .collect();
    let pushed = attestations.push(&subject, &stored.bundle, &annotations)?;
    store.clear_pending(pending)?;
    Ok(pushed)
}

/// Runs `hallmark push`.
pub fn run(args: Args) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let dir = args.store.dir(&cwd);
    let Some(store) = LayoutStore::open_existing(&dir)? else {
        bail!("no store at {}", dir.display());
    };
    let env = process_env();
    if args.chain {
        let reference: Reference = args.reference.as_deref().unwrap_or_default().parse()?;
        let client = args.registry.client(&reference.registry, &env)?;
        let attestations = RegistryAttestations::new(&client);
        let subject = attestations.resolve(&reference)?;
        let pushed = push_chain(&store, &attestations, &subject)?;
        eprintln!(
            "hallmark: pushed {} attestation(s) for {} digest(s) of the chain behind {reference} to {}/{}",
            pushed.attestations, pushed.digests, reference.registry, reference.repository
        );
        return Ok(Outcome::Success);
    }
    let work: Vec<Pending> = if args.pending {
        store.pending()?
    } else {
        let reference: Reference = args.reference.as_deref().unwrap_or_default().parse()?;
        let client = args.registry.client(&reference.registry, &env)?;
        let subject = RegistryAttestations::new(&client).resolve(&reference)?;
        let digest: Digest = subject.digest.parse()?;
        store
            .referrers(&digest)?
            .into_iter()
            .map(|a| Pending {
                manifest_digest: a.manifest_digest,
                target: subject.reference.to_string(),
            })
            .collect()
    };
    if work.is_empty() {
        eprintln!("hallmark: nothing to push");
        return Ok(Outcome::Success);
    }
    let mut failed = 0;
    for item in &work {
        match push_one(&store, item, &args.registry, &env) {
            Ok(pushed) => eprintln!(
                "hallmark: pushed {} to {} as {pushed}",
                item.manifest_digest, item.target
            ),
            Err(e) => {
                failed += 1;
                eprintln!("hallmark: error: {}: {e:#}", item.target);
            }
        }
    }
    eprintln!("hallmark: pushed {}, failed {failed}", work.len() - failed);
    Ok(if failed == 0 {
        Outcome::Success
    } else {
        Outcome::Code(2)
    })
}
