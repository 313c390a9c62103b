//! `hallmark policy test|eval`: policies and their tests.

use std::path::PathBuf;

use anyhow::{Context, Result};
use hallmark_verifier::policy::{Policy, run_tests};

use crate::Outcome;
use crate::signing::read_limited;

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
        /// The input document (JSON), e.g. from `hallmark verify --format json`'s policy input.
        #[arg(long)]
        input: PathBuf,
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
        PolicyCommand::Eval { policy, input } => {
            let policy = Policy::load(&policy, false)?;
            let input: serde_json::Value =
                serde_json::from_slice(&read_limited(&input, 64 * 1024 * 1024)?)
                    .with_context(|| format!("{} is not JSON", input.display()))?;
            let decision = policy.evaluate(&input);
            println!("{}", serde_json::to_string_pretty(&decision)?);
            Ok(if decision.deny.is_empty() {
                Outcome::Success
            } else {
                Outcome::Denied
            })
        }
    }
}
