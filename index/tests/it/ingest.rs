//! Ingest: idempotent, verified only, migrations safe to re-run.

use std::time::SystemTime;

use hallmark_index::{Error, Evidence, Index, Ingested, latest_version};
use hallmark_verifier::session::verify_any_subject;

use crate::plant::Plant;
use crate::{Backend, on_both, verify_and_add};

fn re_adding_changes_nothing(backend: &Backend) {
    let plant = Plant::generate();
    let mut index = backend.open();
    let first = verify_and_add(&mut index, &plant, &plant.bundles);
    assert!(
        first
            .iter()
            .all(|r| matches!(r, Ok(Ingested::Added { notes, .. }) if notes.is_empty())),
        "{first:?}"
    );
    let counts = index.counts().unwrap();
    assert_eq!(counts.attestations, plant.bundles.len() as u64);
    assert_eq!(counts.deployments, plant.deploys.len() as u64);
    assert_eq!(counts.lots, plant.lots.len() as u64);
    assert_eq!(counts.approvals, plant.releases.len() as u64);
    let purls: usize = plant.releases.iter().map(|r| r.purls.len()).sum();
    assert_eq!(counts.packages, purls as u64);
    // Again, in another session: every one already indexed, nothing changed.
    drop(index);
    let mut index = backend.open();
    let again = verify_and_add(&mut index, &plant, &plant.bundles);
    for (a, b) in first.iter().zip(&again) {
        let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
        assert_eq!(
            b,
            &Ingested::AlreadyIndexed {
                id: a.id().to_owned()
            }
        );
    }
    assert_eq!(index.counts().unwrap(), counts);
    // The bundle is kept as read, for re-verification.
    let id = first[0].as_ref().unwrap().id();
    let stored = index.evidence(id).unwrap().unwrap();
    assert_eq!(stored.bundle, plant.bundles[0]);
    assert_eq!(stored.trust, "key plant.pub");
    let requirements = plant.requirements();
    assert!(verify_any_subject(&stored.bundle, &requirements).is_ok());
}

fn a_bundle_that_fails_verification_is_never_ingested(backend: &Backend) {
    let plant = Plant::generate();
    let mut index = backend.open();
    let mut all = plant.bundles.clone();
    all.extend(plant.bad.iter().cloned());
    let results = verify_and_add(&mut index, &plant, &all);
    let failed: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(
        index.counts().unwrap().attestations,
        plant.bundles.len() as u64
    );
    // The stranger's deployment is not in line 1's history, the tampered lot is unknown.
    let trace = index.trace_lot(&plant.tampered_lot).unwrap();
    assert!(trace.records.is_empty());
    let at = crate::plant::hour(26);
    let running = index
        .trace_target("plant-a/line-1/hmi", at)
        .unwrap()
        .running;
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].artifact, plant.releases[0].package);
}

fn bytes_that_do_not_hold_the_attestation_are_refused(backend: &Backend) {
    let plant = Plant::generate();
    let mut index = backend.open();
    let requirements = plant.requirements();
    let a = verify_any_subject(&plant.bundles[0], &requirements).unwrap();
    let evidence = [Evidence {
        attestation: &a,
        bundle: &plant.bundles[1],
        origin: "test",
        trust: "key",
        verified_at: SystemTime::now(),
    }];
    assert!(matches!(index.add(&evidence), Err(Error::Mismatch(_))));
    assert_eq!(index.counts().unwrap().attestations, 0);
}

fn migrations_re_run_safely(backend: &Backend) {
    let mut index = backend.open();
    assert_eq!(index.schema_version().unwrap(), latest_version());
    assert!(index.migrate(SystemTime::now()).unwrap().is_empty());
    drop(index);
    let mut index = backend.open();
    assert!(index.migrate(SystemTime::now()).unwrap().is_empty());
    assert_eq!(index.schema_version().unwrap(), latest_version());
    drop(index);
    // A database written by a newer hallmark is refused.
    let newer =
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)";
    match backend {
        Backend::Sqlite(_) => {
            let conn = rusqlite::Connection::open(backend.location()).unwrap();
            conn.execute(newer, []).unwrap();
        }
        Backend::Postgres(pg) => {
            let mut client = ::postgres::Client::connect(pg.url(), ::postgres::NoTls).unwrap();
            client.batch_execute(newer).unwrap();
        }
    }
    let err = Index::open(&backend.location()).unwrap_err();
    assert!(
        matches!(err, Error::NewerSchema { found: 999, .. }),
        "{err}"
    );
}

on_both!(
    re_adding_changes_nothing,
    a_bundle_that_fails_verification_is_never_ingested,
    bytes_that_do_not_hold_the_attestation_are_refused,
    migrations_re_run_safely,
);
