//! `hallmark report`: the verified evidence in the index mapped to controls (docs/report.md),
//! as a self-contained HTML page, JSON, or OSCAL assessment results.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use hallmark_index::{AttestationRow, Index};
use hallmark_model::approval::APPROVAL_V1;
use hallmark_model::deployment::DEPLOYMENT_V1;
use hallmark_model::digest::Digest;
use hallmark_model::provenance::PROVENANCE_TYPES;
use hallmark_model::sbom::format_of_type;
use hallmark_model::time::Timestamp;
use hallmark_model::vsa::VSA_V1;
use hallmark_report::assess::{Options, assess};
use hallmark_report::controls::{MAX_CATALOG, controls, controls_from_catalog};
use hallmark_report::evidence::{Artifact, Attestation, Evidence, Kind};
use hallmark_report::{html, oscal};
use hallmark_verifier::engine::Trust;
use hallmark_verifier::revocation::Revocations;

use crate::Outcome;
use crate::cmd::index::DatabaseArgs;
use crate::cmd::revoke::artifact_digest;
use crate::evidence::read_key;
use crate::revocations::RevocationArgs;
use crate::signing::read_limited;
use crate::store::StoreArgs;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML page (no scripts, no external assets).
    Html,
    /// The report as JSON.
    Json,
    /// OSCAL 1.1.3 assessment results (JSON).
    Oscal,
}

/// Arguments of `hallmark report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
hallmark report --controls nist-800-53 -o evidence.html\n  \
hallmark report --controls nist-800-53 --since 2026-07-01T00:00:00Z --format oscal -o q3-assessment-results.json\n  \
hallmark report dist/hmi-1.4.tar sha256:4f2a… --format json\n\n\
For each control (SR-4, SR-11, SI-7, CM-14, CM-3, CM-8, SA-10, SR-3): what satisfied it, what is missing,\n\
and how fresh the evidence is. Without ARTIFACT, every artifact with a deployment record or an approval in\n\
the index. docs/report.md says what counts for each control.")]
pub struct Args {
    /// Artifacts to report on: files (hashed) or ALGORITHM:HEX. Default: every deployed or
    /// approved artifact in the index.
    #[arg(value_name = "ARTIFACT")]
    pub artifacts: Vec<String>,
    /// The control set.
    #[arg(long, value_name = "SET", default_value = "nist-800-53")]
    pub controls: String,
    /// Count only evidence signed (or, without a signing time, verified) since this time
    /// (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Flag evidence whose newest piece is older than this as stale (e.g. 90d, 26w).
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub max_age: humantime::Duration,
    /// Read control titles from this OSCAL catalog (JSON) instead of the embedded SP 800-53
    /// rev. 5 titles.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// Write here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub revocations: RevocationArgs,
    #[command(flatten)]
    pub roles: RoleArgs,
}

/// Runs `hallmark report`.
pub fn run(args: Args) -> Result<Outcome> {
    let now = SystemTime::now();
    let at = Timestamp::new(now)?.whole_seconds();
    let since = args
        .since
        .as_deref()
        .map(|s| {
            s.parse::<Timestamp>()
                .with_context(|| format!("--since {s}"))
        })
        .transpose()?;
    let controls = match &args.catalog {
        Some(path) => {
            controls_from_catalog(&args.controls, &read_limited(path, MAX_CATALOG as u64)?)
                .with_context(|| path.display().to_string())?
        }
        None => controls(&args.controls)?,
    };
    // Revocation lists must be signed by --revocation-key / --revocation-identity here: the
    // report trusts no other signer.
    let revocations = args.revocations.load(&Trust::default(), None, now)?;
    let mut index = args.database.open(&args.store)?;
    let scope = match args.artifacts.is_empty() {
        true => index.deployed_or_approved()?,
        false => args
            .artifacts
            .iter()
            .map(|a| artifact_digest(a).map(|d| d.to_string()))
            .collect::<Result<_>>()?,
    };
    let mut evidence = Evidence::default();
    for digest in &scope {
        evidence
            .artifacts
            .push(artifact(&mut index, digest, &revocations, now)?);
    }
    let report = assess(
        &args.controls,
        controls,
        evidence,
        Options {
            at,
            since,
            max_age: Duration::from(args.max_age),
            approvers: args.roles.approvers()?,
            deployers: args.roles.deployers()?,
        },
    );
    let bytes = match args.format {
        ReportFormat::Html => html::page(&report).into_bytes(),
        ReportFormat::Json => serde_json::to_vec_pretty(&report)?,
        ReportFormat::Oscal => serde_json::to_vec_pretty(&oscal::assessment_results(&report))?,
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            let met = report
                .controls
                .iter()
                .filter(|c| c.status == hallmark_report::assess::Status::Satisfied)
                .count();
            eprintln!(
                "hallmark: report on {} artifact(s): {met} of {} controls satisfied; wrote {}",
                report.artifacts.len(),
                report.controls.len(),
                path.display()
            );
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(Outcome::Success)
}

/// One artifact's evidence from the index: its own attestations and those of the steps
/// upstream in its chain.
fn artifact(
    index: &mut Index,
    digest: &str,
    revocations: &Revocations,
    now: SystemTime,
) -> Result<Artifact> {
    let chain = index.chain(digest)?;
    let approvals: BTreeMap<String, _> = chain
        .approvals
        .iter()
        .map(|a| (a.evidence.clone(), a.clone()))
        .collect();
    // Each deployment attestation as it records itself: a service window merges the records
    // of one event and shows only the first one's environment and change, which would let a
    // production deployment be judged by a staging record's approval.
    let mut deployments = BTreeMap::new();
    for window in index.deployments_of(digest)? {
        for id in &window.evidence {
            if let Some(record) = index.deployment_record(id)? {
                deployments.insert(id.clone(), record);
            }
        }
    }
    let mut attestations: Vec<Attestation> = Vec::new();
    for row in index.attestations_of(digest)? {
        let kind = kind(&row, &approvals, &deployments);
        attestations.push(attestation(row, true, kind));
    }
    for step in chain.steps.iter().filter(|s| s.depth > 0) {
        if let Some(row) = index.attestation(&step.evidence)? {
            let kind = kind(&row, &approvals, &deployments);
            attestations.push(attestation(row, false, kind));
        }
    }
    let parsed: Option<Digest> = digest.parse().ok();
    let revoked = parsed
        .as_ref()
        .is_some_and(|d| revocations.artifact(&[d], now).is_some());
    Ok(Artifact {
        digest: chain.digest,
        names: chain.names,
        revoked,
        attestations,
    })
}

fn attestation(row: AttestationRow, about_artifact: bool, kind: Kind) -> Attestation {
    Attestation {
        id: row.id,
        origin: row.origin,
        about_artifact,
        signers: row.signers,
        time_proven: row.signed_at.is_some(),
        // Whole seconds: what a reader compares, and what the attestations themselves carry.
        signed_at: row
            .signed_at
            .or(row.claimed_at)
            .map(Timestamp::whole_seconds),
        verified_at: row.verified_at.whole_seconds(),
        kind,
    }
}

fn kind(
    row: &AttestationRow,
    approvals: &BTreeMap<String, hallmark_index::records::ApprovalRecord>,
    deployments: &BTreeMap<String, hallmark_index::records::DeploymentRecord>,
) -> Kind {
    let pt = row.predicate_type.as_str();
    if PROVENANCE_TYPES.contains(&pt) {
        return Kind::Provenance {
            step: row.step.clone(),
            builder: row.builder_id.clone().unwrap_or_default(),
            source_repository: row.source_uri.clone(),
            source_commit: row.source_commit.clone(),
            source_dirty: row.source_dirty,
        };
    }
    if format_of_type(pt).is_some() {
        return Kind::Sbom {
            packages: usize::try_from(row.packages).unwrap_or(usize::MAX),
        };
    }
    match pt {
        APPROVAL_V1 => match approvals.get(&row.id) {
            Some(a) => Kind::Approval {
                environment: a.environment.clone(),
                ticket: a.ticket.clone(),
                approved_at: a.approved_at,
            },
            None => other(pt),
        },
        DEPLOYMENT_V1 => match deployments.get(&row.id) {
            Some(w) => Kind::Deployment {
                target: w.target.clone(),
                environment: w.environment.clone(),
                change: w.change.clone(),
                deployed_at: w.deployed_at,
            },
            None => other(pt),
        },
        VSA_V1 => Kind::Vsa {
            result: row.result.clone().unwrap_or_default(),
        },
        _ => other(pt),
    }
}

fn other(predicate_type: &str) -> Kind {
    Kind::Other {
        predicate_type: predicate_type.to_owned(),
    }
}

/// Who may approve and who may record deployments, for `report` and `audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct RoleArgs {
    /// A release manager's public key: only approvals it signed count (repeatable). Without
    /// any, every verified signer who neither built the artifact nor recorded the deployment.
    #[arg(long, value_name = "PUB")]
    pub approver_key: Vec<PathBuf>,
    /// An operator's public key: only deployment records it signed count (repeatable). Without
    /// any, every verified signer's records count (a warning says so).
    #[arg(long, value_name = "PUB")]
    pub deployer_key: Vec<PathBuf>,
}

impl RoleArgs {
    /// The approvers' keyids, if restricted.
    pub fn approvers(&self) -> Result<Option<Vec<String>>> {
        keyids(&self.approver_key)
    }

    /// The deployers' keyids, if restricted; warns when not.
    pub fn deployers(&self) -> Result<Option<Vec<String>>> {
        if self.deployer_key.is_empty() {
            eprintln!(
                "hallmark: warning: no --deployer-key: deployment records by every signer the index verified count"
            );
        }
        keyids(&self.deployer_key)
    }
}

fn keyids(paths: &[PathBuf]) -> Result<Option<Vec<String>>> {
    if paths.is_empty() {
        return Ok(None);
    }
    paths
        .iter()
        .map(|p| read_key(p).map(|k| k.keyid().to_owned()))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}
