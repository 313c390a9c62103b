//! `hallmark trust update|show`: the Sigstore trust roots, refreshed through TUF.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, Result};
use hallmark_remote::tuf::{self, Mirror, Refresh};
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::trust_root::{
    CertificateAuthority, TransparencyLog, TrustRoot, Validity,
};
use serde_json::{Value, json};

use crate::Outcome;
use crate::coded::coded;
use crate::roots::{Origin, Resolved, cache_dir, resolve};
use crate::signing::read_limited;

/// The `schemaVersion` of `trust update|show --format json` (docs/schemas/trust-v1.json).
pub const TRUST_SCHEMA: &str = "https://hallmark.dev/schemas/trust/v1";

/// Arguments of `hallmark trust`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Verification never goes online: `verify`, `verify-bundle` and `inspect` \
read the trust roots of --trusted-root, else those the last `trust update` verified, else the \
public-good snapshot embedded in hallmark. The cache lives in $HALLMARK_CACHE_DIR/tuf (default \
$XDG_CACHE_HOME/hallmark/tuf or ~/.cache/hallmark/tuf).\n\n\
Examples:\n  hallmark trust update\n  \
hallmark trust update --mirror /media/usb/sigstore-tuf      # an air-gapped copy\n  \
hallmark trust update --mirror https://tuf.example.com/ --root example-root.json\n  \
hallmark trust show --format json"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: TrustCommand,
}

/// Trust subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TrustCommand {
    /// Refresh the Sigstore trusted root from a TUF repository (public-good by default),
    /// verifying every role (signatures, thresholds, root rotations, expiry, rollback) and the
    /// target's length and hashes. A refresh that fails changes nothing.
    Update(UpdateArgs),
    /// Show the trust roots verification uses, where they came from, and when a refresh is due.
    Show(ShowArgs),
}

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// One JSON document (docs/schemas/trust-v1.json).
    Json,
}

/// Arguments of `hallmark trust update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The TUF repository: an http(s) URL (metadata at the URL, targets under targets/), or a
    /// local directory (a mirror copied across an air gap; `metadata/` and `targets/` inside it
    /// are found).
    #[arg(long, value_name = "URL|DIR", default_value = tuf::PUBLIC_GOOD)]
    pub mirror: String,
    /// Where the targets are, when not under the mirror's `targets/`.
    #[arg(long, value_name = "URL")]
    pub targets_url: Option<String>,
    /// The TUF root.json to trust first (default: the public-good root embedded in hallmark, or
    /// a newer one an earlier update verified). Needed for any other repository.
    #[arg(long, value_name = "FILE")]
    pub root: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Arguments of `hallmark trust show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Show these trust roots instead (as `verify --trusted-root` reads them). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

impl Args {
    /// True when JSON output was asked for.
    pub fn json(&self) -> bool {
        let format = match &self.command {
            TrustCommand::Update(a) => a.format,
            TrustCommand::Show(a) => a.format,
        };
        format == Format::Json
    }
}

/// Runs `hallmark trust`.
pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        TrustCommand::Update(args) => update(args),
        TrustCommand::Show(args) => {
            let resolved = resolve(&args.trusted_root)?;
            print(&resolved, args.format);
            Ok(Outcome::Success)
        }
    }
}

fn update(args: UpdateArgs) -> Result<Outcome> {
    let tuf_error = |e: tuf::Error| coded(e.code(), e.to_string());
    let mut mirror = Mirror::parse(&args.mirror).map_err(tuf_error)?;
    if let Some(url) = &args.targets_url {
        let targets = Mirror::parse(url).map_err(tuf_error)?;
        mirror.targets = targets.metadata;
    }
    let cache = cache_dir()
        .context("no cache directory: set HALLMARK_CACHE_DIR (or HOME, or XDG_CACHE_HOME)")?;
    let initial_root = match &args.root {
        Some(path) => read_limited(path, 512 * 1024)?,
        None => embedded::TUF_ROOT.to_vec(),
    };
    let agent = hallmark_remote::http::agent(None, None)?;
    eprintln!("hallmark: refreshing the trust root from {}", mirror.name());
    let refresh = Refresh {
        mirror: &mirror,
        initial_root: &initial_root,
        explicit_root: args.root.is_some(),
        cache: &cache,
        at: SystemTime::now(),
        agent,
    };
    tuf::refresh(&refresh).map_err(|e| {
        let hint = match (&e, args.root.is_none(), mirror == Mirror::public_good()) {
            (tuf::Error::Signature { .. }, true, false) => {
                " (for a repository other than public-good, pass its root.json with --root)"
            }
            _ => "",
        };
        coded(e.code(), format!("{e}{hint}"))
    })?;
    let resolved = resolve(&[])?;
    print(&resolved, args.format);
    Ok(Outcome::Success)
}

fn time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn print(resolved: &Resolved, format: Format) {
    let roots: Vec<&TrustRoot> = resolved.roots.iter().collect();
    match format {
        Format::Json => {
            let doc = document(resolved, &roots);
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            match &resolved.origin {
                Origin::Files => println!("Sigstore trust roots: --trusted-root files"),
                Origin::Embedded => println!(
                    "Sigstore trust root: the public-good snapshot embedded in hallmark ({}); \
                     `hallmark trust update` refreshes it",
                    embedded::SNAPSHOT
                ),
                Origin::Cache(c) => {
                    println!(
                        "Sigstore trust root: TUF {} (refreshed {})",
                        c.mirror,
                        time(c.refreshed_at)
                    );
                    let v = c.versions;
                    let due = if c.expires < SystemTime::now() {
                        "; past it: run `hallmark trust update`"
                    } else {
                        ""
                    };
                    println!(
                        "  TUF root v{}, timestamp v{}, snapshot v{}, targets v{}; refresh due by {} ({} expiry){due}",
                        v.root,
                        v.timestamp,
                        v.snapshot,
                        v.targets,
                        time(c.expires),
                        c.expires_role
                    );
                    println!("  trusted_root.json {}", c.trusted_root_digest);
                }
            }
            for (i, root) in roots.iter().enumerate() {
                if roots.len() > 1 {
                    println!("  root {}:", i + 1);
                }
                for (what, lines) in [
                    (
                        "transparency logs",
                        root.tlogs.iter().map(log_line).collect::<Vec<_>>(),
                    ),
                    (
                        "certificate authorities",
                        root.certificate_authorities.iter().map(ca_line).collect(),
                    ),
                    ("CT logs", root.ctlogs.iter().map(log_line).collect()),
                    (
                        "timestamp authorities",
                        root.timestamp_authorities.iter().map(ca_line).collect(),
                    ),
                ] {
                    println!("  {what}: {}", lines.len());
                    for line in lines {
                        println!("    {line}");
                    }
                }
            }
        }
    }
}

fn window(v: Option<&Validity>) -> String {
    match v {
        None => "always".into(),
        Some(v) => format!(
            "{} → {}",
            time(v.start),
            v.end.map(time).unwrap_or_default()
        ),
    }
}

fn log_line(log: &TransparencyLog) -> String {
    format!("{} ({})", log.base_url, window(log.validity.as_ref()))
}

fn ca_line(ca: &CertificateAuthority) -> String {
    format!("{} ({})", ca.uri, window(ca.validity.as_ref()))
}

fn validity_json(v: Option<&Validity>) -> (Value, Value) {
    match v {
        None => (Value::Null, Value::Null),
        Some(v) => (time(v.start).into(), v.end.map(time).into()),
    }
}

fn log_json(log: &TransparencyLog) -> Value {
    use base64::Engine;
    let (from, until) = validity_json(log.validity.as_ref());
    json!({
        "baseUrl": log.base_url,
        "logId": base64::engine::general_purpose::STANDARD.encode(&log.log_id),
        "validFrom": from,
        "validUntil": until,
    })
}

fn ca_json(ca: &CertificateAuthority) -> Value {
    let (from, until) = validity_json(ca.validity.as_ref());
    json!({"uri": ca.uri, "validFrom": from, "validUntil": until})
}

fn document(resolved: &Resolved, roots: &[&TrustRoot]) -> Value {
    let roots: Vec<Value> = roots
        .iter()
        .map(|r| {
            json!({
                "tlogs": r.tlogs.iter().map(log_json).collect::<Vec<_>>(),
                "certificateAuthorities": r.certificate_authorities.iter().map(ca_json).collect::<Vec<_>>(),
                "ctlogs": r.ctlogs.iter().map(log_json).collect::<Vec<_>>(),
                "timestampAuthorities": r.timestamp_authorities.iter().map(ca_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let tuf = match &resolved.origin {
        Origin::Cache(c) => json!({
            "mirror": c.mirror,
            "refreshedAt": time(c.refreshed_at),
            "expires": time(c.expires),
            "expiresRole": c.expires_role,
            "due": c.expires < SystemTime::now(),
            "versions": c.versions,
            "trustedRootDigest": c.trusted_root_digest,
            "signingConfig": c.signing_config.is_some(),
        }),
        _ => Value::Null,
    };
    let source = match resolved.origin {
        Origin::Files => "files",
        Origin::Cache(_) => "tuf",
        Origin::Embedded => "embedded",
    };
    json!({
        "schemaVersion": TRUST_SCHEMA,
        "source": source,
        "embeddedSnapshot": embedded::SNAPSHOT,
        "cache": cache_dir().map(|d| d.display().to_string()),
        "tuf": tuf,
        "roots": roots,
    })
}
