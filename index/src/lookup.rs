//! The indexed lookups traces are made of: each a query on an indexed column.

use std::collections::{BTreeMap, BTreeSet};

use hallmark_model::time::Timestamp;

use crate::backend::{Db, Row};
use crate::facts::scopes;
use crate::records::{LotRecord, ServiceWindow};
use crate::time::{from_micros, to_micros};
use crate::{Error, Result};

pub(crate) fn stamp(micros: i64) -> Result<Timestamp> {
    from_micros(micros).ok_or_else(|| Error::Corrupt(format!("time {micros} is out of range")))
}

/// Signers as people read them, from the `signers` table.
pub(crate) fn signers(db: &mut Db, attestation: &str) -> Result<Vec<String>> {
    let rows = db.query(
        "SELECT kind, value, issuer FROM signers WHERE attestation = $1 \
         ORDER BY kind, value, issuer",
        &[attestation.into()],
    )?;
    rows.iter()
        .map(|r| {
            let (kind, value, issuer) = (r.text(0)?, r.text(1)?, r.text(2)?);
            Ok(if kind == "identity" {
                format!("{value} (issuer {issuer})")
            } else {
                value
            })
        })
        .collect()
}

/// Every digest the artifact `primary` is known by (its subjects' other algorithms), itself
/// included.
pub(crate) fn aliases(db: &mut Db, primary: &str) -> Result<BTreeSet<String>> {
    let mut out: BTreeSet<String> = db
        .query(
            "SELECT DISTINCT digest FROM subjects WHERE artifact = $1",
            &[primary.into()],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_>>()?;
    out.insert(primary.to_owned());
    Ok(out)
}

/// The primary digest of whatever subject carries `digest` (itself when none does).
pub(crate) fn primary_of(db: &mut Db, digest: &str) -> Result<String> {
    let rows = db.query(
        "SELECT DISTINCT artifact FROM subjects WHERE digest = $1 ORDER BY artifact",
        &[digest.into()],
    )?;
    match rows.first() {
        Some(r) => r.text(0),
        None => Ok(digest.to_owned()),
    }
}

/// The primary digests of the subjects of an attestation.
pub(crate) fn subjects_of(db: &mut Db, attestation: &str) -> Result<BTreeSet<String>> {
    db.query(
        "SELECT DISTINCT artifact FROM subjects WHERE attestation = $1",
        &[attestation.into()],
    )?
    .iter()
    .map(|r| r.text(0))
    .filter(|a| a.as_ref().map_or(true, |a| !a.is_empty()))
    .collect()
}

/// Attestations that consumed `digest` as a material.
pub(crate) fn consumers(db: &mut Db, digest: &str) -> Result<BTreeSet<String>> {
    db.query(
        "SELECT DISTINCT attestation FROM materials WHERE digest = $1",
        &[digest.into()],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// A deployment row as read, in the column order of the queries below.
struct DeploymentRow {
    attestation: String,
    artifact: String,
    target: String,
    environment: Option<String>,
    replaces: Option<String>,
    deployed_at: i64,
    change: Option<String>,
    work_order: Option<String>,
}

fn deployment_row(r: &Row) -> Result<DeploymentRow> {
    Ok(DeploymentRow {
        attestation: r.text(0)?,
        artifact: r.text(1)?,
        target: r.text(2)?,
        environment: r.opt_text(3)?,
        replaces: r.opt_text(4)?,
        deployed_at: r.int(5)?,
        change: r.opt_text(6)?,
        work_order: r.opt_text(7)?,
    })
}

fn deployment_lots(db: &mut Db, attestation: &str) -> Result<Vec<String>> {
    db.query(
        "SELECT lot FROM deployment_lots WHERE attestation = $1 ORDER BY lot",
        &[attestation.into()],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// One deployment event: (target, time, artifact), and the rows that record it.
type Event = ((String, i64, String), Vec<DeploymentRow>);

/// Puts events on one target at the same instant (records are stamped to the second: a quick
/// upgrade and rollback share one) in the order their `replaces` chain gives, starting from
/// what ran before; by artifact digest where the chain says nothing. Without this, the digest
/// order alone would decide which artifact is left in service.
fn chain_order(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut rest = events.into_iter().peekable();
    while let Some(event) = rest.next() {
        let mut tie = vec![event];
        while let Some(next) = rest.next_if(|n| n.0.0 == tie[0].0.0 && n.0.1 == tie[0].0.1) {
            tie.push(next);
        }
        let mut previous = out
            .last()
            .filter(|e| e.0.0 == tie[0].0.0)
            .map(|e| e.0.2.clone());
        while !tie.is_empty() {
            let k = tie
                .iter()
                .position(|e| {
                    previous.is_some()
                        && e.1
                            .iter()
                            .any(|r| r.replaces.as_deref() == previous.as_deref())
                })
                .unwrap_or(0);
            let chosen = tie.remove(k);
            previous = Some(chosen.0.2.clone());
            out.push(chosen);
        }
    }
    out
}

/// The service windows of every deployment on the targets the rows are on (all rows of each
/// target must be given). The same deployment recorded by several attestations (same target,
/// artifact and time) is one window listing them all. Ordered by target, then time; at one
/// instant, by the `replaces` chain, else by artifact digest ([`chain_order`]).
fn windows_of(db: &mut Db, rows: Vec<DeploymentRow>) -> Result<Vec<ServiceWindow>> {
    let mut by_event: BTreeMap<(String, i64, String), Vec<DeploymentRow>> = BTreeMap::new();
    for row in rows {
        by_event
            .entry((row.target.clone(), row.deployed_at, row.artifact.clone()))
            .or_default()
            .push(row);
    }
    let mut windows: Vec<ServiceWindow> = Vec::with_capacity(by_event.len());
    let mut previous: Option<(String, String)> = None; // (target, artifact)
    for ((target, at, artifact), mut group) in chain_order(by_event.into_iter().collect()) {
        group.sort_by(|a, b| a.attestation.cmp(&b.attestation));
        let first = &group[0];
        let mut lots = BTreeSet::new();
        for row in &group {
            lots.extend(deployment_lots(db, &row.attestation)?);
        }
        let breaks_chain = match &previous {
            Some((t, prev)) if *t == target => first.replaces.as_deref() != Some(prev.as_str()),
            _ => false,
        };
        if let Some(last) = windows.last_mut().filter(|w| w.target == target) {
            last.until = Some(stamp(at)?);
            last.replaced_by = Some(artifact.clone());
        }
        windows.push(ServiceWindow {
            artifact: artifact.clone(),
            target: target.clone(),
            deployed_at: stamp(at)?,
            until: None,
            replaced_by: None,
            replaces: first.replaces.clone(),
            breaks_chain,
            environment: first.environment.clone(),
            change: first.change.clone(),
            work_order: first.work_order.clone(),
            lots: lots.into_iter().collect(),
            evidence: group.iter().map(|r| r.attestation.clone()).collect(),
        });
        previous = Some((target, artifact));
    }
    Ok(windows)
}

/// The service windows on exactly `target`.
pub(crate) fn windows_on(db: &mut Db, target: &str) -> Result<Vec<ServiceWindow>> {
    let rows = db.query(
        "SELECT d.attestation, d.artifact, d.target, d.environment, d.replaces, d.deployed_at, \
         d.change_ticket, d.work_order FROM deployments d WHERE d.target = $1",
        &[target.into()],
    )?;
    let rows = rows
        .iter()
        .map(deployment_row)
        .collect::<Result<Vec<_>>>()?;
    windows_of(db, rows)
}

/// The targets at or under `scope` that have deployments, sorted (`deployment_targets`).
fn targets_within(db: &mut Db, scope: &str) -> Result<Vec<String>> {
    db.query(
        "SELECT target FROM deployment_targets WHERE scope = $1 ORDER BY target",
        &[scope.into()],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

/// The latest deployment time on `target` before `before` (`None`: none).
fn latest_before(db: &mut Db, target: &str, before: i64) -> Result<Option<i64>> {
    let rows = db.query(
        "SELECT MAX(deployed_at) FROM deployments WHERE target = $1 AND deployed_at < $2",
        &[target.into(), before.into()],
    )?;
    rows.first().map_or(Ok(None), |r| r.opt_int(0))
}

/// The service windows on `scope` and every target under it that meet `[from, to]` (both
/// included): `deployedAt <= to` and (`until` absent or `until >= from`). The same windows,
/// field for field, as [`windows_on`] of each target gives, but read from the index by time: per
/// target, the deployments in `[from, to]`, the instant before `from` (what was in service at
/// `from`) and the one before that (what it replaced, for `breaksChain`), and the first after
/// `to` (`until` of the last).
pub(crate) fn windows_meeting(
    db: &mut Db,
    scope: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ServiceWindow>> {
    let (from, to) = (to_micros(from.time()), to_micros(to.time()));
    let mut out = Vec::new();
    for target in targets_within(db, scope)? {
        let first = match latest_before(db, &target, from)? {
            Some(at) => latest_before(db, &target, at)?.unwrap_or(at),
            None => from,
        };
        let next = db.query(
            "SELECT MIN(deployed_at) FROM deployments WHERE target = $1 AND deployed_at > $2",
            &[target.as_str().into(), to.into()],
        )?;
        let last = next
            .first()
            .map(|r| r.opt_int(0))
            .transpose()?
            .flatten()
            .unwrap_or(to);
        let rows = db.query(
            "SELECT d.attestation, d.artifact, d.target, d.environment, d.replaces, \
             d.deployed_at, d.change_ticket, d.work_order FROM deployments d \
             WHERE d.target = $1 AND d.deployed_at >= $2 AND d.deployed_at <= $3",
            &[target.as_str().into(), first.into(), last.into()],
        )?;
        let rows = rows
            .iter()
            .map(deployment_row)
            .collect::<Result<Vec<_>>>()?;
        out.extend(windows_of(db, rows)?.into_iter().filter(|w| {
            let (at, until) = (to_micros(w.deployed_at.time()), w.until);
            at <= to && until.is_none_or(|u| to_micros(u.time()) >= from)
        }));
    }
    Ok(out)
}

/// The targets `artifact` (any of its digests) was deployed to, sorted.
pub(crate) fn deployed_targets(
    db: &mut Db,
    digests: &BTreeSet<String>,
) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for d in digests {
        for r in db.query(
            "SELECT DISTINCT target FROM deployments WHERE artifact = $1",
            &[d.into()],
        )? {
            out.insert(r.text(0)?);
        }
    }
    Ok(out)
}

fn lot_records(rows: Vec<Row>) -> Result<Vec<LotRecord>> {
    let mut by_lot: BTreeMap<(i64, String, String, i64), LotRecord> = BTreeMap::new();
    for r in rows {
        let (attestation, lot, target) = (r.text(0)?, r.text(1)?, r.text(2)?);
        let (from, to) = (r.int(3)?, r.int(4)?);
        let record = by_lot
            .entry((from, lot.clone(), target.clone(), to))
            .or_insert(LotRecord {
                lot,
                target,
                from: stamp(from)?,
                to: stamp(to)?,
                product: r.opt_text(5)?,
                work_order: r.opt_text(6)?,
                evidence: Vec::new(),
            });
        record.evidence.push(attestation);
    }
    Ok(by_lot
        .into_values()
        .map(|mut l| {
            l.evidence.sort();
            l
        })
        .collect())
}

/// The records of lot `id` (several when recorded more than once), by start.
pub(crate) fn lots_named(db: &mut Db, id: &str) -> Result<Vec<LotRecord>> {
    let rows = db.query(
        "SELECT attestation, lot, target, starts_at, ends_at, product, work_order \
         FROM lots WHERE lot = $1",
        &[id.into()],
    )?;
    lot_records(rows)
}

/// Lots made on a target that contains `target` (it, or a line or site above it) during
/// `[from, until]` (`until` open: to now), by start.
pub(crate) fn lots_during(
    db: &mut Db,
    target: &str,
    from: Timestamp,
    until: Option<Timestamp>,
) -> Result<Vec<LotRecord>> {
    let mut rows = Vec::new();
    let until = until.map_or(i64::MAX, |t| to_micros(t.time()));
    for scope in scopes(target) {
        rows.extend(db.query(
            "SELECT attestation, lot, target, starts_at, ends_at, product, work_order \
             FROM lots WHERE target = $1 AND starts_at <= $2 AND ends_at >= $3",
            &[
                scope.as_str().into(),
                until.into(),
                to_micros(from.time()).into(),
            ],
        )?);
    }
    lot_records(rows)
}
