//! The provenance chain behind an artifact: walk back from the artifact through the step
//! attestations whose products are the materials of later steps.
//!
//! Only attestations that verify against the same trust as the artifact's own become steps; a
//! material with no verified producer is left with an empty `producedBy`, and policy decides
//! whether it is a declared external input or a gap (`chain.unattested-input`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::statement::Statement;
use serde::Serialize;
use serde_json::Value;

use crate::attestation::{ProvenanceSummary, VerifiedAttestation};
use crate::verdict::{Candidate, Requirements, check_candidate};

/// Most steps in one chain.
pub const MAX_CHAIN_STEPS: usize = 1000;
/// Most digests looked up while walking a chain.
pub const MAX_CHAIN_LOOKUPS: usize = 20_000;

/// A file (or image) a step consumed or produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainArtifact {
    /// Its name in the attestation (a path relative to the step's directory).
    pub name: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Ids of the chain steps that list it as a product (materials only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produced_by: Option<Vec<String>>,
}

/// One verified step attestation in the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainStep {
    /// `sha256:` of the bundle bytes: stable across stores and registries.
    pub id: String,
    /// Where the bundle was found.
    pub origin: String,
    /// The Hallmark step name, if the attestation names one.
    pub step: Option<String>,
    /// Keyids or keyless identities that signed it.
    pub signers: Vec<String>,
    /// The signers in detail (issuer and Fulcio extensions for keyless ones).
    pub signer_details: Vec<Value>,
    /// Signing times proven by a log or timestamp authority (RFC 3339).
    pub verified_times: Vec<String>,
    /// The provenance summary.
    pub provenance: ProvenanceSummary,
    /// The command, for Hallmark step provenance.
    pub command: Option<Vec<String>>,
    /// The command's exit code, when recorded.
    pub exit_code: Option<i64>,
    /// The runner environment (`github-hosted`, `self-hosted`), when the provenance says.
    pub runner_environment: Option<String>,
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

/// The sha256 digests of a descriptor list, as `(name, sha256:<hex>)`.
fn sha256_entries(list: &[hallmark_model::resource::ResourceDescriptor]) -> Vec<(String, String)> {
    list.iter()
        .filter_map(|d| {
            let hex = d.digest.get("sha256")?;
            Digest::from_hex(DigestAlgorithm::Sha256, hex).ok()?;
            Some((d.name.clone(), format!("sha256:{hex}")))
        })
        .collect()
}

fn materials(statement: &Statement) -> Vec<(String, String)> {
    let deps = statement
        .predicate
        .as_ref()
        .and_then(|p| p.pointer("/buildDefinition/resolvedDependencies"))
        .and_then(|v| {
            serde_json::from_value::<Vec<hallmark_model::resource::ResourceDescriptor>>(v.clone())
                .ok()
        })
        .unwrap_or_default();
    sha256_entries(&deps)
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
    let certified = v
        .signer_details()
        .iter()
        .find_map(|d| d.pointer("/extensions/runnerEnvironment"));
    let runner_environment = certified
        .or_else(|| at("/buildDefinition/internalParameters/github/runner_environment"))
        .or_else(|| at("/buildDefinition/internalParameters/ci/runnerEnvironment"))
        .and_then(Value::as_str)
        .map(str::to_owned);
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
        provenance,
        materials: materials(statement)
            .into_iter()
            .map(|(name, digest)| ChainArtifact {
                name,
                digest,
                produced_by: Some(Vec::new()),
            })
            .collect(),
        products: sha256_entries(&statement.subject)
            .into_iter()
            .map(|(name, digest)| ChainArtifact {
                name,
                digest,
                produced_by: None,
            })
            .collect(),
    })
}

/// The id of an attestation: `sha256:` of its bundle bytes.
pub fn bundle_id(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        hallmark_model::hex::encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref()
        )
    )
}

/// Walks back from `digest`: `initial` are its candidates, `lookup` finds candidates for a
/// material's digest. Every candidate is verified with `requirements`; rejected ones are left out.
pub fn walk<E>(
    digest: &Digest,
    initial: &[Candidate],
    mut lookup: impl FnMut(&Digest) -> Result<Vec<Candidate>, E>,
    requirements: &Requirements,
) -> Result<Chain, E> {
    let mut chain = Chain::default();
    let mut seen_steps = BTreeSet::new();
    let mut seen_digests = BTreeSet::from([digest.to_string()]);
    let mut queue: VecDeque<(Digest, Option<Vec<Candidate>>)> =
        VecDeque::from([(digest.clone(), Some(initial.to_vec()))]);
    let mut lookups = 0usize;
    while let Some((wanted, given)) = queue.pop_front() {
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
        for c in &candidates {
            let id = bundle_id(&c.bytes);
            if seen_steps.contains(&id) {
                if wanted == *digest && !chain.roots.contains(&id) {
                    chain.roots.push(id);
                }
                continue;
            }
            let Ok(verified) = check_candidate(c, &wanted, requirements) else {
                continue;
            };
            let Some(step) = step_from(id.clone(), &c.origin, &verified) else {
                continue;
            };
            if chain.steps.len() >= MAX_CHAIN_STEPS {
                chain.truncated = true;
                break;
            }
            seen_steps.insert(id.clone());
            if wanted == *digest {
                chain.roots.push(id);
            }
            for m in &step.materials {
                if seen_digests.insert(m.digest.clone())
                    && let Ok(d) = m.digest.parse::<Digest>()
                {
                    queue.push_back((d, None));
                }
            }
            chain.steps.push(step);
        }
    }
    link(&mut chain);
    Ok(chain)
}

/// Fills each material's `producedBy` with the steps that list its digest as a product.
fn link(chain: &mut Chain) {
    let mut producers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &chain.steps {
        for p in &s.products {
            producers
                .entry(p.digest.clone())
                .or_default()
                .push(s.id.clone());
        }
    }
    for s in &mut chain.steps {
        for m in &mut s.materials {
            m.produced_by = Some(
                producers
                    .get(&m.digest)
                    .map(|ids| ids.iter().filter(|id| **id != s.id).cloned().collect())
                    .unwrap_or_default(),
            );
        }
    }
}
