//! The SLSA Verification Summary predicate v1 (`https://slsa.dev/verification_summary/v1`,
//! <https://slsa.dev/spec/v1.0/verification_summary>, docs/vsa.md): the record of one policy
//! decision about an artifact.
//!
//! Reading validates what a reader relies on: a verifier id, an RFC 3339 `timeVerified`, a
//! `PASSED` or `FAILED` result, the policy's `uri` and well-formed digests, a digest on every input
//! attestation. Unknown fields are ignored, as the in-toto parsing rules require.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::{Digest, DigestAlgorithm, validate_set};
use crate::error::FieldProblem;
use crate::resource::ResourceDescriptor;
use crate::time::Timestamp;
use crate::{Error, Result};

/// predicateType of a VSA v1.
pub const VSA_V1: &str = "https://slsa.dev/verification_summary/v1";

/// The SLSA version Hallmark's VSAs follow.
pub const SLSA_VERSION: &str = "1.0";

const WHAT: &str = "SLSA VSA";

/// The VSA predicate. Parse with [`VerificationSummary::from_value`], which validates; a writer
/// fills the fields and calls [`VerificationSummary::to_value`], which validates too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationSummary {
    /// Who verified.
    pub verifier: VsaVerifier,
    /// When the verification happened.
    pub time_verified: Timestamp,
    /// The resource verified, as the request named it (a file name, an `oci://` reference).
    pub resource_uri: String,
    /// The policy the subject was verified against: a `uri` and, for Hallmark, its digest.
    pub policy: ResourceDescriptor,
    /// Every attestation the decision used, each with its digest. Hallmark always writes the
    /// list; readers accept its absence (optional in the specification).
    #[serde(default)]
    pub input_attestations: Vec<ResourceDescriptor>,
    /// The decision.
    pub verification_result: VerificationResult,
    /// The highest level verified on each SLSA track, e.g. `SLSA_BUILD_LEVEL_2`.
    pub verified_levels: Vec<String>,
    /// How many transitive dependencies were verified at each level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency_levels: Option<BTreeMap<String, u64>>,
    /// The SLSA version followed, `MAJOR.MINOR` ([`SLSA_VERSION`] in what Hallmark writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slsa_version: Option<String>,
}

/// The verifier of a VSA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VsaVerifier {
    /// URI naming the verifier; consumers accept only (signer, verifier id) pairs they trust.
    pub id: String,
    /// Versions of the verifier's components, e.g. `{"hallmark": "0.1.0"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
}

/// Whether the artifact passed the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationResult {
    /// The artifact passed.
    Passed,
    /// The artifact failed; such a VSA is a record, never evidence for the artifact.
    Failed,
}

impl VerificationSummary {
    /// Parses and validates a predicate.
    pub fn from_value(predicate: &Value) -> Result<Self> {
        let summary = VerificationSummary::deserialize(predicate).map_err(Error::json(WHAT))?;
        summary.validate()?;
        Ok(summary)
    }

    /// The rules listed in the module documentation.
    pub fn validate(&self) -> Result<()> {
        let empty = |field: &str| Error::Field {
            what: WHAT,
            field: field.to_owned(),
            problem: FieldProblem::Empty,
        };
        if self.verifier.id.is_empty() {
            return Err(empty("verifier.id"));
        }
        if self.resource_uri.is_empty() {
            return Err(empty("resourceUri"));
        }
        if self.policy.uri.is_empty() {
            return Err(empty("policy.uri"));
        }
        validate_set(&self.policy.digest)?;
        for (i, input) in self.input_attestations.iter().enumerate() {
            if input.digest.is_empty() {
                return Err(empty(&format!("inputAttestations[{i}].digest")));
            }
            input.validate()?;
        }
        Ok(())
    }

    /// The predicate as JSON, validated first so that nothing unreadable is signed.
    pub fn to_value(&self) -> Result<Value> {
        self.validate()?;
        serde_json::to_value(self).map_err(Error::json(WHAT))
    }

    /// True when the artifact passed.
    pub fn passed(&self) -> bool {
        self.verification_result == VerificationResult::Passed
    }

    /// The policy's digest of `algorithm`, if the VSA records one (well-formed after validation).
    pub fn policy_digest(&self, algorithm: DigestAlgorithm) -> Option<Digest> {
        let hex = self.policy.digest.get(algorithm.name())?;
        Digest::from_hex(algorithm, hex).ok()
    }
}

/// An input attestation: where it was found and its digest.
pub fn input_attestation(uri: impl Into<String>, digest: &Digest) -> ResourceDescriptor {
    ResourceDescriptor {
        uri: uri.into(),
        digest: digest.to_set(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sha(c: char) -> Digest {
        Digest::from_hex(DigestAlgorithm::Sha256, &c.to_string().repeat(64)).unwrap()
    }

    fn summary() -> VerificationSummary {
        VerificationSummary {
            verifier: VsaVerifier {
                id: "https://hallmark.dev/verifier/cli".into(),
                version: BTreeMap::from([("hallmark".into(), "0.1.0".into())]),
            },
            time_verified: "2026-11-26T09:30:00Z".parse().unwrap(),
            resource_uri: "dist/app.tar".into(),
            policy: input_attestation("release.yaml", &sha('a')),
            input_attestations: vec![input_attestation("store sha256:…", &sha('b'))],
            verification_result: VerificationResult::Passed,
            verified_levels: vec!["SLSA_BUILD_LEVEL_2".into()],
            dependency_levels: None,
            slsa_version: Some(SLSA_VERSION.into()),
        }
    }

    #[test]
    fn writes_what_docs_vsa_md_describes() {
        assert_eq!(
            summary().to_value().unwrap(),
            json!({
                "verifier": {"id": "https://hallmark.dev/verifier/cli", "version": {"hallmark": "0.1.0"}},
                "timeVerified": "2026-11-26T09:30:00Z",
                "resourceUri": "dist/app.tar",
                "policy": {"uri": "release.yaml", "digest": {"sha256": "a".repeat(64)}},
                "inputAttestations": [{"uri": "store sha256:…", "digest": {"sha256": "b".repeat(64)}}],
                "verificationResult": "PASSED",
                "verifiedLevels": ["SLSA_BUILD_LEVEL_2"],
                "slsaVersion": "1.0",
            })
        );
        let mut failed = summary();
        failed.verification_result = VerificationResult::Failed;
        failed.input_attestations.clear();
        let value = failed.to_value().unwrap();
        assert_eq!(value["verificationResult"], "FAILED");
        assert_eq!(value["inputAttestations"], json!([]));
    }

    #[test]
    fn round_trips_and_answers_what_readers_ask() {
        let read = VerificationSummary::from_value(&summary().to_value().unwrap()).unwrap();
        assert_eq!(read, summary());
        assert!(read.passed());
        assert_eq!(read.policy_digest(DigestAlgorithm::Sha256), Some(sha('a')));
        assert_eq!(read.policy_digest(DigestAlgorithm::Sha512), None);
    }

    #[test]
    fn reads_the_specification_example() {
        let example = json!({
            "verifier": {"id": "https://example.com/publication_verifier"},
            "timeVerified": "1985-04-12T23:20:50.52Z",
            "resourceUri": "https://example.com/example-1.2.3.tar.gz",
            "policy": {"uri": "https://example.com/example_tarball.policy", "digest": {"sha256": "1".repeat(64)}},
            "inputAttestations": [{"uri": "https://example.com/p.intoto.jsonl", "digest": {"sha256": "2".repeat(64)}}],
            "verificationResult": "PASSED",
            "verifiedLevels": ["SLSA_BUILD_LEVEL_3"],
            "dependencyLevels": {"SLSA_BUILD_LEVEL_3": 5, "SLSA_BUILD_LEVEL_2": 7, "SLSA_BUILD_LEVEL_1": 1},
            "slsaVersion": "1.0",
            "https://example.com/extension": true,
        });
        let read = VerificationSummary::from_value(&example).unwrap();
        assert_eq!(read.dependency_levels.unwrap()["SLSA_BUILD_LEVEL_2"], 7);
        // Optional fields may be absent.
        let minimal = json!({
            "verifier": {"id": "v"}, "timeVerified": "2026-01-01T00:00:00Z", "resourceUri": "r",
            "policy": {"uri": "p"}, "verificationResult": "FAILED", "verifiedLevels": ["FAILED"],
        });
        let read = VerificationSummary::from_value(&minimal).unwrap();
        assert!(!read.passed() && read.input_attestations.is_empty());
    }

    #[test]
    fn refuses_what_a_reader_cannot_rely_on() {
        let good = summary().to_value().unwrap();
        let with = |pointer: &str, value: Value| {
            let mut v = good.clone();
            *v.pointer_mut(pointer).unwrap() = value;
            v
        };
        let without = |key: &str| {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove(key);
            v
        };
        let cases = [
            (
                "lowercase result",
                with("/verificationResult", json!("passed")),
            ),
            (
                "unknown result",
                with("/verificationResult", json!("MAYBE")),
            ),
            ("no result", without("verificationResult")),
            ("no time", without("timeVerified")),
            ("bad time", with("/timeVerified", json!("last tuesday"))),
            ("no verifier id", with("/verifier/id", json!(""))),
            ("no verifier", without("verifier")),
            ("no resource", with("/resourceUri", json!(""))),
            ("no policy uri", with("/policy/uri", json!(""))),
            (
                "short policy digest",
                with("/policy/digest/sha256", json!("abc")),
            ),
            (
                "input without digest",
                with("/inputAttestations/0/digest", json!({})),
            ),
            (
                "bad input digest",
                with("/inputAttestations/0/digest/sha256", json!("zz")),
            ),
            ("no levels", without("verifiedLevels")),
            ("levels not strings", with("/verifiedLevels", json!([3]))),
            ("not an object", json!("PASSED")),
        ];
        for (name, value) in cases {
            assert!(VerificationSummary::from_value(&value).is_err(), "{name}");
        }
        let mut unsigned = summary();
        unsigned.policy.uri.clear();
        assert!(matches!(
            unsigned.to_value(),
            Err(Error::Field { field, .. }) if field == "policy.uri"
        ));
    }
}
