//! The chain walk: links, cycles, limits, and upstream attestations that do not verify.

use std::collections::BTreeMap;

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::budget::{Budget, Limits, Work};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::chain::{Chain, walk_in};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::session::Session;
use hallmark_verifier::verdict::{Candidate, Requirements};
use serde_json::json;

fn digest(name: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, name.as_bytes());
    Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref())
}

struct World {
    signer: KeySigner,
    requirements: Requirements,
    by_subject: BTreeMap<String, Vec<Candidate>>,
}

impl World {
    fn new() -> Self {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
        World {
            signer: KeySigner::new(key),
            requirements: Requirements {
                keys: vec![trusted],
                ..Requirements::at(std::time::SystemTime::now())
            },
            by_subject: BTreeMap::new(),
        }
    }

    /// A step reading `materials` and writing `products`, signed by `signer` (or the world's key).
    fn step_by(
        &mut self,
        signer: Option<&KeySigner>,
        name: &str,
        materials: &[&str],
        products: &[&str],
    ) {
        let deps: Vec<_> = materials
            .iter()
            .map(|m| json!({"name": m, "digest": {"sha256": digest(m).hex()}}))
            .collect();
        let statement = Statement::new(
            products
                .iter()
                .map(|p| ResourceDescriptor::named(*p, digest(p).to_set()))
                .collect(),
            "https://slsa.dev/provenance/v1",
            json!({
                "buildDefinition": {
                    "buildType": "https://hallmark.dev/buildtypes/step/v1",
                    "externalParameters": {"step": name, "command": ["make", name]},
                    "internalParameters": {"exitCode": 0},
                    "resolvedDependencies": deps,
                },
                "runDetails": {"builder": {"id": "https://ci.example/b"}},
            }),
        )
        .unwrap();
        let bundle = signer
            .unwrap_or(&self.signer)
            .sign_statement(&statement)
            .unwrap()
            .to_json();
        for p in products {
            self.by_subject
                .entry(digest(p).to_string())
                .or_default()
                .push(Candidate::new(format!("test {name}"), bundle.clone()));
        }
    }

    fn step(&mut self, name: &str, materials: &[&str], products: &[&str]) {
        self.step_by(None, name, materials, products);
    }

    fn walk(&self, artifact: &str) -> Chain {
        self.walk_within(artifact, &Budget::default())
    }

    /// The walk as one decision spending from `budget`.
    fn walk_within(&self, artifact: &str, budget: &Budget) -> Chain {
        let d = digest(artifact);
        let initial = self
            .by_subject
            .get(&d.to_string())
            .cloned()
            .unwrap_or_default();
        walk_in(
            &Session::new(&self.requirements, budget),
            &d,
            &initial,
            |m| {
                Ok::<_, ()>(
                    self.by_subject
                        .get(&m.to_string())
                        .cloned()
                        .unwrap_or_default(),
                )
            },
        )
        .unwrap()
    }
}

fn step<'a>(chain: &'a Chain, name: &str) -> &'a hallmark_verifier::chain::ChainStep {
    chain
        .steps
        .iter()
        .find(|s| s.step.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no step {name} in {chain:?}"))
}

#[test]
fn materials_link_to_the_steps_that_produced_them() {
    let mut w = World::new();
    w.step("build", &["src/a.c"], &["out/app"]);
    w.step("test", &["out/app"], &["report"]);
    w.step("package", &["out/app", "report", "extra"], &["app.tar"]);
    let chain = w.walk("app.tar");
    assert_eq!(chain.steps.len(), 3);
    assert_eq!(chain.roots, vec![step(&chain, "package").id.clone()]);
    let package = step(&chain, "package");
    let produced = |name: &str| {
        package
            .materials
            .iter()
            .find(|m| m.name == name)
            .unwrap()
            .produced_by
            .clone()
            .unwrap()
    };
    assert_eq!(produced("out/app"), vec![step(&chain, "build").id.clone()]);
    assert_eq!(produced("report"), vec![step(&chain, "test").id.clone()]);
    assert!(produced("extra").is_empty(), "nothing produced extra");
    assert!(!chain.truncated);
}

#[test]
fn an_upstream_step_signed_by_an_untrusted_key_is_not_in_the_chain() {
    let mut w = World::new();
    let stranger = KeySigner::new(SigningKey::generate(KeyKind::EcdsaP256).unwrap());
    w.step_by(Some(&stranger), "build", &["src/a.c"], &["out/app"]);
    w.step("package", &["out/app"], &["app.tar"]);
    let chain = w.walk("app.tar");
    assert_eq!(chain.steps.len(), 1, "{chain:?}");
    assert!(
        step(&chain, "package").materials[0]
            .produced_by
            .as_ref()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_forged_upstream_payload_is_not_in_the_chain() {
    let mut w = World::new();
    w.step("build", &["src/a.c"], &["out/app"]);
    w.step("package", &["out/app"], &["app.tar"]);
    // Replace the build attestation's payload with another statement, keeping the signature.
    let key = digest("out/app").to_string();
    let original = w.by_subject[&key][0].bytes().to_vec();
    let mut doc: serde_json::Value = serde_json::from_slice(&original).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let forged = String::from_utf8(payload).unwrap().replace("make", "evil");
    doc["dsseEnvelope"]["payload"] = b64.encode(forged).into();
    w.by_subject.get_mut(&key).unwrap()[0] =
        Candidate::new("forged", serde_json::to_vec(&doc).unwrap());
    let chain = w.walk("app.tar");
    assert_eq!(chain.steps.len(), 1, "{chain:?}");
}

#[test]
fn cycles_end_and_a_step_is_not_its_own_producer() {
    let mut w = World::new();
    // a reads x and writes y; b reads y and writes x: a loop. c writes its own input (in place).
    w.step("a", &["x"], &["y"]);
    w.step("b", &["y"], &["x"]);
    w.step("c", &["x", "z"], &["z", "final"]);
    let chain = w.walk("final");
    assert_eq!(chain.steps.len(), 3, "{chain:?}");
    let c = step(&chain, "c");
    let z = c.materials.iter().find(|m| m.name == "z").unwrap();
    assert!(z.produced_by.as_ref().unwrap().is_empty(), "not by itself");
}

#[test]
fn a_long_chain_is_truncated_not_unbounded() {
    let mut w = World::new();
    let n = hallmark_verifier::chain::MAX_CHAIN_STEPS + 5;
    for i in 0..n {
        let input = format!("f{i}");
        let output = format!("f{}", i + 1);
        w.step(&format!("s{i}"), &[&input], &[&output]);
    }
    let chain = w.walk(&format!("f{n}"));
    assert!(chain.truncated);
    assert_eq!(chain.steps.len(), hallmark_verifier::chain::MAX_CHAIN_STEPS);
}

#[test]
fn attestations_that_are_not_provenance_are_not_steps() {
    let mut w = World::new();
    let statement = Statement::new(
        vec![ResourceDescriptor::named(
            "app.tar",
            digest("app.tar").to_set(),
        )],
        "https://spdx.dev/Document",
        json!({"spdxVersion": "SPDX-2.3"}),
    )
    .unwrap();
    let bundle = w.signer.sign_statement(&statement).unwrap().to_json();
    w.by_subject
        .entry(digest("app.tar").to_string())
        .or_default()
        .push(Candidate::new("sbom", bundle));
    let chain = w.walk("app.tar");
    assert!(chain.steps.is_empty() && chain.roots.is_empty());
}

#[test]
fn a_copy_of_a_bundle_is_the_same_step_and_pass_through_is_not_production() {
    let mut w = World::new();
    // The build works in place: it lists out/lib as material and product, unchanged (a file
    // slipped into its directory), and produces out/app.
    w.step("build", &["src/a.c", "out/lib"], &["out/app", "out/lib"]);
    w.step("package", &["out/app", "out/lib"], &["app.tar"]);
    // Someone with write access to the store adds a re-serialised copy of the build bundle.
    let key = digest("out/app").to_string();
    let mut bytes = w.by_subject[&key][0].bytes().to_vec();
    bytes.push(b' ');
    let copy = Candidate::new("copy", bytes);
    for subject in ["out/app", "out/lib"] {
        w.by_subject
            .get_mut(&digest(subject).to_string())
            .unwrap()
            .push(copy.clone());
    }
    let chain = w.walk("app.tar");
    assert_eq!(chain.steps.len(), 2, "the copy is the same step: {chain:?}");
    let package = step(&chain, "package");
    let lib = package
        .materials
        .iter()
        .find(|m| m.name == "out/lib")
        .unwrap();
    assert!(
        lib.produced_by.as_ref().unwrap().is_empty(),
        "passed through, not produced: {lib:?}"
    );
    let app = package
        .materials
        .iter()
        .find(|m| m.name == "out/app")
        .unwrap();
    assert_eq!(app.produced_by.as_ref().unwrap().len(), 1);
}

#[test]
fn inputs_without_a_sha256_digest_stay_visible() {
    let mut w = World::new();
    let statement = Statement::new(
        vec![ResourceDescriptor::named("app.tar", digest("app.tar").to_set())],
        "https://slsa.dev/provenance/v1",
        json!({
            "buildDefinition": {
                "buildType": "https://hallmark.dev/buildtypes/step/v1",
                "externalParameters": {"step": "package"},
                "resolvedDependencies": [
                    {"uri": "git+https://git.example/acme/app@refs/heads/main", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}},
                    {"name": "evil.bin", "digest": {"sha512": "AB".repeat(64)}},
                    {"uri": "https://example.com/lib.tar.gz"},
                ],
            },
            "runDetails": {"builder": {"id": "https://ci.example/b"}},
        }),
    )
    .unwrap();
    let bundle = w.signer.sign_statement(&statement).unwrap().to_json();
    w.by_subject.insert(
        digest("app.tar").to_string(),
        vec![Candidate::new("package", bundle)],
    );
    let chain = w.walk("app.tar");
    let materials = &step(&chain, "package").materials;
    assert_eq!(
        materials.len(),
        2,
        "the git source is not a material: {materials:?}"
    );
    assert_eq!(
        materials[0].digest.as_deref(),
        Some(format!("sha512:{}", "ab".repeat(64)).as_str()),
        "other algorithms kept, hex lower-cased"
    );
    assert_eq!(materials[1].name, "https://example.com/lib.tar.gz");
    assert_eq!(materials[1].digest, None, "unpinned");
}

#[test]
fn a_product_with_the_same_content_as_an_input_is_still_produced() {
    let mut w = World::new();
    // `cat src/a.c > out/app` with one source file: same digest, another file.
    w.step("build", &["same"], &["same"]);
    let chain = w.walk("same");
    assert_eq!(chain.steps.len(), 1);
    // Different names, same digest: the product counts.
    let mut w = World::new();
    let key = "content";
    let statement = Statement::new(
        vec![ResourceDescriptor::named("out/app", digest(key).to_set())],
        "https://slsa.dev/provenance/v1",
        json!({
            "buildDefinition": {
                "buildType": "https://hallmark.dev/buildtypes/step/v1",
                "externalParameters": {"step": "build"},
                "resolvedDependencies": [{"name": "src/a.c", "digest": {"sha256": digest(key).hex()}}],
            },
            "runDetails": {"builder": {"id": "https://ci.example/b"}},
        }),
    )
    .unwrap();
    let bundle = w.signer.sign_statement(&statement).unwrap().to_json();
    w.by_subject.insert(
        digest(key).to_string(),
        vec![Candidate::new("build", bundle)],
    );
    w.step("package", &[key], &["app.tar"]);
    let chain = w.walk("app.tar");
    let package = step(&chain, "package");
    assert_eq!(
        package.materials[0].produced_by.as_ref().unwrap(),
        &vec![step(&chain, "build").id.clone()],
        "{chain:?}"
    );
    // ... but the build did not produce its own input src/a.c.
    let build = step(&chain, "build");
    assert!(
        build.materials[0].produced_by.as_ref().unwrap().is_empty(),
        "{build:?}"
    );
}

#[test]
fn approvals_and_other_attestations_do_not_use_up_the_candidate_budget() {
    let mut w = World::new();
    w.step("package", &["out/app"], &["app.tar"]);
    for i in 0..(hallmark_verifier::chain::MAX_CANDIDATES_PER_DIGEST + 10) {
        let statement = Statement::new(
            vec![ResourceDescriptor::named(
                "app.tar",
                digest("app.tar").to_set(),
            )],
            "https://hallmark.dev/approval/v1",
            json!({"reason": format!("approval {i}")}),
        )
        .unwrap();
        let bundle = w.signer.sign_statement(&statement).unwrap().to_json();
        w.by_subject
            .get_mut(&digest("app.tar").to_string())
            .unwrap()
            .insert(0, Candidate::new(format!("approval {i}"), bundle));
    }
    let chain = w.walk("app.tar");
    assert!(!chain.truncated, "{}", chain.steps.len());
    assert_eq!(chain.roots.len(), 1);
}

#[test]
fn a_step_that_passes_the_artifact_through_is_not_its_producer() {
    let mut w = World::new();
    w.step("package", &["out/app"], &["app.tar"]);
    // A later "sign" step lists app.tar as material and product, unchanged.
    w.step("sign", &["app.tar"], &["app.tar"]);
    let chain = w.walk("app.tar");
    assert_eq!(
        chain.roots,
        vec![step(&chain, "package").id.clone()],
        "{chain:?}"
    );
}

#[test]
fn copies_signed_by_different_keys_are_one_step_with_both_signers() {
    let mut w = World::new();
    let second = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    w.requirements
        .keys
        .push(TrustedKey::from_pem(second.public_key_pem().as_bytes(), "b.pub").unwrap());
    let second = KeySigner::new(second);
    w.step("package", &["out/app"], &["app.tar"]);
    w.step_by(Some(&second), "package", &["out/app"], &["app.tar"]);
    let chain = w.walk("app.tar");
    assert_eq!(chain.steps.len(), 1);
    assert_eq!(
        chain.steps[0].signers.len(),
        2,
        "{:?}",
        chain.steps[0].signers
    );
}

#[test]
fn unverified_copies_cannot_crowd_out_the_genuine_one() {
    let mut w = World::new();
    w.step("package", &["out/app"], &["app.tar"]);
    let key = digest("app.tar").to_string();
    let genuine = w.by_subject[&key][0].clone();
    // Copies of the same payload with a broken signature, stored ahead of it.
    let mut doc: serde_json::Value = serde_json::from_slice(genuine.bytes()).unwrap();
    doc["dsseEnvelope"]["signatures"][0]["sig"] = "AAAA".into();
    for i in 0..9 {
        w.by_subject.get_mut(&key).unwrap().insert(
            0,
            Candidate::new(format!("junk {i}"), serde_json::to_vec(&doc).unwrap()),
        );
    }
    // Signatures are checked before copies are grouped, so the broken ones never count.
    let chain = w.walk("app.tar");
    assert_eq!(chain.steps.len(), 1, "{chain:?}");
    assert!(!chain.truncated, "{chain:?}");
}

/// A store writer lists one bundle that does not verify (signed by a key nobody trusts) for
/// every digest of the chain: it is parsed and checked once for the whole decision.
#[test]
fn a_bundle_listed_for_many_digests_is_parsed_and_checked_once() {
    let mut w = World::new();
    w.step("build", &["src/a.c"], &["out/app"]);
    w.step("package", &["out/app"], &["app.tar"]);
    let stranger = KeySigner::new(SigningKey::generate(KeyKind::EcdsaP256).unwrap());
    let all = ["app.tar", "out/app", "src/a.c"];
    w.step_by(Some(&stranger), "junk", &all, &all);
    let budget = Budget::default();
    let chain = w.walk_within("app.tar", &budget);
    assert_eq!(chain.steps.len(), 2, "{chain:?}");
    assert!(!chain.truncated);
    // build, package and the junk bundle: each parsed once, its signature checked once.
    assert_eq!(budget.spent(Work::Attestations), 3);
    assert_eq!(budget.spent(Work::Signatures), 3);
}

#[test]
fn a_spent_budget_marks_the_chain_truncated() {
    let mut w = World::new();
    w.step("build", &["src/a.c"], &["out/app"]);
    w.step("package", &["out/app"], &["app.tar"]);
    let budget = Budget::new(Limits {
        attestations: 1,
        ..Limits::default()
    });
    let chain = w.walk_within("app.tar", &budget);
    assert_eq!(
        chain.steps.len(),
        1,
        "only the package step was read: {chain:?}"
    );
    assert!(chain.truncated, "policy must deny what was not seen");
    assert_eq!(budget.exhausted().map(|e| e.work), Some(Work::Attestations));
}

#[test]
fn many_signatures_are_refused_before_verifying() {
    let mut w = World::new();
    w.step("package", &["out/app"], &["app.tar"]);
    let genuine = &w.by_subject[&digest("app.tar").to_string()][0];
    let mut doc: serde_json::Value = serde_json::from_slice(genuine.bytes()).unwrap();
    let one = doc["dsseEnvelope"]["signatures"][0].clone();
    doc["dsseEnvelope"]["signatures"] = serde_json::Value::Array(vec![one; 1000]);
    let flood = Candidate::new("flood", serde_json::to_vec(&doc).unwrap());
    let mut requirements = w.requirements.clone();
    requirements.signatures = hallmark_verifier::attestation::SignaturePolicy::Threshold(1);
    let budget = Budget::default();
    let session = Session::new(&requirements, &budget);
    let rejected = session.check(&flood, &digest("app.tar")).unwrap_err();
    assert!(
        matches!(
            rejected,
            hallmark_verifier::Rejection::TooManySignatures {
                found: 1000,
                limit: 16
            }
        ),
        "{rejected:?}"
    );
    assert_eq!(
        budget.spent(Work::Signatures),
        0,
        "no signature was checked"
    );
}
