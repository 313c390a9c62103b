//! `hallmark attest`: a one-shot attestation about existing subjects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hallmark_attester::ci::{CiContext, process_env};
use hallmark_attester::hashing::hash_paths;
use hallmark_attester::provenance::job::job_provenance;
use hallmark_attester::signer::Signer;
use hallmark_attester::source;
use hallmark_model::digest::Digest;
use hallmark_model::limits::{MAX_PREDICATE_BYTES, MAX_SBOM_BYTES};
use hallmark_model::provenance::SLSA_PROVENANCE_V1;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::{Statement, check_subject_name};

use super::run::HashArgs;
use crate::Outcome;
use crate::registry::RegistryArgs;
use crate::signing::{SignArgs, read_limited};
use crate::store::{OutputArgs, StoreArgs, SubjectMeta, save};
use hallmark_remote::layout::{LayoutStore, Pending};
use hallmark_remote::oci::MANIFEST_MEDIA_TYPE;
use hallmark_remote::registry::attestations::RegistryAttestations;
use hallmark_remote::registry::reference::Reference;

use super::push::push_one;

/// Arguments of `hallmark attest`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["provenance", "predicate", "sbom"])))]
#[command(
    after_help = "Examples:\n  hallmark attest --subject dist/app.tar --provenance --key k.key\n  \
hallmark attest --subject dist/app.tar --sbom app.cdx.json --key k.key\n  \
hallmark attest --subject 'ghcr.io/o/app@sha256:<hex>' --predicate vex.json --type https://openvex.dev/ns --key k.key\n\n\
--sbom validates a CycloneDX (JSON 1.4-1.7) or SPDX 2.3 JSON document against its schema before anything is signed, \
and signs it as https://cyclonedx.org/bom or https://spdx.dev/Document/v2.3 (docs/sbom.md).\n\n\
On GitHub Actions, --provenance writes exactly what actions/attest-build-provenance writes; on GitLab CI, the \
runner's provenance format; elsewhere a self-asserted local provenance."
)]
pub struct Args {
    /// A file to hash, oci://REGISTRY/REPO:TAG or @sha256:HEX (the attestation is pushed next to
    /// it), NAME@sha256:HEX, or sha256:HEX. Repeatable.
    #[arg(long, required = true, value_name = "SUBJECT")]
    pub subject: Vec<String>,
    /// Attest whole-job SLSA provenance for this CI job.
    #[arg(long)]
    pub provenance: bool,
    /// A JSON predicate file to sign (SBOM, test results, ...).
    #[arg(long, value_name = "FILE", requires = "predicate_type")]
    pub predicate: Option<PathBuf>,
    /// The predicate type URI of --predicate.
    #[arg(long = "type", value_name = "URI", requires = "predicate")]
    pub predicate_type: Option<String>,
    /// An SBOM to sign: CycloneDX JSON (1.4-1.7) or SPDX 2.3 JSON, validated against its schema
    /// first; the predicate type follows from the document.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    #[command(flatten)]
    pub hashing: HashArgs,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// For an oci:// image index: attest this platform's manifest (`linux/amd64`, `linux/arm64/v8`).
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// One resolved `--subject`.
struct ResolvedSubject {
    descriptor: ResourceDescriptor,
    meta: SubjectMeta,
    /// For `oci://` subjects: where the attestation is pushed.
    target: Option<Reference>,
}

/// Resolves one `--subject`: an `oci://` reference, an existing file, `NAME@ALG:HEX`, or `ALG:HEX`.
/// A tag is resolved once, here; everything after works on the digest.
fn subject(
    arg: &str,
    cwd: &Path,
    args: &Args,
    env: &BTreeMap<String, String>,
) -> Result<ResolvedSubject> {
    if arg.starts_with("oci://") {
        let reference: Reference = arg.parse()?;
        let name = format!("{}/{}", reference.registry, reference.repository);
        let (target, meta, digest) = match (&reference.digest, &args.platform) {
            // Known digest: nothing to ask the registry now (it may be down; the push can wait).
            (Some(d), None) => {
                let meta = SubjectMeta {
                    size: 0,
                    media_type: MANIFEST_MEDIA_TYPE.to_owned(),
                };
                (reference.clone(), meta, d.clone())
            }
            (_, platform) => {
                let client = args.registry.client(&reference.registry, env)?;
                let resolved = RegistryAttestations::new(&client)
                    .resolve_platform(&reference, platform.as_deref())?;
                eprintln!(
                    "hallmark: {arg} is {}",
                    resolved.describe(platform.as_deref())
                );
                if resolved.is_index() {
                    eprintln!(
                        "hallmark: attesting the whole image index; pass --platform OS/ARCH to attest one platform's manifest"
                    );
                }
                let meta = SubjectMeta {
                    size: resolved.size,
                    media_type: resolved.media_type.clone(),
                };
                (resolved.reference, meta, resolved.digest)
            }
        };
        let digest: Digest = digest.parse()?;
        return Ok(ResolvedSubject {
            descriptor: ResourceDescriptor::named(name, digest.to_set()),
            meta,
            target: Some(target),
        });
    }
    let path = Path::new(arg);
    if cwd.join(path).is_file() {
        let hashed = hash_paths(
            cwd,
            &[path.to_path_buf()],
            &args.hashing.options(cwd, cwd, &args.store)?,
        )?;
        let file = hashed
            .into_iter()
            .next()
            .context("hashing produced nothing")?;
        return Ok(ResolvedSubject {
            meta: SubjectMeta::file(file.size),
            descriptor: file.to_descriptor(),
            target: None,
        });
    }
    let (name, digest) = match arg.rsplit_once('@') {
        Some((name, digest)) => (name, digest),
        None => ("", arg),
    };
    let digest: Digest = digest.parse().with_context(|| {
        format!(
            "subject {arg:?} is neither an existing file, an oci:// reference, nor NAME@sha256:HEX"
        )
    })?;
    check_subject_name(name)?;
    Ok(ResolvedSubject {
        descriptor: ResourceDescriptor::named(name, digest.to_set()),
        meta: SubjectMeta::file(0),
        target: None,
    })
}

/// Reads and validates `--sbom FILE`: (predicate type, document).
fn sbom(path: &Path) -> Result<(String, serde_json::Value)> {
    let bytes = read_limited(path, MAX_SBOM_BYTES)?;
    let checked = hallmark_sbom::check_bytes(&bytes).with_context(|| {
        format!(
            "{} is refused as an SBOM; nothing was signed",
            path.display()
        )
    })?;
    eprintln!(
        "hallmark: {} is {} {} (valid against {})",
        path.display(),
        checked.detected.format,
        checked.detected.spec_version,
        checked.schema
    );
    Ok((checked.predicate_type(), checked.document))
}

/// Runs `hallmark attest`.
pub fn run(args: Args) -> Result<Outcome> {
    // Before the signer or the subjects: an invalid SBOM costs no password prompt or token.
    if let Some(path) = &args.sbom {
        let predicate = sbom(path)?;
        return publish(&args, |_, _, _| Ok(predicate));
    }
    publish(&args, |cwd, env, signer| {
        if args.provenance {
            let ci = CiContext::detect(env);
            let src = source::discover(cwd)?;
            let job_workflow_ref = signer.oidc_claim("job_workflow_ref");
            return Ok((
                SLSA_PROVENANCE_V1.to_owned(),
                job_provenance(&ci, src.as_ref(), job_workflow_ref.as_deref())?.to_value(),
            ));
        }
        let (Some(path), Some(uri)) = (&args.predicate, &args.predicate_type) else {
            bail!("pass --provenance, or --predicate FILE with --type URI");
        };
        if hallmark_model::sbom::format_of_type(uri).is_some() {
            eprintln!(
                "hallmark: hint: --predicate signs the document unchecked; --sbom {} validates it against its schema first",
                path.display()
            );
        }
        let bytes = read_limited(path, MAX_PREDICATE_BYTES)?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        Ok((uri.clone(), value))
    })
}

impl Args {
    /// The arguments of a command that signs its own predicate about `subject` (`approve`,
    /// `record`): no provenance, no predicate file, no hashing options.
    pub fn about(
        subject: String,
        sign: SignArgs,
        store: StoreArgs,
        output: OutputArgs,
        platform: Option<String>,
        registry: RegistryArgs,
    ) -> Args {
        Args {
            subject: vec![subject],
            provenance: false,
            predicate: None,
            predicate_type: None,
            sbom: None,
            hashing: HashArgs {
                exclude: Vec::new(),
                exclude_from: Vec::new(),
                gitignore: false,
                sha512: false,
            },
            sign,
            store,
            output,
            platform,
            registry,
        }
    }
}

/// Signs the predicate that `predicate` makes (once the signer and the `--subject`s are known
/// good) about the subjects, stores it, and pushes it next to `oci://` subjects.
pub fn publish(
    args: &Args,
    predicate: impl FnOnce(
        &Path,
        &BTreeMap<String, String>,
        &dyn Signer,
    ) -> Result<(String, serde_json::Value)>,
) -> Result<Outcome> {
    let signer = args.sign.signer()?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let env = process_env();
    let resolved = args
        .subject
        .iter()
        .map(|s| subject(s, &cwd, args, &env))
        .collect::<Result<Vec<_>>>()?;
    let meta: BTreeMap<String, SubjectMeta> = resolved
        .iter()
        .map(|r| (r.descriptor.name.clone(), r.meta.clone()))
        .collect();
    let (predicate_type, predicate) = predicate(&cwd, &env, signer.as_ref())?;
    let statement = Statement::new(
        resolved.iter().map(|r| r.descriptor.clone()).collect(),
        predicate_type,
        predicate,
    )?;
    let bundle = signer.sign_statement(&statement)?;
    let targets: Vec<&Reference> = resolved.iter().filter_map(|r| r.target.as_ref()).collect();
    if !targets.is_empty() && args.output.no_store {
        bail!(
            "oci:// subjects need the local store (it keeps the attestation until the push succeeds); drop --no-store"
        );
    }
    // The local store first: a failed push must never lose a signed attestation.
    let saved = save(
        &bundle,
        &statement,
        &meta,
        None,
        &args.store,
        &args.output,
        &cwd,
    )?;
    eprintln!(
        "hallmark: attested {} subject(s) with {}; signed by {}; stored in {}",
        statement.subject.len(),
        statement.predicate_type,
        signer.identity(),
        saved.place
    );
    let Some((store_dir, manifest)) = &saved.stored else {
        return Ok(Outcome::Success);
    };
    let mut failed = 0;
    for target in targets {
        let store = LayoutStore::open(store_dir)?;
        store.mark_pending(manifest, &target.to_string())?;
        match push_one(
            &store,
            &Pending {
                manifest_digest: manifest.clone(),
                target: target.to_string(),
            },
            &args.registry,
            &env,
        ) {
            Ok(pushed) => eprintln!("hallmark: pushed to {target} as {pushed}"),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "hallmark: error: pushing to {target} failed: {e:#}\n\
                     hallmark: the signed attestation is pending in the local store {}; run `hallmark push --pending` when the registry is reachable",
                    store_dir.display()
                );
            }
        }
    }
    if failed > 0 {
        return Ok(Outcome::Code(2));
    }
    Ok(Outcome::Success)
}
