//! The decision engine: trust, required steps, the VSA fast path and its fallback, the clock and
//! the sources, each decided by `engine::decide` alone.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::budget::Budget;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::engine::{Error, Request, Trust, VsaAcceptance, decide};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::policy::Policy;
use hallmark_verifier::source::{AttestationSource, Found, Lookup, SourceError};
use hallmark_verifier::verdict::{Candidate, Violation};
use hallmark_verifier::vsa::{Summary, VSA_V1};
use serde_json::json;

fn digest(name: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref())
}

fn signer() -> (KeySigner, TrustedKey) {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    (KeySigner::new(key), trusted)
}

/// Bundles by subject digest; counts material lookups; may stop short or fail.
#[derive(Default)]
pub(crate) struct Memory {
    by_subject: BTreeMap<String, Vec<Candidate>>,
    material_lookups: Cell<usize>,
    incomplete_materials: bool,
    broken: bool,
}

impl Memory {
    fn add(&mut self, signer: &KeySigner, statement: &Statement) {
        let bundle = signer.sign_statement(statement).unwrap().to_json();
        for s in &statement.subject {
            let d = format!("sha256:{}", s.digest["sha256"]);
            self.by_subject
                .entry(d)
                .or_default()
                .push(Candidate::new("memory", bundle.clone()));
        }
    }

    pub(crate) fn step(
        &mut self,
        signer: &KeySigner,
        name: &str,
        materials: &[&str],
        product: &str,
    ) {
        let deps: Vec<_> = materials
            .iter()
            .map(|m| json!({"name": m, "digest": {"sha256": digest(m).hex()}}))
            .collect();
        let statement = Statement::new(
            vec![ResourceDescriptor::named(product, digest(product).to_set())],
            "https://slsa.dev/provenance/v1",
            json!({
                "buildDefinition": {
                    "buildType": "https://hallmark.dev/buildtypes/step/v1",
                    "externalParameters": {"step": name, "command": ["make"]},
                    "internalParameters": {"exitCode": 0},
                    "resolvedDependencies": deps,
                },
                "runDetails": {"builder": {"id": "https://ci.example/b"}},
            }),
        )
        .unwrap();
        self.add(signer, &statement);
    }

    fn vsa(&mut self, signer: &KeySigner, product: &str, summary: &Summary) {
        let statement = Statement::new(
            vec![ResourceDescriptor::named(product, digest(product).to_set())],
            VSA_V1,
            summary.predicate(product, &[]).unwrap(),
        )
        .unwrap();
        self.add(signer, &statement);
    }
}

impl AttestationSource for Memory {
    fn name(&self) -> String {
        "memory".to_owned()
    }

    fn lookup(&self, d: &Digest, why: Lookup, _: &Budget) -> Result<Found, SourceError> {
        if self.broken {
            return Err(SourceError {
                source_name: self.name(),
                error: "connection refused".into(),
            });
        }
        if why == Lookup::Material {
            self.material_lookups.set(self.material_lookups.get() + 1);
            if self.incomplete_materials {
                return Ok(Found::default());
            }
        }
        let found = self
            .by_subject
            .get(&d.to_string())
            .cloned()
            .unwrap_or_default();
        Ok(Found::complete(found, Vec::new()))
    }
}

fn trusting(key: &TrustedKey) -> Trust {
    Trust {
        keys: vec![key.clone()],
        ..Trust::default()
    }
}

const POLICY_DIGEST: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn summary(passed: bool, time: SystemTime) -> Summary {
    Summary {
        verifier_id: "https://verifier.example".into(),
        policy_uri: "release.yaml".into(),
        policy_digest: POLICY_DIGEST.into(),
        levels: vec!["SLSA_BUILD_LEVEL_2".into()],
        passed,
        time,
    }
}

fn accept_from(key: &TrustedKey) -> VsaAcceptance {
    VsaAcceptance {
        verifiers: trusting(key),
        policy_digest: Some(POLICY_DIGEST.parse().unwrap()),
        max_age: Duration::from_secs(7 * 86_400),
    }
}

#[test]
fn nothing_trusted_is_an_error_not_a_verdict() {
    let (build, _) = signer();
    let mut m = Memory::default();
    m.step(&build, "build", &[], "app");
    let request = Request::new(digest("app"), SystemTime::now());
    let err = decide(&request, &[&m]).unwrap_err();
    assert!(matches!(err, Error::NoTrust));
    assert_eq!(err.code(), "trust.none");
}

#[test]
fn allowed_follows_the_violations() {
    let (build, key) = signer();
    let mut m = Memory::default();
    m.step(&build, "build", &[], "app");
    let mut request = Request {
        trust: trusting(&key),
        steps: vec!["build".into()],
        ..Request::new(digest("app"), SystemTime::now())
    };
    let decision = decide(&request, &[&m]).unwrap();
    assert!(decision.verdict.allowed(), "{:?}", decision.verdict);
    assert!(decision.verdict.violations().is_empty());
    request.steps.push("package".into());
    let decision = decide(&request, &[&m]).unwrap();
    assert!(!decision.verdict.allowed());
    assert!(matches!(
        decision.verdict.violations(),
        [Violation::MissingStep { step, .. }] if step == "package"
    ));
    // Another key: the same evidence verifies nothing.
    let (_, other) = signer();
    request.trust = trusting(&other);
    request.steps.clear();
    let decision = decide(&request, &[&m]).unwrap();
    assert!(matches!(
        decision.verdict.violations(),
        [Violation::NoneVerified { .. }]
    ));
}

#[test]
fn a_trusted_vsa_decides_and_the_clock_is_the_callers() {
    let (verifier, verifier_key) = signer();
    let signed_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let mut m = Memory::default();
    m.vsa(&verifier, "app", &summary(true, signed_at));
    let at = |t: SystemTime| Request {
        accept_vsa: Some(accept_from(&verifier_key)),
        ..Request::new(digest("app"), t)
    };
    let decision = decide(&at(signed_at + Duration::from_secs(3600)), &[&m]).unwrap();
    assert!(decision.verdict.allowed());
    let vsa = decision.verdict.accepted_vsa().unwrap();
    assert_eq!(vsa.policy_digest, POLICY_DIGEST);
    assert!(decision.verdict.attestations().is_empty());
    // Judged at the request's time: before it was signed, and eight days on, it is refused
    // (and with only a policy digest there is nothing to fall back to).
    for t in [
        signed_at - Duration::from_secs(3600),
        signed_at + Duration::from_secs(8 * 86_400),
    ] {
        let decision = decide(&at(t), &[&m]).unwrap();
        assert!(!decision.verdict.allowed());
        assert!(matches!(
            decision.verdict.violations(),
            [Violation::Policy { code, .. }] if code == "vsa.not-accepted"
        ));
    }
}

#[test]
fn a_failed_or_untrusted_vsa_denies_without_a_policy_to_fall_back_to() {
    let (verifier, verifier_key) = signer();
    let (stranger, _) = signer();
    let now = SystemTime::now();
    for (who, passed) in [(&verifier, false), (&stranger, true)] {
        let mut m = Memory::default();
        m.vsa(who, "app", &summary(passed, now));
        let request = Request {
            accept_vsa: Some(accept_from(&verifier_key)),
            ..Request::new(digest("app"), now)
        };
        let decision = decide(&request, &[&m]).unwrap();
        assert!(!decision.verdict.allowed());
        assert!(decision.vsa_fallback.is_none());
    }
}

#[test]
fn a_vsa_cannot_stand_for_steps_thresholds_or_facts_and_needs_its_policy() {
    let (_, key) = signer();
    let m = Memory::default();
    let base = || Request {
        accept_vsa: Some(accept_from(&key)),
        ..Request::new(digest("app"), SystemTime::now())
    };
    let steps = Request {
        steps: vec!["build".into()],
        ..base()
    };
    assert!(matches!(
        decide(&steps, &[&m]),
        Err(Error::VsaCannotProve(_))
    ));
    let mut facts = base();
    facts.facts.insert("environment".into(), json!("prod"));
    assert!(matches!(
        decide(&facts, &[&m]),
        Err(Error::VsaCannotProve(_))
    ));
    let mut unknown = base();
    unknown.accept_vsa.as_mut().unwrap().policy_digest = None;
    let err = decide(&unknown, &[&m]).unwrap_err();
    assert!(matches!(err, Error::VsaPolicyUnknown));
    assert_eq!(err.code(), "vsa.policy-unknown");
}

#[test]
fn with_the_policy_and_trust_a_refused_vsa_falls_back_to_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("allow.rego");
    std::fs::write(
        &path,
        "package hallmark\nimport rego.v1\ndeny contains f if { false; f := {} }\n",
    )
    .unwrap();
    let policy = Policy::load(&path, false).unwrap();
    let (build, key) = signer();
    let (verifier, verifier_key) = signer();
    let now = SystemTime::now();
    let mut m = Memory::default();
    m.step(&build, "build", &[], "app");
    // A PASSED VSA, but for another policy than the one given.
    m.vsa(&verifier, "app", &summary(true, now));
    let request = Request {
        trust: trusting(&key),
        policy: Some(&policy),
        accept_vsa: Some(VsaAcceptance {
            policy_digest: None,
            ..accept_from(&verifier_key)
        }),
        ..Request::new(digest("app"), now)
    };
    let decision = decide(&request, &[&m]).unwrap();
    let why = decision.vsa_fallback.as_deref().unwrap();
    assert!(why.contains("decided under policy"), "{why}");
    assert!(decision.verdict.allowed(), "{:?}", decision.verdict);
    assert!(decision.verdict.accepted_vsa().is_none());
    assert_eq!(decision.chain.unwrap().steps.len(), 1);
    // The same refusal without trust for the evidence denies.
    let untrusted = Request {
        trust: Trust::default(),
        ..request
    };
    let decision = decide(&untrusted, &[&m]).unwrap();
    assert!(!decision.verdict.allowed());
}

#[test]
fn materials_are_looked_up_in_the_sources_and_a_short_answer_truncates_the_chain() {
    let (build, key) = signer();
    let mut m = Memory::default();
    m.step(&build, "compile", &["main.c"], "app.o");
    m.step(&build, "link", &["app.o"], "app");
    let request = Request {
        trust: trusting(&key),
        walk_chain: true,
        ..Request::new(digest("app"), SystemTime::now())
    };
    let chain = decide(&request, &[&m]).unwrap().chain.unwrap();
    assert_eq!(chain.steps.len(), 2);
    assert!(!chain.truncated);
    assert_eq!(m.material_lookups.get(), 2, "app.o and main.c");
    m.incomplete_materials = true;
    let chain = decide(&request, &[&m]).unwrap().chain.unwrap();
    assert_eq!(chain.steps.len(), 1);
    assert!(chain.truncated);
}

#[test]
fn a_source_that_cannot_answer_is_an_error() {
    let (_, key) = signer();
    let m = Memory {
        broken: true,
        ..Memory::default()
    };
    let request = Request {
        trust: trusting(&key),
        ..Request::new(digest("app"), SystemTime::now())
    };
    let err = decide(&request, &[&m]).unwrap_err();
    assert!(matches!(err, Error::Source(_)), "{err}");
    assert_eq!(err.code(), "source.unavailable");
    assert!(err.to_string().contains("connection refused"));
}

#[test]
fn neither_a_vsa_an_approval_nor_an_empty_type_can_be_asked_for_as_evidence() {
    let (build, key) = signer();
    let mut m = Memory::default();
    m.step(&build, "build", &[], "app");
    for t in ["", VSA_V1, "https://hallmark.dev/approval/v1"] {
        let request = Request {
            trust: trusting(&key),
            predicate_types: vec![t.to_owned()],
            ..Request::new(digest("app"), SystemTime::now())
        };
        let err = decide(&request, &[&m]).unwrap_err();
        assert_eq!(err.code(), "request.predicate-type", "{t:?}");
    }
}
