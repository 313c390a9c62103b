//! The evidence index's tests, the same bodies on SQLite and on PostgreSQL (a throw-away
//! server, or the one `HALLMARK_TEST_POSTGRES` names).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attacks;
mod ingest;
mod plant;
mod rows;
mod traces;

use std::time::SystemTime;

use hallmark_index::verify::verify_all;
use hallmark_index::{Evidence, Index, Ingested};
use hallmark_testsvc::postgres::Postgres;

/// A database for one test, removed when the test ends.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(Postgres),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    pub fn postgres() -> Backend {
        Backend::Postgres(Postgres::start().unwrap())
    }

    pub fn location(&self) -> String {
        match self {
            Backend::Sqlite(dir) => dir.path().join("index.sqlite").display().to_string(),
            Backend::Postgres(pg) => pg.url().to_owned(),
        }
    }

    pub fn open(&self) -> Index {
        Index::open(&self.location()).unwrap()
    }
}

/// Verifies `bundles` with `plant`'s trust and ingests those that verify (as `hallmark index
/// add` does); the outcome of each, `Err` for those that did not verify.
pub fn verify_and_add(
    index: &mut Index,
    plant: &plant::Plant,
    bundles: &[Vec<u8>],
) -> Vec<Result<Ingested, String>> {
    let requirements = plant.requirements();
    let slices: Vec<&[u8]> = bundles.iter().map(Vec::as_slice).collect();
    let verified = verify_all(&slices, &requirements);
    let now = SystemTime::now();
    let mut evidence = Vec::new();
    let mut order = Vec::new();
    for (i, v) in verified.iter().enumerate() {
        match v {
            Ok(attestation) => {
                evidence.push(Evidence {
                    attestation,
                    bundle: &bundles[i],
                    origin: "test",
                    trust: "key plant.pub",
                    verified_at: now,
                });
                order.push(Ok(evidence.len() - 1));
            }
            Err(e) => order.push(Err(e.to_string())),
        }
    }
    let mut added = index
        .add(&evidence)
        .unwrap()
        .into_iter()
        .map(Some)
        .collect::<Vec<_>>();
    order
        .into_iter()
        .map(|o| o.map(|i| added[i].take().unwrap()))
        .collect()
}

/// Runs each named body once per backend.
macro_rules! on_both {
    ($($body:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $body() { super::$body(&super::super::Backend::sqlite()) })*
        }
        mod postgres {
            $(#[test] fn $body() { super::$body(&super::super::Backend::postgres()) })*
        }
    };
}
pub(crate) use on_both;
