//! The decision on one AdmissionReview: every image the object would run is judged under the
//! rule for its namespace and repository, through the engine ([`crate::target`]) and the
//! verdict cache; the rules' modes and failure policies then make the answer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::Error;
use crate::cache::{Failed, Hit, Judged, Key, VerdictCache};
use crate::config::{Config, Failure, Mode, Rule};
use crate::image::ImageRef;
use crate::review::{Operation, Review};
use crate::target;
use crate::workload::{self, ImageSite};

/// Most images of one review judged at once.
const PARALLEL_IMAGES: usize = 8;

/// Longest deny message or warning part naming one image.
const MAX_PART: usize = 400;

/// The answer for a review as a whole (a closed set: a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every image verified (or was exempt).
    Allowed,
    /// At least one image was denied or undecided under an enforcing, fail-closed rule.
    Denied,
    /// Allowed, with warnings for images a `warn` rule would have denied.
    Warned,
    /// Allowed; an `audit` rule would have denied (logged only).
    Audited,
    /// Allowed because a `failOpen` rule let an undecided image through.
    FailedOpen,
    /// The namespace, or every image, is exempt.
    Exempt,
    /// Nothing to judge: a DELETE or CONNECT, or a kind that runs no pods.
    Skipped,
}

impl Outcome {
    /// The label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Warned => "warned",
            Outcome::Audited => "audited",
            Outcome::FailedOpen => "failed-open",
            Outcome::Exempt => "exempt",
            Outcome::Skipped => "skipped",
        }
    }

    /// Every outcome, for metrics.
    pub const ALL: [Outcome; 7] = [
        Outcome::Allowed,
        Outcome::Denied,
        Outcome::Warned,
        Outcome::Audited,
        Outcome::FailedOpen,
        Outcome::Exempt,
        Outcome::Skipped,
    ];
}

/// What became of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageResult {
    /// Exempt by the configuration.
    Exempt,
    /// Verified and allowed by the engine.
    Allowed,
    /// Denied by the engine.
    Denied(Judged),
    /// Not decided (registry, deadline, configuration): fail closed unless `failOpen`.
    Failed(Failed),
}

/// One image of the review and its fate.
#[derive(Debug, Clone)]
pub struct ImageReport {
    /// The image as written.
    pub image: String,
    /// The manifest digest decided on, when resolved.
    pub digest: Option<String>,
    /// The rule applied.
    pub rule: Option<String>,
    /// That rule's mode.
    pub mode: Mode,
    /// That rule's failure policy.
    pub failure: Failure,
    /// Its fate.
    pub result: ImageResult,
    /// How the verdict cache answered (when the engine was asked).
    pub cache: Option<Hit>,
    /// The pinned reference, when the image was verified by tag.
    pub pinned: Option<String>,
}

impl ImageReport {
    /// The codes that denied it or kept it undecided.
    pub fn codes(&self) -> Vec<&str> {
        match &self.result {
            ImageResult::Denied(j) => j.codes.iter().map(String::as_str).collect(),
            ImageResult::Failed(f) => vec![f.code.as_str()],
            _ => Vec::new(),
        }
    }
}

/// One replacement of the JSONPatch that pins an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The JSON pointer of the `image` field.
    pub pointer: String,
    /// The reference pinned to the verified digest.
    pub value: String,
}

/// The decision on a review.
#[derive(Debug, Clone)]
pub struct Reviewed {
    /// The request's uid (empty when it could not be read).
    pub uid: String,
    /// The object's kind.
    pub kind: String,
    /// The namespace.
    pub namespace: String,
    /// The operation.
    pub operation: String,
    /// A dry run.
    pub dry_run: bool,
    /// The answer.
    pub outcome: Outcome,
    /// The denial message (code first), when denied.
    pub message: Option<String>,
    /// The first code that denied, when denied.
    pub code: Option<String>,
    /// Warnings for the user (`warn` mode, `failOpen`).
    pub warnings: Vec<String>,
    /// Each image's fate, in the object's order (each distinct image once).
    pub images: Vec<ImageReport>,
    /// The pins for the mutating answer (only when allowed).
    pub pins: Vec<Pin>,
}

impl Reviewed {
    /// True when the request may proceed.
    pub fn allowed(&self) -> bool {
        self.outcome != Outcome::Denied
    }

    /// A refusal of a review that could not be read or judged at all.
    pub fn refused(uid: Option<String>, error: &Error) -> Reviewed {
        Reviewed {
            uid: uid.unwrap_or_default(),
            kind: String::new(),
            namespace: String::new(),
            operation: String::new(),
            dry_run: false,
            outcome: Outcome::Denied,
            message: Some(clip(format!("denied: {}: {error}", error.code()))),
            code: Some(error.code().to_owned()),
            warnings: Vec::new(),
            images: Vec::new(),
            pins: Vec::new(),
        }
    }

    /// All codes that denied or were waived, each once, for logs and metrics.
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .images
            .iter()
            .flat_map(|i| i.codes().into_iter().map(str::to_owned))
            .chain(self.code.clone())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

fn clip(mut text: String) -> String {
    if text.len() > MAX_PART * 8 {
        let mut end = MAX_PART * 8;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn part(text: String) -> String {
    let mut text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.len() > MAX_PART {
        let mut end = MAX_PART;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn failed(error: &Error) -> Failed {
    Failed {
        code: error.code().to_owned(),
        message: error.to_string(),
    }
}

/// The gate: a checked configuration and the verdict cache it decides with.
pub struct Gate {
    config: Arc<Config>,
    cache: Arc<VerdictCache>,
}

impl Gate {
    /// A gate deciding under `config`, reusing verdicts from `cache` (a cache may outlive a
    /// configuration: its keys hold the policy and trust digests).
    pub fn new(config: Arc<Config>, cache: Arc<VerdictCache>) -> Gate {
        Gate { config, cache }
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Its cache.
    pub fn cache(&self) -> &VerdictCache {
        &self.cache
    }

    /// Decides a review body (parsed here; a malformed one is refused with its code).
    /// `started` is when the request arrived: the configured deadline counts from it.
    pub fn review_body(&self, body: &[u8], at: SystemTime, started: Instant) -> Reviewed {
        match Review::parse(body) {
            Ok(review) => self.review(&review, at, started),
            Err(e) => Reviewed::refused(crate::review::uid_of(body), &e),
        }
    }

    /// Decides a review.
    pub fn review(&self, review: &Review, at: SystemTime, started: Instant) -> Reviewed {
        let deadline = started + self.config.deadline;
        self.judge(review, |namespace, image| {
            self.image(namespace, image, at, deadline)
        })
    }

    /// The answer when the deadline passed before the decision finished: an image named by
    /// digest whose verdict is cached keeps it (running out of time never turns a known denial
    /// into an admission, even under `failOpen`: flooding the gate must not open it); every other
    /// image is undecided, so enforcing rules deny (fail closed) and `failOpen` rules warn. `at`
    /// is the time (the cache key holds the revocations in force then).
    pub fn out_of_time(&self, body: &[u8], at: SystemTime) -> Reviewed {
        match Review::parse(body) {
            Ok(review) => self.judge(&review, |namespace, image| {
                let mut report =
                    self.failed_report(namespace, image, &Error::Deadline(self.config.deadline));
                if let Some(judged) = self.cached(namespace, image, at) {
                    report.result = match judged.allowed {
                        true => ImageResult::Allowed,
                        false => ImageResult::Denied(judged),
                    };
                    report.cache = Some(Hit::Hit);
                }
                report
            }),
            Err(e) => Reviewed::refused(crate::review::uid_of(body), &e),
        }
    }

    /// The live cached verdict on an image named by digest, under the rule that covers it.
    fn cached(&self, namespace: &str, written: &str, at: SystemTime) -> Option<Judged> {
        let image = ImageRef::parse(written).ok()?;
        let digest = image.digest()?;
        let rule = self.config.rule(namespace, &image.repository())?;
        self.cache.peek(
            &cache_key(&self.config, rule, &image, digest, at),
            Instant::now(),
        )
    }

    /// Judges each distinct image of `review` with `judge` (in parallel when there are
    /// several) and makes the answer.
    fn judge(&self, review: &Review, judge: impl Fn(&str, &str) -> ImageReport + Sync) -> Reviewed {
        let mut out = Reviewed {
            uid: review.uid.clone(),
            kind: review.kind.clone(),
            namespace: review.namespace.clone(),
            operation: review.operation.as_str().to_owned(),
            dry_run: review.dry_run,
            outcome: Outcome::Skipped,
            message: None,
            code: None,
            warnings: Vec::new(),
            images: Vec::new(),
            pins: Vec::new(),
        };
        let object = match (&review.operation, &review.object) {
            (Operation::Create | Operation::Update, Some(object)) => object,
            _ => return out,
        };
        if self.config.namespace_exempt(&review.namespace) {
            out.outcome = Outcome::Exempt;
            return out;
        }
        let sites = match workload::images(&review.kind, object) {
            Ok(Some(sites)) => sites,
            Ok(None) => return out,
            Err(e) => return Reviewed::refused(Some(review.uid.clone()), &e),
        };
        // Each distinct image once, in the object's order.
        let mut distinct: Vec<&str> = Vec::new();
        for s in &sites {
            if !distinct.contains(&s.image.as_str()) {
                distinct.push(&s.image);
            }
        }
        let namespace = review.namespace.as_str();
        let reports: Vec<ImageReport> = if distinct.len() > 1 {
            // A few threads at a time: an object naming a thousand images must not start a
            // thousand threads.
            let judge = &judge;
            let mut reports = Vec::with_capacity(distinct.len());
            for chunk in distinct.chunks(PARALLEL_IMAGES) {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = chunk
                        .iter()
                        .map(|image| scope.spawn(move || judge(namespace, image)))
                        .collect();
                    for (h, image) in handles.into_iter().zip(chunk) {
                        reports.push(h.join().unwrap_or_else(|_| {
                            self.failed_report(
                                namespace,
                                image,
                                &Error::Deadline(self.config.deadline),
                            )
                        }));
                    }
                });
            }
            reports
        } else {
            distinct
                .iter()
                .map(|image| judge(namespace, image))
                .collect()
        };
        self.answer(&mut out, reports, &sites);
        out
    }

    fn failed_report(&self, namespace: &str, image: &str, error: &Error) -> ImageReport {
        let rule = ImageRef::parse(image)
            .ok()
            .and_then(|i| self.config.rule(namespace, &i.repository()));
        ImageReport {
            image: image.to_owned(),
            digest: None,
            rule: rule.map(|r| r.name.clone()),
            mode: rule.map_or(Mode::Enforce, |r| r.mode),
            failure: rule.map_or(Failure::Closed, |r| r.failure),
            result: ImageResult::Failed(failed(error)),
            cache: None,
            pinned: None,
        }
    }

    /// Judges one image.
    fn image(
        &self,
        namespace: &str,
        written: &str,
        at: SystemTime,
        deadline: Instant,
    ) -> ImageReport {
        let image = match ImageRef::parse(written) {
            Ok(image) => image,
            Err(e) => return self.failed_report(namespace, written, &e),
        };
        let mut report = ImageReport {
            image: written.to_owned(),
            digest: image.digest().map(str::to_owned),
            rule: None,
            mode: Mode::Enforce,
            failure: Failure::Closed,
            result: ImageResult::Exempt,
            cache: None,
            pinned: None,
        };
        let repository = image.repository();
        if self.config.image_exempt(&repository) {
            return report;
        }
        let Some(rule) = self.config.rule(namespace, &repository) else {
            report.result = ImageResult::Failed(Failed {
                code: "admission.no-rule".to_owned(),
                message: format!(
                    "no rule of the configuration covers {repository} in namespace {namespace}"
                ),
            });
            return report;
        };
        report.rule = Some(rule.name.clone());
        report.mode = rule.mode;
        report.failure = rule.failure;
        let subject = match image.digest() {
            Some(d) => target::by_digest(&image, d),
            None => match target::resolve(&self.config, &image, deadline) {
                Ok(subject) => subject,
                Err(e) => {
                    report.result = ImageResult::Failed(failed(&e));
                    return report;
                }
            },
        };
        report.digest = Some(subject.digest.clone());
        if image.digest().is_none() {
            report.pinned = Some(image.pinned(&subject.digest));
        }
        let key = cache_key(&self.config, rule, &image, &subject.digest, at);
        let (outcome, hit) = self
            .cache
            .get_or_decide(&key, Instant::now(), deadline, || {
                target::decide(&self.config, rule, &image, subject, at, deadline)
                    .map(|d| target::judged(&d))
                    .map_err(|e| failed(&e))
            });
        report.cache = Some(hit);
        report.result = match outcome {
            Ok(j) if j.allowed => ImageResult::Allowed,
            Ok(j) => ImageResult::Denied(j),
            Err(f) => ImageResult::Failed(f),
        };
        report
    }

    /// Turns the images' fates into the answer.
    fn answer(&self, out: &mut Reviewed, reports: Vec<ImageReport>, sites: &[ImageSite]) {
        let mut denials = Vec::new();
        let mut audited = false;
        let mut failed_open = false;
        for r in &reports {
            let at = r
                .digest
                .as_deref()
                .map(|d| format!("image {} ({})", r.image, crate::review::short(d)))
                .unwrap_or_else(|| format!("image {}", r.image));
            let (code, message, undecided) = match &r.result {
                ImageResult::Exempt | ImageResult::Allowed => continue,
                ImageResult::Denied(j) => (
                    j.codes.first().cloned().unwrap_or_default(),
                    j.message.clone(),
                    false,
                ),
                ImageResult::Failed(f) => (f.code.clone(), f.message.clone(), true),
            };
            if undecided && r.failure == Failure::Open {
                failed_open = true;
                out.warnings.push(part(format!(
                    "hallmark: failOpen: {code}: {at} was admitted unverified: {message}"
                )));
                continue;
            }
            if undecided || r.mode == Mode::Enforce {
                let suffix = if undecided { " (fail closed)" } else { "" };
                denials.push((
                    code.clone(),
                    part(format!("{code}: {at}: {message}{suffix}")),
                ));
            } else if r.mode == Mode::Warn {
                out.warnings
                    .push(part(format!("hallmark: warn: {code}: {at}: {message}")));
            } else {
                audited = true;
            }
        }
        let all_exempt =
            !reports.is_empty() && reports.iter().all(|r| r.result == ImageResult::Exempt);
        out.outcome = if !denials.is_empty() {
            Outcome::Denied
        } else if failed_open {
            Outcome::FailedOpen
        } else if !out.warnings.is_empty() {
            Outcome::Warned
        } else if audited {
            Outcome::Audited
        } else if all_exempt {
            Outcome::Exempt
        } else if reports.is_empty() {
            Outcome::Skipped
        } else {
            Outcome::Allowed
        };
        if let Some((code, _)) = denials.first() {
            out.code = Some(code.clone());
            let parts: Vec<String> = denials.into_iter().map(|(_, p)| p).collect();
            out.message = Some(clip(format!("denied: {}", parts.join("; "))));
        } else {
            let pinned: BTreeMap<&str, &str> = reports
                .iter()
                .filter(|r| r.result == ImageResult::Allowed)
                .filter_map(|r| Some((r.image.as_str(), r.pinned.as_deref()?)))
                .collect();
            out.pins = sites
                .iter()
                .filter_map(|s| {
                    Some(Pin {
                        pointer: s.pointer.clone(),
                        value: (*pinned.get(s.image.as_str())?).to_owned(),
                    })
                })
                .collect();
        }
        out.images = reports;
    }
}

/// The verdict cache's key for `image` at `digest` under `rule`, at `at`: with revocation lists,
/// the number of entries in force is part of it, so no verdict outlives a revocation taking
/// effect.
fn cache_key(config: &Config, rule: &Rule, image: &ImageRef, digest: &str, at: SystemTime) -> Key {
    let trust = if config.revocations.is_empty() {
        config.trust_digest.clone()
    } else {
        format!("{}+{}", config.trust_digest, config.revocations.epoch(at))
    };
    Key {
        image: format!("{}@{digest}", image.repository()),
        policy: rule.policy_digest().to_owned(),
        trust,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::CacheSettings;

    const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7E5qN/jSUp0V8rh06bOy6zE+5g5u\nkpD5DE0ON8WBYMYGffL/kiXm6OlA0bcEsxX9zH8Cr4P0yyQHFX64Qo2pBg==\n-----END PUBLIC KEY-----\n";

    /// A gate whose registry (`127.0.0.1:1`) refuses every connection.
    fn gate() -> Gate {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k.pub"), KEY).unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(
            &path,
            "apiVersion: hallmark.dev/admission/v1\ndeadline: 2s\ntrust:\n  keys: [k.pub]\nregistries:\n  insecure: [\"127.0.0.1:1\"]\nexempt:\n  namespaces: [kube-system]\nrules:\n  - name: lenient\n    namespaces: [lenient]\n    failOpen: true\n  - name: apps\n    images: [\"127.0.0.1:1/**\"]\n",
        )
        .unwrap();
        let config = Config::load(&path, std::time::SystemTime::now()).unwrap();
        Gate::new(
            Arc::new(config),
            Arc::new(VerdictCache::new(CacheSettings::default())),
        )
    }

    fn body(namespace: &str, operation: &str, images: &[&str]) -> Vec<u8> {
        let containers: Vec<_> = images
            .iter()
            .enumerate()
            .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
            .collect();
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "u", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": namespace,
            "operation": operation, "object": {"kind": "Pod", "spec": {"containers": containers}}}})
        .to_string()
        .into_bytes()
    }

    fn decide(gate: &Gate, body: &[u8]) -> Reviewed {
        gate.review_body(body, SystemTime::now(), Instant::now())
    }

    #[test]
    fn undecided_images_fail_closed_unless_the_rule_fails_open() {
        let g = gate();
        let r = decide(&g, &body("default", "CREATE", &["127.0.0.1:1/app:v1"]));
        assert_eq!(r.outcome, Outcome::Denied);
        assert_eq!(r.code.as_deref(), Some("admission.registry"));
        assert!(r.message.as_deref().unwrap().ends_with("(fail closed)"));
        assert!(r.pins.is_empty());
        let r = decide(&g, &body("lenient", "CREATE", &["127.0.0.1:1/app:v1"]));
        assert_eq!(r.outcome, Outcome::FailedOpen);
        assert!(r.warnings[0].starts_with("hallmark: failOpen: admission.registry: "));
        // Out of time: every image undecided, with the same failure policy.
        let late = g.out_of_time(
            &body("default", "UPDATE", &["127.0.0.1:1/app:v1"]),
            SystemTime::now(),
        );
        assert_eq!(
            (late.outcome, late.code.as_deref()),
            (Outcome::Denied, Some("admission.deadline"))
        );
        let late = g.out_of_time(
            &body("lenient", "CREATE", &["127.0.0.1:1/app:v1"]),
            SystemTime::now(),
        );
        assert_eq!(late.outcome, Outcome::FailedOpen);
    }

    /// Flooding the gate until a request runs out of time must not admit an image whose denial
    /// is known, even under failOpen; and a verdict for one repository's digest is not another
    /// repository's.
    #[test]
    fn out_of_time_keeps_a_cached_denial_and_verdicts_are_per_repository() {
        let g = gate();
        let digest = format!("sha256:{}", "d".repeat(64));
        let pinned = format!("127.0.0.1:1/app@{digest}");
        let image = ImageRef::parse(&pinned).unwrap();
        let rule = g.config.rule("lenient", &image.repository()).unwrap();
        let denied = Judged {
            allowed: false,
            codes: vec!["attestation.none".into()],
            message: "no attestation".into(),
        };
        let key = cache_key(&g.config, rule, &image, &digest, SystemTime::now());
        let now = Instant::now();
        let _ = g.cache.get_or_decide(&key, now, now, || Ok(denied.clone()));
        let late = g.out_of_time(&body("lenient", "CREATE", &[&pinned]), SystemTime::now());
        assert_eq!(
            (late.outcome, late.code.as_deref()),
            (Outcome::Denied, Some("attestation.none"))
        );
        // The same digest in another repository is undecided, not denied or allowed by proxy.
        let other = format!("127.0.0.1:1/other@{digest}");
        let late = g.out_of_time(&body("lenient", "CREATE", &[&other]), SystemTime::now());
        assert_eq!(late.outcome, Outcome::FailedOpen);
    }

    #[test]
    fn images_no_rule_covers_are_denied_and_exemptions_and_deletes_pass() {
        let g = gate();
        let r = decide(&g, &body("default", "CREATE", &["r.example/other:v1"]));
        assert_eq!(
            (r.outcome, r.code.as_deref()),
            (Outcome::Denied, Some("admission.no-rule"))
        );
        // failOpen does not cover a missing rule: it is a configuration decision, not an outage.
        let r = decide(&g, &body("default", "CREATE", &["Bad Ref"]));
        assert_eq!(r.code.as_deref(), Some("admission.image"));
        let r = decide(&g, &body("kube-system", "CREATE", &["r.example/other:v1"]));
        assert_eq!(r.outcome, Outcome::Exempt);
        let r = decide(&g, &body("default", "DELETE", &["r.example/other:v1"]));
        assert_eq!(r.outcome, Outcome::Skipped);
        // One bad image among several: each distinct image judged once, the bad one named.
        let r = decide(
            &g,
            &body(
                "default",
                "CREATE",
                &["r.example/x:1", "127.0.0.1:1/app:v1", "r.example/x:1"],
            ),
        );
        assert_eq!(r.images.len(), 2);
        let m = r.message.unwrap();
        assert!(
            m.contains("admission.no-rule: image r.example/x:1")
                && m.contains("127.0.0.1:1/app:v1"),
            "{m}"
        );
    }
}
