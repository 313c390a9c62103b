//! How the engine applies a [`VendorProfile`]: the vendor's signers are the trust, its expiry and
//! any `vendor` revocation entry retire them (as a revocation), and what it must deliver is
//! checked against the verified attestations.

use std::time::SystemTime;

use hallmark_model::provenance::PROVENANCE_TYPES;
use hallmark_model::time::Timestamp;

use crate::engine::Trust;
use crate::revocation::Revocations;
use crate::sigstore::identity::IdentityPolicy;
use crate::vendor::VendorProfile;
use crate::verdict::{Verdict, Violation};

/// How far in the future a delivery time may lie (clock skew) and still count.
const FUTURE_SKEW: std::time::Duration = std::time::Duration::from_secs(60);

/// Only the vendor's keys and identities (the caller's Sigstore roots).
pub(crate) fn trust(vendor: &VendorProfile, request: &Trust) -> Trust {
    Trust {
        keys: vendor.keys.clone(),
        identities: vendor
            .identities
            .iter()
            .map(|(identity, issuer)| IdentityPolicy::exact(identity, issuer))
            .collect(),
        roots: request.roots.clone(),
    }
}

/// `revocations` plus the vendor's signers retired at `validUntil` and at each `vendor` entry
/// naming it.
pub(crate) fn retire(vendor: &VendorProfile, revocations: &Revocations) -> Revocations {
    let mut out = revocations.clone();
    let keyids: Vec<String> = vendor.keys.iter().map(|k| k.keyid().to_owned()).collect();
    let named: Vec<(SystemTime, String, String)> = revocations
        .vendors()
        .filter(|e| e.value == vendor.name)
        .map(|e| (e.effective_at(), e.reason.clone(), e.list.clone()))
        .collect();
    for (effective, reason, list) in named {
        out.retire(
            &vendor.name,
            &keyids,
            &vendor.identities,
            &reason,
            effective,
            &list,
        );
    }
    if let Some(until) = vendor.valid_until {
        out.retire(
            &vendor.name,
            &keyids,
            &vendor.identities,
            "the vendor profile expired (validUntil)",
            until,
            &format!("vendor-profile:{}", vendor.name),
        );
    }
    out
}

fn violation(vendor: &VendorProfile, code: &'static str, message: String) -> Violation {
    Violation::Vendor {
        vendor: vendor.name.clone(),
        code,
        message,
    }
}

/// The profile's own rules over the verified attestations: valid yet, each required predicate
/// type delivered, the delivery recent enough.
pub(crate) fn check(vendor: &VendorProfile, verdict: &Verdict, at: SystemTime) -> Vec<Violation> {
    let mut found = Vec::new();
    if let Some(from) = vendor.valid_from
        && at < from
    {
        found.push(violation(
            vendor,
            crate::error::VENDOR_NOT_YET_VALID,
            format!(
                "the profile is valid from {}",
                humantime::format_rfc3339_seconds(from)
            ),
        ));
    }
    for wanted in &vendor.predicate_types {
        if !verdict.verified().any(|v| v.predicate_type() == wanted) {
            found.push(violation(
                vendor,
                crate::error::VENDOR_PREDICATE_MISSING,
                format!("no verified attestation of type {wanted} from the vendor"),
            ));
        }
    }
    if let Some(max_age) = vendor.max_age {
        // The newest delivery: a verified signing time, else the time the provenance claims.
        let newest = verdict
            .verified()
            .filter(|v| PROVENANCE_TYPES.contains(&v.predicate_type()))
            .flat_map(|v| {
                let claimed = v
                    .provenance()
                    .and_then(|p| p.finished_on.clone().or(p.started_on.clone()));
                let times: Vec<String> = if v.verified_times().is_empty() {
                    claimed.into_iter().collect()
                } else {
                    v.verified_times().to_vec()
                };
                times
            })
            .filter_map(|t| t.parse::<Timestamp>().ok().map(Timestamp::time))
            // A time after the decision is no age at all: a claimed future `finishedOn` would
            // keep a delivery fresh for ever. Up to a minute of clock skew is tolerated.
            .filter(|t| t.duration_since(at).is_err() || *t <= at + FUTURE_SKEW)
            .max();
        let fresh = newest.is_some_and(|t| at.duration_since(t).unwrap_or_default() <= max_age);
        if !fresh {
            found.push(violation(
                vendor,
                crate::error::VENDOR_TOO_OLD,
                match newest {
                    Some(t) => format!(
                        "the newest provenance is from {}, older than the profile's maxAge {}",
                        humantime::format_rfc3339_seconds(t),
                        humantime::format_duration(max_age)
                    ),
                    None => "no verified provenance with a time to judge its age".to_owned(),
                },
            ));
        }
    }
    found
}
