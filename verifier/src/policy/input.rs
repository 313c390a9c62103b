//! The policy input document (docs/policy-input.md), built only from verified material.

use std::time::SystemTime;

use hallmark_model::sbom::inventory::Inventory;
use serde_json::{Value, json};

use crate::chain::Chain;
use crate::verdict::Verdict;

/// Version of the policy input document.
pub const INPUT_VERSION: &str = "hallmark.dev/policy-input/v1";

/// The input for `verdict`'s verified attestations and the verified `chain` behind the artifact,
/// at `now`, with caller-supplied `facts`.
pub fn policy_input(
    verdict: &Verdict,
    name: Option<&str>,
    chain: &Chain,
    now: SystemTime,
    facts: &Value,
) -> Value {
    let attestations: Vec<Value> = verdict
        .attestations()
        .iter()
        .filter_map(|a| {
            let v = a.verified.as_ref()?;
            Some(json!({
                "origin": a.origin,
                "predicateType": v.predicate_type(),
                "statement": v.statement(),
                "signers": v.signers(),
                "signerDetails": v.signer_details(),
                "verifiedTimes": v.verified_times(),
                "step": v.step(),
                "provenance": v.provenance(),
                "sbom": v.sbom().map(sbom_input),
            }))
        })
        .collect();
    let mut input = json!({
        "version": INPUT_VERSION,
        "artifact": {"digest": verdict.digest(), "name": name},
        "attestations": attestations,
        "chain": chain,
        "context": {"time": humantime::format_rfc3339_seconds(now).to_string(), "facts": facts},
    });
    super::facts::add_facts(&mut input);
    input
}

/// The compact inventory of a verified SBOM (docs/policy-input.md): what deny rules compare,
/// without cpes and hashes (the statement still holds the whole document).
fn sbom_input(inventory: &Inventory) -> Value {
    let components: Vec<Value> = inventory
        .components
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "version": c.version,
                "purl": c.purl,
                "package": c.package,
                "semver": c.semver,
                "licenses": c.licenses,
            })
        })
        .collect();
    json!({
        "format": inventory.format,
        "specVersion": inventory.spec_version,
        "describes": inventory.describes,
        "componentCount": inventory.component_count,
        "truncated": inventory.truncated,
        "components": components,
    })
}
