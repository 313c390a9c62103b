//! A big step in a store of several subject lists: the chain walk looks every material up in
//! every list and must still decide on the evidence, not run out of budget.

use std::collections::BTreeMap;

use hallmark_remote::layout::{LayoutStore, Subject};

use crate::common::Scratch;
use crate::flooding::{POLICY, verify};

/// The first design (reverted) searched each list with positioned reads for every lookup and
/// spent them from the decision's budget: a step of 20,000 materials in a store of 7 lists was
/// denied `chain.truncated`. Here: build makes 20,000 files, package takes them all as
/// materials, and the store holds six more lists of 20,000 subjects besides build's.
#[test]
fn a_step_of_20000_materials_in_a_store_of_seven_lists_is_allowed() {
    let s = Scratch::repo();
    std::fs::write(s.file("release.yaml"), POLICY).unwrap();
    s.expect(&["keygen", "--output", "k"], 0);
    let run = |step: &str, m: &str, p: &str, script: &str| {
        s.expect(
            &[
                "run", "--step", step, "-m", m, "-p", p, "--key", "k.key", "--", "sh", "-c", script,
            ],
            0,
        );
    };
    run(
        "build",
        "src",
        "out",
        "mkdir -p out && i=0; while [ $i -lt 20000 ]; do echo $i > out/f$i; i=$((i+1)); done",
    );
    let store = LayoutStore::open(s.file(".hallmark/store")).unwrap();
    for seed in 0..6u32 {
        let subjects: Vec<Subject> = (0..20_000u32)
            .map(|i| Subject {
                digest: hallmark_attester::hashing::sha256(
                    &[seed.to_be_bytes(), i.to_be_bytes()].concat(),
                ),
                size: 1,
                media_type: hallmark_remote::oci::FILE_MEDIA_TYPE.to_owned(),
            })
            .collect();
        // Never read: no material is among these subjects.
        store
            .put(
                format!("unrelated {seed}").as_bytes(),
                &subjects,
                &BTreeMap::new(),
            )
            .unwrap();
    }
    run(
        "package",
        "out",
        "dist",
        "mkdir -p dist && tar -cf dist/app.tar out",
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.file(".hallmark/store/index.json")).unwrap())
            .unwrap();
    let lists = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["artifactType"] == "application/vnd.dev.hallmark.subjects.v1")
        .count();
    assert_eq!(lists, 7, "{index}");
    let verdict = verify(&s, 0);
    let doc: serde_json::Value = serde_json::from_str(&verdict.stdout).unwrap();
    assert_eq!(doc["verdict"], "allow", "{}", verdict.stdout);
    assert!(
        !verdict.stdout.contains("chain.truncated"),
        "{}",
        verdict.stdout
    );
    assert_eq!(
        doc["chain"]["steps"].as_array().unwrap().len(),
        2,
        "{}",
        verdict.stdout
    );
}
