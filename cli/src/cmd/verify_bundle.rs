//! `hallmark verify-bundle`: verify one Sigstore bundle offline (the sigstore-conformance client
//! protocol).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use hallmark_attester::hashing::{hash_file, sha256};
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::Digest;
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_KEY_BYTES};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::error::Error as SigstoreError;
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher, arcs};
use hallmark_verifier::sigstore::trust_root::{OTHER_INSTANCE_CODES, TrustRoots};
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, SigstoreVerified, verify_bundle};

use serde_json::{Value, json};

use crate::Outcome;
use crate::render::Format;

/// The `schemaVersion` of `verify-bundle --format json` (docs/schemas/verify-bundle-v1.json).
pub const VERIFY_BUNDLE_SCHEMA: &str = "https://hallmark.dev/schemas/verify-bundle/v1";
use crate::signing::read_limited;

/// Largest artifact read into memory (only Ed25519 message signatures need the bytes).
const MAX_ARTIFACT_IN_MEMORY: u64 = 256 * 1024 * 1024;

/// Who must have signed a keyless bundle.
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// The certificate identity (e-mail or URI SAN) that must have signed.
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,
    /// A regular expression the whole certificate identity must match.
    #[arg(long, value_name = "REGEX")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer that must have vouched for the identity.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// A regular expression the whole OIDC issuer must match.
    #[arg(long, value_name = "REGEX")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// The workflow that signed (Fulcio Build Signer URI), e.g. https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.
    #[arg(long, value_name = "URI")]
    pub signer_workflow: Option<String>,
    /// The source repository URI, e.g. https://github.com/o/r.
    #[arg(long, value_name = "URI")]
    pub source_repository: Option<String>,
    /// The source ref, e.g. refs/heads/main.
    #[arg(long, value_name = "REF")]
    pub source_ref: Option<String>,
    /// The source commit digest.
    #[arg(long, value_name = "SHA")]
    pub source_digest: Option<String>,
    /// The runner environment (github-hosted, self-hosted).
    #[arg(long, value_name = "ENV")]
    pub runner_environment: Option<String>,
}

fn matcher(exact: &Option<String>, regexp: &Option<String>) -> Result<Option<Matcher>> {
    Ok(match (exact, regexp) {
        (Some(e), _) => Some(Matcher::Exact(e.clone())),
        (None, Some(r)) => Some(Matcher::regex(r)?),
        (None, None) => None,
    })
}

impl IdentityArgs {
    /// The policy, if an identity was given; both identity and issuer are required together.
    pub fn policy(&self) -> Result<Option<IdentityPolicy>> {
        let identity = matcher(
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        )?;
        let issuer = matcher(
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
        )?;
        let (identity, issuer) = match (identity, issuer) {
            (Some(i), Some(o)) => (i, o),
            (None, None) => return Ok(None),
            _ => bail!(
                "--certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] go together"
            ),
        };
        let extensions = [
            (
                arcs::BUILD_SIGNER_URI,
                &self.signer_workflow,
                "--signer-workflow",
            ),
            (
                arcs::SOURCE_REPOSITORY_URI,
                &self.source_repository,
                "--source-repository",
            ),
            (
                arcs::SOURCE_REPOSITORY_REF,
                &self.source_ref,
                "--source-ref",
            ),
            (
                arcs::SOURCE_REPOSITORY_DIGEST,
                &self.source_digest,
                "--source-digest",
            ),
            (
                arcs::RUNNER_ENVIRONMENT,
                &self.runner_environment,
                "--runner-environment",
            ),
        ]
        .into_iter()
        .filter_map(|(arc, value, flag)| {
            value
                .as_ref()
                .map(|v| (arc, Matcher::Exact(v.clone()), flag))
        })
        .collect();
        Ok(Some(IdentityPolicy {
            identity,
            issuer,
            extensions,
        }))
    }
}

/// Arguments of `hallmark verify-bundle`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark verify-bundle --bundle a.sigstore.json \\\n    \
--certificate-identity https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1 \\\n    \
--certificate-oidc-issuer https://token.actions.githubusercontent.com a.txt\n  \
hallmark verify-bundle --bundle a.sigstore.json --key cosign.pub sha256:<hex>\n\n\
Verification is offline, against the trust roots of --trusted-root, else the last `hallmark trust update`, \
else the embedded public-good snapshot (--staging: the embedded staging root). \
Exit codes: 0 verified, 1 rejected, 2 error."
)]
pub struct Args {
    /// Use the embedded public-good staging trust root.
    #[arg(long)]
    pub staging: bool,
    /// The Sigstore bundle to verify.
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Verify a bundle signed with this public key (PEM) instead of a certificate.
    #[arg(long, value_name = "PEM", conflicts_with_all = ["certificate_identity", "certificate_identity_regexp"])]
    pub key: Option<PathBuf>,
    /// Sigstore trust roots: a trusted_root.json, a ClientTrustConfig, or JSON lines of roots
    /// (`gh attestation trusted-root`). Repeatable; the bundle verifies if one root verifies it.
    /// Default: the last `hallmark trust update`, else the embedded public-good snapshot.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Vec<PathBuf>,
    /// Output format: plain words, or one JSON document (docs/schemas/verify-bundle-v1.json).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// The artifact: a file, or sha256:HEX.
    #[arg(value_name = "FILE_OR_DIGEST")]
    pub artifact: String,
}

/// Trust that cannot be used is an error (exit 2), led by its stable code.
fn trust_roots(args: &Args) -> Result<TrustRoots> {
    if args.staging && args.trusted_root.is_empty() {
        let staging = embedded::staging()
            .map_err(|e| crate::coded::coded(e.code(), format!("embedded staging: {e}")))?;
        return Ok(staging.into());
    }
    Ok(crate::roots::resolve(&args.trusted_root)?.roots)
}

/// Runs `hallmark verify-bundle`.
pub fn run(args: Args) -> Result<Outcome> {
    let trust = trust_roots(&args)?;
    let policy = args.identity.policy()?;
    let key = match &args.key {
        Some(path) => Some(
            TrustedKey::from_pem(
                &read_limited(path, MAX_KEY_BYTES)?,
                &path.display().to_string(),
            )
            .map_err(|e| crate::coded::coded(e.code(), e.to_string()))?,
        ),
        None => None,
    };
    let signer = match (&policy, &key) {
        (Some(p), None) => SignerTrust::Identity(p),
        (None, Some(k)) => SignerTrust::Key(k.key()),
        _ => bail!("pass --certificate-identity with --certificate-oidc-issuer, or --key"),
    };
    let bundle = read_limited(&args.bundle, MAX_BUNDLE_BYTES)?;
    let path = Path::new(&args.artifact);
    let (digest, bytes): (Digest, Option<Vec<u8>>) = if path.is_file() {
        // Read the file once: small artifacts are kept (Ed25519 message signatures need the
        // bytes) and hashed in memory; large ones are hashed as a stream.
        let small = std::fs::metadata(path)
            .map(|m| m.len() <= MAX_ARTIFACT_IN_MEMORY)
            .unwrap_or(false);
        if small {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            (sha256(&bytes), Some(bytes))
        } else {
            (hash_file(path)?, None)
        }
    } else {
        (
            args.artifact
                .parse()
                .with_context(|| format!("{} is neither a file nor sha256:HEX", args.artifact))?,
            None,
        )
    };
    let artifact = Artifact {
        sha256: &digest,
        bytes: bytes.as_deref(),
    };
    let by_identity = matches!(signer, SignerTrust::Identity(_));
    let now = SystemTime::now();
    let result = trust.first_verifying(
        |root| verify_bundle(&bundle, artifact, root, signer, now),
        |e| OTHER_INSTANCE_CODES.contains(&e.code()),
    );
    let hint = result.is_err() && by_identity && signed_with_key(&bundle);
    if args.format == Format::Json {
        let doc = document(&args.artifact, &digest, key.as_ref(), &result);
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    match result {
        Ok(v) => {
            let who = match (&v.identity, &v.issuer) {
                (Some(id), Some(iss)) => format!("{id} (issuer {iss})"),
                _ => "the given key".to_owned(),
            };
            let when = v.times.iter().min().map(|t| time(*t));
            if args.format == Format::Human {
                println!(
                    "OK: {} signed by {who}{}",
                    args.artifact,
                    when.map(|w| format!(", at {w}")).unwrap_or_default()
                );
            }
            Ok(Outcome::Success)
        }
        Err(e) => {
            if args.format == Format::Human {
                // The stable code first (docs/error-codes.md), for scripts; then the words.
                println!("REJECTED: {}: {}: {e}", args.artifact, e.code());
            }
            if hint {
                eprintln!("hallmark: hint: the bundle is signed with a key: verify it with --key");
            }
            Ok(Outcome::Denied)
        }
    }
}

fn time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The JSON document of a verification: the same spellings as `verify`'s (`signers`, `code`,
/// `message`), whether it verified or not.
fn document(
    artifact: &str,
    digest: &Digest,
    key: Option<&TrustedKey>,
    result: &Result<SigstoreVerified, SigstoreError>,
) -> Value {
    let (verified, rejection) = match result {
        Ok(v) => (Some(v), Value::Null),
        Err(e) => (None, json!({"code": e.code(), "message": e.to_string()})),
    };
    let signers: Vec<Value> = match (verified, key) {
        (Some(v), _) if v.identity.is_some() => vec![json!({"identity": v.identity})],
        (Some(_), Some(k)) => vec![json!({"keyid": k.keyid(), "key": k.origin()})],
        _ => Vec::new(),
    };
    json!({
        "schemaVersion": VERIFY_BUNDLE_SCHEMA,
        "artifact": artifact,
        "digest": digest.to_string(),
        "verified": verified.is_some(),
        "signers": signers,
        "issuer": verified.and_then(|v| v.issuer.clone()),
        "times": verified.map(|v| v.times.iter().map(|t| time(*t)).collect::<Vec<_>>()).unwrap_or_default(),
        "tlogEntries": verified.map_or(0, |v| v.tlog_entries),
        "predicateType": verified.and_then(|v| v.statement.as_ref()).map(|s| s.predicate_type.clone()),
        "extensions": verified.map(|v| json!(v.extensions)).unwrap_or_else(|| json!({})),
        "rejection": rejection,
    })
}

/// True for a bundle that carries no certificate, i.e. one signed with a key.
fn signed_with_key(bytes: &[u8]) -> bool {
    Bundle::from_slice(bytes).is_ok_and(|b| {
        b.verification_material.certificate.is_none()
            && b.verification_material.x509_certificate_chain.is_none()
    })
}
