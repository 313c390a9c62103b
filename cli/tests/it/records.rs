//! `hallmark record deployment` and `record lot`: signed, stored records; the replaces chain
//! read from verified history only; rollbacks; and the policy that wants an approval for the
//! environment, signed before the deployment.

use std::time::Duration;

use serde_json::Value;

use crate::common::{Run, Scratch};
use crate::oracle::Both;

const TARGET: &str = "plant-a/line-3/hmi-2";

/// The statement inside a bundle file the command wrote with `-o`.
fn statement(s: &Scratch, file: &str) -> Value {
    let bundle =
        hallmark_model::bundle::Bundle::from_slice(&std::fs::read(s.file(file)).unwrap()).unwrap();
    serde_json::from_slice(&bundle.dsse_envelope.unwrap().payload).unwrap()
}

/// `sha256:` of bytes, computed here, not by the code under test.
fn sha256(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    format!("sha256:{}", hallmark_model::hex::encode(d.as_ref()))
}

fn file_digest(s: &Scratch, file: &str) -> String {
    sha256(&std::fs::read(s.file(file)).unwrap())
}

fn deploy(s: &Scratch, artifact: &str, extra: &[&str], code: i32) -> Run {
    let mut args = vec!["record", "deployment", artifact, "--target", TARGET];
    args.extend(extra);
    s.expect(&args, code)
}

#[test]
fn deployments_chain_through_verified_history_and_a_rollback_is_recorded() {
    let s = Scratch::repo();
    for k in ["deployer", "mallory"] {
        s.expect(&["keygen", "--output", k], 0);
    }
    std::fs::write(s.file("hmi-1.0.bin"), "firmware 1.0").unwrap();
    std::fs::write(s.file("hmi-1.1.bin"), "firmware 1.1").unwrap();
    let (v10, v11) = (
        file_digest(&s, "hmi-1.0.bin"),
        file_digest(&s, "hmi-1.1.bin"),
    );

    // No history and neither --first nor --replaces: refused, saying what to pass.
    let run = deploy(&s, "hmi-1.0.bin", &["--key", "deployer.key"], 2);
    assert!(run.stderr.contains("pass --first"), "{}", run.stderr);

    deploy(
        &s,
        "hmi-1.0.bin",
        &["--first", "--key", "deployer.key", "-o", "d1.json"],
        0,
    );
    let d1 = statement(&s, "d1.json");
    assert_eq!(d1["predicateType"], "https://hallmark.dev/deployment/v1");
    assert_eq!(d1["subject"][0]["digest"]["sha256"], v10[7..]);
    assert_eq!(d1["predicate"]["replaces"], Value::Null);
    assert_eq!(d1["predicate"]["target"], TARGET);

    let run = deploy(
        &s,
        "hmi-1.1.bin",
        &[
            "--environment",
            "production",
            "--lot",
            "L-1",
            "--lot",
            "L-2",
            "--work-order",
            "WO-118",
            "--change",
            "CHG-7",
            "--key",
            "deployer.key",
            "-o",
            "d2.json",
        ],
        0,
    );
    assert!(
        run.stderr.contains(&format!("runs {v10}")),
        "{}",
        run.stderr
    );
    let d2 = statement(&s, "d2.json");
    assert_eq!(d2["predicate"]["replaces"], v10);
    assert_eq!(d2["predicate"]["environment"], "production");
    assert_eq!(d2["predicate"]["lots"], serde_json::json!(["L-1", "L-2"]));
    assert_eq!(d2["predicate"]["workOrder"], "WO-118");
    assert_eq!(d2["predicate"]["change"], "CHG-7");

    // The rollback: 1.0 again, replacing 1.1. Nothing refuses an earlier version.
    deploy(
        &s,
        "hmi-1.0.bin",
        &["--key", "deployer.key", "-o", "d3.json"],
        0,
    );
    assert_eq!(statement(&s, "d3.json")["predicate"]["replaces"], v11);

    // Someone else's record for the target is not history until its signer is trusted.
    std::fs::write(s.file("evil.bin"), "not ours").unwrap();
    deploy(&s, "evil.bin", &["--first", "--key", "mallory.key"], 0);
    let run = deploy(
        &s,
        "hmi-1.1.bin",
        &["--key", "deployer.key", "-o", "d4.json"],
        0,
    );
    assert_eq!(statement(&s, "d4.json")["predicate"]["replaces"], v10);
    assert!(
        run.stderr
            .contains("1 deployment record(s) for plant-a/line-3/hmi-2"),
        "{}",
        run.stderr
    );
    let run = deploy(
        &s,
        "hmi-1.0.bin",
        &[
            "--key",
            "deployer.key",
            "--trust-key",
            "mallory.pub",
            "-o",
            "d5.json",
        ],
        0,
    );
    // mallory's record and d4 may share a second; d4 was stored later, so it is the newest.
    assert_eq!(
        statement(&s, "d5.json")["predicate"]["replaces"],
        v11,
        "{}",
        run.stderr
    );

    // Exactly the target: hmi-20 has no history although hmi-2 is its prefix.
    let run = s.expect(
        &[
            "record",
            "deployment",
            "hmi-1.0.bin",
            "--target",
            "plant-a/line-3/hmi-20",
            "--key",
            "deployer.key",
        ],
        2,
    );
    assert!(
        run.stderr
            .contains("no verified deployment on plant-a/line-3/hmi-20"),
        "{}",
        run.stderr
    );
}

#[test]
fn deployment_flags_are_checked_before_signing_and_named_in_errors() {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "deployer"], 0);
    std::fs::write(s.file("app.bin"), "app").unwrap();
    for (extra, says) in [
        (vec!["--replaces", "sha256:abc"], "--replaces sha256:abc"),
        (
            vec!["--first", "--environment", " "],
            "--environment must not be empty",
        ),
        (vec!["--first", "--lot", ""], "--lot must not be empty"),
        (
            vec!["--first", "--work-order", ""],
            "--work-order must not be empty",
        ),
        (
            vec!["--first", "--replaces", "sha256:abc"],
            "cannot be used with",
        ),
    ] {
        let mut args = vec!["--key", "deployer.key"];
        args.extend(extra.iter().copied());
        let run = deploy(&s, "app.bin", &args, 2);
        assert!(run.stderr.contains(says), "{extra:?}: {}", run.stderr);
    }
    let run = s.expect(
        &[
            "record",
            "deployment",
            "app.bin",
            "--target",
            "plant-a/../x",
            "--first",
            "--key",
            "deployer.key",
        ],
        2,
    );
    assert!(
        run.stderr.contains("--target plant-a/../x"),
        "{}",
        run.stderr
    );
    // Nothing was stored by the refused commands.
    let run = s.expect(
        &[
            "verify",
            "app.bin",
            "--key",
            "deployer.pub",
            "--predicate-type",
            "https://hallmark.dev/deployment/v1",
        ],
        1,
    );
    assert!(!run.stdout.contains("ALLOWED"), "{}", run.stdout);
}

#[test]
fn a_lot_is_its_own_subject_and_is_found_by_the_digest_of_its_name() {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "line"], 0);
    s.expect(
        &[
            "record",
            "lot",
            "L-2026-0042",
            "--target",
            "plant-a/line-3",
            "--from",
            "2026-11-26T06:00:00Z",
            "--to",
            "2026-11-26T14:00:00Z",
            "--product",
            "valve-body-7",
            "--work-order",
            "WO-118",
            "--key",
            "line.key",
            "-o",
            "lot.json",
        ],
        0,
    );
    let st = statement(&s, "lot.json");
    let digest = sha256(b"lot:L-2026-0042");
    assert_eq!(st["subject"][0]["name"], "lot:L-2026-0042");
    assert_eq!(st["subject"][0]["digest"]["sha256"], digest[7..]);
    assert_eq!(st["predicateType"], "https://hallmark.dev/lot/v1");
    assert_eq!(
        st["predicate"],
        serde_json::json!({"lot": "L-2026-0042", "target": "plant-a/line-3",
            "from": "2026-11-26T06:00:00Z", "to": "2026-11-26T14:00:00Z",
            "product": "valve-body-7", "workOrder": "WO-118"})
    );
    s.expect_both(
        &[
            "verify",
            &digest,
            "--key",
            "line.pub",
            "--predicate-type",
            "https://hallmark.dev/lot/v1",
        ],
        0,
    );
    for (flag, value, says) in [
        (
            "--to",
            "2026-11-26T05:00:00Z",
            "--to 2026-11-26T05:00:00Z is before --from 2026-11-26T06:00:00Z",
        ),
        ("--from", "this morning", "--from this morning"),
        ("--target", "plant a", "--target plant a"),
    ] {
        let mut args = vec![
            "record",
            "lot",
            "L-1",
            "--target",
            "plant-a/line-3",
            "--from",
            "2026-11-26T06:00:00Z",
            "--to",
            "2026-11-26T14:00:00Z",
            "--key",
            "line.key",
        ];
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = value;
        let run = s.expect(&args, 2);
        assert!(run.stderr.contains(says), "{flag}: {}", run.stderr);
    }
    let run = s.expect(
        &[
            "record",
            "lot",
            " ",
            "--target",
            "p/l",
            "--from",
            "2026-11-26T06:00:00Z",
            "--to",
            "2026-11-26T06:00:00Z",
            "--key",
            "line.key",
        ],
        2,
    );
    assert!(
        run.stderr.contains("the lot ID must not be empty"),
        "{}",
        run.stderr
    );
}

const POLICY: &str = "apiVersion: hallmark.dev/policy/v1
steps:
  build:   {signers: [k.pub], inputs: [source]}
  package: {signers: [k.pub], inputs: [build]}
approvals: {required: 1, approvers: [alice.pub, bob.pub]}
deployments: {requireApproval: true, deployers: [deployer.pub]}
";

fn approve(s: &Scratch, key: &str, environment: &str) {
    s.expect(
        &[
            "approve",
            "dist/app.tar",
            "--reason",
            "tested",
            "--environment",
            environment,
            "--key",
            key,
        ],
        0,
    );
}

/// `record deployment --policy` for production on `target`; the run.
fn gated(s: &Scratch, target: &str, code: i32) -> Run {
    let out = format!("{}.json", target.replace('/', "-"));
    let run = s.expect(
        &[
            "record",
            "deployment",
            "dist/app.tar",
            "--target",
            target,
            "--environment",
            "production",
            "--first",
            "--policy",
            "release.yaml",
            "--key",
            "deployer.key",
            "-o",
            &out,
        ],
        code,
    );
    assert_eq!(
        s.file(&out).exists(),
        code == 0,
        "recorded only when allowed"
    );
    run
}

fn verify(s: &Scratch, environment: Option<&str>, code: i32) -> Run {
    let mut args = vec!["verify", "dist/app.tar", "--policy", "release.yaml"];
    if let Some(env) = environment {
        args.extend(["--environment", env]);
    }
    s.expect_both(&args, code)
}

#[test]
fn a_deployment_needs_an_approval_for_its_environment_signed_before_it() {
    let s = Scratch::repo();
    s.build_and_package();
    for k in ["alice", "bob", "deployer", "mallory"] {
        s.expect(&["keygen", "--output", k], 0);
    }
    std::fs::write(s.file("release.yaml"), POLICY).unwrap();

    // No approval: the gate refuses and records nothing.
    let run = gated(&s, TARGET, 1);
    assert!(
        run.stdout.contains("approval.insufficient"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("was not recorded"), "{}", run.stderr);

    // An approval for another environment does not count for production.
    approve(&s, "alice.key", "staging");
    let run = gated(&s, TARGET, 1);
    assert!(
        run.stdout.contains("approved for environment"),
        "{}",
        run.stdout
    );

    // Nor does an approval by a signer the policy does not trust.
    approve(&s, "mallory.key", "production");
    gated(&s, TARGET, 1);

    // An approver's approval for production: recorded, and the record passes verification.
    approve(&s, "bob.key", "production");
    gated(&s, TARGET, 0);
    verify(&s, Some("production"), 0);
    verify(&s, None, 0);

    // Deployed to qa without the gate; the qa approval comes a second later (approvals and
    // deployments are recorded in whole seconds), after the deployment: it does not count.
    s.expect(
        &[
            "record",
            "deployment",
            "dist/app.tar",
            "--target",
            "plant-a/line-4/hmi-1",
            "--environment",
            "qa",
            "--first",
            "--key",
            "deployer.key",
        ],
        0,
    );
    std::thread::sleep(Duration::from_millis(1100));
    approve(&s, "alice.key", "qa");
    let run = verify(&s, Some("qa"), 1);
    assert!(
        run.stdout.contains("deployment.unapproved"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("plant-a/line-4/hmi-1"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(&format!("\"{TARGET}\"")),
        "the gated deployment was approved: {}",
        run.stdout
    );
    let run = verify(&s, None, 1);
    assert!(
        run.stdout.contains("deployment.unapproved"),
        "{}",
        run.stdout
    );
    // Deciding for production judges no qa record: the gate still lets production through.
    verify(&s, Some("production"), 0);
    gated(&s, "plant-a/line-5/hmi-1", 0);

    // An unapproved staging deployment signed by an untrusted key is no evidence at all.
    s.expect(
        &[
            "record",
            "deployment",
            "dist/app.tar",
            "--target",
            "plant-b/line-1/plc-1",
            "--environment",
            "staging",
            "--first",
            "--key",
            "mallory.key",
        ],
        0,
    );
    verify(&s, Some("staging"), 0);
}

/// The gate needs the environment it decides for: without it, an approval for staging would do.
#[test]
fn the_deployment_gate_needs_an_environment() {
    let s = Scratch::repo();
    s.build_and_package();
    let run = s.expect(
        &[
            "record",
            "deployment",
            "dist/app.tar",
            "--target",
            "plant-a/line-1/hmi-1",
            "--first",
            "--policy",
            "release.yaml",
            "--key",
            "k.key",
        ],
        2,
    );
    assert!(run.stderr.contains("--environment"), "{}", run.stderr);
    assert!(
        !s.file(".hallmark/store/index.json").exists() || {
            let index = std::fs::read_to_string(s.file(".hallmark/store/index.json")).unwrap();
            !index.contains("deployment/v1")
        }
    );
}
