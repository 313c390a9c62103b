//! One decision, one call: [`decide`] answers "may this artifact be trusted?" for every door
//! (`hallmark verify`, `hallmark inspect`, the admission webhook, the CI gate), so they cannot
//! disagree.
//!
//! The caller says what it trusts ([`Trust`]), what it requires ([`Request`]) and what time it
//! is; [`AttestationSource`]s say where the evidence is. The engine merges the keys and
//! identities a policy names into the trust, tries a trusted verifier's summary (VSA) when asked,
//! checks every candidate once, walks the chain of steps through the same sources, evaluates the
//! policy, and returns a [`Decision`] whose verdict is allowed only when no check or rule found a
//! violation.

use std::time::{Duration, SystemTime};

use hallmark_model::approval::APPROVAL_V1;
use hallmark_model::budget::Budget;
use hallmark_model::digest::Digest;
use hallmark_model::provenance::PROVENANCE_TYPES;
use hallmark_model::vsa::VSA_V1;
use serde_json::Value;

use crate::attestation::SignaturePolicy;
use crate::chain::{self, Chain};
use crate::keys::TrustedKey;
use crate::policy::{Finding, Policy, policy_input};
use crate::revocation::Revocations;
use crate::session::Session;
use crate::sigstore::embedded;
use crate::sigstore::identity::IdentityPolicy;
use crate::sigstore::trust_root::TrustRoots;
use crate::source::{AttestationSource, Lookup, SourceError, lookup_all};
use crate::vendor::VendorProfile;
use crate::verdict::{KeylessTrust, Requirements, Verdict, Violation, decide_for};
use crate::vsa::{self, AcceptedVsa, NoVsa};

/// Who is trusted to have signed.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// Trusted public keys.
    pub keys: Vec<TrustedKey>,
    /// Trusted keyless signers (Fulcio certificate identities).
    pub identities: Vec<IdentityPolicy>,
    /// The Sigstore trust roots for keyless signers (`None`: the embedded public-good root).
    pub roots: Option<TrustRoots>,
}

impl Trust {
    /// True when nothing is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.identities.is_empty()
    }

    /// This trust plus the keys and identities `policy` names (a declarative policy's signers
    /// and approvers). They are trusted for every attestation; the policy's own rules then say
    /// which signer each step and approval needs.
    pub fn with_policy(&self, policy: Option<&Policy>) -> Trust {
        let mut trust = self.clone();
        let Some(policy) = policy else {
            return trust;
        };
        for key in policy.keys() {
            if !trust.keys.iter().any(|k| k.keyid() == key.keyid()) {
                trust.keys.push(key.clone());
            }
        }
        trust.identities.extend(
            policy
                .identities()
                .iter()
                .map(|(identity, issuer)| IdentityPolicy::exact(identity, issuer)),
        );
        trust
    }

    /// The requirements that check attestations against this trust at `at` (no revocations:
    /// the caller adds those that apply).
    pub fn requirements(&self, at: SystemTime) -> Result<Requirements, Error> {
        let keyless = if self.identities.is_empty() {
            None
        } else {
            let roots = match &self.roots {
                Some(roots) => roots.clone(),
                None => embedded::production()
                    .map_err(|e| Error::TrustRoot(e.to_string()))?
                    .into(),
            };
            Some(KeylessTrust {
                roots,
                identities: self.identities.clone(),
            })
        };
        Ok(Requirements {
            keys: self.keys.clone(),
            keyless,
            ..Requirements::at(at)
        })
    }
}

/// Accepting a trusted verifier's PASSED summary (a VSA) instead of verifying the evidence.
#[derive(Debug, Clone)]
pub struct VsaAcceptance {
    /// Who may have signed the VSA.
    pub verifiers: Trust,
    /// The policy the VSA must have been decided under, when no policy is given with the
    /// request (with one, its digest is required).
    pub policy_digest: Option<Digest>,
    /// The oldest VSA accepted.
    pub max_age: Duration,
}

/// Everything one decision depends on, except the evidence.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The artifact's digest.
    pub artifact: Digest,
    /// The same artifact's digests under other algorithms (a file hashed with SHA-512 too):
    /// looked up as well, and a statement naming any of them names the artifact.
    pub aliases: Vec<Digest>,
    /// Its name or reference, for the policy input and messages.
    pub name: Option<String>,
    /// Who is trusted to have signed (a policy's signers are added).
    pub trust: Trust,
    /// How many signatures each envelope needs.
    pub signatures: SignaturePolicy,
    /// Steps that must each have a verified, successful attestation for the artifact.
    pub steps: Vec<String>,
    /// The predicate types of which at least one verified attestation is required. Empty: SLSA
    /// provenance (v1 or v0.2) without a policy, and nothing with one (the policy decides).
    pub predicate_types: Vec<String>,
    /// The policy; with one, the chain behind the artifact is walked and evaluated.
    pub policy: Option<&'a Policy>,
    /// Caller-supplied facts for the policy input (`context.facts`).
    pub facts: serde_json::Map<String, Value>,
    /// Accept a trusted verifier's summary instead (see [`VsaAcceptance`]).
    pub accept_vsa: Option<VsaAcceptance>,
    /// Walk the chain even without a policy (`hallmark inspect`).
    pub walk_chain: bool,
    /// Verified revocation lists (`revocation::verify_lists`): applied to the artifact, the
    /// chain, every signer and the VSA fast path.
    pub revocations: Revocations,
    /// A vendor profile to apply (docs/vendor-profiles.md): only its signers are trusted, an
    /// expired profile retires them, and its required predicate types and maximum age hold.
    pub vendor: Option<&'a VendorProfile>,
    /// The time of the decision: the library never reads the clock.
    pub at: SystemTime,
}

impl<'a> Request<'a> {
    /// A request for `artifact` at `at` with nothing trusted and nothing required yet.
    pub fn new(artifact: Digest, at: SystemTime) -> Self {
        Request {
            artifact,
            aliases: Vec::new(),
            name: None,
            trust: Trust::default(),
            signatures: SignaturePolicy::default(),
            steps: Vec::new(),
            predicate_types: Vec::new(),
            policy: None,
            facts: serde_json::Map::new(),
            accept_vsa: None,
            walk_chain: false,
            revocations: Revocations::default(),
            vendor: None,
            at,
        }
    }
}

/// Why no decision could be made (a configuration or evidence error, not a denial).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Neither keys nor keyless identities are trusted: nothing could ever verify.
    #[error("no trust given: no public key and no keyless identity to verify against")]
    NoTrust,
    /// A VSA was to be accepted without saying which policy it must have been decided under.
    #[error(
        "accepting a VSA needs the policy it must have been decided under (a policy, or its digest): a VSA for any policy would accept anything that verifier ever passed"
    )]
    VsaPolicyUnknown,
    /// A VSA records a policy decision, not these requirements.
    #[error("a VSA cannot stand for {0}: its summary does not record them")]
    VsaCannotProve(&'static str),
    /// The Sigstore trust root could not be loaded.
    #[error("the Sigstore trust root: {0}")]
    TrustRoot(String),
    /// A predicate type that is not evidence on its own was asked for: a VSA counts only
    /// through VSA acceptance, and an approval only in a policy.
    #[error(
        "{0} cannot be required as evidence on its own: a VSA is accepted through VSA acceptance (trusted verifiers), an approval through a policy"
    )]
    PredicateTypeNotEvidence(String),
    /// A source of attestations could not answer.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A revocation list given cannot be used (it expired since it was verified).
    #[error(transparent)]
    Revocation(Box<crate::revocation::ListError>),
}

impl From<crate::revocation::ListError> for Error {
    fn from(e: crate::revocation::ListError) -> Self {
        Error::Revocation(Box::new(e))
    }
}

/// The policy's part of a decision.
#[derive(Debug, Clone)]
pub struct PolicyReport {
    /// Its digest (what a VSA records).
    pub digest: String,
    /// Its warnings (reported, not fatal).
    pub warnings: Vec<Finding>,
    /// The SLSA levels it verified.
    pub levels: Vec<String>,
    /// The input document it was evaluated on.
    pub input: Value,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone)]
pub struct Decision {
    /// The verdict: allowed only when nothing found a violation.
    pub verdict: Verdict,
    /// The verified chain behind the artifact (with a policy, or when asked).
    pub chain: Option<Chain>,
    /// What the policy said (with a policy, unless a VSA decided).
    pub policy: Option<PolicyReport>,
    /// Why an offered VSA was not accepted, when the decision fell back to the evidence.
    pub vsa_fallback: Option<String>,
    /// Every key the decision trusted (the request's and the policy's), to name signers.
    pub keys: Vec<TrustedKey>,
    /// Evidence left out, and why (unreadable entries, an exhausted budget): for the user.
    pub notes: Vec<String>,
}

/// Decides on `request.artifact` from what `sources` hold.
///
/// The evidence is bounded by one [`Budget`] for the whole decision; when it runs out, the
/// decision is made on what was read, a chain walked is marked truncated, and a note says so.
pub fn decide(
    request: &Request<'_>,
    sources: &[&dyn AttestationSource],
) -> Result<Decision, Error> {
    decide_within(request, sources, &Budget::default())
}

/// [`decide`] spending from `budget`: for callers that read evidence before the decision (a
/// registry's tag resolution) within the same bounds.
pub fn decide_within(
    request: &Request<'_>,
    sources: &[&dyn AttestationSource],
    budget: &Budget,
) -> Result<Decision, Error> {
    request.revocations.check_fresh(request.at)?;
    // A vendor given with the request, else the one a declarative policy names for this artifact.
    let vendor = request.vendor.or_else(|| {
        request
            .policy
            .and_then(|p| p.vendor_for(request.name.as_deref()))
    });
    let (trust, revocations) = match vendor {
        Some(vendor) => (
            crate::vendor_rules::trust(vendor, &request.trust),
            crate::vendor_rules::retire(vendor, &request.revocations),
        ),
        None => (
            request.trust.with_policy(request.policy),
            request.revocations.clone(),
        ),
    };
    let digest = &request.artifact;
    let found = lookup_all(sources, digest, Lookup::Artifact, budget)?;
    let mut notes = found.notes;
    let mut candidates = found.candidates;
    let mut artifact_complete = found.complete;
    for alias in &request.aliases {
        let more = lookup_all(sources, alias, Lookup::Material, budget)?;
        notes.extend(more.notes);
        candidates.extend(more.candidates);
        artifact_complete &= more.complete;
    }

    // A revoked artifact is denied whatever vouches for it, a VSA included.
    let digests: Vec<&Digest> = std::iter::once(digest).chain(&request.aliases).collect();
    let revoked = revocations
        .artifact(&digests, request.at)
        .map(|r| Violation::Revoked {
            digest: digest.to_string(),
            material: false,
            step: None,
            revoked: r.clone(),
        });
    // A VSA records a policy decision, not a vendor profile's rules as they stand today (its
    // validUntil, maxAge, required types): with a vendor, the evidence itself is judged.
    let accept_vsa = match (&request.accept_vsa, vendor) {
        (Some(_), Some(_)) if request.vendor.is_some() => {
            return Err(Error::VsaCannotProve("a vendor profile"));
        }
        (Some(_), Some(v)) => {
            notes.push(format!(
                "vendor profile {} applies to this artifact: a verification summary is not accepted for it; the evidence is verified",
                v.name
            ));
            None
        }
        (acceptance, _) => acceptance.as_ref(),
    };
    let mut vsa_fallback = None;
    if let (Some(acceptance), Some(revoked)) = (accept_vsa, &revoked) {
        let mut verdict = Verdict::new(digest, Vec::new(), Vec::new());
        verdict.deny([revoked.clone()]);
        return Ok(Decision {
            verdict,
            chain: None,
            policy: None,
            vsa_fallback: None,
            keys: acceptance.verifiers.keys.clone(),
            notes,
        });
    }
    if let Some(acceptance) = accept_vsa {
        match try_vsa(request, acceptance, &candidates, budget)? {
            Ok(accepted) => {
                return Ok(Decision {
                    verdict: Verdict::by_vsa(digest, accepted),
                    chain: None,
                    policy: None,
                    vsa_fallback: None,
                    keys: acceptance.verifiers.keys.clone(),
                    notes,
                });
            }
            // Falling back is only as strong as the VSA when the same policy is applied, with
            // trust; with a policy digest only, a rejected VSA denies.
            Err(why) if request.policy.is_some() && !trust.is_empty() => {
                vsa_fallback = Some(why.to_string());
            }
            Err(why) => {
                let mut verdict = Verdict::new(digest, Vec::new(), Vec::new());
                verdict.deny([Violation::Policy {
                    code: "vsa.not-accepted".to_owned(),
                    message: format!("no acceptable verification summary: {why}"),
                    details: Value::Null,
                }]);
                return Ok(Decision {
                    verdict,
                    chain: None,
                    policy: None,
                    vsa_fallback: None,
                    keys: acceptance.verifiers.keys.clone(),
                    notes,
                });
            }
        }
    }

    if trust.is_empty() {
        return Err(Error::NoTrust);
    }
    let requirements = Requirements {
        steps: request.steps.clone(),
        signatures: request.signatures,
        predicate_types: predicate_rule(request)?,
        revocations: revocations.clone(),
        ..trust.requirements(request.at)?
    };
    let session = Session::new(&requirements, budget);
    let mut verdict = decide_for(&session, digest, &request.aliases, &candidates);
    verdict.deny(revoked);
    if let Some(vendor) = vendor {
        verdict.deny(crate::vendor_rules::check(vendor, &verdict, request.at));
    }
    let chain = if request.policy.is_some() || request.walk_chain {
        let mut chain = walk(&session, digest, &candidates, sources, &mut notes)?;
        // A source that stopped short for the artifact itself may hold a step the policy
        // would deny on (a failed attempt): the chain is incomplete.
        chain.truncated |= !artifact_complete;
        verdict.deny(revoked_materials(&revocations, &chain, request.at));
        Some(chain)
    } else {
        None
    };
    let policy = match (request.policy, &chain) {
        (Some(policy), Some(chain)) => {
            let facts = Value::Object(request.facts.clone());
            let mut input =
                policy_input(&verdict, request.name.as_deref(), chain, request.at, &facts);
            if let Some(doc) = input.as_object_mut() {
                doc.insert(
                    "revocations".to_owned(),
                    revocation_input(&revocations, &verdict),
                );
            }
            let outcome = policy.evaluate(&input);
            verdict.deny(outcome.deny.into_iter().map(|f| Violation::Policy {
                code: f.code,
                message: f.msg,
                details: f.details,
            }));
            Some(PolicyReport {
                digest: policy.digest().to_owned(),
                warnings: outcome.warn,
                levels: outcome.levels,
                input,
            })
        }
        _ => None,
    };
    if let Some(e) = budget.exhausted() {
        notes.push(format!(
            "{e}: the rest of the evidence was not read or checked (a chain cut short is denied as chain.truncated)"
        ));
    }
    Ok(Decision {
        verdict,
        chain,
        policy,
        vsa_fallback,
        keys: requirements.keys,
        notes,
    })
}

/// The predicate types the decision requires (see [`Request::predicate_types`]).
fn predicate_rule(request: &Request<'_>) -> Result<Vec<String>, Error> {
    for t in &request.predicate_types {
        // An empty type names nothing (untyped statements are facts for a policy, not evidence).
        if t.is_empty() || t == VSA_V1 || t == APPROVAL_V1 {
            return Err(Error::PredicateTypeNotEvidence(t.clone()));
        }
    }
    Ok(match (request.predicate_types.is_empty(), request.policy) {
        (false, _) => request.predicate_types.clone(),
        (true, None) => PROVENANCE_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        (true, Some(_)) => Vec::new(),
    })
}

/// The VSA fast path: `Ok(Ok(vsa))` when a trusted verifier's PASSED summary for the policy
/// decides, `Ok(Err(why))` when none does.
fn try_vsa(
    request: &Request<'_>,
    acceptance: &VsaAcceptance,
    candidates: &[crate::verdict::Candidate],
    budget: &Budget,
) -> Result<Result<AcceptedVsa, NoVsa>, Error> {
    if !request.steps.is_empty() {
        return Err(Error::VsaCannotProve("required steps"));
    }
    if !request.predicate_types.is_empty() {
        return Err(Error::VsaCannotProve("required predicate types"));
    }
    if request.signatures != SignaturePolicy::default() {
        return Err(Error::VsaCannotProve("a signature threshold"));
    }
    if !request.facts.is_empty() {
        return Err(Error::VsaCannotProve("caller-supplied facts"));
    }
    let wanted = match (request.policy, &acceptance.policy_digest) {
        (Some(policy), _) => policy.digest().to_owned(),
        (None, Some(digest)) => digest.to_string(),
        (None, None) => return Err(Error::VsaPolicyUnknown),
    };
    if acceptance.verifiers.is_empty() {
        return Ok(Err(NoVsa(Vec::new())));
    }
    let trust = Requirements {
        revocations: request.revocations.clone(),
        ..acceptance.verifiers.requirements(request.at)?
    };
    let session = Session::new(&trust, budget);
    Ok(vsa::accept(
        &session,
        candidates,
        &request.artifact,
        &wanted,
        acceptance.max_age,
    ))
}

/// Walks the chain behind `digest`, looking materials up in `sources`.
fn walk(
    session: &Session<'_>,
    digest: &Digest,
    candidates: &[crate::verdict::Candidate],
    sources: &[&dyn AttestationSource],
    notes: &mut Vec<String>,
) -> Result<Chain, Error> {
    let mut complete = true;
    let mut chain = chain::walk_in(session, digest, candidates, |d| {
        let found = lookup_all(sources, d, Lookup::Material, session.budget())?;
        notes.extend(found.notes);
        complete &= found.complete;
        Ok::<_, SourceError>(found.candidates)
    })?;
    if !complete {
        chain.truncated = true;
    }
    Ok(chain)
}

/// A violation for each revoked material consumed by a step of `chain`.
fn revoked_materials(revocations: &Revocations, chain: &Chain, at: SystemTime) -> Vec<Violation> {
    if revocations.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for step in &chain.steps {
        for material in &step.materials {
            let Some(digest) = &material.digest else {
                continue;
            };
            if let Some(r) = revocations.material(digest, at) {
                found.push(Violation::Revoked {
                    digest: digest.clone(),
                    material: true,
                    step: step.step.clone(),
                    revoked: r.clone(),
                });
            }
        }
    }
    found
}

/// `revocations` in the policy input: the verified lists, their entries, whether the artifact
/// is revoked, and the candidates rejected because a signer is revoked.
fn revocation_input(revocations: &Revocations, verdict: &Verdict) -> Value {
    let rejected: Vec<Value> = verdict
        .attestations()
        .iter()
        .filter(|a| matches!(a.rejected, Some(crate::Rejection::Revoked(_))))
        .map(|a| {
            serde_json::json!({
                "origin": a.origin,
                "id": a.id,
                "code": a.rejected.as_ref().map(crate::Rejection::code),
                "detail": a.rejected,
            })
        })
        .collect();
    let artifact = verdict.violations().iter().find_map(|v| match v {
        Violation::Revoked {
            material: false,
            revoked,
            ..
        } => Some(revoked),
        _ => None,
    });
    let mut doc = revocations.to_input();
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("artifact".to_owned(), serde_json::json!(artifact));
        obj.insert("rejected".to_owned(), Value::Array(rejected));
    }
    doc
}
