//! The rows one verified attestation yields: who signed, what it names, what went in, and the
//! typed records (approval, deployment, lot, SBOM packages). Pure: no database here.

use hallmark_model::approval::{APPROVAL_V1, Approval};
use hallmark_model::deployment::{DEPLOYMENT_V1, Deployment};
use hallmark_model::digest::DigestSet;
use hallmark_model::lot::{LOT_V1, Lot, subject_name};
use hallmark_model::provenance::{SLSA_PROVENANCE_V0_2, SLSA_PROVENANCE_V1};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::sbom::purl::Purl;
use hallmark_model::signer::SignerDetails;
use hallmark_model::text::printable;
use hallmark_model::vsa::VSA_V1;
use hallmark_verifier::attestation::VerifiedAttestation;
use serde_json::Value;

use crate::time::{parse_micros, to_micros};

/// `alg:hex` of every entry of a digest set (the index matches on any shared algorithm).
pub(crate) fn all_digests(set: &DigestSet) -> Vec<String> {
    set.iter()
        .map(|(alg, v)| format!("{alg}:{}", v.to_ascii_lowercase()))
        .collect()
}

/// The one digest an artifact is filed under in deployments, approvals and packages: SHA-256,
/// else SHA-512, else SHA-384, else the first other entry that is not a git commit.
pub(crate) fn primary_digest(set: &DigestSet) -> Option<String> {
    let (alg, value) = ["sha256", "sha512", "sha384"]
        .iter()
        .find_map(|alg| set.get_key_value(*alg))
        .or_else(|| set.iter().find(|(alg, _)| *alg != "gitCommit"))?;
    Some(format!("{alg}:{}", value.to_ascii_lowercase()))
}

/// A signer row.
pub(crate) struct SignerRow {
    pub(crate) kind: &'static str,
    pub(crate) value: String,
    pub(crate) issuer: String,
}

/// A deployment row (one per subject of the record).
pub(crate) struct DeploymentRow {
    pub(crate) artifact: String,
    pub(crate) record: Deployment,
}

/// A package row.
pub(crate) struct PackageRow {
    pub(crate) artifact: String,
    pub(crate) purl: String,
    pub(crate) package: String,
    pub(crate) version: Option<String>,
    pub(crate) name: String,
}

/// Everything one attestation yields.
pub(crate) struct Facts {
    pub(crate) signers_json: String,
    pub(crate) signers: Vec<SignerRow>,
    pub(crate) signed_at: Option<i64>,
    pub(crate) claimed_at: Option<i64>,
    /// A verification summary's `verificationResult` (`PASSED`, `FAILED`).
    pub(crate) result: Option<String>,
    /// (digest, the subject's primary digest, name)
    pub(crate) subjects: Vec<(String, String, String)>,
    /// (digest, uri)
    pub(crate) materials: Vec<(String, String)>,
    /// (artifact, approval)
    pub(crate) approvals: Vec<(String, Approval)>,
    pub(crate) deployments: Vec<DeploymentRow>,
    pub(crate) lot: Option<Lot>,
    pub(crate) packages: Vec<PackageRow>,
    /// Why a typed record was not filed (the attestation itself still is).
    pub(crate) notes: Vec<String>,
}

fn materials(predicate_type: &str, predicate: Option<&Value>) -> Vec<(String, String)> {
    let pointer = match predicate_type {
        SLSA_PROVENANCE_V1 => "/buildDefinition/resolvedDependencies",
        SLSA_PROVENANCE_V0_2 => "/materials",
        _ => return Vec::new(),
    };
    let Some(list) = predicate
        .and_then(|p| p.pointer(pointer))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for item in list {
        let Ok(d) = serde_json::from_value::<ResourceDescriptor>(item.clone()) else {
            continue;
        };
        // The git source is recorded as the attestation's source, not as a material.
        if d.uri.starts_with("git+") || d.digest.contains_key("gitCommit") {
            continue;
        }
        let uri = if d.uri.is_empty() {
            d.name.clone()
        } else {
            d.uri.clone()
        };
        for digest in all_digests(&d.digest) {
            rows.push((digest, uri.clone()));
        }
    }
    rows
}

fn signer_rows(details: &[SignerDetails]) -> Vec<SignerRow> {
    details
        .iter()
        .map(|d| match d {
            SignerDetails::Key { keyid } => SignerRow {
                kind: "key",
                value: keyid.clone(),
                issuer: String::new(),
            },
            SignerDetails::Certificate {
                identity, issuer, ..
            } => SignerRow {
                kind: "identity",
                value: identity.clone(),
                issuer: issuer.clone(),
            },
        })
        .collect()
}

impl Facts {
    /// The rows of `attestation`.
    pub(crate) fn of(attestation: &VerifiedAttestation) -> Facts {
        let statement = attestation.statement();
        let predicate = statement.predicate.as_ref();
        let predicate_type = attestation.predicate_type();
        let artifacts: Vec<String> = statement
            .subject
            .iter()
            .filter_map(|s| primary_digest(&s.digest))
            .collect();
        let mut facts = Facts {
            signers_json: serde_json::to_string(attestation.signer_details())
                .unwrap_or_else(|_| "[]".to_owned()),
            signers: signer_rows(attestation.signer_details()),
            signed_at: attestation
                .verified_times()
                .iter()
                .filter_map(|t| parse_micros(t))
                .min(),
            claimed_at: attestation.provenance().and_then(|p| {
                p.finished_on
                    .as_deref()
                    .or(p.started_on.as_deref())
                    .and_then(parse_micros)
            }),
            subjects: statement
                .subject
                .iter()
                .flat_map(|s| {
                    let primary = primary_digest(&s.digest).unwrap_or_default();
                    all_digests(&s.digest)
                        .into_iter()
                        .map(move |d| (d, primary.clone(), s.name.clone()))
                })
                .collect(),
            materials: materials(predicate_type, predicate),
            result: (predicate_type == VSA_V1)
                .then(|| predicate?.get("verificationResult")?.as_str())
                .flatten()
                .map(printable),
            approvals: Vec::new(),
            deployments: Vec::new(),
            lot: None,
            packages: Vec::new(),
            notes: Vec::new(),
        };
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            format!("not filed as a {what}: {}", printable(&e.to_string()))
        };
        match (predicate_type, predicate) {
            (APPROVAL_V1, Some(p)) => match Approval::from_value(p) {
                Ok(a) => {
                    facts.claimed_at = Some(to_micros(a.approved_at.time()));
                    facts.approvals = artifacts.iter().map(|d| (d.clone(), a.clone())).collect();
                }
                Err(e) => facts.notes.push(invalid("approval", &e)),
            },
            (DEPLOYMENT_V1, Some(p)) => match Deployment::from_value(p) {
                Ok(d) => {
                    facts.claimed_at = Some(to_micros(d.deployed_at.time()));
                    facts.deployments = artifacts
                        .iter()
                        .map(|a| DeploymentRow {
                            artifact: a.clone(),
                            record: d.clone(),
                        })
                        .collect();
                }
                Err(e) => facts.notes.push(invalid("deployment", &e)),
            },
            (LOT_V1, Some(p)) => match Lot::from_value(p) {
                // The subject must be the lot the predicate describes, named and hashed as
                // docs/lot-v1.md says, or a lot could be filed under another's name, or a lot
                // record could stand as evidence about another artifact's digest.
                Ok(lot)
                    if statement
                        .subject
                        .iter()
                        .any(|s| is_lot_subject(&s.name, &s.digest, &lot.lot)) =>
                {
                    facts.claimed_at = Some(to_micros(lot.from.time()));
                    facts.lot = Some(lot);
                }
                Ok(lot) => facts.notes.push(format!(
                    "not filed as a lot: no subject is named {} with the SHA-256 of that name \
                     as its digest",
                    printable(&subject_name(&lot.lot))
                )),
                Err(e) => facts.notes.push(invalid("lot", &e)),
            },
            _ => {}
        }
        if let Some(inventory) = attestation.sbom() {
            for component in &inventory.components {
                let Some(purl) = component.purl.as_deref() else {
                    continue;
                };
                let parsed = Purl::parse(purl).ok();
                let package = component
                    .package
                    .clone()
                    .or_else(|| parsed.as_ref().map(|p| p.package.clone()))
                    .unwrap_or_else(|| purl.to_owned());
                let version = parsed
                    .and_then(|p| p.version)
                    .or_else(|| component.version.clone());
                for artifact in &artifacts {
                    facts.packages.push(PackageRow {
                        artifact: artifact.clone(),
                        purl: purl.to_owned(),
                        package: package.clone(),
                        version: version.clone(),
                        name: component.name.clone(),
                    });
                }
            }
        }
        facts
    }
}

/// True when a subject is lot `id`'s: named `lot:<ID>`, with the SHA-256 of that name as its
/// `sha256` digest (and no other digest claiming otherwise).
fn is_lot_subject(name: &str, digest: &DigestSet, id: &str) -> bool {
    let expected = subject_name(id);
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, expected.as_bytes());
    name == expected
        && digest.len() == 1
        && digest
            .get("sha256")
            .is_some_and(|v| v.eq_ignore_ascii_case(&hallmark_model::hex::encode(hash.as_ref())))
}

/// Every scope a target lies in: `a`, `a/b`, `a/b/c` for `a/b/c` (a lot made on `a/b` finds
/// deployments on `a/b/c` by an exact match on `a/b`).
pub(crate) fn scopes(target: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, c) in target.char_indices() {
        if c == '/' {
            out.push(target[..i].to_owned());
        }
    }
    out.push(target.to_owned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_of_a_target_are_its_prefixes() {
        assert_eq!(scopes("a/b/c"), ["a", "a/b", "a/b/c"]);
        assert_eq!(scopes("a"), ["a"]);
    }

    #[test]
    fn the_primary_digest_prefers_sha256_and_never_a_commit() {
        let set: DigestSet = [
            ("sha512".to_owned(), "BB".to_owned()),
            ("sha256".to_owned(), "AA".to_owned()),
        ]
        .into();
        assert_eq!(primary_digest(&set).as_deref(), Some("sha256:aa"));
        let commit: DigestSet = [("gitCommit".to_owned(), "abc".to_owned())].into();
        assert_eq!(primary_digest(&commit), None);
    }
}
