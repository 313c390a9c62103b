//! Hallmark's evidence index (docs/index.md, decision 0028): verified attestations, and the
//! deployments, lots, approvals and SBOM packages they record, kept in SQLite (embedded, the
//! default) or PostgreSQL (shared by many stations), so quality and compliance questions that
//! span many artifacts are a handful of index lookups:
//!
//! - forward ([`Index::trace_forward`]): from a source commit, a package or a digest to every
//!   artifact built from it, where those were deployed and when, and the lots made meanwhile;
//! - backward ([`Index::trace_lot`], [`Index::trace_target`]): from a lot, or a target at a
//!   time, to what was in service there and each artifact's chain (steps, builders, sources,
//!   approvals, packages).
//!
//! Only verified attestations go in: [`Evidence`] is made from a
//! [`hallmark_verifier::attestation::VerifiedAttestation`], which only the verifier can make
//! ([`hallmark_verifier::session::verify_any_subject`]), and each row records the trust it was
//! verified with and when. The index is a cache of verified facts, not the evidence: each row
//! keeps its bundle and where it came from, so an auditor can re-verify it.
//!
//! [`audit`] compares what is installed or running on a target with the evidence.
//!
//! Modules: [`location`] (file or URL, passwords redacted), `backend` (the two databases behind
//! one interface), `schema` (versioned migrations), [`evidence`] (the index key), `facts` (rows
//! of one attestation), `ingest`, [`records`] (what queries return), `rows` (attestations as
//! rows, for reports and audits), `lookup` and `chain`
//! (indexed lookups), [`trace`] (the traces), [`verify`] (many bundles verified in parallel).
#![forbid(unsafe_code)]

pub mod audit;
mod backend;
mod chain;
mod error;
pub mod evidence;
mod facts;
mod ingest;
pub mod location;
mod lookup;
pub mod records;
mod rows;
mod schema;
pub mod time;
pub mod trace;
pub mod verify;

use std::time::SystemTime;

use serde::Serialize;

pub use backend::QueryPlan;
pub use chain::{MAX_CHAIN_DEPTH, MAX_CHAIN_STEPS};
pub use error::Error;
pub use evidence::Evidence;
pub use ingest::Ingested;
pub use location::Location;
pub use rows::AttestationRow;
pub use schema::latest_version;
pub use trace::{ForwardFrom, ForwardTrace, LotTrace, TargetTrace};

use backend::Db;
use hallmark_model::time::Timestamp;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long a SQLite writer waits for another to finish.
const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Row counts, for `index add` summaries and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Attestations.
    pub attestations: u64,
    /// Deployment rows (one per deployed artifact).
    pub deployments: u64,
    /// Lot records.
    pub lots: u64,
    /// Approval rows.
    pub approvals: u64,
    /// Package rows.
    pub packages: u64,
}

/// One attestation as stored, with its bundle (for re-verification and export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvidence {
    /// The index key.
    pub id: String,
    /// The predicate type.
    pub predicate_type: String,
    /// Where it was read.
    pub origin: String,
    /// The trust it was verified with.
    pub trust: String,
    /// When it was verified.
    pub verified_at: Option<Timestamp>,
    /// The Sigstore bundle, as read.
    #[serde(skip)]
    pub bundle: Vec<u8>,
}

/// An open evidence index.
pub struct Index {
    db: Db,
    location: Location,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Index({})", self.location)
    }
}

fn open_sqlite(path: &std::path::Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    // WAL: readers never wait for the writer; NORMAL sync is durable at each checkpoint and
    // safe against corruption (a crash loses at most the last transactions, which re-ingest).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Child rows are written with their attestation in one transaction: the foreign keys
    // document the schema; checking each insert against them would cost a lookup each.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl Index {
    /// Opens (creating when missing) the index at `location` (a SQLite path or a
    /// `postgres://` URL, see [`Location::parse`]) and brings its schema up to date.
    pub fn open(location: &str) -> Result<Self> {
        Self::open_at(Location::parse(location)?, SystemTime::now())
    }

    /// [`Self::open`] of a parsed location, recording migrations as applied at `at`.
    pub fn open_at(location: Location, at: SystemTime) -> Result<Self> {
        let opening = |e: Error| Error::Open {
            location: location.to_string(),
            message: e.to_string(),
        };
        let db = match &location {
            Location::Sqlite(path) => Db::Sqlite(open_sqlite(path).map_err(opening)?, None),
            Location::Postgres {
                url,
                local,
                tls_disabled,
                ..
            } => {
                if !local && !tls_disabled {
                    return Err(Error::Unencrypted {
                        location: location.to_string(),
                    });
                }
                let client = postgres::Client::connect(url, postgres::NoTls)
                    .map_err(|e| opening(e.into()))?;
                Db::Postgres {
                    client: Box::new(client),
                    prepared: Default::default(),
                }
            }
        };
        let mut index = Index { db, location };
        index.migrate(at)?;
        Ok(index)
    }

    /// Applies the migrations the database lacks (each in its own transaction); the versions
    /// applied. Running it again applies nothing.
    pub fn migrate(&mut self, at: SystemTime) -> Result<Vec<i64>> {
        schema::migrate(&mut self.db, at)
    }

    /// The schema version the database is at.
    pub fn schema_version(&mut self) -> Result<i64> {
        schema::current_version(&mut self.db)
    }

    /// Where the index is (displays without a password).
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Adds verified attestations, in one transaction: each is checked against its bundle and
    /// its rows are worked out in parallel, then written; one already indexed is left as it is
    /// ([`Ingested::AlreadyIndexed`]). Nothing is written when any fails.
    pub fn add(&mut self, batch: &[Evidence<'_>]) -> Result<Vec<Ingested>> {
        ingest::add(&mut self.db, batch)
    }

    /// Row counts.
    pub fn counts(&mut self) -> Result<Counts> {
        let mut count = |sql: &'static str| -> Result<u64> {
            let rows = self.db.query(sql, &[])?;
            Ok(rows.first().map_or(Ok(0), |r| r.int(0))?.max(0) as u64)
        };
        Ok(Counts {
            attestations: count("SELECT COUNT(*) FROM attestations")?,
            deployments: count("SELECT COUNT(*) FROM deployments")?,
            lots: count("SELECT COUNT(*) FROM lots")?,
            approvals: count("SELECT COUNT(*) FROM approvals")?,
            packages: count("SELECT COUNT(*) FROM packages")?,
        })
    }

    /// One stored attestation by its index key, with its bundle.
    pub fn evidence(&mut self, id: &str) -> Result<Option<StoredEvidence>> {
        let rows = self.db.query(
            "SELECT id, predicate_type, origin, trust, verified_at, bundle FROM attestations \
             WHERE id = $1",
            &[id.into()],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(StoredEvidence {
            id: r.text(0)?,
            predicate_type: r.text(1)?,
            origin: r.text(2)?,
            trust: r.text(3)?,
            verified_at: time::from_micros(r.int(4)?),
            bundle: r.bytes(5)?,
        }))
    }

    /// Every artifact built from `from`, its deployments and the lots made meanwhile.
    pub fn trace_forward(&mut self, from: &ForwardFrom) -> Result<ForwardTrace> {
        trace::forward(&mut self.db, from)
    }

    /// What was in service where lot `id` was made, while it was made, and each artifact's
    /// chain.
    pub fn trace_lot(&mut self, id: &str) -> Result<LotTrace> {
        trace::from_lot(&mut self.db, id)
    }

    /// What was in service on `target` (or any target under it) at `at`, and each artifact's
    /// chain.
    pub fn trace_target(&mut self, target: &str, at: Timestamp) -> Result<TargetTrace> {
        trace::at_target(&mut self.db, target, at)
    }

    /// Starts recording which statements the index runs (SQLite only), so that
    /// [`Self::query_plans`] can show how SQLite runs them: for benchmarks and for checking
    /// that a query uses an index. Starting again forgets what was recorded.
    pub fn record_statements(&mut self) {
        self.db.record_statements();
    }

    /// SQLite's `EXPLAIN QUERY PLAN` of every statement run since [`Self::record_statements`],
    /// by statement text. Empty on PostgreSQL, and when not recording.
    pub fn query_plans(&mut self) -> Result<Vec<QueryPlan>> {
        self.db.query_plans()
    }

    /// The chain behind one artifact (any of its digests).
    pub fn chain(&mut self, digest: &str) -> Result<records::ArtifactChain> {
        let digest = trace::parse_digest(digest)?;
        let primary = lookup::primary_of(&mut self.db, &digest)?;
        chain::chain(&mut self.db, &primary)
    }
}
