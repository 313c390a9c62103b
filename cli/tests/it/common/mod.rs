//! Shared helpers for the CLI integration tests: a scratch git repository and a way to run the
//! real `hallmark` binary in it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Scratch {
    /// A git repository with `src/a.c` and `src/b.c` committed, as in the acceptance list.
    pub fn repo() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/a.c"), "int a(void) { return 1; }\n").unwrap();
        std::fs::write(dir.path().join("src/b.c"), "int b(void) { return 2; }\n").unwrap();
        git(dir.path(), &["init", "-q"]);
        git(
            dir.path(),
            &[
                "remote",
                "add",
                "origin",
                "https://ci-token:s3cr3t@git.example/acme/app.git",
            ],
        );
        git(dir.path(), &["add", "src"]);
        git(dir.path(), &["commit", "-qm", "sources"]);
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git in the repository (as a fixed author), asserting success.
    pub fn git(&self, args: &[&str]) {
        git(self.path(), args);
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallmark"));
        cmd.args(args).current_dir(self.path());
        // The trust-root cache of this scratch directory, never the user's.
        cmd.env("HALLMARK_CACHE_DIR", self.path().join(".hallmark-cache"));
        for var in [
            "HALLMARK_STORE",
            "HALLMARK_REGISTRY",
            "HALLMARK_REGISTRY_USERNAME",
            "HALLMARK_REGISTRY_PASSWORD",
            "DOCKER_CONFIG",
            "SIGSTORE_ID_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "HALLMARK_KEY",
            "HALLMARK_PASSWORD",
            "COSIGN_PASSWORD",
            "GITHUB_ACTIONS",
            "GITLAB_CI",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let run = into_run(self.command(args).output().unwrap());
        record_json(args, &run);
        run
    }

    /// Runs and asserts the exit code, showing the output on failure.
    pub fn expect(&self, args: &[&str], code: i32) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "hallmark {args:?}\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// keygen k + the two-step build of the acceptance list.
    pub fn build_and_package(&self) {
        self.expect(&["keygen", "--output", "k"], 0);
        self.expect(
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
        self.expect(
            &[
                "run",
                "--step",
                "package",
                "-m",
                "out",
                "-p",
                "dist",
                "--key",
                "k.key",
                "--",
                "sh",
                "-c",
                "mkdir -p dist && tar -cf dist/app.tar out",
            ],
            0,
        );
    }
}

pub fn into_run(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The stable code of a `hallmark verify-bundle` rejection (`REJECTED: ARTIFACT: CODE: why`).
pub fn rejection_code(output: &str) -> Option<&str> {
    let line = output.lines().find_map(|l| l.strip_prefix("REJECTED: "))?;
    line.split(": ").nth(1)
}

/// The stable code of an error that stopped a command (`hallmark: error: CODE: why`).
pub fn error_code(output: &str) -> Option<&str> {
    let line = output
        .lines()
        .find_map(|l| l.strip_prefix("hallmark: error: "))?;
    line.split(": ").next()
}

/// The `code` of each rejected attestation in a `hallmark verify --format json` document.
pub fn rejection_codes(json: &serde_json::Value) -> Vec<String> {
    let attestations = json["attestations"].as_array().into_iter().flatten();
    let rejected = attestations.filter(|a| a["verified"] == false);
    rejected
        .filter_map(|a| a["code"].as_str().map(str::to_owned))
        .collect()
}

/// The schema a command's JSON output follows (docs/schemas), if it was asked for JSON.
fn json_schema(args: &[&str]) -> Option<&'static str> {
    let json = args.windows(2).any(|w| w == ["--format", "json"]);
    match args {
        ["verify", ..] if json => Some("verify"),
        ["inspect", ..] if json => Some("inspect"),
        ["sbom", ..] if json => Some("sbom"),
        ["trust", ..] if json => Some("trust"),
        ["verify-bundle", ..] if json => Some("verify-bundle"),
        ["policy", "eval", ..] => Some("policy-decision"),
        ["bundle", "inspect", ..] if json => Some("evidence-bundle-inspect"),
        ["bundle", "import", ..] if json => Some("evidence-bundle-import"),
        ["index", "add", ..] if json => Some("index-add"),
        ["trace", ..] if json => Some("trace"),
        ["audit", ..] if json => Some("audit"),
        _ => None,
    }
}

/// With `HALLMARK_JSON_OUT` set (the test command sets it), keeps every JSON document a test
/// made `hallmark` write, as `SCHEMA-N.json`, for the test command to validate each against its
/// schema in docs/schemas once the suite has run.
pub fn record_json(args: &[&str], run: &Run) {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let (Some(dir), Some(schema)) = (std::env::var_os("HALLMARK_JSON_OUT"), json_schema(args))
    else {
        return;
    };
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = format!("{schema}-{}-{n}.json", std::process::id());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(std::path::Path::new(&dir).join(file), &run.stdout).unwrap();
}
