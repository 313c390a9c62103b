//! `hallmark demo`: the whole story on the embedded default (a local store, no services).
//!
//! It runs this same binary, command by command, in a scratch directory, shows each command and
//! checks each exit code, so what it demonstrates is exactly what users run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::Outcome;

/// Arguments of `hallmark demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run in DIR (created; must be empty) and keep it, instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const MAIN_C: &str = "#include <stdio.h>\nint helper(void);\nint main(void) { printf(\"%d\\n\", helper()); return 0; }\n";
const UTIL_C: &str = "int helper(void) { return 42; }\n";
const RELEASE_POLICY: &str = "apiVersion: hallmark.dev/policy/v1
steps:
  build:   {signers: [k.pub], inputs: [source]}
  package: {signers: [k.pub], inputs: [build]}
sources: {repositories: [https://git.example/acme/toy]}
maxAge: 1d
";

struct Demo {
    exe: PathBuf,
    dir: PathBuf,
}

impl Demo {
    /// Runs `hallmark ARGS` in the demo directory and checks its exit code.
    fn hallmark(&self, args: &[&str], expect: i32, why: &str) -> Result<()> {
        println!("\n# {why}");
        println!(
            "$ hallmark {}",
            args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
        );
        let status = Command::new(&self.exe)
            .args(args)
            .current_dir(&self.dir)
            .env_remove("HALLMARK_STORE")
            .env_remove("HALLMARK_KEY")
            .env_remove("HALLMARK_PASSWORD")
            .status()
            .with_context(|| format!("running {}", self.exe.display()))?;
        let code = status.code().unwrap_or(-1);
        println!("(exit {code})");
        if code != expect {
            bail!(
                "demo step failed: `hallmark {}` exited {code}, expected {expect}",
                args.join(" ")
            );
        }
        Ok(())
    }
}

fn quote(arg: &str) -> String {
    if arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:@".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args([
            "-c",
            "user.name=Hallmark Demo",
            "-c",
            "user.email=demo@localhost",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `hallmark demo`.
pub fn run(args: Args) -> Result<Outcome> {
    let temp;
    let dir = match args.dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            if std::fs::read_dir(&dir)?.next().is_some() {
                bail!(
                    "{} is not empty; the demo needs an empty directory",
                    dir.display()
                );
            }
            dir
        }
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_path_buf()
        }
    };
    let demo = Demo {
        exe: std::env::current_exe().context("locating the hallmark binary")?,
        dir: dir.clone(),
    };
    println!("Hallmark demo in {}", dir.display());
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(dir.join("src/main.c"), MAIN_C)?;
    std::fs::write(dir.join("src/util.c"), UTIL_C)?;
    if git(&dir, &["init", "-q"])
        && git(
            &dir,
            &[
                "remote",
                "add",
                "origin",
                "https://git.example/acme/toy.git",
            ],
        )
        && git(&dir, &["add", "src"])
        && git(&dir, &["commit", "-qm", "toy sources"])
    {
        println!("A git repository with two C files in src/ (commit recorded as the source).");
    } else {
        println!("Two C files in src/ (git is not available, so no source commit is recorded).");
    }

    demo.hallmark(
        &["keygen", "--output", "k"],
        0,
        "A signing key for the build.",
    )?;
    demo.hallmark(
        &["keygen", "--output", "other"],
        0,
        "Someone else's key, for contrast.",
    )?;
    demo.hallmark(
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
        "Step 1, compile: materials src/, product out/app.",
    )?;
    demo.hallmark(
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
        "Step 2, package: consumes out/, produces dist/app.tar.",
    )?;
    demo.hallmark(
        &[
            "verify",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--step",
            "package",
        ],
        0,
        "The release manager verifies the package: allowed.",
    )?;
    demo.hallmark(
        &[
            "verify", "out/app", "--key", "k.pub", "--step", "build", "--format", "json",
        ],
        0,
        "The same for the compiled binary, as JSON for machines.",
    )?;
    std::fs::write(dir.join("release.yaml"), RELEASE_POLICY)?;
    println!("\n# A release policy, ten lines instead of Rego (release.yaml):\n{RELEASE_POLICY}");
    demo.hallmark(
        &["verify", "dist/app.tar", "--policy", "release.yaml"],
        0,
        "Whole-pipeline check: every step present, signed by its key, every input accounted for.",
    )?;
    demo.hallmark(
        &["inspect", "dist/app.tar", "--key", "k.pub"],
        0,
        "The provenance chain behind the package, as a tree.",
    )?;
    demo.hallmark(
        &["keygen", "--output", "verifier"],
        0,
        "A key for the verifier itself.",
    )?;
    demo.hallmark(
        &[
            "verify",
            "dist/app.tar",
            "--policy",
            "release.yaml",
            "--emit-vsa",
            "app.vsa.json",
            "--vsa-signing-key",
            "verifier.key",
        ],
        0,
        "The decision, signed as a SLSA verification summary (VSA) and stored with the package.",
    )?;
    demo.hallmark(
        &[
            "verify",
            "dist/app.tar",
            "--accept-vsa-from",
            "verifier.pub",
            "--policy",
            "release.yaml",
        ],
        0,
        "Downstream (e.g. at deployment), a trusted VSA for the same policy is enough.",
    )?;
    std::fs::write(dir.join("notes.txt"), "not from any build step\n")?;
    demo.hallmark(
        &[
            "run",
            "--step",
            "package",
            "-m",
            "out",
            "-m",
            "notes.txt",
            "-p",
            "release",
            "--key",
            "k.key",
            "--",
            "sh",
            "-c",
            "mkdir -p release && tar -cf release/app.tar out notes.txt",
        ],
        0,
        "A second package that also slips in notes.txt, a file no attested step produced ...",
    )?;
    demo.hallmark(
        &["verify", "release/app.tar", "--policy", "release.yaml"],
        1,
        "... is denied by the policy, naming the step and the file (chain.unattested-input).",
    )?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("dist/app.tar"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"x"))
        .context("tampering with dist/app.tar")?;
    println!("\n# Someone appends a byte to dist/app.tar ...");
    demo.hallmark(
        &["verify", "dist/app.tar", "--key", "k.pub"],
        1,
        "... and verification denies it.",
    )?;
    demo.hallmark(
        &["verify", "out/app", "--key", "other.pub"],
        1,
        "An attestation signed by an untrusted key is denied too.",
    )?;
    println!(
        "\nDemo complete: steps recorded, signed and stored in .hallmark/store; a policy allowed the chain, a VSA \
         recorded the decision; every denial as expected."
    );
    Ok(Outcome::Success)
}
