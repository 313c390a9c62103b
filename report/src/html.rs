//! The report as one self-contained HTML page: inline styles and inline SVG chain diagrams, no
//! scripts and no external assets, so it opens the same offline, in an archive, years later.
//! Every string from evidence is escaped: attestations are attacker-supplied text.

use std::fmt::Write;

use crate::assess::{ControlResult, Report, Status};
use crate::evidence::{Artifact, Kind};

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}table{border-collapse:collapse;width:100%;table-layout:fixed}\
th,td{border:1px solid #c9d1d9;padding:.35em .6em;text-align:left;vertical-align:top;overflow-wrap:anywhere}ul{margin:0;padding-left:1.1em}\
th{background:#f3f5f7}code{font-size:.9em}.status{font-weight:600;padding:.1em .5em;border-radius:.3em}\
.satisfied{background:#d3f5dc;color:#14532d}.partial{background:#fff2c6;color:#6b4e00}\
.not-satisfied{background:#ffd7d5;color:#7f1d1d}.not-applicable{background:#e8eaed;color:#3c4043}\
.stale{color:#b45309;font-weight:600}.muted{color:#57606a}svg{max-width:100%;height:auto}";

/// The report as HTML.
pub fn page(report: &Report) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>Hallmark compliance report</title><style>{STYLE}</style></head><body>\n\
<h1>Compliance report: {}</h1>\n<p class=\"muted\">Generated {}{}; {} artifacts; evidence verified by Hallmark.</p>\n",
        esc(&report.control_set),
        esc(&report.generated_at.to_string()),
        report
            .since
            .map(|s| format!(", evidence since {}", esc(&s.to_string())))
            .unwrap_or_default(),
        report.artifacts.len()
    );
    controls_table(&mut h, &report.controls);
    h.push_str("<h2>Artifacts</h2>\n");
    if report.artifacts.is_empty() {
        h.push_str("<p>No artifacts in scope.</p>\n");
    }
    for artifact in &report.artifacts {
        artifact_section(&mut h, artifact);
    }
    h.push_str("</body></html>\n");
    h
}

fn controls_table(h: &mut String, controls: &[ControlResult]) {
    h.push_str(
        "<h2>Controls</h2>\n<table id=\"controls\"><thead><tr><th style=\"width:6%\">Control</th><th style=\"width:20%\">Title</th>\
<th style=\"width:10%\">Status</th><th style=\"width:27%\">Satisfied by</th><th style=\"width:24%\">Missing</th><th style=\"width:13%\">Evidence age</th></tr></thead><tbody>\n",
    );
    for c in controls {
        let class = match c.status {
            Status::Satisfied => "satisfied",
            Status::Partial => "partial",
            Status::NotSatisfied => "not-satisfied",
            Status::NotApplicable => "not-applicable",
        };
        let met: String = c
            .met
            .iter()
            .map(|m| {
                format!(
                    "<li><code>{}</code>: {}</li>",
                    esc(short(&m.artifact)),
                    esc(&m.summary)
                )
            })
            .collect();
        let missing: String = c
            .missing
            .iter()
            .map(|m| {
                if m.artifact.is_empty() {
                    format!("<li>{}</li>", esc(&m.what))
                } else {
                    format!(
                        "<li><code>{}</code>: {}</li>",
                        esc(short(&m.artifact)),
                        esc(&m.what)
                    )
                }
            })
            .collect();
        let age = match &c.freshness {
            Some(f) => format!(
                "<span class=\"{}\">newest {} day(s) old</span><br><span class=\"muted\">{} … {}</span>",
                if f.stale { "stale" } else { "" },
                f.newest_age_days,
                esc(&f.oldest.to_string()),
                esc(&f.newest.to_string())
            ),
            None => "<span class=\"muted\">none</span>".to_owned(),
        };
        let _ = writeln!(
            h,
            "<tr id=\"control-{}\"><td><b>{}</b></td><td>{}<br><span class=\"muted\">{}</span></td>\
<td><span class=\"status {class}\">{}</span></td><td><ul>{met}</ul></td><td><ul>{missing}</ul></td><td>{age}</td></tr>",
            esc(&c.control.id),
            esc(&c.control.label),
            esc(&c.control.title),
            esc(c.control.evidence),
            c.status.name(),
        );
    }
    h.push_str("</tbody></table>\n");
}

fn artifact_section(h: &mut String, artifact: &Artifact) {
    let name = artifact
        .names
        .first()
        .map(String::as_str)
        .unwrap_or("(unnamed)");
    let _ = writeln!(
        h,
        "<h3>{}{}</h3>\n<p><code>{}</code></p>",
        esc(name),
        if artifact.revoked {
            " <span class=\"status not-satisfied\">revoked</span>"
        } else {
            ""
        },
        esc(&artifact.digest)
    );
    h.push_str(&chain_svg(artifact));
    h.push_str(
        "<table><thead><tr><th>Attestation</th><th>What</th><th>Signed by</th><th>Signed</th>\
<th>Verified</th><th>From</th></tr></thead><tbody>\n",
    );
    for a in &artifact.attestations {
        let _ = writeln!(
            h,
            "<tr id=\"attestation-{}\"><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&a.id),
            esc(short(&a.id)),
            if a.about_artifact {
                ""
            } else {
                " <span class=\"muted\">(upstream step)</span>"
            },
            esc(&describe(&a.kind)),
            esc(&a.signers.join(", ")),
            a.signed_at.map(|t| esc(&t.to_string())).unwrap_or_default(),
            if a.time_proven { " (proven)" } else { "" },
            esc(&a.verified_at.to_string()),
            esc(&a.origin)
        );
    }
    h.push_str("</tbody></table>\n");
}

/// Source → steps → artifact → approvals → deployments, one column each.
fn chain_svg(artifact: &Artifact) -> String {
    let mut columns: Vec<(&str, Vec<String>)> = Vec::new();
    let mut sources = Vec::new();
    let mut steps = Vec::new();
    let mut approvals = Vec::new();
    let mut deployments = Vec::new();
    for a in &artifact.attestations {
        match &a.kind {
            Kind::Provenance {
                step,
                builder,
                source_repository,
                source_commit,
                ..
            } => {
                if let (Some(r), Some(c)) = (source_repository, source_commit) {
                    let s = format!("{}@{}", tail(r), short(c));
                    if !sources.contains(&s) {
                        sources.push(s);
                    }
                }
                let s = step.clone().unwrap_or_else(|| tail(builder).to_owned());
                if !steps.contains(&s) {
                    steps.push(s);
                }
            }
            Kind::Approval { environment, .. } => approvals.push(format!(
                "approved: {}",
                environment.as_deref().unwrap_or("any environment")
            )),
            Kind::Deployment { target, .. } => deployments.push(target.clone()),
            _ => {}
        }
    }
    for (title, items) in [
        ("source", sources),
        ("steps", steps),
        (
            "artifact",
            vec![
                artifact
                    .names
                    .first()
                    .cloned()
                    .unwrap_or_else(|| short(&artifact.digest).to_owned()),
            ],
        ),
        ("approvals", approvals),
        ("deployments", deployments),
    ] {
        if !items.is_empty() {
            columns.push((title, items));
        }
    }
    const W: usize = 190;
    const GAP: usize = 40;
    const BOX: usize = 30;
    let rows = columns
        .iter()
        .map(|(_, i)| i.len().min(8))
        .max()
        .unwrap_or(1);
    let width = columns.len() * (W + GAP);
    let height = 30 + rows * (BOX + 10);
    let mut svg = format!(
        "<svg role=\"img\" aria-label=\"chain\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );
    for (col, (title, items)) in columns.iter().enumerate() {
        let x = col * (W + GAP);
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"14\" font-size=\"12\" fill=\"#57606a\">{title}</text>"
        );
        for (row, item) in items.iter().take(8).enumerate() {
            let y = 22 + row * (BOX + 10);
            let _ = write!(
                svg,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{BOX}\" rx=\"5\" fill=\"#f3f5f7\" stroke=\"#8c959f\"/>\
<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
                x + 8,
                y + 19,
                esc(&clip(item, 26))
            );
        }
        if col + 1 < columns.len() {
            let y = 22 + BOX / 2;
            let _ = write!(
                svg,
                "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#57606a\" stroke-width=\"2\"/>\
<polygon points=\"{},{} {},{} {},{}\" fill=\"#57606a\"/>",
                x + W,
                x + W + GAP - 6,
                x + W + GAP - 6,
                y - 5,
                x + W + GAP,
                y,
                x + W + GAP - 6,
                y + 5
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Provenance { step, builder, .. } => match step {
            Some(step) => format!("provenance of step {step} ({builder})"),
            None => format!("provenance ({builder})"),
        },
        Kind::Sbom { packages } => format!("SBOM, {packages} components"),
        Kind::Approval {
            environment,
            ticket,
            ..
        } => format!(
            "approval for {}{}",
            environment.as_deref().unwrap_or("every environment"),
            ticket
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        ),
        Kind::Deployment { target, change, .. } => format!(
            "deployment to {target}{}",
            change
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        ),
        Kind::Vsa { result, .. } => format!("verification summary: {result}"),
        Kind::Other { predicate_type } => predicate_type.clone(),
    }
}

/// HTML-escaped text (element content and quoted attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn short(s: &str) -> &str {
    match s.split_once(':') {
        Some((_, hex)) if hex.len() > 16 => &s[..s.len() - hex.len() + 16],
        _ => s.get(..28).unwrap_or(s),
    }
}

fn tail(uri: &str) -> &str {
    uri.trim_end_matches('/').rsplit('/').next().unwrap_or(uri)
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}
