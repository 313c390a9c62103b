//! The verdict on an artifact: every candidate attestation checked, then the requirements.

use hallmark_model::digest::Digest;
use serde::Serialize;

use crate::Rejection;
use crate::attestation::{SignaturePolicy, VerifiedAttestation, verify_bundle};
use crate::keys::TrustedKey;
use crate::sigstore;
use crate::sigstore::identity::IdentityPolicy;
use crate::sigstore::trust_root::TrustRoot;
use crate::sigstore::verify::{Artifact, SignerTrust};
use std::time::SystemTime;

/// A bundle found for the artifact, and where it was found.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Where it came from: a store manifest digest or a file name.
    pub origin: String,
    /// The bundle bytes.
    pub bytes: Vec<u8>,
}

/// Trust for keyless (Fulcio-certificate) bundles.
#[derive(Debug, Clone)]
pub struct KeylessTrust {
    /// The Sigstore trust root.
    pub root: TrustRoot,
    /// Who may have signed: the bundle must match one of these (flags, or identities a
    /// declarative policy names).
    pub identities: Vec<IdentityPolicy>,
}

/// What must hold for the artifact to be allowed.
#[derive(Debug, Clone, Default)]
pub struct Requirements {
    /// Trusted keys.
    pub keys: Vec<TrustedKey>,
    /// Trusted keyless identities, if any.
    pub keyless: Option<KeylessTrust>,
    /// The time of verification (`None`: now).
    pub at: Option<SystemTime>,
    /// Steps that must each have a verified attestation for the artifact.
    pub steps: Vec<String>,
    /// How many signatures each envelope needs.
    pub signatures: SignaturePolicy,
}

/// The outcome for one candidate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationReport {
    /// Where the bundle came from.
    pub origin: String,
    /// The verified attestation, if it passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<VerifiedAttestation>,
    /// Why it was rejected, if it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Rejection>,
}

/// A reason the artifact is denied.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Violation {
    /// Nothing attests this digest.
    #[error(
        "no attestation matches this digest ({digest}); the artifact was changed or never attested"
    )]
    NoAttestation {
        /// The artifact digest.
        digest: String,
    },
    /// Attestations exist, but none verified.
    #[error("none of the {count} attestations for {digest} could be verified")]
    NoneVerified {
        /// The artifact digest.
        digest: String,
        /// How many were tried.
        count: usize,
    },
    /// A policy rule denied the artifact.
    #[error("policy: {code}: {message}")]
    Policy {
        /// The rule's code, e.g. `step.missing`.
        code: String,
        /// The rule's message.
        message: String,
        /// Everything else the rule reported (step, file, attestation, expected, actual).
        details: serde_json::Value,
    },
    /// The step's only verified attestations record a failed command.
    #[error(
        "step {step:?} recorded exit code {exit_code}: a failed step does not attest the artifact"
    )]
    StepFailed {
        /// The step (empty when the provenance names none).
        step: String,
        /// The non-zero exit code it recorded.
        #[serde(rename = "exitCode")]
        exit_code: i64,
    },
    /// A required step has no verified attestation.
    #[error(
        "required step {step:?} has no verified attestation for this artifact (verified steps: {found})"
    )]
    MissingStep {
        /// The step.
        step: String,
        /// The steps that were found.
        found: String,
    },
}

/// The decision.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// The artifact's digest.
    pub digest: String,
    /// True when every requirement holds.
    pub allowed: bool,
    /// What was checked.
    pub attestations: Vec<AttestationReport>,
    /// Why it was denied (empty when allowed).
    pub violations: Vec<Violation>,
}

impl Verdict {
    /// The attestations that verified.
    pub fn verified(&self) -> impl Iterator<Item = &VerifiedAttestation> {
        self.attestations.iter().filter_map(|a| a.verified.as_ref())
    }
}

/// Checks one candidate: key-signed bundles against the keys, keyless ones against the
/// Sigstore trust root and identity.
pub(crate) fn check_candidate(
    c: &Candidate,
    digest: &Digest,
    requirements: &Requirements,
) -> Result<VerifiedAttestation, Rejection> {
    match verify_bundle(
        &c.bytes,
        digest,
        &requirements.keys,
        requirements.signatures,
    ) {
        Err(Rejection::Keyless) => {
            let keyless = requirements.keyless.as_ref().ok_or(Rejection::Keyless)?;
            let now = requirements.at.unwrap_or_else(SystemTime::now);
            let mut first_error = None;
            let mut found = None;
            for identity in &keyless.identities {
                match sigstore::verify::verify_bundle(
                    &c.bytes,
                    Artifact {
                        sha256: digest,
                        bytes: None,
                    },
                    &keyless.root,
                    SignerTrust::Identity(identity),
                    now,
                ) {
                    Ok(v) => {
                        found = Some(v);
                        break;
                    }
                    // Only an identity mismatch is worth trying the next identity for.
                    Err(e) if e.check == "identity" => {
                        first_error.get_or_insert(e);
                    }
                    Err(e) => return Err(Rejection::Sigstore(e.to_string())),
                }
            }
            let verified = match (found, first_error) {
                (Some(v), _) => v,
                (None, Some(e)) if keyless.identities.len() > 1 => {
                    return Err(Rejection::Sigstore(format!(
                        "matches none of the {} trusted identities; the first: {e}",
                        keyless.identities.len()
                    )));
                }
                (None, Some(e)) => return Err(Rejection::Sigstore(e.to_string())),
                (None, None) => return Err(Rejection::Keyless),
            };
            let statement = verified.statement.ok_or(Rejection::NotDsse)?;
            let identity = verified.identity.unwrap_or_default();
            let issuer = verified.issuer.unwrap_or_default();
            let signer = format!("{identity} (issuer {issuer})");
            let details = serde_json::json!({
                "identity": identity,
                "issuer": issuer,
                "extensions": verified.extensions,
                "tlogEntries": verified.tlog_entries,
            });
            VerifiedAttestation::from_sigstore(statement, signer, details, &verified.times)
        }
        other => other,
    }
}

/// Checks every candidate for `digest` and decides.
pub fn decide(digest: &Digest, candidates: &[Candidate], requirements: &Requirements) -> Verdict {
    let attestations: Vec<AttestationReport> = candidates
        .iter()
        .map(|c| match check_candidate(c, digest, requirements) {
            Ok(v) => AttestationReport {
                origin: c.origin.clone(),
                verified: Some(v),
                rejected: None,
            },
            Err(r) => AttestationReport {
                origin: c.origin.clone(),
                verified: None,
                rejected: Some(r),
            },
        })
        .collect();
    let mut verdict = Verdict {
        digest: digest.to_string(),
        allowed: false,
        attestations,
        violations: Vec::new(),
    };
    if candidates.is_empty() {
        verdict.violations.push(Violation::NoAttestation {
            digest: digest.to_string(),
        });
        return verdict;
    }
    // A step whose command failed attests nothing: it never satisfies a required step, and
    // verified provenance that only records failures does not allow the artifact.
    let exit_of = |v: &VerifiedAttestation| v.provenance().and_then(|p| p.exit_code);
    let succeeded = |v: &&VerifiedAttestation| exit_of(v).is_none_or(|code| code == 0);
    let steps: Vec<String> = verdict
        .verified()
        .filter(succeeded)
        .filter_map(VerifiedAttestation::step)
        .map(str::to_owned)
        .collect();
    let failed: Vec<(String, i64)> = verdict
        .verified()
        .filter(|v| !succeeded(v))
        .map(|v| {
            (
                v.step().unwrap_or_default().to_owned(),
                exit_of(v).unwrap_or(0),
            )
        })
        .collect();
    if verdict.verified().next().is_none() {
        verdict.violations.push(Violation::NoneVerified {
            digest: digest.to_string(),
            count: candidates.len(),
        });
    } else if requirements.steps.is_empty() && verdict.verified().all(|v| !succeeded(&v)) {
        verdict
            .violations
            .extend(failed.iter().map(|(step, code)| Violation::StepFailed {
                step: step.clone(),
                exit_code: *code,
            }));
    }
    let found = if steps.is_empty() {
        "none".to_owned()
    } else {
        steps.join(", ")
    };
    let missing: Vec<Violation> = requirements
        .steps
        .iter()
        .filter(|s| !steps.contains(s))
        .map(|s| match failed.iter().find(|(step, _)| step == s) {
            Some((_, code)) => Violation::StepFailed {
                step: s.clone(),
                exit_code: *code,
            },
            None => Violation::MissingStep {
                step: s.clone(),
                found: found.clone(),
            },
        })
        .collect();
    verdict.violations.extend(missing);
    verdict.allowed = verdict.violations.is_empty();
    verdict
}
