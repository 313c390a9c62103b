//! The report as OSCAL assessment results (OSCAL 1.1.3, NIST's JSON model): one result, one
//! finding per control, one observation per artifact that meets it. UUIDs are name-based, so
//! the same report gives the same document.

use serde_json::{Value, json};

use crate::assess::{ControlResult, Report, Status};
use crate::uuid::v5;

/// The OSCAL version written.
pub const OSCAL_VERSION: &str = "1.1.3";

/// The report as an OSCAL `assessment-results` document.
pub fn assessment_results(report: &Report) -> Value {
    let at = report.generated_at.to_string();
    let seed = format!("{}/{}", report.control_set, at);
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for result in &report.controls {
        let related: Vec<Value> = observations_of(result, &seed, &mut observations);
        findings.push(finding(result, &seed, related));
    }
    let start = report
        .since
        .map(|s| s.to_string())
        .unwrap_or_else(|| at.clone());
    let mut result = json!({
        "uuid": v5(&format!("{seed}/result")),
        "title": "Verified supply-chain evidence",
        "description": "Evidence from attestations verified by Hallmark (signatures, certificates, \
    transparency-log proofs and timestamps checked against the configured trust), mapped to controls.",
        "start": start,
        "end": at,
        "reviewed-controls": {
            "control-selections": [{
                "include-controls": report.controls.iter()
                    .map(|c| json!({"control-id": c.control.id}))
                    .collect::<Vec<_>>()
            }]
        },
        "findings": findings,
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    json!({
        "assessment-results": {
            "uuid": v5(&format!("{seed}/assessment-results")),
            "metadata": {
                "title": format!("Hallmark compliance report: {}", report.control_set),
                "last-modified": at,
                "version": env!("CARGO_PKG_VERSION"),
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": {
                "href": "#hallmark-evidence-index",
                "remarks": "Assessed automatically from Hallmark's evidence index; there is no separate assessment plan document."
            },
            "results": [result],
        }
    })
}

fn observations_of(result: &ControlResult, seed: &str, out: &mut Vec<Value>) -> Vec<Value> {
    let mut related = Vec::new();
    for met in &result.met {
        let uuid = v5(&format!("{seed}/{}/{}", result.control.id, met.artifact));
        let collected = result
            .freshness
            .as_ref()
            .map(|f| f.newest.to_string())
            .unwrap_or_default();
        out.push(json!({
            "uuid": uuid,
            "title": format!("{} for {}", result.control.label, met.artifact),
            "description": met.summary,
            "methods": ["TEST"],
            "types": ["control-objective"],
            "collected": collected,
            "relevant-evidence": met.attestations.iter().map(|id| json!({
                "href": format!("#attestation-{id}"),
                "description": format!("verified attestation {id}"),
            })).collect::<Vec<_>>(),
        }));
        related.push(json!({"observation-uuid": uuid}));
    }
    related
}

fn finding(result: &ControlResult, seed: &str, related: Vec<Value>) -> Value {
    let (state, reason) = match result.status {
        Status::Satisfied | Status::NotApplicable => ("satisfied", "pass"),
        Status::Partial | Status::NotSatisfied => ("not-satisfied", "fail"),
    };
    let mut remarks: Vec<String> = result
        .missing
        .iter()
        .map(|m| {
            if m.artifact.is_empty() {
                m.what.clone()
            } else {
                format!("{}: {}", m.artifact, m.what)
            }
        })
        .collect();
    if result.status == Status::NotApplicable {
        remarks.push("not applicable to the artifacts in scope".into());
    }
    let reason = if result.status == Status::NotApplicable {
        "other"
    } else {
        reason
    };
    let mut status = json!({"state": state, "reason": reason});
    if !remarks.is_empty() {
        status["remarks"] = Value::String(remarks.join("\n"));
    }
    let mut finding = json!({
        "uuid": v5(&format!("{seed}/{}/finding", result.control.id)),
        "title": format!("{} {}", result.control.label, result.control.title),
        "description": format!("{} ({}): {}", result.control.label, result.status.name(),
            result.control.evidence),
        "target": {
            "type": "statement-id",
            "target-id": format!("{}_smt", result.control.id),
            "status": status,
        },
    });
    if !related.is_empty() {
        finding["related-observations"] = Value::Array(related);
    }
    finding
}
