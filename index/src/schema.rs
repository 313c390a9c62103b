//! The schema, as versioned migrations in portable SQL (the same text runs on SQLite and
//! PostgreSQL), and the runner that applies those a database lacks, each in its own transaction.
//!
//! Portable means: TEXT, BIGINT and BYTEA columns only (SQLite stores BYTEA values as blobs),
//! no serial keys (rows are keyed by digests), `ON CONFLICT DO NOTHING` for idempotent inserts,
//! and times as BIGINT microseconds since the Unix epoch (UTC), so ranges compare as numbers.

use std::time::SystemTime;

use crate::backend::{Db, Val};
use crate::time::to_micros;
use crate::{Error, Result};

/// One schema change.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Every migration, oldest first. Never edit one that has shipped: add the next.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "evidence index",
        sql: r"
CREATE TABLE attestations (
    id TEXT PRIMARY KEY,
    payload_digest TEXT NOT NULL,
    predicate_type TEXT NOT NULL,
    signers TEXT NOT NULL,
    trust TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    signed_at BIGINT,
    claimed_at BIGINT,
    origin TEXT NOT NULL,
    step TEXT,
    builder_id TEXT,
    build_type TEXT,
    source_uri TEXT,
    source_commit TEXT,
    source_dirty BIGINT,
    result TEXT,
    bundle BYTEA NOT NULL
);
CREATE INDEX attestations_source_commit ON attestations (source_commit);
CREATE INDEX attestations_payload ON attestations (payload_digest);
CREATE INDEX attestations_predicate_type ON attestations (predicate_type);

CREATE TABLE signers (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    issuer TEXT NOT NULL,
    PRIMARY KEY (attestation, kind, value, issuer)
);
CREATE INDEX signers_value ON signers (value);

CREATE TABLE subjects (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    digest TEXT NOT NULL,
    artifact TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (attestation, digest)
);
CREATE INDEX subjects_digest ON subjects (digest);
CREATE INDEX subjects_artifact ON subjects (artifact);

CREATE TABLE materials (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    digest TEXT NOT NULL,
    uri TEXT NOT NULL,
    PRIMARY KEY (attestation, digest)
);
CREATE INDEX materials_digest ON materials (digest);

CREATE TABLE approvals (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    artifact TEXT NOT NULL,
    environment TEXT,
    ticket TEXT,
    reason TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (attestation, artifact)
);
CREATE INDEX approvals_artifact ON approvals (artifact);

CREATE TABLE deployments (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    artifact TEXT NOT NULL,
    target TEXT NOT NULL,
    environment TEXT,
    replaces TEXT,
    deployed_at BIGINT NOT NULL,
    change_ticket TEXT,
    work_order TEXT,
    PRIMARY KEY (attestation, artifact)
);
CREATE INDEX deployments_artifact ON deployments (artifact);
CREATE INDEX deployments_target_time ON deployments (target, deployed_at);

CREATE TABLE deployment_scopes (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    scope TEXT NOT NULL,
    PRIMARY KEY (attestation, scope)
);
CREATE INDEX deployment_scopes_scope ON deployment_scopes (scope);

CREATE TABLE deployment_lots (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    lot TEXT NOT NULL,
    PRIMARY KEY (attestation, lot)
);
CREATE INDEX deployment_lots_lot ON deployment_lots (lot);

CREATE TABLE lots (
    attestation TEXT NOT NULL PRIMARY KEY REFERENCES attestations (id),
    lot TEXT NOT NULL,
    target TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    product TEXT,
    work_order TEXT
);
CREATE INDEX lots_lot ON lots (lot);
CREATE INDEX lots_target_time ON lots (target, starts_at);

CREATE TABLE packages (
    attestation TEXT NOT NULL REFERENCES attestations (id),
    artifact TEXT NOT NULL,
    purl TEXT NOT NULL,
    package TEXT NOT NULL,
    version TEXT,
    name TEXT NOT NULL,
    PRIMARY KEY (attestation, artifact, purl)
);
CREATE INDEX packages_purl ON packages (purl);
CREATE INDEX packages_package ON packages (package, version);
CREATE INDEX packages_artifact ON packages (artifact);
",
    },
    Migration {
        version: 2,
        name: "deployment targets by scope",
        // Backward traces find the targets under a line through this table, then read each
        // target's deployments by time, instead of reading the line's whole history. Derived
        // from deployment_scopes (ingest writes both); rows are never removed, as attestations
        // are not.
        sql: r"
CREATE TABLE deployment_targets (
    scope TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (scope, target)
);
INSERT INTO deployment_targets (scope, target)
    SELECT DISTINCT s.scope, d.target FROM deployment_scopes s
    JOIN deployments d ON d.attestation = s.attestation;
",
    },
];

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

const CREATE_MIGRATIONS: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// The version the database is at (0 for a new one).
pub(crate) fn current_version(db: &mut Db) -> Result<i64> {
    let rows = db.query(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        &[],
    )?;
    rows.first().map_or(Ok(0), |r| r.int(0))
}

/// Brings the database to [`latest_version`]: each missing migration in its own transaction,
/// recorded in `schema_migrations`. Safe to run again and from two processes at once (SQLite's
/// write lock, PostgreSQL's table lock: the second waits, then sees the work done).
pub(crate) fn migrate(db: &mut Db, at: SystemTime) -> Result<Vec<i64>> {
    db.batch(CREATE_MIGRATIONS)?;
    let mut applied = Vec::new();
    for migration in MIGRATIONS {
        let done = db.transaction(|db| {
            if db.is_postgres() {
                db.batch("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")?;
            }
            let current = current_version(db)?;
            if current > latest_version() {
                return Err(Error::NewerSchema {
                    found: current,
                    known: latest_version(),
                });
            }
            if current >= migration.version {
                return Ok(false);
            }
            db.batch(migration.sql).map_err(|e| Error::Migration {
                version: migration.version,
                name: migration.name,
                message: e.to_string(),
            })?;
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[
                    Val::Int(Some(migration.version)),
                    Val::Text(Some(migration.name)),
                    Val::Int(Some(to_micros(at))),
                ],
            )?;
            Ok(true)
        })?;
        if done {
            applied.push(migration.version);
        }
    }
    // A database already past this build's newest migration is refused, not written.
    let current = current_version(db)?;
    if current > latest_version() {
        return Err(Error::NewerSchema {
            found: current,
            known: latest_version(),
        });
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at version 1 with deployments gets `deployment_targets` filled by migration 2,
    /// so backward traces over an index made before it still find every target.
    #[test]
    fn migration_2_fills_deployment_targets_from_existing_deployments() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        // As the index opens SQLite: child rows without their attestation are fine here.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let mut db = Db::Sqlite(conn, None);
        db.batch(CREATE_MIGRATIONS).unwrap();
        db.batch(MIGRATIONS[0].sql).unwrap();
        db.batch(
            "INSERT INTO schema_migrations VALUES (1, 'evidence index', 0);
             INSERT INTO deployments (attestation, artifact, target, deployed_at)
                 VALUES ('a1', 'sha256:01', 'p/l1/hmi', 1), ('a2', 'sha256:02', 'p/l2/plc', 2);
             INSERT INTO deployment_scopes (attestation, scope) VALUES
                 ('a1', 'p'), ('a1', 'p/l1'), ('a1', 'p/l1/hmi'),
                 ('a2', 'p'), ('a2', 'p/l2'), ('a2', 'p/l2/plc');",
        )
        .unwrap();
        assert_eq!(migrate(&mut db, SystemTime::now()).unwrap(), [2]);
        let rows: Vec<(String, String)> = db
            .query(
                "SELECT scope, target FROM deployment_targets ORDER BY scope, target",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.text(0).unwrap(), r.text(1).unwrap()))
            .collect();
        let want = [
            ("p", "p/l1/hmi"),
            ("p", "p/l2/plc"),
            ("p/l1", "p/l1/hmi"),
            ("p/l1/hmi", "p/l1/hmi"),
            ("p/l2", "p/l2/plc"),
            ("p/l2/plc", "p/l2/plc"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(s, t)| ((*s).to_owned(), (*t).to_owned()))
            .collect();
        assert_eq!(rows, want);
        assert_eq!(current_version(&mut db).unwrap(), 2);
    }
}
