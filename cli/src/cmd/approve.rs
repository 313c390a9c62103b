//! `hallmark approve`: a release manager's signed approval of one artifact (change control as
//! evidence). The predicate is documented in docs/approval-v1.md.

use anyhow::{Result, bail};
use serde_json::json;

use super::attest;
use super::run::HashArgs;
use crate::Outcome;
use crate::registry::RegistryArgs;
use crate::signing::SignArgs;
use crate::store::{OutputArgs, StoreArgs};

/// The approval predicate type.
pub const APPROVAL_V1: &str = "https://hallmark.dev/approval/v1";
/// Longest reason or ticket accepted.
const MAX_TEXT: usize = 4096;

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

fn text(flag: &str, value: &str) -> Result<String> {
    if value.trim().is_empty() {
        bail!("{flag} must not be empty");
    }
    if value.len() > MAX_TEXT {
        bail!("{flag} is longer than {MAX_TEXT} bytes");
    }
    Ok(value.to_owned())
}

/// Runs `hallmark approve`.
pub fn run(args: Args) -> Result<Outcome> {
    let predicate = json!({
        "reason": text("--reason", &args.reason)?,
        "ticket": args.ticket.as_deref().map(|t| text("--ticket", t)).transpose()?,
        "environment": args.environment.as_deref().map(|t| text("--environment", t)).transpose()?,
        "approvedAt": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    });
    let attest_args = attest::Args {
        subject: vec![args.artifact],
        provenance: false,
        predicate: None,
        predicate_type: None,
        hashing: HashArgs {
            exclude: Vec::new(),
            exclude_from: Vec::new(),
            gitignore: false,
            sha512: false,
        },
        sign: args.sign,
        store: args.store,
        output: args.output,
        platform: args.platform,
        registry: args.registry,
    };
    attest::publish(&attest_args, |_, _| Ok((APPROVAL_V1.to_owned(), predicate)))
}
