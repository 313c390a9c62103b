//! `hallmark sbom`: the inventory of an artifact's verified SBOMs (components, versions, purls,
//! licenses). The evidence is checked by the engine (`engine::decide`, as `verify` does); only
//! SBOM attestations that verified against the given trust are shown (docs/sbom.md).

use std::time::SystemTime;

use anyhow::Result;
use hallmark_model::budget::Budget;
use hallmark_model::sbom::SBOM_PREDICATE_TYPES;
use hallmark_model::sbom::inventory::{Component, Inventory};
use hallmark_model::text::printable;
use hallmark_verifier::attestation::VerifiedAttestation;
use hallmark_verifier::engine::{self, Request};
use hallmark_verifier::keys::TrustedKey;
use serde_json::{Value, json};

use crate::Outcome;
use crate::evidence::{Evidence, SourceArgs, TrustArgs, explain, warn_notes};
use crate::render::{Format, signer_json};

/// The `schemaVersion` of `sbom --format json` (docs/schemas/sbom-v1.json).
pub const SBOM_SCHEMA: &str = "https://hallmark.dev/schemas/sbom/v1";

/// Arguments of `hallmark sbom`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  hallmark sbom dist/app.tar --key k.pub\n  \
hallmark sbom oci://registry.example/app:1.0 --certificate-identity ID --certificate-oidc-issuer URL --format json\n\n\
Only SBOM attestations (CycloneDX, SPDX) that verify against the given trust are shown; each is also\n\
checked against its JSON schema (reported, not required: another producer may have signed it).\n\
Exit codes: 0 at least one verified SBOM, 1 none, 2 error.")]
pub struct Args {
    /// The artifact: a file path, sha256:HEX, or oci://REGISTRY/REPO:TAG|@DIGEST.
    #[arg(value_name = "ARTIFACT")]
    pub artifact: String,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Runs `hallmark sbom`.
pub fn run(args: Args) -> Result<Outcome> {
    let budget = Budget::default();
    let evidence = Evidence::gather(&args.artifact, &args.sources, &budget)?;
    let request = Request {
        name: evidence.name.clone(),
        aliases: evidence.aliases.clone(),
        trust: args.trust.trust()?,
        signatures: args.trust.signatures()?,
        predicate_types: SBOM_PREDICATE_TYPES
            .iter()
            .map(|t| (*t).to_owned())
            .collect(),
        ..Request::new(evidence.digest.clone(), SystemTime::now())
    };
    let decision =
        engine::decide_within(&request, &evidence.sources(), &budget).map_err(explain)?;
    warn_notes(&decision.notes);
    let reports = decision.verdict.attestations();
    let sboms: Vec<(&str, &VerifiedAttestation, &Inventory)> = reports
        .iter()
        .filter_map(|a| {
            let v = a.verified.as_ref()?;
            Some((a.origin.as_str(), v, v.sbom()?))
        })
        .collect();
    let rejected: Vec<Value> = reports
        .iter()
        .filter_map(|a| {
            let r = a.rejected.as_ref()?;
            Some(json!({"origin": a.origin, "code": r.code(), "reason": r.to_string()}))
        })
        .collect();
    let docs: Vec<Value> = sboms
        .iter()
        .map(|(origin, v, inventory)| sbom_json(origin, v, inventory, &decision.keys))
        .collect();
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "schemaVersion": SBOM_SCHEMA,
                "artifact": {"name": evidence.name, "digest": evidence.digest.to_string()},
                "sboms": docs,
                "rejected": rejected,
                "notes": decision.notes,
            }))?
        ),
        Format::Human => print!(
            "{}",
            human(&evidence.label(), &evidence.digest.to_string(), &docs)
        ),
    }
    if sboms.is_empty() {
        eprintln!(
            "hallmark: no verified SBOM for {} ({}); {} attestation(s) did not verify; check the trust flags (--key, --certificate-identity)",
            evidence.label(),
            evidence.digest,
            rejected.len()
        );
        return Ok(Outcome::Denied);
    }
    Ok(Outcome::Success)
}

/// Whether the signed document follows its schema: `valid` null for a version Hallmark has no
/// schema for.
fn schema_check(v: &VerifiedAttestation) -> Value {
    let Some(document) = &v.statement().predicate else {
        return json!({"name": null, "valid": null, "violations": []});
    };
    match hallmark_sbom::validate(document) {
        Ok((_, schema)) => json!({"name": schema, "valid": true, "violations": []}),
        Err(hallmark_sbom::Error::Invalid {
            schema, violations, ..
        }) => json!({
            "name": schema,
            "valid": false,
            "violations": violations.iter().map(|x| json!({
                "pointer": x.pointer, "keyword": x.keyword, "message": x.message,
            })).collect::<Vec<_>>(),
        }),
        Err(_) => json!({"name": null, "valid": null, "violations": []}),
    }
}

fn component_json(c: &Component) -> Value {
    json!({
        "name": c.name,
        "version": c.version,
        "purl": c.purl,
        "cpe": c.cpe,
        "licenses": c.licenses,
        "hashes": c.hashes,
    })
}

fn sbom_json(
    origin: &str,
    v: &VerifiedAttestation,
    inventory: &Inventory,
    keys: &[TrustedKey],
) -> Value {
    json!({
        "origin": origin,
        "predicateType": v.predicate_type(),
        "signers": v.signers().iter().map(|id| signer_json(keys, id)).collect::<Vec<_>>(),
        "verifiedTimes": v.verified_times(),
        "format": inventory.format,
        "specVersion": inventory.spec_version,
        "describes": inventory.describes,
        "schema": schema_check(v),
        "componentCount": inventory.component_count,
        "truncated": inventory.truncated,
        "components": inventory.components.iter().map(component_json).collect::<Vec<_>>(),
    })
}

/// Text from a signed document, safe for a terminal.
fn t(v: &Value) -> String {
    match v {
        Value::String(s) => printable(s),
        Value::Null => "-".to_owned(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(t).collect::<Vec<_>>().join(", "),
        other => printable(&other.to_string()),
    }
}

fn human(label: &str, digest: &str, docs: &[Value]) -> String {
    let mut out = format!(
        "{} verified SBOM(s) for {} ({digest})\n",
        docs.len(),
        printable(label)
    );
    for doc in docs {
        let schema = &doc["schema"];
        let validity = match schema["valid"].as_bool() {
            Some(true) => format!("valid against {}", t(&schema["name"])),
            Some(false) => format!(
                "INVALID against {} ({} violation(s), e.g. at {:?}: {})",
                t(&schema["name"]),
                schema["violations"].as_array().map_or(0, Vec::len),
                t(&schema["violations"][0]["pointer"]),
                t(&schema["violations"][0]["message"]),
            ),
            None => "no schema for this version".to_owned(),
        };
        let signers: Vec<String> = doc["signers"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|s| match (&s["keyid"], &s["key"], &s["identity"]) {
                        (Value::String(id), Value::String(key), _) => {
                            format!("{} ({})", t(&json!(id)), t(&json!(key)))
                        }
                        (Value::String(id), _, _) => t(&json!(id)),
                        (_, _, identity) => t(identity),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "\n{} {} SBOM{} ({}), {} component(s){}\n  from {}, signed by {}\n",
            t(&doc["format"]),
            t(&doc["specVersion"]),
            match &doc["describes"] {
                Value::String(d) => format!(" of {}", printable(d)),
                _ => String::new(),
            },
            validity,
            doc["componentCount"],
            if doc["truncated"] == json!(true) {
                " (only the first ones are listed)"
            } else {
                ""
            },
            t(&doc["origin"]),
            signers.join(", "),
        ));
        let rows: Vec<[String; 4]> = doc["components"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|c| {
                        [
                            t(&c["name"]),
                            t(&c["version"]),
                            t(&c["purl"]),
                            t(&c["licenses"]),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push_str(&table(&["NAME", "VERSION", "PURL", "LICENSES"], &rows));
    }
    out
}

/// Columns padded to their widest cell (by characters), indented by four spaces.
fn table(header: &[&str; 4], rows: &[[String; 4]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count()).min(80);
        }
    }
    let line = |cells: [&str; 4]| {
        let mut s = String::from("    ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 3 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(*header);
    for row in rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    out
}
