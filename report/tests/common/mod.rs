//! Evidence with known gaps, shared by the report tests.
#![allow(dead_code)]

use hallmark_model::time::Timestamp;
use hallmark_report::evidence::{Artifact, Attestation, Evidence, Kind};

pub fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn attestation(id: &str, kind: Kind, signed: &str) -> Attestation {
    // Separate duties: CI builds, a release manager approves, operations deploys.
    let signer = match kind {
        Kind::Approval { .. } => "SHA256:release-manager",
        Kind::Deployment { .. } => "SHA256:operations",
        _ => "SHA256:builder-key",
    };
    Attestation {
        id: id.into(),
        origin: "store:/var/lib/hallmark".into(),
        about_artifact: true,
        signers: vec![signer.into()],
        time_proven: false,
        signed_at: Some(t(signed)),
        verified_at: t("2026-12-01T00:00:00Z"),
        kind,
    }
}

fn provenance(id: &str, dirty: bool) -> Attestation {
    attestation(
        id,
        Kind::Provenance {
            step: Some("build".into()),
            builder: "https://hallmark.dev/builder/local".into(),
            source_repository: Some("https://git.example/plant/hmi".into()),
            source_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            source_dirty: Some(dirty),
        },
        "2026-11-20T10:00:00Z",
    )
}

/// Release 1: everything. Release 2: built dirty, deployed before its approval, no SBOM.
pub fn evidence() -> Evidence {
    let one = Artifact {
        digest: format!("sha256:{}", "1".repeat(64)),
        names: vec!["hmi-1.0.tar".into()],
        revoked: false,
        attestations: vec![
            provenance("p1", false),
            attestation("s1", Kind::Sbom { packages: 42 }, "2026-11-20T10:01:00Z"),
            attestation(
                "a1",
                Kind::Approval {
                    environment: Some("production".into()),
                    ticket: Some("CHG-1".into()),
                    approved_at: t("2026-11-21T09:00:00Z"),
                },
                "2026-11-21T09:00:00Z",
            ),
            attestation(
                "d1",
                Kind::Deployment {
                    target: "plant-a/line-3/hmi-2".into(),
                    environment: Some("production".into()),
                    change: None,
                    deployed_at: t("2026-11-22T06:00:00Z"),
                },
                "2026-11-22T06:00:00Z",
            ),
            attestation(
                "v1",
                Kind::Vsa {
                    result: "PASSED".into(),
                },
                "2026-11-21T08:00:00Z",
            ),
        ],
    };
    let two = Artifact {
        digest: format!("sha256:{}", "2".repeat(64)),
        names: vec!["hmi-1.1.tar".into()],
        revoked: true,
        attestations: vec![
            provenance("p2", true),
            attestation(
                "a2",
                Kind::Approval {
                    environment: Some("production".into()),
                    ticket: None,
                    approved_at: t("2026-11-25T09:00:00Z"),
                },
                "2026-11-25T09:00:00Z",
            ),
            attestation(
                "d2",
                Kind::Deployment {
                    target: "plant-a/line-3/hmi-2".into(),
                    environment: Some("production".into()),
                    change: Some("CHG-2".into()),
                    deployed_at: t("2026-11-24T06:00:00Z"),
                },
                "2026-11-24T06:00:00Z",
            ),
        ],
    };
    Evidence {
        artifacts: vec![one, two],
    }
}
