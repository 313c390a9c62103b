//! Writing verified attestations: one transaction per batch, nothing written twice.

use serde::Serialize;

use crate::backend::{Db, Val};
use crate::evidence::{Evidence, Keys, keys};
use crate::facts::{Facts, scopes};
use crate::time::to_micros;
use crate::{Error, Result};

/// What ingesting one attestation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Ingested {
    /// Written.
    Added {
        /// Its index key.
        id: String,
        /// Typed records that were not filed, and why (the attestation itself was).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
    /// It was already in the index: nothing changed.
    AlreadyIndexed {
        /// Its index key.
        id: String,
    },
}

impl Ingested {
    /// The index key.
    pub fn id(&self) -> &str {
        match self {
            Ingested::Added { id, .. } | Ingested::AlreadyIndexed { id } => id,
        }
    }
}

/// One attestation ready to write: its keys and rows, worked out before the transaction.
pub(crate) struct Prepared<'a> {
    evidence: Evidence<'a>,
    keys: Keys,
    facts: Facts,
}

/// Checks `evidence` and works out its rows (no database needed: run it on many threads).
pub(crate) fn prepare<'a>(evidence: &Evidence<'a>) -> Result<Prepared<'a>> {
    Ok(Prepared {
        keys: keys(evidence)?,
        facts: Facts::of(evidence.attestation),
        evidence: *evidence,
    })
}

/// Writes one prepared attestation (inside the caller's transaction).
pub(crate) fn write(db: &mut Db, p: &Prepared<'_>) -> Result<Ingested> {
    let id = p.keys.id.as_str();
    let a = p.evidence.attestation;
    let provenance = a.provenance();
    let added = db.execute(
        "INSERT INTO attestations (id, payload_digest, predicate_type, signers, trust, \
         verified_at, signed_at, claimed_at, origin, step, builder_id, build_type, source_uri, \
         source_commit, source_dirty, result, bundle) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (id) DO NOTHING",
        &[
            id.into(),
            p.keys.payload.as_str().into(),
            a.predicate_type().into(),
            p.facts.signers_json.as_str().into(),
            p.evidence.trust.into(),
            to_micros(p.evidence.verified_at).into(),
            p.facts.signed_at.into(),
            p.facts.claimed_at.into(),
            p.evidence.origin.into(),
            a.step().into(),
            provenance.map(|p| p.builder_id.as_str()).into(),
            provenance.map(|p| p.build_type.as_str()).into(),
            provenance.and_then(|p| p.source_uri.as_deref()).into(),
            provenance.and_then(|p| p.source_commit.as_deref()).into(),
            provenance
                .and_then(|p| p.source_dirty)
                .map(i64::from)
                .into(),
            p.facts.result.as_deref().into(),
            Val::Bytes(p.evidence.bundle),
        ],
    )?;
    if added == 0 {
        return Ok(Ingested::AlreadyIndexed { id: id.to_owned() });
    }
    let f = &p.facts;
    for s in &f.signers {
        db.execute(
            "INSERT INTO signers (attestation, kind, value, issuer) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
            &[
                id.into(),
                s.kind.into(),
                (&s.value).into(),
                (&s.issuer).into(),
            ],
        )?;
    }
    for (digest, artifact, name) in &f.subjects {
        db.execute(
            "INSERT INTO subjects (attestation, digest, artifact, name) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
            &[id.into(), digest.into(), artifact.into(), name.into()],
        )?;
    }
    for (digest, uri) in &f.materials {
        db.execute(
            "INSERT INTO materials (attestation, digest, uri) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[id.into(), digest.into(), uri.into()],
        )?;
    }
    for (artifact, approval) in &f.approvals {
        db.execute(
            "INSERT INTO approvals (attestation, artifact, environment, ticket, reason, \
             approved_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                id.into(),
                artifact.into(),
                approval.environment.as_deref().into(),
                approval.ticket.as_deref().into(),
                approval.reason.as_str().into(),
                to_micros(approval.approved_at.time()).into(),
            ],
        )?;
    }
    for d in &f.deployments {
        let r = &d.record;
        db.execute(
            "INSERT INTO deployments (attestation, artifact, target, environment, replaces, \
             deployed_at, change_ticket, work_order) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT DO NOTHING",
            &[
                id.into(),
                d.artifact.as_str().into(),
                r.target.as_str().into(),
                r.environment.as_deref().into(),
                r.replaces.as_deref().into(),
                to_micros(r.deployed_at.time()).into(),
                r.change.as_deref().into(),
                r.work_order.as_deref().into(),
            ],
        )?;
    }
    if let Some(d) = f.deployments.first() {
        for scope in scopes(d.record.target.as_str()) {
            db.execute(
                "INSERT INTO deployment_scopes (attestation, scope) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[id.into(), scope.as_str().into()],
            )?;
            db.execute(
                "INSERT INTO deployment_targets (scope, target) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[scope.as_str().into(), d.record.target.as_str().into()],
            )?;
        }
        for lot in &d.record.lots {
            db.execute(
                "INSERT INTO deployment_lots (attestation, lot) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[id.into(), lot.into()],
            )?;
        }
    }
    if let Some(lot) = &f.lot {
        db.execute(
            "INSERT INTO lots (attestation, lot, target, starts_at, ends_at, product, \
             work_order) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            &[
                id.into(),
                lot.lot.as_str().into(),
                lot.target.as_str().into(),
                to_micros(lot.from.time()).into(),
                to_micros(lot.to.time()).into(),
                lot.product.as_deref().into(),
                lot.work_order.as_deref().into(),
            ],
        )?;
    }
    for pkg in &f.packages {
        db.execute(
            "INSERT INTO packages (attestation, artifact, purl, package, version, name) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                id.into(),
                pkg.artifact.as_str().into(),
                pkg.purl.as_str().into(),
                pkg.package.as_str().into(),
                pkg.version.as_deref().into(),
                pkg.name.as_str().into(),
            ],
        )?;
    }
    Ok(Ingested::Added {
        id: id.to_owned(),
        notes: f.notes.clone(),
    })
}

/// Prepares `batch` (in parallel) and writes it in one transaction.
pub(crate) fn add(db: &mut Db, batch: &[Evidence<'_>]) -> Result<Vec<Ingested>> {
    use rayon::prelude::*;
    let prepared = batch.par_iter().map(prepare).collect::<Result<Vec<_>>>()?;
    db.transaction(|db| {
        let mut out = Vec::with_capacity(prepared.len());
        for p in &prepared {
            out.push(write(db, p)?);
        }
        Ok::<_, Error>(out)
    })
}
