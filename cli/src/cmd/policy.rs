//! `hallmark policy test|eval|explain|init|diff`: policies, their tests, and policies derived
//! from a CI pipeline.

use std::path::PathBuf;

use anyhow::{Context, Result};
use hallmark_verifier::policy::{Policy, add_facts, pipeline, run_tests};

use crate::Outcome;
use crate::signing::read_limited;

/// The `schemaVersion` of `policy eval`'s output (docs/schemas/policy-decision-v1.json).
pub const POLICY_DECISION_SCHEMA: &str = "https://hallmark.dev/schemas/policy-decision/v1";

/// Arguments of `hallmark policy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

/// Policy subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Run every `test_*` rule under DIR (as `opa test`); exit 1 when one fails.
    Test {
        /// The policy directory.
        dir: PathBuf,
    },
    /// Evaluate a policy against an input document (for debugging); prints deny and warn.
    Eval {
        /// The policy file or directory.
        #[arg(long)]
        policy: PathBuf,
        /// The input document (JSON): docs/policy-input.md.
        #[arg(long)]
        input: PathBuf,
    },
    /// Print the Rego a declarative policy means (its configuration module and the library
    /// rules it configures), and the keys it trusts.
    Explain {
        /// The declarative policy file (apiVersion hallmark.dev/policy/v1).
        file: PathBuf,
    },
    /// Write a declarative release policy derived from a CI pipeline: one step per job that
    /// records a step, each step's inputs from the job graph, the source repository and refs,
    /// and the keyless identity the platform puts in the certificates (docs/policy-init.md).
    ///
    /// Examples:
    ///   hallmark policy init --from .gitlab-ci.yml --output release.yaml
    ///   hallmark policy init --from .github/workflows/release.yml --job publish --ref refs/tags/v1.2.0
    Init {
        #[command(flatten)]
        from: FromArgs,
        /// Write the policy here instead of stdout (an existing file is refused without --force).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace an existing --output file.
        #[arg(long)]
        force: bool,
    },
    /// Report drift between a CI pipeline and a policy written for it; exit 1 when they differ.
    ///
    /// Example: hallmark policy diff --from .gitlab-ci.yml release.yaml
    Diff {
        #[command(flatten)]
        from: FromArgs,
        /// The declarative policy to compare.
        policy: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: DiffFormat,
    },
}

/// `policy diff` output.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DiffFormat {
    /// Lines for people.
    Human,
    /// One JSON document.
    Json,
}

/// Where a derived policy comes from, and what the pipeline file does not say.
#[derive(Debug, clap::Args)]
pub struct FromArgs {
    /// The pipeline: a .gitlab-ci.yml or a GitHub Actions workflow file.
    #[arg(long, value_name = "PIPELINE")]
    pub from: PathBuf,
    /// The source repository (https://HOST/GROUP/PROJECT); default: the pipeline's git remote
    /// `origin`, credentials stripped.
    #[arg(long, value_name = "URL")]
    pub repository: Option<String>,
    /// A protected ref releases are built from (repeatable; globs such as refs/tags/v* allowed).
    #[arg(long = "ref", value_name = "REF", default_value = "refs/heads/main")]
    pub refs: Vec<String>,
    /// The OIDC issuer in the certificates (default: https://gitlab.com for GitLab,
    /// https://token.actions.githubusercontent.com for GitHub; a self-managed GitLab's URL).
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// The pipeline file's path in the repository, as the certificate identity names it
    /// (default: .gitlab-ci.yml; .github/workflows/FILE).
    #[arg(long, value_name = "PATH")]
    pub config_path: Option<String>,
    /// Only this job and the jobs it takes artifacts from (repeatable).
    #[arg(long, value_name = "JOB")]
    pub job: Vec<String>,
}

impl FromArgs {
    fn derive(&self) -> Result<pipeline::Derived> {
        let bytes = read_limited(&self.from, pipeline::MAX_PIPELINE_BYTES as u64)?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8", self.from.display()))?;
        let repository = match &self.repository {
            Some(r) => r.clone(),
            None => {
                let r = origin(&self.from).with_context(|| {
                    format!(
                        "no --repository given and no git remote origin for {}; pass --repository https://HOST/GROUP/PROJECT",
                        self.from.display()
                    )
                })?;
                eprintln!("note: repository {r} (from the git remote origin)");
                r
            }
        };
        let options = pipeline::Options {
            repository,
            refs: self.refs.clone(),
            issuer: self.issuer.clone(),
            config_path: self.config_path.clone(),
            file_name: self
                .from
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            jobs: self.job.clone(),
        };
        let derived = pipeline::derive(&text, &options)
            .with_context(|| format!("deriving a policy from {}", self.from.display()))?;
        for n in &derived.notes {
            match &n.job {
                Some(job) => eprintln!("note: job {job:?}: {}", n.message),
                None => eprintln!("note: {}", n.message),
            }
        }
        Ok(derived)
    }
}

/// The https URL of the git remote `origin` of the repository holding `file`, credentials and
/// `.git` stripped; scp-style `git@host:group/project.git` becomes `https://host/group/project`.
fn origin(file: &std::path::Path) -> Result<String> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["remote", "get-url", "origin"])
        .output()
        .context("running git")?;
    anyhow::ensure!(out.status.success(), "git remote get-url origin failed");
    let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let url = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        format!("https://{rest}")
    } else if let Some((user_host, path)) = url.split_once(':').filter(|(h, _)| !h.contains('/')) {
        let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
        format!("https://{host}/{path}")
    } else if let Some(rest) = url.strip_prefix("ssh://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        format!("https://{rest}")
    } else {
        anyhow::bail!("remote origin {url:?} is not an https or ssh URL")
    };
    Ok(url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_owned())
}

/// Runs `hallmark policy`.
pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        PolicyCommand::Test { dir } => {
            let outcomes = run_tests(&dir)?;
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            for o in &outcomes {
                if o.passed {
                    println!("PASS {}", o.name);
                } else {
                    println!("FAIL {}: {}", o.name, o.detail);
                }
            }
            println!(
                "policy tests: {} passed, {failed} failed",
                outcomes.len() - failed
            );
            Ok(if failed == 0 && !outcomes.is_empty() {
                Outcome::Success
            } else {
                Outcome::Denied
            })
        }
        PolicyCommand::Explain { file } => {
            let policy = Policy::load(&file, false)?;
            if policy.modules().len() == 1 || !policy.path().is_file() {
                anyhow::bail!(
                    "{} is Rego already; explain takes a declarative policy",
                    file.display()
                );
            }
            println!("# Policy digest {} (recorded in VSAs).", policy.digest());
            for key in policy.keys() {
                println!("# Trusts key {} from {}.", key.keyid(), key.origin());
            }
            for (identity, issuer) in policy.identities() {
                println!("# Trusts the keyless identity {identity} (issuer {issuer}).");
            }
            for (name, text) in policy.modules() {
                println!("\n# ---- module {name} ----\n{}", text.trim_end());
            }
            Ok(Outcome::Success)
        }
        PolicyCommand::Init {
            from,
            output,
            force,
        } => {
            let derived = from.derive()?;
            let yaml = derived.to_yaml(&from.from.display().to_string());
            match output {
                None => print!("{yaml}"),
                Some(path) => {
                    if path.exists() && !force {
                        anyhow::bail!(
                            "{} exists; pass --force to replace it, or compare with `hallmark policy diff`",
                            path.display()
                        );
                    }
                    std::fs::write(&path, yaml)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {} ({} steps)", path.display(), derived.jobs.len());
                }
            }
            Ok(Outcome::Success)
        }
        PolicyCommand::Diff {
            from,
            policy,
            format,
        } => {
            let derived = from.derive()?;
            let bytes = read_limited(&policy, pipeline::MAX_PIPELINE_BYTES as u64)?;
            let text = String::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8", policy.display()))?;
            let drift = pipeline::diff(&derived, &text)
                .with_context(|| format!("comparing with {}", policy.display()))?;
            match format {
                DiffFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "pipeline": from.from.display().to_string(),
                        "policy": policy.display().to_string(),
                        "drift": drift,
                    }))?
                ),
                DiffFormat::Human if drift.is_empty() => println!(
                    "no drift: {} matches {}",
                    policy.display(),
                    from.from.display()
                ),
                DiffFormat::Human => {
                    for d in &drift {
                        println!("drift {}: {}", d.field, d.message);
                        if let Some(v) = &d.pipeline {
                            println!("    pipeline: {v}");
                        }
                        if let Some(v) = &d.policy {
                            println!("    policy:   {v}");
                        }
                    }
                }
            }
            Ok(if drift.is_empty() {
                Outcome::Success
            } else {
                Outcome::Denied
            })
        }
        PolicyCommand::Eval { policy, input } => {
            let policy = Policy::load(&policy, false)?;
            let mut input: serde_json::Value =
                serde_json::from_slice(&read_limited(&input, 64 * 1024 * 1024)?)
                    .with_context(|| format!("{} is not JSON", input.display()))?;
            // A saved input has the derived facts already; a hand-written one gets them, as a
            // real decision's input has them (recomputing them changes nothing).
            add_facts(&mut input);
            let decision = policy.evaluate(&input);
            let mut doc = serde_json::to_value(&decision)?;
            if let Some(obj) = doc.as_object_mut() {
                obj.insert("schemaVersion".into(), POLICY_DECISION_SCHEMA.into());
            }
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(if decision.deny.is_empty() {
                Outcome::Success
            } else {
                Outcome::Denied
            })
        }
    }
}
