//! One image into the engine: its registry repository as the attestation source, the rule's
//! policy and the configured trust as the [`Request`], decided by
//! `hallmark_verifier::engine::decide_within`, the call `hallmark verify oci://…` makes.

use std::time::{Duration, Instant, SystemTime};

use hallmark_model::budget::Budget;
use hallmark_model::digest::Digest;
use hallmark_remote::registry::attestations::{RegistryAttestations, Resolved};
use hallmark_remote::registry::client::RegistryClient;
use hallmark_remote::sources::RegistrySource;
use hallmark_verifier::engine::{self, Decision, Request};

use crate::Error;
use crate::cache::Judged;
use crate::config::{Config, Rule};
use crate::image::ImageRef;

/// A registry client whose requests end by `deadline`.
fn client(config: &Config, image: &ImageRef, deadline: Instant) -> Result<RegistryClient, Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::Deadline(config.deadline));
    }
    let mut options = config.client_options(&image.reference.registry);
    options.timeout = Some(left.max(Duration::from_millis(1)));
    RegistryClient::new(options).map_err(|e| registry(image, e))
}

fn registry(image: &ImageRef, e: hallmark_remote::Error) -> Error {
    Error::Registry {
        image: image.written.clone(),
        message: e.to_string(),
    }
}

/// Resolves the image's tag to its manifest digest (once per request), or checks that the
/// digest it names exists.
pub fn resolve(config: &Config, image: &ImageRef, deadline: Instant) -> Result<Resolved, Error> {
    let client = client(config, image, deadline)?;
    RegistryAttestations::new(&client)
        .resolve(&image.reference)
        .map_err(|e| registry(image, e))
}

/// A subject for an image that names its digest: nothing to resolve, the attestations are
/// looked up by that digest.
pub fn by_digest(image: &ImageRef, digest: &str) -> Resolved {
    Resolved {
        reference: image.reference.with_digest(digest),
        digest: digest.to_owned(),
        media_type: String::new(),
        size: 0,
        index: None,
    }
}

/// Decides on `subject` under `rule` with the engine, at `at`.
pub fn decide(
    config: &Config,
    rule: &Rule,
    image: &ImageRef,
    subject: Resolved,
    at: SystemTime,
    deadline: Instant,
) -> Result<Decision, Error> {
    let digest: Digest = subject.digest.parse().map_err(|_| Error::Image {
        image: image.written.clone(),
        message: format!("{} is not a sha256 digest", subject.digest),
    })?;
    let source = RegistrySource::new(client(config, image, deadline)?, subject);
    let request = Request {
        // The reference as `hallmark verify oci://…` names it (registry, repository, tag), so a
        // policy's artifact globs (vendors, rules) see one spelling whatever the pod wrote.
        name: Some(image.reference.to_string()),
        trust: config.trust.clone(),
        policy: rule.policy.as_deref(),
        accept_vsa: config.vsa.clone(),
        revocations: config.revocations.clone(),
        ..Request::new(digest, at)
    };
    let budget = Budget::default();
    let decision =
        engine::decide_within(&request, &[&source], &budget).map_err(|source| match source {
            engine::Error::Source(e) => Error::Registry {
                image: image.written.clone(),
                message: e.to_string(),
            },
            source => Error::Engine {
                image: image.written.clone(),
                source,
            },
        })?;
    if Instant::now() > deadline {
        return Err(Error::Deadline(config.deadline));
    }
    Ok(decision)
}

/// What of a decision is kept: allowed or not, the violation codes, the first message.
pub fn judged(decision: &Decision) -> Judged {
    let violations = decision.verdict.violations();
    let mut codes: Vec<String> = violations.iter().map(|v| v.code().to_owned()).collect();
    codes.dedup();
    Judged {
        allowed: decision.verdict.allowed(),
        codes,
        message: violations
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
    }
}
