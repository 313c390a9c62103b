//! The verdict on an artifact: every candidate attestation checked, then the requirements.

use hallmark_model::digest::Digest;
use serde::Serialize;

use crate::Rejection;
use crate::attestation::{SignaturePolicy, VerifiedAttestation};
use crate::keys::TrustedKey;
use crate::revocation::{Revocations, Revoked};
use crate::session::Session;
use crate::sigstore::identity::IdentityPolicy;
use crate::sigstore::trust_root::TrustRoots;
use crate::vsa::AcceptedVsa;
use hallmark_model::budget::Budget;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

/// A bundle found for the artifact, and where it was found.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Where it came from: a store manifest digest or a file name.
    pub origin: String,
    /// The bundle bytes, shared: one blob listed for many digests is held once.
    bytes: Arc<[u8]>,
    /// `sha256:` of the bytes: a decision checks each distinct bundle once.
    digest: String,
}

impl Candidate {
    /// A bundle from `origin`.
    pub fn new(origin: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        let bytes = bytes.into();
        let digest = format!(
            "sha256:{}",
            hallmark_model::hex::encode(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes).as_ref()
            )
        );
        Candidate {
            origin: origin.into(),
            bytes,
            digest,
        }
    }

    /// A bundle whose `sha256:` digest its reader has already checked (stores and registries
    /// check every blob they read), so it is not hashed again. A wrong digest would make a
    /// decision take this bundle for another: only readers that checked it may say so.
    pub fn with_checked_digest(
        origin: impl Into<String>,
        bytes: Arc<[u8]>,
        digest: impl Into<String>,
    ) -> Self {
        Candidate {
            origin: origin.into(),
            bytes,
            digest: digest.into(),
        }
    }

    /// The bundle bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `sha256:` of the bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }
}

/// Trust for keyless (Fulcio-certificate) bundles.
#[derive(Debug, Clone)]
pub struct KeylessTrust {
    /// The Sigstore trust roots: a bundle verifies when one of them verifies it.
    pub roots: TrustRoots,
    /// Who may have signed: the bundle must match one of these (flags, or identities a
    /// declarative policy names).
    pub identities: Vec<IdentityPolicy>,
}

/// What must hold for the artifact to be allowed.
#[derive(Debug, Clone)]
pub struct Requirements {
    /// Trusted keys.
    pub keys: Vec<TrustedKey>,
    /// Trusted keyless identities, if any.
    pub keyless: Option<KeylessTrust>,
    /// The time of verification: certificates, timestamps and VSAs are judged at it. Always
    /// the caller's: the library never reads the clock.
    pub at: SystemTime,
    /// Steps that must each have a verified attestation for the artifact.
    pub steps: Vec<String>,
    /// How many signatures each envelope needs.
    pub signatures: SignaturePolicy,
    /// At least one verified attestation must have one of these predicate types (and, for
    /// provenance that records one, a successful command); empty: no such rule (a policy
    /// decides what the evidence must hold).
    pub predicate_types: Vec<String>,
    /// Verified revocations: revoked signers' bundles are rejected (docs/revocation.md).
    pub revocations: Revocations,
}

impl Requirements {
    /// Nothing trusted and nothing required yet, at `at`.
    pub fn at(at: SystemTime) -> Self {
        Requirements {
            keys: Vec::new(),
            keyless: None,
            at,
            steps: Vec::new(),
            signatures: SignaturePolicy::default(),
            predicate_types: Vec::new(),
            revocations: Revocations::default(),
        }
    }
}

/// The outcome for one candidate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationReport {
    /// Where the bundle came from.
    pub origin: String,
    /// The attestation's id: `sha256:` of its DSSE payload (as chain step ids), or of the bundle
    /// when it holds no envelope. Claimed, not verified, unless `verified` is set.
    pub id: String,
    /// The verified attestation, if it passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<VerifiedAttestation>,
    /// Why it was rejected, if it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Rejection>,
    /// Where else the same bundle (the same bytes) was found: a store and a registry holding
    /// one attestation list it once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_found_at: Vec<String>,
    /// True for a verified attestation that satisfies the predicate-type rule (see
    /// [`Requirements::predicate_types`]): what made the artifact allowed, where the others were
    /// only seen.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub satisfies: bool,
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
    /// No verified attestation has a predicate type the decision requires (by default SLSA
    /// provenance): other attestations (an approval, an SBOM, a VSA) do not stand in for it.
    #[error(
        "no verified attestation of type {wanted} for this artifact (verified: {found}); other attestations do not stand in for it"
    )]
    MissingPredicate {
        /// The types that would do, joined.
        wanted: String,
        /// The types of the attestations that did verify, joined.
        found: String,
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
    /// The artifact, or a material in the chain behind it, is revoked: always denied, whatever
    /// vouches for it.
    #[error(
        "{what} {digest} is revoked from {effective} by list {list} ({reason})",
        what = revoked_what(*.material), effective = .revoked.effective, list = .revoked.list,
        reason = .revoked.reason
    )]
    Revoked {
        /// The revoked digest.
        digest: String,
        /// True for a material of a step in the chain, false for the artifact itself.
        material: bool,
        /// The step that consumed it, for a material.
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        /// The revocation.
        revoked: Revoked,
    },
    /// A rule of the vendor profile applied (docs/vendor-profiles.md) does not hold.
    #[error("vendor {vendor}: {message}")]
    Vendor {
        /// The vendor.
        vendor: String,
        /// The rule's code (`vendor.*`).
        code: &'static str,
        /// What does not hold.
        message: String,
    },
}

fn revoked_what(material: bool) -> &'static str {
    if material { "material" } else { "artifact" }
}

impl Violation {
    /// The stable code of the rule that denied: a policy rule's own code, or the verifier's
    /// (`attestation.none`, `attestation.none-verified`, `predicate.missing`, `step.failed`,
    /// `step.missing`).
    pub fn code(&self) -> &str {
        match self {
            Violation::NoAttestation { .. } => "attestation.none",
            Violation::NoneVerified { .. } => "attestation.none-verified",
            Violation::Policy { code, .. } => code,
            Violation::StepFailed { .. } => "step.failed",
            Violation::MissingPredicate { .. } => "predicate.missing",
            Violation::MissingStep { .. } => "step.missing",
            Violation::Revoked {
                material: false, ..
            } => crate::error::REVOKED_ARTIFACT,
            Violation::Revoked { .. } => crate::error::REVOKED_MATERIAL,
            Violation::Vendor { code, .. } => code,
        }
    }
}

/// The decision. Only this crate makes one, and `allowed` is computed from the violations: no
/// caller can set it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    digest: String,
    allowed: bool,
    attestations: Vec<AttestationReport>,
    violations: Vec<Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted_vsa: Option<AcceptedVsa>,
}

impl Verdict {
    /// A verdict on `digest` from these reports and violations.
    pub(crate) fn new(
        digest: &Digest,
        attestations: Vec<AttestationReport>,
        violations: Vec<Violation>,
    ) -> Self {
        Verdict {
            digest: digest.to_string(),
            allowed: violations.is_empty(),
            attestations,
            violations,
            accepted_vsa: None,
        }
    }

    /// Allowed on a trusted verifier's summary: nothing else was checked.
    pub(crate) fn by_vsa(digest: &Digest, vsa: AcceptedVsa) -> Self {
        Verdict {
            accepted_vsa: Some(vsa),
            ..Verdict::new(digest, Vec::new(), Vec::new())
        }
    }

    /// Adds violations; the verdict is then denied.
    pub(crate) fn deny(&mut self, more: impl IntoIterator<Item = Violation>) {
        self.violations.extend(more);
        self.allowed = self.violations.is_empty();
    }

    /// The artifact's digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// True when every requirement holds: there is no violation.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// What was checked: every candidate, verified or rejected.
    pub fn attestations(&self) -> &[AttestationReport] {
        &self.attestations
    }

    /// Why it was denied (empty when allowed).
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The trusted verifier's summary that allowed the artifact, when one did.
    pub fn accepted_vsa(&self) -> Option<&AcceptedVsa> {
        self.accepted_vsa.as_ref()
    }

    /// The attestations that verified.
    pub fn verified(&self) -> impl Iterator<Item = &VerifiedAttestation> {
        self.attestations.iter().filter_map(|a| a.verified.as_ref())
    }
}

/// Checks every candidate for `digest` and decides, as one decision with the default budget.
pub fn decide(digest: &Digest, candidates: &[Candidate], requirements: &Requirements) -> Verdict {
    let budget = Budget::default();
    decide_in(&Session::new(requirements, &budget), digest, candidates)
}

/// Checks every candidate for `digest` and decides, within `session` (whose memory the chain
/// walk then shares).
pub fn decide_in(session: &Session<'_>, digest: &Digest, candidates: &[Candidate]) -> Verdict {
    decide_for(session, digest, &[], candidates)
}

/// [`decide_in`] for an artifact also known by `aliases` (its digests under other algorithms: a
/// file an npm provenance names by SHA-512 only): a statement naming any of them names it.
pub fn decide_for(
    session: &Session<'_>,
    digest: &Digest,
    aliases: &[Digest],
    candidates: &[Candidate],
) -> Verdict {
    let requirements = session.requirements();
    // One report per bundle: the same bytes found in several places (a store and a registry)
    // are checked once and listed once, with every place named.
    let mut attestations: Vec<AttestationReport> = Vec::new();
    let mut listed: HashMap<&str, usize> = HashMap::new();
    for c in candidates {
        if let Some(&i) = listed.get(c.digest()) {
            if let Some(report) = attestations.get_mut(i)
                && report.origin != c.origin
                && !report.also_found_at.contains(&c.origin)
            {
                report.also_found_at.push(c.origin.clone());
            }
            continue;
        }
        let mut checked = session.check(c, digest);
        // A statement naming the artifact by another of its digests names it too; when it names
        // none of them, the rejection stays the primary digest's.
        if matches!(checked, Err(Rejection::Subject { .. })) {
            for alias in aliases {
                match session.check(c, alias) {
                    Err(Rejection::Subject { .. }) => {}
                    other => {
                        checked = other;
                        break;
                    }
                }
            }
        }
        let (verified, rejected) = match checked {
            Ok(v) => (Some(v), None),
            Err(r) => (None, Some(r)),
        };
        listed.insert(c.digest(), attestations.len());
        attestations.push(AttestationReport {
            origin: c.origin.clone(),
            id: session
                .peek(c)
                .map_or_else(|| c.digest().to_owned(), |p| p.id.clone()),
            verified,
            rejected,
            also_found_at: Vec::new(),
            satisfies: false,
        });
    }
    let mut verdict = Verdict::new(digest, attestations, Vec::new());
    if candidates.is_empty() {
        verdict.deny([Violation::NoAttestation {
            digest: digest.to_string(),
        }]);
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
    // Each verified attestation of a failed command: its step, exit code and predicate type.
    let failed: Vec<(String, i64, String)> = verdict
        .verified()
        .filter(|v| !succeeded(v))
        .map(|v| {
            (
                v.step().unwrap_or_default().to_owned(),
                exit_of(v).unwrap_or(0),
                v.predicate_type().to_owned(),
            )
        })
        .collect();
    let step_failed = |(step, code, _): &(String, i64, String)| Violation::StepFailed {
        step: step.clone(),
        exit_code: *code,
    };
    let wanted = |predicate_type: &str| {
        requirements
            .predicate_types
            .iter()
            .any(|t| hallmark_model::sbom::type_satisfies(t, predicate_type))
    };
    if verdict.verified().next().is_none() {
        verdict.deny([Violation::NoneVerified {
            digest: digest.to_string(),
            count: verdict.attestations.len(),
        }]);
    } else if !requirements.predicate_types.is_empty() {
        for report in &mut verdict.attestations {
            report.satisfies = report
                .verified
                .as_ref()
                .is_some_and(|v| wanted(v.predicate_type()) && succeeded(&v));
        }
        if !verdict.attestations.iter().any(|a| a.satisfies) {
            let failed_wanted: Vec<_> = failed.iter().filter(|f| wanted(&f.2)).collect();
            if failed_wanted.is_empty() {
                let mut found: Vec<&str> = verdict
                    .verified()
                    .map(VerifiedAttestation::predicate_type)
                    .collect();
                found.sort_unstable();
                found.dedup();
                let missing = Violation::MissingPredicate {
                    wanted: requirements.predicate_types.join(" or "),
                    found: found.join(", "),
                };
                verdict.deny([missing]);
            } else {
                // A required step that failed is reported once, by the steps rule below.
                let unrequired = failed_wanted
                    .into_iter()
                    .filter(|f| !requirements.steps.contains(&f.0));
                verdict.deny(unrequired.map(step_failed));
            }
        }
    } else if requirements.steps.is_empty() && verdict.verified().all(|v| !succeeded(&v)) {
        verdict.deny(failed.iter().map(step_failed));
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
        .map(|s| match failed.iter().find(|f| &f.0 == s) {
            Some(f) => step_failed(f),
            None => Violation::MissingStep {
                step: s.clone(),
                found: found.clone(),
            },
        })
        .collect();
    verdict.deny(missing);
    verdict
}
