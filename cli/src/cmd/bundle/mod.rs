//! `hallmark bundle export|import|inspect`: evidence bundles for the air gap
//! (docs/evidence-bundle.md). Export collects an artifact with the evidence behind it and signs
//! the whole; import verifies everything with the plant's own trust before anything enters its
//! store or registry, then records a chain-of-custody attestation.

mod export;
mod import;
mod inspect;

use anyhow::Result;
use hallmark_remote::evidence::Error as EvidenceError;

use crate::Outcome;

/// Arguments of `hallmark bundle`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: BundleCommand,
}

/// The bundle subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BundleCommand {
    /// Write artifacts, every attestation of their chains, the trust material, policy and
    /// revocation lists into one signed OCI-layout tar.
    Export(Box<export::Args>),
    /// Verify a bundle with this plant's trust and policy, then import it (nothing on failure)
    /// and sign a chain-of-custody attestation.
    Import(Box<import::Args>),
    /// List what a bundle holds (its signature is not checked: use import for that).
    Inspect(inspect::Args),
}

impl Args {
    /// The schema of the JSON this invocation writes, when it was asked for JSON.
    pub fn json_schema(&self) -> Option<&'static str> {
        match &self.command {
            BundleCommand::Import(a) if a.format == crate::render::Format::Json => {
                Some(import::IMPORT_SCHEMA)
            }
            BundleCommand::Inspect(a) if a.format == crate::render::Format::Json => {
                Some(inspect::INSPECT_SCHEMA)
            }
            _ => None,
        }
    }
}

/// Runs `hallmark bundle`.
pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        BundleCommand::Export(a) => export::run(*a),
        BundleCommand::Import(a) => import::run(*a),
        BundleCommand::Inspect(a) => inspect::run(a),
    }
}

/// An evidence-bundle error with its stable code.
fn coded(error: EvidenceError) -> anyhow::Error {
    crate::coded::coded(error.code(), error.to_string())
}
