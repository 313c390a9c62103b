//! Renders verdicts for people (`human`) and machines (`json`).

use anyhow::Result;
use hallmark_model::text::is_unsafe;
use hallmark_verifier::attestation::ProvenanceSummary;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::verdict::{AttestationReport, Verdict, Violation};
use hallmark_verifier::vsa::AcceptedVsa;

use hallmark_verifier::engine::Decision;
use hallmark_verifier::policy::Policy;
use serde_json::{Value, json};

/// Output format of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain words.
    Human,
    /// One JSON document.
    Json,
}

/// The `schemaVersion` of `verify --format json` (docs/schemas/verify-v1.json).
pub const VERIFY_SCHEMA: &str = "https://hallmark.dev/schemas/verify/v1";

/// Prints a decision on stdout. JSON has one shape whatever decided (the evidence, or a VSA):
/// every field present, `null` or empty when it does not apply.
pub fn decision(
    decision: &Decision,
    policy: Option<&Policy>,
    name: Option<&str>,
    format: Format,
) -> Result<()> {
    let v = &decision.verdict;
    if format == Format::Json {
        let mut doc = to_json(v, name, &decision.keys);
        if let Some(obj) = doc.as_object_mut() {
            let report = decision.policy.as_ref();
            obj.insert("acceptedVsa".into(), json!(v.accepted_vsa()));
            obj.insert(
                "policy".into(),
                match (policy, report) {
                    (Some(p), Some(r)) => {
                        json!({"path": p.path().display().to_string(), "digest": r.digest})
                    }
                    _ => Value::Null,
                },
            );
            let warnings = report.map(|r| r.warnings.as_slice()).unwrap_or_default();
            obj.insert("warnings".into(), json!(warnings));
            obj.insert("chain".into(), json!(decision.chain));
            obj.insert("notes".into(), json!(decision.notes));
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    match v.accepted_vsa() {
        Some(vsa) => accepted_vsa(vsa, name, v.digest()),
        None => {
            print!("{}", human(v, name, &decision.keys));
            Ok(())
        }
    }
}

/// Prints that a trusted VSA allowed the artifact.
fn accepted_vsa(vsa: &AcceptedVsa, name: Option<&str>, digest: &str) -> Result<()> {
    let mut out = String::new();
    push_line(
        &mut out,
        &format!("ALLOWED  {} ({digest})", name.unwrap_or(digest)),
    );
    push_line(
        &mut out,
        &format!(
            "  by a PASSED verification summary ({}) from {} signed by {}",
            vsa.origin, vsa.verifier_id, vsa.signer
        ),
    );
    push_line(
        &mut out,
        &format!(
            "    verified:   {} under policy {}",
            vsa.time_verified, vsa.policy_digest
        ),
    );
    if !vsa.verified_levels.is_empty() {
        push_line(
            &mut out,
            &format!("    levels:     {}", vsa.verified_levels.join(", ")),
        );
    }
    print!("{out}");
    Ok(())
}

/// A signer: a trusted key (keyid and file), or a keyless identity with its issuer.
pub(crate) fn signer_json(keys: &[TrustedKey], id: &str) -> Value {
    match keys.iter().find(|k| k.keyid() == id) {
        Some(key) => json!({"keyid": id, "key": key.origin()}),
        None => json!({"identity": id}),
    }
}

/// The JSON document: stable field names, documented in docs/ARCHITECTURE.md.
pub fn to_json(verdict: &Verdict, name: Option<&str>, keys: &[TrustedKey]) -> Value {
    let attestations: Vec<Value> = verdict
        .attestations()
        .iter()
        .map(|a| match (&a.verified, &a.rejected) {
            (Some(v), _) => {
                let st = v.statement();
                json!({
                    "origin": a.origin,
                    "alsoFoundAt": a.also_found_at,
                    "verified": true,
                    "satisfies": a.satisfies,
                    "predicateType": st.predicate_type,
                    "step": v.step(),
                    "signers": v.signers().iter().map(|id| signer_json(keys, id)).collect::<Vec<_>>(),
                    "subjects": st.subject.iter().map(|s| json!({"name": s.name, "digest": s.digest})).collect::<Vec<_>>(),
                    "provenance": v.provenance(),
                })
            }
            (None, Some(r)) => json!({
                "origin": a.origin,
                "alsoFoundAt": a.also_found_at,
                "verified": false,
                "check": serde_json::to_value(r).ok().and_then(|v| v.get("check").cloned()),
                "code": r.code(),
                "reason": r.to_string(),
            }),
            (None, None) => json!({"origin": a.origin, "alsoFoundAt": a.also_found_at, "verified": false}),
        })
        .collect();
    json!({
        "schemaVersion": VERIFY_SCHEMA,
        "artifact": { "name": name, "digest": verdict.digest() },
        "verdict": if verdict.allowed() { "allow" } else { "deny" },
        "allowed": verdict.allowed(),
        "violations": verdict.violations().iter().map(|v| {
            let mut doc = serde_json::to_value(v).unwrap_or(Value::Null);
            if let Some(obj) = doc.as_object_mut() {
                obj.insert("message".into(), Value::String(v.to_string()));
                obj.insert("code".into(), Value::String(v.code().to_owned()));
                obj.insert("artifact".into(), json!({"name": name, "digest": verdict.digest()}));
            }
            doc
        }).collect::<Vec<_>>(),
        "attestations": attestations,
    })
}

/// What a reader must know about a step's source: uncommitted changes, and a CI claim that
/// named another commit than the checkout that was built.
pub fn source_warnings(p: &ProvenanceSummary) -> Vec<String> {
    let mut out = Vec::new();
    if p.source_dirty == Some(true) {
        out.push("DIRTY: built with uncommitted changes".to_owned());
    }
    if let Some(claim) = &p.source_ci_claim {
        out.push(format!(
            "MISMATCH: CI ran for commit {} but the checkout built was {}",
            claim.commit,
            p.source_commit.as_deref().unwrap_or("?")
        ));
    }
    out
}

/// Policies see keyids; people see the key file next to a shortened keyid.
fn name_keys(text: &str, keys: &[TrustedKey]) -> String {
    keys.iter().fold(text.to_owned(), |t, k| {
        let id = k.keyid();
        t.replace(
            id,
            &format!("{} (key {})", k.origin(), &id[..id.len().min(12)]),
        )
    })
}

/// Appends one line, with control characters from attacker-supplied text neutralised.
fn push_line(out: &mut String, line: &str) {
    out.extend(line.chars().map(|c| if is_unsafe(c) { '?' } else { c }));
    out.push('\n');
}

/// Where an attestation was found: its first place, and the others holding the same bundle.
fn places(a: &AttestationReport) -> String {
    let mut text = a.origin.clone();
    for other in &a.also_found_at {
        text.push_str("; also ");
        text.push_str(other);
    }
    text
}

fn human(verdict: &Verdict, name: Option<&str>, keys: &[TrustedKey]) -> String {
    let mut out = String::new();
    // A pinned reference (`oci://…@sha256:…`) already shows its digest.
    let what = match name {
        Some(n) if n.ends_with(verdict.digest()) => n.to_owned(),
        Some(n) => format!("{n} ({})", verdict.digest()),
        None => verdict.digest().to_owned(),
    };
    if verdict.allowed() {
        push_line(&mut out, &format!("ALLOWED  {what}"));
    } else {
        push_line(&mut out, &format!("DENIED   {what}"));
        for v in verdict.violations() {
            push_line(&mut out, &name_keys(&format!("  - {v}"), keys));
            if let Violation::Policy { details, .. } = v {
                for field in ["expected", "actual", "attestation"] {
                    if let Some(value) = details.get(field).filter(|v| !v.is_null()) {
                        let text = value
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| value.to_string());
                        push_line(
                            &mut out,
                            &name_keys(&format!("      {field}: {text}"), keys),
                        );
                    }
                }
            }
        }
    }
    for a in verdict.attestations() {
        match (&a.verified, &a.rejected) {
            (Some(v), _) => {
                let role = if a.satisfies {
                    ": the required evidence"
                } else {
                    ""
                };
                push_line(
                    &mut out,
                    &format!("  verified attestation ({}){role}", places(a)),
                );
                if let Some(p) = v.provenance() {
                    if let Some(step) = &p.step {
                        push_line(&mut out, &format!("    step:       {step}"));
                    }
                    push_line(&mut out, &format!("    built by:   {}", p.builder_id));
                    match (&p.source_uri, &p.source_commit) {
                        (Some(uri), Some(c)) => {
                            push_line(&mut out, &format!("    from:       {uri} (commit {c})"))
                        }
                        (None, Some(c)) => {
                            push_line(&mut out, &format!("    from:       commit {c}"))
                        }
                        (Some(uri), None) => push_line(&mut out, &format!("    from:       {uri}")),
                        (None, None) => push_line(&mut out, "    from:       (no source recorded)"),
                    }
                    for warning in source_warnings(p) {
                        push_line(&mut out, &format!("    source:     {warning}"));
                    }
                    if let Some(code) = p.exit_code.filter(|c| *c != 0) {
                        push_line(
                            &mut out,
                            &format!("    exit code:  {code} (the command failed)"),
                        );
                    }
                    if let Some(when) = p.finished_on.as_ref().or(p.started_on.as_ref()) {
                        push_line(&mut out, &format!("    when:       {when}"));
                    }
                }
                push_line(&mut out, &format!("    predicate:  {}", v.predicate_type()));
                for id in v.signers() {
                    match keys.iter().find(|k| k.keyid() == id) {
                        Some(key) => push_line(
                            &mut out,
                            &format!("    signed by:  key {id} ({})", key.origin()),
                        ),
                        None => push_line(&mut out, &format!("    signed by:  {id}")),
                    }
                }
            }
            (None, Some(r)) => {
                push_line(
                    &mut out,
                    &format!("  rejected attestation ({}): {r}", places(a)),
                );
                if let Some(hint) = crate::hint::for_rejection(r) {
                    push_line(&mut out, &format!("    hint: {hint}"));
                }
            }
            (None, None) => {}
        }
    }
    out
}
