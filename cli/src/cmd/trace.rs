//! `hallmark trace forward|backward`: questions across many artifacts, answered from the
//! evidence index (docs/index.md): a tree for people, `--format json` for machines.

use std::fmt::Write as _;

use anyhow::{Result, anyhow};
use hallmark_index::records::{ArtifactChain, LotRecord, ServiceWindow};
use hallmark_index::{ForwardFrom, ForwardTrace, LotTrace, TargetTrace};
use hallmark_model::text::printable;
use hallmark_model::time::Timestamp;
use serde::Serialize;

use crate::Outcome;
use crate::cmd::index::DatabaseArgs;
use crate::render::Format;
use crate::store::StoreArgs;

/// `schemaVersion` of `trace --json`.
pub const TRACE_SCHEMA: &str = "https://hallmark.dev/schemas/trace/v1";

/// Arguments of `hallmark trace`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
hallmark trace forward --commit 4f2a…            which artifacts, deployments and lots came from this commit\n  \
hallmark trace forward --purl pkg:npm/lodash@4.17.20\n  \
hallmark trace backward --lot L-2026-0042         what ran while lot L-2026-0042 was made, and where it came from\n  \
hallmark trace backward --target plant-a/line-3/hmi-2 --at 2026-11-26T09:30:00Z\n\n\
Service windows: a deployment is in service from its deployedAt until the next deployment on the same\n\
target; a lot counts when its [from, to] meets that window (boundaries included). docs/index.md.")]
pub struct Args {
    #[command(subcommand)]
    pub command: TraceCommand,
}

/// Trace directions.
#[derive(Debug, clap::Subcommand)]
pub enum TraceCommand {
    /// From a source commit, a package or a digest to the artifacts built from it, their
    /// deployments and the lots made meanwhile.
    Forward(ForwardArgs),
    /// From a lot, or a target at a time, to what was in service and where it came from.
    Backward(BackwardArgs),
}

/// Where to read the index, and how to print.
#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format: a tree, or one JSON document (schemaVersion trace/v1).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Arguments of `hallmark trace forward`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["commit", "purl", "digest"])))]
pub struct ForwardArgs {
    /// A source commit (full id).
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// A package URL from SBOMs; without @VERSION every version.
    #[arg(long, value_name = "PURL")]
    pub purl: Option<String>,
    /// A digest: an input (step material) or an artifact.
    #[arg(long, value_name = "ALG:HEX")]
    pub digest: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// Arguments of `hallmark trace backward`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["lot", "target"])))]
pub struct BackwardArgs {
    /// A lot id.
    #[arg(long, value_name = "ID")]
    pub lot: Option<String>,
    /// A target (SITE/LINE/ASSET, or a line or site for everything under it), with --at.
    #[arg(long, value_name = "TARGET", requires = "at")]
    pub target: Option<String>,
    /// The time (RFC 3339), with --target.
    #[arg(long, value_name = "TIME", requires = "target")]
    pub at: Option<Timestamp>,
    #[command(flatten)]
    pub common: Common,
}

impl Args {
    /// The schema of the JSON output asked for, if any.
    pub fn json_schema(&self) -> Option<&'static str> {
        let json = match &self.command {
            TraceCommand::Forward(a) => a.common.format == Format::Json,
            TraceCommand::Backward(a) => a.common.format == Format::Json,
        };
        json.then_some(TRACE_SCHEMA)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Doc<'a, T: Serialize> {
    schema_version: &'static str,
    direction: &'static str,
    #[serde(flatten)]
    trace: &'a T,
}

fn print_json<T: Serialize>(direction: &'static str, trace: &T) -> Result<()> {
    let doc = Doc {
        schema_version: TRACE_SCHEMA,
        direction,
        trace,
    };
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

/// Runs `hallmark trace`.
pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        TraceCommand::Forward(a) => {
            let from = match (a.commit, a.purl, a.digest) {
                (Some(c), _, _) => ForwardFrom::Commit(c),
                (_, Some(p), _) => ForwardFrom::Purl(p),
                (_, _, Some(d)) => ForwardFrom::Digest(d),
                _ => return Err(anyhow!("--commit, --purl or --digest")),
            };
            let mut index = a.common.database.open(&a.common.store)?;
            let trace = index.trace_forward(&from).map_err(|e| anyhow!(e))?;
            if a.common.format == Format::Json {
                print_json("forward", &trace)?;
            } else {
                print!("{}", forward_tree(&trace));
            }
        }
        TraceCommand::Backward(a) => {
            let mut index = a.common.database.open(&a.common.store)?;
            match (a.lot, a.target, a.at) {
                (Some(lot), _, _) => {
                    let trace = index.trace_lot(&lot).map_err(|e| anyhow!(e))?;
                    if trace.records.is_empty() {
                        eprintln!("hallmark: no lot {} in the index", printable(&lot));
                    }
                    if a.common.format == Format::Json {
                        print_json("backward", &trace)?;
                    } else {
                        print!("{}", lot_tree(&trace));
                    }
                }
                (None, Some(target), Some(at)) => {
                    let trace = index.trace_target(&target, at).map_err(|e| anyhow!(e))?;
                    if a.common.format == Format::Json {
                        print_json("backward", &trace)?;
                    } else {
                        print!("{}", target_tree(&trace));
                    }
                }
                _ => return Err(anyhow!("--lot ID, or --target T with --at TIME")),
            }
        }
    }
    Ok(Outcome::Success)
}

fn p(s: &str) -> String {
    printable(s)
}

fn window(w: &ServiceWindow) -> String {
    let until = w
        .until
        .map_or_else(|| "in service".to_owned(), |u| format!("until {u}"));
    let mut line = format!("{} from {} {until}", p(&w.target), w.deployed_at);
    for (label, value) in [("change", &w.change), ("work order", &w.work_order)] {
        if let Some(v) = value {
            let _ = write!(line, ", {label} {}", p(v));
        }
    }
    if w.breaks_chain {
        line.push_str(" (its record names another predecessor: gap in the history)");
    }
    line
}

fn lot(l: &LotRecord) -> String {
    let product = l
        .product
        .as_deref()
        .map_or_else(String::new, |p| format!(" ({})", printable(p)));
    format!(
        "lot {} on {} {} → {}{product}",
        p(&l.lot),
        p(&l.target),
        l.from,
        l.to
    )
}

fn artifact_name(digest: &str, names: &[String]) -> String {
    match names.first() {
        Some(n) => format!("{} {digest}", p(n)),
        None => digest.to_owned(),
    }
}

fn forward_tree(t: &ForwardTrace) -> String {
    let mut out = String::new();
    let from = match &t.from {
        ForwardFrom::Commit(c) => format!("commit {}", p(c)),
        ForwardFrom::Purl(u) => format!("package {}", p(u)),
        ForwardFrom::Digest(d) => format!("digest {}", p(d)),
    };
    let _ = writeln!(out, "{from}: {} artifact(s)", t.artifacts.len());
    for (i, a) in t.artifacts.iter().enumerate() {
        let last = i + 1 == t.artifacts.len();
        let (branch, pad) = if last {
            ("└─", "   ")
        } else {
            ("├─", "│  ")
        };
        let _ = writeln!(
            out,
            "{branch} {} (depth {})",
            artifact_name(&a.digest, &a.names),
            a.depth
        );
        if a.deployments.is_empty() {
            let _ = writeln!(out, "{pad}└─ not deployed");
        }
        for (j, d) in a.deployments.iter().enumerate() {
            let dlast = j + 1 == a.deployments.len();
            let (db, dp) = if dlast {
                ("└─", "   ")
            } else {
                ("├─", "│  ")
            };
            let _ = writeln!(out, "{pad}{db} deployed to {}", window(&d.window));
            for (k, l) in d.lots.iter().enumerate() {
                let lb = if k + 1 == d.lots.len() {
                    "└─"
                } else {
                    "├─"
                };
                let _ = writeln!(out, "{pad}{dp}{lb} {}", lot(l));
            }
        }
    }
    if t.truncated {
        out.push_str("(truncated: too many artifacts)\n");
    }
    out
}

fn chain_lines(out: &mut String, pad: &str, c: &ArtifactChain) {
    let mut lines = Vec::new();
    for s in &c.steps {
        let mut line = format!(
            "{}step {} by {}",
            "  ".repeat(s.depth),
            p(s.step.as_deref().unwrap_or("(provenance)")),
            p(s.builder_id.as_deref().unwrap_or("?"))
        );
        if let Some(src) = &s.source {
            let _ = write!(
                line,
                ", source {}@{}",
                p(src.uri.as_deref().unwrap_or("?")),
                p(&src.commit)
            );
        }
        let _ = write!(line, ", signed by {}", p(&s.signers.join(", ")));
        lines.push(line);
    }
    for a in &c.approvals {
        lines.push(format!(
            "approved for {}{} at {} by {}",
            p(a.environment.as_deref().unwrap_or("every environment")),
            a.ticket
                .as_deref()
                .map_or_else(String::new, |t| format!(" ({})", p(t))),
            a.approved_at,
            p(&a.signers.join(", "))
        ));
    }
    if c.approvals.is_empty() {
        lines.push("no approval in the index".to_owned());
    }
    if !c.packages.is_empty() {
        let purls: Vec<String> = c.packages.iter().map(|k| p(&k.purl)).collect();
        lines.push(format!("packages: {}", purls.join(", ")));
    }
    if c.truncated {
        lines.push("(chain truncated)".to_owned());
    }
    for (i, l) in lines.iter().enumerate() {
        let b = if i + 1 == lines.len() {
            "└─"
        } else {
            "├─"
        };
        let _ = writeln!(out, "{pad}{b} {l}");
    }
}

fn running_tree(out: &mut String, running: &[ServiceWindow], chains: &[ArtifactChain]) {
    if running.is_empty() {
        out.push_str("└─ nothing recorded in service\n");
    }
    for (i, w) in running.iter().enumerate() {
        let last = i + 1 == running.len();
        let (b, pad) = if last {
            ("└─", "   ")
        } else {
            ("├─", "│  ")
        };
        let chain = chains.iter().find(|c| c.digest == w.artifact);
        let names = chain.map(|c| c.names.as_slice()).unwrap_or_default();
        let _ = writeln!(out, "{b} {}", artifact_name(&w.artifact, names));
        let _ = writeln!(out, "{pad}├─ on {}", window(w));
        if let Some(c) = chain {
            chain_lines(out, pad, c);
        }
    }
}

fn lot_tree(t: &LotTrace) -> String {
    let mut out = String::new();
    if t.records.is_empty() {
        let _ = writeln!(out, "lot {}: not in the index", p(&t.lot));
    }
    for r in &t.records {
        let _ = writeln!(out, "{}", lot(r));
    }
    running_tree(&mut out, &t.running, &t.artifacts);
    out
}

fn target_tree(t: &TargetTrace) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} at {}", p(&t.target), t.at);
    running_tree(&mut out, &t.running, &t.artifacts);
    out
}
