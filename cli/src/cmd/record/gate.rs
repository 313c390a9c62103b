//! `record deployment --policy`: the same decision `hallmark verify --policy P --environment E`
//! makes, through the one library call (`engine::decide_within`), before anything is signed.
//! Nothing here judges the evidence: the binary only asks and reports.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Result, bail};
use hallmark_model::budget::Budget;
use hallmark_verifier::engine::{self, Request, Trust};
use hallmark_verifier::policy::Policy;

use crate::cmd::verify_bundle::IdentityArgs;
use crate::evidence::{Evidence, SourceArgs, TrustArgs, explain, warn_notes};
use crate::registry::RegistryArgs;
use crate::render::{self, Format};
use crate::store::StoreArgs;

/// Who is trusted to have signed the evidence the policy reads (approvals, provenance, earlier
/// deployment records). Named `--trust-key` here because `--key` is the signing key.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustFlags {
    /// A trusted public key (PEM) for the evidence: approvers, builders, other deployers.
    /// Repeatable. (`hallmark verify --key`; a declarative policy's signers are trusted too.)
    #[arg(long, value_name = "PUB")]
    pub trust_key: Vec<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    /// Sigstore trust roots for keyless evidence (as `hallmark verify --trusted-root`). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Vec<PathBuf>,
}

impl TrustFlags {
    /// The flags as `hallmark verify` takes them.
    fn as_verify(&self) -> TrustArgs {
        TrustArgs {
            key: self.trust_key.clone(),
            threshold: None,
            identity: self.identity.clone(),
            trusted_root: self.trusted_root.clone(),
        }
    }

    /// The keys, identities and Sigstore roots these flags name.
    pub fn trust(&self) -> Result<Trust> {
        self.as_verify().trust()
    }
}

/// The artifact as `Evidence::gather` reads it: `NAME@sha256:HEX` is looked up by its digest.
fn lookup_form(artifact: &str) -> &str {
    if artifact.starts_with("oci://") || std::path::Path::new(artifact).exists() {
        return artifact;
    }
    match artifact.rsplit_once('@') {
        Some((_, digest)) if digest.contains(':') => digest,
        _ => artifact,
    }
}

/// Where the evidence is: the store (and the registry of an `oci://` artifact).
pub struct Place<'a> {
    /// The store.
    pub store: &'a StoreArgs,
    /// `--platform` of an image index.
    pub platform: Option<String>,
    /// How to reach registries.
    pub registry: &'a RegistryArgs,
}

/// Decides on `artifact` under `policy` for `environment`; `Ok(true)` when allowed. A denial is
/// rendered (the rules that failed) on stdout.
pub fn allowed(
    artifact: &str,
    policy_path: &std::path::Path,
    environment: Option<&str>,
    flags: &TrustFlags,
    place: &Place<'_>,
) -> Result<bool> {
    let policy = Policy::load(policy_path, false)?;
    let budget = Budget::default();
    let sources = SourceArgs {
        bundle: Vec::new(),
        store: place.store.clone(),
        platform: place.platform.clone(),
        registry: place.registry.clone(),
    };
    let evidence = Evidence::gather(lookup_form(artifact), &sources, &budget)?;
    let trust = flags.trust()?;
    let mut facts = serde_json::Map::new();
    if let Some(env) = environment {
        facts.insert("environment".to_owned(), env.into());
    }
    let request = Request {
        name: evidence.name.clone(),
        aliases: evidence.aliases.clone(),
        trust,
        policy: Some(&policy),
        facts,
        ..Request::new(evidence.digest.clone(), SystemTime::now())
    };
    let decision = match engine::decide_within(&request, &evidence.sources(), &budget) {
        Err(engine::Error::NoTrust) => bail!(
            "--policy: nothing to verify the evidence with: pass --trust-key PUB (approvers, \
             builders) or --certificate-identity with --certificate-oidc-issuer, or use a \
             declarative policy that names its signers"
        ),
        other => other.map_err(explain)?,
    };
    warn_notes(&decision.notes);
    if decision.verdict.allowed() {
        return Ok(true);
    }
    render::decision(
        &decision,
        Some(&policy),
        evidence.name.as_deref(),
        Format::Human,
    )?;
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_digest_is_looked_up_by_its_digest() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(lookup_form(&format!("app@{d}")), d);
        assert_eq!(lookup_form(&d), d);
        assert_eq!(
            lookup_form("oci://r.example/app@x:y"),
            "oci://r.example/app@x:y"
        );
    }
}
