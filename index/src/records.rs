//! What queries return: plain serializable records, in a documented, deterministic order.

use hallmark_model::time::Timestamp;
use serde::Serialize;

/// A deployment as one or more attestations record it, with its service window on its target:
/// from `deployedAt` until the next deployment on the same target (`until`, absent while it is
/// still in service).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceWindow {
    /// The artifact deployed (its primary digest).
    pub artifact: String,
    /// Where: `SITE/LINE/ASSET`.
    pub target: String,
    /// When it was put into service.
    pub deployed_at: Timestamp,
    /// When the next deployment on the target replaced it; `None` while in service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// What replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// What the record says it replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// True when the record says it replaced something other than the deployment before it on
    /// this target (a gap in the recorded history).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub breaks_chain: bool,
    /// The environment, e.g. `production`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The change ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The work order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_order: Option<String>,
    /// Lots the record names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lots: Vec<String>,
    /// The attestations that record it (index keys, sorted).
    pub evidence: Vec<String>,
}

/// A production lot as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LotRecord {
    /// The lot id.
    pub lot: String,
    /// Where it was made.
    pub target: String,
    /// Production start.
    pub from: Timestamp,
    /// Production end.
    pub to: Timestamp,
    /// The product, if recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The work order, if recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_order: Option<String>,
    /// The attestations that record it (index keys, sorted).
    pub evidence: Vec<String>,
}

/// An approval of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecord {
    /// The environment approved for (`None`: every environment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The change ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Why.
    pub reason: String,
    /// When, as the approver claims.
    pub approved_at: Timestamp,
    /// Who signed it (keyids, or `identity (issuer)`).
    pub signers: Vec<String>,
    /// The attestation.
    pub evidence: String,
}

/// A package an SBOM of the artifact lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageRecord {
    /// The purl as written.
    pub purl: String,
    /// The component name.
    pub name: String,
    /// The version (the purl's, else the component's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The SBOM attestation.
    pub evidence: String,
}

/// A source repository and commit a step was built from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRecord {
    /// The repository (`git+https://…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The commit.
    pub commit: String,
}

/// A verified provenance attestation in an artifact's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// The attestation (index key).
    pub evidence: String,
    /// How far from the artifact: 0 made the artifact, 1 made one of its materials, ….
    pub depth: usize,
    /// The Hallmark step name, for step provenance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The builder id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builder_id: Option<String>,
    /// The buildType.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_type: Option<String>,
    /// The source it was built from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRecord>,
    /// Who signed it.
    pub signers: Vec<String>,
    /// What it made (primary digests, sorted).
    pub subjects: Vec<String>,
    /// What it consumed (digests, sorted).
    pub materials: Vec<String>,
}

/// Any verified attestation about an artifact (provenance, SBOM, approval, VSA, test result…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceRef {
    /// The index key.
    pub id: String,
    /// Its predicate type.
    pub predicate_type: String,
    /// Who signed it.
    pub signers: Vec<String>,
    /// Where it was read.
    pub origin: String,
    /// The trust it was verified with.
    pub trust: String,
    /// When it was verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<Timestamp>,
}

/// Where an artifact came from: the steps behind it (back through their materials), its
/// sources, approvals, SBOM packages and every other attestation about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactChain {
    /// The artifact (primary digest).
    pub digest: String,
    /// Names its subjects gave it (sorted).
    pub names: Vec<String>,
    /// The steps, nearest first (by depth, then evidence key).
    pub steps: Vec<StepRecord>,
    /// Every source repository and commit in the chain (sorted).
    pub sources: Vec<SourceRecord>,
    /// Approvals of the artifact (by time).
    pub approvals: Vec<ApprovalRecord>,
    /// Packages its SBOMs list (by purl).
    pub packages: Vec<PackageRecord>,
    /// Every attestation whose subject is the artifact (by predicate type, then key).
    pub evidence: Vec<EvidenceRef>,
    /// True when the walk stopped at its depth or size limit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// One attestation's deployment record, as that attestation says it. A [`ServiceWindow`]
/// merges every record of the same event (target, artifact, time) and shows the first one's
/// environment and change; a report judging each record must read its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRecord {
    /// Where.
    pub target: String,
    /// The environment, if named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The change ticket, if named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// When, as claimed.
    pub deployed_at: Timestamp,
}
