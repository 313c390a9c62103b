//! Records made to mislead the traces (attacker review): a lot record whose subject digest is
//! not its name's, and deployments on one target within the same second.

use std::time::SystemTime;

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_index::verify::verify_all;
use hallmark_index::{Evidence, Index, Ingested};
use hallmark_model::digest::Digest;
use hallmark_model::keyid::KeyKind;
use hallmark_model::lot::{LOT_V1, subject_name};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::verdict::Requirements;
use serde_json::{Value, json};

use crate::plant::sha256;
use crate::{Backend, on_both};

struct Site {
    signer: KeySigner,
    trusted: TrustedKey,
}

impl Site {
    fn new() -> Site {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "site.pub").unwrap();
        Site {
            signer: KeySigner::new(key),
            trusted,
        }
    }

    fn sign(&self, subject: (&str, &str), predicate_type: &str, predicate: Value) -> Vec<u8> {
        let d: Digest = subject.1.parse().unwrap();
        let subjects = vec![ResourceDescriptor::named(subject.0, d.to_set())];
        self.signer
            .sign_statement(&Statement::new(subjects, predicate_type, predicate).unwrap())
            .unwrap()
            .to_json()
    }

    /// Verifies and indexes `bundles` (all must verify).
    fn add(&self, index: &mut Index, bundles: &[Vec<u8>]) -> Vec<Ingested> {
        let requirements = Requirements {
            keys: vec![self.trusted.clone()],
            ..Requirements::at(SystemTime::now())
        };
        let slices: Vec<&[u8]> = bundles.iter().map(Vec::as_slice).collect();
        let verified: Vec<_> = verify_all(&slices, &requirements)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let evidence: Vec<Evidence<'_>> = verified
            .iter()
            .zip(bundles)
            .map(|(attestation, bundle)| Evidence {
                attestation,
                bundle,
                origin: "test",
                trust: "key site.pub",
                verified_at: SystemTime::now(),
            })
            .collect();
        index.add(&evidence).unwrap()
    }

    fn deploy(&self, artifact: &str, at: &str, replaces: Option<&str>) -> Vec<u8> {
        self.sign(
            ("hmi.tar", artifact),
            hallmark_model::deployment::DEPLOYMENT_V1,
            json!({"target": "plant-a/line-1/hmi", "replaces": replaces, "deployedAt": at}),
        )
    }
}

fn a_lot_record_whose_subject_digest_is_not_its_name_is_not_filed(backend: &Backend) {
    let site = Site::new();
    let mut index = backend.open();
    let lot = |id: &str, digest: &str| {
        site.sign(
            (&subject_name(id), digest),
            LOT_V1,
            json!({"lot": id, "target": "plant-a/line-1",
                   "from": "2026-11-01T00:00:00Z", "to": "2026-11-01T04:00:00Z"}),
        )
    };
    // Named lot:L-1 but carrying another artifact's digest (the HMI package's).
    let forged = lot("L-1", &sha256("valve-1.0/pkg.tar"));
    let honest = lot("L-2", &sha256(&subject_name("L-2")));
    let added = site.add(&mut index, &[forged, honest]);
    match &added[0] {
        Ingested::Added { notes, .. } => assert!(
            notes.iter().any(|n| n.contains("not filed as a lot")),
            "{notes:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(index.trace_lot("L-1").unwrap().records.is_empty());
    assert_eq!(index.trace_lot("L-2").unwrap().records.len(), 1);
}

fn deployments_in_one_second_follow_their_replaces_chain(backend: &Backend) {
    let site = Site::new();
    let mut index = backend.open();
    let (x, y, z) = (sha256("first"), sha256("upgrade"), sha256("rolled-forward"));
    // Name them so that digest order is the reverse of deployment order at the same second.
    let (second, third) = if y < z { (z, y) } else { (y, z) };
    let t0 = "2026-11-01T00:00:00Z";
    let t1 = "2026-11-01T06:00:00Z";
    site.add(
        &mut index,
        &[
            site.deploy(&x, t0, None),
            site.deploy(&second, t1, Some(&x)),
            site.deploy(&third, t1, Some(&second)),
        ],
    );
    let at: hallmark_model::time::Timestamp = "2026-11-01T07:00:00Z".parse().unwrap();
    let running = index
        .trace_target("plant-a/line-1/hmi", at)
        .unwrap()
        .running;
    assert_eq!(running.len(), 1, "{running:#?}");
    assert_eq!(running[0].artifact, third, "{running:#?}");
    assert!(!running[0].breaks_chain);
}

on_both!(
    a_lot_record_whose_subject_digest_is_not_its_name_is_not_filed,
    deployments_in_one_second_follow_their_replaces_chain,
    each_record_of_one_event_keeps_its_own_environment,
);

fn each_record_of_one_event_keeps_its_own_environment(backend: &Backend) {
    let site = Site::new();
    let mut index = backend.open();
    let artifact = sha256("hmi-1.0.tar");
    let record = |environment: &str, change: Option<&str>| {
        site.sign(
            ("hmi.tar", &artifact),
            hallmark_model::deployment::DEPLOYMENT_V1,
            json!({"target": "plant-a/line-1/hmi", "environment": environment,
                   "change": change, "deployedAt": "2026-11-01T00:00:00Z"}),
        )
    };
    let added = site.add(
        &mut index,
        &[record("staging", Some("CHG-1")), record("production", None)],
    );
    // One event, one window (it shows one record's fields)...
    let windows = index.deployments_of(&artifact).unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].evidence.len(), 2);
    // ...but each record, read on its own, says what it says.
    let staging = index.deployment_record(added[0].id()).unwrap().unwrap();
    let production = index.deployment_record(added[1].id()).unwrap().unwrap();
    assert_eq!(
        (staging.environment.as_deref(), staging.change.as_deref()),
        (Some("staging"), Some("CHG-1"))
    );
    assert_eq!(
        (
            production.environment.as_deref(),
            production.change.as_deref()
        ),
        (Some("production"), None)
    );
    assert_eq!(production.target, "plant-a/line-1/hmi");
    assert!(index.deployment_record("sha256:00").unwrap().is_none());
}
