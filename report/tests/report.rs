//! The report over a small, known set of evidence: statuses, escaping, and the OSCAL document
//! against NIST's schema (check-jsonschema from the test venv).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{evidence, t};
use hallmark_report::assess::{Options, Report, Status, assess};
use hallmark_report::controls::{NIST_800_53, controls};
use hallmark_report::evidence::{Evidence, Kind};
use hallmark_report::{html, oscal};

fn report(evidence: Evidence) -> Report {
    assess(
        NIST_800_53,
        controls(NIST_800_53).unwrap(),
        evidence,
        Options::at(t("2026-12-05T00:00:00Z")),
    )
}

fn status(report: &Report, id: &str) -> Status {
    report
        .controls
        .iter()
        .find(|c| c.control.id == id)
        .unwrap()
        .status
}

#[test]
fn each_control_reports_what_holds_and_what_is_missing() {
    let r = report(evidence());
    assert_eq!(r.controls.len(), 8);
    assert_eq!(status(&r, "sr-4"), Status::Satisfied);
    assert_eq!(status(&r, "si-7"), Status::Satisfied);
    assert_eq!(status(&r, "cm-14"), Status::Satisfied);
    // Release 2 is revoked, built dirty, has no SBOM and no VSA, and was deployed before its
    // approval.
    for id in ["sr-11", "sa-10", "cm-8", "sr-3", "cm-3"] {
        assert_eq!(status(&r, id), Status::Partial, "{id}");
    }
    let cm3 = r.controls.iter().find(|c| c.control.id == "cm-3").unwrap();
    assert!(
        cm3.missing[0].what.contains("no approval"),
        "{:?}",
        cm3.missing
    );
    assert_eq!(cm3.met[0].attestations, ["d1", "a1"]);
    let sr4 = r.controls.iter().find(|c| c.control.id == "sr-4").unwrap();
    let fresh = sr4.freshness.as_ref().unwrap();
    assert_eq!(fresh.newest_age_days, 14);
    assert!(!fresh.stale);
}

#[test]
fn an_approval_for_another_environment_or_after_the_fact_does_not_count() {
    let mut e = evidence();
    e.artifacts.truncate(1);
    if let Kind::Approval { environment, .. } = &mut e.artifacts[0].attestations[2].kind {
        *environment = Some("staging".into());
    }
    assert_eq!(status(&report(e.clone()), "cm-3"), Status::NotSatisfied);
    if let Kind::Approval { environment, .. } = &mut e.artifacts[0].attestations[2].kind {
        *environment = None;
    }
    assert_eq!(status(&report(e.clone()), "cm-3"), Status::Satisfied);
    // A proven signing time after the deployment beats the claimed approval time.
    e.artifacts[0].attestations[2].time_proven = true;
    e.artifacts[0].attestations[2].signed_at = Some(t("2026-11-23T00:00:00Z"));
    assert_eq!(status(&report(e), "cm-3"), Status::NotSatisfied);
}

#[test]
fn since_drops_older_evidence_and_nothing_in_scope_satisfies_nothing() {
    let mut r = report(Evidence::default());
    assert!(r.controls.iter().all(|c| c.status == Status::NotSatisfied));
    r = assess(
        NIST_800_53,
        controls(NIST_800_53).unwrap(),
        evidence(),
        Options {
            since: Some(t("2026-11-23T00:00:00Z")),
            max_age: Duration::from_secs(86_400),
            ..Options::at(t("2026-12-05T00:00:00Z"))
        },
    );
    assert_eq!(status(&r, "sr-4"), Status::NotSatisfied);
    let cm3 = r.controls.iter().find(|c| c.control.id == "cm-3").unwrap();
    assert!(cm3.freshness.is_none());
    assert!(cm3.missing.iter().all(|m| m.artifact.ends_with('2')));
}

#[test]
fn html_is_self_contained_and_escapes_what_attestations_say() {
    let mut e = evidence();
    e.artifacts[0].names[0] = "<script>alert(1)</script>".into();
    if let Kind::Provenance { builder, .. } = &mut e.artifacts[0].attestations[0].kind {
        *builder = "\"><img src=x onerror=alert(1)>".into();
    }
    let page = html::page(&report(e));
    assert!(!page.contains("<script"), "script injected");
    assert!(!page.contains("<img"), "markup injected");
    assert!(page.contains("&lt;script&gt;"));
    assert!(page.contains("<table id=\"controls\">"));
    assert_eq!(page.matches("<tr id=\"control-").count(), 8);
    // Nothing is fetched or run: only these elements, no src/href/event attributes, no CSS
    // imports or urls.
    const ALLOWED: &[&str] = &[
        "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p",
        "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "b", "br", "code", "span", "svg",
        "text", "rect", "line", "polygon",
    ];
    for tag in page.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '>'])
            .next()
            .unwrap();
        assert!(ALLOWED.contains(&name), "element {name}");
        for attribute in [" src=", " href=", " on"] {
            assert!(!tag.contains(attribute), "{attribute} in <{tag}>");
        }
    }
    assert!(!page.contains("@import") && !page.contains("url("));
    assert!(page.contains("Content-Security-Policy"));
}

fn venv() -> PathBuf {
    std::env::var_os("HALLMARK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/hallmark/venv")
        })
}

#[test]
fn oscal_output_validates_against_nists_schema_and_is_deterministic() {
    let r = report(evidence());
    let doc = oscal::assessment_results(&r);
    assert_eq!(doc, oscal::assessment_results(&r));
    let vectors = std::env::var("HALLMARK_VECTORS").expect("HALLMARK_VECTORS");
    let schema = format!(
        "{vectors}/oscal/compliance-trestle/release-schemas/oscal_assessment-results_schema.json"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ar.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = Command::new(venv().join("bin/check-jsonschema"))
        .arg("--schemafile")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("check-jsonschema (run scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And a broken one does not: the check can fail.
    let mut broken = doc.clone();
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] =
        "mostly".into();
    std::fs::write(&file, serde_json::to_vec(&broken).unwrap()).unwrap();
    let out = Command::new(venv().join("bin/check-jsonschema"))
        .arg("--schemafile")
        .arg(&schema)
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Release 1's evidence alone, with the approval (`a1`, index 2) signed by a release manager.
fn release_one() -> Evidence {
    let mut e = evidence();
    e.artifacts.truncate(1);
    e.artifacts[0].attestations[2].signers = vec!["SHA256:release-manager".into()];
    e
}

#[test]
fn an_approval_signed_by_the_builder_or_the_deployer_does_not_count() {
    let e = release_one();
    assert_eq!(status(&report(e.clone()), "cm-3"), Status::Satisfied);
    // The key that signed the provenance approves its own build.
    let mut builder = e.clone();
    builder.artifacts[0].attestations[2].signers = vec!["SHA256:builder-key".into()];
    assert_eq!(status(&report(builder), "cm-3"), Status::NotSatisfied);
    // The key that recorded the deployment approves it (d1 is index 3).
    let mut deployer = e.clone();
    deployer.artifacts[0].attestations[3].signers = vec!["SHA256:operations".into()];
    deployer.artifacts[0].attestations[2].signers = vec!["SHA256:operations".into()];
    let r = report(deployer);
    assert_eq!(status(&r, "cm-3"), Status::NotSatisfied);
}

#[test]
fn a_deployment_recorded_late_counts_from_when_it_says_it_happened() {
    // d1 claims 2026-11-22T06:00; the approval is from 2026-11-21T09:00 (claimed).
    let mut e = release_one();
    // Approved (proven) on the 23rd, after the deployment it claims (the 22nd), but the
    // deployment record itself was only signed (proven) on the 24th: the approval came after
    // the deployment, whatever the record's signing time.
    e.artifacts[0].attestations[2].time_proven = true;
    e.artifacts[0].attestations[2].signed_at = Some(t("2026-11-23T00:00:00Z"));
    e.artifacts[0].attestations[3].time_proven = true;
    e.artifacts[0].attestations[3].signed_at = Some(t("2026-11-24T00:00:00Z"));
    assert_eq!(status(&report(e.clone()), "cm-3"), Status::NotSatisfied);
    // A record signed (proven) before the time it claims counts from its signing time.
    e.artifacts[0].attestations[2].signed_at = Some(t("2026-11-21T09:00:00Z"));
    e.artifacts[0].attestations[3].signed_at = Some(t("2026-11-21T08:00:00Z"));
    assert_eq!(status(&report(e), "cm-3"), Status::NotSatisfied);
}

#[test]
fn with_role_lists_only_listed_approvers_and_deployers_count() {
    let e = release_one();
    let with = |approvers: &[&str], deployers: &[&str]| {
        let options = Options {
            approvers: Some(approvers.iter().map(|s| (*s).to_owned()).collect()),
            deployers: Some(deployers.iter().map(|s| (*s).to_owned()).collect()),
            ..Options::at(t("2026-12-05T00:00:00Z"))
        };
        let r = assess(
            NIST_800_53,
            controls(NIST_800_53).unwrap(),
            e.clone(),
            options,
        );
        let cm3 = r
            .controls
            .iter()
            .find(|c| c.control.id == "cm-3")
            .unwrap()
            .clone();
        (cm3.status, cm3.missing.first().map(|m| m.what.clone()))
    };
    let listed = with(&["SHA256:release-manager"], &["SHA256:operations"]);
    assert_eq!(listed.0, Status::Satisfied, "{listed:?}");
    // Operations recorded it, but the list names another deployer: a change without authority.
    let (status, why) = with(&["SHA256:release-manager"], &["SHA256:mes"]);
    assert_eq!(status, Status::NotSatisfied);
    assert!(why.unwrap().contains("not a deployer"));
    // The approval is by someone not on the approvers list.
    let (status, why) = with(&["SHA256:quality"], &["SHA256:operations"]);
    assert_eq!(status, Status::NotSatisfied);
    assert!(why.unwrap().contains("no approval"));
}

#[test]
fn evidence_dated_in_the_future_counts_from_its_verification() {
    let mut e = release_one();
    // Everything verified on 2026-12-01; the provenance claims a time years ahead.
    e.artifacts[0].attestations[0].signed_at = Some(t("2031-01-01T00:00:00Z"));
    let r = assess(
        NIST_800_53,
        controls(NIST_800_53).unwrap(),
        e,
        Options {
            max_age: std::time::Duration::from_secs(86_400),
            ..Options::at(t("2026-12-20T00:00:00Z"))
        },
    );
    let sr4 = r.controls.iter().find(|c| c.control.id == "sr-4").unwrap();
    let fresh = sr4.freshness.as_ref().unwrap();
    assert_eq!(fresh.newest, t("2026-12-01T00:00:00Z"));
    assert!(fresh.stale);
}
