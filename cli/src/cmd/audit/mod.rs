//! `hallmark audit`: what is installed or running compared with the evidence in the index
//! (docs/index.md, "Runtime audit"): unattested, unexpected (no deployment record puts it on
//! that target now), revoked and expired software; exit 1 when anything is found.

mod observed;

use std::io::Read;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use hallmark_attester::hashing::HashOptions;
use hallmark_index::audit::{Audit, AuditOptions};
use hallmark_model::target::Target;
use hallmark_model::text::printable;
use hallmark_model::time::Timestamp;
use hallmark_verifier::engine::Trust;
use serde_json::json;

use crate::Outcome;
use crate::cmd::index::DatabaseArgs;
use crate::cmd::report::RoleArgs;
use crate::render::Format;
use crate::revocations::RevocationArgs;
use crate::signing::read_limited;
use crate::store::StoreArgs;
use observed::{MAX_LIST_BYTES, Observed, from_dir, from_list, from_pods};

/// `schemaVersion` of `audit --format json`.
pub const AUDIT_SCHEMA: &str = "https://hallmark.dev/schemas/audit/v1";

/// Arguments of `hallmark audit`.
#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("what").required(true).args(["dir", "digests", "pods"])),
    after_help = "Examples:\n  \
hallmark audit --dir 'C:/Program Files/Vendor/HMI' --target plant-a/line-3/hmi-2   (an install folder, hashed)\n  \
sha256sum /opt/plc/* | hallmark audit --digests - --target plant-a/line-3/plc-1\n  \
kubectl get pods -A -o json | hallmark audit --pods - --target prod-cluster --revocations plant.revocations.json --revocation-key sec.pub\n\n\
Findings: unattested (no verified attestation names it, no verified step consumed it), unexpected (no\n\
deployment record puts it, or an artifact it went into, on a target containing or under --target at that\n\
time), revoked (a verified revocation list names it or the artifact it came in), expired (its newest\n\
approval, or without approvals its newest evidence, is older than --max-age).\n\
Exit codes: 0 nothing found, 1 findings, 2 error."
)]
pub struct Args {
    /// A directory tree: every file is hashed as `hallmark run` hashes products.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A digest list (`sha256sum` output, or `sha256:HEX NAME` lines); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub digests: Option<PathBuf>,
    /// Kubernetes pods: the output of `kubectl get pods -A -o json`; `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    pub pods: Option<PathBuf>,
    /// Where the items are: SITE/LINE/ASSET (or a cluster name for pods).
    #[arg(long, value_name = "TARGET")]
    pub target: String,
    /// When they were seen (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Evidence older than this is expired (e.g. 365d).
    #[arg(long, value_name = "DURATION")]
    pub max_age: Option<humantime::Duration>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub revocations: RevocationArgs,
    #[command(flatten)]
    pub roles: DeployerArgs,
}

/// Who may record deployments.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployerArgs {
    /// An operator's public key: only deployment records it signed put software on a target
    /// (repeatable). Without any, every verified signer's records count (a warning says so).
    #[arg(long, value_name = "PUB")]
    pub deployer_key: Vec<PathBuf>,
}

impl Args {
    /// The JSON schema errors are answered in, with `--format json`.
    pub fn json_schema(&self) -> Option<&'static str> {
        (self.format == Format::Json).then_some(AUDIT_SCHEMA)
    }
}

fn read_input(path: &std::path::Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_LIST_BYTES + 1)
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
        if bytes.len() as u64 > MAX_LIST_BYTES {
            bail!("stdin holds more than {MAX_LIST_BYTES} bytes");
        }
        return Ok(bytes);
    }
    read_limited(path, MAX_LIST_BYTES)
}

/// Runs `hallmark audit`.
pub fn run(args: Args) -> Result<Outcome> {
    let target: Target = args
        .target
        .parse()
        .map_err(|e| anyhow::anyhow!("--target: {e}"))?;
    let at = match &args.at {
        Some(t) => t
            .parse::<Timestamp>()
            .with_context(|| format!("--at {t}"))?
            .time(),
        None => SystemTime::now(),
    };
    let items: Vec<Observed> = if let Some(dir) = &args.dir {
        from_dir(dir, &HashOptions::default())?
    } else if let Some(list) = &args.digests {
        let bytes = read_input(list)?;
        from_list(std::str::from_utf8(&bytes).context("the digest list is not UTF-8")?)?
    } else if let Some(pods) = &args.pods {
        from_pods(&read_input(pods)?)?
    } else {
        bail!("one of --dir, --digests or --pods is required");
    };
    // Revocation lists must be signed by --revocation-key / --revocation-identity.
    let revocations = args.revocations.load(&Trust::default(), None, at)?;
    let mut index = args.database.open(&args.store)?;
    let pairs: Vec<_> = items.into_iter().map(|o| (o.what, o.digest)).collect();
    let deployers = RoleArgs {
        approver_key: Vec::new(),
        deployer_key: args.roles.deployer_key.clone(),
    }
    .deployers()?;
    let audit = index.audit(
        &pairs,
        &AuditOptions {
            target: &target,
            at,
            max_age: args.max_age.map(Into::into),
            revocations: &revocations,
            deployers: deployers.as_deref(),
        },
    )?;
    match args.format {
        Format::Json => {
            let mut doc = serde_json::to_value(&audit)?;
            doc["schemaVersion"] = json!(AUDIT_SCHEMA);
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Human => print_human(&audit),
    }
    Ok(if audit.findings.is_empty() {
        Outcome::Success
    } else {
        Outcome::Denied
    })
}

fn print_human(audit: &Audit) {
    for f in &audit.findings {
        println!(
            "{:<10} {}  {}\n           {}",
            format!("{:?}", f.problem).to_lowercase(),
            printable(&f.what),
            f.digest,
            printable(&f.detail)
        );
    }
    println!(
        "audit of {} at {}: {} item(s) checked, {} clean, {} finding(s)",
        printable(&audit.target),
        audit.at,
        audit.checked,
        audit.clean,
        audit.findings.len()
    );
}
