//! Attestations as rows and the deployments of one artifact (what reports and audits read),
//! over the generated plant.

use std::collections::BTreeSet;

use crate::plant::Plant;
use crate::{Backend, on_both, verify_and_add};

fn rows_and_deployments(backend: &Backend) {
    let plant = Plant::generate();
    let mut index = backend.open();
    assert!(
        verify_and_add(&mut index, &plant, &plant.bundles)
            .iter()
            .all(Result::is_ok)
    );
    // In scope of a report: every approved or deployed package, nothing else.
    let scope: BTreeSet<String> = index.deployed_or_approved().unwrap().into_iter().collect();
    let expected: BTreeSet<String> = plant.releases.iter().map(|r| r.package.clone()).collect();
    assert_eq!(scope, expected);
    for r in &plant.releases {
        let rows = index.attestations_of(&r.package).unwrap();
        let of = |t: &str| -> Vec<&hallmark_index::AttestationRow> {
            rows.iter().filter(|a| a.predicate_type == t).collect()
        };
        let deployed = plant
            .deploys
            .iter()
            .filter(|d| d.artifact == r.package)
            .count();
        assert_eq!(of("https://hallmark.dev/deployment/v1").len(), deployed);
        assert_eq!(of("https://hallmark.dev/approval/v1").len(), 1);
        assert_eq!(rows.len(), 3 + deployed, "{rows:?}");
        assert_eq!(
            of("https://cyclonedx.org/bom")[0].packages,
            r.purls.len() as u64
        );
        let built = of("https://slsa.dev/provenance/v1");
        assert_eq!(built[0].step.as_deref(), Some("package"));
        assert_eq!(built[0].source_dirty, Some(false));
        assert!(
            rows.iter()
                .all(|a| !a.signers.is_empty() && a.trust == "key plant.pub")
        );
        // The step that built its binary names the commit.
        let binary = index.attestations_of(&r.binary).unwrap();
        assert!(
            binary
                .iter()
                .any(|a| a.source_commit.as_deref() == Some(r.commit.as_str())),
            "{binary:?}"
        );
        // Its deployments, with the windows the plan gives.
        let windows = index.deployments_of(&r.package).unwrap();
        let mut got: Vec<(String, String, Option<String>)> = windows
            .iter()
            .map(|w| {
                (
                    w.target.clone(),
                    w.deployed_at.to_string(),
                    w.until.map(|u| u.to_string()),
                )
            })
            .collect();
        let mut want: Vec<(String, String, Option<String>)> = plant
            .deploys
            .iter()
            .filter(|d| d.artifact == r.package)
            .map(|d| {
                (
                    d.target.to_owned(),
                    d.at.to_string(),
                    plant.until(d).map(|u| u.to_string()),
                )
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}", r.package);
    }
    let stranger = format!("sha256:{}", "ab".repeat(32));
    assert!(index.attestations_of(&stranger).unwrap().is_empty());
    assert!(index.deployments_of(&stranger).unwrap().is_empty());
    assert!(index.attestation("no-such-id").unwrap().is_none());
}

on_both!(rows_and_deployments);
