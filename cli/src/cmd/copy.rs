//! `hallmark copy`: an artifact with its attestations, between registries and OCI image layout
//! directories.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_remote::layout::LayoutStore;
use hallmark_remote::registry::client::RegistryClient;
use hallmark_remote::registry::reference::Reference;
use hallmark_remote::transfer::{End, copy};

use crate::Outcome;
use crate::registry::RegistryArgs;

/// Arguments of `hallmark copy`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark copy oci://registry.example/acme/app:v1 transfer/        # to a directory (an OCI layout)\n  \
hallmark copy transfer/ oci://mirror.plant.local/acme/app:v1       # from it, on the other side\n  \
hallmark verify sha256:<digest> --store transfer/ --key k.pub      # or verify the directory offline\n\n\
Every platform manifest, blob and attestation goes along; digests are preserved."
)]
pub struct Args {
    /// Source: oci://REGISTRY/REPO:TAG|@DIGEST, or an OCI image layout directory.
    pub source: String,
    /// Destination: oci://REGISTRY/REPO[:TAG], or a directory (created if missing).
    pub destination: String,
    /// The image's name inside a layout directory (source: which image; destination: its name).
    #[arg(long)]
    pub tag: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

enum Place {
    Registry(Box<RegistryClient>, Reference),
    Layout(LayoutStore),
}

fn place(text: &str, registry: &RegistryArgs, create: bool) -> Result<Place> {
    if text.starts_with("oci://") {
        let reference: Reference = text.parse().or_else(|_| format!("{text}:latest").parse())?;
        let client = registry.client(&reference.registry, &process_env())?;
        return Ok(Place::Registry(Box::new(client), reference));
    }
    let dir = PathBuf::from(text);
    let store = if create {
        LayoutStore::open(&dir).with_context(|| format!("opening {}", dir.display()))?
    } else {
        LayoutStore::open_existing(&dir)?
            .with_context(|| format!("{} is not an OCI image layout", dir.display()))?
    };
    Ok(Place::Layout(store))
}

fn end<'a>(place: &'a Place, tag: &Option<String>) -> End<'a> {
    match place {
        Place::Registry(client, reference) => End::Registry(client, reference.clone()),
        Place::Layout(store) => End::Layout(store, tag.clone()),
    }
}

/// Runs `hallmark copy`.
pub fn run(args: Args) -> Result<Outcome> {
    let source = place(&args.source, &args.registry, false)?;
    let destination = place(&args.destination, &args.registry, true)?;
    if let (Place::Registry(_, r), Place::Registry(..)) = (&source, &destination)
        && r.tag.is_none()
        && r.digest.is_none()
    {
        bail!("name the source image: oci://REGISTRY/REPO:TAG or @sha256:...");
    }
    let copied = copy(&end(&source, &args.tag), &end(&destination, &args.tag))?;
    eprintln!(
        "hallmark: copied {} ({} manifest(s), {} blob(s), {} attestation(s)) from {} to {}",
        copied.digest,
        copied.manifests,
        copied.blobs,
        copied.attestations,
        args.source,
        args.destination
    );
    println!("{}", copied.digest);
    Ok(Outcome::Success)
}
