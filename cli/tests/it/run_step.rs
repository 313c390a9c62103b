//! `hallmark run` and `hallmark attest` behaviours beyond the happy path.

use serde_json::Value;

use crate::common::{self, Scratch, into_run};

fn keyed() -> Scratch {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "k"], 0);
    s
}

#[test]
fn a_failing_command_propagates_its_code_and_signs_nothing() {
    let s = keyed();
    let run = s.expect(
        &[
            "run", "--step", "t", "-p", "src", "--key", "k.key", "--", "sh", "-c", "exit 7",
        ],
        7,
    );
    assert!(run.stderr.contains("nothing attested"), "{}", run.stderr);
    assert!(!s.file(".hallmark/store").exists());
    s.expect(
        &[
            "run",
            "--step",
            "t",
            "-p",
            "src",
            "--key",
            "k.key",
            "--attest-failure",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
        7,
    );
    // The failure is recorded, and a failed step attests nothing: denied, with the exit code.
    let v = s.expect(
        &["verify", "src/a.c", "--key", "k.pub", "--format", "json"],
        1,
    );
    let doc: Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(doc["attestations"][0]["step"], "t");
    assert_eq!(doc["attestations"][0]["provenance"]["exitCode"], 7);
    assert_eq!(doc["violations"][0]["rule"], "step-failed");
    assert_eq!(doc["violations"][0]["exitCode"], 7);
}

#[test]
fn a_failed_step_never_satisfies_step() {
    let s = keyed();
    s.expect(
        &[
            "run",
            "--step",
            "build",
            "-m",
            "src",
            "-p",
            "out",
            "--key",
            "k.key",
            "--attest-failure",
            "--",
            "sh",
            "-c",
            "mkdir -p out && cat src/*.c > out/app; exit 7",
        ],
        7,
    );
    let denied = s.expect(
        &["verify", "out/app", "--key", "k.pub", "--step", "build"],
        1,
    );
    assert!(
        denied
            .stdout
            .contains("step \"build\" recorded exit code 7"),
        "{}",
        denied.stdout
    );
    assert!(denied.stdout.contains("exit code:  7"), "{}", denied.stdout);
    // The same output from a step that succeeded is allowed: the failure no longer stands alone.
    build_src(&s);
    s.expect(
        &["verify", "out/app", "--key", "k.pub", "--step", "build"],
        0,
    );
}

#[test]
fn require_clean_refuses_a_dirty_tree() {
    let s = keyed();
    s.expect(
        &[
            "run",
            "--step",
            "t",
            "-p",
            "src",
            "--key",
            "k.key",
            "--require-clean",
            "--",
            "true",
        ],
        0,
    );
    std::fs::write(s.file("src/a.c"), "changed").unwrap();
    let run = s.expect(
        &[
            "run",
            "--step",
            "t",
            "-p",
            "src",
            "--key",
            "k.key",
            "--require-clean",
            "--",
            "true",
        ],
        2,
    );
    assert!(run.stderr.contains("uncommitted changes"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: commit or stash the changes, or drop --require-clean"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_key_and_missing_products_are_clear_errors() {
    let s = keyed();
    let run = s.expect(&["run", "--step", "t", "-p", "src", "--", "true"], 2);
    assert!(run.stderr.contains("no signing key"), "{}", run.stderr);
    let run = s.expect(
        &[
            "run",
            "--step",
            "t",
            "-p",
            "nothing-here",
            "--key",
            "k.key",
            "--",
            "true",
        ],
        2,
    );
    assert!(
        run.stderr.contains("nothing-here does not exist"),
        "{}",
        run.stderr
    );
    let run = s.expect(
        &[
            "run",
            "--step",
            "t",
            "-p",
            "../outside",
            "--key",
            "k.key",
            "--",
            "true",
        ],
        2,
    );
    assert!(
        run.stderr.contains("outside the working directory"),
        "{}",
        run.stderr
    );
}

/// Runs `hallmark run --step STEP -p PRODUCT` for each pair, all at once; each must succeed.
fn run_at_once(s: &Scratch, steps: &[(String, String)]) {
    let children: Vec<_> = steps
        .iter()
        .map(|(step, product)| {
            s.command(&[
                "run", "--step", step, "-p", product, "--key", "k.key", "--", "true",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let run = into_run(child.wait_with_output().unwrap());
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

#[test]
fn two_runs_at_once_never_corrupt_the_store() {
    let s = keyed();
    for i in 0..6 {
        std::fs::write(s.file(&format!("p{i}")), format!("product {i}")).unwrap();
    }
    let steps: Vec<(String, String)> = (0..6).map(|i| (format!("s{i}"), format!("p{i}"))).collect();
    run_at_once(&s, &steps);
    for i in 0..6 {
        s.expect(
            &[
                "verify",
                &format!("p{i}"),
                "--key",
                "k.pub",
                "--step",
                &format!("s{i}"),
            ],
            0,
        );
    }
}

/// Steps of more than 16 products are stored as one index entry and a subject list (two runs at
/// once here): every product is still found by its digest, and nothing else is.
#[test]
fn many_products_are_found_through_subject_lists() {
    let s = keyed();
    for step in 0..2 {
        std::fs::create_dir_all(s.file(&format!("out{step}"))).unwrap();
        for i in 0..30 {
            std::fs::write(
                s.file(&format!("out{step}/f{i}")),
                format!("product {step} {i}"),
            )
            .unwrap();
        }
    }
    let steps: Vec<(String, String)> = (0..2)
        .map(|step| (format!("s{step}"), format!("out{step}")))
        .collect();
    run_at_once(&s, &steps);
    let index: Value =
        serde_json::from_slice(&std::fs::read(s.file(".hallmark/store/index.json")).unwrap())
            .unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "{index}");
    let lists = entries
        .iter()
        .filter(|e| e["artifactType"] == "application/vnd.dev.hallmark.subjects.v1")
        .count();
    assert_eq!(lists, 2, "{index}");
    for step in 0..2 {
        for i in [0, 7, 29] {
            s.expect(
                &[
                    "verify",
                    &format!("out{step}/f{i}"),
                    "--key",
                    "k.pub",
                    "--step",
                    &format!("s{step}"),
                ],
                0,
            );
        }
    }
    std::fs::write(s.file("stranger"), "not a product").unwrap();
    s.expect(&["verify", "stranger", "--key", "k.pub"], 1);
    // One product of step 0 checked against step 1: found only under its own step.
    s.expect(&["verify", "out0/f3", "--key", "k.pub", "--step", "s1"], 1);
}

#[test]
fn recorded_env_is_allow_listed_and_secrets_redacted() {
    let s = keyed();
    let out = s
        .command(&[
            "run",
            "--step",
            "t",
            "-p",
            "src",
            "--key",
            "k.key",
            "--env-allow",
            "CC",
            "--env-allow",
            "DEPLOY_TOKEN",
            "--output",
            "b.json",
            "--",
            "true",
        ])
        .env("CC", "clang")
        .env("DEPLOY_TOKEN", "hunter2")
        .env("UNLISTED", "x")
        .output()
        .unwrap();
    assert!(out.status.success());
    let bundle = std::fs::read_to_string(s.file("b.json")).unwrap();
    let b: Value = serde_json::from_str(&bundle).unwrap();
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    let env = &st["predicate"]["buildDefinition"]["externalParameters"]["env"];
    assert_eq!(env["CC"], "clang");
    assert_eq!(env["DEPLOY_TOKEN"], "[REDACTED]");
    assert!(env.get("UNLISTED").is_none());
    assert!(!String::from_utf8_lossy(&payload).contains("hunter2"));
}

#[test]
fn encrypted_keys_and_cosign_import() {
    let s = Scratch::repo();
    let run = into_run(
        s.command(&["keygen", "--output", "enc", "--encrypt"])
            .env("HALLMARK_PASSWORD", "pw")
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let key = std::fs::read_to_string(s.file("enc.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    let wrong = into_run(
        s.command(&[
            "run", "--step", "t", "-p", "src", "--key", "enc.key", "--", "true",
        ])
        .env("HALLMARK_PASSWORD", "nope")
        .output()
        .unwrap(),
    );
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("wrong password"), "{}", wrong.stderr);
    let ok = into_run(
        s.command(&[
            "run", "--step", "t", "-p", "src", "--key", "enc.key", "--", "true",
        ])
        .env("COSIGN_PASSWORD", "pw")
        .output()
        .unwrap(),
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    s.expect(&["verify", "src/a.c", "--key", "enc.pub"], 0);
    // Import the encrypted key as a plain one: same public key.
    let imported = into_run(
        s.command(&["keygen", "--import", "enc.key", "--output", "plain"])
            .env("HALLMARK_PASSWORD", "pw")
            .output()
            .unwrap(),
    );
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    assert_eq!(
        std::fs::read(s.file("plain.pub")).unwrap(),
        std::fs::read(s.file("enc.pub")).unwrap()
    );
    // Never overwrite silently.
    let again = s.expect(&["keygen", "--output", "plain"], 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}

#[test]
fn github_provenance_matches_githubs_attester() {
    let s = keyed();
    // A job without a checkout (it attests downloaded files): the platform's source stands.
    std::fs::remove_dir_all(s.file(".git")).unwrap();
    let mut cmd = s.command(&[
        "attest",
        "--subject",
        "src/a.c",
        "--provenance",
        "--key",
        "k.key",
        "--output",
        "gh.json",
    ]);
    for (k, v) in [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_REF", "refs/tags/v1.0.0"),
        ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        (
            "GITHUB_WORKFLOW_REF",
            "octo/app/.github/workflows/release.yml@refs/tags/v1.0.0",
        ),
        ("GITHUB_RUN_ID", "99"),
        ("GITHUB_RUN_ATTEMPT", "2"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REPOSITORY_ID", "11"),
        ("GITHUB_REPOSITORY_OWNER_ID", "22"),
        ("RUNNER_ENVIRONMENT", "github-hosted"),
    ] {
        cmd.env(k, v);
    }
    let run = into_run(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verify = s.expect(
        &["verify", "src/a.c", "--key", "k.pub", "--format", "json"],
        0,
    );
    let doc: Value = serde_json::from_str(&verify.stdout).unwrap();
    let p = &doc["attestations"][0]["provenance"];
    assert_eq!(
        p["buildType"],
        "https://actions.github.io/buildtypes/workflow/v1"
    );
    assert_eq!(
        p["builderId"],
        "https://github.com/octo/app/.github/workflows/release.yml@refs/tags/v1.0.0"
    );
    assert_eq!(
        p["sourceUri"],
        "git+https://github.com/octo/app@refs/tags/v1.0.0"
    );
}

#[test]
fn attest_by_name_and_digest() {
    let s = keyed();
    let hex = "b".repeat(64);
    std::fs::write(s.file("sbom.json"), r#"{"spdxVersion":"SPDX-2.3"}"#).unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            &format!("ghcr.io/acme/app@sha256:{hex}"),
            "--predicate",
            "sbom.json",
            "--type",
            "https://spdx.dev/Document",
            "--key",
            "k.key",
        ],
        0,
    );
    // An SBOM is verified evidence of its own type (cosign's shorthand), never provenance.
    let digest = format!("sha256:{hex}");
    s.expect(&["verify", &digest, "--key", "k.pub"], 1);
    let verify_sbom = ["verify", &digest, "--key", "k.pub", "--predicate-type"];
    s.expect(&[&verify_sbom[..], &["spdxjson"]].concat(), 0);
    let bad = s.expect(
        &[
            "attest",
            "--subject",
            "nope",
            "--provenance",
            "--key",
            "k.key",
        ],
        2,
    );
    assert!(
        bad.stderr.contains("is neither an existing file"),
        "{}",
        bad.stderr
    );
}

/// The material names a `run --output b.json` recorded.
fn material_names(s: &Scratch, bundle: &str) -> Vec<String> {
    use base64::Engine;
    let b: Value = serde_json::from_str(&std::fs::read_to_string(s.file(bundle)).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&payload).unwrap();
    st["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["name"].as_str().filter(|n| !n.is_empty()))
        .map(str::to_owned)
        .collect()
}

fn run_with(s: &Scratch, extra: &[&str], code: i32) -> common::Run {
    let mut args = vec!["run", "--step", "t", "--key", "k.key", "--output", "b.json"];
    args.extend(extra);
    args.extend(["--", "true"]);
    s.expect(&args, code)
}

/// Attack: `.git` / `.hallmark` directories at any depth were skipped by name. Now only the
/// repository's own `.git` and the store are left out.
#[test]
fn only_the_repository_git_dir_and_the_store_are_left_out() {
    let s = keyed();
    run_with(&s, &["-p", "src"], 0); // creates the store at .hallmark/store
    for dir in ["out/.git", "out/sub/.hallmark", ".hallmark/extra"] {
        std::fs::create_dir_all(s.file(dir)).unwrap();
        std::fs::write(s.file(&format!("{dir}/evil")), "x").unwrap();
    }
    run_with(&s, &["-m", ".", "-p", "src"], 0);
    let names = material_names(&s, "b.json");
    for slipped in [
        "out/.git/evil",
        "out/sub/.hallmark/evil",
        ".hallmark/extra/evil",
    ] {
        assert!(names.iter().any(|n| n == slipped), "{slipped}: {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with(".git/") || n.starts_with(".hallmark/store/")),
        "{names:?}"
    );
}

/// Attack variant: with `--gitignore`, an `.gitignore` an earlier step wrote hid files. Only the
/// committed rules apply; `--exclude-from` is the explicit alternative.
#[test]
fn gitignore_uses_only_the_committed_rules() {
    let s = keyed();
    std::fs::write(s.file(".gitignore"), "*.o\n").unwrap();
    s.git(&["add", ".gitignore"]);
    s.git(&["commit", "-qm", "ignore objects"]);
    std::fs::create_dir(s.file("out")).unwrap();
    for (file, text) in [
        ("out/app.o", "obj"),
        ("out/evil.sh", "x"),
        ("out/.gitignore", "evil.sh\n"),
    ] {
        std::fs::write(s.file(file), text).unwrap();
    }
    run_with(&s, &["-m", "out", "--gitignore", "-p", "src"], 0);
    let names = material_names(&s, "b.json");
    assert_eq!(names, ["out/.gitignore", "out/evil.sh"], "{names:?}");
    std::fs::write(s.file("excludes"), "# build outputs\n*.sh\n").unwrap();
    run_with(
        &s,
        &["-m", "out", "--exclude-from", "excludes", "-p", "src"],
        0,
    );
    let names = material_names(&s, "b.json");
    assert_eq!(names, ["out/.gitignore", "out/app.o"], "{names:?}");
}

/// Attack: `ln -s /etc out; run -p out/hostname` attested /etc/hostname as out/hostname.
#[test]
fn a_symlinked_directory_out_of_the_root_is_refused() {
    let s = keyed();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("hostname"), "host\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), s.file("out")).unwrap();
    let run = run_with(&s, &["-p", "out/hostname"], 2);
    assert!(
        run.stderr.contains("resolves to") && run.stderr.contains("outside"),
        "{}",
        run.stderr
    );
    assert!(!s.file("b.json").exists());
    // A symlinked directory inside the root is fine: hashed, and named, where it really is.
    std::fs::remove_file(s.file("out")).unwrap();
    std::os::unix::fs::symlink("src", s.file("out")).unwrap();
    run_with(&s, &["-m", "out/a.c", "-p", "src"], 0);
    assert_eq!(material_names(&s, "b.json"), ["src/a.c"]);
}

/// Attack variant: two non-UTF-8 names collapsed into one lossy material name.
#[test]
fn non_utf8_file_names_are_refused() {
    use std::os::unix::ffi::OsStrExt;
    let s = keyed();
    std::fs::create_dir(s.file("out")).unwrap();
    for name in [b"app\xff".as_slice(), b"app\xfe"] {
        let path = s.file("out").join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(path, "x").unwrap();
    }
    let run = run_with(&s, &["-m", "out", "-p", "src"], 2);
    assert!(run.stderr.contains("not valid UTF-8"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: rename it, or leave it out with --exclude"),
        "{}",
        run.stderr
    );
}

/// `run --step build -m src -p out` signed with k.key: out/app is the sources concatenated.
fn build_src(s: &Scratch) {
    s.expect(
        &[
            "run",
            "--step",
            "build",
            "-m",
            "src",
            "-p",
            "out",
            "--key",
            "k.key",
            "--",
            "sh",
            "-c",
            "mkdir -p out && cat src/*.c > out/app",
        ],
        0,
    );
}

/// The statement inside a bundle written with `--output`.
fn statement_of(s: &Scratch, bundle: &str) -> Value {
    use base64::Engine;
    let b: Value = serde_json::from_str(&std::fs::read_to_string(s.file(bundle)).unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn the_build_command_never_sees_the_signing_secrets() {
    let s = keyed();
    // An encrypted key, so a password is in play as in CI.
    let out = s
        .command(&["keygen", "--encrypt", "--output", "ci"])
        .env("HALLMARK_PASSWORD", "pw-of-ci-key")
        .output()
        .unwrap();
    assert!(out.status.success());
    let secrets = [
        ("HALLMARK_KEY", "ci.key"),
        ("HALLMARK_PASSWORD", "pw-of-ci-key"),
        ("COSIGN_PASSWORD", "pw-of-ci-key"),
        ("HALLMARK_PKCS11_PIN", "pin-of-the-token"),
        ("COSIGN_KEY", "cosign.key"),
        (
            "SIGSTORE_ID_TOKEN",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig",
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/token"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token"),
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--step", "build", "-p", "out"];
        args.extend_from_slice(extra);
        args.extend(["--", "sh", "-c", "mkdir -p out && env > out/env.txt"]);
        let mut cmd = s.command(&args);
        for (k, v) in secrets {
            cmd.env(k, v);
        }
        into_run(cmd.output().unwrap())
    };
    // HALLMARK_KEY names the key: the step is signed with it, yet the command saw none of it.
    let done = run(&[]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let seen = std::fs::read_to_string(s.file("out/env.txt")).unwrap();
    for (name, value) in secrets {
        assert!(
            !seen.contains(&format!("{name}=")),
            "{name} reached the command"
        );
        assert!(
            !seen.contains(value),
            "the value of {name} reached the command"
        );
    }
    assert!(
        seen.contains("PATH="),
        "the rest of the environment passes: {seen}"
    );
    s.expect(
        &[
            "verify",
            "out/env.txt",
            "--key",
            "ci.pub",
            "--step",
            "build",
        ],
        0,
    );
    // Passing one on is explicit, named insecure, and warns.
    let passed = run(&["--insecure-pass-signing-env", "COSIGN_PASSWORD"]);
    assert_eq!(passed.code, 0, "{}", passed.stderr);
    assert!(
        passed.stderr.contains("warning: passing COSIGN_PASSWORD"),
        "{}",
        passed.stderr
    );
    let seen = std::fs::read_to_string(s.file("out/env.txt")).unwrap();
    assert!(seen.contains("COSIGN_PASSWORD=pw-of-ci-key"));
    assert!(!seen.contains("HALLMARK_PASSWORD="));
    let refused = run(&["--insecure-pass-signing-env", "PATH"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

#[test]
fn secrets_never_reach_the_signed_provenance() {
    let s = keyed();
    let env = [
        ("GPG_PASSPHRASE", "gpg-secret-1"),
        ("CI_JOB_JWT_V2", "jwt-secret-2"),
        ("DOCKER_AUTH_CONFIG", "docker-secret-3"),
        ("MYSQL_PWD", "mysql-secret-4"),
        ("HALLMARK_KEY_PEM", "pem-secret-5"),
        (
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.example/webhook-secret-6",
        ),
        (
            "MIRRORS",
            "https://u:mirror-secret-7@a.example/x https://v:mirror-secret-8@b.example/y",
        ),
        ("CC", "gcc"),
    ];
    let mut args = vec!["run", "--step", "build", "-p", "out", "--key", "k.key"];
    for (name, _) in env {
        args.extend(["--env-allow", name]);
    }
    args.extend([
        "--output",
        "b.json",
        "--",
        "sh",
        "-c",
        "mkdir -p out && echo x > out/app # git clone https://x-access-token:ghp_clone-secret-9@github.com/o/r.git",
        "--password=flag-secret-10",
        "--token",
        "flag-secret-11",
    ]);
    let mut cmd = s.command(&args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = into_run(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let statement = statement_of(&s, "b.json").to_string();
    for n in 1..=11 {
        assert!(
            !statement.contains(&format!("secret-{n}")),
            "secret {n} recorded: {statement}"
        );
    }
    let st: Value = serde_json::from_str(&statement).unwrap();
    let ext = &st["predicate"]["buildDefinition"]["externalParameters"];
    assert_eq!(ext["env"]["CC"], "gcc");
    assert_eq!(
        ext["env"]["MIRRORS"],
        "https://a.example/x https://b.example/y"
    );
    assert_eq!(ext["command"][3], "--password=[REDACTED]");
    assert_eq!(ext["command"][5], "[REDACTED]");
    assert!(
        ext["command"][2]
            .as_str()
            .unwrap()
            .contains("https://github.com/o/r.git")
    );
    assert_eq!(
        st["predicate"]["buildDefinition"]["internalParameters"]["commandRecording"],
        "redacted"
    );
    // `none` records no command at all; `full` records it verbatim (the user's explicit choice).
    s.expect(
        &[
            "run",
            "--step",
            "build",
            "-p",
            "out",
            "--key",
            "k.key",
            "--record-command",
            "none",
            "--output",
            "n.json",
            "--",
            "sh",
            "-c",
            "echo --password=x > out/app",
        ],
        0,
    );
    let st = statement_of(&s, "n.json");
    let ext = &st["predicate"]["buildDefinition"]["externalParameters"];
    assert!(ext.get("command").is_none(), "{ext}");
}

#[test]
fn the_recorded_commit_is_the_checkout_not_what_ci_claims() {
    let s = keyed();
    s.git(&[
        "remote",
        "set-url",
        "origin",
        "https://github.com/acme/app.git",
    ]);
    let head = {
        let out = std::process::Command::new("git")
            .args(["-C", s.path().to_str().unwrap(), "rev-parse", "HEAD"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let github = |cmd: &mut std::process::Command, sha: &str| {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_SHA", sha)
            .env("GITHUB_RUN_ID", "42")
            .env(
                "GITHUB_WORKFLOW_REF",
                "acme/app/.github/workflows/ci.yml@refs/heads/main",
            );
    };
    // CI ran for main's commit, but the job checked out something else (here: HEAD is not it).
    let claimed = "0000000000000000000000000000000000000bad";
    let mut cmd = s.command(&[
        "run",
        "--step",
        "build",
        "-m",
        "src",
        "-p",
        "out",
        "--key",
        "k.key",
        "--output",
        "b.json",
        "--",
        "sh",
        "-c",
        "mkdir -p out && cat src/*.c > out/app",
    ]);
    github(&mut cmd, claimed);
    let run = into_run(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let st = statement_of(&s, "b.json");
    let source = &st["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(source["digest"]["gitCommit"], head.as_str(), "{source}");
    assert_eq!(source["annotations"]["ciCommit"], claimed, "{source}");
    std::fs::write(s.file("policy.yaml"), POLICY).unwrap();
    let denied = s.expect(&["verify", "out/app", "--policy", "policy.yaml"], 1);
    assert!(
        denied.stdout.contains("source.commit-mismatch"),
        "{}",
        denied.stdout
    );
    assert!(denied.stdout.contains(claimed), "{}", denied.stdout);
    // The genuine run: CI's commit is the checkout; allowed, and the CI names repository and ref.
    let mut cmd = s.command(&[
        "run",
        "--step",
        "build",
        "-m",
        "src",
        "-p",
        "out",
        "--key",
        "k.key",
        "--output",
        "g.json",
        "--",
        "sh",
        "-c",
        "mkdir -p out && cat src/*.c > out/app && echo ok >> out/app",
    ]);
    github(&mut cmd, &head);
    let run = into_run(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let st = statement_of(&s, "g.json");
    let source = &st["predicate"]["buildDefinition"]["resolvedDependencies"][0];
    assert_eq!(
        source["uri"],
        "git+https://github.com/acme/app@refs/heads/main"
    );
    assert!(
        source
            .get("annotations")
            .is_none_or(|a| a.get("ciCommit").is_none())
    );
    s.expect(&["verify", "out/app", "--policy", "policy.yaml"], 0);
}

#[test]
fn a_dirty_source_is_shown_and_denied_unless_the_policy_allows_it() {
    let s = keyed();
    std::fs::write(s.file("src/a.c"), "int a(void) { return 666; }\n").unwrap();
    build_src(&s);
    let json = s.expect(
        &["verify", "out/app", "--key", "k.pub", "--format", "json"],
        0,
    );
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["attestations"][0]["provenance"]["sourceDirty"], true);
    let inspect = s.expect(&["inspect", "out/app", "--key", "k.pub"], 0);
    assert!(inspect.stdout.contains("DIRTY"), "{}", inspect.stdout);
    std::fs::write(s.file("policy.yaml"), POLICY).unwrap();
    let denied = s.expect(&["verify", "out/app", "--policy", "policy.yaml"], 1);
    assert!(denied.stdout.contains("source.dirty"), "{}", denied.stdout);
    std::fs::write(
        s.file("dirty-ok.yaml"),
        format!("{POLICY}allowDirtySource: true\n"),
    )
    .unwrap();
    s.expect(&["verify", "out/app", "--policy", "dirty-ok.yaml"], 0);
}

/// One build step signed by k.pub, read from the source.
const POLICY: &str =
    "apiVersion: hallmark.dev/policy/v1\nsteps:\n  build: {signers: [k.pub], inputs: [source]}\n";

#[test]
fn whole_job_provenance_refuses_a_checkout_of_another_commit() {
    let s = keyed();
    let main = "0000000000000000000000000000000000000001";
    let out = s
        .command(&[
            "attest",
            "--subject",
            "src/a.c",
            "--provenance",
            "--key",
            "k.key",
            "--no-store",
            "--output",
            "job.json",
        ])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_REF", "refs/heads/main")
        .env("GITHUB_SHA", main)
        .env(
            "GITHUB_WORKFLOW_REF",
            "acme/app/.github/workflows/r.yml@refs/heads/main",
        )
        .env("GITHUB_RUN_ID", "5")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .output()
        .unwrap();
    let run = into_run(out);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not what the CI platform ran for"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: record the build with `hallmark run`"),
        "{}",
        run.stderr
    );
    assert!(!s.file("job.json").exists());
}

#[test]
fn a_literal_identity_token_is_refused_by_run() {
    let s = keyed();
    let run = s.expect(
        &[
            "run",
            "--step",
            "b",
            "-p",
            "src",
            "--keyless",
            "--identity-token",
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig",
            "--",
            "true",
        ],
        2,
    );
    assert!(
        run.stderr.contains("readable by the build command"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_tracked_file_hidden_from_git_status_makes_the_source_dirty() {
    let s = keyed();
    std::fs::write(s.file("src/a.c"), "int a(void) { backdoor(); }\n").unwrap();
    s.git(&["update-index", "--skip-worktree", "src/a.c"]);
    build_src(&s);
    std::fs::write(s.file("policy.yaml"), POLICY).unwrap();
    let denied = s.expect(&["verify", "out/app", "--policy", "policy.yaml"], 1);
    assert!(denied.stdout.contains("source.dirty"), "{}", denied.stdout);
    assert!(
        denied.stdout.contains("chain.unattested-input"),
        "{}",
        denied.stdout
    );
    // --require-clean refuses it before the command runs.
    let refused = s.expect(
        &[
            "run",
            "--step",
            "build",
            "-m",
            "src",
            "-p",
            "out",
            "--key",
            "k.key",
            "--require-clean",
            "--",
            "true",
        ],
        2,
    );
    assert!(
        refused.stderr.contains("uncommitted changes"),
        "{}",
        refused.stderr
    );
}

#[test]
fn programs_planted_in_git_config_never_see_the_signing_secrets() {
    let s = keyed();
    // An earlier build step (same user) plants a program for git to run.
    let loot = s.file("loot.txt");
    let hook = s.file("hook.sh");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\nenv >> {}\nexit 1\n", loot.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.git(&["config", "core.fsmonitor", hook.to_str().unwrap()]);
    let out = s
        .command(&[
            "run",
            "--step",
            "test",
            "-m",
            "src",
            "-p",
            "out",
            "--key",
            "k.key",
            "--",
            "sh",
            "-c",
            "mkdir -p out && cat src/*.c > out/app",
        ])
        .env("HALLMARK_PASSWORD", "pw-planted")
        .env("SIGSTORE_ID_TOKEN", "token-planted")
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-planted")
        .output()
        .unwrap();
    let run = into_run(out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let seen = std::fs::read_to_string(&loot).unwrap_or_default();
    assert!(
        !seen.contains("planted"),
        "a planted git program saw: {seen}"
    );
}

/// npm's provenance names a package by SHA-512 only: `verify FILE` hashes the file with SHA-512
/// too, finds the attestation in the store or a bundle file by it, and allows it; the same file
/// changed by a byte is denied.
#[test]
fn provenance_naming_a_file_by_sha512_only_verifies_it() {
    let s = keyed();
    std::fs::write(s.file("pkg.tgz"), b"package bytes").unwrap();
    let hex: String = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, b"package bytes")
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let subject = format!("pkg.tgz@sha512:{hex}");
    s.expect(
        &[
            "attest",
            "--subject",
            &subject,
            "--provenance",
            "--key",
            "k.key",
        ],
        0,
    );
    s.expect(&["verify", "pkg.tgz", "--key", "k.pub"], 0);
    // The same from a bundle file alone (an empty store).
    s.expect(
        &[
            "attest",
            "--subject",
            &subject,
            "--provenance",
            "--key",
            "k.key",
            "--output",
            "npm.json",
            "--no-store",
        ],
        0,
    );
    let empty = tempfile::tempdir().unwrap();
    let store = empty.path().to_str().unwrap();
    let from_file = [
        "verify", "pkg.tgz", "--key", "k.pub", "--bundle", "npm.json", "--store", store,
    ];
    s.expect(&from_file, 0);
    std::fs::write(s.file("pkg.tgz"), b"package bytez").unwrap();
    let denied = s.expect(&[&from_file[..], &["--format", "json"]].concat(), 1);
    let doc: serde_json::Value = serde_json::from_str(&denied.stdout).unwrap();
    assert_eq!(doc["attestations"][0]["code"], "statement.subject", "{doc}");
    s.expect(&["verify", "pkg.tgz", "--key", "k.pub"], 1);
}

#[test]
fn provenance_naming_a_file_by_sha384_only_verifies_it() {
    let s = keyed();
    std::fs::write(s.file("fw.bin"), b"firmware bytes").unwrap();
    let hex: String = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, b"firmware bytes")
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let subject = format!("fw.bin@sha384:{hex}");
    s.expect(
        &[
            "attest",
            "--subject",
            &subject,
            "--provenance",
            "--key",
            "k.key",
        ],
        0,
    );
    s.expect(&["verify", "fw.bin", "--key", "k.pub"], 0);
    s.expect(&["verify", &format!("sha384:{hex}"), "--key", "k.pub"], 0);
    // One changed byte: the SHA-384 no longer matches, and nothing else names the file.
    std::fs::write(s.file("fw.bin"), b"firmware bytez").unwrap();
    s.expect(&["verify", "fw.bin", "--key", "k.pub"], 1);
}
