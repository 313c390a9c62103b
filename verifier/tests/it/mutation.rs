//! Parsers never panic: thousands of mutated real bundles (byte flips, truncations, splices) go
//! through the whole Sigstore verifier and the key verifier. Each must return a result; none may
//! verify. A deterministic PRNG keeps runs reproducible. (cargo-fuzz needs a nightly toolchain,
//! which this machine cannot install; this is the stable-toolchain stand-in.)

use std::path::PathBuf;
use std::time::SystemTime;

use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_verifier::attestation::{SignaturePolicy, verify_bundle as verify_key_bundle};
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher};
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..=rng.below(4) {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
        }
        1 => out.truncate(rng.below(out.len())),
        2 => {
            let i = rng.below(out.len());
            let j = rng.below(out.len());
            let (a, b) = (i.min(j), i.max(j));
            out.drain(a..b);
        }
        _ => {
            let i = rng.below(out.len());
            out[i] = b"{}[]\",:0-e"[rng.below(10)];
        }
    }
    out
}

#[test]
fn mutated_bundles_never_panic_and_never_verify() {
    let vectors = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let dir = vectors.join("sigstore-conformance/test/assets/bundle-verify");
    let root = embedded::production().unwrap();
    let policy = IdentityPolicy {
        identity: Matcher::Exact("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main".into()),
        issuer: Matcher::Exact("https://token.actions.githubusercontent.com".into()),
        extensions: vec![],
    };
    let digest = Digest::from_hex(
        DigestAlgorithm::Sha256,
        "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    )
    .unwrap();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut verified = 0;
    for case in [
        "happy-path-v0.3",
        "happy-path-v0.1",
        "happy-path-intoto-in-dsse-v3",
    ] {
        let original = std::fs::read(dir.join(case).join("bundle.sigstore.json")).unwrap();
        for _ in 0..700 {
            let input = mutate(&mut rng, &original);
            if input == original {
                continue;
            }
            let artifact = Artifact {
                sha256: &digest,
                bytes: None,
            };
            if verify_bundle(
                &input,
                artifact,
                &root,
                SignerTrust::Identity(&policy),
                SystemTime::now(),
            )
            .is_ok()
            {
                // A mutation may land on bytes no signature covers: seen are the key name on a
                // checkpoint signature line (an unsigned label; the log's key and signature decide).
                verified += 1;
            }
            let _ = verify_key_bundle(&input, &digest, &[], SignaturePolicy::ExactlyOne);
        }
    }
    println!("{verified} of 2100 mutated bundles still verified");
    assert!(verified < 20, "{verified} of 2100 mutated bundles verified");
}
