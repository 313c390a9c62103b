//! Property tests (proptest) for invariants examples miss: RFC 6962 inclusion proofs over random
//! trees, the canonical JSON of Rekor's signed entry timestamp, and the determinism of the policy
//! input. The models here (tree hasher, JCS) are written from the specifications, not from the
//! verifier's code.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, UNIX_EPOCH};

use aws_lc_rs::digest::{Context, SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::keyid::KeyKind;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::chain::walk;
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::policy::policy_input;
use hallmark_verifier::sigstore::error::{InclusionProofError, SetError};
use hallmark_verifier::sigstore::tlog::merkle::{leaf_hash, verify_inclusion};
use hallmark_verifier::sigstore::tlog::set::{set_payload, verify_set};
use hallmark_verifier::verdict::{Candidate, Requirements, decide};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// RFC 6962 §2.1, as written there: MTH and PATH over D[n], k the largest power of two below n.

type Hash = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    parts.iter().for_each(|p| ctx.update(p));
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// A tree's leaves with every subtree hash the RFC's recursion visits, computed once.
struct Tree {
    leaves: Vec<Hash>,
    memo: HashMap<(usize, usize), Hash>,
}

impl Tree {
    fn new(data: &[Vec<u8>]) -> Self {
        let leaves = data.iter().map(|d| sha256(&[&[0], d])).collect();
        Tree {
            leaves,
            memo: HashMap::new(),
        }
    }

    /// MTH(D[start : start + n]).
    fn mth(&mut self, start: usize, n: usize) -> Hash {
        if n == 1 {
            return self.leaves[start];
        }
        if let Some(h) = self.memo.get(&(start, n)) {
            return *h;
        }
        let k = split(n);
        let h = sha256(&[&[1], &self.mth(start, k), &self.mth(start + k, n - k)]);
        self.memo.insert((start, n), h);
        h
    }

    fn root(&mut self) -> Hash {
        self.mth(0, self.leaves.len())
    }

    /// PATH(m, D[start : start + n]), leaf-most hash first.
    fn path(&mut self, m: usize, start: usize, n: usize) -> Vec<Vec<u8>> {
        if n == 1 {
            return Vec::new();
        }
        let k = split(n);
        let (mut p, sibling) = if m < k {
            (self.path(m, start, k), self.mth(start + k, n - k))
        } else {
            (self.path(m - k, start + k, n - k), self.mth(start, k))
        };
        p.push(sibling.to_vec());
        p
    }
}

/// Which side each proof hash sits on (true: left), leaf-most first: all of PATH(m, D[n]) that
/// depends on (m, n). Two (index, size) pairs with the same shape hash a proof identically.
fn shape(m: usize, n: usize) -> Vec<bool> {
    if n == 1 {
        return Vec::new();
    }
    let k = split(n);
    let mut s = if m < k {
        shape(m, k)
    } else {
        shape(m - k, n - k)
    };
    s.push(m >= k);
    s
}

fn flip(bytes: &mut [u8], bit: usize) {
    bytes[bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_inclusion_proof_verifies_and_every_change_fails(
        size in 1usize..=300,
        seed in any::<u64>(),
        exhaustive in any::<prop::sample::Index>(),
        other_size in 1usize..=600,
    ) {
        // Distinct leaves (the index is in the data): with equal leaves, another index could
        // rightly prove the same hash.
        let data: Vec<Vec<u8>> = (0..size)
            .map(|i| [seed.to_be_bytes(), (i as u64).to_be_bytes()].concat())
            .collect();
        let mut tree = Tree::new(&data);
        let root = tree.root();
        let n = size as u64;
        let exhaustive = exhaustive.index(size);
        for (i, d) in data.iter().enumerate() {
            let leaf = tree.leaves[i];
            prop_assert_eq!(leaf_hash(d), leaf);
            let proof = tree.path(i, 0, size);
            let at = i as u64;
            prop_assert_eq!(verify_inclusion(at, n, leaf, &proof, &root), Ok(()));

            // One bit of the leaf, of each proof hash and of the root: every bit for one leaf
            // per tree, one bit (varying with the leaf and the hash) for the others.
            let bits = |j: usize| -> Vec<usize> {
                if i == exhaustive {
                    (0..256).collect()
                } else {
                    vec![(seed as usize ^ (i * 97 + j * 31)) % 256]
                }
            };
            for bit in bits(0) {
                let mut bad = leaf;
                flip(&mut bad, bit);
                let result = verify_inclusion(at, n, bad, &proof, &root);
                prop_assert_eq!(result, Err(InclusionProofError::RootMismatch));
                let mut bad_root = root;
                flip(&mut bad_root, bit);
                let result = verify_inclusion(at, n, leaf, &proof, &bad_root);
                prop_assert_eq!(result, Err(InclusionProofError::RootMismatch));
            }
            for j in 0..proof.len() {
                for bit in bits(j + 1) {
                    let mut bad = proof.clone();
                    flip(&mut bad[j], bit);
                    let result = verify_inclusion(at, n, leaf, &bad, &root);
                    prop_assert_eq!(result, Err(InclusionProofError::RootMismatch));
                }
            }

            // A hash dropped, added or cut short.
            if let Some((_, rest)) = proof.split_last() {
                let short = verify_inclusion(at, n, leaf, rest, &root);
                prop_assert_eq!(short, Err(InclusionProofError::TooShort));
                let mut cut = proof.clone();
                cut[0].pop();
                let result = verify_inclusion(at, n, leaf, &cut, &root);
                prop_assert_eq!(result, Err(InclusionProofError::HashLength(31)));
            }
            let long = [proof.as_slice(), &[root.to_vec()]].concat();
            let result = verify_inclusion(at, n, leaf, &long, &root);
            prop_assert_eq!(result, Err(InclusionProofError::TooLong));

            // Another index never verifies (leaves are distinct); outside the tree is named so.
            for other in [i.wrapping_sub(1), i + 1, (i + size / 2) % size, seed as usize % size] {
                if other == i {
                    continue;
                }
                let result = verify_inclusion(other as u64, n, leaf, &proof, &root);
                prop_assert!(result.is_err(), "index {} proved as {}", i, other);
                if other >= size {
                    let outside = InclusionProofError::IndexOutsideTree { index: other as u64, size: n };
                    prop_assert_eq!(result, Err(outside));
                }
            }

            // Another size verifies exactly when it gives the leaf the same path shape: the
            // proof alone cannot bind the size (the signed checkpoint does, tlog/mod.rs).
            for other in [size - 1, size + 1, size * 2, other_size] {
                if other == size || other == 0 {
                    continue;
                }
                let result = verify_inclusion(at, other as u64, leaf, &proof, &root);
                let same_shape = i < other && shape(i, other) == shape(i, size);
                prop_assert_eq!(result.is_ok(), same_shape, "size {} as {}: {:?}", size, other, result);
            }
        }
    }
}

#[test]
fn a_different_tree_size_is_refused_unless_the_path_is_the_same() {
    // Leaf 0 of 3 and of 4 leaves hash the same way (right, right): the size alone is not
    // bound by a proof. Leaf 2 of 3 (left) and of 4 (right, left) are not.
    assert_eq!(shape(0, 3), shape(0, 4));
    assert_ne!(shape(2, 3), shape(2, 4));
    let data: Vec<Vec<u8>> = (0u8..3).map(|i| vec![i]).collect();
    let mut tree = Tree::new(&data);
    let root = tree.root();
    let (leaf0, leaf2) = (tree.leaves[0], tree.leaves[2]);
    let p0 = tree.path(0, 0, 3);
    let p2 = tree.path(2, 0, 3);
    assert_eq!(verify_inclusion(0, 4, leaf0, &p0, &root), Ok(()));
    assert!(verify_inclusion(2, 4, leaf2, &p2, &root).is_err());
}

// ---------------------------------------------------------------------------------------------
// The SET payload: RFC 8785 (JCS) of {body, integratedTime, logID, logIndex}.

/// JCS for an object of strings and integers in the I-JSON range: members sorted by the UTF-16
/// code units of their names, no whitespace, strings as JSON strings, integers in decimal.
fn jcs(members: &[(String, Value)]) -> String {
    let mut sorted: Vec<&(String, Value)> = members.iter().collect();
    sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    let body: Vec<String> = sorted
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => serde_json::to_string(s).unwrap(),
                Value::Number(n) => {
                    let n = n.as_i64().unwrap();
                    assert!(n.unsigned_abs() <= MAX_SAFE, "outside I-JSON: {n}");
                    n.to_string()
                }
                other => panic!("not in a SET payload: {other}"),
            };
            format!("{}:{value}", serde_json::to_string(k).unwrap())
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

/// 2^53: the integers JCS (ECMAScript numbers) writes exactly. Rekor's times and indices are far
/// below; above it JCS would write a rounded double, which this verifier does not imitate.
const MAX_SAFE: u64 = 1 << 53;

/// Applies a random permutation given by `swaps` (Fisher–Yates) to `items`.
fn shuffle<T>(items: &mut [T], swaps: &[prop::sample::Index]) {
    for i in (1..items.len()).rev() {
        let j = swaps[i % swaps.len()].index(i + 1);
        items.swap(i, j);
    }
}

fn set_fields() -> impl Strategy<Value = (Vec<u8>, i64, Vec<u8>, i64)> {
    (
        prop::collection::vec(any::<u8>(), 0..600),
        1..=MAX_SAFE as i64,
        prop::collection::vec(any::<u8>(), 32),
        0..=MAX_SAFE as i64,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_set_payload_is_canonical_json_whatever_the_member_order(
        (body, time, log_id, index) in set_fields(),
        swaps in prop::collection::vec(any::<prop::sample::Index>(), 4),
    ) {
        let (body64, log_hex) = (STANDARD.encode(&body), hallmark_model::hex::encode(&log_id));
        let payload = set_payload(&body64, time, &log_hex, index);
        prop_assert_eq!(&payload, &set_payload(&body64, time, &log_hex, index));
        // The members in any order canonicalise to the same bytes.
        let mut members = vec![
            ("body".to_owned(), json!(body64)),
            ("integratedTime".to_owned(), json!(time)),
            ("logID".to_owned(), json!(log_hex)),
            ("logIndex".to_owned(), json!(index)),
        ];
        shuffle(&mut members, &swaps);
        prop_assert_eq!(&payload, &jcs(&members));
        // And it is the JSON it claims to be.
        let parsed: Value = serde_json::from_str(&payload).unwrap();
        let expected: serde_json::Map<String, Value> = members.into_iter().collect();
        prop_assert_eq!(parsed, Value::Object(expected));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_set_verifies_only_over_its_own_fields(
        (body, time, log_id, index) in set_fields(),
        change in 0usize..4,
        bit in any::<prop::sample::Index>(),
    ) {
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "log.pub").unwrap();
        let (body64, log_hex) = (STANDARD.encode(&body), hallmark_model::hex::encode(&log_id));
        let set = key.sign(set_payload(&body64, time, &log_hex, index).as_bytes()).unwrap();
        prop_assert_eq!(verify_set(&set, trusted.key(), &body64, time, &log_hex, index), Ok(()));
        // One bit of one field changed: the signature no longer covers it.
        let (mut body, mut time, mut log_id, mut index) = (body, time, log_id, index);
        match change {
            0 if !body.is_empty() => {
                let i = bit.index(body.len() * 8);
                flip(&mut body, i);
            }
            0 => body.push(0),
            1 => time ^= 1 << bit.index(53),
            2 => {
                let i = bit.index(256);
                flip(&mut log_id, i);
            }
            _ => index ^= 1 << bit.index(53),
        }
        let (body64, log_hex) = (STANDARD.encode(&body), hallmark_model::hex::encode(&log_id));
        let result = verify_set(&set, trusted.key(), &body64, time, &log_hex, index);
        prop_assert_eq!(result, Err(SetError::Signature));
    }
}

// ---------------------------------------------------------------------------------------------
// Policy input determinism.

fn file_digest(name: &str, seed: u64) -> Digest {
    let d = digest(&SHA256, format!("{seed}/{name}").as_bytes());
    Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref())
}

/// What a decision reads: the trusted key, the artifact, its candidates and those of every other
/// digest.
struct Evidence {
    trusted: TrustedKey,
    artifact: Digest,
    initial: Vec<Candidate>,
    by_subject: BTreeMap<String, Vec<Candidate>>,
}

/// A random chain's evidence: `steps` step attestations from sources to `out/step{steps-1}`,
/// `rebuilds` more provenance for the final artifact, `others` attestations of other predicate
/// types on it, and one bundle signed by an untrusted key.
fn evidence(seed: u64, steps: usize, sources: usize, rebuilds: usize, others: usize) -> Evidence {
    let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    let signer = KeySigner::new(key);
    let stranger = KeySigner::new(SigningKey::generate(KeyKind::EcdsaP256).unwrap());
    let dep =
        |name: &str| json!({"name": name, "digest": {"sha256": file_digest(name, seed).hex()}});
    let provenance = |step: &str, product: &str, materials: Vec<Value>| {
        let mut deps = vec![
            json!({"uri": "git+https://git.example/acme/app.git@refs/heads/main", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}),
        ];
        deps.extend(materials);
        Statement::new(
            vec![ResourceDescriptor::named(
                product,
                file_digest(product, seed).to_set(),
            )],
            "https://slsa.dev/provenance/v1",
            json!({
                "buildDefinition": {
                    "buildType": "https://hallmark.dev/buildtypes/step/v1",
                    "externalParameters": {"step": step, "command": ["make", step]},
                    "internalParameters": {"exitCode": 0},
                    "resolvedDependencies": deps,
                },
                "runDetails": {"builder": {"id": "https://ci.example/builder"}},
            }),
        )
        .unwrap()
    };
    let mut by_subject: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut add = |product: &str, origin: String, statement: &Statement, signer: &KeySigner| {
        let bundle = signer.sign_statement(statement).unwrap().to_json();
        by_subject
            .entry(file_digest(product, seed).to_string())
            .or_default()
            .push(Candidate::new(origin, bundle));
    };
    for i in 0..steps {
        let materials = if i == 0 {
            (0..sources).map(|n| dep(&format!("src/f{n}.c"))).collect()
        } else {
            vec![dep(&format!("out/step{}", i - 1))]
        };
        let product = format!("out/step{i}");
        let statement = provenance(&format!("step{i}"), &product, materials);
        add(&product, format!("store step{i}"), &statement, &signer);
    }
    let last = format!("out/step{}", steps - 1);
    for r in 0..rebuilds {
        let statement = provenance(
            &format!("rebuild{r}"),
            &last,
            vec![dep(&format!("src/r{r}.c"))],
        );
        add(&last, format!("store rebuild{r}"), &statement, &signer);
    }
    for o in 0..others {
        let statement = Statement::new(
            vec![ResourceDescriptor::named(
                &last,
                file_digest(&last, seed).to_set(),
            )],
            format!("https://example.com/other/v{o}"),
            json!({"seed": seed, "n": o}),
        )
        .unwrap();
        add(&last, format!("registry other{o}"), &statement, &signer);
    }
    let stray = provenance("stray", &last, Vec::new());
    add(&last, "registry stray".to_owned(), &stray, &stranger);
    let artifact = file_digest(&last, seed);
    let initial = by_subject[&artifact.to_string()].clone();
    Evidence {
        trusted,
        artifact,
        initial,
        by_subject,
    }
}

/// The policy input's bytes for this evidence, each candidate list permuted by `swaps`.
fn input_bytes(e: &Evidence, swaps: Option<&[prop::sample::Index]>) -> Vec<u8> {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let requirements = Requirements {
        keys: vec![e.trusted.clone()],
        ..Requirements::at(at)
    };
    let permuted = |mut c: Vec<Candidate>| {
        if let Some(s) = swaps {
            shuffle(&mut c, s);
        }
        c
    };
    let initial = permuted(e.initial.clone());
    let lookup = |d: &Digest| {
        Ok::<_, ()>(permuted(
            e.by_subject
                .get(&d.to_string())
                .cloned()
                .unwrap_or_default(),
        ))
    };
    let verdict = decide(&e.artifact, &initial, &requirements);
    let chain = walk(&e.artifact, &initial, lookup, &requirements).unwrap();
    let facts = json!({"environment": "prod"});
    let input = policy_input(&verdict, Some("app"), &chain, at, &facts);
    // The same verdict and chain give the same document.
    let again = policy_input(&verdict, Some("app"), &chain, at, &facts);
    assert_eq!(
        serde_json::to_vec(&input).unwrap(),
        serde_json::to_vec(&again).unwrap()
    );
    serde_json::to_vec(&input).unwrap()
}

/// The input with the arrays whose order is discovery order (docs/policy-input.md: attestations
/// as found, chain steps as walked) sorted, so only content is compared.
fn unordered(bytes: &[u8]) -> Value {
    fn sort_by_text(v: &mut Value) {
        if let Value::Array(items) = v {
            items.sort_by_key(|i| i.to_string());
        }
    }
    let mut input: Value = serde_json::from_slice(bytes).unwrap();
    sort_by_text(&mut input["attestations"]);
    sort_by_text(&mut input["chain"]["roots"]);
    if let Some(steps) = input["chain"]["steps"].as_array_mut() {
        for step in steps.iter_mut() {
            if let Some(materials) = step["materials"].as_array_mut() {
                materials
                    .iter_mut()
                    .for_each(|m| sort_by_text(&mut m["producedBy"]));
            }
        }
    }
    sort_by_text(&mut input["chain"]["steps"]);
    input
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_same_evidence_gives_the_same_policy_input(
        seed in any::<u64>(),
        steps in 1usize..=4,
        sources in 0usize..=3,
        rebuilds in 0usize..=2,
        others in 0usize..=2,
        swaps in prop::collection::vec(any::<prop::sample::Index>(), 8),
    ) {
        let e = evidence(seed, steps, sources, rebuilds, others);
        let first = input_bytes(&e, None);
        // Decided and walked again from the same candidates: byte for byte the same.
        prop_assert_eq!(&first, &input_bytes(&e, None));
        let parsed: Value = serde_json::from_slice(&first).unwrap();
        let chain_steps = parsed["chain"]["steps"].as_array().map_or(0, Vec::len);
        prop_assert_eq!(chain_steps, steps + rebuilds);
        let verified = parsed["attestations"].as_array().map_or(0, Vec::len);
        prop_assert_eq!(verified, 1 + rebuilds + others);
        // Candidates found in another order: arrays follow discovery order by design (which
        // store answered first), their content does not depend on it.
        let shuffled = input_bytes(&e, Some(&swaps));
        prop_assert_eq!(unordered(&first), unordered(&shuffled));
    }
}
