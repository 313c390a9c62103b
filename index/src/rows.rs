//! Attestations as rows, and the deployments of one artifact: what compliance reports and
//! runtime audits read (docs/report.md, docs/index.md).

use std::collections::BTreeSet;

use hallmark_model::time::Timestamp;
use serde::Serialize;

use crate::backend::Row;
use crate::lookup::{aliases, deployed_targets, primary_of, signers, stamp, windows_on};
use crate::records::{DeploymentRecord, ServiceWindow};
use crate::{Index, Result};

/// One indexed attestation's columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationRow {
    /// The index key.
    pub id: String,
    /// The predicate type.
    pub predicate_type: String,
    /// Who signed it (keyids, or `identity (issuer …)`).
    pub signers: Vec<String>,
    /// The trust it was verified with.
    pub trust: String,
    /// Where it was read.
    pub origin: String,
    /// When it was verified for the index.
    pub verified_at: Timestamp,
    /// The earliest signing time a transparency log or timestamp authority proved.
    pub signed_at: Option<Timestamp>,
    /// The time the predicate claims (build end, approval, deployment, lot start).
    pub claimed_at: Option<Timestamp>,
    /// The Hallmark step, for step provenance.
    pub step: Option<String>,
    /// The builder id, for provenance.
    pub builder_id: Option<String>,
    /// The source repository, for provenance that names one.
    pub source_uri: Option<String>,
    /// The source commit, for provenance that names one.
    pub source_commit: Option<String>,
    /// Whether the source tree had uncommitted changes, when the provenance says.
    pub source_dirty: Option<bool>,
    /// A verification summary's result (`PASSED`, `FAILED`).
    pub result: Option<String>,
    /// Packages indexed from it (an SBOM's components).
    pub packages: u64,
}

/// The columns [`Index::row`] reads, in its order (a macro: queries are `&'static str`).
macro_rules! columns {
    () => {
        "SELECT a.id, a.predicate_type, a.trust, a.origin, a.verified_at, a.signed_at, \
         a.claimed_at, a.step, a.builder_id, a.source_uri, a.source_commit, a.source_dirty, \
         a.result, (SELECT COUNT(*) FROM packages p WHERE p.attestation = a.id) \
         FROM attestations a"
    };
}

impl Index {
    /// The attestation `id`, if indexed.
    pub fn attestation(&mut self, id: &str) -> Result<Option<AttestationRow>> {
        let rows = self
            .db
            .query(concat!(columns!(), " WHERE a.id = $1"), &[id.into()])?;
        match rows.first() {
            Some(r) => Ok(Some(self.row(r)?)),
            None => Ok(None),
        }
    }

    /// Every attestation whose subject is the artifact `digest` (by any of its digests), by
    /// predicate type then key. Empty when nothing verified names it.
    pub fn attestations_of(&mut self, digest: &str) -> Result<Vec<AttestationRow>> {
        let primary = primary_of(&mut self.db, digest)?;
        let mut ids = BTreeSet::new();
        for d in aliases(&mut self.db, &primary)? {
            for r in self.db.query(
                "SELECT DISTINCT attestation FROM subjects WHERE digest = $1",
                &[d.as_str().into()],
            )? {
                ids.insert(r.text(0)?);
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(row) = self.attestation(&id)? {
                out.push(row);
            }
        }
        out.sort_by(|a, b| (&a.predicate_type, &a.id).cmp(&(&b.predicate_type, &b.id)));
        Ok(out)
    }

    /// The service windows of the artifact `digest` (any of its digests) on every target it
    /// was deployed to, by target then time.
    pub fn deployments_of(&mut self, digest: &str) -> Result<Vec<ServiceWindow>> {
        let primary = primary_of(&mut self.db, digest)?;
        let digests = aliases(&mut self.db, &primary)?;
        let mut out = Vec::new();
        for target in deployed_targets(&mut self.db, &digests)? {
            out.extend(
                windows_on(&mut self.db, &target)?
                    .into_iter()
                    .filter(|w| digests.contains(&w.artifact)),
            );
        }
        Ok(out)
    }

    /// The deployment attestation `id` records, with its own environment and change (every
    /// subject of one record shares them); `None` when it filed no deployment.
    pub fn deployment_record(&mut self, id: &str) -> Result<Option<DeploymentRecord>> {
        let rows = self.db.query(
            "SELECT target, environment, change_ticket, deployed_at FROM deployments \
             WHERE attestation = $1 ORDER BY artifact",
            &[id.into()],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(DeploymentRecord {
            target: r.text(0)?,
            environment: r.opt_text(1)?,
            change: r.opt_text(2)?,
            deployed_at: stamp(r.int(3)?)?,
        }))
    }

    /// Every artifact with a deployment record or an approval (what a compliance report covers
    /// by default), sorted.
    pub fn deployed_or_approved(&mut self) -> Result<Vec<String>> {
        self.db
            .query(
                "SELECT artifact FROM deployments UNION SELECT artifact FROM approvals \
                 ORDER BY 1",
                &[],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect()
    }

    fn row(&mut self, r: &Row) -> Result<AttestationRow> {
        let id = r.text(0)?;
        let time = |i: usize| -> Result<Option<Timestamp>> { r.opt_int(i)?.map(stamp).transpose() };
        Ok(AttestationRow {
            signers: signers(&mut self.db, &id)?,
            predicate_type: r.text(1)?,
            trust: r.text(2)?,
            origin: r.text(3)?,
            verified_at: stamp(r.int(4)?)?,
            signed_at: time(5)?,
            claimed_at: time(6)?,
            step: r.opt_text(7)?,
            builder_id: r.opt_text(8)?,
            source_uri: r.opt_text(9)?,
            source_commit: r.opt_text(10)?,
            source_dirty: r.opt_int(11)?.map(|v| v != 0),
            result: r.opt_text(12)?,
            packages: r.int(13)?.max(0) as u64,
            id,
        })
    }
}
