//! `--revocations FILE...` and who may sign them (docs/revocation.md): the lists are verified by
//! the library (`hallmark_verifier::revocation::verify_lists`) before any decision; one that does
//! not verify stops the command (exit 2) with its code.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Result;
use hallmark_model::limits::MAX_BUNDLE_BYTES;
use hallmark_verifier::engine::Trust;
use hallmark_verifier::policy::Policy;
use hallmark_verifier::revocation::{ListBundle, Revocations, verify_lists};
use hallmark_verifier::sigstore::identity::IdentityPolicy;

use crate::evidence::read_key;
use crate::signing::read_limited;

/// Revocation lists and their trusted signers.
#[derive(Debug, Clone, clap::Args)]
pub struct RevocationArgs {
    /// A signed revocation list (`hallmark revoke`): revoked artifacts are denied, attestations
    /// signed by revoked keys or identities after the effective time are rejected. Repeatable;
    /// every list must verify.
    #[arg(long = "revocations", value_name = "FILE")]
    pub lists: Vec<PathBuf>,
    /// A public key trusted to sign revocation lists (repeatable). Without --revocation-key or
    /// --revocation-identity, the lists must be signed by a signer this verification trusts.
    #[arg(long, value_name = "PUB")]
    pub revocation_key: Vec<PathBuf>,
    /// A keyless identity trusted to sign revocation lists (with --revocation-oidc-issuer).
    #[arg(long, value_name = "ID", requires = "revocation_oidc_issuer")]
    pub revocation_identity: Option<String>,
    /// The OIDC issuer of --revocation-identity.
    #[arg(long, value_name = "URL", requires = "revocation_identity")]
    pub revocation_oidc_issuer: Option<String>,
}

impl RevocationArgs {
    /// The verified revocations: none without --revocations; an error (with its
    /// `revocation.*` code) when a list does not verify.
    pub fn load(
        &self,
        trust: &Trust,
        policy: Option<&Policy>,
        at: SystemTime,
    ) -> Result<Revocations> {
        self.load_with(Vec::new(), trust, policy, at)
    }

    /// [`Self::load`] with more lists read elsewhere (an evidence bundle's): each must verify
    /// against the same revocation signers as the files given.
    pub fn load_with(
        &self,
        carried: Vec<ListBundle>,
        trust: &Trust,
        policy: Option<&Policy>,
        at: SystemTime,
    ) -> Result<Revocations> {
        self.verified(carried, trust, policy, at, false)
    }

    /// [`Self::load_with`] without reporting the lists (for a second decision of one command).
    pub fn load_quietly(
        &self,
        trust: &Trust,
        policy: Option<&Policy>,
        at: SystemTime,
    ) -> Result<Revocations> {
        if self.lists.is_empty() {
            // Revocation signers without lists may be for lists read elsewhere (a bundle's).
            return Ok(Revocations::default());
        }
        self.verified(Vec::new(), trust, policy, at, true)
    }

    fn verified(
        &self,
        carried: Vec<ListBundle>,
        trust: &Trust,
        policy: Option<&Policy>,
        at: SystemTime,
        quiet: bool,
    ) -> Result<Revocations> {
        if self.lists.is_empty() && carried.is_empty() {
            if !self.revocation_key.is_empty() || self.revocation_identity.is_some() {
                anyhow::bail!("--revocation-key and --revocation-identity need --revocations FILE");
            }
            return Ok(Revocations::default());
        }
        let explicit = !self.revocation_key.is_empty() || self.revocation_identity.is_some();
        let signers = if explicit {
            Trust {
                keys: self
                    .revocation_key
                    .iter()
                    .map(|p| read_key(p))
                    .collect::<Result<Vec<_>>>()?,
                identities: match (&self.revocation_identity, &self.revocation_oidc_issuer) {
                    (Some(id), Some(issuer)) => vec![IdentityPolicy::exact(id, issuer)],
                    _ => Vec::new(),
                },
                roots: trust.roots.clone(),
            }
        } else {
            trust.with_policy(policy)
        };
        let requirements = signers.requirements(at).map_err(crate::evidence::explain)?;
        let mut bundles = self
            .lists
            .iter()
            .map(|p| {
                Ok(ListBundle {
                    origin: p.display().to_string(),
                    bytes: read_limited(p, MAX_BUNDLE_BYTES)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        bundles.extend(carried);
        let revocations = verify_lists(&bundles, &requirements, at)
            .map_err(|e| crate::coded::coded(e.code(), e.to_string()))?;
        if quiet {
            return Ok(revocations);
        }
        for list in revocations.lists() {
            eprintln!(
                "hallmark: revocation list {} #{} ({} entries, issued {}) verified",
                list.name, list.sequence, list.entries, list.issued
            );
        }
        Ok(revocations)
    }
}
