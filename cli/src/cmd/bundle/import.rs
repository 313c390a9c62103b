//! `hallmark bundle import`: verify a bundle with this plant's trust, then (only then) import
//! it into the store and/or a registry, and sign a chain-of-custody attestation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::process_env;
use hallmark_attester::signer::Signer;
use hallmark_model::budget::Budget;
use hallmark_model::limits::MAX_BUNDLE_BYTES;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_model::text::printable;
use hallmark_remote::evidence::archive::{self, Limits};
use hallmark_remote::evidence::manifest::{CUSTODY_V1, EVIDENCE_BUNDLE_V1, EvidenceManifest, Role};
use hallmark_remote::evidence::staged::Staged;
use hallmark_remote::layout::{LayoutStore, StoreReader, Subject};
use hallmark_remote::oci::{ANNOTATION_PREDICATE_TYPE, FILE_MEDIA_TYPE};
use hallmark_remote::registry::reference::Reference;
use hallmark_remote::sources::{BundleFiles, StoreSource};
use hallmark_verifier::engine::{self, Request, Trust};
use hallmark_verifier::policy::Policy;
use hallmark_verifier::revocation::{ListBundle, Revocations};
use hallmark_verifier::sigstore::identity::IdentityPolicy;
use serde_json::{Value, json};

use super::coded;
use crate::Outcome;
use crate::evidence::{TrustArgs, explain, read_key, warn_notes};
use crate::registry::RegistryArgs;
use crate::render::Format;
use crate::revocations::RevocationArgs;
use crate::signing::{KeylessArgs, key_signer};
use crate::store::StoreArgs;

/// `schemaVersion` of `bundle import --format json`.
pub const IMPORT_SCHEMA: &str = "https://hallmark.dev/schemas/evidence-bundle-import/v1";

/// Arguments of `hallmark bundle import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
hallmark bundle import app-1.4.tar --exporter-key station.pub --key vendor.pub --policy plant.yaml \\\n    \
--station line-3-transfer --custody-key plant.key --store /srv/hallmark/store\n  \
hallmark bundle import app.tar --exporter-key station.pub --key vendor.pub --trusted-root plant-root.json \\\n    \
--station ts-1 --custody-key plant.key --to oci://registry.plant.local/acme/app:v1\n\n\
Trust flags (--key, --certificate-identity, --trusted-root, --policy) are the plant's, as in verify;\n\
the trust material inside the bundle is compared and recorded, never used.\n\
Exit codes: 0 imported, 1 denied (nothing imported), 2 malformed bundle or error (nothing imported).")]
pub struct Args {
    /// The bundle (a tar written by `hallmark bundle export`).
    #[arg(value_name = "FILE.tar")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The plant's policy every artifact must pass.
    #[arg(long, value_name = "FILE|DIR")]
    pub policy: Option<PathBuf>,
    /// A public key (PEM) the bundle manifest may be signed with (the exporter's). Repeatable.
    #[arg(long, value_name = "PUB")]
    pub exporter_key: Vec<PathBuf>,
    /// The keyless identity (certificate SAN) the bundle manifest may be signed by.
    #[arg(long, value_name = "ID", requires = "exporter_oidc_issuer")]
    pub exporter_identity: Option<String>,
    /// The OIDC issuer of --exporter-identity.
    #[arg(long, value_name = "URL", requires = "exporter_identity")]
    pub exporter_oidc_issuer: Option<String>,
    /// The transfer station's name, recorded in the custody attestation.
    #[arg(long, value_name = "NAME")]
    pub station: String,
    /// The plant's own revocation lists. The lists the bundle carries apply too; every list must
    /// verify against the revocation signers (by default this import's trust), or nothing is
    /// imported.
    #[command(flatten)]
    pub revocations: RevocationArgs,
    /// The importer's private key that signs the custody attestation.
    #[arg(long, value_name = "FILE", conflicts_with = "custody_keyless")]
    pub custody_key: Option<PathBuf>,
    /// Sign the custody attestation keyless (the importer's OIDC identity).
    #[arg(long)]
    pub custody_keyless: bool,
    #[command(flatten)]
    pub sigstore: KeylessArgs,
    /// Also push the images and every attestation to this repository (oci://REGISTRY/REPO[:TAG]).
    #[arg(long, value_name = "oci://…")]
    pub to: Option<String>,
    /// Also write each file artifact, once imported, into DIR under its file name.
    #[arg(long, value_name = "DIR")]
    pub files_to: Option<PathBuf>,
    /// Largest blob accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().blob_bytes)]
    pub max_blob_size: u64,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

fn custody_signer(args: &Args) -> Result<Box<dyn Signer>> {
    match (&args.custody_key, args.custody_keyless) {
        (Some(key), _) => key_signer(key),
        (None, true) => Ok(Box::new(args.sigstore.signer()?)),
        (None, false) => bail!(
            "the chain-of-custody attestation must be signed: --custody-key FILE or --custody-keyless"
        ),
    }
}

fn exporter_trust(args: &Args, roots: &Trust) -> Result<Trust> {
    let keys = args
        .exporter_key
        .iter()
        .map(|p| read_key(p))
        .collect::<Result<Vec<_>>>()?;
    let identities = match (&args.exporter_identity, &args.exporter_oidc_issuer) {
        (Some(id), Some(issuer)) => vec![IdentityPolicy::exact(id, issuer)],
        _ => Vec::new(),
    };
    if keys.is_empty() && identities.is_empty() {
        bail!(
            "who may have signed the bundle? --exporter-key PUB, or --exporter-identity with --exporter-oidc-issuer"
        );
    }
    Ok(Trust {
        keys,
        identities,
        roots: roots.roots.clone(),
    })
}

/// The trust root the importer uses, as bytes (to compare with the one the bundle carries).
fn importer_root_digest(paths: &[PathBuf]) -> Result<String> {
    let bytes = match paths.first() {
        Some(p) => crate::signing::read_limited(
            p,
            hallmark_verifier::sigstore::trust_root::MAX_TRUST_ROOT_BYTES,
        )?,
        None => match crate::roots::resolve(&[])?.origin {
            crate::roots::Origin::Cache(current) => current.trusted_root.clone(),
            _ => hallmark_verifier::sigstore::embedded::production_json().to_vec(),
        },
    };
    Ok(hallmark_remote::oci::sha256_digest(&bytes))
}

/// One artifact's verdict.
struct Verdict {
    name: String,
    digest: String,
    allowed: bool,
    violations: Vec<(String, String)>,
}

/// The exporter's signature over the manifest document, decided by the engine.
fn check_signature(
    staged: &Staged,
    trust: Trust,
    revocations: Revocations,
    at: SystemTime,
) -> Result<Option<String>> {
    let mut files = BundleFiles::default();
    files.add(
        "the bundle's signed manifest".to_owned(),
        staged.signed.clone(),
    )?;
    let request = Request {
        name: Some("evidence manifest".to_owned()),
        trust,
        predicate_types: vec![EVIDENCE_BUNDLE_V1.to_owned()],
        revocations,
        ..Request::new(staged.manifest_digest.parse()?, at)
    };
    let decision = engine::decide(&request, &[&files]).map_err(explain)?;
    if decision.verdict.allowed() {
        return Ok(None);
    }
    let reasons: Vec<String> = decision
        .verdict
        .attestations()
        .iter()
        .filter_map(|a| a.rejected.as_ref())
        .map(|r| format!("{}: {r}", r.code()))
        .chain(
            decision
                .verdict
                .violations()
                .iter()
                .map(|v| format!("{}: {v}", v.code())),
        )
        .collect();
    Ok(Some(reasons.join("; ")))
}

fn verify_artifacts(
    args: &Args,
    manifest: &EvidenceManifest,
    store: LayoutStore,
    policy: Option<&Policy>,
    at: SystemTime,
) -> Result<Vec<Verdict>> {
    let trust = args.trust.trust()?;
    // The lists the bundle carries (already checked against the signed listing) count with the
    // plant's own: they can only deny more.
    let carried = manifest
        .blobs_of(Role::RevocationList)
        .map(|b| {
            Ok(ListBundle {
                origin: format!("the bundle's {}", b.name.as_deref().unwrap_or(&b.digest)),
                bytes: store.read_blob(&b.digest, MAX_BUNDLE_BYTES)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let revocations = args.revocations.load_with(carried, &trust, policy, at)?;
    let source = StoreSource::new(StoreReader::open(store)?);
    let mut verdicts = Vec::new();
    for artifact in &manifest.artifacts {
        let request = Request {
            name: Some(artifact.name.clone()),
            trust: trust.clone(),
            signatures: args.trust.signatures()?,
            policy,
            revocations: revocations.clone(),
            ..Request::new(artifact.digest.parse()?, at)
        };
        let budget = Budget::default();
        let decision = engine::decide_within(&request, &[&source], &budget).map_err(explain)?;
        warn_notes(&decision.notes);
        verdicts.push(Verdict {
            name: artifact.name.clone(),
            digest: artifact.digest.clone(),
            allowed: decision.verdict.allowed(),
            violations: decision
                .verdict
                .violations()
                .iter()
                .map(|v| (v.code().to_owned(), v.to_string()))
                .collect(),
        });
    }
    Ok(verdicts)
}

fn verdicts_json(verdicts: &[Verdict]) -> Value {
    verdicts
        .iter()
        .map(|v| {
            json!({
                "name": v.name, "digest": v.digest, "allowed": v.allowed,
                "violations": v.violations.iter().map(|(c, m)| json!({"code": c, "message": m})).collect::<Vec<_>>(),
            })
        })
        .collect()
}

fn refuse(args: &Args, code: &str, message: &str, verdicts: &[Verdict]) -> Result<Outcome> {
    if args.format == Format::Json {
        let doc = json!({
            "schemaVersion": IMPORT_SCHEMA, "imported": false,
            "refused": {"code": code, "message": message},
            "verdicts": verdicts_json(verdicts),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    for v in verdicts.iter().filter(|v| !v.allowed) {
        for (c, m) in &v.violations {
            eprintln!(
                "hallmark: {}: denied: {c}: {}",
                printable(&v.name),
                printable(m)
            );
        }
    }
    eprintln!("hallmark: {code}: {message}; nothing was imported");
    Ok(Outcome::Denied)
}

fn resource(name: &str, digest: &str) -> Result<ResourceDescriptor> {
    let hex = digest.trim_start_matches("sha256:");
    Ok(serde_json::from_value(
        json!({"name": name, "digest": {"sha256": hex}}),
    )?)
}

/// Copies each file artifact out of the store into `dir`, under its file name (a name that is
/// not a plain file name is refused, never used as a path).
/// The file artifacts, each with a name that is a plain file name (checked before anything is
/// committed, so a bad name imports nothing).
fn file_artifacts(
    manifest: &EvidenceManifest,
) -> Result<Vec<&hallmark_remote::evidence::manifest::ArtifactEntry>> {
    let files: Vec<_> = manifest
        .artifacts
        .iter()
        .filter(|a| a.kind == hallmark_remote::evidence::manifest::ArtifactKind::File)
        .collect();
    for artifact in &files {
        let name = Path::new(&artifact.name);
        let plain = name.components().count() == 1
            && matches!(
                name.components().next(),
                Some(std::path::Component::Normal(_))
            );
        if !plain {
            bail!(
                "the artifact name {:?} is not a plain file name",
                printable(&artifact.name)
            );
        }
    }
    Ok(files)
}

fn extract_files(manifest: &EvidenceManifest, store: &LayoutStore, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for artifact in file_artifacts(manifest)? {
        let name = Path::new(&artifact.name);
        let hex = artifact.digest.trim_start_matches("sha256:");
        let from = store.root().join("blobs/sha256").join(hex);
        let to = dir.join(name);
        std::fs::copy(&from, &to).with_context(|| format!("writing {}", to.display()))?;
    }
    Ok(())
}

/// Runs `hallmark bundle import`.
pub fn run(args: Args) -> Result<Outcome> {
    let signer = custody_signer(&args)?;
    let policy = args
        .policy
        .as_deref()
        .map(|p| Policy::load(p, false))
        .transpose()?;
    let importer_trust = args.trust.trust()?;
    let exporter = exporter_trust(&args, &importer_trust)?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let dest_dir = args.store.dir(&cwd);
    let to = match &args.to {
        Some(to) => {
            let reference: Reference = to.parse()?;
            let client = args.registry.client(&reference.registry, &process_env())?;
            Some((client, reference))
        }
        None => None,
    };
    // Staging beside the store: the same filesystem, so committing is a rename.
    let parent = dest_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(".hallmark-import-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a staging directory in {}", parent.display()))?;
    let layout = scratch.path().join("layout");
    let file = std::fs::File::open(&args.bundle)
        .with_context(|| format!("opening {}", args.bundle.display()))?;
    let size = file.metadata()?.len();
    let bar = crate::progress::bytes_bar(size, "reading");
    let bar_handle = bar.clone();
    let limits = Limits {
        blob_bytes: args.max_blob_size,
        ..Limits::default()
    };
    let unpacked = archive::unpack(file, &layout, &limits, move |n| {
        if let Some(bar) = &bar_handle {
            bar.set_position(n);
        }
    })
    .map_err(coded)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let staged = Staged::open(&layout, unpacked).map_err(coded)?;
    let at = SystemTime::now();
    // The plant's own lists bind the exporter too (a station key the plant revoked delivers
    // nothing); the lists the bundle carries count only once its signature holds.
    let plant_lists = args
        .revocations
        .load_quietly(&args.trust.trust()?, policy.as_ref(), at)?;
    if let Some(why) = check_signature(&staged, exporter, plant_lists, at)? {
        return refuse(
            &args,
            hallmark_remote::evidence::SIGNATURE_CODE,
            &format!("the bundle manifest is not signed by a trusted exporter: {why}"),
            &[],
        );
    }
    let manifest = staged.manifest().map_err(coded)?;
    staged.check_listing(&manifest).map_err(coded)?;
    let importer_root = importer_root_digest(&args.trust.trusted_root)?;
    let bundle_root = manifest.trust_root.as_ref().map(|r| r.digest.clone());
    let same_root = bundle_root.as_deref() == Some(importer_root.as_str());
    if !same_root {
        eprintln!(
            "hallmark: note: the bundle was exported with another trust root ({}) than this import uses ({importer_root}); the import verifies with its own",
            bundle_root.as_deref().unwrap_or("none")
        );
    }
    let staging_store = staged.staging_store(&manifest).map_err(coded)?;
    let verdicts = verify_artifacts(&args, &manifest, staging_store, policy.as_ref(), at)?;
    if verdicts.iter().any(|v| !v.allowed) {
        return refuse(
            &args,
            hallmark_remote::evidence::DENIED_CODE,
            "an artifact of the bundle is denied",
            &verdicts,
        );
    }
    if args.files_to.is_some() {
        file_artifacts(&manifest)?;
    }
    // The chain-of-custody attestation.
    let (archive_digest, archive_size) = staged.archive();
    let bundle_name = args.bundle.file_name().map_or_else(
        || "bundle.tar".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut subjects = vec![resource(&bundle_name, archive_digest)?];
    for a in &manifest.artifacts {
        subjects.push(resource(&a.name, &a.digest)?);
    }
    let env = process_env();
    let predicate = json!({
        "importer": {
            "signer": signer.identity(),
            "user": env.get("USER").or_else(|| env.get("LOGNAME")).cloned().unwrap_or_default(),
        },
        "station": args.station,
        "importedAt": humantime::format_rfc3339_seconds(at).to_string(),
        "bundle": {
            "name": bundle_name,
            "digest": archive_digest,
            "size": archive_size,
            "manifest": staged.manifest_digest,
            "exporter": manifest.exporter,
            "created": manifest.created,
            "revocationLists": manifest.blobs_of(Role::RevocationList).map(|b| b.digest.clone()).collect::<Vec<_>>(),
        },
        "trustRoot": {"bundle": bundle_root, "importer": importer_root, "same": same_root},
        "policy": policy.as_ref().map(|p| json!({"digest": p.digest()})),
        "destinations": {
            "store": dest_dir.display().to_string(),
            "registry": args.to,
        },
        "verdicts": verdicts_json(&verdicts),
    });
    let statement = Statement::new(subjects, CUSTODY_V1, predicate)?;
    let custody = signer.sign_statement(&statement)?;
    let custody_json = custody.to_json();
    // Everything verified and the custody record signed (a signer that fails, or a bad file
    // name, must leave nothing imported): commit. The registry first (it reads the staging
    // blobs), then the store (which moves them).
    let mut pushed = 0;
    if let Some((client, reference)) = &to {
        pushed = staged
            .push_to_registry(&manifest, client, reference)
            .map_err(coded)?;
    }
    let store = LayoutStore::open(&dest_dir)
        .with_context(|| format!("opening the store {}", dest_dir.display()))?;
    let moved = staged.commit_to_store(&manifest, &store).map_err(coded)?;
    if let Some(dir) = &args.files_to {
        extract_files(&manifest, &store, dir)?;
    }
    let mut store_subjects = vec![Subject {
        digest: archive_digest.parse()?,
        size: archive_size,
        media_type: FILE_MEDIA_TYPE.to_owned(),
    }];
    for a in &manifest.artifacts {
        store_subjects.push(Subject {
            digest: a.digest.parse()?,
            size: 0,
            media_type: a
                .media_type
                .clone()
                .unwrap_or_else(|| FILE_MEDIA_TYPE.to_owned()),
        });
    }
    let annotations =
        BTreeMap::from([(ANNOTATION_PREDICATE_TYPE.to_owned(), CUSTODY_V1.to_owned())]);
    let custody_manifest = store.put(&custody_json, &store_subjects, &annotations)?;
    // The registry's copy of each image carries its custody record too.
    if let Some((client, reference)) = &to {
        let registry = hallmark_remote::registry::attestations::RegistryAttestations::new(client);
        for a in manifest.artifacts.iter().filter(|a| a.media_type.is_some()) {
            let subject = hallmark_remote::registry::attestations::Resolved {
                reference: reference.with_digest(&a.digest),
                digest: a.digest.clone(),
                media_type: a.media_type.clone().unwrap_or_default(),
                size: 0,
                index: None,
            };
            registry.push(&subject, &custody_json, &annotations)?;
        }
    }
    if args.format == Format::Json {
        let doc = json!({
            "schemaVersion": IMPORT_SCHEMA, "imported": true,
            "bundle": {"digest": archive_digest, "size": archive_size, "manifest": staged.manifest_digest},
            "store": dest_dir.display().to_string(), "blobs": moved, "pushed": pushed,
            "custody": custody_manifest.digest,
            "trustRootSame": same_root,
            "verdicts": verdicts_json(&verdicts),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for v in &verdicts {
            println!("imported {} {}", printable(&v.name), v.digest);
        }
    }
    eprintln!(
        "hallmark: imported {} ({} artifact(s), {moved} blob(s) into {}{}); custody attestation {} signed by {}",
        args.bundle.display(),
        manifest.artifacts.len(),
        dest_dir.display(),
        args.to
            .as_deref()
            .map(|t| format!(", {pushed} item(s) pushed to {t}"))
            .unwrap_or_default(),
        custody_manifest.digest,
        signer.identity()
    );
    Ok(Outcome::Success)
}
