//! SLSA Verification Summary Attestations (`https://slsa.dev/verification_summary/v1`): the
//! record of one policy decision, and accepting a trusted verifier's record as evidence.

use std::time::{Duration, SystemTime};

use hallmark_model::digest::Digest;
use serde::Serialize;
use serde_json::{Value, json};

use crate::session::Session;
use crate::verdict::Candidate;

/// The VSA predicate type.
pub const VSA_V1: &str = "https://slsa.dev/verification_summary/v1";
/// The verifier id Hallmark writes unless told otherwise.
pub const DEFAULT_VERIFIER_ID: &str = "https://hallmark.dev/verifier/cli";

/// What a VSA records about one decision.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Who verified.
    pub verifier_id: String,
    /// Where the policy came from.
    pub policy_uri: String,
    /// `sha256:<hex>` over the policy's modules and data.
    pub policy_digest: String,
    /// The SLSA levels the policy verified, e.g. `SLSA_BUILD_LEVEL_2`.
    pub levels: Vec<String>,
    /// The decision.
    pub passed: bool,
    /// When.
    pub time: SystemTime,
}

/// One input attestation: where it was found and the digest of its bundle.
#[derive(Debug, Clone)]
pub struct InputAttestation {
    /// Where it was found.
    pub uri: String,
    /// `sha256:<hex>` of the attestation (its DSSE payload).
    pub digest: String,
}

fn digest_set(digest: &str) -> Value {
    match digest.split_once(':') {
        Some((alg, hex)) => json!({ alg: hex }),
        None => json!({}),
    }
}

impl Summary {
    /// The VSA predicate for `resource` with these input attestations.
    pub fn predicate(&self, resource: &str, inputs: &[InputAttestation]) -> Value {
        json!({
            "verifier": {
                "id": self.verifier_id,
                "version": {"hallmark": env!("CARGO_PKG_VERSION")},
            },
            "timeVerified": humantime::format_rfc3339_seconds(self.time).to_string(),
            "resourceUri": resource,
            "policy": {"uri": self.policy_uri, "digest": digest_set(&self.policy_digest)},
            "inputAttestations": inputs.iter().map(|i| json!({"uri": i.uri, "digest": digest_set(&i.digest)})).collect::<Vec<_>>(),
            "verificationResult": if self.passed { "PASSED" } else { "FAILED" },
            "verifiedLevels": self.levels,
            "slsaVersion": "1.0",
        })
    }
}

/// A VSA accepted as evidence for an artifact.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedVsa {
    /// Where it was found.
    pub origin: String,
    /// The verifier that signed it: a keyid, or a keyless identity with its issuer.
    pub signer: String,
    /// The verifier id it names.
    pub verifier_id: String,
    /// When the verifier decided.
    pub time_verified: String,
    /// The policy it was decided under.
    pub policy_digest: String,
    /// The levels it records.
    pub verified_levels: Vec<String>,
}

/// Why one candidate VSA was not accepted, or `None` if it is not a VSA at all.
fn check(
    c: &Candidate,
    digest: &Digest,
    trust: &Session<'_>,
    policy_digest: &str,
    now: SystemTime,
    max_age: Duration,
) -> Result<(AcceptedVsa, SystemTime), Option<String>> {
    // Only to skip other attestations quietly: nothing unsigned is trusted below.
    let claims_vsa = trust.peek(c).is_some_and(|p| p.predicate_type == VSA_V1);
    if !claims_vsa {
        return Err(None);
    }
    let verified = trust
        .check(c, digest)
        .map_err(|e| Some(format!("{}: {e}", c.origin)))?;
    if verified.predicate_type() != VSA_V1 {
        return Err(None);
    }
    let p = verified
        .statement()
        .predicate
        .clone()
        .unwrap_or(Value::Null);
    let text = |ptr: &str| p.pointer(ptr).and_then(Value::as_str).unwrap_or("");
    let fail = |why: String| Err(Some(format!("{}: {why}", c.origin)));
    if text("/verificationResult") != "PASSED" {
        return fail(format!(
            "verificationResult is {:?}, not PASSED",
            text("/verificationResult")
        ));
    }
    let when = text("/timeVerified");
    let Ok(at) = humantime::parse_rfc3339(when) else {
        return fail(format!("timeVerified {when:?} is not an RFC 3339 time"));
    };
    if at > now + Duration::from_secs(300) {
        return fail(format!("timeVerified {when} is in the future"));
    }
    if now.duration_since(at).unwrap_or_default() > max_age {
        return fail(format!(
            "verified at {when}, older than {}",
            humantime::format_duration(max_age)
        ));
    }
    let recorded = p
        .pointer("/policy/digest/sha256")
        .and_then(Value::as_str)
        .map(|h| format!("sha256:{h}"))
        .unwrap_or_default();
    if recorded != policy_digest {
        return fail(format!(
            "decided under policy {recorded}, not the given policy {policy_digest}"
        ));
    }
    let accepted = AcceptedVsa {
        origin: c.origin.clone(),
        signer: verified.signers().first().cloned().unwrap_or_default(),
        verifier_id: text("/verifier/id").to_owned(),
        time_verified: when.to_owned(),
        policy_digest: recorded,
        verified_levels: p
            .pointer("/verifiedLevels")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    Ok((accepted, at))
}

/// The newest PASSED VSA among `candidates` for `digest`, signed by a verifier `trust` trusts
/// (its keys, or its keyless identities against the Sigstore trust root), no older than
/// `max_age` at the session's time, and decided under `policy_digest`. The error says why none
/// was taken.
pub fn accept(
    trust: &Session<'_>,
    candidates: &[Candidate],
    digest: &Digest,
    policy_digest: &str,
    max_age: Duration,
) -> Result<AcceptedVsa, String> {
    let now = trust.requirements().at;
    let mut reasons = Vec::new();
    let mut best: Option<(AcceptedVsa, SystemTime)> = None;
    for c in candidates {
        match check(c, digest, trust, policy_digest, now, max_age) {
            Ok((a, at)) => {
                if best.as_ref().is_none_or(|(_, b)| at > *b) {
                    best = Some((a, at));
                }
            }
            Err(Some(why)) => reasons.push(why),
            Err(None) => {}
        }
    }
    best.map(|(a, _)| a).ok_or_else(|| {
        if reasons.is_empty() {
            "no VSA signed by a trusted verifier was found".to_owned()
        } else {
            reasons.join("; ")
        }
    })
}
