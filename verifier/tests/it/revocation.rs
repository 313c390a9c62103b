//! Revocation lists through the engine, on a fixed clock: a list is verified into `Revocations`
//! (or refused with its code), then applied to the artifact, the chain, each signer and the VSA
//! fast path.

use std::time::{Duration, SystemTime};

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::revocation::{Entry, Kind, REVOCATION_V1, RevocationList};
use hallmark_model::statement::Statement;
use hallmark_model::time::Timestamp;
use hallmark_verifier::Rejection;
use hallmark_verifier::engine::{Request, Trust, decide};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::revocation::{ListBundle, ListError, Revocations, verify_lists};
use hallmark_verifier::verdict::{Requirements, Violation};
use serde_json::json;

use crate::engine::Memory;

const T0: u64 = 1_900_000_000;

fn at(offset: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(T0.checked_add_signed(offset).unwrap())
}

fn ts(offset: i64) -> Timestamp {
    Timestamp::new(at(offset)).unwrap()
}

fn digest(name: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref())
}

fn signer() -> (KeySigner, TrustedKey) {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    (KeySigner::new(key), trusted)
}

fn entry(kind: Kind, value: &str, effective: i64) -> Entry {
    Entry {
        kind,
        value: value.to_owned(),
        issuer: None,
        reason: "test".to_owned(),
        effective: ts(effective),
    }
}

fn list(sequence: u64, entries: Vec<Entry>) -> RevocationList {
    RevocationList {
        name: "plant".to_owned(),
        sequence,
        issued: ts(-100),
        expires: Some(ts(10_000)),
        entries,
    }
}

/// The list signed by `signer` with its own name and content digest as the subject (as
/// `hallmark revoke` writes it), or with `subject` instead.
fn signed(signer: &KeySigner, list: &RevocationList, subject: Option<Digest>) -> ListBundle {
    let content = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &list.content_bytes());
    let own = Digest::from_bytes(DigestAlgorithm::Sha256, content.as_ref());
    let statement = Statement::new(
        vec![ResourceDescriptor::named(
            list.subject_name(),
            subject.unwrap_or(own).to_set(),
        )],
        REVOCATION_V1,
        list.to_value(),
    )
    .unwrap();
    ListBundle {
        origin: "list.json".to_owned(),
        bytes: signer.sign_statement(&statement).unwrap().to_json(),
    }
}

fn trusting(key: &TrustedKey) -> Requirements {
    Requirements {
        keys: vec![key.clone()],
        ..Requirements::at(at(0))
    }
}

fn verified(lists: &[ListBundle], key: &TrustedKey, when: i64) -> Result<Revocations, ListError> {
    verify_lists(lists, &trusting(key), at(when))
}

fn request(key: &TrustedKey, revocations: Revocations, when: i64) -> Request<'static> {
    Request {
        trust: Trust {
            keys: vec![key.clone()],
            ..Trust::default()
        },
        revocations,
        ..Request::new(digest("app"), at(when))
    }
}

#[test]
fn a_revoked_key_counts_until_its_effective_time_only() {
    let (build, build_key) = signer();
    let (security, security_key) = signer();
    let mut m = Memory::default();
    m.step(&build, "build", &[], "app");
    let lists = [signed(
        &security,
        &list(1, vec![entry(Kind::Key, build_key.keyid(), 0)]),
        None,
    )];
    let revocations = verified(&lists, &security_key, -1).unwrap();
    assert_eq!(revocations.entries().len(), 1);
    // Before the effective time: allowed; from it on, a key signature (no verified time) is not.
    let before = decide(&request(&build_key, revocations.clone(), -1), &[&m]).unwrap();
    assert!(before.verdict.allowed(), "{:?}", before.verdict);
    let after = decide(&request(&build_key, revocations, 0), &[&m]).unwrap();
    assert!(!after.verdict.allowed());
    let rejected = after.verdict.attestations()[0].rejected.as_ref().unwrap();
    assert_eq!(rejected.code(), "revocation.key");
    assert!(matches!(rejected, Rejection::Revoked(r) if r.signed == "no verified time"));
}

#[test]
fn a_revoked_artifact_or_material_is_denied_whoever_signed() {
    let (build, build_key) = signer();
    let (security, security_key) = signer();
    let mut m = Memory::default();
    m.step(&build, "build", &["src.c"], "lib.o");
    m.step(&build, "link", &["lib.o"], "app");
    let lists = [signed(
        &security,
        &list(
            1,
            vec![entry(Kind::Artifact, &digest("lib.o").to_string(), -10)],
        ),
        None,
    )];
    let revocations = verified(&lists, &security_key, 0).unwrap();
    // The artifact itself: denied with the revocation.
    let mut r = request(&build_key, revocations.clone(), 0);
    r.artifact = digest("lib.o");
    let d = decide(&r, &[&m]).unwrap();
    assert_eq!(
        d.verdict
            .violations()
            .iter()
            .map(Violation::code)
            .collect::<Vec<_>>(),
        ["revocation.artifact"]
    );
    // What was linked from it: denied when the chain is walked.
    let mut r = request(&build_key, revocations, 0);
    r.walk_chain = true;
    let d = decide(&r, &[&m]).unwrap();
    assert!(matches!(
        d.verdict.violations(),
        [Violation::Revoked { material: true, step: Some(s), .. }] if s == "link"
    ));
    // Without the lists the same evidence passes.
    let d = decide(&request(&build_key, Revocations::default(), 0), &[&m]).unwrap();
    assert!(d.verdict.allowed());
}

#[test]
fn lists_that_do_not_verify_are_errors_with_their_code() {
    let (security, security_key) = signer();
    let (mallory, _) = signer();
    let good = list(1, vec![entry(Kind::Artifact, &digest("x").to_string(), 0)]);
    let code = |r: Result<Revocations, ListError>| r.unwrap_err().code();
    // Untrusted signer.
    assert_eq!(
        code(verified(&[signed(&mallory, &good, None)], &security_key, 0)),
        "revocation.unverified"
    );
    // A subject that is not the list's content.
    assert_eq!(
        code(verified(
            &[signed(&security, &good, Some(digest("other")))],
            &security_key,
            0
        )),
        "revocation.invalid"
    );
    // Expired, and issued in the future.
    assert_eq!(
        code(verified(
            &[signed(&security, &good, None)],
            &security_key,
            10_000
        )),
        "revocation.stale"
    );
    assert_eq!(
        code(verified(
            &[signed(&security, &good, None)],
            &security_key,
            -101
        )),
        "revocation.stale"
    );
    // Two lists with one name and sequence but different entries.
    let other = list(1, vec![entry(Kind::Artifact, &digest("y").to_string(), 0)]);
    assert_eq!(
        code(verified(
            &[
                signed(&security, &good, None),
                signed(&security, &other, None)
            ],
            &security_key,
            0
        )),
        "revocation.conflict"
    );
    // Nobody trusted to sign.
    assert_eq!(
        code(verify_lists(
            &[signed(&security, &good, None)],
            &Requirements::at(at(0)),
            at(0)
        )),
        "revocation.no-signers"
    );
    // Another predicate type.
    let statement = Statement::new(
        vec![ResourceDescriptor::named("x", digest("x").to_set())],
        "https://slsa.dev/provenance/v1",
        json!({}),
    )
    .unwrap();
    let bundle = ListBundle {
        origin: "prov.json".into(),
        bytes: security.sign_statement(&statement).unwrap().to_json(),
    };
    assert_eq!(
        code(verified(&[bundle], &security_key, 0)),
        "revocation.invalid"
    );
    // A list verified earlier stops every decision once it expires.
    let (build, build_key) = signer();
    let mut m = Memory::default();
    m.step(&build, "build", &[], "app");
    let revocations = verified(&[signed(&security, &good, None)], &security_key, 0).unwrap();
    let err = decide(&request(&build_key, revocations, 10_000), &[&m]).unwrap_err();
    assert_eq!(err.code(), "revocation.stale");
}
