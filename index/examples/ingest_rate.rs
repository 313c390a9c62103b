//! Measures ingest end to end: N key-signed step provenance bundles (ECDSA P-256, each with
//! two materials and a subject, as `hallmark run` writes) verified in parallel and written in
//! batches of 1,000, into SQLite and into a throw-away PostgreSQL.
//!
//! `cargo run --release -p hallmark-index --example ingest_rate -- 20000`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Instant, SystemTime};

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_index::Index;
use hallmark_index::verify::{Found, verify_all};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::verdict::Requirements;
use serde_json::json;

fn digest(i: usize, salt: &str) -> Digest {
    Digest::from_bytes(
        DigestAlgorithm::Sha256,
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, format!("{salt}{i}").as_bytes())
            .as_ref(),
    )
}

fn run(location: &str, bundles: &[Vec<u8>], requirements: &Requirements) -> f64 {
    let mut index = Index::open(location).unwrap();
    let found: Vec<Found<'_>> = bundles
        .iter()
        .map(|b| Found {
            origin: "bench",
            bundle: b,
        })
        .collect();
    let start = Instant::now();
    index
        .verify_and_add(&found, requirements, "key bench.pub", 1000, |_, r| {
            assert!(r.is_ok());
        })
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(index.counts().unwrap().attestations, bundles.len() as u64);
    bundles.len() as f64 / secs
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(20_000, |a| a.parse().unwrap());
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "bench.pub").unwrap();
    let signer = KeySigner::new(key);
    let bundles: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let predicate = json!({
                "buildDefinition": {
                    "buildType": hallmark_model::provenance::STEP_BUILD_TYPE,
                    "externalParameters": {"step": format!("step-{}", i % 10)},
                    "resolvedDependencies": [
                        {"uri": "git+https://git.example/app@refs/heads/main",
                         "digest": {"gitCommit": format!("{:040x}", i / 10)}},
                        {"name": "src/main.c", "digest": digest(i, "src").to_set()},
                        {"name": "input.bin", "digest": digest(i.saturating_sub(1), "out").to_set()},
                    ],
                },
                "runDetails": {"builder": {"id": "https://ci.example/runner"},
                               "metadata": {"finishedOn": "2026-11-01T00:00:00Z"}},
            });
            let statement = Statement::new(
                vec![ResourceDescriptor::named("out.bin", digest(i, "out").to_set())],
                hallmark_model::provenance::SLSA_PROVENANCE_V1,
                predicate,
            )
            .unwrap();
            signer.sign_statement(&statement).unwrap().to_json()
        })
        .collect();
    let requirements = Requirements {
        keys: vec![trusted],
        ..Requirements::at(SystemTime::now())
    };
    let verify_start = Instant::now();
    let slices: Vec<&[u8]> = bundles.iter().map(Vec::as_slice).collect();
    let _ = verify_all(&slices, &requirements);
    let verify_rate = n as f64 / verify_start.elapsed().as_secs_f64();
    println!(
        "verification alone: {verify_rate:.0} attestations/s ({} threads)",
        rayon::current_num_threads()
    );
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("index.sqlite");
    let rate = run(&sqlite.display().to_string(), &bundles, &requirements);
    println!("sqlite: {rate:.0} attestations/s end to end ({n})");
    let pg = hallmark_testsvc::postgres::Postgres::start().unwrap();
    let rate = run(pg.url(), &bundles, &requirements);
    println!("postgresql: {rate:.0} attestations/s end to end ({n})");
}
