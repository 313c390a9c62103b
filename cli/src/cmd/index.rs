//! `hallmark index add`: verify every attestation of a store, an evidence bundle or a registry
//! artifact with this site's trust, and put those that verify into the evidence index
//! (docs/index.md). One that does not verify is reported and never written.

mod read;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use hallmark_index::Index;
use hallmark_index::verify::Found;
use hallmark_model::text::printable;
use hallmark_verifier::engine::Trust;
use hallmark_verifier::revocation::Revocations;
use hallmark_verifier::sigstore::identity::Matcher;
use serde_json::json;

use crate::Outcome;
use crate::evidence::{TrustArgs, explain};
use crate::registry::RegistryArgs;
use crate::render::Format;
use crate::revocations::RevocationArgs;
use crate::store::StoreArgs;

/// `schemaVersion` of `index add --json`.
pub const INDEX_ADD_SCHEMA: &str = "https://hallmark.dev/schemas/index-add/v1";

/// Attestations verified and written per transaction.
const BATCH: usize = 1000;

/// Arguments of `hallmark index`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: IndexCommand,
}

/// Index subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum IndexCommand {
    /// Verify attestations (a store, evidence bundles, registry artifacts) and index those that
    /// verify; report those that do not.
    Add(AddArgs),
}

/// Which index: `--database`, `$HALLMARK_INDEX`, or `index.sqlite` beside the store.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// The index: a SQLite file, or postgres://USER@HOST:PORT/DB (a password is better given in
    /// $HALLMARK_INDEX than on the command line). Default: index.sqlite beside the store
    /// (.hallmark/index.sqlite for the default store).
    #[arg(long, value_name = "PATH|postgres://…", env = "HALLMARK_INDEX")]
    pub database: Option<String>,
}

impl DatabaseArgs {
    /// The location to open.
    pub fn location(&self, store: &StoreArgs) -> Result<String> {
        if let Some(db) = &self.database {
            return Ok(db.clone());
        }
        let cwd = std::env::current_dir().context("reading the current directory")?;
        let dir = store.dir(&cwd);
        let beside = dir
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(beside.join("index.sqlite").display().to_string())
    }

    /// Opens the index (creating and migrating it).
    pub fn open(&self, store: &StoreArgs) -> Result<Index> {
        let location = self.location(store)?;
        Index::open(&location).map_err(|e| anyhow::anyhow!(e))
    }
}

/// Arguments of `hallmark index add`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
hallmark index add --key ci.pub                          (the default store, into .hallmark/index.sqlite)\n  \
hallmark index add --store /srv/hallmark/store --key ci.pub --database postgres://hallmark@127.0.0.1/evidence --format json\n  \
hallmark index add app-1.4.tar --key vendor.pub --revocations plant.revocations.json\n  \
hallmark index add oci://registry.plant.local/acme/app:v1 --certificate-identity ID --certificate-oidc-issuer URL\n\n\
Each attestation is verified with the trust flags (as `verify` takes them) before it is written; each row\n\
records that trust and the time. An attestation that fails verification is reported (stderr, and --format json)\n\
and never written; the others are. Re-adding changes nothing.\n\
Exit codes: 0 every attestation verified and is indexed, 1 some failed verification (the rest are\n\
indexed), 2 error (nothing of the failing batch was written).")]
pub struct AddArgs {
    /// What to read besides --store: evidence bundles (FILE.tar, from `hallmark bundle export`)
    /// and registry artifacts (oci://REGISTRY/REPO:TAG|@DIGEST: that artifact's attestations;
    /// oci://REGISTRY/REPO: those of every tagged artifact of the repository).
    /// Without any, the store is read.
    #[arg(value_name = "BUNDLE.tar|oci://…")]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub revocations: RevocationArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Output format: a summary on stderr, or one JSON document (schemaVersion index-add/v1)
    /// on stdout.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

impl Args {
    /// The schema of the JSON output asked for, if any.
    pub fn json_schema(&self) -> Option<&'static str> {
        match &self.command {
            IndexCommand::Add(a) if a.format == Format::Json => Some(INDEX_ADD_SCHEMA),
            IndexCommand::Add(_) => None,
        }
    }
}

/// Runs `hallmark index`.
pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        IndexCommand::Add(args) => add(args),
    }
}

fn matcher(m: &Matcher) -> String {
    match m {
        Matcher::Exact(s) => s.clone(),
        Matcher::Regex(re) => format!("/{}/", re.as_str()),
    }
}

/// The trust in words, for the rows: keys by id, identities with issuers, revocation lists.
fn describe(trust: &Trust, revocations: &Revocations, threshold: Option<usize>) -> String {
    let mut parts = Vec::new();
    if !trust.keys.is_empty() {
        let ids: Vec<&str> = trust.keys.iter().map(|k| k.keyid()).collect();
        parts.push(format!("keys {}", ids.join(",")));
    }
    for identity in &trust.identities {
        parts.push(format!(
            "identity {} issuer {}",
            matcher(&identity.identity),
            matcher(&identity.issuer)
        ));
    }
    if let Some(n) = threshold {
        parts.push(format!("threshold {n}"));
    }
    for list in revocations.lists() {
        parts.push(format!("revocations {}#{}", list.name, list.sequence));
    }
    parts.join("; ")
}

fn add(args: AddArgs) -> Result<Outcome> {
    let at = SystemTime::now();
    let trust = args.trust.trust()?;
    if trust.is_empty() {
        return Err(explain(hallmark_verifier::engine::Error::NoTrust));
    }
    let revocations = args.revocations.load(&trust, None, at)?;
    let mut requirements = trust.requirements(at).map_err(explain)?;
    requirements.signatures = args.trust.signatures()?;
    requirements.revocations = revocations;
    let description = describe(&trust, &requirements.revocations, args.trust.threshold);
    let read_store = args.store.store.is_some() || args.sources.is_empty();
    let mut read = read::Read::default();
    if read_store {
        let cwd = std::env::current_dir().context("reading the current directory")?;
        read.store(&args.store.dir(&cwd))?;
    }
    let staging = tempfile::tempdir().context("making a directory to unpack bundles in")?;
    for (i, source) in args.sources.iter().enumerate() {
        if source.starts_with("oci://") {
            read.registry(source, &args.registry)?;
        } else {
            read.bundle(Path::new(source), &staging.path().join(i.to_string()))?;
        }
    }
    let mut index = args.database.open(&args.store)?;
    let location = index.location().to_string();
    let found: Vec<Found<'_>> = read
        .found
        .iter()
        .map(|(origin, bundle)| Found { origin, bundle })
        .collect();
    let (mut added, mut already) = (0usize, 0usize);
    let mut rejected = read.unreadable.clone();
    let mut notes = Vec::new();
    index
        .verify_and_add(
            &found,
            &requirements,
            &description,
            BATCH,
            |f, outcome| match outcome {
                Ok(hallmark_index::Ingested::Added { id, notes: n }) => {
                    added += 1;
                    notes.extend(n.iter().map(|n| json!({"id": id, "note": n})));
                }
                Ok(hallmark_index::Ingested::AlreadyIndexed { .. }) => already += 1,
                Err(rejection) => rejected.push(json!({
                    "origin": f.origin,
                    "code": rejection.code(),
                    "message": rejection.to_string(),
                })),
            },
        )
        .map_err(|e| anyhow::anyhow!(e))
        .with_context(|| format!("writing to the index {location}"))?;
    for r in &rejected {
        eprintln!(
            "hallmark: rejected {}: {} ({})",
            printable(r["origin"].as_str().unwrap_or_default()),
            printable(r["message"].as_str().unwrap_or_default()),
            r["code"].as_str().unwrap_or_default()
        );
    }
    for n in &notes {
        eprintln!(
            "hallmark: note: {}: {}",
            n["id"].as_str().unwrap_or_default(),
            printable(n["note"].as_str().unwrap_or_default())
        );
    }
    if args.format == Format::Json {
        let doc = json!({
            "schemaVersion": INDEX_ADD_SCHEMA,
            "database": location,
            "read": found.len() + read.unreadable.len(),
            "added": added,
            "alreadyIndexed": already,
            "rejected": rejected,
            "notes": notes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        eprintln!(
            "hallmark: {added} attestation(s) indexed, {already} already indexed, {} rejected, in {location}",
            rejected.len()
        );
    }
    if found.is_empty() && read.unreadable.is_empty() {
        bail!("no attestations found to index");
    }
    Ok(if rejected.is_empty() {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}
