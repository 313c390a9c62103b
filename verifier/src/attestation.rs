//! Verification of one attestation bundle against trusted keys.

use std::sync::Arc;

use hallmark_model::approval::APPROVAL_V1;
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::Digest;
use hallmark_model::dsse::Envelope;
use hallmark_model::limits::MAX_DSSE_SIGNATURES;
use hallmark_model::provenance::{Provenance, SLSA_PROVENANCE_V0_2, SLSA_PROVENANCE_V1, step_name};
use hallmark_model::sbom::format_of_type;
use hallmark_model::sbom::inventory::Inventory;
use hallmark_model::signer::SignerDetails;
use hallmark_model::statement::Statement;
use hallmark_model::text::printable;
use hallmark_model::vsa::VSA_V1;
use serde::Serialize;
use serde_json::Value;

use crate::Rejection;
use crate::keys::{KeyId, TrustedKey};
use crate::sigstore::verify::statement_of;

/// How many DSSE signatures an envelope must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignaturePolicy {
    /// Exactly one signature, from a trusted key (the default).
    #[default]
    ExactlyOne,
    /// At least this many signatures, each from a different trusted key.
    Threshold(usize),
}

/// What the provenance predicate says, when it is SLSA provenance v1.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceSummary {
    /// The buildType.
    pub build_type: String,
    /// The builder id.
    pub builder_id: String,
    /// The Hallmark step name, for step provenance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The source URI (a `git+` dependency), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_uri: Option<String>,
    /// The source commit, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_commit: Option<String>,
    /// When the build started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
    /// The build command's exit code, when the provenance records one (Hallmark steps do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Whether the source tree had uncommitted changes, when the provenance says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_dirty: Option<bool>,
    /// What the CI platform claimed as the source when it disagreed with the checkout that was
    /// built (the source's `ciCommit`/`ciRef`/`ciRepository` annotations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ci_claim: Option<CiClaim>,
    /// The CI pipeline run that ran the step (every job and attempt of one run share it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_run: Option<String>,
}

/// The source a CI platform claimed when the checkout was at another commit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiClaim {
    /// The commit the platform named (`GITHUB_SHA`, `CI_COMMIT_SHA`).
    pub commit: String,
    /// The ref it named.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// The repository it named.
    pub repository: Option<String>,
}

/// An attestation whose signature, statement and subject have been checked. Only this crate can
/// make one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedAttestation {
    statement: Statement,
    signers: Vec<String>,
    signer_details: Vec<SignerDetails>,
    verified_times: Vec<String>,
    provenance: Option<ProvenanceSummary>,
    /// Read once per bundle; the statement holds the document itself.
    #[serde(skip)]
    sbom: Option<Arc<Inventory>>,
}

impl VerifiedAttestation {
    /// The verified statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The predicate type.
    pub fn predicate_type(&self) -> &str {
        &self.statement.predicate_type
    }

    /// Keyids of the trusted keys whose signatures verified.
    pub fn signers(&self) -> &[String] {
        &self.signers
    }

    /// Each signer in detail: a key's id, or a keyless certificate's identity, issuer and
    /// Fulcio extensions.
    pub fn signer_details(&self) -> &[SignerDetails] {
        &self.signer_details
    }

    /// Times of signing proven by a transparency log or a timestamp authority (RFC 3339);
    /// empty for key-signed attestations, whose times are only claimed.
    pub fn verified_times(&self) -> &[String] {
        &self.verified_times
    }

    /// The provenance summary, for SLSA provenance v1 predicates.
    pub fn provenance(&self) -> Option<&ProvenanceSummary> {
        self.provenance.as_ref()
    }

    /// The Hallmark step this attestation records, if any.
    pub fn step(&self) -> Option<&str> {
        self.provenance.as_ref()?.step.as_deref()
    }

    /// The inventory, for an SBOM predicate (CycloneDX or SPDX; docs/sbom.md).
    pub fn sbom(&self) -> Option<&Inventory> {
        self.sbom.as_deref()
    }
}

/// An attestation whose signatures (or Sigstore evidence) verified, before it is matched to an
/// artifact: what a decision remembers per bundle, so a bundle listed for many digests is
/// verified once.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    statement: Statement,
    signers: Vec<String>,
    signer_details: Vec<SignerDetails>,
    verified_times: Vec<String>,
    /// The same verified times, for revocation (earliest first is not assumed).
    verified_at: Vec<std::time::SystemTime>,
    /// Checked once; reported only for an artifact the statement names.
    provenance: Result<Option<ProvenanceSummary>, Rejection>,
    /// Likewise, the inventory of an SBOM predicate.
    sbom: Result<Option<Arc<Inventory>>, Rejection>,
}

impl Signed {
    /// A statement from a verified keyless Sigstore bundle: `signer` for messages and simple
    /// policies, `details` with the issuer and extensions, and the verified times.
    pub(crate) fn from_sigstore(
        statement: Statement,
        signer: String,
        details: SignerDetails,
        times: &[std::time::SystemTime],
    ) -> Self {
        let provenance = summarize(&statement);
        let sbom = inventory(&statement);
        Signed {
            sbom,
            statement,
            signers: vec![signer],
            signer_details: vec![details],
            verified_times: times
                .iter()
                .map(|t| humantime::format_rfc3339_seconds(*t).to_string())
                .collect(),
            verified_at: times.to_vec(),
            provenance,
        }
    }

    /// The signed statement.
    pub(crate) fn statement(&self) -> &Statement {
        &self.statement
    }

    /// Who signed, for messages (keyids, or a certificate's identity and issuer).
    pub(crate) fn signer_names(&self) -> &[String] {
        &self.signers
    }

    /// Who signed, in detail.
    pub(crate) fn signer_details(&self) -> &[SignerDetails] {
        &self.signer_details
    }

    /// The verified signing times (none for key-signed bundles).
    pub(crate) fn verified_at(&self) -> &[std::time::SystemTime] {
        &self.verified_at
    }

    /// The signed statement's predicate type.
    pub(crate) fn predicate_type(&self) -> &str {
        &self.statement.predicate_type
    }

    /// The attestation for the artifact `digest`: the statement must name it, and its
    /// predicate must be valid.
    pub(crate) fn for_artifact(&self, digest: &Digest) -> Result<VerifiedAttestation, Rejection> {
        check_subject(&self.statement, digest)?;
        self.clone().into_verified()
    }

    /// Like [`Self::for_artifact`] when this is the only artifact: nothing is copied.
    fn into_artifact(self, digest: &Digest) -> Result<VerifiedAttestation, Rejection> {
        check_subject(&self.statement, digest)?;
        self.into_verified()
    }

    /// The attestation for every subject it names (its predicate must still be valid).
    pub(crate) fn into_verified(self) -> Result<VerifiedAttestation, Rejection> {
        Ok(VerifiedAttestation {
            statement: self.statement,
            signers: self.signers,
            signer_details: self.signer_details,
            verified_times: self.verified_times,
            provenance: self.provenance?,
            sbom: self.sbom?,
        })
    }
}

/// Verifies a serialized bundle for the artifact `digest`.
pub fn verify_bundle(
    bytes: &[u8],
    digest: &Digest,
    keys: &[TrustedKey],
    policy: SignaturePolicy,
) -> Result<VerifiedAttestation, Rejection> {
    let bundle = Bundle::from_slice(bytes).map_err(|e| Rejection::Bundle(e.to_string()))?;
    verify_key_signed(&bundle, keys, policy, &mut |_| Ok(()))?.into_artifact(digest)
}

/// Checks a parsed key-signed bundle for any artifact ([`Signed::for_artifact`] matches one).
pub(crate) fn verify_key_signed(
    bundle: &Bundle,
    keys: &[TrustedKey],
    policy: SignaturePolicy,
    charge: &mut dyn FnMut(u64) -> Result<(), Rejection>,
) -> Result<Signed, Rejection> {
    let vm = &bundle.verification_material;
    if vm.certificate.is_some() || vm.x509_certificate_chain.is_some() {
        return Err(Rejection::Keyless);
    }
    let envelope = bundle.dsse_envelope.as_ref().ok_or(Rejection::NotDsse)?;
    verify_signed(envelope, keys, policy, charge)
}

/// Verifies a DSSE envelope (bare, or from a bundle) for the artifact `digest`.
pub fn verify_envelope(
    envelope: &Envelope,
    digest: &Digest,
    keys: &[TrustedKey],
    policy: SignaturePolicy,
) -> Result<VerifiedAttestation, Rejection> {
    verify_signed(envelope, keys, policy, &mut |_| Ok(()))?.into_artifact(digest)
}

/// Signatures, payload type and statement; `charge` is called before each signature check
/// (the decision's budget).
pub(crate) fn verify_signed(
    envelope: &Envelope,
    keys: &[TrustedKey],
    policy: SignaturePolicy,
    charge: &mut dyn FnMut(u64) -> Result<(), Rejection>,
) -> Result<Signed, Rejection> {
    let signers = check_signatures(envelope, keys, policy, charge)?;
    let statement = statement_of(envelope)?;
    let provenance = summarize(&statement);
    let sbom = inventory(&statement);
    Ok(Signed {
        sbom,
        statement,
        signer_details: signers
            .iter()
            .map(|id| SignerDetails::key(id.clone()))
            .collect(),
        signers,
        verified_times: Vec::new(),
        verified_at: Vec::new(),
        provenance,
    })
}

fn check_subject(statement: &Statement, digest: &Digest) -> Result<(), Rejection> {
    if statement.subjects_matching(digest).next().is_some() {
        return Ok(());
    }
    let subjects = statement
        .subject
        .iter()
        .take(5)
        .map(|s| {
            let d = s
                .digest
                .iter()
                .next()
                .map(|(a, v)| printable(&format!("{a}:{v}")))
                .unwrap_or_default();
            if s.name.is_empty() {
                d
            } else {
                format!("{} {d}", printable(&s.name))
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(Rejection::Subject {
        digest: digest.to_string(),
        subjects,
    })
}

/// The message each signature must cover, hashed at most once per digest algorithm however
/// many signatures and keys are tried.
struct Message {
    bytes: Vec<u8>,
    digests: Vec<aws_lc_rs::digest::Digest>,
}

impl Message {
    fn verifies(&mut self, key: &TrustedKey, signature: &[u8]) -> bool {
        let Some(algorithm) = key.key().algorithm().digest() else {
            return key.verifies(&self.bytes, signature);
        };
        let digest = match self.digests.iter().find(|d| d.algorithm() == algorithm) {
            Some(d) => d,
            None => {
                self.digests
                    .push(aws_lc_rs::digest::digest(algorithm, &self.bytes));
                let Some(d) = self.digests.last() else {
                    return false;
                };
                d
            }
        };
        key.key().verify_digest(digest, signature)
    }
}

fn check_signatures(
    envelope: &Envelope,
    keys: &[TrustedKey],
    policy: SignaturePolicy,
    charge: &mut dyn FnMut(u64) -> Result<(), Rejection>,
) -> Result<Vec<KeyId>, Rejection> {
    let found = envelope.signatures.len();
    // Before anything else: a flood of signatures is refused unread.
    if found > MAX_DSSE_SIGNATURES {
        return Err(Rejection::TooManySignatures {
            found,
            limit: MAX_DSSE_SIGNATURES,
        });
    }
    if policy == SignaturePolicy::Threshold(0) {
        // A threshold of zero would accept an unsigned envelope.
        return Err(Rejection::SignatureCount {
            found,
            required: "at least 1".to_owned(),
        });
    }
    let (count_ok, required) = match policy {
        SignaturePolicy::ExactlyOne => (found == 1, "exactly 1".to_owned()),
        SignaturePolicy::Threshold(n) => (found >= n, format!("at least {n}")),
    };
    if !count_ok {
        return Err(Rejection::SignatureCount { found, required });
    }
    let mut message = Message {
        bytes: envelope.signed_bytes(),
        digests: Vec::new(),
    };
    let mut signers: Vec<KeyId> = Vec::new();
    for signature in &envelope.signatures {
        for key in keys {
            if signers.iter().any(|s| s == key.keyid()) {
                continue;
            }
            charge(1)?;
            if message.verifies(key, &signature.sig) {
                signers.push(key.keyid().to_owned());
                break;
            }
        }
    }
    let needed = match policy {
        SignaturePolicy::ExactlyOne => 1,
        SignaturePolicy::Threshold(n) => n,
    };
    if signers.len() < needed {
        let keyid = envelope
            .signatures
            .iter()
            .map(|s| {
                if s.keyid.is_empty() {
                    "(no keyid)".to_owned()
                } else {
                    printable(&s.keyid)
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Rejection::Signature { keyid });
    }
    Ok(signers)
}

/// The run of a GitHub Actions invocation id (`…/actions/runs/N/attempts/M` → `…/actions/runs/N`):
/// the jobs and re-run attempts of one workflow run share it.
fn github_run(invocation: &str) -> Option<String> {
    let (run, attempt) = invocation.rsplit_once("/attempts/")?;
    (run.contains("/actions/runs/") && attempt.bytes().all(|b| b.is_ascii_digit()))
        .then(|| run.to_owned())
}

/// Predicate types whose specifications require fields of the predicate: a statement of one of
/// these types without a predicate does not satisfy its type. (in-toto makes the predicate
/// optional for types that need none, such as cosign's `https://sigstore.dev/cosign/sign/v1`.)
const PREDICATE_REQUIRED: &[&str] = &[
    SLSA_PROVENANCE_V1,
    SLSA_PROVENANCE_V0_2,
    "https://slsa.dev/provenance/v0.1",
    VSA_V1,
    "https://slsa.dev/verification_summary/v0.2",
    APPROVAL_V1,
];

/// The statement's predicate, or a rejection when its type requires one and it has none.
fn required_predicate(statement: &Statement) -> Result<Option<&Value>, Rejection> {
    let predicate_type = statement.predicate_type.as_str();
    match &statement.predicate {
        Some(predicate) => Ok(Some(predicate)),
        None if PREDICATE_REQUIRED.contains(&predicate_type) => Err(Rejection::Predicate {
            predicate_type: printable(predicate_type),
            message: "the statement has no predicate".to_owned(),
        }),
        None => Ok(None),
    }
}

fn summarize(statement: &Statement) -> Result<Option<ProvenanceSummary>, Rejection> {
    let Some(predicate) = required_predicate(statement)? else {
        return Ok(None);
    };
    if statement.predicate_type != SLSA_PROVENANCE_V1 {
        return Ok(None);
    }
    let provenance = Provenance::from_value(predicate).map_err(|e| Rejection::Predicate {
        predicate_type: SLSA_PROVENANCE_V1.to_owned(),
        message: e.to_string(),
    })?;
    let source = provenance
        .build_definition
        .resolved_dependencies
        .iter()
        .find(|d| d.uri.starts_with("git+") || d.digest.contains_key("gitCommit"));
    let metadata = provenance.run_details.metadata.clone().unwrap_or_default();
    let internal = provenance.build_definition.internal_parameters.as_ref();
    let annotation = |key: &str| source.and_then(|s| s.annotations.get(key));
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let source_ci_claim = text(annotation("ciCommit")).map(|commit| CiClaim {
        commit,
        git_ref: text(annotation("ciRef")),
        repository: text(annotation("ciRepository")),
    });
    let source_dirty = annotation("dirty").and_then(Value::as_bool).or_else(|| {
        internal
            .and_then(|i| i.get("sourceDirty"))
            .and_then(Value::as_bool)
    });
    let pipeline_run = text(internal.and_then(|i| i.pointer("/ci/pipelineRun")))
        .or_else(|| github_run(metadata.invocation_id.as_deref()?));
    Ok(Some(ProvenanceSummary {
        exit_code: internal
            .and_then(|i| i.get("exitCode"))
            .and_then(Value::as_i64),
        source_dirty,
        source_ci_claim,
        pipeline_run,
        build_type: provenance.build_definition.build_type.clone(),
        builder_id: provenance.run_details.builder.id.clone(),
        step: step_name(predicate).map(str::to_owned),
        source_uri: source.map(|s| s.uri.clone()).filter(|u| !u.is_empty()),
        source_commit: source.and_then(|s| s.digest.get("gitCommit").cloned()),
        started_on: metadata.started_on,
        finished_on: metadata.finished_on,
    }))
}

/// The inventory of an SBOM predicate (CycloneDX or SPDX by its type): a document that is not
/// the format its type names does not satisfy the type.
fn inventory(statement: &Statement) -> Result<Option<Arc<Inventory>>, Rejection> {
    let predicate_type = statement.predicate_type.as_str();
    if format_of_type(predicate_type).is_none() {
        return Ok(None);
    }
    let invalid = |message: String| Rejection::Predicate {
        predicate_type: printable(predicate_type),
        message,
    };
    let predicate = statement
        .predicate
        .as_ref()
        .ok_or_else(|| invalid("the statement has no predicate".to_owned()))?;
    Inventory::from_predicate(predicate_type, predicate)
        .map(|i| Some(Arc::new(i)))
        .map_err(|e| invalid(printable(&e.to_string())))
}
