//! `hallmark bundle export`: artifacts and their evidence into one signed OCI-layout tar.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_attester::signer::Signer;
use hallmark_model::budget::Budget;
use hallmark_model::bundle::BUNDLE_V0_3;
use hallmark_remote::evidence::archive;
use hallmark_remote::evidence::manifest::{
    KEY_MEDIA_TYPE, POLICY_MEDIA_TYPE, PolicyEntry, Role, TRUST_ROOT_MEDIA_TYPE, TrustRootEntry,
};
use hallmark_remote::evidence::stage::{Meta, Stage};
use hallmark_remote::layout::{LayoutStore, StoreReader};
use hallmark_remote::registry::reference::Reference;
use hallmark_remote::sources::StoreSource;
use hallmark_remote::transfer::{End, copy};
use hallmark_verifier::engine::{self, Request};
use hallmark_verifier::policy::Policy;

use super::coded;
use crate::Outcome;
use crate::evidence::{TrustArgs, explain, warn_notes};
use crate::registry::RegistryArgs;
use crate::revocations::RevocationArgs;
use crate::roots::Origin;
use crate::signing::{KeylessArgs, key_signer};
use crate::store::StoreArgs;

/// Arguments of `hallmark bundle export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
hallmark bundle export dist/app.tar --key k.pub --policy release.yaml --signing-key station.key --out app-1.4.tar\n  \
hallmark bundle export oci://registry.example/acme/app:v1 --key k.pub --keyless --out app.tar --revocations revoked.json\n\n\
Every artifact is verified with the trust and policy given before it is exported (exit 1 if denied).\n\
The bundle carries that trust material and policy for the record; the importer verifies with its own.")]
pub struct Args {
    /// The artifacts: files, or oci://REGISTRY/REPO:TAG|@DIGEST (every platform of an index).
    #[arg(value_name = "ARTIFACT", required = true)]
    pub artifacts: Vec<String>,
    /// The bundle to write (a tar holding an OCI image layout).
    #[arg(long, value_name = "FILE.tar")]
    pub out: PathBuf,
    /// The policy to verify with; it is carried in the bundle with its digest.
    #[arg(long, value_name = "FILE|DIR")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Revocation lists (`hallmark revoke`), verified like verify's and applied to the export's
    /// own decisions, then carried byte for byte for the importer.
    #[command(flatten)]
    pub revocations: RevocationArgs,
    /// The exporter's private key that signs the bundle manifest.
    #[arg(long, value_name = "FILE", conflicts_with = "keyless")]
    pub signing_key: Option<PathBuf>,
    /// Sign the bundle manifest keyless (the exporter's OIDC identity).
    #[arg(long)]
    pub keyless: bool,
    #[command(flatten)]
    pub sigstore: KeylessArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

fn signer(args: &Args) -> Result<Box<dyn Signer>> {
    match (&args.signing_key, args.keyless) {
        (Some(key), _) => key_signer(key),
        (None, true) => Ok(Box::new(args.sigstore.signer()?)),
        (None, false) => {
            bail!("the bundle manifest must be signed: --signing-key FILE or --keyless")
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The trust roots in use (file name, bytes), where they came from, and their date.
struct Roots(Vec<(String, Vec<u8>)>, String, Option<String>);

/// The trust root in use, as bytes, with where it came from.
fn trust_roots(paths: &[PathBuf]) -> Result<Roots> {
    let resolved = crate::roots::resolve(paths)?;
    Ok(match resolved.origin {
        Origin::Files => {
            let mut files = Vec::new();
            for p in paths {
                let bytes = crate::signing::read_limited(
                    p,
                    hallmark_verifier::sigstore::trust_root::MAX_TRUST_ROOT_BYTES,
                )?;
                files.push((file_name(p), bytes));
            }
            Roots(files, "--trusted-root".to_owned(), None)
        }
        Origin::Cache(current) => Roots(
            vec![("trusted_root.json".to_owned(), current.trusted_root.clone())],
            format!("TUF cache of {}", current.mirror),
            Some(humantime::format_rfc3339_seconds(current.refreshed_at).to_string()),
        ),
        Origin::Embedded => Roots(
            vec![(
                "trusted_root.json".to_owned(),
                hallmark_verifier::sigstore::embedded::production_json().to_vec(),
            )],
            "embedded public-good snapshot".to_owned(),
            Some(hallmark_verifier::sigstore::embedded::SNAPSHOT.to_owned()),
        ),
    })
}

/// The policy's files (one file, or a directory's files, not following links).
fn policy_files(path: &Path) -> Result<Vec<(String, PathBuf)>> {
    if path.is_file() {
        return Ok(vec![(file_name(path), path.to_path_buf())]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(path)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| file_name(&entry.path()));
                out.push((rel, entry.path()));
            }
            if out.len() > 500 {
                bail!(
                    "the policy directory {} holds more than 500 files",
                    path.display()
                );
            }
        }
    }
    Ok(out)
}

/// Runs `hallmark bundle export`.
pub fn run(args: Args) -> Result<Outcome> {
    let signer = signer(&args)?;
    let policy = args
        .policy
        .as_deref()
        .map(|p| Policy::load(p, false))
        .transpose()?;
    let parent = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let scratch = tempfile::Builder::new()
        .prefix(".hallmark-export-")
        .tempdir_in(parent)
        .with_context(|| format!("creating a staging directory in {}", parent.display()))?;
    let layout = scratch.path().join("layout");
    let mut stage = Stage::new(&layout).map_err(coded)?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let source = LayoutStore::open_existing(args.store.dir(&cwd))?;
    let env = process_env();
    let mut artifacts = Vec::new();
    for artifact in &args.artifacts {
        let digest = if artifact.starts_with("oci://") {
            let reference: Reference = artifact.parse()?;
            let client = args.registry.client(&reference.registry, &env)?;
            let ref_name = match (&reference.tag, &reference.digest) {
                (Some(tag), _) => format!("{}:{tag}", reference.repository),
                (None, Some(d)) => format!("{}@{d}", reference.repository),
                _ => reference.repository.clone(),
            };
            let copied = copy(
                &End::Registry(&client, reference.clone()),
                &End::Layout(stage.store(), Some(ref_name.clone())),
            )?;
            eprintln!(
                "hallmark: {artifact}: {} manifest(s), {} blob(s), {} attestation(s)",
                copied.manifests, copied.blobs, copied.attestations
            );
            stage
                .add_image_artifact(artifact, &ref_name)
                .map_err(coded)?
        } else {
            let path = Path::new(artifact);
            if !path.is_file() {
                bail!("{artifact} is neither a file nor an oci:// reference");
            }
            stage
                .add_file_artifact(path, &file_name(path))
                .map_err(coded)?
        };
        if let Some(source) = &source {
            stage.add_chain(source, &digest).map_err(coded)?;
        }
        artifacts.push((artifact.clone(), digest));
    }
    // Verify from the staging layout alone: what the bundle carries must be enough.
    let at = SystemTime::now();
    let trust = args.trust.trust()?;
    let revocations = args.revocations.load(&trust, policy.as_ref(), at)?;
    let mut denied = false;
    {
        let reader = StoreReader::open(stage.store().clone())?;
        let staged_source = StoreSource::new(reader);
        for (name, digest) in &artifacts {
            let request = Request {
                name: Some(name.clone()),
                trust: trust.clone(),
                signatures: args.trust.signatures()?,
                policy: policy.as_ref(),
                revocations: revocations.clone(),
                ..Request::new(digest.parse()?, at)
            };
            let budget = Budget::default();
            let decision =
                engine::decide_within(&request, &[&staged_source], &budget).map_err(explain)?;
            warn_notes(&decision.notes);
            if !decision.verdict.allowed() {
                denied = true;
                for v in decision.verdict.violations() {
                    eprintln!("hallmark: {name}: denied: {}: {v}", v.code());
                }
            }
        }
    }
    if denied {
        eprintln!(
            "hallmark: nothing exported: the evidence does not verify with the trust and policy given"
        );
        return Ok(Outcome::Denied);
    }
    let Roots(roots, origin, date) = trust_roots(&args.trust.trusted_root)?;
    let mut trust_root = None;
    for (name, bytes) in roots {
        let path = scratch.path().join("root.json");
        std::fs::write(&path, &bytes)?;
        let (digest, _) = stage
            .add_file(&path, Role::TrustRoot, TRUST_ROOT_MEDIA_TYPE, &name)
            .map_err(coded)?;
        trust_root.get_or_insert(TrustRootEntry {
            digest,
            origin: origin.clone(),
            date: date.clone(),
        });
    }
    for key in &args.trust.key {
        stage
            .add_file(key, Role::Key, KEY_MEDIA_TYPE, &file_name(key))
            .map_err(coded)?;
    }
    if let Some(path) = &args.policy {
        for (name, file) in policy_files(path)? {
            stage
                .add_file(&file, Role::Policy, POLICY_MEDIA_TYPE, &name)
                .map_err(coded)?;
        }
    }
    for list in &args.revocations.lists {
        stage
            .add_file(list, Role::RevocationList, BUNDLE_V0_3, &file_name(list))
            .map_err(coded)?;
    }
    let meta = Meta {
        created: humantime::format_rfc3339_seconds(at).to_string(),
        trust_root,
        policy: policy.as_ref().map(|p| PolicyEntry {
            name: args.policy.as_deref().map(file_name).unwrap_or_default(),
            digest: p.digest().to_owned(),
        }),
    };
    let sealed = stage.seal(meta, signer.as_ref()).map_err(coded)?;
    let total: u64 = sealed.manifest.blobs.iter().map(|b| b.size).sum();
    let bar = crate::progress::bytes_bar(total, "writing");
    let progress = |n: u64| {
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
    };
    archive::write(&layout, &args.out, &progress).map_err(coded)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let digest = hallmark_attester::hashing::hash_file(&args.out)?;
    eprintln!(
        "hallmark: wrote {} ({} artifact(s), {} blob(s), {total} bytes; manifest {}) signed by {}",
        args.out.display(),
        sealed.manifest.artifacts.len(),
        sealed.manifest.blobs.len(),
        sealed.manifest_digest,
        signer.identity()
    );
    println!("{digest}");
    Ok(Outcome::Success)
}
