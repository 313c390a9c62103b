//! What a report is made from: verified evidence, grouped by artifact. The caller (the CLI,
//! from the evidence index) fills it; this crate never verifies anything itself, so everything
//! here must already have been verified.

use hallmark_model::time::Timestamp;
use serde::Serialize;

/// All evidence in the report's scope.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// The artifacts reported on, each with its evidence.
    pub artifacts: Vec<Artifact>,
}

/// One artifact and the verified attestations about it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Its digest, `ALGORITHM:HEX`.
    pub digest: String,
    /// Names the attestations gave it.
    pub names: Vec<String>,
    /// True when a verified revocation list revokes it.
    pub revoked: bool,
    /// The verified attestations whose subject it is, and those of the steps that built it.
    pub attestations: Vec<Attestation>,
}

/// One verified attestation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// A stable id (the evidence index's key), for references.
    pub id: String,
    /// Where the bundle came from (a store path, a registry reference, an archive).
    pub origin: String,
    /// True when its subject is the artifact itself; false for a step upstream in its chain.
    pub about_artifact: bool,
    /// Who signed: key ids, or certificate identity and issuer.
    pub signers: Vec<String>,
    /// True when a transparency log or timestamp authority proved the signing time.
    pub time_proven: bool,
    /// The signing time: proven when `time_proven`, claimed otherwise.
    pub signed_at: Option<Timestamp>,
    /// When Hallmark verified it (what the evidence's freshness is measured from).
    pub verified_at: Timestamp,
    /// What it says.
    pub kind: Kind,
}

/// What an attestation says, as far as the controls care.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Kind {
    /// SLSA provenance: how the artifact (or a step towards it) was built.
    Provenance {
        /// The Hallmark step, for step provenance.
        step: Option<String>,
        /// The builder id.
        builder: String,
        /// The source repository, if named.
        source_repository: Option<String>,
        /// The source commit, if named.
        source_commit: Option<String>,
        /// Whether the tree had uncommitted changes, when the provenance says.
        source_dirty: Option<bool>,
    },
    /// An SBOM.
    Sbom {
        /// How many packages it lists.
        packages: usize,
    },
    /// A release manager's approval.
    Approval {
        /// The environment approved for; `None` approves for all.
        environment: Option<String>,
        /// The change ticket.
        ticket: Option<String>,
        /// When it was approved (as claimed; `signed_at` is the proven time when there is one).
        approved_at: Timestamp,
    },
    /// A deployment record.
    Deployment {
        /// Where.
        target: String,
        /// For which environment.
        environment: Option<String>,
        /// The change ticket.
        change: Option<String>,
        /// When.
        deployed_at: Timestamp,
    },
    /// A verification summary (a recorded policy decision).
    Vsa {
        /// `PASSED` or `FAILED`.
        result: String,
    },
    /// Anything else (tests, lot records, other predicates).
    Other {
        /// The predicate type.
        predicate_type: String,
    },
}

impl Attestation {
    /// The time an approval or deployment counts from: the proven signing time when there is
    /// one, else the claimed one.
    pub fn effective_time(&self, claimed: Timestamp) -> Timestamp {
        match (self.time_proven, self.signed_at) {
            (true, Some(at)) => at,
            _ => claimed,
        }
    }
}
