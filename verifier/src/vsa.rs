//! SLSA Verification Summary Attestations (`https://slsa.dev/verification_summary/v1`): the
//! record of one policy decision, and accepting a trusted verifier's record as evidence.

use std::time::{Duration, SystemTime};

use std::collections::BTreeMap;

use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::time::Timestamp;
use hallmark_model::vsa::{SLSA_VERSION, VerificationResult, VerificationSummary, VsaVerifier};
use serde::Serialize;
use serde_json::Value;

use crate::Rejection;
use crate::session::Session;
use crate::verdict::Candidate;

pub use hallmark_model::vsa::VSA_V1;
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

fn digest_set(digest: &str) -> BTreeMap<String, String> {
    match digest.split_once(':') {
        Some((alg, hex)) => BTreeMap::from([(alg.to_owned(), hex.to_owned())]),
        None => BTreeMap::new(),
    }
}

impl Summary {
    /// The VSA predicate for `resource` with these input attestations, validated.
    pub fn predicate(
        &self,
        resource: &str,
        inputs: &[InputAttestation],
    ) -> Result<Value, hallmark_model::Error> {
        VerificationSummary {
            verifier: VsaVerifier {
                id: self.verifier_id.clone(),
                version: BTreeMap::from([(
                    "hallmark".to_owned(),
                    env!("CARGO_PKG_VERSION").to_owned(),
                )]),
            },
            time_verified: Timestamp::new(self.time)?.whole_seconds(),
            resource_uri: resource.to_owned(),
            policy: ResourceDescriptor {
                uri: self.policy_uri.clone(),
                digest: digest_set(&self.policy_digest),
                ..Default::default()
            },
            input_attestations: inputs
                .iter()
                .map(|i| ResourceDescriptor {
                    uri: i.uri.clone(),
                    digest: digest_set(&i.digest),
                    ..Default::default()
                })
                .collect(),
            verification_result: if self.passed {
                VerificationResult::Passed
            } else {
                VerificationResult::Failed
            },
            verified_levels: self.levels.clone(),
            dependency_levels: None,
            slsa_version: Some(SLSA_VERSION.to_owned()),
        }
        .to_value()
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

/// Why one VSA was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VsaProblem {
    /// Its signature or statement did not verify against the trusted verifiers.
    #[error("{0}")]
    Unverified(Rejection),
    /// Its predicate is not a valid VSA.
    #[error("not a valid VSA: {0}")]
    Invalid(String),
    /// It records a failed decision.
    #[error("verificationResult is FAILED, not PASSED")]
    Failed,
    /// Its time is ahead of the decision's.
    #[error("timeVerified {0} is in the future")]
    Future(String),
    /// It is older than the caller accepts.
    #[error("verified at {when}, older than {max_age}")]
    TooOld {
        /// Its time.
        when: String,
        /// The oldest accepted, in words.
        max_age: String,
    },
    /// It was decided under another policy.
    #[error("decided under policy {recorded}, not the given policy {wanted}")]
    OtherPolicy {
        /// The policy digest it records.
        recorded: String,
        /// The one asked for.
        wanted: String,
    },
}

/// One VSA that was not accepted, and where it was found.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct VsaRefusal {
    /// Where it was found.
    pub origin: String,
    /// Why it was refused.
    pub problem: VsaProblem,
}

/// Why no VSA was accepted: each one refused (none at all when the list is empty).
#[derive(Debug, Clone, thiserror::Error)]
pub struct NoVsa(pub Vec<VsaRefusal>);

impl std::fmt::Display for NoVsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no VSA signed by a trusted verifier was found");
        }
        for (i, refusal) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{refusal}")?;
        }
        Ok(())
    }
}

/// Why one candidate VSA was not accepted, or `None` if it is not a VSA at all.
fn check(
    c: &Candidate,
    digest: &Digest,
    trust: &Session<'_>,
    policy_digest: &str,
    now: SystemTime,
    max_age: Duration,
) -> Result<(AcceptedVsa, SystemTime), Option<VsaRefusal>> {
    // Only to skip other attestations quietly: nothing unsigned is trusted below.
    let claims_vsa = trust.peek(c).is_some_and(|p| p.predicate_type == VSA_V1);
    if !claims_vsa {
        return Err(None);
    }
    let fail = |problem: VsaProblem| {
        Err(Some(VsaRefusal {
            origin: c.origin.clone(),
            problem,
        }))
    };
    let verified = match trust.check(c, digest) {
        Ok(v) => v,
        Err(e) => return fail(VsaProblem::Unverified(e)),
    };
    if verified.predicate_type() != VSA_V1 {
        return Err(None);
    }
    let predicate = verified
        .statement()
        .predicate
        .clone()
        .unwrap_or(Value::Null);
    let summary = match VerificationSummary::from_value(&predicate) {
        Ok(summary) => summary,
        Err(e) => return fail(VsaProblem::Invalid(e.to_string())),
    };
    let when = summary.time_verified.to_string();
    if !summary.passed() {
        return fail(VsaProblem::Failed);
    }
    let at = summary.time_verified.time();
    if at > now + Duration::from_secs(300) {
        return fail(VsaProblem::Future(when));
    }
    if now.duration_since(at).unwrap_or_default() > max_age {
        return fail(VsaProblem::TooOld {
            when,
            max_age: humantime::format_duration(max_age).to_string(),
        });
    }
    let recorded = summary
        .policy_digest(DigestAlgorithm::Sha256)
        .map(|d| d.to_string())
        .unwrap_or_default();
    if recorded != policy_digest {
        return fail(VsaProblem::OtherPolicy {
            recorded,
            wanted: policy_digest.to_owned(),
        });
    }
    let accepted = AcceptedVsa {
        origin: c.origin.clone(),
        signer: verified.signers().first().cloned().unwrap_or_default(),
        verifier_id: summary.verifier.id,
        time_verified: when,
        policy_digest: recorded,
        verified_levels: summary.verified_levels,
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
) -> Result<AcceptedVsa, NoVsa> {
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
    best.map(|(a, _)| a).ok_or(NoVsa(reasons))
}
