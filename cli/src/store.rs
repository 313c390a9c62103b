//! Where attestations go: the local OCI layout store, and optional `--output` files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::statement::Statement;
use hallmark_remote::layout::{LayoutStore, Subject};
use hallmark_remote::oci::{ANNOTATION_PREDICATE_TYPE, ANNOTATION_STEP, FILE_MEDIA_TYPE};

/// Store selection.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Attestation store (an OCI image layout directory).
    /// Default: $HALLMARK_STORE, else .hallmark/store at the git root or the current directory.
    #[arg(long, value_name = "DIR", env = "HALLMARK_STORE")]
    pub store: Option<PathBuf>,
}

/// Output format for `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BundleFormat {
    /// Sigstore bundle v0.3 JSON.
    Bundle,
    /// Bare DSSE envelope JSON, for in-toto tools.
    Dsse,
}

/// Where to copy the signed attestation, besides the store.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Also write the signed attestation to FILE.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Format of --output.
    #[arg(long, value_enum, default_value = "bundle")]
    pub format: BundleFormat,
    /// Do not put the attestation in the store (only --output).
    #[arg(long, requires = "output")]
    pub no_store: bool,
}

impl StoreArgs {
    /// The store directory: the flag, $HALLMARK_STORE, or .hallmark/store at the repo root.
    pub fn dir(&self, cwd: &Path) -> PathBuf {
        if let Some(dir) = &self.store {
            return dir.clone();
        }
        let root = hallmark_attester::source::toplevel(cwd).unwrap_or_else(|| cwd.to_path_buf());
        root.join(".hallmark/store")
    }
}

/// What the store records about a subject besides its digest.
#[derive(Debug, Clone)]
pub struct SubjectMeta {
    /// Size in bytes (0 when unknown).
    pub size: u64,
    /// Media type: a file, or an OCI manifest type.
    pub media_type: String,
}

impl SubjectMeta {
    /// A file of `size` bytes.
    pub fn file(size: u64) -> Self {
        SubjectMeta {
            size,
            media_type: FILE_MEDIA_TYPE.to_owned(),
        }
    }
}

/// Where a signed attestation went.
#[derive(Debug, Clone)]
pub struct Saved {
    /// A one-line description for messages.
    pub place: String,
    /// The store directory and the attestation's manifest digest in it, when stored.
    pub stored: Option<(PathBuf, String)>,
}

/// Stores a signed statement and writes `--output`.
pub fn save(
    bundle: &Bundle,
    statement: &Statement,
    meta: &BTreeMap<String, SubjectMeta>,
    step: Option<&str>,
    store_args: &StoreArgs,
    output: &OutputArgs,
    cwd: &Path,
) -> Result<Saved> {
    let subjects = match output.no_store {
        true => Vec::new(),
        false => statement
            .subject
            .iter()
            .filter_map(|s| {
                // Indexed by SHA-256, or by SHA-512 / SHA-384 for a subject named only by it
                // (npm's SHA-512).
                let digest = [
                    DigestAlgorithm::Sha256,
                    DigestAlgorithm::Sha512,
                    DigestAlgorithm::Sha384,
                ]
                .into_iter()
                .find_map(|a| Digest::from_hex(a, s.digest.get(a.name())?).ok())?;
                let m = meta
                    .get(&s.name)
                    .cloned()
                    .unwrap_or_else(|| SubjectMeta::file(0));
                Some(Subject {
                    digest,
                    size: m.size,
                    media_type: m.media_type,
                })
            })
            .collect(),
    };
    save_subjects(
        bundle,
        &statement.predicate_type,
        &subjects,
        step,
        store_args,
        output,
        cwd,
    )
}

/// [`save`] for a statement whose store subjects the caller already has (a step's hashed
/// files), so the statement need not be parsed back.
pub fn save_subjects(
    bundle: &Bundle,
    predicate_type: &str,
    subjects: &[Subject],
    step: Option<&str>,
    store_args: &StoreArgs,
    output: &OutputArgs,
    cwd: &Path,
) -> Result<Saved> {
    let mut places = Vec::new();
    let mut stored = None;
    // Serialized once, for both places.
    let json = bundle.to_json();
    if let Some(path) = &output.output {
        let dsse;
        let bytes = match output.format {
            BundleFormat::Bundle => &json,
            BundleFormat::Dsse => {
                dsse = serde_json::to_vec(&bundle.dsse_envelope)?;
                &dsse
            }
        };
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        places.push(path.display().to_string());
    }
    if !output.no_store {
        let dir = store_args.dir(cwd);
        let store = LayoutStore::open(&dir)
            .with_context(|| format!("opening the store {}", dir.display()))?;
        let mut annotations = BTreeMap::from([
            (
                ANNOTATION_PREDICATE_TYPE.to_owned(),
                predicate_type.to_owned(),
            ),
            (
                "org.opencontainers.image.created".to_owned(),
                humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            ),
        ]);
        if let Some(step) = step {
            annotations.insert(ANNOTATION_STEP.to_owned(), step.to_owned());
        }
        let descriptor = store.put(&json, subjects, &annotations)?;
        places.push(dir.display().to_string());
        stored = Some((dir, descriptor.digest));
    }
    Ok(Saved {
        place: places.join(" and "),
        stored,
    })
}
