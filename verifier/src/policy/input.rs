//! The policy input document (docs/policy-input.md), built only from verified material.

use std::time::SystemTime;

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
            }))
        })
        .collect();
    json!({
        "version": INPUT_VERSION,
        "artifact": {"digest": verdict.digest(), "name": name},
        "attestations": attestations,
        "chain": chain,
        "context": {"time": humantime::format_rfc3339_seconds(now).to_string(), "facts": facts},
    })
}
