//! `hallmark approve`: a release manager's signed approval of one artifact (change control as
//! evidence). The predicate is documented in docs/approval-v1.md.

use std::time::SystemTime;

use anyhow::Result;
use hallmark_model::approval::{APPROVAL_V1, Approval};
use hallmark_model::time::Timestamp;

use super::attest;
use crate::Outcome;
use crate::registry::RegistryArgs;
use crate::signing::SignArgs;
use crate::store::{OutputArgs, StoreArgs};

/// Arguments of `hallmark approve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark approve dist/app.tar --reason 'release 1.4, tested in staging' --ticket CHG-1234 --key rm-alice.key\n  \
hallmark approve oci://ghcr.io/acme/app@sha256:<hex> --reason 'hotfix' --keyless\n\n\
A policy can then demand N distinct approvers from a list, none of whom signed the build\n\
(declarative: `approvals: {required: 2, approvers: [alice.pub, bob.pub]}`)."
)]
pub struct Args {
    /// The artifact: a file, sha256:HEX, NAME@sha256:HEX, or oci://REGISTRY/REPO:TAG|@DIGEST.
    #[arg(value_name = "ARTIFACT")]
    pub artifact: String,
    /// Why the artifact is approved (recorded and signed).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The change ticket, e.g. CHG-1234.
    #[arg(long, value_name = "ID")]
    pub ticket: Option<String>,
    /// The environment approved for, e.g. production.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// For an oci:// image index: approve this platform's manifest.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The predicate; a field the model refuses is named by its flag (`--reason must not be empty`).
fn approval(args: &Args) -> Result<Approval> {
    let approval = Approval::new(
        args.reason.clone(),
        args.ticket.clone(),
        args.environment.clone(),
        Timestamp::new(SystemTime::now())?,
    );
    approval.map_err(|e| match e {
        hallmark_model::Error::Field { field, problem, .. } => {
            anyhow::anyhow!("--{field} {problem}")
        }
        other => other.into(),
    })
}

/// Runs `hallmark approve`.
pub fn run(args: Args) -> Result<Outcome> {
    let predicate = approval(&args)?.to_value();
    let attest_args = attest::Args::about(
        args.artifact,
        args.sign,
        args.store,
        args.output,
        args.platform,
        args.registry,
    );
    attest::publish(&attest_args, |_, _, _| {
        Ok((APPROVAL_V1.to_owned(), predicate))
    })
}
