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
use hallmark_model::limits::MAX_PREDICATE_BYTES;
use hallmark_model::provenance::SLSA_PROVENANCE_V1;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::{Statement, check_subject_name};

use super::run::HashArgs;
use crate::Outcome;
use crate::signing::{SignArgs, read_limited};
use crate::store::{OutputArgs, StoreArgs, save};

/// Arguments of `hallmark attest`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["provenance", "predicate"])))]
#[command(
    after_help = "Examples:\n  hallmark attest --subject dist/app.tar --provenance --key k.key\n  \
hallmark attest --subject 'ghcr.io/o/app@sha256:<hex>' --predicate sbom.json --type https://spdx.dev/Document --key k.key\n\n\
On GitHub Actions, --provenance writes exactly what actions/attest-build-provenance writes; on GitLab CI, the \
runner's provenance format; elsewhere a self-asserted local provenance."
)]
pub struct Args {
    /// A file to hash, NAME@sha256:HEX, or sha256:HEX. Repeatable.
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
    #[command(flatten)]
    pub hashing: HashArgs,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Resolves one `--subject`: an existing file, `NAME@ALG:HEX`, or `ALG:HEX`.
fn subject(
    arg: &str,
    cwd: &Path,
    hashing: &HashArgs,
    sizes: &mut BTreeMap<String, u64>,
) -> Result<ResourceDescriptor> {
    let path = Path::new(arg);
    if cwd.join(path).is_file() {
        let hashed = hash_paths(cwd, &[path.to_path_buf()], &hashing.options())?;
        let file = hashed
            .into_iter()
            .next()
            .context("hashing produced nothing")?;
        sizes.insert(file.name.clone(), file.size);
        return Ok(file.to_descriptor());
    }
    let (name, digest) = match arg.rsplit_once('@') {
        Some((name, digest)) => (name, digest),
        None => ("", arg),
    };
    let digest: Digest = digest.parse().with_context(|| {
        format!("subject {arg:?} is neither an existing file nor NAME@sha256:HEX")
    })?;
    check_subject_name(name)?;
    Ok(ResourceDescriptor::named(name, digest.to_set()))
}

/// Runs `hallmark attest`.
pub fn run(args: Args) -> Result<Outcome> {
    let signer = args.sign.signer()?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let mut sizes = BTreeMap::new();
    let subjects = args
        .subject
        .iter()
        .map(|s| subject(s, &cwd, &args.hashing, &mut sizes))
        .collect::<Result<Vec<_>>>()?;
    let (predicate_type, predicate) = if args.provenance {
        let ci = CiContext::detect(&process_env());
        let src = source::discover(&cwd)?;
        (
            SLSA_PROVENANCE_V1.to_owned(),
            job_provenance(&ci, src.as_ref())?.to_value(),
        )
    } else {
        let (Some(path), Some(uri)) = (&args.predicate, &args.predicate_type) else {
            bail!("pass --provenance, or --predicate FILE with --type URI");
        };
        let bytes = read_limited(path, MAX_PREDICATE_BYTES)?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        (uri.clone(), value)
    };
    let statement = Statement::new(subjects, predicate_type, predicate)?;
    let bundle = signer.sign_statement(&statement)?;
    let place = save(
        &bundle,
        &statement,
        &sizes,
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
        place
    );
    Ok(Outcome::Success)
}
