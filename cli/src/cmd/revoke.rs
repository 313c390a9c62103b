//! `hallmark revoke`: writes a signed revocation list (docs/revocation.md). The list is an in-toto
//! statement (predicateType `https://hallmark.dev/revocation/v1`) whose subject is the list
//! itself, signed like every attestation (key or keyless, `signing.rs`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use hallmark_attester::hashing::{hash_file, sha256};
use hallmark_model::digest::Digest;
use hallmark_model::limits::MAX_PREDICATE_BYTES;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::revocation::{Entry, Kind, REVOCATION_V1, RevocationList};
use hallmark_model::statement::Statement;
use hallmark_model::time::Timestamp;

use crate::Outcome;
use crate::evidence::read_key;
use crate::signing::{SignArgs, read_limited};

/// Arguments of `hallmark revoke`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark revoke --name plant-a --sequence 4 --revoke-key old-ci.pub --reason 'key leaked' \\\n    \
--effective 2026-12-01T08:00:00Z --expires 2027-01-01T00:00:00Z --key security.key --output revocations.json\n  \
hallmark revoke --name plant-a --sequence 5 --entries previous-entries.json --artifact dist/fw-1.2.bin \\\n    \
--reason 'CVE-2026-1234' --key security.key --output revocations.json\n\n\
Verify with: hallmark verify ARTIFACT --key k.pub --revocations revocations.json --revocation-key security.pub"
)]
pub struct Args {
    /// The list's name: lists of one name form a series numbered by --sequence.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// The list's number in its series: higher than every list issued before under this name.
    #[arg(long, value_name = "N")]
    pub sequence: u64,
    /// When the list expires (RFC 3339); verifiers refuse it afterwards, so a stale list cannot
    /// stand in for a newer one forever.
    #[arg(long, value_name = "TIME", conflicts_with = "valid_for")]
    pub expires: Option<String>,
    /// How long the list is valid from now, e.g. 30d (instead of --expires).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub valid_for: Option<Duration>,
    /// An artifact to revoke: a file (hashed with SHA-256) or ALGORITHM:HEX. Repeatable.
    #[arg(long, value_name = "FILE|DIGEST")]
    pub artifact: Vec<String>,
    /// A public key (PEM) to revoke, by its keyid. Repeatable.
    #[arg(long, value_name = "PUB")]
    pub revoke_key: Vec<PathBuf>,
    /// A keyid to revoke (hex, as `hallmark verify` reports signers). Repeatable.
    #[arg(long, value_name = "HEX")]
    pub revoke_keyid: Vec<String>,
    /// A keyless certificate identity to revoke (with --identity-issuer). Repeatable.
    #[arg(long, value_name = "ID", requires = "identity_issuer")]
    pub revoke_identity: Vec<String>,
    /// The OIDC issuer of every --revoke-identity.
    #[arg(long, value_name = "URL")]
    pub identity_issuer: Option<String>,
    /// A vendor (profile name) to revoke: all its keys and identities. Repeatable.
    #[arg(long, value_name = "NAME")]
    pub revoke_vendor: Vec<String>,
    /// Why (recorded for every entry given by flags).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// From when the entries given by flags hold (RFC 3339; default: now).
    #[arg(long, value_name = "TIME")]
    pub effective: Option<String>,
    /// More entries: a JSON array of {kind, value, issuer?, reason, effective}, e.g. those of
    /// the previous list of the series.
    #[arg(long, value_name = "FILE")]
    pub entries: Option<PathBuf>,
    /// Where to write the signed list (a Sigstore bundle).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub sign: SignArgs,
}

fn time(flag: &str, text: &str) -> Result<Timestamp> {
    text.parse::<Timestamp>()
        .with_context(|| format!("--{flag} {text}"))
}

/// A file (hashed) or `ALGORITHM:HEX`, for commands that work offline on digests.
pub(crate) fn artifact_digest(text: &str) -> Result<Digest> {
    if Path::new(text).is_file() {
        return hash_file(Path::new(text)).with_context(|| format!("hashing {text}"));
    }
    text.parse::<Digest>()
        .with_context(|| format!("--artifact {text}: neither a file nor ALGORITHM:HEX"))
}

/// The entries the flags and --entries name.
fn entries(args: &Args, now: Timestamp) -> Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = match &args.entries {
        Some(path) => serde_json::from_slice(&read_limited(path, MAX_PREDICATE_BYTES)?)
            .with_context(|| format!("{}: not a JSON array of entries", path.display()))?,
        None => Vec::new(),
    };
    let effective = match &args.effective {
        Some(t) => time("effective", t)?,
        None => now,
    };
    let mut flagged: Vec<(Kind, String, Option<String>)> = Vec::new();
    for a in &args.artifact {
        flagged.push((Kind::Artifact, artifact_digest(a)?.to_string(), None));
    }
    for k in &args.revoke_key {
        flagged.push((Kind::Key, read_key(k)?.keyid().to_owned(), None));
    }
    for k in &args.revoke_keyid {
        flagged.push((Kind::Key, k.clone(), None));
    }
    for i in &args.revoke_identity {
        flagged.push((Kind::Identity, i.clone(), args.identity_issuer.clone()));
    }
    for v in &args.revoke_vendor {
        flagged.push((Kind::Vendor, v.clone(), None));
    }
    if !flagged.is_empty() && args.reason.is_none() {
        bail!("--reason is required for the entries given by flags");
    }
    entries.extend(flagged.into_iter().map(|(kind, value, issuer)| Entry {
        kind,
        value,
        issuer,
        reason: args.reason.clone().unwrap_or_default(),
        effective,
    }));
    if entries.is_empty() {
        bail!(
            "nothing to revoke: give --artifact, --revoke-key, --revoke-keyid, --revoke-identity, --revoke-vendor or --entries"
        );
    }
    Ok(entries)
}

/// Runs `hallmark revoke`.
pub fn run(args: Args) -> Result<Outcome> {
    let signer = args.sign.signer()?;
    let now = Timestamp::new(SystemTime::now())?.whole_seconds();
    let expires = match (&args.expires, args.valid_for) {
        (Some(t), _) => Some(time("expires", t)?),
        (None, Some(d)) => Some(Timestamp::new(now.time() + d)?),
        (None, None) => None,
    };
    let list = RevocationList {
        name: args.name.clone(),
        sequence: args.sequence,
        issued: now,
        expires,
        entries: entries(&args, now)?,
    };
    list.validate()?;
    let subject = ResourceDescriptor {
        name: list.subject_name(),
        digest: sha256(&list.content_bytes()).to_set(),
        ..Default::default()
    };
    let statement = Statement::new(vec![subject], REVOCATION_V1.to_owned(), list.to_value())?;
    let bundle = signer.sign_statement(&statement)?;
    std::fs::write(&args.output, bundle.to_json())
        .with_context(|| format!("writing {}", args.output.display()))?;
    if expires.is_none() {
        eprintln!(
            "hallmark: warning: the list has no expiry (--expires or --valid-for): an older list of this series stays acceptable to verifiers that are not told the newest sequence"
        );
    }
    eprintln!(
        "hallmark: revocation list {} #{} with {} entries signed by {}; written to {}",
        list.name,
        list.sequence,
        list.entries.len(),
        signer.identity(),
        args.output.display()
    );
    Ok(Outcome::Success)
}
