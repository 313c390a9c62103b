//! `hallmark run` in real pipelines: steps that produce nothing (tests, scans), and monorepo jobs
//! whose inputs lie above their working directory.

use base64::Engine;
use serde_json::Value;

use crate::common::{Scratch, into_run};

fn keyed() -> Scratch {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "k"], 0);
    s
}

fn step(s: &Scratch, name: &str, flags: &[&str], script: &str) {
    let mut args = vec!["run", "--step", name, "--key", "k.key"];
    args.extend(flags);
    args.extend(["--", "sh", "-c", script]);
    s.expect(&args, 0);
}

/// The statement inside a bundle file.
fn statement(path: &std::path::Path) -> Value {
    let bundle: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn a_test_step_without_products_vouches_for_what_it_checked() {
    let s = keyed();
    step(
        &s,
        "build",
        &["-m", "src", "-p", "out"],
        "mkdir -p out && cat src/*.c > out/app",
    );
    step(
        &s,
        "test",
        &["-m", "out", "-o", "test.json"],
        "test -s out/app",
    );
    // The test step's subjects are what it checked.
    let tested = statement(&s.file("test.json"));
    assert_eq!(tested["subject"][0]["name"], "out/app", "{tested}");
    step(
        &s,
        "package",
        &["-m", "out", "-p", "dist"],
        "mkdir -p dist && cp out/app dist/app.bin",
    );
    let required = [
        "verify",
        "dist/app.bin",
        "--key",
        "k.pub",
        "--step",
        "build",
        "--step",
        "test",
        "--step",
        "package",
    ];
    s.expect(&required, 0);

    // The same pipeline without its test job: denied, naming the missing step.
    let untested = keyed();
    step(
        &untested,
        "build",
        &["-m", "src", "-p", "out"],
        "mkdir -p out && cat src/*.c > out/app",
    );
    step(
        &untested,
        "package",
        &["-m", "out", "-p", "dist"],
        "mkdir -p dist && cp out/app dist/app.bin",
    );
    let mut json = required.to_vec();
    json.extend(["--format", "json"]);
    let run = untested.expect(&json, 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let missing: Vec<&Value> = doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["code"] == "step.missing")
        .collect();
    assert_eq!(missing.len(), 1, "{doc}");
    assert!(
        missing[0]["message"].as_str().unwrap().contains("test"),
        "{doc}"
    );

    // A step with neither products nor materials has nothing to vouch for.
    let run = s.expect(
        &["run", "--step", "lint", "--key", "k.key", "--", "true"],
        2,
    );
    assert!(run.stderr.contains("nothing to attest"), "{}", run.stderr);
}

/// A test step with a harness summary also signs an in-toto test-result over what it tested:
/// PASSED when the suite passed, FAILED when it names a failure even though it exited 0; a
/// policy can demand the PASSED one.
#[test]
fn a_test_step_signs_an_in_toto_test_result_a_policy_can_demand() {
    let s = keyed();
    step(
        &s,
        "build",
        &["-m", "src", "-p", "out"],
        "mkdir -p out && cat src/*.c > out/app",
    );
    let summary = |failed: &str| {
        format!(
            "test -s out/app && echo '{{\"passedTests\": [\"runs\"], \"failedTests\": [{failed}]}}' > summary.json"
        )
    };
    std::fs::write(s.file("suite.cfg"), "timeout = 30\n").unwrap();
    step(
        &s,
        "test",
        &[
            "-m",
            "out",
            "--test-config",
            "suite.cfg",
            "--test-summary",
            "summary.json",
        ],
        &summary(""),
    );
    let rego = "package hallmark\n\nimport rego.v1\n\ndeny contains {\"code\": \"test.not-passed\", \"msg\": \"no PASSED test result\"} if {\n\tnot passed\n}\n\npassed if {\n\tsome a in input.attestations\n\ta.predicateType == \"https://in-toto.io/attestation/test-result/v0.1\"\n\ta.statement.predicate.result == \"PASSED\"\n\ta.statement.predicate.passedTests == [\"runs\"]\n\ta.statement.predicate.configuration[0].name == \"suite.cfg\"\n}\n";
    std::fs::write(s.file("tested.rego"), rego).unwrap();
    let verify = [
        "verify",
        "out/app",
        "--key",
        "k.pub",
        "--predicate-type",
        "https://in-toto.io/attestation/test-result/v0.1",
        "--policy",
        "tested.rego",
    ];
    s.expect(&verify, 0);

    // The same suite naming a failed test: FAILED, whatever the exit code; the policy denies.
    let failing = keyed();
    step(
        &failing,
        "build",
        &["-m", "src", "-p", "out"],
        "mkdir -p out && cat src/*.c > out/app",
    );
    std::fs::write(failing.file("suite.cfg"), "timeout = 30\n").unwrap();
    step(
        &failing,
        "test",
        &[
            "-m",
            "out",
            "--test-config",
            "suite.cfg",
            "--test-summary",
            "summary.json",
        ],
        &summary("\"flaky\""),
    );
    std::fs::write(failing.file("tested.rego"), rego).unwrap();
    let run = failing.expect(&verify, 1);
    assert!(run.stdout.contains("test.not-passed"), "{}", run.stdout);
}

#[test]
fn a_monorepo_job_names_inputs_above_it_only_under_an_explicit_root() {
    let s = keyed();
    std::fs::create_dir_all(s.file("app")).unwrap();
    std::fs::create_dir_all(s.file("lib")).unwrap();
    std::fs::write(s.file("app/main.c"), "int main(void) { return u(); }\n").unwrap();
    std::fs::write(s.file("lib/util.c"), "int u(void) { return 0; }\n").unwrap();
    let in_app = |args: &[&str]| {
        let mut cmd = s.command(args);
        cmd.current_dir(s.file("app"));
        into_run(cmd.output().unwrap())
    };
    let build = |root: &[&'static str], materials: &[&'static str]| {
        let mut args = vec![
            "run",
            "--step",
            "build",
            "--key",
            "../k.key",
            "-o",
            "../b.json",
        ];
        args.extend(root);
        for m in materials {
            args.extend(["-m", m]);
        }
        args.extend([
            "-p",
            "out",
            "--",
            "sh",
            "-c",
            "mkdir -p out && cat ../lib/util.c main.c > out/app",
        ]);
        in_app(&args)
    };
    // Without --root, ../lib is outside the working directory: refused, never followed.
    let refused = build(&[], &["../lib", "main.c"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("outside the working directory"),
        "{}",
        refused.stderr
    );

    let ok = build(&["--root", ".."], &["../lib", "main.c"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let st = statement(&s.file("b.json"));
    assert_eq!(st["subject"][0]["name"], "app/out/app", "{st}");
    let materials: Vec<&str> = st["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert!(
        materials.contains(&"lib/util.c") && materials.contains(&"app/main.c"),
        "{st}"
    );

    // The root is a bound too: a path that leaves it is refused.
    let outside = build(&["--root", ".."], &["../../", "main.c"]);
    assert_eq!(outside.code, 2, "{}", outside.stderr);
    assert!(outside.stderr.contains("outside"), "{}", outside.stderr);
}
