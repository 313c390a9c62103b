//! Mapping evidence to controls: for each control, which artifacts it holds for and by which
//! attestations, what is missing, and how fresh the evidence is.

use std::time::Duration;

use hallmark_model::time::Timestamp;
use serde::Serialize;

use crate::controls::Control;
use crate::evidence::{Artifact, Attestation, Evidence, Kind};

/// What a report is decided at.
#[derive(Debug, Clone)]
pub struct Options {
    /// The report's time: ages are measured to it.
    pub at: Timestamp,
    /// Evidence signed (or, without a signing time, verified) before this does not count.
    pub since: Option<Timestamp>,
    /// Evidence whose newest piece is older than this is flagged stale.
    pub max_age: Duration,
    /// Who may approve (signer names as the evidence gives them); `None`: any verified signer
    /// who neither built the artifact nor recorded the deployment.
    pub approvers: Option<Vec<String>>,
    /// Who may record deployments; `None`: any verified signer. A deployment recorded by
    /// anyone else is a change without authority: CM-3 is not met.
    pub deployers: Option<Vec<String>>,
}

impl Options {
    /// Options at `at`, with no `since`, no role lists and a 90-day maximum age.
    pub fn at(at: Timestamp) -> Self {
        Options {
            at,
            since: None,
            max_age: Duration::from_secs(90 * 86_400),
            approvers: None,
            deployers: None,
        }
    }
}

/// True when `signers` holds one of `allowed` (or no list restricts them).
fn in_role(allowed: Option<&Vec<String>>, signers: &[String]) -> bool {
    allowed.is_none_or(|allowed| signers.iter().any(|s| allowed.contains(s)))
}

/// How far a control is met across the artifacts in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every artifact it applies to has the evidence.
    Satisfied,
    /// Some do, some do not.
    Partial,
    /// None does.
    NotSatisfied,
    /// It applies to none of them (CM-3 for artifacts never deployed).
    NotApplicable,
}

impl Status {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Status::Satisfied => "satisfied",
            Status::Partial => "partial",
            Status::NotSatisfied => "not satisfied",
            Status::NotApplicable => "not applicable",
        }
    }
}

/// An artifact that meets the control, and the attestations that show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Met {
    /// The artifact's digest.
    pub artifact: String,
    /// What the evidence shows, in a few words.
    pub summary: String,
    /// The attestations (ids).
    pub attestations: Vec<String>,
}

/// An artifact that does not meet the control, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Missing {
    /// The artifact's digest (empty when nothing is in scope).
    pub artifact: String,
    /// What is missing.
    pub what: String,
}

/// How old the evidence that meets a control is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// The newest piece's time.
    pub newest: Timestamp,
    /// The oldest piece's time.
    pub oldest: Timestamp,
    /// Whole days from the newest piece to the report's time.
    pub newest_age_days: u64,
    /// True when the newest piece is older than the report's maximum age.
    pub stale: bool,
}

/// One control's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlResult {
    /// The control.
    pub control: Control,
    /// Its status.
    pub status: Status,
    /// Artifacts that meet it.
    pub met: Vec<Met>,
    /// Artifacts that do not.
    pub missing: Vec<Missing>,
    /// The age of the evidence that meets it, if any does.
    pub freshness: Option<Freshness>,
}

/// A compliance report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The control set, e.g. `nist-800-53`.
    pub control_set: String,
    /// When it was made.
    pub generated_at: Timestamp,
    /// The earliest evidence counted, if limited.
    pub since: Option<Timestamp>,
    /// One result per control, in the control set's order.
    pub controls: Vec<ControlResult>,
    /// The artifacts in scope with the evidence counted.
    pub artifacts: Vec<Artifact>,
}

/// A control met for one artifact, or what is missing, or not applicable.
enum Outcome<'a> {
    Met(String, Vec<&'a Attestation>),
    Missing(String),
    NotApplicable,
}

/// Assesses `controls` over `evidence`.
pub fn assess(
    control_set: &str,
    controls: Vec<Control>,
    evidence: Evidence,
    options: Options,
) -> Report {
    let artifacts: Vec<Artifact> = evidence
        .artifacts
        .into_iter()
        .map(|mut artifact| {
            artifact
                .attestations
                .retain(|a| options.since.is_none_or(|since| time_of(a) >= since));
            artifact
        })
        .collect();
    let results = controls
        .into_iter()
        .map(|control| result(control, &artifacts, &options))
        .collect();
    Report {
        control_set: control_set.to_owned(),
        generated_at: options.at,
        since: options.since,
        controls: results,
        artifacts,
    }
}

fn result(control: Control, artifacts: &[Artifact], options: &Options) -> ControlResult {
    let mut met = Vec::new();
    let mut missing = Vec::new();
    let mut times = Vec::new();
    let mut applicable = false;
    for artifact in artifacts {
        match outcome(&control.id, artifact, options) {
            Outcome::Met(summary, attestations) => {
                applicable = true;
                times.extend(attestations.iter().map(|a| time_of(a)));
                met.push(Met {
                    artifact: artifact.digest.clone(),
                    summary,
                    attestations: attestations.iter().map(|a| a.id.clone()).collect(),
                });
            }
            Outcome::Missing(what) => {
                applicable = true;
                missing.push(Missing {
                    artifact: artifact.digest.clone(),
                    what,
                });
            }
            Outcome::NotApplicable => {}
        }
    }
    if artifacts.is_empty() {
        missing.push(Missing {
            artifact: String::new(),
            what: "no artifacts in scope".into(),
        });
        applicable = true;
    }
    let status = match (applicable, met.is_empty(), missing.is_empty()) {
        (false, _, _) => Status::NotApplicable,
        (true, _, true) => Status::Satisfied,
        (true, false, false) => Status::Partial,
        (true, true, false) => Status::NotSatisfied,
    };
    let freshness = freshness(&times, options);
    ControlResult {
        control,
        status,
        met,
        missing,
        freshness,
    }
}

fn freshness(times: &[Timestamp], options: &Options) -> Option<Freshness> {
    let newest = *times.iter().max()?;
    let oldest = *times.iter().min()?;
    let age = options
        .at
        .time()
        .duration_since(newest.time())
        .unwrap_or_default();
    Some(Freshness {
        newest,
        oldest,
        newest_age_days: age.as_secs() / 86_400,
        stale: age > options.max_age,
    })
}

/// The time evidence counts from: its signing time, else when it was verified.
/// A claim later than the verification cannot be true: it counts from the verification, so
/// evidence dated in the future never stays fresh.
fn time_of(a: &Attestation) -> Timestamp {
    a.signed_at.map_or(a.verified_at, |t| t.min(a.verified_at))
}

fn outcome<'a>(control: &str, artifact: &'a Artifact, options: &Options) -> Outcome<'a> {
    let own = || artifact.attestations.iter().filter(|a| a.about_artifact);
    let provenance = || {
        artifact
            .attestations
            .iter()
            .filter(|a| matches!(a.kind, Kind::Provenance { .. }))
    };
    match control {
        "sr-4" => {
            let with_source: Vec<_> = provenance()
                .filter(|a| {
                    matches!(
                        &a.kind,
                        Kind::Provenance {
                            source_commit: Some(_),
                            ..
                        }
                    )
                })
                .collect();
            if !with_source.is_empty() {
                Outcome::Met(
                    format!(
                        "{} provenance attestation(s) naming builder and source",
                        with_source.len()
                    ),
                    with_source,
                )
            } else if provenance().next().is_some() {
                Outcome::Missing("its provenance names no source commit".into())
            } else {
                Outcome::Missing("no verified provenance".into())
            }
        }
        "sr-11" => {
            if artifact.revoked {
                return Outcome::Missing("revoked by a verified revocation list".into());
            }
            let built: Vec<_> = provenance().filter(|a| a.about_artifact).collect();
            if built.is_empty() {
                Outcome::Missing("no verified provenance of the artifact itself".into())
            } else {
                let builders = built.iter().filter_map(|a| match &a.kind {
                    Kind::Provenance { builder, .. } => Some(builder.as_str()),
                    _ => None,
                });
                Outcome::Met(format!("built by {}", join_unique(builders)), built)
            }
        }
        "si-7" => {
            let signed: Vec<_> = own().collect();
            if signed.is_empty() {
                Outcome::Missing("no verified signature over its digest".into())
            } else {
                Outcome::Met(
                    format!("{} verified attestation(s) bind its digest", signed.len()),
                    signed,
                )
            }
        }
        "cm-14" => {
            let signed: Vec<_> = provenance().filter(|a| a.about_artifact).collect();
            if signed.is_empty() {
                return Outcome::Missing("no signed provenance of the artifact itself".into());
            }
            let proven = signed.iter().filter(|a| a.time_proven).count();
            let signers = signed
                .iter()
                .flat_map(|a| a.signers.iter().map(String::as_str));
            Outcome::Met(
                format!(
                    "signed by {} ({proven} of {} with a proven signing time)",
                    join_unique(signers),
                    signed.len()
                ),
                signed,
            )
        }
        "cm-3" => change_control(artifact, options),
        "cm-8" => {
            let sboms: Vec<_> = own()
                .filter(|a| matches!(a.kind, Kind::Sbom { .. }))
                .collect();
            let packages: usize = sboms
                .iter()
                .map(|a| match a.kind {
                    Kind::Sbom { packages } => packages,
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            if sboms.is_empty() {
                Outcome::Missing("no verified SBOM".into())
            } else {
                Outcome::Met(format!("SBOM listing {packages} components"), sboms)
            }
        }
        "sa-10" => {
            let sourced: Vec<_> = provenance()
                .filter(|a| {
                    matches!(
                        &a.kind,
                        Kind::Provenance {
                            source_repository: Some(_),
                            source_commit: Some(_),
                            ..
                        }
                    )
                })
                .collect();
            if sourced.iter().any(|a| {
                matches!(
                    &a.kind,
                    Kind::Provenance {
                        source_dirty: Some(true),
                        ..
                    }
                )
            }) {
                Outcome::Missing("built from a tree with uncommitted changes".into())
            } else if sourced.is_empty() {
                Outcome::Missing("no provenance naming a source repository and commit".into())
            } else {
                let commits = sourced.iter().filter_map(|a| match &a.kind {
                    Kind::Provenance {
                        source_repository: Some(r),
                        source_commit: Some(c),
                        ..
                    } => Some(format!("{r}@{}", short(c))),
                    _ => None,
                });
                let commits: Vec<String> = commits.collect();
                Outcome::Met(
                    format!("from {}", join_unique(commits.iter().map(String::as_str))),
                    sourced,
                )
            }
        }
        "sr-3" => {
            let passed: Vec<_> = own()
                .filter(|a| matches!(&a.kind, Kind::Vsa { result, .. } if result == "PASSED"))
                .collect();
            if passed.is_empty() {
                Outcome::Missing("no recorded policy decision that PASSED (a VSA)".into())
            } else {
                Outcome::Met(
                    format!("{} policy decision(s) PASSED", passed.len()),
                    passed,
                )
            }
        }
        _ => Outcome::NotApplicable,
    }
}

/// CM-3: each deployment needs a verified approval for its environment signed no later, by
/// someone who neither built the artifact (as the `approvals` policy rule) nor recorded that
/// deployment (no self-approval), and a change ticket on one of them.
fn change_control<'a>(artifact: &'a Artifact, options: &Options) -> Outcome<'a> {
    let own = || artifact.attestations.iter().filter(|a| a.about_artifact);
    let builders: Vec<&str> = artifact
        .attestations
        .iter()
        .filter(|a| matches!(a.kind, Kind::Provenance { .. }))
        .flat_map(|a| a.signers.iter().map(String::as_str))
        .collect();
    let deployments: Vec<_> = own()
        .filter_map(|a| match &a.kind {
            Kind::Deployment {
                target,
                environment,
                change,
                deployed_at,
            } => Some((
                a,
                target,
                environment,
                change,
                // The earlier of the claimed and the proven time, as the `deployments` policy
                // rule: a record signed after the fact still says when the change was made.
                match (a.time_proven, a.signed_at) {
                    (true, Some(signed)) => signed.min(*deployed_at),
                    _ => *deployed_at,
                },
            )),
            _ => None,
        })
        .collect();
    if deployments.is_empty() {
        return Outcome::NotApplicable;
    }
    let mut used = Vec::new();
    for (deployment, target, environment, change, at) in &deployments {
        if !in_role(options.deployers.as_ref(), &deployment.signers) {
            return Outcome::Missing(format!(
                "the deployment to {target} at {at} was recorded by {}, who is not a deployer",
                deployment.signers.join(", ")
            ));
        }
        let approval = own().find(|a| match &a.kind {
            Kind::Approval {
                environment: env,
                approved_at,
                ..
            } => {
                (env.is_none() || env == *environment)
                    && a.effective_time(*approved_at) <= *at
                    && in_role(options.approvers.as_ref(), &a.signers)
                    && !a
                        .signers
                        .iter()
                        .any(|s| builders.contains(&s.as_str()) || deployment.signers.contains(s))
            }
            _ => false,
        });
        let Some(approval) = approval else {
            return Outcome::Missing(format!(
                "the deployment to {target} at {at} has no approval for {} signed before it by \
                 someone who neither built it nor recorded the deployment",
                environment.as_deref().unwrap_or("its environment")
            ));
        };
        let ticket = matches!(
            &approval.kind,
            Kind::Approval {
                ticket: Some(_),
                ..
            }
        );
        if change.is_none() && !ticket {
            return Outcome::Missing(format!(
                "the deployment to {target} at {at} names no change ticket"
            ));
        }
        used.push(*deployment);
        used.push(approval);
    }
    Outcome::Met(
        format!(
            "{} deployment(s), each approved beforehand",
            deployments.len()
        ),
        used,
    )
}

fn join_unique<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen.join(", ")
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
