//! The provenance chain behind an artifact: walk back from the artifact through the step
//! attestations whose products are the materials of later steps.
//!
//! Only attestations that verify against the same trust as the artifact's own become steps; a
//! material with no verified producer is left with an empty `producedBy`, and policy decides
//! whether it is a declared external input or a gap (`chain.unattested-input`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hallmark_model::bundle::Bundle;
use hallmark_model::digest::Digest;
use hallmark_model::provenance::SLSA_PROVENANCE_V1;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::signer::SignerDetails;
use hallmark_model::statement::Statement;
use serde::Serialize;
use serde_json::Value;

use crate::attestation::{ProvenanceSummary, VerifiedAttestation};
use crate::session::Session;
use crate::verdict::{Candidate, Requirements};
use hallmark_model::budget::Budget;

/// Most steps in one chain.
pub const MAX_CHAIN_STEPS: usize = 1000;
/// Most digests looked up while walking a chain.
pub const MAX_CHAIN_LOOKUPS: usize = 250_000;

/// A file (or image) a step consumed or produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainArtifact {
    /// Its name in the attestation (a path relative to the step's directory).
    pub name: String,
    /// `sha256:<hex>` (or the first other `alg:hex`); `null` for an input recorded without a
    /// digest (unpinned).
    pub digest: Option<String>,
    /// Ids of the chain steps that list it as a product (materials only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produced_by: Option<Vec<String>>,
    /// The step recorded it as not committed to its source (untracked, ignored, or hidden from git status by the index), so it cannot
    /// have been read from the source (materials only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub uncommitted: bool,
}

/// One verified step attestation in the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainStep {
    /// `sha256:` of the signed DSSE payload: the same statement stored twice is one step.
    pub id: String,
    /// Where the bundle was found.
    pub origin: String,
    /// The Hallmark step name, if the attestation names one.
    pub step: Option<String>,
    /// Keyids or keyless identities that signed it.
    pub signers: Vec<String>,
    /// The signers in detail (issuer and Fulcio extensions for keyless ones).
    pub signer_details: Vec<SignerDetails>,
    /// Signing times proven by a log or timestamp authority (RFC 3339).
    pub verified_times: Vec<String>,
    /// The provenance summary.
    pub provenance: ProvenanceSummary,
    /// The command, for Hallmark step provenance.
    pub command: Option<Vec<String>>,
    /// The command's exit code, when recorded.
    pub exit_code: Option<i64>,
    /// The runner environment (`github-hosted`, `self-hosted`): from a keyless certificate
    /// when one says, else what the provenance claims.
    pub runner_environment: Option<String>,
    /// Whether `runner_environment` comes from a certificate.
    #[serde(skip)]
    pub runner_certified: bool,
    /// What the step consumed (files with a sha256 digest; the git source is in `provenance`).
    pub materials: Vec<ChainArtifact>,
    /// What it produced (its statement's subjects).
    pub products: Vec<ChainArtifact>,
}

/// The chain: every verified step reachable backwards from the artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chain {
    /// Steps in the order found: the artifact's producers first.
    pub steps: Vec<ChainStep>,
    /// Ids of the steps that produced the artifact itself.
    pub roots: Vec<String>,
    /// True when a limit stopped the walk (policy denies an incomplete chain).
    pub truncated: bool,
}

/// A descriptor's digest as `alg:hex` (lower case): sha256 when it has one, else its first
/// other digest; `None` when it has none (an unpinned input).
fn digest_of(d: &ResourceDescriptor) -> Option<String> {
    let (alg, value) = ["sha256", "sha512", "sha384"]
        .iter()
        .find_map(|alg| d.digest.get_key_value(*alg))
        .or_else(|| d.digest.iter().find(|(alg, _)| *alg != "gitCommit"))?;
    Some(format!("{alg}:{}", value.to_ascii_lowercase()))
}

/// The git source of a provenance (recorded in the provenance summary, not as a material).
fn is_source(d: &ResourceDescriptor) -> bool {
    d.uri.starts_with("git+") || d.digest.contains_key("gitCommit")
}

fn materials(statement: &Statement) -> Vec<ChainArtifact> {
    let deps = statement
        .predicate
        .as_ref()
        .and_then(|p| p.pointer("/buildDefinition/resolvedDependencies"))
        .and_then(|v| <Vec<ResourceDescriptor> as serde::Deserialize>::deserialize(v).ok())
        .unwrap_or_default();
    deps.iter()
        .filter(|d| !is_source(d))
        .map(|d| ChainArtifact {
            name: if d.name.is_empty() {
                d.uri.clone()
            } else {
                d.name.clone()
            },
            digest: digest_of(d),
            produced_by: Some(Vec::new()),
            uncommitted: d.annotations.get("uncommitted") == Some(&Value::Bool(true)),
        })
        .collect()
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn step_from(id: String, origin: &str, v: &VerifiedAttestation) -> Option<ChainStep> {
    let provenance = v.provenance()?.clone();
    let statement = v.statement();
    let predicate = statement.predicate.as_ref();
    let at = |p: &str| predicate.and_then(|v| v.pointer(p));
    // The certificate's extension is verified; the predicate's field is what the builder said.
    let certified = certified_runner(v);
    let runner_certified = certified.is_some();
    let runner_environment = certified.or_else(|| {
        at("/buildDefinition/internalParameters/github/runner_environment")
            .or_else(|| at("/buildDefinition/internalParameters/ci/runnerEnvironment"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    Some(ChainStep {
        id,
        origin: origin.to_owned(),
        step: v.step().map(str::to_owned),
        signers: v.signers().to_vec(),
        signer_details: v.signer_details().to_vec(),
        verified_times: v.verified_times().to_vec(),
        command: string_list(at("/buildDefinition/externalParameters/command")),
        exit_code: at("/buildDefinition/internalParameters/exitCode").and_then(Value::as_i64),
        runner_environment,
        runner_certified,
        provenance,
        materials: materials(statement),
        products: statement
            .subject
            .iter()
            .map(|d| ChainArtifact {
                name: d.name.clone(),
                digest: digest_of(d),
                produced_by: None,
                uncommitted: false,
            })
            .collect(),
    })
}

/// The id of an attestation: `sha256:` of its signed DSSE payload (as chain step ids), or of
/// the bundle bytes when it holds no DSSE envelope.
pub fn attestation_id(bundle: &[u8]) -> String {
    statement_id(bundle).unwrap_or_else(|| sha256_id(bundle))
}

fn sha256_id(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        hallmark_model::hex::encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref()
        )
    )
}

/// The digests of the materials `claim`'s statement lists (its git source left out), as
/// claimed: for copying a chain between places, never for trust.
pub fn claimed_materials(claim: &Claim) -> Vec<String> {
    materials(&claim.statement)
        .into_iter()
        .filter_map(|m| m.digest)
        .collect()
}

/// A statement a bundle *claims*, before any check: only for routing and skipping (which
/// bundles to verify for what), never for trust.
#[derive(Debug, Clone)]
pub struct Claim {
    /// `sha256:` of the DSSE payload: the same statement stored twice (re-serialised, re-signed,
    /// or copied to another store) has one id.
    pub id: String,
    /// The statement as the payload says, unverified.
    pub statement: Statement,
}

/// The statement `bundle` claims, if it holds a DSSE envelope with a parseable statement.
pub fn claim(bundle: &[u8]) -> Option<Claim> {
    let envelope = Bundle::from_slice(bundle).ok()?.dsse_envelope?;
    Some(Claim {
        id: sha256_id(&envelope.payload),
        statement: Statement::from_slice(&envelope.payload).ok()?,
    })
}

/// What a bundle claims to be, before any check: enough to route and skip it (which bundles
/// to verify as steps or VSAs) without parsing its statement, which only a bundle that verifies
/// gets.
#[derive(Debug, Clone)]
pub struct Peek {
    /// See [`Claim::id`].
    pub id: String,
    /// The predicate type the payload names, unverified.
    pub predicate_type: String,
}

/// [`Peek`] of a parsed bundle: the payload's `predicateType`, every other field skipped unread.
pub(crate) fn peek(bundle: &Bundle) -> Option<Peek> {
    #[derive(serde::Deserialize)]
    struct TypeOnly<'a> {
        // Absent reads as empty, as the statement itself reads it.
        #[serde(rename = "predicateType", borrow, default)]
        predicate_type: std::borrow::Cow<'a, str>,
    }
    let envelope = bundle.dsse_envelope.as_ref()?;
    let typed: TypeOnly<'_> = serde_json::from_slice(&envelope.payload).ok()?;
    Some(Peek {
        id: sha256_id(&envelope.payload),
        predicate_type: typed.predicate_type.into_owned(),
    })
}

/// [`Claim::id`] of a parsed bundle, its payload unparsed.
pub(crate) fn payload_id(bundle: &Bundle) -> Option<String> {
    Some(sha256_id(&bundle.dsse_envelope.as_ref()?.payload))
}

/// The id of a step's statement (see [`Claim::id`]).
fn statement_id(bundle: &[u8]) -> Option<String> {
    let envelope = Bundle::from_slice(bundle).ok()?.dsse_envelope?;
    Some(sha256_id(&envelope.payload))
}

/// Most candidates considered for one digest.
pub const MAX_CANDIDATES_PER_DIGEST: usize = 256;

/// Walks back from `digest`: `initial` are its candidates, `lookup` finds candidates for a
/// material's digest. Every candidate is verified with `requirements`; rejected ones are left out.
/// One decision with the default budget; see [`walk_in`].
pub fn walk<E>(
    digest: &Digest,
    initial: &[Candidate],
    lookup: impl FnMut(&Digest) -> Result<Vec<Candidate>, E>,
    requirements: &Requirements,
) -> Result<Chain, E> {
    let budget = Budget::default();
    walk_in(
        &Session::new(requirements, &budget),
        digest,
        initial,
        lookup,
    )
}

/// [`walk`] within `session`: each bundle is checked once whatever the number of digests it is
/// listed for, and when the session's budget runs out the chain is marked truncated.
pub fn walk_in<E>(
    session: &Session<'_>,
    digest: &Digest,
    initial: &[Candidate],
    mut lookup: impl FnMut(&Digest) -> Result<Vec<Candidate>, E>,
) -> Result<Chain, E> {
    let mut chain = Chain::default();
    let mut seen_steps = BTreeSet::new();
    let mut seen_digests = BTreeSet::from([digest.to_string()]);
    let mut queue: VecDeque<(Digest, Option<Vec<Candidate>>)> =
        VecDeque::from([(digest.clone(), Some(initial.to_vec()))]);
    let mut lookups = 0usize;
    'walk: while let Some((wanted, given)) = queue.pop_front() {
        let candidates = match given {
            Some(c) => c,
            None => {
                lookups += 1;
                if lookups > MAX_CHAIN_LOOKUPS {
                    chain.truncated = true;
                    break;
                }
                lookup(&wanted)?
            }
        };
        for (id, copies) in provenance_claims(session, &candidates, &mut chain.truncated) {
            if seen_steps.contains(&id) {
                if wanted == *digest && !chain.roots.contains(&id) {
                    chain.roots.push(id);
                }
                continue;
            }
            if chain.steps.len() >= MAX_CHAIN_STEPS {
                chain.truncated = true;
                break 'walk;
            }
            // Copies of one statement (re-signed, stored twice) are one step; the signers of
            // every copy that verifies count.
            let mut step: Option<ChainStep> = None;
            if copies.len() > MAX_COPIES {
                // More signed copies than are merged: their signers are not all counted.
                chain.truncated = true;
            }
            for c in copies.iter().take(MAX_COPIES) {
                let Ok(verified) = session.check(c, &wanted) else {
                    continue;
                };
                match &mut step {
                    None => step = step_from(id.clone(), &c.origin, &verified),
                    Some(s) => merge_signers(s, &verified),
                }
            }
            let Some(step) = step else {
                continue;
            };
            seen_steps.insert(id.clone());
            if wanted == *digest {
                chain.roots.push(id);
            }
            for m in &step.materials {
                if let Some(d) = &m.digest
                    && seen_digests.insert(d.clone())
                    && let Ok(d) = d.parse::<Digest>()
                {
                    queue.push_back((d, None));
                }
            }
            chain.steps.push(step);
        }
    }
    // Evidence left unread or unchecked for want of budget: the chain may be missing steps.
    if session.budget().exhausted().is_some() {
        chain.truncated = true;
    }
    link(&mut chain);
    // A step that passed the artifact through unchanged did not produce it.
    let artifact = digest.to_string();
    let producing: BTreeSet<String> = chain
        .steps
        .iter()
        .filter(|s| produces(s, &artifact))
        .map(|s| s.id.clone())
        .collect();
    chain.roots.retain(|id| producing.contains(id));
    Ok(chain)
}

/// Most byte-different copies of one statement verified.
const MAX_COPIES: usize = 8;

/// The candidates whose signatures verify and whose signed statement is SLSA provenance,
/// grouped by statement (in order), at most [`MAX_CANDIDATES_PER_DIGEST`] statements. Signatures
/// come first, once per bundle for the decision: a bundle that does not verify costs no statement
/// parse, and however many there are they cannot crowd out the genuine ones.
fn provenance_claims<'a>(
    session: &Session<'_>,
    candidates: &'a [Candidate],
    truncated: &mut bool,
) -> Vec<(String, Vec<&'a Candidate>)> {
    let mut groups: Vec<(String, Vec<&Candidate>)> = Vec::new();
    for c in candidates {
        let Some(claim) = session.signed_peek(c) else {
            continue;
        };
        if claim.predicate_type != SLSA_PROVENANCE_V1 {
            continue;
        }
        let full = groups.len() >= MAX_CANDIDATES_PER_DIGEST;
        match groups.iter_mut().find(|(g, _)| *g == claim.id) {
            Some((_, copies)) => copies.push(c),
            None if full => *truncated = true,
            None => groups.push((claim.id.clone(), vec![c])),
        }
    }
    groups
}

/// Adds the signers of another verified copy of the step's statement. Its verified times are
/// not added (a fresh copy must not make an old step look recent), and a certificate's runner
/// environment replaces a claimed one, `self-hosted` winning over anything else.
fn merge_signers(step: &mut ChainStep, more: &VerifiedAttestation) {
    for (signer, detail) in more.signers().iter().zip(more.signer_details()) {
        if !step.signers.contains(signer) {
            step.signers.push(signer.clone());
            step.signer_details.push(detail.clone());
        }
    }
    if let Some(certified) = certified_runner(more) {
        let keep =
            step.runner_certified && step.runner_environment.as_deref() == Some("self-hosted");
        if !keep {
            step.runner_environment = Some(certified);
            step.runner_certified = true;
        }
    }
}

/// The runner environment a keyless certificate states (verified, unlike the predicate's).
fn certified_runner(v: &VerifiedAttestation) -> Option<String> {
    v.signer_details()
        .iter()
        .find_map(|d| d.extension("runnerEnvironment"))
        .map(str::to_owned)
}

/// True when `step` lists `digest` as a product it did not merely pass through.
fn produces(step: &ChainStep, digest: &str) -> bool {
    step.products.iter().any(|p| {
        p.digest.as_deref() == Some(digest)
            && !step
                .materials
                .iter()
                .any(|m| m.name == p.name && m.digest.as_deref() == Some(digest))
    })
}

/// Fills each material's `producedBy` with the steps that list its digest as a product. A step
/// that lists the same file (name and digest) as both material and product passed it through
/// (it worked in place and left the file alone): it did not produce it.
fn link(chain: &mut Chain) {
    let mut producers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &chain.steps {
        let consumed: BTreeSet<(&str, &String)> = s
            .materials
            .iter()
            .filter_map(|m| Some((m.name.as_str(), m.digest.as_ref()?)))
            .collect();
        for p in &s.products {
            if let Some(d) = &p.digest
                && !consumed.contains(&(p.name.as_str(), d))
            {
                producers.entry(d.clone()).or_default().push(s.id.clone());
            }
        }
    }
    for s in &mut chain.steps {
        for m in &mut s.materials {
            // A step never produced its own input, even when an output has the same content.
            m.produced_by = Some(
                m.digest
                    .as_ref()
                    .and_then(|d| producers.get(d))
                    .map(|ids| ids.iter().filter(|id| **id != s.id).cloned().collect())
                    .unwrap_or_default(),
            );
        }
    }
}
