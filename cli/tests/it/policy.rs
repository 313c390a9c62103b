//! Policies: the library's own tests, `verify --policy` decisions, and failing closed.

use std::path::PathBuf;

use crate::common::Scratch;

fn library() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../policies")
        .display()
        .to_string()
}

fn policy_dir(s: &Scratch, name: &str, rego: &str, data: &str) -> String {
    let dir = s.file(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.rego"), rego).unwrap();
    if !data.is_empty() {
        std::fs::write(dir.join("data.json"), data).unwrap();
    }
    dir.display().to_string()
}

#[test]
fn the_policy_library_tests_pass_and_a_failing_test_fails() {
    let s = Scratch::repo();
    let run = s.expect(&["policy", "test", &library()], 0);
    assert!(run.stdout.contains(" passed, 0 failed"), "{}", run.stdout);
    let broken = policy_dir(
        &s,
        "broken",
        "package t\n\nimport rego.v1\n\ntest_wrong if {\n\t1 == 2\n}\n",
        "",
    );
    let run = s.expect(&["policy", "test", &broken], 1);
    assert!(
        run.stdout.contains("FAIL data.t.test_wrong"),
        "{}",
        run.stdout
    );
}

#[test]
fn verify_with_the_library_allows_and_names_missing_steps() {
    let s = Scratch::repo();
    s.build_and_package();
    // The library's modules (no tests) in one file each, plus per-case data.
    let modules: Vec<(String, String)> =
        std::fs::read_dir(PathBuf::from(library()).join("hallmark"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rego"))
            .filter(|p| !p.display().to_string().ends_with("_test.rego"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
    let library_dir = |name: &str, data: &str| {
        let dir = policy_dir(&s, name, "", data);
        std::fs::remove_file(PathBuf::from(&dir).join("policy.rego")).unwrap();
        for (file, text) in &modules {
            std::fs::write(PathBuf::from(&dir).join(file), text).unwrap();
        }
        dir
    };
    let ok = library_dir(
        "ok",
        r#"{"hallmark_config": {"required_steps": ["package"]}}"#,
    );
    let run = s.expect(
        &["verify", "dist/app.tar", "--key", "k.pub", "--policy", &ok],
        0,
    );
    assert!(
        run.stderr.contains("builder.self-asserted"),
        "a warning, not a denial: {}",
        run.stderr
    );
    let strict = library_dir(
        "strict",
        r#"{"hallmark_config": {"required_steps": ["package", "test"]}}"#,
    );
    let run = s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--policy",
            &strict,
        ],
        1,
    );
    assert!(
        run.stdout
            .contains("policy: step.missing: required step \"test\""),
        "{}",
        run.stdout
    );
    let builders = library_dir(
        "builders",
        r#"{"hallmark_config": {"trusted_builders": ["https://ci.example/b"]}}"#,
    );
    let run = s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--policy",
            &builders,
        ],
        1,
    );
    assert!(
        run.stdout.contains("builder.untrusted") && run.stdout.contains("self-asserted"),
        "{}",
        run.stdout
    );
}

#[test]
fn policies_fail_closed() {
    let s = Scratch::repo();
    s.build_and_package();
    let no_deny = policy_dir(
        &s,
        "nodeny",
        "package hallmark\n\nimport rego.v1\n\nwarn contains \"x\" if false\n",
        "",
    );
    let run = s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--policy",
            &no_deny,
        ],
        1,
    );
    assert!(run.stdout.contains("policy.undefined"), "{}", run.stdout);
    let broken = policy_dir(
        &s,
        "syntax",
        "package hallmark\n\ndeny contains v if {\n",
        "",
    );
    let run = s.expect(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--policy",
            &broken,
        ],
        1,
    );
    assert!(run.stdout.contains("policy.error"), "{}", run.stdout);
    // A deny that is not a set of findings (a boolean, an object) is not "no findings".
    for (name, rego) in [
        (
            "boolean",
            "package hallmark\n\nimport rego.v1\n\ndefault deny := false\n",
        ),
        (
            "object",
            "package hallmark\n\nimport rego.v1\n\ndeny := {\"code\": \"x\"}\n",
        ),
    ] {
        let dir = policy_dir(&s, name, rego, "");
        let run = s.expect(
            &["verify", "dist/app.tar", "--key", "k.pub", "--policy", &dir],
            1,
        );
        assert!(
            run.stdout.contains("policy.error") && run.stdout.contains("not a set"),
            "{name}: {}",
            run.stdout
        );
    }
    // A declarative policy dropped into a Rego directory would configure nothing: refused.
    let dir = policy_dir(
        &s,
        "mixed",
        "package hallmark\n\nimport rego.v1\n\ndeny contains x if false\n",
        "",
    );
    std::fs::write(
        PathBuf::from(&dir).join("release.yaml"),
        "apiVersion: hallmark.dev/policy/v1\nsteps: {build: {inputs: [source]}}\n",
    )
    .unwrap();
    let run = s.expect(
        &["verify", "dist/app.tar", "--key", "k.pub", "--policy", &dir],
        2,
    );
    assert!(
        run.stderr.contains("declarative policy inside")
            && run
                .stderr
                .contains("hint: pass a declarative policy itself with --policy FILE"),
        "{}",
        run.stderr
    );
    // ... also as JSON, or YAML with the key quoted.
    for (file, text) in [
        (
            "release.json",
            "{\"apiVersion\": \"hallmark.dev/policy/v1\", \"steps\": {}}",
        ),
        ("quoted.yaml", "\"apiVersion\": hallmark.dev/policy/v1\n"),
    ] {
        std::fs::remove_file(PathBuf::from(&dir).join("release.yaml")).ok();
        std::fs::write(PathBuf::from(&dir).join(file), text).unwrap();
        let run = s.expect(
            &["verify", "dist/app.tar", "--key", "k.pub", "--policy", &dir],
            2,
        );
        assert!(
            run.stderr.contains("declarative policy inside"),
            "{file}: {}",
            run.stderr
        );
        std::fs::remove_file(PathBuf::from(&dir).join(file)).unwrap();
    }
}

#[test]
fn caller_facts_reach_the_policy() {
    let s = Scratch::repo();
    s.build_and_package();
    let dir = policy_dir(
        &s,
        "facts",
        "package hallmark\n\nimport rego.v1\n\ndeny contains v if {\n\tinput.context.facts.environment != \"staging\"\n\tv := {\"code\": \"env.wrong\", \"msg\": sprintf(\"environment %v\", [input.context.facts.environment])}\n}\n",
        "",
    );
    let verify = |fact: &str, code: i32| {
        s.expect(
            &[
                "verify",
                "dist/app.tar",
                "--key",
                "k.pub",
                "--policy",
                &dir,
                "--fact",
                fact,
            ],
            code,
        )
    };
    verify("environment=staging", 0);
    let run = verify("environment=prod", 1);
    assert!(
        run.stdout.contains("env.wrong: environment prod"),
        "{}",
        run.stdout
    );
    let run = verify("no-equals-sign", 2);
    assert!(run.stderr.contains("KEY=VALUE"), "{}", run.stderr);
}
