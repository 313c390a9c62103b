//! `hallmark record deployment`: a signed record that an artifact was put into service on a
//! target (docs/deployment-v1.md), stored and pushed exactly as `hallmark approve` does. Each
//! record names the version it replaced, so a target's history is a chain; a rollback is one
//! more deployment, of an earlier version.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Result, bail};
use hallmark_model::deployment::{DEPLOYMENT_V1, Deployment};
use hallmark_model::digest::Digest;
use hallmark_model::target::Target;
use hallmark_model::time::Timestamp;
use hallmark_verifier::keys::TrustedKey;

use super::super::attest;
use super::gate::{self, Place, TrustFlags};
use super::{flag_error, history, target};
use crate::Outcome;
use crate::registry::RegistryArgs;
use crate::signing::SignArgs;
use crate::store::{OutputArgs, StoreArgs};

/// Arguments of `hallmark record deployment`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("chain").args(["replaces", "first"])))]
#[command(
    after_help = "Examples:\n  hallmark record deployment dist/hmi-1.4.tar --target plant-a/line-3/hmi-2 \\\n    \
--environment production --work-order WO-2026-118 --change CHG-1234 --key deployer.key\n  \
hallmark record deployment dist/hmi-1.0.tar --target plant-a/line-3/hmi-2 --first \\\n    \
--key deployer.key\n  \
hallmark record deployment oci://registry.plant-a/hmi@sha256:<hex> \\\n    \
--target plant-a/line-3/hmi-2 --environment production --policy release.yaml --key deployer.key\n\n\
replaces: the version this one replaces on the target. Without --replaces or --first it is the\n\
artifact of the newest deployment record for exactly this target in the store, among those\n\
signed by the signing key used now (or a --trust-key / --certificate-identity signer).\n\
A rollback is a deployment of the earlier version: it replaces the current one.\n\n\
With --policy, the artifact is decided on first, as `hallmark verify --policy P --environment E`\n\
would (approvals for another environment do not count); a denial records nothing (exit 1)."
)]
pub struct Args {
    /// The artifact deployed: a file, sha256:HEX, NAME@sha256:HEX, or oci://REGISTRY/REPO:TAG|@DIGEST.
    #[arg(value_name = "ARTIFACT")]
    pub artifact: String,
    /// Where it now runs: SITE/LINE/ASSET, e.g. plant-a/line-3/hmi-2.
    #[arg(long, value_name = "SITE/LINE/ASSET")]
    pub target: String,
    /// The environment deployed to, e.g. production (what an approval must name).
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// A lot the deployment is for. Repeatable.
    #[arg(long, value_name = "ID")]
    pub lot: Vec<String>,
    /// The work order, e.g. WO-2026-118.
    #[arg(long, value_name = "ID")]
    pub work_order: Option<String>,
    /// The change ticket, e.g. CHG-1234.
    #[arg(long, value_name = "TICKET")]
    pub change: Option<String>,
    /// The version this one replaces on the target (ALGORITHM:HEX).
    #[arg(long, value_name = "DIGEST")]
    pub replaces: Option<String>,
    /// This is the target's first recorded deployment: it replaces nothing.
    #[arg(long)]
    pub first: bool,
    /// Decide on the artifact under this policy (declarative .yaml, Rego file or directory) for
    /// --environment before signing; refuse to record when it is denied. Needs --environment:
    /// a decision for no environment would count an approval for any.
    #[arg(long, value_name = "FILE|DIR", requires = "environment")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub trust: TrustFlags,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// For an oci:// image index: record this platform's manifest.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// What `replaces` is, as the flags say (`None` from `--first`), before the store is read.
enum Replaces {
    Given(Option<String>),
    FromHistory,
}

/// The flags checked before anything is read or signed: target, replaces, texts.
fn checked(args: &Args) -> Result<(Target, Replaces)> {
    let target = target(&args.target)?;
    let replaces = match (&args.replaces, args.first) {
        (Some(d), _) => {
            let digest: Digest = d.parse().map_err(|e| {
                anyhow::anyhow!(
                    "--replaces {}: {e} (ALGORITHM:HEX, e.g. sha256:<64 hex>)",
                    hallmark_model::text::printable(d)
                )
            })?;
            Replaces::Given(Some(digest.to_string()))
        }
        (None, true) => Replaces::Given(None),
        (None, false) => Replaces::FromHistory,
    };
    // The texts, with a placeholder time: refused before a password prompt or a token.
    predicate(args, &target, None, Timestamp::new(SystemTime::UNIX_EPOCH)?)?;
    Ok((target, replaces))
}

fn predicate(
    args: &Args,
    target: &Target,
    replaces: Option<String>,
    at: Timestamp,
) -> Result<Deployment> {
    let deployment = Deployment {
        target: target.clone(),
        environment: args.environment.clone(),
        replaces,
        lots: args.lot.clone(),
        work_order: args.work_order.clone(),
        change: args.change.clone(),
        deployed_at: at.whole_seconds(),
    };
    deployment.validate().map_err(flag_error)?;
    Ok(deployment)
}

/// `replaces` from the store: the newest verified deployment on exactly this target.
fn from_history(
    args: &Args,
    target: &Target,
    signer: &dyn hallmark_attester::signer::Signer,
    cwd: &std::path::Path,
) -> Result<Option<String>> {
    let mut trust = args.trust.trust()?;
    if let Some(pem) = signer.public_key_pem() {
        let key = TrustedKey::from_pem(pem.as_bytes(), "the signing key")?;
        if !trust.keys.iter().any(|k| k.keyid() == key.keyid()) {
            trust.keys.push(key);
        }
    }
    let dir = args.store.dir(cwd);
    let found = history::read(&dir, target, &trust, SystemTime::now())?;
    if found.unverified > 0 {
        eprintln!(
            "hallmark: warning: {} deployment record(s) for {target} in {} were left out: not signed by \
             the signing key or a --trust-key / --certificate-identity signer",
            found.unverified,
            dir.display()
        );
    }
    let Some(current) = found.current else {
        bail!(
            "no verified deployment on {target} in the store {}: pass --first for the target's \
             first deployment, or --replaces sha256:<hex> for the version it replaces",
            dir.display()
        );
    };
    eprintln!(
        "hallmark: {target} runs {} (deployed {}, store {}): this deployment replaces it",
        current.artifact, current.deployed_at, current.origin
    );
    Ok(Some(current.artifact.to_string()))
}

/// Runs `hallmark record deployment`.
pub fn run(args: Args) -> Result<Outcome> {
    let (target, replaces) = checked(&args)?;
    if args.output.no_store && matches!(replaces, Replaces::FromHistory) {
        bail!("--no-store: the history is read from the store; pass --first or --replaces");
    }
    if let Some(policy) = &args.policy {
        let place = Place {
            store: &args.store,
            platform: args.platform.clone(),
            registry: &args.registry,
        };
        if !gate::allowed(
            &args.artifact,
            policy,
            args.environment.as_deref(),
            &args.trust,
            &place,
        )? {
            eprintln!(
                "hallmark: {} is denied by {} for {}: the deployment was not recorded",
                args.artifact,
                policy.display(),
                args.environment
                    .as_deref()
                    .map_or("any environment".to_owned(), |e| format!(
                        "environment {e:?}"
                    ))
            );
            return Ok(Outcome::Denied);
        }
    }
    let attest_args = attest::Args::about(
        args.artifact.clone(),
        args.sign.clone(),
        args.store.clone(),
        args.output.clone(),
        args.platform.clone(),
        args.registry.clone(),
    );
    attest::publish(&attest_args, |cwd, _, signer| {
        let replaces = match replaces {
            Replaces::Given(r) => r,
            Replaces::FromHistory => from_history(&args, &target, signer, cwd)?,
        };
        let deployment = predicate(&args, &target, replaces, Timestamp::new(SystemTime::now())?)?;
        Ok((DEPLOYMENT_V1.to_owned(), deployment.to_value()))
    })
}
