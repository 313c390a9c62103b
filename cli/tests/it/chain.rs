//! Whole-pipeline verification: a 3-step chain (build → test → package) recorded with
//! `hallmark run`, judged by a declarative policy; approvals; VSAs; `inspect`.

use crate::common::{Run, Scratch};
use crate::oracle::Both;
const POLICY: &str = "apiVersion: hallmark.dev/policy/v1
kind: ReleasePolicy
steps:
  build:   {signers: [build.pub], inputs: [source]}
  test:    {signers: [test.pub], inputs: [build]}
  package: {signers: [package.pub], inputs: [build, test]}
sources:
  repositories: [https://git.example/acme/app]
  refs: [refs/heads/*]
maxAge: 7d
";

fn step(s: &Scratch, name: &str, key: &str, materials: &[&str], product: &str, script: &str) {
    let key = format!("{key}.key");
    let mut args = vec!["run", "--step", name, "--key", &key];
    for m in materials {
        args.extend(["-m", m]);
    }
    args.extend(["-p", product, "--", "sh", "-c", script]);
    s.expect_both(&args, 0);
}

fn build(s: &Scratch) {
    step(
        s,
        "build",
        "build",
        &["src"],
        "out",
        "mkdir -p out && cat src/*.c > out/app",
    );
}

fn test(s: &Scratch, key: &str) {
    step(
        s,
        "test",
        key,
        &["out"],
        "reports",
        "mkdir -p reports && echo passed > reports/test.txt",
    );
}

fn package(s: &Scratch, materials: &[&str]) {
    step(
        s,
        "package",
        "package",
        materials,
        "dist",
        "mkdir -p dist && tar -cf dist/app.tar out",
    );
}

/// A repository with the keys and the policy, ready for the steps.
fn scratch() -> Scratch {
    let s = Scratch::repo();
    for k in ["build", "test", "package", "verifier", "alice", "bob"] {
        s.expect_both(&["keygen", "--output", k], 0);
    }
    std::fs::write(s.file("release.yaml"), POLICY).unwrap();
    s
}

fn intact() -> Scratch {
    let s = scratch();
    build(&s);
    test(&s, "test");
    package(&s, &["out", "reports"]);
    s
}

fn verify(s: &Scratch, extra: &[&str], code: i32) -> Run {
    let mut args = vec!["verify", "dist/app.tar", "--policy", "release.yaml"];
    args.extend(extra);
    s.expect_both(&args, code)
}

#[test]
fn an_intact_chain_is_allowed() {
    let s = intact();
    let run = verify(&s, &["--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["verdict"], "allow", "{}", run.stdout);
    assert_eq!(
        doc["chain"]["steps"].as_array().unwrap().len(),
        3,
        "{}",
        run.stdout
    );
    assert!(
        doc["policy"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(doc["warnings"].is_array());
}

#[test]
fn a_file_no_step_produced_is_an_unattested_input() {
    let s = scratch();
    build(&s);
    test(&s, "test");
    std::fs::write(s.file("extra.txt"), "slipped in\n").unwrap();
    package(&s, &["out", "reports", "extra.txt"]);
    let run = verify(&s, &[], 1);
    assert!(
        run.stdout.contains("chain.unattested-input"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("step \"package\"") && run.stdout.contains("extra.txt"),
        "names the step and the file: {}",
        run.stdout
    );
    let json = verify(&s, &["--format", "json"], 1);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let v = doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "chain.unattested-input")
        .unwrap();
    assert_eq!(v["details"]["step"], "package", "{v}");
    assert_eq!(v["details"]["file"], "extra.txt", "{v}");
}

/// The files `verify --format json` reports as `chain.unattested-input`.
fn unattested_files(s: &Scratch) -> Vec<String> {
    let run = verify(s, &["--format", "json"], 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["code"] == "chain.unattested-input")
        .filter_map(|v| v["details"]["file"].as_str().map(str::to_owned))
        .collect()
}

fn package_with(s: &Scratch, flags: &[&str]) {
    let mut args = vec!["run", "--step", "package", "--key", "package.key"];
    args.extend(flags);
    args.extend(["-m", "out", "-m", "reports", "-p", "dist", "--", "sh", "-c"]);
    args.push("mkdir -p dist && tar -cf dist/app.tar out");
    s.expect_both(&args, 0);
}

/// Attack: files slipped into `out/.git/` and `out/sub/.hallmark/` between build and package
/// were left out of the package step's materials (skipped by name), so the chain was allowed
/// while the tarball carried them.
#[test]
fn files_hidden_in_nested_git_and_hallmark_dirs_are_unattested_inputs() {
    let s = scratch();
    build(&s);
    test(&s, "test");
    for dir in ["out/.git", "out/sub/.hallmark"] {
        std::fs::create_dir_all(s.file(dir)).unwrap();
        std::fs::write(s.file(&format!("{dir}/evil")), "slipped in\n").unwrap();
    }
    package(&s, &["out", "reports"]);
    let files = unattested_files(&s);
    assert!(files.contains(&"out/.git/evil".to_owned()), "{files:?}");
    assert!(
        files.contains(&"out/sub/.hallmark/evil".to_owned()),
        "{files:?}"
    );
}

/// Attack variant: with `--gitignore`, a `.gitignore` written between steps hid the slipped
/// file. Only rules committed at HEAD apply; those still leave genuine build litter out.
#[test]
fn an_ignore_file_written_between_steps_hides_nothing() {
    let s = scratch();
    std::fs::write(s.file(".gitignore"), "*.o\n").unwrap();
    s.git(&["add", ".gitignore"]);
    s.git(&["commit", "-qm", "ignore objects"]);
    build(&s);
    test(&s, "test");
    std::fs::write(s.file("out/app.o"), "object file\n").unwrap();
    package_with(&s, &["--gitignore"]);
    verify(&s, &[], 0);
    std::fs::write(s.file("out/.gitignore"), "evil.sh\n.gitignore\n").unwrap();
    std::fs::write(s.file("out/evil.sh"), "slipped in\n").unwrap();
    package_with(&s, &["--gitignore"]);
    let files = unattested_files(&s);
    assert!(files.contains(&"out/evil.sh".to_owned()), "{files:?}");
    assert!(!files.contains(&"out/app.o".to_owned()), "{files:?}");
}

#[test]
fn a_missing_step_is_named() {
    let s = scratch();
    build(&s);
    package(&s, &["out"]);
    let run = verify(&s, &[], 1);
    assert!(run.stdout.contains("step.missing"), "{}", run.stdout);
    assert!(
        run.stdout.contains("\"test\""),
        "names the step: {}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("chain.unattested-input"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_chain_re_recorded_from_a_tampered_file_is_denied() {
    let s = scratch();
    build(&s);
    // out/app changes after the build; test and package are recorded again from it.
    std::fs::write(s.file("out/app"), "backdoor\n").unwrap();
    test(&s, "test");
    package(&s, &["out", "reports"]);
    let run = verify(&s, &[], 1);
    assert!(
        run.stdout.contains("chain.unattested-input"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("step \"test\" consumed \"out/app\""),
        "{}",
        run.stdout
    );
}

#[test]
fn an_input_from_a_step_not_named_for_it_is_denied() {
    let s = scratch();
    build(&s);
    test(&s, "test");
    // The test step may only read what build produced, not its own earlier report.
    step(
        &s,
        "test",
        "test",
        &["out", "reports"],
        "reports2",
        "mkdir -p reports2 && cp reports/* reports2/",
    );
    package(&s, &["out", "reports2"]);
    let run = verify(&s, &[], 1);
    assert!(
        run.stdout.contains("chain.input-from-wrong-step"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("reports/test.txt"),
        "names the file: {}",
        run.stdout
    );
}

#[test]
fn a_step_signed_by_a_key_not_allowed_for_it_is_denied() {
    let s = scratch();
    build(&s);
    // The build key is trusted (the policy names it), but not for the test step.
    test(&s, "build");
    package(&s, &["out", "reports"]);
    let run = verify(&s, &[], 1);
    assert!(
        run.stdout.contains("step.signer-not-allowed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\"test\""),
        "names the step: {}",
        run.stdout
    );
    // A key nobody trusts: the test step does not verify at all, so its report is unattested.
    let s = scratch();
    s.expect_both(&["keygen", "--output", "stranger"], 0);
    build(&s);
    test(&s, "stranger");
    package(&s, &["out", "reports"]);
    let run = verify(&s, &[], 1);
    assert!(run.stdout.contains("step.missing"), "{}", run.stdout);
    assert!(
        run.stdout.contains("chain.unattested-input"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_declarative_policy_and_its_explained_rego_agree() {
    let s = scratch();
    build(&s);
    package(&s, &["out"]);
    let explained = s.expect_both(&["policy", "explain", "release.yaml"], 0);
    assert!(
        explained.stdout.contains("config := {"),
        "{}",
        explained.stdout
    );
    assert!(
        explained.stdout.contains("\"required_steps\""),
        "{}",
        explained.stdout
    );
    // The same decision from the declarative file and from a Rego directory holding what
    // `explain` printed.
    let dir = s.file("explained");
    std::fs::create_dir(&dir).unwrap();
    for (i, module) in explained.stdout.split("# ---- module ").skip(1).enumerate() {
        let text = module.split_once('\n').unwrap().1;
        std::fs::write(dir.join(format!("m{i}.rego")), text).unwrap();
    }
    let keys = [
        "--key",
        "build.pub",
        "--key",
        "test.pub",
        "--key",
        "package.pub",
    ];
    let mut a = vec![
        "verify",
        "dist/app.tar",
        "--format",
        "json",
        "--policy",
        "release.yaml",
    ];
    a.extend(keys);
    let mut b = vec![
        "verify",
        "dist/app.tar",
        "--format",
        "json",
        "--policy",
        "explained",
    ];
    b.extend(keys);
    let codes = |run: Run| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        doc["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["code"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let from_yaml = codes(s.expect_both(&a, 1));
    let from_rego = codes(s.expect_both(&b, 1));
    assert_eq!(from_yaml, from_rego);
    assert!(
        from_yaml.contains(&"step.missing".to_owned()),
        "{from_yaml:?}"
    );
}

#[test]
fn a_bad_declarative_policy_is_an_error_not_an_allow() {
    let s = intact();
    std::fs::write(
        s.file("typo.yaml"),
        "apiVersion: hallmark.dev/policy/v1\nstepz: {}\n",
    )
    .unwrap();
    let run = s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--policy",
            "typo.yaml",
            "--key",
            "build.pub",
        ],
        2,
    );
    assert!(run.stderr.contains("stepz"), "{}", run.stderr);
    for (bad, says) in [
        (
            "steps:\n  build: {inputs: [source]}\n  build: {}\n",
            "given twice",
        ),
        (
            "steps:\n  build: {inputs: [source]}\nsteps: {}\n",
            "duplicate",
        ),
        (
            "steps:\n  build: {inputs: [source], signers: []}\n",
            "empty list",
        ),
        (
            "steps:\n  build: {inputs: [source]}\nsources: {repositories: []}\n",
            "empty list",
        ),
        (
            "steps:\n  build: {signers: [build.pub]}\n",
            "read the source",
        ),
        (
            "steps:\n  build: {inputs: [source]}\n  test: {inputs: [biuld]}\n",
            "biuld",
        ),
        (
            "steps:\n  build: {inputs: [source]}\nartifactFrom: [pakage]\n",
            "pakage",
        ),
        (
            "steps:\n  build: {inputs: [source]}\napprovals: {required: 0, approvers: [build.pub]}\n",
            "approvals",
        ),
        (
            "steps:\n  build: {signers: [missing.pub], inputs: [source]}\n",
            "missing.pub",
        ),
        (
            "steps:\n  build: {signers: [build.pub]}\nsourceSteps: [build]\n",
            "which step produces",
        ),
        (
            "steps:\n  build: {inputs: [source]}\nsources: {}\n",
            "checks nothing",
        ),
        ("maxAge: 7d\n", "read the source"),
        ("steps:\n  build: {inputs: {source: []}}\n", "empty list"),
    ] {
        std::fs::write(
            s.file("bad.yaml"),
            format!("apiVersion: hallmark.dev/policy/v1\n{bad}"),
        )
        .unwrap();
        let run = s.expect_both(
            &[
                "verify",
                "dist/app.tar",
                "--policy",
                "bad.yaml",
                "--key",
                "build.pub",
            ],
            2,
        );
        assert!(run.stderr.contains(says), "{bad}: {}", run.stderr);
    }
}

#[test]
fn approvals_count_distinct_listed_approvers_who_did_not_sign_the_build() {
    let s = intact();
    let policy = format!(
        "{POLICY}approvals:\n  required: 2\n  approvers: [alice.pub, bob.pub, build.pub]\n"
    );
    std::fs::write(s.file("release.yaml"), policy).unwrap();
    let run = verify(&s, &[], 1);
    assert!(
        run.stdout.contains("approval.insufficient"),
        "{}",
        run.stdout
    );
    s.expect_both(
        &[
            "approve",
            "dist/app.tar",
            "--reason",
            "release 1.0",
            "--ticket",
            "CHG-1",
            "--key",
            "alice.key",
        ],
        0,
    );
    // The builder approving their own build does not count.
    s.expect_both(
        &[
            "approve",
            "dist/app.tar",
            "--reason",
            "lgtm",
            "--key",
            "build.key",
        ],
        0,
    );
    let run = verify(&s, &[], 1);
    assert!(
        run.stdout.contains("approval.insufficient"),
        "{}",
        run.stdout
    );
    s.expect_both(
        &[
            "approve",
            "dist/app.tar",
            "--reason",
            "ok",
            "--key",
            "bob.key",
        ],
        0,
    );
    verify(&s, &[], 0);
    let run = s.run(&[
        "approve",
        "dist/app.tar",
        "--reason",
        " ",
        "--key",
        "bob.key",
    ]);
    assert_eq!(run.code, 2, "an empty reason is refused: {}", run.stderr);
    assert!(
        run.stderr.contains("--reason must not be empty"),
        "{}",
        run.stderr
    );
}

fn emit_vsa(s: &Scratch) {
    let run = verify(
        s,
        &[
            "--emit-vsa",
            "vsa.json",
            "--vsa-signing-key",
            "verifier.key",
        ],
        0,
    );
    assert!(run.stderr.contains("VSA (PASSED)"), "{}", run.stderr);
}

#[test]
fn a_vsa_from_a_trusted_verifier_is_accepted() {
    let s = intact();
    emit_vsa(&s);
    let vsa: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.file("vsa.json")).unwrap()).unwrap();
    assert!(
        vsa["dsseEnvelope"]["payload"].is_string(),
        "a signed bundle"
    );
    let digest = policy_digest(&s, "release.yaml");
    // The VSA is in the store: accepted with no other trust at all, for the named policy.
    let run = s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--vsa-policy-digest",
            &digest,
        ],
        0,
    );
    assert!(
        run.stdout.contains("verification summary"),
        "{}",
        run.stdout
    );
    // The same policy given as a file; and from the VSA file alone, without the store.
    s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--policy",
            "release.yaml",
        ],
        0,
    );
    s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--vsa-policy-digest",
            &digest,
            "--bundle",
            "vsa.json",
            "--store",
            "elsewhere",
        ],
        0,
    );
    // Without saying which policy, no VSA is evidence: a VSA of any policy would do.
    let run = s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
        ],
        2,
    );
    assert!(run.stderr.contains("--vsa-policy-digest"), "{}", run.stderr);
    // --step cannot be combined: an accepted VSA would silently skip it.
    s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--policy",
            "release.yaml",
            "--step",
            "x",
        ],
        2,
    );
}

/// The policy digest `hallmark policy explain` prints.
fn policy_digest(s: &Scratch, file: &str) -> String {
    let run = s.expect_both(&["policy", "explain", file], 0);
    run.stdout
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap()
        .to_owned()
}

#[test]
fn a_vsa_is_refused_when_untrusted_tampered_stale_failed_or_for_another_policy() {
    let s = intact();
    emit_vsa(&s);
    let digest = policy_digest(&s, "release.yaml");
    let accept = |extra: &[&str], code: i32| {
        let mut args = vec![
            "verify",
            "dist/app.tar",
            "--bundle",
            "vsa.json",
            "--store",
            "elsewhere",
        ];
        args.extend(extra);
        s.expect_both(&args, code)
    };
    // Another verifier's key.
    let run = accept(
        &[
            "--accept-vsa-from",
            "alice.pub",
            "--vsa-policy-digest",
            &digest,
        ],
        1,
    );
    assert!(run.stdout.contains("vsa.not-accepted"), "{}", run.stdout);
    // Too old.
    let run = accept(
        &[
            "--accept-vsa-from",
            "verifier.pub",
            "--vsa-policy-digest",
            &digest,
            "--vsa-max-age",
            "0s",
        ],
        1,
    );
    assert!(run.stdout.contains("older than"), "{}", run.stdout);
    // Another policy.
    std::fs::write(
        s.file("other.yaml"),
        format!("{POLICY}sbomRequired: true\n"),
    )
    .unwrap();
    let other = policy_digest(&s, "other.yaml");
    assert_ne!(other, digest);
    let run = accept(
        &[
            "--accept-vsa-from",
            "verifier.pub",
            "--vsa-policy-digest",
            &other,
        ],
        1,
    );
    assert!(
        run.stdout.contains("not the given policy"),
        "{}",
        run.stdout
    );
    // Tampered: the payload says something else than was signed.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.file("vsa.json")).unwrap()).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace("\"PASSED\"", "\"PASSED\" ");
    doc["dsseEnvelope"]["payload"] = b64.encode(forged).into();
    std::fs::write(s.file("vsa.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    let run = accept(
        &[
            "--accept-vsa-from",
            "verifier.pub",
            "--vsa-policy-digest",
            &digest,
        ],
        1,
    );
    assert!(run.stdout.contains("vsa.not-accepted"), "{}", run.stdout);
    // A FAILED VSA is never evidence.
    let t = scratch();
    build(&t);
    package(&t, &["out"]);
    let run = t.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--policy",
            "release.yaml",
            "--emit-vsa",
            "vsa.json",
            "--vsa-signing-key",
            "verifier.key",
        ],
        1,
    );
    assert!(run.stderr.contains("VSA (FAILED)"), "{}", run.stderr);
    let run = t.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--vsa-policy-digest",
            &digest,
        ],
        1,
    );
    assert!(run.stdout.contains("not PASSED"), "{}", run.stdout);
}

#[test]
fn inspect_shows_the_chain_as_a_tree_json_mermaid_and_dot() {
    let s = intact();
    let keys = [
        "--key",
        "build.pub",
        "--key",
        "test.pub",
        "--key",
        "package.pub",
    ];
    let mut args = vec!["inspect", "dist/app.tar"];
    args.extend(keys);
    let run = s.expect_both(&args, 0);
    for want in [
        "step package",
        "step build",
        "step test",
        "out/app",
        "reports/test.txt",
        "cat src/*.c",
    ] {
        assert!(run.stdout.contains(want), "{want}: {}", run.stdout);
    }
    let mut json = args.clone();
    json.extend(["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&s.expect_both(&json, 0).stdout).unwrap();
    assert_eq!(doc["chain"]["steps"].as_array().unwrap().len(), 3);
    let mut mermaid = args.clone();
    mermaid.extend(["--format", "mermaid"]);
    let out = s.expect_both(&mermaid, 0).stdout;
    assert!(
        out.starts_with("flowchart LR") && out.contains("reports/test.txt"),
        "{out}"
    );
    let mut dot = args.clone();
    dot.extend(["--format", "dot"]);
    let out = s.expect_both(&dot, 0).stdout;
    assert!(
        out.starts_with("digraph") && out.trim_end().ends_with('}'),
        "{out}"
    );
    // Untrusted: nothing verified, nothing shown.
    s.expect_both(&["inspect", "dist/app.tar", "--key", "alice.pub"], 1);
}

#[test]
fn a_trusted_key_cannot_produce_the_artifact_from_another_step() {
    let s = intact();
    // The test key re-labels the package with its own step: artifactFrom (the end of the
    // declared graph, package) refuses it.
    step(
        &s,
        "test",
        "test",
        &["dist"],
        "evil",
        "mkdir -p evil && cp dist/app.tar evil/app.tar && echo x >> evil/app.tar",
    );
    let run = s.expect_both(&["verify", "evil/app.tar", "--policy", "release.yaml"], 1);
    assert!(
        run.stdout.contains("chain.artifact-from-wrong-step"),
        "{}",
        run.stdout
    );
    // An approver's key signs a step nobody declared.
    let policy = format!("{POLICY}approvals:\n  required: 1\n  approvers: [alice.pub]\n");
    std::fs::write(s.file("release.yaml"), policy).unwrap();
    step(
        &s,
        "release",
        "alice",
        &["dist"],
        "evil2",
        "mkdir -p evil2 && cp dist/app.tar evil2/app.tar",
    );
    let run = s.expect_both(&["verify", "evil2/app.tar", "--policy", "release.yaml"], 1);
    for code in [
        "step.undeclared",
        "step.signed-by-approver",
        "chain.artifact-from-wrong-step",
    ] {
        assert!(run.stdout.contains(code), "{code}: {}", run.stdout);
    }
}

#[test]
fn the_policy_library_directory_emits_a_vsa_that_is_then_accepted() {
    let s = intact();
    let library = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .display()
        .to_string();
    let keys = [
        "--key",
        "build.pub",
        "--key",
        "test.pub",
        "--key",
        "package.pub",
    ];
    let mut emit = vec![
        "verify",
        "dist/app.tar",
        "--policy",
        &library,
        "--emit-vsa",
        "vsa.json",
        "--vsa-signing-key",
        "verifier.key",
    ];
    emit.extend(keys);
    let run = s.expect_both(&emit, 0);
    assert!(run.stderr.contains("VSA (PASSED)"), "{}", run.stderr);
    // The VSA names the policy by its directory's name, never by the local path.
    use base64::Engine as _;
    let vsa: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.file("vsa.json")).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(vsa["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["predicate"]["policy"]["uri"], "policies");
    let run = s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--policy",
            &library,
        ],
        0,
    );
    assert!(
        run.stdout.contains("verification summary"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_vsa_fast_path_keeps_its_guarantees() {
    let s = intact();
    emit_vsa(&s);
    let digest = policy_digest(&s, "release.yaml");
    // Facts are not in the VSA: they cannot be combined with accepting one.
    s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--policy",
            "release.yaml",
            "--fact",
            "environment=prod",
        ],
        2,
    );
    // Nor with emitting one.
    s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--policy",
            "release.yaml",
            "--emit-vsa",
            "v2.json",
            "--vsa-signing-key",
            "verifier.key",
            "--fact",
            "environment=prod",
        ],
        2,
    );
    // A rejected VSA with only a digest named does not fall back to a bare signature check.
    let run = s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "alice.pub",
            "--vsa-policy-digest",
            &digest,
            "--key",
            "package.pub",
        ],
        1,
    );
    assert!(run.stdout.contains("vsa.not-accepted"), "{}", run.stdout);
}

#[test]
fn a_policy_naming_only_source_steps_loads() {
    let s = intact();
    std::fs::write(
        s.file("lean.yaml"),
        "apiVersion: hallmark.dev/policy/v1\nsourceSteps: [build]\nmaxAge: 7d\n",
    )
    .unwrap();
    let keys = [
        "--key",
        "build.pub",
        "--key",
        "test.pub",
        "--key",
        "package.pub",
    ];
    let mut args = vec!["verify", "dist/app.tar", "--policy", "lean.yaml"];
    args.extend(keys);
    s.expect_both(&args, 0);
}

#[test]
fn a_step_rewriting_a_file_in_place_cannot_hand_it_over_with_per_file_inputs() {
    let s = intact();
    // The test step (allowed to hand over its report) rewrites out/app in place.
    step(
        &s,
        "test",
        "test",
        &["out"],
        "out",
        "echo BACKDOOR >> out/app",
    );
    step(
        &s,
        "package",
        "package",
        &["out", "reports"],
        "dist2",
        "mkdir -p dist2 && tar -cf dist2/app.tar out reports",
    );
    // Per-step inputs cannot see it: test may hand over files to package.
    let run = s.expect_both(&["verify", "dist2/app.tar", "--policy", "release.yaml"], 0);
    assert!(run.stdout.contains("ALLOWED"), "{}", run.stdout);
    // Per-file inputs can.
    let per_file = POLICY.replace(
        "inputs: [build, test]",
        "inputs: {build: [\"out/**\"], test: [\"reports/**\"]}",
    );
    assert_ne!(per_file, POLICY);
    std::fs::write(s.file("per-file.yaml"), per_file).unwrap();
    let run = s.expect_both(&["verify", "dist2/app.tar", "--policy", "per-file.yaml"], 1);
    assert!(
        run.stdout.contains("chain.input-from-wrong-step"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("out/app"),
        "names the file: {}",
        run.stdout
    );
    // The intact package passes the per-file policy.
    s.expect_both(&["verify", "dist/app.tar", "--policy", "per-file.yaml"], 0);
}

#[test]
fn yesterdays_build_output_cannot_be_packaged_today() {
    let s = scratch();
    // Yesterday: a genuine build of the old source.
    build(&s);
    let old = std::fs::read(s.file("out/app")).unwrap();
    // Today: the source moves on and is built again, by the same trusted step and key ...
    std::fs::write(s.file("src/a.c"), "int a(void) { return 2; }\n").unwrap();
    s.git(&["commit", "-qam", "fix"]);
    build(&s);
    // ... but the old, genuinely attested output is put back before test and package.
    std::fs::write(s.file("out/app"), old).unwrap();
    test(&s, "test");
    package(&s, &["out", "reports"]);
    let run = verify(&s, &[], 1);
    assert!(run.stdout.contains("chain.mixed-sources"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("consumed 1 file(s) built from another commit"),
        "{}",
        run.stdout
    );
    // A policy that builds from several repositories on purpose says so.
    std::fs::write(
        s.file("mixed-ok.yaml"),
        format!("{POLICY}allowMixedSources: true\n"),
    )
    .unwrap();
    s.expect_both(&["verify", "dist/app.tar", "--policy", "mixed-ok.yaml"], 0);
}

#[test]
fn an_untracked_file_is_not_read_from_the_source() {
    let s = scratch();
    // Planted into the checkout before the build (a restored cache, an earlier job): never committed.
    std::fs::write(s.file("src/evil.c"), "int evil(void) { return 0; }\n").unwrap();
    build(&s);
    test(&s, "test");
    package(&s, &["out", "reports"]);
    let run = verify(&s, &[], 1);
    assert!(
        run.stdout.contains("chain.unattested-input"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("src/evil.c"), "{}", run.stdout);
    assert!(
        run.stdout.contains("not committed to the source"),
        "{}",
        run.stdout
    );
    // Reviewed and committed, the same file is source: the chain is allowed.
    let s = scratch();
    std::fs::write(s.file("src/evil.c"), "int evil(void) { return 0; }\n").unwrap();
    s.git(&["add", "src/evil.c"]);
    s.git(&["commit", "-qm", "evil, reviewed"]);
    build(&s);
    test(&s, "test");
    package(&s, &["out", "reports"]);
    verify(&s, &[], 0);
}

/// The code of each violation of a `verify --format json` run.
fn violation_codes(run: &Run) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Without a policy, ALLOWED means verified provenance: an approval alone, or a verifier's
/// FAILED summary, is verified evidence of something else and is denied as `predicate.missing`;
/// the same artifacts with provenance are allowed.
#[test]
fn allowed_means_provenance_not_any_signed_statement() {
    let s = scratch();
    std::fs::write(s.file("lone.bin"), "never built\n").unwrap();
    s.expect_both(
        &[
            "approve",
            "lone.bin",
            "--reason",
            "looks fine",
            "--key",
            "alice.key",
        ],
        0,
    );
    let json = ["--format", "json"];
    let approval_only = ["verify", "lone.bin", "--key", "alice.pub"];
    let run = s.expect_both(&[&approval_only[..], &json].concat(), 1);
    assert_eq!(
        violation_codes(&run),
        ["predicate.missing"],
        "{}",
        run.stdout
    );
    s.expect_both(
        &[
            "attest",
            "--subject",
            "lone.bin",
            "--provenance",
            "--key",
            "alice.key",
        ],
        0,
    );
    let run = s.expect_both(&[&approval_only[..], &json].concat(), 0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let satisfying: Vec<&str> = doc["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["satisfies"] == true)
        .map(|a| a["predicateType"].as_str().unwrap())
        .collect();
    assert_eq!(satisfying, ["https://slsa.dev/provenance/v1"], "{doc}");

    // A denied policy check writes a FAILED VSA; trusting its signer does not allow the artifact.
    build(&s);
    package(&s, &["out"]);
    let run = s.expect_both(
        &[
            "verify",
            "dist/app.tar",
            "--policy",
            "release.yaml",
            "--emit-vsa",
            "failed.vsa.json",
            "--vsa-signing-key",
            "verifier.key",
        ],
        1,
    );
    assert!(run.stderr.contains("VSA (FAILED)"), "{}", run.stderr);
    let by_verifier = ["verify", "dist/app.tar", "--key", "verifier.pub"];
    let run = s.expect_both(&[&by_verifier[..], &json].concat(), 1);
    assert_eq!(
        violation_codes(&run),
        ["predicate.missing"],
        "{}",
        run.stdout
    );
    s.expect_both(&["verify", "dist/app.tar", "--key", "package.pub"], 0);
    // Neither a VSA nor an approval can be asked for as the evidence on its own.
    for t in [
        "https://slsa.dev/verification_summary/v1",
        "https://hallmark.dev/approval/v1",
    ] {
        let run = s.expect_both(&[&by_verifier[..], &["--predicate-type", t]].concat(), 2);
        assert_eq!(
            crate::common::error_code(&run.stderr),
            Some("request.predicate-type"),
            "{}",
            run.stderr
        );
    }
}

/// `policy eval` replays a saved policy input: the same decision as `verify`, in its JSON
/// contract; a policy that cannot load is a JSON error with its code.
#[test]
fn policy_eval_replays_a_saved_input() {
    let s = intact();
    verify(&s, &["--save-policy-input", "input.json"], 0);
    let run = s.expect_both(
        &[
            "policy",
            "eval",
            "--policy",
            "release.yaml",
            "--input",
            "input.json",
        ],
        0,
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["schemaVersion"],
        "https://hallmark.dev/schemas/policy-decision/v1"
    );
    assert_eq!(doc["deny"], serde_json::json!([]), "{doc}");
    // A policy that does not parse denies (fail closed); one that cannot be read is an error.
    std::fs::write(s.file("broken.rego"), "package hallmark\ndeny contains").unwrap();
    let eval = |policy: &str, code: i32| -> serde_json::Value {
        let args = [
            "policy",
            "eval",
            "--policy",
            policy,
            "--input",
            "input.json",
        ];
        serde_json::from_str(&s.expect_both(&args, code).stdout).unwrap()
    };
    let doc = eval("broken.rego", 1);
    assert_eq!(doc["deny"][0]["code"], "policy.error", "{doc}");
    let doc = eval("absent.rego", 2);
    assert_eq!(doc["error"]["code"], "policy.invalid", "{doc}");
}
