//! `hallmark report` and `hallmark audit` over a real store: a build, an approval and a
//! deployment indexed, then the compliance report (OSCAL validated against NIST's schema, HTML
//! with the controls table) and runtime audits of an install folder and of a digest list.

use std::process::Command;

use serde_json::Value;

use crate::common::Scratch;

/// The two-step build (k.key), approved for production by a release manager (rm.key) and
/// deployed to line 1's HMI (k.key).
fn deployed() -> Scratch {
    let s = Scratch::repo();
    s.build_and_package();
    s.expect(&["keygen", "--output", "rm"], 0);
    s.expect(
        &[
            "approve",
            "dist/app.tar",
            "--reason",
            "tested",
            "--environment",
            "production",
            "--ticket",
            "CHG-7",
            "--key",
            "rm.key",
        ],
        0,
    );
    s.expect(
        &[
            "record",
            "deployment",
            "dist/app.tar",
            "--target",
            "plant-a/line-1/hmi-1",
            "--first",
            "--environment",
            "production",
            "--change",
            "CHG-7",
            "--key",
            "k.key",
        ],
        0,
    );
    s
}

fn venv_tool(name: &str) -> std::path::PathBuf {
    std::env::var_os("HALLMARK_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/hallmark/venv")
        })
        .join("bin")
        .join(name)
}

#[test]
fn the_report_maps_indexed_evidence_to_controls_in_every_format() {
    let s = deployed();
    s.expect(&["index", "add", "--key", "k.pub", "--key", "rm.pub"], 0);

    let json = s.expect(&["report", "--format", "json"], 0);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let status = |id: &str| {
        report["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"]["id"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(report["artifacts"].as_array().unwrap().len(), 1);
    for met in ["sr-4", "si-7", "cm-14", "cm-3", "sa-10", "sr-11"] {
        assert_eq!(status(met), "satisfied", "{met}: {report:#}");
    }
    // No SBOM and no recorded policy decision.
    assert_eq!(status("cm-8"), "not-satisfied");
    assert_eq!(status("sr-3"), "not-satisfied");

    // OSCAL assessment results, valid against NIST's OSCAL 1.1.3 schema.
    s.expect(&["report", "--format", "oscal", "-o", "ar.json"], 0);
    let vectors = std::env::var("HALLMARK_VECTORS").expect("HALLMARK_VECTORS");
    let check = Command::new(venv_tool("check-jsonschema"))
        .arg("--schemafile")
        .arg(format!(
            "{vectors}/oscal/compliance-trestle/release-schemas/oscal_assessment-results_schema.json"
        ))
        .arg(s.file("ar.json"))
        .output()
        .expect("check-jsonschema (scripts/install-test-deps.sh)");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    let html = s.expect(&["report", "-o", "report.html"], 0);
    assert!(
        html.stderr.contains("6 of 8 controls satisfied"),
        "{}",
        html.stderr
    );
    let page = std::fs::read_to_string(s.file("report.html")).unwrap();
    assert!(page.contains("<table id=\"controls\">"));
    assert!(page.contains("plant-a/line-1/hmi-1"));

    // An approval after the deployment does not count: a second artifact deployed first.
    std::fs::write(s.file("late.bin"), b"late").unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "late.bin",
            "--provenance",
            "--key",
            "k.key",
        ],
        0,
    );
    s.expect(
        &[
            "record",
            "deployment",
            "late.bin",
            "--target",
            "plant-a/line-1/plc-1",
            "--first",
            "--environment",
            "production",
            "--change",
            "CHG-8",
            "--key",
            "k.key",
        ],
        0,
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.expect(
        &[
            "approve",
            "late.bin",
            "--reason",
            "after the fact",
            "--environment",
            "production",
            "--key",
            "rm.key",
        ],
        0,
    );
    s.expect(&["index", "add", "--key", "k.pub", "--key", "rm.pub"], 0);
    let json = s.expect(&["report", "late.bin", "--format", "json"], 0);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let cm3 = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"]["id"] == "cm-3")
        .unwrap();
    assert_eq!(cm3["status"], "not-satisfied", "{cm3:#}");
    assert!(
        cm3["missing"][0]["what"]
            .as_str()
            .unwrap()
            .contains("no approval")
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_audit_finds_unattested_revoked_and_other_lines_software() {
    let s = deployed();
    // A second release for line 1 (revoked later) and a tool deployed on line 2 only.
    for (file, target) in [
        ("driver.bin", "plant-a/line-1/hmi-1-driver"),
        ("tool.bin", "plant-a/line-2/hmi-1"),
    ] {
        std::fs::write(s.file(file), file.as_bytes()).unwrap();
        s.expect(
            &[
                "attest",
                "--subject",
                file,
                "--provenance",
                "--key",
                "k.key",
            ],
            0,
        );
        s.expect(
            &[
                "record",
                "deployment",
                file,
                "--target",
                target,
                "--first",
                "--key",
                "k.key",
            ],
            0,
        );
    }
    s.expect(&["keygen", "--output", "security"], 0);
    s.expect(
        &[
            "revoke",
            "--name",
            "plant",
            "--sequence",
            "1",
            "--artifact",
            "driver.bin",
            "--reason",
            "CVE-2026-0001",
            "--valid-for",
            "30d",
            "--key",
            "security.key",
            "--output",
            "revocations.json",
        ],
        0,
    );
    s.expect(&["index", "add", "--key", "k.pub", "--key", "rm.pub"], 0);

    // The HMI's install folder: the deployed package, the revoked driver, line 2's tool and a
    // file nobody attested.
    let install = s.file("install");
    std::fs::create_dir_all(install.join("bin")).unwrap();
    std::fs::copy(s.file("dist/app.tar"), install.join("app.tar")).unwrap();
    std::fs::copy(s.file("driver.bin"), install.join("bin/driver.bin")).unwrap();
    std::fs::copy(s.file("tool.bin"), install.join("bin/tool.bin")).unwrap();
    std::fs::write(install.join("bin/patch.dll"), b"dropped here by hand").unwrap();
    let audit = [
        "audit",
        "--dir",
        "install",
        "--target",
        "plant-a/line-1/hmi-1",
        "--revocations",
        "revocations.json",
        "--revocation-key",
        "security.pub",
        "--format",
        "json",
    ];
    let run = s.expect(&audit, 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let findings: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["what"].as_str().unwrap().to_owned(),
                f["problem"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // hmi-1-driver is not under hmi-1: the driver is both revoked and unexpected here.
    assert_eq!(
        findings,
        [
            ("bin/driver.bin".to_owned(), "unexpected".to_owned()),
            ("bin/driver.bin".to_owned(), "revoked".to_owned()),
            ("bin/patch.dll".to_owned(), "unattested".to_owned()),
            ("bin/tool.bin".to_owned(), "unexpected".to_owned()),
        ],
        "{doc:#}"
    );
    assert_eq!(
        (doc["checked"].as_u64(), doc["clean"].as_u64()),
        (Some(4), Some(1))
    );

    // The same from a digest list, for the whole line: the driver is on line 1 now, so only
    // its revocation and the unknown file remain; the tool still belongs to line 2.
    let list = format!(
        "{}  app.tar\n{}  driver.bin\n{}  tool.bin\nsha256:{} patch.dll\n",
        sha256_hex(&std::fs::read(s.file("dist/app.tar")).unwrap()),
        sha256_hex(b"driver.bin"),
        sha256_hex(b"tool.bin"),
        sha256_hex(b"dropped here by hand"),
    );
    std::fs::write(s.file("installed.txt"), list).unwrap();
    let run = s.expect(
        &[
            "audit",
            "--digests",
            "installed.txt",
            "--target",
            "plant-a/line-1",
            "--revocations",
            "revocations.json",
            "--revocation-key",
            "security.pub",
        ],
        1,
    );
    assert!(
        run.stdout.contains("revoked    driver.bin"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("unattested patch.dll"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("unexpected tool.bin"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("unexpected driver.bin"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("4 item(s) checked, 1 clean, 3 finding(s)"),
        "{}",
        run.stdout
    );

    // Nothing found: exit 0. Expired: an approval older than the maximum age.
    s.expect(
        &[
            "audit",
            "--digests",
            "installed.txt",
            "--target",
            "plant-a/line-1/hmi-1",
            "--format",
            "json",
        ],
        1,
    );
    std::fs::write(
        s.file("clean.txt"),
        format!(
            "{}  app.tar\n",
            sha256_hex(&std::fs::read(s.file("dist/app.tar")).unwrap())
        ),
    )
    .unwrap();
    s.expect(
        &[
            "audit",
            "--digests",
            "clean.txt",
            "--target",
            "plant-a/line-1/hmi-1",
        ],
        0,
    );
    let later = "2030-01-01T00:00:00Z";
    let run = s.expect(
        &[
            "audit",
            "--digests",
            "clean.txt",
            "--target",
            "plant-a/line-1/hmi-1",
            "--at",
            later,
            "--max-age",
            "365d",
        ],
        1,
    );
    assert!(run.stdout.contains("expired"), "{}", run.stdout);

    // An approval that claims a date far ahead does not keep the evidence fresh: it counts
    // from when it was verified.
    std::fs::write(
        s.file("future.json"),
        r#"{"reason": "pre-approved", "environment": "production", "approvedAt": "2099-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "dist/app.tar",
            "--predicate",
            "future.json",
            "--type",
            "https://hallmark.dev/approval/v1",
            "--key",
            "rm.key",
        ],
        0,
    );
    s.expect(&["index", "add", "--key", "k.pub", "--key", "rm.pub"], 0);
    let run = s.expect(
        &[
            "audit",
            "--digests",
            "clean.txt",
            "--target",
            "plant-a/line-1/hmi-1",
            "--at",
            later,
            "--max-age",
            "365d",
        ],
        1,
    );
    assert!(run.stdout.contains("expired"), "{}", run.stdout);

    // Pods as `kubectl get pods -A -o json` lists them: the package runs as an image on the
    // line's cluster target (its deployment record is for plant-a/line-1/hmi-1, under
    // plant-a/line-1), and a sidecar nobody attested.
    let app = sha256_hex(&std::fs::read(s.file("dist/app.tar")).unwrap());
    let pods = serde_json::json!({"kind": "List", "items": [{
    "metadata": {"namespace": "hmi", "name": "hmi-0"},
    "status": {"containerStatuses": [
        {"name": "app", "imageID": format!("registry.plant/hmi@sha256:{app}")},
        {"name": "sidecar", "imageID": format!("registry.plant/proxy@sha256:{}", "0".repeat(64))}
    ]}}]});
    std::fs::write(s.file("pods.json"), pods.to_string()).unwrap();
    let run = s.expect(
        &[
            "audit",
            "--pods",
            "pods.json",
            "--target",
            "plant-a/line-1",
            "--format",
            "json",
        ],
        1,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["what"], "hmi/hmi-0/sidecar");
    assert_eq!(doc["findings"][0]["problem"], "unattested");
}

/// Roles: the MES's lot key builds and deploys a DLL and the CI key approves it; with the
/// deployer and approver keys named, neither record counts.
#[test]
fn records_by_keys_outside_their_role_do_not_count() {
    let s = deployed();
    s.expect(&["keygen", "--output", "mes"], 0);
    std::fs::write(s.file("evil.dll"), b"evil").unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "evil.dll",
            "--provenance",
            "--key",
            "mes.key",
        ],
        0,
    );
    s.expect(
        &[
            "approve",
            "evil.dll",
            "--reason",
            "trust me",
            "--environment",
            "production",
            "--ticket",
            "CHG-666",
            "--key",
            "k.key",
        ],
        0,
    );
    // A second later than the package's deployment: records are stamped to the second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    s.expect(
        &[
            "record",
            "deployment",
            "evil.dll",
            "--target",
            "plant-a/line-1/hmi-1",
            "--first",
            "--environment",
            "production",
            "--change",
            "CHG-666",
            "--key",
            "mes.key",
        ],
        0,
    );
    s.expect(
        &[
            "index", "add", "--key", "k.pub", "--key", "rm.pub", "--key", "mes.pub",
        ],
        0,
    );
    let install = s.file("install");
    std::fs::create_dir_all(&install).unwrap();
    std::fs::copy(s.file("dist/app.tar"), install.join("app.tar")).unwrap();
    std::fs::copy(s.file("evil.dll"), install.join("evil.dll")).unwrap();
    let audit = [
        "audit",
        "--dir",
        "install",
        "--target",
        "plant-a/line-1/hmi-1",
    ];
    // Every verified signer counts (a warning says so): the MES's record replaced the package
    // on the HMI, so the DLL passes and the package looks out of service.
    let open = s.expect(&audit, 1);
    assert!(open.stderr.contains("no --deployer-key"), "{}", open.stderr);
    assert!(
        open.stdout.contains("unexpected app.tar"),
        "{}",
        open.stdout
    );
    assert!(!open.stdout.contains("evil.dll"), "{}", open.stdout);
    // With operations' key (k.pub here) as the only deployer, the history is rebuilt from its
    // records alone: the package is in service and the DLL is unexpected.
    let mut strict = audit.to_vec();
    strict.extend(["--deployer-key", "k.pub", "--format", "json"]);
    let run = s.expect(&strict, 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["what"], "evil.dll");
    assert_eq!(doc["findings"][0]["problem"], "unexpected");

    // The report: CM-3 for the DLL holds only while nobody's role is checked.
    let cm3 = |extra: &[&str]| {
        let mut args = vec!["report", "evil.dll", "--format", "json"];
        args.extend(extra);
        let run = s.expect(&args, 0);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        doc["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"]["id"] == "cm-3")
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(cm3(&[]), "satisfied");
    assert_eq!(cm3(&["--deployer-key", "k.pub"]), "not-satisfied");
    assert_eq!(
        cm3(&["--approver-key", "rm.pub", "--deployer-key", "mes.pub"]),
        "not-satisfied"
    );
}
