//! An artifact's chain, walked backward through the index: the provenance that made it, the
//! provenance that made that step's materials, and so on, with sources, approvals, SBOM
//! packages and every other attestation about it.

use std::collections::{BTreeSet, VecDeque};

use crate::Result;
use crate::backend::Db;
use crate::lookup::{aliases, signers, stamp, subjects_of};
use crate::records::{
    ApprovalRecord, ArtifactChain, EvidenceRef, PackageRecord, SourceRecord, StepRecord,
};

/// Deepest chain walked (steps from the artifact).
pub const MAX_CHAIN_DEPTH: usize = 64;
/// Most steps one chain lists.
pub const MAX_CHAIN_STEPS: usize = 2_000;

fn evidence_about(db: &mut Db, digests: &BTreeSet<String>) -> Result<Vec<EvidenceRef>> {
    let mut ids = BTreeSet::new();
    for d in digests {
        for r in db.query(
            "SELECT DISTINCT attestation FROM subjects WHERE digest = $1",
            &[d.into()],
        )? {
            ids.insert(r.text(0)?);
        }
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let rows = db.query(
            "SELECT predicate_type, origin, trust, verified_at FROM attestations WHERE id = $1",
            &[id.as_str().into()],
        )?;
        let Some(r) = rows.first() else { continue };
        out.push(EvidenceRef {
            predicate_type: r.text(0)?,
            origin: r.text(1)?,
            trust: r.text(2)?,
            verified_at: crate::time::from_micros(r.int(3)?),
            signers: signers(db, &id)?,
            id,
        });
    }
    out.sort_by(|a, b| (&a.predicate_type, &a.id).cmp(&(&b.predicate_type, &b.id)));
    Ok(out)
}

/// The chain behind the artifact `primary` (a primary digest).
pub(crate) fn chain(db: &mut Db, primary: &str) -> Result<ArtifactChain> {
    let digests = aliases(db, primary)?;
    let mut names = BTreeSet::new();
    for r in db.query(
        "SELECT DISTINCT name FROM subjects WHERE artifact = $1",
        &[primary.into()],
    )? {
        let name = r.text(0)?;
        if !name.is_empty() {
            names.insert(name);
        }
    }
    let mut steps = Vec::new();
    let mut truncated = false;
    let mut seen_digests: BTreeSet<String> = digests.clone();
    let mut seen_steps: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, usize)> = digests.iter().map(|d| (d.clone(), 0)).collect();
    while let Some((digest, depth)) = queue.pop_front() {
        if depth > MAX_CHAIN_DEPTH || steps.len() >= MAX_CHAIN_STEPS {
            truncated = true;
            break;
        }
        let rows = db.query(
            "SELECT a.id, a.step, a.builder_id, a.build_type, a.source_uri, a.source_commit \
             FROM subjects s JOIN attestations a ON a.id = s.attestation \
             WHERE s.digest = $1 AND a.builder_id IS NOT NULL ORDER BY a.id",
            &[digest.as_str().into()],
        )?;
        for r in rows {
            let id = r.text(0)?;
            if !seen_steps.insert(id.clone()) {
                continue;
            }
            let materials: BTreeSet<String> = db
                .query(
                    "SELECT digest FROM materials WHERE attestation = $1",
                    &[id.as_str().into()],
                )?
                .iter()
                .map(|m| m.text(0))
                .collect::<Result<_>>()?;
            for m in &materials {
                if seen_digests.insert(m.clone()) {
                    queue.push_back((m.clone(), depth + 1));
                }
            }
            steps.push(StepRecord {
                depth,
                step: r.opt_text(1)?,
                builder_id: r.opt_text(2)?,
                build_type: r.opt_text(3)?,
                source: r.opt_text(5)?.map(|commit| SourceRecord {
                    uri: r.opt_text(4).ok().flatten(),
                    commit,
                }),
                signers: signers(db, &id)?,
                subjects: subjects_of(db, &id)?.into_iter().collect(),
                materials: materials.into_iter().collect(),
                evidence: id,
            });
        }
    }
    steps.sort_by(|a, b| (a.depth, &a.evidence).cmp(&(b.depth, &b.evidence)));
    let sources: BTreeSet<SourceRecord> = steps.iter().filter_map(|s| s.source.clone()).collect();
    let mut approvals = Vec::new();
    let mut packages = Vec::new();
    for d in &digests {
        for r in db.query(
            "SELECT attestation, environment, ticket, reason, approved_at FROM approvals \
             WHERE artifact = $1",
            &[d.into()],
        )? {
            let evidence = r.text(0)?;
            approvals.push(ApprovalRecord {
                environment: r.opt_text(1)?,
                ticket: r.opt_text(2)?,
                reason: r.text(3)?,
                approved_at: stamp(r.int(4)?)?,
                signers: signers(db, &evidence)?,
                evidence,
            });
        }
        for r in db.query(
            "SELECT purl, name, version, attestation FROM packages WHERE artifact = $1",
            &[d.into()],
        )? {
            packages.push(PackageRecord {
                purl: r.text(0)?,
                name: r.text(1)?,
                version: r.opt_text(2)?,
                evidence: r.text(3)?,
            });
        }
    }
    approvals.sort_by(|a, b| (a.approved_at, &a.evidence).cmp(&(b.approved_at, &b.evidence)));
    packages.sort_by(|a, b| (&a.purl, &a.evidence).cmp(&(&b.purl, &b.evidence)));
    Ok(ArtifactChain {
        digest: primary.to_owned(),
        names: names.into_iter().collect(),
        steps,
        sources: sources.into_iter().collect(),
        approvals,
        packages,
        evidence: evidence_about(db, &digests)?,
        truncated,
    })
}
