//! `hallmark inspect`: the verified provenance chain behind an artifact, for people (a tree) and
//! for reports (JSON, Mermaid, Graphviz DOT).

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use anyhow::Result;
use hallmark_model::budget::Budget;
use hallmark_model::text::printable;
use hallmark_verifier::chain::{Chain, ChainStep};
use hallmark_verifier::engine::{self, Request};
use serde_json::json;

use crate::Outcome;
use crate::evidence::{Evidence, SourceArgs, TrustArgs, explain, warn_notes};
use hallmark_remote::sources::short;

/// Output formats of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectFormat {
    /// An indented tree.
    Tree,
    /// The chain as JSON (the `chain` of the policy input).
    Json,
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
}

/// The `schemaVersion` of `inspect --format json` (docs/schemas/inspect-v1.json).
pub const INSPECT_SCHEMA: &str = "https://hallmark.dev/schemas/inspect/v1";

/// Arguments of `hallmark inspect`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark inspect dist/app.tar --key build.pub --key package.pub\n  \
hallmark inspect dist/app.tar --key k.pub --format mermaid > chain.mmd\n  \
hallmark inspect dist/app.tar --key k.pub --format dot | dot -Tsvg > chain.svg\n\n\
Only attestations that verify against the given trust are shown. Exit codes: 0 a chain was found,\n\
1 nothing verified for the artifact, 2 error."
)]
pub struct Args {
    /// The artifact: a file path, sha256:HEX, or oci://REGISTRY/REPO:TAG|@DIGEST.
    #[arg(value_name = "ARTIFACT")]
    pub artifact: String,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub revocations: crate::revocations::RevocationArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "tree")]
    pub format: InspectFormat,
}

/// Runs `hallmark inspect`.
pub fn run(args: Args) -> Result<Outcome> {
    let budget = Budget::default();
    let evidence = Evidence::gather(&args.artifact, &args.sources, &budget)?;
    let at = SystemTime::now();
    let trust = args.trust.trust()?;
    let request = Request {
        name: evidence.name.clone(),
        aliases: evidence.aliases.clone(),
        revocations: args.revocations.load(&trust, None, at)?,
        trust,
        walk_chain: true,
        ..Request::new(evidence.digest.clone(), at)
    };
    let decision =
        engine::decide_within(&request, &evidence.sources(), &budget).map_err(explain)?;
    warn_notes(&decision.notes);
    let chain = decision.chain.unwrap_or_default();
    let text = match args.format {
        InspectFormat::Tree => tree(&chain, &evidence.label(), &evidence.digest.to_string()),
        InspectFormat::Json => {
            serde_json::to_string_pretty(&json!({
                "schemaVersion": INSPECT_SCHEMA,
                "artifact": {"name": evidence.name, "digest": evidence.digest.to_string()},
                "chain": chain,
            }))? + "\n"
        }
        InspectFormat::Mermaid => mermaid(&chain),
        InspectFormat::Dot => dot(&chain),
    };
    print!("{text}");
    if chain.roots.is_empty() {
        eprintln!(
            "hallmark: no verified provenance for {} ({}); check the trust flags (--key, --certificate-identity)",
            evidence.label(),
            evidence.digest
        );
        return Ok(Outcome::Denied);
    }
    Ok(Outcome::Success)
}

/// Text from an attestation, safe on one line of a terminal.
fn t(text: &str) -> String {
    printable(text)
}

/// A material's or product's digest, shortened, or that it has none.
fn digest_label(digest: &Option<String>) -> String {
    match digest {
        Some(d) => t(short(d)),
        None => "(no digest: unpinned)".to_owned(),
    }
}

/// How many unproduced inputs a tree lists per step before summarising.
const SHOWN_SOURCES: usize = 5;

fn step_title(s: &ChainStep) -> String {
    format!(
        "step {} ({})",
        t(s.step.as_deref().unwrap_or("(unnamed)")),
        t(&s.origin)
    )
}

fn tree(chain: &Chain, label: &str, digest: &str) -> String {
    let by_id: BTreeMap<&str, &ChainStep> =
        chain.steps.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut out = format!("{} {}\n", t(label), short(digest));
    let mut shown = BTreeSet::new();
    for (i, root) in chain.roots.iter().enumerate() {
        if let Some(step) = by_id.get(root.as_str()) {
            let last = i + 1 == chain.roots.len();
            node(&mut out, step, &by_id, "", last, &mut shown);
        }
    }
    if chain.roots.is_empty() {
        out.push_str("└─ (no verified provenance)\n");
    }
    if chain.truncated {
        out.push_str("(the chain was cut short by a size limit)\n");
    }
    out
}

fn node<'a>(
    out: &mut String,
    step: &'a ChainStep,
    by_id: &BTreeMap<&str, &'a ChainStep>,
    prefix: &str,
    last: bool,
    shown: &mut BTreeSet<&'a str>,
) {
    let (branch, inner) = if last {
        ("└─ ", "   ")
    } else {
        ("├─ ", "│  ")
    };
    let child = format!("{prefix}{inner}");
    if !shown.insert(step.id.as_str()) {
        out.push_str(&format!(
            "{prefix}{branch}{} (shown above)\n",
            step_title(step)
        ));
        return;
    }
    out.push_str(&format!("{prefix}{branch}{}\n", step_title(step)));
    let p = &step.provenance;
    if let Some(cmd) = &step.command {
        out.push_str(&format!("{child}  $ {}\n", t(&cmd.join(" "))));
    }
    if let Some(code) = step.exit_code.filter(|c| *c != 0) {
        out.push_str(&format!("{child}  exit code: {code}\n"));
    }
    out.push_str(&format!("{child}  builder: {}\n", t(&p.builder_id)));
    if let Some(uri) = &p.source_uri {
        let commit = p.source_commit.as_deref().unwrap_or("?");
        out.push_str(&format!("{child}  source:  {} ({})\n", t(uri), t(commit)));
    }
    for warning in crate::render::source_warnings(p) {
        out.push_str(&format!("{child}  source:  {}\n", t(&warning)));
    }
    if let (Some(a), Some(b)) = (&p.started_on, &p.finished_on) {
        out.push_str(&format!("{child}  time:    {} .. {}\n", t(a), t(b)));
    }
    out.push_str(&format!(
        "{child}  signed:  {}\n",
        t(&step.signers.join(", "))
    ));
    let (produced, sources): (Vec<_>, Vec<_>) = step.materials.iter().partition(|m| {
        m.produced_by
            .as_ref()
            .is_some_and(|ids| ids.iter().any(|id| by_id.contains_key(id.as_str())))
    });
    let extra = sources.len().saturating_sub(SHOWN_SOURCES);
    let count = produced.len() + sources.len().min(SHOWN_SOURCES) + usize::from(extra > 0);
    let mut n = 0;
    for m in &produced {
        n += 1;
        let (b, i) = if n == count {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        out.push_str(&format!(
            "{child}{b}{} {}\n",
            t(&m.name),
            digest_label(&m.digest)
        ));
        let producers: Vec<&&ChainStep> = m
            .produced_by
            .iter()
            .flatten()
            .filter_map(|id| by_id.get(id.as_str()))
            .collect();
        let grand = format!("{child}{i}");
        for (j, p) in producers.iter().enumerate() {
            node(out, p, by_id, &grand, j + 1 == producers.len(), shown);
        }
    }
    for m in sources.iter().take(SHOWN_SOURCES) {
        n += 1;
        let b = if n == count { "└─ " } else { "├─ " };
        out.push_str(&format!(
            "{child}{b}{} {} (input: no attested step produced it)\n",
            t(&m.name),
            digest_label(&m.digest)
        ));
    }
    if extra > 0 {
        out.push_str(&format!("{child}└─ … and {extra} more inputs\n"));
    }
}

/// `(producer, consumer)` step indexes → the file names carried between them.
type Edges = BTreeMap<(usize, usize), Vec<String>>;

/// The edges between steps, and each step's count of inputs no step produced.
fn edges(chain: &Chain) -> (Edges, Vec<usize>) {
    let index: BTreeMap<&str, usize> = chain
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut edges = Edges::new();
    let mut inputs = vec![0; chain.steps.len()];
    for (to, s) in chain.steps.iter().enumerate() {
        for m in &s.materials {
            let from: Vec<usize> = m
                .produced_by
                .iter()
                .flatten()
                .filter_map(|id| index.get(id.as_str()).copied())
                .collect();
            if from.is_empty() {
                inputs[to] += 1;
            }
            for f in from {
                edges.entry((f, to)).or_default().push(m.name.clone());
            }
        }
    }
    (edges, inputs)
}

fn edge_label(files: &[String]) -> String {
    let mut label = files.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    if files.len() > 3 {
        label.push_str(&format!(" +{}", files.len() - 3));
    }
    label
}

/// Text safe inside a double-quoted Mermaid or DOT label: one line, no quotes, backslashes or
/// markup.
fn quote(text: &str) -> String {
    printable(text)
        .replace(['"', '\\'], "'")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn mermaid(chain: &Chain) -> String {
    let (edges, inputs) = edges(chain);
    let mut out = String::from("flowchart LR\n");
    for (i, s) in chain.steps.iter().enumerate() {
        out.push_str(&format!(
            "  s{i}[\"{}<br/>{}\"]\n",
            quote(s.step.as_deref().unwrap_or("(unnamed)")),
            quote(&s.provenance.builder_id)
        ));
        if inputs[i] > 0 {
            out.push_str(&format!("  in{i}([\"{} input(s)\"]) --> s{i}\n", inputs[i]));
        }
    }
    for ((f, t), files) in &edges {
        out.push_str(&format!(
            "  s{f} -- \"{}\" --> s{t}\n",
            quote(&edge_label(files))
        ));
    }
    for root in &chain.roots {
        if let Some(i) = chain.steps.iter().position(|s| &s.id == root) {
            out.push_str(&format!("  s{i} --> artifact[(\"artifact\")]\n"));
        }
    }
    out
}

fn dot(chain: &Chain) -> String {
    let (edges, inputs) = edges(chain);
    let mut out = String::from("digraph provenance {\n  rankdir=LR;\n  node [shape=box];\n");
    for (i, s) in chain.steps.iter().enumerate() {
        out.push_str(&format!(
            "  s{i} [label=\"{}\\n{}\"];\n",
            quote(s.step.as_deref().unwrap_or("(unnamed)")),
            quote(&s.provenance.builder_id)
        ));
        if inputs[i] > 0 {
            out.push_str(&format!(
                "  in{i} [shape=note,label=\"{} input(s)\"];\n  in{i} -> s{i};\n",
                inputs[i]
            ));
        }
    }
    for ((f, t), files) in &edges {
        out.push_str(&format!(
            "  s{f} -> s{t} [label=\"{}\"];\n",
            quote(&edge_label(files))
        ));
    }
    out.push_str("  artifact [shape=cylinder];\n");
    for root in &chain.roots {
        if let Some(i) = chain.steps.iter().position(|s| &s.id == root) {
            out.push_str(&format!("  s{i} -> artifact;\n"));
        }
    }
    out.push_str("}\n");
    out
}
