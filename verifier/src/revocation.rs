//! Revocation lists (docs/revocation.md): signed lists of artifact digests, keys, keyless
//! identities and vendors that no longer count from an effective time.
//!
//! [`verify_lists`] checks each list against the trusted revocation signers and returns
//! [`Revocations`], which only this crate can fill: a list that does not verify is an error
//! ([`ListError`]), never silently skipped. The engine then applies them: a revoked artifact
//! is denied (`revocation.artifact`), an attestation signed by a revoked key or identity is
//! rejected (`revocation.key`, `revocation.identity`) unless a verified time (a transparency-log
//! entry or an RFC 3161 timestamp) proves it was signed before the effective time, and a
//! revoked material in the chain is a violation (`revocation.material`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use hallmark_model::budget::Budget;
use hallmark_model::digest::Digest;
use hallmark_model::revocation::{Entry, Kind, REVOCATION_V1, RevocationList};
use hallmark_model::signer::SignerDetails;
use hallmark_model::text::printable;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Rejection;
use crate::attestation::Signed;
use crate::error::RevokedSigner;
use crate::session::Session;
use crate::verdict::{Candidate, Requirements};

/// Why a revocation list cannot be used: the decision is not made (exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// No revocation signer is trusted: nothing could vouch for a list.
    #[error("revocation lists were given but no revocation signer is trusted")]
    NoSigners,
    /// The list's signature or Sigstore evidence does not verify against the revocation
    /// signers (an untrusted signer, a changed list).
    #[error("revocation list {origin}: not signed by a trusted revocation signer: {rejection}")]
    Unverified {
        /// Where the list came from.
        origin: String,
        /// Why its signature did not verify.
        rejection: Rejection,
    },
    /// The signed statement is not a valid revocation list.
    #[error("revocation list {origin}: {message}")]
    Invalid {
        /// Where the list came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The list expired, or is issued in the future.
    #[error("revocation list {origin} ({name} #{sequence}): {message}")]
    Stale {
        /// Where the list came from.
        origin: String,
        /// The list's name.
        name: String,
        /// Its sequence number.
        sequence: u64,
        /// What is wrong with its dates.
        message: String,
    },
    /// Two different lists claim the same name and sequence number.
    #[error(
        "revocation lists {first} and {second} are both {name} #{sequence} with different entries"
    )]
    Conflict {
        /// The list's name.
        name: String,
        /// Its sequence number.
        sequence: u64,
        /// The first list's origin.
        first: String,
        /// The second's.
        second: String,
    },
    /// A series went backwards: a caller that remembers the newest sequence it accepted
    /// (the webhook across configuration reloads) was given an older list.
    #[error("revocation list {name}: sequence {found} is older than {newest}, already accepted")]
    Rollback {
        /// The list's name.
        name: String,
        /// The sequence given.
        found: u64,
        /// The newest accepted before.
        newest: u64,
    },
}

/// One revoked thing, from a verified list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    /// What it revokes.
    pub kind: Kind,
    /// The digest, keyid, identity or vendor name.
    pub value: String,
    /// An identity's issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Why.
    pub reason: String,
    /// From when (RFC 3339).
    pub effective: String,
    /// `<name>#<sequence>` of the list that says so.
    pub list: String,
    #[serde(skip)]
    effective_at: SystemTime,
    #[serde(skip)]
    digest: Option<Digest>,
}

impl Revoked {
    fn from_entry(entry: &Entry, list: &str) -> Self {
        Revoked {
            kind: entry.kind,
            value: entry.value.clone(),
            issuer: entry.issuer.clone(),
            reason: entry.reason.clone(),
            effective: entry.effective.to_string(),
            list: list.to_owned(),
            effective_at: entry.effective.time(),
            digest: entry.value.parse().ok(),
        }
    }

    /// The effective time.
    pub fn effective_at(&self) -> SystemTime {
        self.effective_at
    }
}

/// A verified list, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSummary {
    /// Where it came from.
    pub origin: String,
    /// Its name.
    pub name: String,
    /// Its sequence number.
    pub sequence: u64,
    /// When it was issued (RFC 3339).
    pub issued: String,
    /// Who signed it.
    pub signers: Vec<String>,
    /// How many entries it holds.
    pub entries: usize,
    /// When it expires (RFC 3339), if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(skip)]
    expires_at: Option<SystemTime>,
}

/// The verified revocations a decision applies. Empty by default; only [`verify_lists`] (and
/// the vendor profiles' expiry, [`Revocations::retire`]) add to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Revocations {
    lists: Vec<ListSummary>,
    entries: Vec<Revoked>,
}

/// A revocation list as read, not yet verified.
#[derive(Debug, Clone)]
pub struct ListBundle {
    /// Where it came from (a file name), for messages.
    pub origin: String,
    /// The Sigstore bundle bytes.
    pub bytes: Vec<u8>,
}

/// Verifies `lists` against `signers` (keys, keyless identities and roots, as for evidence) at
/// `at`: each must be a valid, unexpired revocation list signed by one of them. No list is
/// used unless all verify.
pub fn verify_lists(
    lists: &[ListBundle],
    signers: &Requirements,
    at: SystemTime,
) -> Result<Revocations, ListError> {
    let mut revocations = Revocations::default();
    if lists.is_empty() {
        return Ok(revocations);
    }
    if signers.keys.is_empty()
        && signers
            .keyless
            .as_ref()
            .is_none_or(|k| k.identities.is_empty())
    {
        return Err(ListError::NoSigners);
    }
    // A list's own signers are never subject to revocation here: lists only ever deny more.
    let requirements = Requirements {
        revocations: Revocations::default(),
        ..signers.clone()
    };
    let budget = Budget::default();
    let session = Session::new(&requirements, &budget);
    let mut seen: BTreeMap<(String, u64), (String, Vec<u8>)> = BTreeMap::new();
    for bundle in lists {
        let origin = printable(&bundle.origin);
        let candidate = Candidate::new(origin.clone(), bundle.bytes.clone());
        let signed = session
            .signed_of(&candidate)
            .map_err(|rejection| ListError::Unverified {
                origin: origin.clone(),
                rejection,
            })?;
        let invalid = |message: String| ListError::Invalid {
            origin: origin.clone(),
            message,
        };
        let statement = signed.statement();
        if statement.predicate_type != REVOCATION_V1 {
            return Err(invalid(format!(
                "predicateType {:?} is not {REVOCATION_V1}",
                printable(&statement.predicate_type)
            )));
        }
        let predicate = statement
            .predicate
            .as_ref()
            .ok_or_else(|| invalid("the statement has no predicate".into()))?;
        let list = RevocationList::from_value(predicate).map_err(|e| invalid(e.to_string()))?;
        let content = list.content_bytes();
        let digest = Digest::from_bytes(
            hallmark_model::digest::DigestAlgorithm::Sha256,
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &content).as_ref(),
        );
        let names_itself = statement
            .subjects_matching(&digest)
            .any(|s| s.name == list.subject_name());
        if !names_itself {
            return Err(invalid(format!(
                "no subject is {} with digest {digest} (the list's own content)",
                list.subject_name()
            )));
        }
        let stale = |message: String| ListError::Stale {
            origin: origin.clone(),
            name: printable(&list.name),
            sequence: list.sequence,
            message,
        };
        if list.issued.time() > at {
            return Err(stale(format!("issued {} is in the future", list.issued)));
        }
        if let Some(expires) = list.expires
            && expires.time() <= at
        {
            return Err(stale(format!("expired at {expires}")));
        }
        let key = (list.name.clone(), list.sequence);
        if let Some((first, bytes)) = seen.get(&key) {
            if *bytes != content {
                return Err(ListError::Conflict {
                    name: printable(&list.name),
                    sequence: list.sequence,
                    first: first.clone(),
                    second: origin,
                });
            }
            // The same list twice: its entries are already in.
            continue;
        }
        seen.insert(key, (origin.clone(), content));
        let label = format!("{}#{}", printable(&list.name), list.sequence);
        revocations.lists.push(ListSummary {
            origin,
            name: printable(&list.name),
            sequence: list.sequence,
            issued: list.issued.to_string(),
            signers: signed.signer_names().to_vec(),
            entries: list.entries.len(),
            expires: list.expires.map(|t| t.to_string()),
            expires_at: list.expires.map(|t| t.time()),
        });
        revocations
            .entries
            .extend(list.entries.iter().map(|e| Revoked::from_entry(e, &label)));
    }
    Ok(revocations)
}

impl Revocations {
    /// True when nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The lists these revocations came from.
    pub fn lists(&self) -> &[ListSummary] {
        &self.lists
    }

    /// Every entry.
    pub fn entries(&self) -> &[Revoked] {
        &self.entries
    }

    /// Refuses lists that expired by `at`: a long-running server (the webhook) verified them
    /// when it loaded them, and must not apply a stale list after its expiry.
    pub fn check_fresh(&self, at: SystemTime) -> Result<(), ListError> {
        match self
            .lists
            .iter()
            .find(|l| l.expires_at.is_some_and(|e| e <= at))
        {
            Some(l) => Err(ListError::Stale {
                origin: l.origin.clone(),
                name: l.name.clone(),
                sequence: l.sequence,
                message: format!("expired at {}", l.expires.as_deref().unwrap_or_default()),
            }),
            None => Ok(()),
        }
    }

    /// How many entries have taken effect by `at`: a verdict cached before one takes effect
    /// must not be reused after it (the webhook puts this in its cache key).
    pub fn epoch(&self, at: SystemTime) -> usize {
        self.entries.iter().filter(|e| e.effective_at <= at).count()
    }

    /// The newest sequence of each list name: what a caller keeps to refuse a rollback later.
    pub fn sequences(&self) -> BTreeMap<String, u64> {
        let mut newest = BTreeMap::new();
        for l in &self.lists {
            let n = newest.entry(l.name.clone()).or_insert(l.sequence);
            *n = (*n).max(l.sequence);
        }
        newest
    }

    /// Refuses these lists when a series is older than the newest `accepted` before.
    pub fn check_rollback(&self, accepted: &BTreeMap<String, u64>) -> Result<(), ListError> {
        for (name, found) in self.sequences() {
            if let Some(&newest) = accepted.get(&name)
                && found < newest
            {
                return Err(ListError::Rollback {
                    name,
                    found,
                    newest,
                });
            }
        }
        Ok(())
    }

    /// Treats a vendor's keys and identities as revoked from `effective`: a retired vendor (an
    /// expired profile, or a `vendor` entry naming it) delivers nothing signed after it.
    pub fn retire(
        &mut self,
        vendor: &str,
        keyids: &[String],
        identities: &[(String, String)],
        reason: &str,
        effective: SystemTime,
        list: &str,
    ) {
        let at = humantime::format_rfc3339_seconds(effective).to_string();
        let entry = |kind, value: &str, issuer: Option<&str>| Revoked {
            kind,
            value: value.to_owned(),
            issuer: issuer.map(str::to_owned),
            reason: format!("vendor {vendor}: {reason}"),
            effective: at.clone(),
            list: list.to_owned(),
            effective_at: effective,
            digest: None,
        };
        let mut added: Vec<Revoked> = keyids.iter().map(|k| entry(Kind::Key, k, None)).collect();
        added.extend(
            identities
                .iter()
                .map(|(id, issuer)| entry(Kind::Identity, id, Some(issuer))),
        );
        self.entries.extend(added);
    }

    /// The vendor entries in force: (name, effective, reason).
    pub fn vendors(&self) -> impl Iterator<Item = &Revoked> {
        self.entries.iter().filter(|e| e.kind == Kind::Vendor)
    }

    /// The entry revoking `digest` (or any of `aliases`) at `at`, if any.
    pub fn artifact(&self, digests: &[&Digest], at: SystemTime) -> Option<&Revoked> {
        self.entries.iter().find(|e| {
            e.kind == Kind::Artifact
                && e.effective_at <= at
                && e.digest.as_ref().is_some_and(|d| digests.contains(&d))
        })
    }

    /// The entry revoking a material digest written `ALGORITHM:HEX`, at `at`.
    pub fn material(&self, digest: &str, at: SystemTime) -> Option<&Revoked> {
        let digest: Digest = digest.parse().ok()?;
        self.artifact(&[&digest], at)
    }

    /// Rejects a verified bundle when one of its signers is revoked at `at`, unless a verified
    /// time proves it was signed before the revocation took effect. Key-signed bundles have no
    /// verified time: they count only while the decision's time is before the effective time.
    pub(crate) fn check_signed(&self, signed: &Signed, at: SystemTime) -> Result<(), Rejection> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let proven = signed.verified_at().iter().min().copied();
        for signer in signed.signer_details() {
            let hit = self.entries.iter().find(|e| {
                e.effective_at <= at
                    && match (e.kind, signer) {
                        // A keyid is hex: its case, or a `sha256:` prefix, must not let a
                        // revoked key slip past.
                        (Kind::Key, SignerDetails::Key { keyid }) => e
                            .value
                            .trim_start_matches("sha256:")
                            .eq_ignore_ascii_case(keyid),
                        // Issuers are compared without a trailing slash (`https://x/` and
                        // `https://x` name one issuer); identities exactly.
                        (
                            Kind::Identity,
                            SignerDetails::Certificate {
                                identity, issuer, ..
                            },
                        ) => {
                            e.value == *identity
                                && e.issuer.as_deref().map(|i| i.trim_end_matches('/'))
                                    == Some(issuer.trim_end_matches('/'))
                        }
                        _ => false,
                    }
                    && proven.is_none_or(|t| t >= e.effective_at)
            });
            if let Some(e) = hit {
                return Err(Rejection::Revoked(Box::new(RevokedSigner {
                    kind: e.kind.name(),
                    value: printable(&e.value),
                    reason: printable(&e.reason),
                    effective: e.effective.clone(),
                    list: e.list.clone(),
                    signed: proven
                        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
                        .unwrap_or_else(|| "no verified time".to_owned()),
                })));
            }
        }
        Ok(())
    }

    /// What the policy input shows (`revocations` in docs/policy-input.md).
    pub fn to_input(&self) -> Value {
        json!({"lists": self.lists, "entries": self.entries})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_counts_the_entries_in_force() {
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_900_000_000);
        let mut r = Revocations::default();
        r.retire("v", &["k1".into()], &[], "r", t0, "l");
        r.retire(
            "v",
            &["k2".into()],
            &[],
            "r",
            t0 + std::time::Duration::from_secs(60),
            "l",
        );
        assert_eq!(r.epoch(t0 - std::time::Duration::from_secs(1)), 0);
        assert_eq!(r.epoch(t0), 1);
        assert_eq!(r.epoch(t0 + std::time::Duration::from_secs(60)), 2);
    }

    #[test]
    fn a_series_may_not_go_back() {
        let mut r = Revocations::default();
        r.lists.push(ListSummary {
            origin: "a".into(),
            name: "plant".into(),
            sequence: 3,
            issued: String::new(),
            signers: Vec::new(),
            entries: 0,
            expires: None,
            expires_at: None,
        });
        let ok = BTreeMap::from([("plant".to_owned(), 3), ("other".to_owned(), 9)]);
        assert_eq!(r.check_rollback(&ok), Ok(()));
        let newer = BTreeMap::from([("plant".to_owned(), 4)]);
        assert!(matches!(
            r.check_rollback(&newer),
            Err(ListError::Rollback {
                found: 3,
                newest: 4,
                ..
            })
        ));
        assert_eq!(r.sequences(), BTreeMap::from([("plant".to_owned(), 3)]));
    }
}
