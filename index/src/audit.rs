//! Runtime audit: what is installed or running on a target, compared with the evidence
//! (docs/index.md, "Runtime audit"). Each item is a name and a digest; findings say which are
//! unattested, unexpected there, revoked, or expired.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use hallmark_model::digest::Digest;
use hallmark_model::target::Target;
use hallmark_model::time::Timestamp;
use hallmark_verifier::revocation::Revocations;
use serde::Serialize;

use crate::lookup::windows_on;
use crate::records::ServiceWindow;
use crate::trace::ForwardFrom;
use crate::{Index, Result};

/// What is wrong with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Problem {
    /// No verified attestation names it, and no verified step consumed it.
    Unattested,
    /// Attested, but not in service on this target at this time by any deployment record: of
    /// it, or of an artifact it went into.
    Unexpected,
    /// A verified revocation list revokes it, or the deployed artifact it came in.
    Revoked,
    /// Its newest approval (or, without approvals, its newest attestation) is older than the
    /// audit's maximum age.
    Expired,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The item: a path, a listed name, or `NAMESPACE/POD/CONTAINER`.
    pub what: String,
    /// Its digest.
    pub digest: String,
    /// What is wrong.
    pub problem: Problem,
    /// Why, in a sentence.
    pub detail: String,
}

/// The result of an audit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    /// The target audited.
    pub target: String,
    /// The time audited at.
    pub at: Timestamp,
    /// Items checked.
    pub checked: usize,
    /// Items without a finding.
    pub clean: usize,
    /// Findings, by item then problem.
    pub findings: Vec<Finding>,
}

/// What an audit compares against.
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions<'a> {
    /// The target the items are on.
    pub target: &'a Target,
    /// When they were seen.
    pub at: SystemTime,
    /// Evidence older than this is expired (`None`: never).
    pub max_age: Option<Duration>,
    /// Verified revocations.
    pub revocations: &'a Revocations,
    /// Who may record deployments (signers as the index names them: keyids, or
    /// `identity (issuer …)`); `None`: every verified signer. A deployment recorded by anyone
    /// else puts nothing on a target.
    pub deployers: Option<&'a [String]>,
}

/// What the index says about one digest, worked out once however many items share it.
struct Verdict {
    problems: Vec<(Problem, String)>,
}

impl Index {
    /// Audits `items` (name, digest) on `options.target` at `options.at`.
    pub fn audit(
        &mut self,
        items: &[(String, Digest)],
        options: &AuditOptions<'_>,
    ) -> Result<Audit> {
        let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
        let mut findings = Vec::new();
        let mut clean = 0;
        for (what, digest) in items {
            let key = digest.to_string();
            if !verdicts.contains_key(&key) {
                let verdict = self.judge(digest, options)?;
                verdicts.insert(key.clone(), verdict);
            }
            let problems = verdicts
                .get(&key)
                .map(|v| v.problems.as_slice())
                .unwrap_or(&[]);
            if problems.is_empty() {
                clean += 1;
            }
            findings.extend(problems.iter().map(|(problem, detail)| Finding {
                what: what.clone(),
                digest: key.clone(),
                problem: *problem,
                detail: detail.clone(),
            }));
        }
        findings.sort_by(|a, b| (&a.what, a.problem).cmp(&(&b.what, b.problem)));
        Ok(Audit {
            target: options.target.to_string(),
            at: Timestamp::new(options.at)
                .map_err(|e| crate::Error::Query {
                    what: "time",
                    value: String::new(),
                    problem: e.to_string(),
                })?
                .whole_seconds(),
            checked: items.len(),
            clean,
            findings,
        })
    }

    /// The service windows on exactly `target`, from the records of `deployers` only when
    /// named: each window then ends at the next deployer's deployment.
    fn history(
        &mut self,
        target: &str,
        deployers: Option<&[String]>,
    ) -> Result<Vec<ServiceWindow>> {
        let all = windows_on(&mut self.db, target)?;
        if deployers.is_none() {
            return Ok(all);
        }
        let mut kept = Vec::with_capacity(all.len());
        for w in all {
            if self.by_deployer(&w, deployers)? {
                kept.push(w);
            }
        }
        // Ordered by time already (windows_on); close each at the next kept one.
        let next: Vec<(Option<Timestamp>, Option<String>)> = kept
            .iter()
            .skip(1)
            .map(|w| (Some(w.deployed_at), Some(w.artifact.clone())))
            .chain(std::iter::once((None, None)))
            .collect();
        for (w, (until, by)) in kept.iter_mut().zip(next) {
            w.until = until;
            w.replaced_by = by;
        }
        Ok(kept)
    }

    /// True when a record of `window` is signed by one of `deployers` (or none is required).
    fn by_deployer(
        &mut self,
        window: &ServiceWindow,
        deployers: Option<&[String]>,
    ) -> Result<bool> {
        let Some(deployers) = deployers else {
            return Ok(true);
        };
        for id in &window.evidence {
            if let Some(row) = self.attestation(id)?
                && row.signers.iter().any(|s| deployers.contains(s))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn judge(&mut self, digest: &Digest, options: &AuditOptions<'_>) -> Result<Verdict> {
        let text = digest.to_string();
        let mut problems = Vec::new();
        let own = self.attestations_of(&text)?;
        // The artifact itself and every artifact it went into, with their deployments.
        let forward = self.trace_forward(&ForwardFrom::Digest(text.clone()))?;
        let consumed = forward.artifacts.iter().any(|a| a.depth > 0);
        if own.is_empty() && !consumed {
            problems.push((
                Problem::Unattested,
                "no verified attestation names it and no verified step consumed it".to_owned(),
            ));
            return Ok(Verdict { problems });
        }
        if let Some(r) = options.revocations.artifact(&[digest], options.at) {
            problems.push((
                Problem::Revoked,
                format!("revoked by {} since {}: {}", r.list, r.effective, r.reason),
            ));
        }
        let at = Timestamp::new(options.at).ok();
        // The windows on targets related to the audited one. With deployers named, each such
        // target's history is rebuilt from their records alone, so a record by anyone else can
        // neither put software there nor end what a deployer put there.
        let artifacts: BTreeSet<&str> = forward
            .artifacts
            .iter()
            .map(|a| a.digest.as_str())
            .collect();
        let targets: BTreeSet<String> = forward
            .artifacts
            .iter()
            .flat_map(|a| a.deployments.iter().map(|d| d.window.target.clone()))
            .filter(|t| {
                t.parse::<Target>()
                    .is_ok_and(|t| t.contains(options.target) || options.target.contains(&t))
            })
            .collect();
        let mut windows: Vec<ServiceWindow> = Vec::new();
        for target in &targets {
            windows.extend(
                self.history(target, options.deployers)?
                    .into_iter()
                    .filter(|w| artifacts.contains(w.artifact.as_str())),
            );
        }
        let related: Vec<&ServiceWindow> = windows.iter().collect();
        let in_service: Vec<&ServiceWindow> = related
            .iter()
            .copied()
            .filter(|w| at.is_some_and(|at| w.deployed_at <= at && w.until.is_none_or(|u| u > at)))
            .collect();
        match (related.is_empty(), in_service.first()) {
            (true, _) => problems.push((
                Problem::Unexpected,
                format!("no deployment record puts it on {}", options.target),
            )),
            (false, None) => {
                let last = related.iter().max_by_key(|w| w.deployed_at);
                problems.push((
                    Problem::Unexpected,
                    match last {
                        Some(w) => format!(
                            "deployed to {} at {}, but not in service there at this time{}",
                            w.target,
                            w.deployed_at,
                            w.replaced_by
                                .as_deref()
                                .map(|r| format!(" (replaced by {r})"))
                                .unwrap_or_default()
                        ),
                        None => format!("not in service on {}", options.target),
                    },
                ));
            }
            (false, Some(_)) => {}
        }
        for w in &in_service {
            if w.artifact == text {
                continue;
            }
            if let Ok(d) = w.artifact.parse::<Digest>()
                && let Some(r) = options.revocations.artifact(&[&d], options.at)
            {
                problems.push((
                    Problem::Revoked,
                    format!(
                        "came in {}, revoked by {}: {}",
                        w.artifact, r.list, r.reason
                    ),
                ));
            }
        }
        if let Some(max_age) = options.max_age {
            let artifact = in_service
                .first()
                .map_or(text.clone(), |w| w.artifact.clone());
            let rows = self.attestations_of(&artifact)?;
            let approvals: Vec<_> = rows
                .iter()
                .filter(|r| r.predicate_type == hallmark_model::approval::APPROVAL_V1)
                .collect();
            let pool = if approvals.is_empty() {
                rows.iter().collect()
            } else {
                approvals
            };
            let newest = pool
                .iter()
                // A claim later than the verification counts from the verification: evidence
                // dated in the future never stays fresh.
                .map(|r| {
                    r.signed_at
                        .or(r.claimed_at)
                        .map_or(r.verified_at, |t| t.min(r.verified_at))
                })
                .max();
            if let Some(newest) = newest
                && options
                    .at
                    .duration_since(newest.time())
                    .is_ok_and(|age| age > max_age)
            {
                problems.push((
                    Problem::Expired,
                    format!(
                        "its newest {} is from {newest}, older than {}",
                        if pool
                            .iter()
                            .any(|r| r.predicate_type == hallmark_model::approval::APPROVAL_V1)
                        {
                            "approval"
                        } else {
                            "evidence"
                        },
                        humantime::format_duration(max_age)
                    ),
                ));
            }
        }
        Ok(Verdict { problems })
    }
}
