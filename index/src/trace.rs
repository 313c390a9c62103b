//! Forward and backward traces (docs/index.md has the time-window rules).
//!
//! Forward: from a source commit, a package (purl) or a digest to every artifact built from it
//! (through step materials, transitively), their deployments with service windows, and the
//! lots made during those windows on a target containing the deployment's. Backward: from a lot
//! (or a target at a time) to what was in service there then, and each artifact's chain.

use std::collections::{BTreeMap, BTreeSet};

use hallmark_model::sbom::purl::Purl;
use hallmark_model::target::Target;
use hallmark_model::text::printable;
use hallmark_model::time::Timestamp;
use serde::Serialize;

use crate::backend::Db;
use crate::chain::chain;
use crate::lookup::{
    aliases, consumers, deployed_targets, lots_during, lots_named, primary_of, subjects_of,
    windows_meeting, windows_on,
};
use crate::records::{ArtifactChain, LotRecord, ServiceWindow};
use crate::{Error, Result};

/// Most artifacts a forward trace follows.
pub const MAX_TRACED_ARTIFACTS: usize = 10_000;

/// Where a forward trace starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum ForwardFrom {
    /// A source commit (full hex SHA-1 or SHA-256): every artifact whose provenance names it.
    Commit(String),
    /// A package URL: every artifact an SBOM lists it in. Without a version every version
    /// matches; the package is compared normalized (purl-spec), the version exactly.
    Purl(String),
    /// A digest (`ALGORITHM:HEX`): the artifact itself if it is one, and whatever consumed it.
    Digest(String),
}

/// An artifact reached by a forward trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracedArtifact {
    /// Its primary digest.
    pub digest: String,
    /// Names its subjects gave it (sorted).
    pub names: Vec<String>,
    /// Build steps between the origin and it: 0 for the origin itself or an artifact whose SBOM
    /// lists the package, 1 for what a step made from it, and so on.
    pub depth: usize,
    /// The attestations that connect it to the previous level: the step that built it, or the
    /// SBOM that lists the package (sorted).
    pub via: Vec<String>,
    /// Its deployments, each with the lots made during its window.
    pub deployments: Vec<DeployedWindow>,
}

/// A deployment's service window and the lots made in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployedWindow {
    /// The deployment and its window.
    pub window: ServiceWindow,
    /// Lots made during the window on a target containing the deployment's (by start).
    pub lots: Vec<LotRecord>,
}

/// The result of a forward trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardTrace {
    /// Where it started.
    pub from: ForwardFrom,
    /// Every artifact reached, by depth then digest.
    pub artifacts: Vec<TracedArtifact>,
    /// True when [`MAX_TRACED_ARTIFACTS`] was reached.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl ForwardTrace {
    /// Every lot reached, once, by start then id.
    pub fn lots(&self) -> Vec<&LotRecord> {
        let mut seen = BTreeMap::new();
        for a in &self.artifacts {
            for d in &a.deployments {
                for l in &d.lots {
                    seen.entry((l.from, &l.lot, &l.target, l.to)).or_insert(l);
                }
            }
        }
        seen.into_values().collect()
    }
}

/// The result of a backward trace from a lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LotTrace {
    /// The lot id asked for.
    pub lot: String,
    /// Its records (more than one when recorded more than once), by start.
    pub records: Vec<LotRecord>,
    /// Deployments in service during a record's window on its target or any target under it,
    /// by target then time.
    pub running: Vec<ServiceWindow>,
    /// The chain of each artifact that ran, by digest.
    pub artifacts: Vec<ArtifactChain>,
}

/// The result of a backward trace from a target at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTrace {
    /// The target asked for.
    pub target: String,
    /// The time asked for.
    pub at: Timestamp,
    /// Deployments in service at that time on the target or any target under it.
    pub running: Vec<ServiceWindow>,
    /// The chain of each artifact that ran, by digest.
    pub artifacts: Vec<ArtifactChain>,
}

fn bad(what: &'static str, value: &str, problem: impl Into<String>) -> Error {
    Error::Query {
        what,
        value: printable(value),
        problem: problem.into(),
    }
}

/// A digest argument, lowercased: `ALGORITHM:VALUE`, letters and digits.
pub fn parse_digest(text: &str) -> Result<String> {
    let ok = text.split_once(':').is_some_and(|(alg, value)| {
        !alg.is_empty()
            && !value.is_empty()
            && alg.len() <= 32
            && value.len() <= 256
            && alg.bytes().all(|b| b.is_ascii_alphanumeric())
            && value.bytes().all(|b| b.is_ascii_hexdigit())
    });
    if !ok {
        return Err(bad("digest", text, "expected ALGORITHM:HEX, e.g. sha256:…"));
    }
    let (alg, value) = text.split_once(':').unwrap_or_default();
    Ok(format!("{alg}:{}", value.to_ascii_lowercase()))
}

fn parse_commit(text: &str) -> Result<String> {
    if !matches!(text.len(), 40 | 64) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            "commit",
            text,
            "expected a full commit id (40 or 64 hex digits)",
        ));
    }
    Ok(text.to_ascii_lowercase())
}

fn names(db: &mut Db, primary: &str) -> Result<Vec<String>> {
    let mut out = BTreeSet::new();
    for r in db.query(
        "SELECT DISTINCT name FROM subjects WHERE artifact = $1",
        &[primary.into()],
    )? {
        let n = r.text(0)?;
        if !n.is_empty() {
            out.insert(n);
        }
    }
    Ok(out.into_iter().collect())
}

/// The first level of a forward trace: (artifact, the attestation that links it) pairs.
type Seeds = Vec<(String, Option<String>)>;

/// The first level of a forward trace, and its depth (0 or 1).
fn seeds(db: &mut Db, from: &ForwardFrom) -> Result<(Seeds, usize)> {
    let mut out = Vec::new();
    match from {
        ForwardFrom::Commit(c) => {
            let commit = parse_commit(c)?;
            let ids: Vec<String> = db
                .query(
                    "SELECT id FROM attestations WHERE source_commit = $1 ORDER BY id",
                    &[commit.as_str().into()],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<_>>()?;
            for id in ids {
                for artifact in subjects_of(db, &id)? {
                    out.push((artifact, Some(id.clone())));
                }
            }
            Ok((out, 1))
        }
        ForwardFrom::Purl(p) => {
            let purl = Purl::parse(p).map_err(|e| bad("purl", p, e.to_string()))?;
            let rows = match &purl.version {
                Some(v) => db.query(
                    "SELECT artifact, attestation FROM packages WHERE package = $1 AND version = $2",
                    &[purl.package.as_str().into(), v.as_str().into()],
                )?,
                None => db.query(
                    "SELECT artifact, attestation FROM packages WHERE package = $1",
                    &[purl.package.as_str().into()],
                )?,
            };
            for r in rows {
                out.push((r.text(0)?, Some(r.text(1)?)));
            }
            Ok((out, 0))
        }
        ForwardFrom::Digest(d) => {
            let digest = parse_digest(d)?;
            let known = !db
                .query(
                    "SELECT attestation FROM subjects WHERE digest = $1",
                    &[digest.as_str().into()],
                )?
                .is_empty();
            if known {
                out.push((primary_of(db, &digest)?, None));
                return Ok((out, 0));
            }
            for id in consumers(db, &digest)? {
                for artifact in subjects_of(db, &id)? {
                    out.push((artifact, Some(id.clone())));
                }
            }
            Ok((out, 1))
        }
    }
}

/// Runs a forward trace.
pub(crate) fn forward(db: &mut Db, from: &ForwardFrom) -> Result<ForwardTrace> {
    let (level0, depth0) = seeds(db, from)?;
    let mut found: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    let mut frontier: Vec<String> = Vec::new();
    for (artifact, via) in level0 {
        let entry = found.entry(artifact.clone()).or_insert_with(|| {
            frontier.push(artifact.clone());
            (depth0, BTreeSet::new())
        });
        entry.1.extend(via);
    }
    let mut depth = depth0;
    let mut truncated = false;
    while !frontier.is_empty() && !truncated {
        depth += 1;
        let mut next = Vec::new();
        frontier.sort();
        frontier.dedup();
        for artifact in frontier {
            for digest in aliases(db, &artifact)? {
                for id in consumers(db, &digest)? {
                    for made in subjects_of(db, &id)? {
                        if found.len() >= MAX_TRACED_ARTIFACTS && !found.contains_key(&made) {
                            truncated = true;
                            continue;
                        }
                        let entry = found.entry(made.clone()).or_insert_with(|| {
                            next.push(made.clone());
                            (depth, BTreeSet::new())
                        });
                        if entry.0 == depth {
                            entry.1.insert(id.clone());
                        }
                    }
                }
            }
        }
        frontier = next;
    }
    let mut artifacts = Vec::with_capacity(found.len());
    let mut windows_by_target: BTreeMap<String, Vec<ServiceWindow>> = BTreeMap::new();
    for (digest, (depth, via)) in found {
        let digests = aliases(db, &digest)?;
        let mut deployments = Vec::new();
        for target in deployed_targets(db, &digests)? {
            if !windows_by_target.contains_key(&target) {
                let w = windows_on(db, &target)?;
                windows_by_target.insert(target.clone(), w);
            }
            let windows = windows_by_target.get(&target).cloned().unwrap_or_default();
            for window in windows
                .into_iter()
                .filter(|w| digests.contains(&w.artifact))
            {
                let lots = lots_during(db, &window.target, window.deployed_at, window.until)?;
                deployments.push(DeployedWindow { window, lots });
            }
        }
        artifacts.push(TracedArtifact {
            names: names(db, &digest)?,
            digest,
            depth,
            via: via.into_iter().collect(),
            deployments,
        });
    }
    artifacts.sort_by(|a, b| (a.depth, &a.digest).cmp(&(b.depth, &b.digest)));
    Ok(ForwardTrace {
        from: from.clone(),
        artifacts,
        truncated,
    })
}

fn chains(db: &mut Db, running: &[ServiceWindow]) -> Result<Vec<ArtifactChain>> {
    let digests: BTreeSet<&str> = running.iter().map(|w| w.artifact.as_str()).collect();
    digests.into_iter().map(|d| chain(db, d)).collect()
}

/// Runs a backward trace from lot `id`.
pub(crate) fn from_lot(db: &mut Db, id: &str) -> Result<LotTrace> {
    let records = lots_named(db, id)?;
    let mut running: BTreeMap<(String, Timestamp, String), ServiceWindow> = BTreeMap::new();
    for record in &records {
        // Windows [deployedAt, until) that meet the lot's [from, to], boundaries included.
        for w in windows_meeting(db, &record.target, record.from, record.to)? {
            running.insert((w.target.clone(), w.deployed_at, w.artifact.clone()), w);
        }
    }
    let running: Vec<ServiceWindow> = running.into_values().collect();
    Ok(LotTrace {
        lot: id.to_owned(),
        artifacts: chains(db, &running)?,
        records,
        running,
    })
}

/// Runs a backward trace from `target` at `at`.
pub(crate) fn at_target(db: &mut Db, target: &str, at: Timestamp) -> Result<TargetTrace> {
    let checked: Target = target
        .parse()
        .map_err(|e: hallmark_model::Error| bad("target", target, e.to_string()))?;
    let running: Vec<ServiceWindow> = windows_meeting(db, checked.as_str(), at, at)?
        .into_iter()
        .filter(|w| w.deployed_at <= at && w.until.is_none_or(|u| at < u))
        .collect();
    Ok(TargetTrace {
        target: checked.to_string(),
        at,
        artifacts: chains(db, &running)?,
        running,
    })
}
