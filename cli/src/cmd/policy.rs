//! `hallmark policy test|eval`: policies and their tests.

use std::path::PathBuf;

use anyhow::{Context, Result};
use hallmark_verifier::policy::{Policy, run_tests};

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
        PolicyCommand::Eval { policy, input } => {
            let policy = Policy::load(&policy, false)?;
            let input: serde_json::Value =
                serde_json::from_slice(&read_limited(&input, 64 * 1024 * 1024)?)
                    .with_context(|| format!("{} is not JSON", input.display()))?;
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
