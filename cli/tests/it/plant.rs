//! A generated plant history of 10,000 signed attestations (3 lines, 50 lots, 200 deployments
//! with rollbacks), indexed with `hallmark index add` and queried with `hallmark trace`: every
//! lot's backward trace and every release's forward trace agree with what the generator knows
//! to be true, and an attestation that fails verification is reported and never indexed.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_remote::layout::LayoutStore;
use hallmark_remote::oci::{ANNOTATION_PREDICATE_TYPE, FILE_MEDIA_TYPE};
use serde_json::Value;

#[path = "../../examples/plant_history/history.rs"]
#[allow(dead_code)]
mod history;

fn hallmark(dir: &std::path::Path, args: &[&str], code: i32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let run = crate::common::into_run(out);
    // JSON outputs (index add, trace) are kept for scripts/check-json-outputs.sh.
    crate::common::record_json(args, &run);
    assert_eq!(run.code, code, "hallmark {args:?}\n{}", run.stderr);
    run.stdout
}

fn json(dir: &std::path::Path, args: &[&str], code: i32) -> Value {
    serde_json::from_str(&hallmark(dir, args, code)).unwrap()
}

#[test]
fn traces_over_ten_thousand_attestations_agree_with_the_generator_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("index.sqlite").display().to_string();
    traces_agree(dir, &db);
}

#[test]
fn traces_over_ten_thousand_attestations_agree_with_the_generator_on_postgres() {
    let pg = hallmark_testsvc::postgres::Postgres::start().unwrap();
    traces_agree(tempfile::tempdir().unwrap(), pg.url());
}

/// Generates the history into `dir`, indexes it into `db`, and checks every trace.
fn traces_agree(dir: tempfile::TempDir, db: &str) {
    let store = LayoutStore::open(dir.path().join("store")).unwrap();
    let (public_key, truth) = history::generate(&store, &history::Spec::default());
    std::fs::write(dir.path().join("plant.pub"), public_key).unwrap();
    assert!(truth.attestations >= 9_900, "{}", truth.attestations);
    assert!(truth.deployments.iter().any(|d| d.rollback));

    // A forged deployment: a real record's payload moved to line 1, signature kept.
    let deployment = truth.deployments[0].clone();
    let statement_of = |bundle: &Value| -> Value {
        let payload = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
        serde_json::from_slice(&STANDARD.decode(payload).unwrap()).unwrap()
    };
    let mut forged: Value = store
        .referrers(&deployment.digest.parse().unwrap())
        .unwrap()
        .iter()
        .map(|a| serde_json::from_slice::<Value>(&a.bundle).unwrap())
        .find(|b| statement_of(b)["predicateType"] == "https://hallmark.dev/deployment/v1")
        .unwrap();
    let mut statement = statement_of(&forged);
    statement["predicate"]["target"] = "plant-a/line-1/forged".into();
    forged["dsseEnvelope"]["payload"] = STANDARD
        .encode(serde_json::to_vec(&statement).unwrap())
        .into();
    store
        .put(
            &serde_json::to_vec(&forged).unwrap(),
            &[hallmark_remote::layout::Subject {
                digest: deployment.digest.parse().unwrap(),
                size: 0,
                media_type: FILE_MEDIA_TYPE.to_owned(),
            }],
            &BTreeMap::from([(
                ANNOTATION_PREDICATE_TYPE.to_owned(),
                "https://hallmark.dev/deployment/v1".to_owned(),
            )]),
        )
        .unwrap();

    let add = json(
        dir.path(),
        &[
            "index",
            "add",
            "--store",
            "store",
            "--key",
            "plant.pub",
            "--database",
            db,
            "--format",
            "json",
        ],
        1,
    );
    assert_eq!(add["added"], truth.attestations as u64, "{add}");
    let rejected = add["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{add}");
    assert_eq!(rejected[0]["code"], "dsse.signature");

    // Backward, from every lot: what ran on its line while it was made.
    for lot in &truth.lots {
        let trace = json(
            dir.path(),
            &[
                "trace",
                "backward",
                "--lot",
                &lot.lot,
                "--database",
                db,
                "--format",
                "json",
            ],
            0,
        );
        let running: BTreeSet<(String, String)> = trace["running"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["target"].as_str().unwrap().to_owned(),
                    w["artifact"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let expected: BTreeSet<(String, String)> = lot.running.iter().cloned().collect();
        assert_eq!(running, expected, "lot {}: {trace:#}", lot.lot);
        assert!(!running.iter().any(|(t, _)| t.ends_with("forged")));
    }

    // Forward, from the commit of every release: the lots made while it ran.
    let mut checked = 0;
    for release in &truth.releases {
        let trace = json(
            dir.path(),
            &[
                "trace",
                "forward",
                "--commit",
                &release.commit,
                "--database",
                db,
                "--format",
                "json",
            ],
            0,
        );
        let artifacts = trace["artifacts"].as_array().unwrap();
        assert!(
            artifacts
                .iter()
                .any(|a| a["digest"] == release.digest.as_str()),
            "{} not reached from {}",
            release.digest,
            release.commit
        );
        let lots: BTreeSet<&str> = artifacts
            .iter()
            .flat_map(|a| a["deployments"].as_array().unwrap())
            .flat_map(|d| d["lots"].as_array().unwrap())
            .map(|l| l["lot"].as_str().unwrap())
            .collect();
        let expected: BTreeSet<&str> = truth
            .lots
            .iter()
            .filter(|l| l.running.iter().any(|(_, d)| *d == release.digest))
            .map(|l| l.lot.as_str())
            .collect();
        assert_eq!(lots, expected, "release {}", release.digest);
        checked += usize::from(!expected.is_empty());
    }
    assert!(checked >= 10, "only {checked} releases ran during a lot");
}
