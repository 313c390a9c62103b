//! Decision latency for a 10-step chain (docs/benchmarks.md): walking the chain (verifying
//! every step attestation), building the policy input, and evaluating the policy library through
//! a declarative policy that uses every rule.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

/// The allocator `hallmark-webhook` uses, so the figures are the admission gate's
/// (docs/decisions/0029-allocator.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::budget::Budget;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::chain::walk;
use hallmark_verifier::engine::{self, Request, Trust};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::policy::{Policy, policy_input};
use hallmark_verifier::source::{AttestationSource, Found, Lookup, SourceError};
use hallmark_verifier::verdict::{Candidate, Requirements, decide};
use serde_json::json;

const STEPS: usize = 10;
/// Source files the first step reads.
const SOURCES: usize = 50;

fn file_digest(name: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref())
}

/// The chain's bundles by subject digest, as a store would answer.
struct Memory(BTreeMap<String, Vec<Candidate>>);

impl AttestationSource for Memory {
    fn name(&self) -> String {
        "memory".into()
    }

    fn lookup(&self, digest: &Digest, _: Lookup, _: &Budget) -> Result<Found, SourceError> {
        let found = self.0.get(&digest.to_string()).cloned().unwrap_or_default();
        Ok(Found::complete(found, Vec::new()))
    }
}

fn chain(c: &mut Criterion) {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    let signer = KeySigner::new(key);
    let mut by_subject: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    for i in 0..STEPS {
        let materials: Vec<serde_json::Value> = if i == 0 {
            (0..SOURCES)
                .map(|n| {
                    let name = format!("src/f{n}.c");
                    json!({"name": name, "digest": {"sha256": file_digest(&name).hex()}})
                })
                .collect()
        } else {
            let name = format!("out/step{}", i - 1);
            vec![json!({"name": name, "digest": {"sha256": file_digest(&name).hex()}})]
        };
        let mut deps = vec![
            json!({"uri": "git+https://git.example/acme/app.git@refs/heads/main", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}),
        ];
        deps.extend(materials);
        let product = format!("out/step{i}");
        let statement = Statement::new(
            vec![ResourceDescriptor::named(&product, file_digest(&product).to_set())],
            "https://slsa.dev/provenance/v1",
            json!({
                "buildDefinition": {
                    "buildType": "https://hallmark.dev/buildtypes/step/v1",
                    "externalParameters": {"step": format!("step{i}"), "command": ["make", format!("step{i}")]},
                    "internalParameters": {"exitCode": 0},
                    "resolvedDependencies": deps,
                },
                "runDetails": {
                    "builder": {"id": "https://ci.example/builder"},
                    "metadata": {"startedOn": now, "finishedOn": now},
                },
            }),
        )
        .unwrap();
        let bundle = signer.sign_statement(&statement).unwrap().to_json();
        by_subject
            .entry(file_digest(&product).to_string())
            .or_default()
            .push(Candidate::new(format!("store step{i}"), bundle));
    }
    let steps: Vec<String> = (0..STEPS).map(|i| format!("step{i}")).collect();
    let yaml = format!(
        "apiVersion: hallmark.dev/policy/v1\nsteps:\n{}sources: {{repositories: [https://git.example/acme/app], refs: [refs/heads/main]}}\n\
         builders: [https://ci.example/builder]\nbuilderKeys: [{{keyid: {}}}]\nmaxAge: 7d\nselfHostedRunners: false\nslsaBuildLevel: 2\n",
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let from = if i == 0 {
                    "source".to_owned()
                } else {
                    format!("step{}", i - 1)
                };
                format!(
                    "  {s}: {{signers: [{{keyid: {}}}], inputs: [{from}]}}\n",
                    trusted.keyid()
                )
            })
            .collect::<String>(),
        trusted.keyid()
    );
    let path = std::env::temp_dir().join(format!("hallmark-bench-{}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    let policy = Policy::load(&path, false).unwrap();
    std::fs::remove_file(&path).ok();
    let requirements = Requirements {
        keys: vec![trusted],
        ..Requirements::at(std::time::SystemTime::now())
    };
    let artifact = file_digest(&format!("out/step{}", STEPS - 1));
    let initial = by_subject[&artifact.to_string()].clone();
    let lookup =
        |d: &Digest| Ok::<_, ()>(by_subject.get(&d.to_string()).cloned().unwrap_or_default());
    let decision = || {
        let verdict = decide(&artifact, &initial, &requirements);
        let chain = walk(&artifact, &initial, lookup, &requirements).unwrap();
        assert_eq!(chain.steps.len(), STEPS);
        let input = policy_input(&verdict, Some("app"), &chain, SystemTime::now(), &json!({}));
        policy.evaluate(&input)
    };
    let d = decision();
    assert!(d.deny.is_empty(), "{:?}", d.deny);
    // The product's path: the one library call `hallmark verify`, the webhook and the CI gate
    // make (engine::decide: look up, verify once per bundle, walk, input, policy).
    let memory = Memory(by_subject.clone());
    let mut request = Request::new(artifact.clone(), SystemTime::now());
    request.name = Some("app".into());
    request.trust = Trust {
        keys: requirements.keys.clone(),
        ..Trust::default()
    };
    request.policy = Some(&policy);
    let sources: [&dyn AttestationSource; 1] = [&memory];
    let decided = engine::decide(&request, &sources).unwrap();
    assert!(decided.verdict.allowed(), "{:?}", decided.policy);
    // A fixed number of decisions and nothing else, to count instructions under
    // `valgrind --tool=callgrind` (docs/benchmarks.md): steadier than time on a shared machine.
    if let Some(n) = std::env::var("HALLMARK_BENCH_DECISIONS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        // The fastest of batches of 20 (on a shared machine, the least disturbed), printed.
        let mut best = std::time::Duration::MAX;
        for _ in 0..n.div_ceil(20) {
            let start = std::time::Instant::now();
            for _ in 0..20 {
                std::hint::black_box(engine::decide(&request, &sources).unwrap());
            }
            best = best.min(start.elapsed() / 20);
        }
        eprintln!("engine::decide, fastest batch of 20: {best:?} per decision");
        std::process::exit(0);
    }
    c.bench_function(
        "engine::decide: 10-step chain, declarative policy (all rules)",
        |b| b.iter(|| engine::decide(&request, &sources).unwrap()),
    );
    c.bench_function(
        "decision: 10-step chain, declarative policy (all rules)",
        |b| b.iter(decision),
    );
    let verdict = decide(&artifact, &initial, &requirements);
    let walked = walk(&artifact, &initial, lookup, &requirements).unwrap();
    let input = policy_input(
        &verdict,
        Some("app"),
        &walked,
        SystemTime::now(),
        &json!({}),
    );
    // The input and the policy's modules, to profile the evaluation outside criterion
    // (docs/benchmarks.md).
    if let Some(path) = std::env::var_os("HALLMARK_BENCH_SAVE_INPUT") {
        std::fs::write(&path, serde_json::to_vec_pretty(&input).unwrap()).unwrap();
        let dir = std::path::PathBuf::from(format!("{}.modules", path.to_string_lossy()));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, (_, text)) in policy.modules().iter().enumerate() {
            std::fs::write(dir.join(format!("{i:02}.rego")), text).unwrap();
        }
    }
    c.bench_function("chain walk: 10 steps (verify each)", |b| {
        b.iter(|| walk(&artifact, &initial, lookup, &requirements).unwrap())
    });
    c.bench_function("policy evaluate: 10-step chain input", |b| {
        b.iter(|| policy.evaluate(&input))
    });
}

criterion_group!(benches, chain);
criterion_main!(benches);
