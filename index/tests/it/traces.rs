//! Forward and backward traces over the generated plant, checked against what the generator
//! knows to be true.

use std::collections::BTreeSet;

use hallmark_index::{ForwardFrom, ForwardTrace, Index};

use crate::plant::{Plant, hour};
use crate::{Backend, on_both, verify_and_add};

fn loaded(backend: &Backend) -> (Plant, Index) {
    let plant = Plant::generate();
    let mut index = backend.open();
    let results = verify_and_add(&mut index, &plant, &plant.bundles);
    assert!(results.iter().all(Result::is_ok));
    (plant, index)
}

/// (target, deployedAt hour-stamp, artifact, lots made meanwhile) of every deployment reached.
fn deployments_of(trace: &ForwardTrace) -> BTreeSet<(String, String, String, Vec<String>)> {
    trace
        .artifacts
        .iter()
        .flat_map(|a| &a.deployments)
        .map(|d| {
            let mut lots: Vec<String> = d.lots.iter().map(|l| l.lot.clone()).collect();
            lots.sort();
            (
                d.window.target.clone(),
                d.window.deployed_at.to_string(),
                d.window.artifact.clone(),
                lots,
            )
        })
        .collect()
}

fn expected_deployments(
    plant: &Plant,
    packages: &[&str],
) -> BTreeSet<(String, String, String, Vec<String>)> {
    plant
        .deploys
        .iter()
        .filter(|d| packages.contains(&d.artifact.as_str()))
        .map(|d| {
            let mut lots: Vec<String> = plant
                .lots
                .iter()
                .filter(|l| plant.overlaps(d, l))
                .map(|l| l.id.clone())
                .collect();
            lots.sort();
            (
                d.target.to_owned(),
                d.at.to_string(),
                d.artifact.clone(),
                lots,
            )
        })
        .collect()
}

fn forward_from_each_commit(backend: &Backend) {
    let (plant, mut index) = loaded(backend);
    for r in &plant.releases {
        let trace = index
            .trace_forward(&ForwardFrom::Commit(r.commit.clone()))
            .unwrap();
        let reached: Vec<(usize, &str)> = trace
            .artifacts
            .iter()
            .map(|a| (a.depth, a.digest.as_str()))
            .collect();
        assert_eq!(reached, [(1, r.binary.as_str()), (2, r.package.as_str())]);
        assert_eq!(
            deployments_of(&trace),
            expected_deployments(&plant, &[&r.package])
        );
        assert!(!trace.truncated);
        // Deterministic: the same question, the same answer, byte for byte.
        let again = index
            .trace_forward(&ForwardFrom::Commit(r.commit.to_uppercase()))
            .unwrap();
        assert_eq!(
            serde_json::to_string(&trace.artifacts).unwrap(),
            serde_json::to_string(&again.artifacts).unwrap()
        );
    }
    // Valve 1.0 ran on line 1 twice (before 1.1 and after the rollback): two windows.
    let valve = &plant.releases[0];
    let trace = index
        .trace_forward(&ForwardFrom::Commit(valve.commit.clone()))
        .unwrap();
    let windows = &trace.artifacts[1].deployments;
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0].window.until, Some(hour(10)));
    assert_eq!(
        windows[0].window.replaced_by.as_deref(),
        Some(plant.releases[1].package.as_str())
    );
    assert_eq!(windows[0].window.lots, ["L-planned"]);
    assert_eq!(windows[1].window.until, None);
    assert_eq!(
        windows[1].window.replaces.as_deref(),
        Some(plant.releases[1].package.as_str())
    );
    assert!(!windows[1].window.breaks_chain);
    let none = index
        .trace_forward(&ForwardFrom::Commit("0".repeat(40)))
        .unwrap();
    assert!(none.artifacts.is_empty());
    assert!(
        index
            .trace_forward(&ForwardFrom::Commit("abc".into()))
            .is_err()
    );
}

fn forward_from_a_package(backend: &Backend) {
    let (plant, mut index) = loaded(backend);
    let with = |purl: &str| -> Vec<&str> {
        plant
            .releases
            .iter()
            .filter(|r| r.purls.iter().any(|p| p.starts_with(purl)))
            .map(|r| r.package.as_str())
            .collect()
    };
    for purl in [
        "pkg:npm/lodash@4.17.20",
        "pkg:npm/lodash",
        "pkg:cargo/serde@1.0.100",
    ] {
        let trace = index
            .trace_forward(&ForwardFrom::Purl(purl.into()))
            .unwrap();
        let mut reached: Vec<&str> = trace.artifacts.iter().map(|a| a.digest.as_str()).collect();
        let mut expected = with(purl);
        reached.sort();
        expected.sort();
        assert_eq!(reached, expected, "{purl}");
        assert!(
            trace
                .artifacts
                .iter()
                .all(|a| a.depth == 0 && a.via.len() == 1)
        );
        assert_eq!(
            deployments_of(&trace),
            expected_deployments(&plant, &expected),
            "{purl}"
        );
    }
    // The package name is compared normalized (npm names are lowercase).
    let upper = index
        .trace_forward(&ForwardFrom::Purl("pkg:NPM/Lodash@4.17.21".into()))
        .unwrap();
    assert_eq!(upper.artifacts.len(), 1);
    assert!(
        index
            .trace_forward(&ForwardFrom::Purl("lodash".into()))
            .is_err()
    );
}

fn forward_from_a_digest(backend: &Backend) {
    let (plant, mut index) = loaded(backend);
    let r = &plant.releases[1];
    // An input file: what was built from it.
    let trace = index
        .trace_forward(&ForwardFrom::Digest(r.source.clone()))
        .unwrap();
    let reached: Vec<(usize, &str)> = trace
        .artifacts
        .iter()
        .map(|a| (a.depth, a.digest.as_str()))
        .collect();
    assert_eq!(reached, [(1, r.binary.as_str()), (2, r.package.as_str())]);
    assert_eq!(
        deployments_of(&trace),
        expected_deployments(&plant, &[&r.package])
    );
    // An artifact: itself and its deployments.
    let trace = index
        .trace_forward(&ForwardFrom::Digest(r.package.clone()))
        .unwrap();
    assert_eq!(trace.artifacts.len(), 1);
    assert_eq!(trace.artifacts[0].names, ["valve-1.1.tar", "valve.tar"]);
    let lots: BTreeSet<&str> = trace.lots().iter().map(|l| l.lot.as_str()).collect();
    let plant = &plant;
    let expected: BTreeSet<&str> = plant
        .deploys
        .iter()
        .filter(|d| d.artifact == r.package)
        .flat_map(|d| plant.lots.iter().filter(move |l| plant.overlaps(d, l)))
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(lots, expected);
    assert!(
        lots.contains("L-edge"),
        "a lot ending as the version arrives counts"
    );
}

fn backward_from_each_lot(backend: &Backend) {
    let (plant, mut index) = loaded(backend);
    for lot in &plant.lots {
        let trace = index.trace_lot(&lot.id).unwrap();
        assert_eq!(trace.records.len(), 1);
        assert_eq!(trace.records[0].target, lot.line);
        let running: BTreeSet<(String, String, String)> = trace
            .running
            .iter()
            .map(|w| {
                (
                    w.target.clone(),
                    w.deployed_at.to_string(),
                    w.artifact.clone(),
                )
            })
            .collect();
        let expected: BTreeSet<(String, String, String)> = plant
            .deploys
            .iter()
            .filter(|d| plant.overlaps(d, lot))
            .map(|d| (d.target.to_owned(), d.at.to_string(), d.artifact.clone()))
            .collect();
        assert_eq!(running, expected, "{}", lot.id);
        let artifacts: BTreeSet<&str> = trace.artifacts.iter().map(|a| a.digest.as_str()).collect();
        let ran: BTreeSet<&str> = expected.iter().map(|(_, _, a)| a.as_str()).collect();
        assert_eq!(artifacts, ran);
        for chain in &trace.artifacts {
            let r = plant
                .releases
                .iter()
                .find(|r| r.package == chain.digest)
                .unwrap();
            let steps: Vec<(usize, Option<&str>)> = chain
                .steps
                .iter()
                .map(|s| (s.depth, s.step.as_deref()))
                .collect();
            assert_eq!(steps, [(0, Some("package")), (1, Some("compile"))]);
            assert_eq!(chain.steps[1].materials, std::slice::from_ref(&r.source));
            assert_eq!(chain.sources.len(), 1);
            assert_eq!(chain.sources[0].commit, r.commit);
            assert_eq!(
                chain.sources[0].uri.as_deref(),
                Some(format!("git+https://git.example/{}@refs/heads/main", r.product).as_str())
            );
            assert_eq!(chain.approvals.len(), 1);
            assert_eq!(
                chain.approvals[0].environment.as_deref(),
                Some("production")
            );
            assert_eq!(chain.approvals[0].signers.len(), 1);
            let mut purls: Vec<&str> = chain.packages.iter().map(|p| p.purl.as_str()).collect();
            let mut want = r.purls.clone();
            purls.sort();
            want.sort();
            assert_eq!(purls, want);
            assert!(!chain.truncated);
        }
    }
    assert!(index.trace_lot("L-unknown").unwrap().records.is_empty());
}

fn backward_from_a_target_at_a_time(backend: &Backend) {
    let (plant, mut index) = loaded(backend);
    let ran = |index: &mut Index, target: &str, h: u64| -> BTreeSet<(String, String)> {
        index
            .trace_target(target, hour(h))
            .unwrap()
            .running
            .into_iter()
            .map(|w| (w.target, w.artifact))
            .collect()
    };
    for target in ["plant-a/line-1/hmi", "plant-a/line-3", "plant-a"] {
        for h in 0..30 {
            let expected: BTreeSet<(String, String)> = plant
                .deploys
                .iter()
                .filter(|d| d.target.starts_with(target))
                .filter(|d| d.at <= hour(h) && plant.until(d).is_none_or(|u| hour(h) < u))
                .map(|d| (d.target.to_owned(), d.artifact.clone()))
                .collect();
            assert_eq!(ran(&mut index, target, h), expected, "{target} at {h}");
        }
    }
    // The rollback: 1.1 at hour 15, 1.0 again from hour 20.
    let hmi = "plant-a/line-1/hmi";
    let only = |s: BTreeSet<(String, String)>| s.into_iter().next().unwrap().1;
    assert_eq!(only(ran(&mut index, hmi, 15)), plant.releases[1].package);
    assert_eq!(only(ran(&mut index, hmi, 20)), plant.releases[0].package);
    assert!(index.trace_target("plant a", hour(1)).is_err());
}

/// A backward trace reads only the deployments near the time asked for; each window it gives
/// must still be the whole window (until, what replaced it, the chain check, evidence) that the
/// artifact's full deployment history gives.
fn backward_windows_are_whole_windows(backend: &Backend) {
    let (plant, mut index) = loaded(backend);
    let mut windows = Vec::new();
    for lot in &plant.lots {
        windows.extend(index.trace_lot(&lot.id).unwrap().running);
    }
    for target in ["plant-a/line-1/hmi", "plant-a/line-3", "plant-a"] {
        for h in 0..30 {
            windows.extend(index.trace_target(target, hour(h)).unwrap().running);
        }
    }
    assert!(windows.iter().any(|w| w.until.is_some()));
    assert!(windows.iter().any(|w| w.replaces.is_some()));
    for w in &windows {
        let full = index.deployments_of(&w.artifact).unwrap();
        let same = full
            .iter()
            .find(|f| f.target == w.target && f.deployed_at == w.deployed_at)
            .unwrap();
        assert_eq!(w, same);
    }
}

on_both!(
    backward_windows_are_whole_windows,
    forward_from_each_commit,
    forward_from_a_package,
    forward_from_a_digest,
    backward_from_each_lot,
    backward_from_a_target_at_a_time,
);
