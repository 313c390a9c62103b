//! Reading every attestation of a store, an evidence bundle (tar) or a registry artifact, with
//! the readers `verify`, `bundle import` and `pull` use. Nothing here is trusted: each bundle is
//! verified before it is indexed.

use std::path::Path;

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_model::budget::Budget;
use hallmark_model::text::printable;
use hallmark_remote::evidence::archive::{self, Limits};
use hallmark_remote::evidence::staged::Staged;
use hallmark_remote::layout::LayoutStore;
use hallmark_remote::registry::attestations::RegistryAttestations;
use hallmark_remote::registry::reference::Reference;
use hallmark_remote::sources::short;
use serde_json::{Value, json};

use crate::evidence::{warn_budget, warn_skipped};
use crate::registry::RegistryArgs;

/// What was read: (origin, bundle) pairs, and what could not be read (as rejections).
#[derive(Default)]
pub struct Read {
    pub found: Vec<(String, Vec<u8>)>,
    pub unreadable: Vec<Value>,
}

impl Read {
    /// Every attestation the store at `dir` lists. An entry that cannot be read (dangling,
    /// tampered blob, oversize) is reported as rejected.
    pub fn store(&mut self, dir: &Path) -> Result<()> {
        let store = LayoutStore::open_existing(dir)
            .with_context(|| format!("opening the store {}", dir.display()))?
            .with_context(|| format!("no store at {}", dir.display()))?;
        self.layout(&store, &format!("store {}", dir.display()))
    }

    fn layout(&mut self, store: &LayoutStore, name: &str) -> Result<()> {
        for manifest in store
            .attestation_manifests()
            .with_context(|| format!("reading {name}"))?
        {
            let origin = format!("{name} {}", short(&manifest));
            match store.attestation(&manifest) {
                Ok(a) => self.found.push((origin, a.bundle)),
                Err(e) => self.unreadable.push(json!({
                    "origin": origin,
                    "code": "store.unreadable",
                    "message": printable(&e.to_string()),
                })),
            }
        }
        Ok(())
    }

    /// Every attestation an evidence bundle lists, unpacked (checked blob by blob) into `dir`.
    /// The exporter's signature is not needed here: each attestation is verified on its own.
    pub fn bundle(&mut self, path: &Path, dir: &Path) -> Result<()> {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let unpacked = archive::unpack(file, dir, &Limits::default(), |_| {})
            .with_context(|| format!("unpacking {}", path.display()))?;
        let staged = Staged::open(dir, unpacked)?;
        let manifest = staged.manifest()?;
        staged.check_listing(&manifest)?;
        let store = staged.staging_store(&manifest)?;
        self.layout(&store, &format!("bundle {}", path.display()))
    }

    /// The attestations of one registry artifact (referrers and cosign's legacy tags). Listing
    /// every artifact of a repository is not done: name each artifact by tag or digest.
    pub fn registry(&mut self, reference: &str, args: &RegistryArgs) -> Result<()> {
        let whole = Reference::repository(reference);
        let parsed: Reference = match &whole {
            Ok(repository) => repository.clone(),
            Err(_) => reference.parse()?,
        };
        let client = args.client(&parsed.registry, &process_env())?;
        if whole.is_ok() {
            // A whole repository: every tagged artifact. Tags of the referrers fallback and of
            // cosign (`sha256-<hex>`, `.att`, `.sig`) point at attestations, not artifacts.
            let tags = client.tags_with_prefix(&parsed, "")?;
            let artifacts: Vec<&String> = tags
                .iter()
                .filter(|t| !t.starts_with("sha256-") && !t.starts_with("sha512-"))
                .collect();
            if artifacts.is_empty() {
                bail!("{reference}: the repository has no tagged artifacts");
            }
            for tag in artifacts {
                self.registry(&format!("{}:{tag}", reference.trim_end_matches('/')), args)?;
            }
            return Ok(());
        }
        let attestations = RegistryAttestations::new(&client);
        let subject = attestations.resolve(&parsed)?;
        let budget = Budget::default();
        let referrers = attestations.discover(&subject, &budget)?;
        let legacy = hallmark_remote::registry::cosign::discover(&client, &subject, &budget)?;
        let where_ = format!("registry {}/{}", parsed.registry, parsed.repository);
        warn_skipped(&where_, &referrers.skipped);
        warn_skipped(&where_, &legacy.skipped);
        warn_budget(&budget);
        for a in referrers
            .attestations
            .into_iter()
            .chain(legacy.attestations)
        {
            self.found.push((
                format!("{reference} {}", short(&a.manifest_digest)),
                a.bundle,
            ));
        }
        Ok(())
    }
}
