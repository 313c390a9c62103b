//! Parsers never panic, and nothing signed can change: thousands of mutated real bundles (byte
//! flips, truncations, splices) go through the whole Sigstore verifier and the key verifier. Each
//! must return a result, and a mutated bundle may verify only when it reads as the original once
//! its unsigned parts are set aside ([`signed_part`]), less whole pieces of evidence the rest
//! does not need ([`without_dropped_evidence`]): never with a signed byte changed. A deterministic PRNG and a fixed Ed25519 key
//! keep runs reproducible. (cargo-fuzz needs a nightly toolchain, which this machine cannot
//! install; this is the stable-toolchain stand-in.)

use std::path::PathBuf;
use std::time::SystemTime;

use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::attestation::{SignaturePolicy, verify_bundle as verify_key_bundle};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher};
use hallmark_verifier::sigstore::timestamp::verify_timestamp;
use hallmark_verifier::sigstore::trust_root::CertificateAuthority;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};

/// Mutations per bundle.
const ROUNDS: usize = 700;

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

/// What a signature, the log or the certificate covers: the bundle as the verifier reads it,
/// without the parts nothing signs. Reading it already sets aside the JSON layout (whitespace,
/// escapes) and unknown fields, which the reader ignores. Besides those:
///
/// - `mediaType`: no signature covers the bundle's version. It only selects what evidence is
///   required (v0.1 may rest on a SET alone), and the evidence present must still verify;
/// - `verificationMaterial.publicKey`: a hint naming the key; the verifier uses the key it is
///   given, never the hint;
/// - `messageSignature.messageDigest`: a hint; when present it must equal the artifact's
///   digest, which the signature covers;
/// - the DSSE signatures' `keyid`: unauthenticated by the DSSE specification;
/// - the key name on a checkpoint's signature line: a label; the key hint and the signature
///   decide which key signed (the name enters the hint only for Ed25519 logs);
/// - an RFC 3161 token over other bytes than the signature: the verifier sets it aside (as
///   sigstore-python and sigstore-go do), so it vouches for nothing.
fn signed_part(bytes: &[u8], tsa: &[CertificateAuthority]) -> Option<Bundle> {
    let mut bundle = Bundle::from_slice(bytes).ok()?;
    let signature = match (&bundle.message_signature, &bundle.dsse_envelope) {
        (Some(message), _) => message.signature.clone(),
        (None, Some(envelope)) => envelope.signatures.first()?.sig.clone(),
        (None, None) => Vec::new(),
    };
    let stamps = &mut bundle.verification_material.timestamp_verification_data;
    stamps.rfc3161_timestamps.retain(|t| {
        let verified = verify_timestamp(&t.signed_timestamp, &signature, tsa);
        !verified.is_err_and(|e| e.is_imprint_mismatch())
    });
    bundle.media_type.clear();
    bundle.verification_material.public_key = None;
    if let Some(message) = &mut bundle.message_signature {
        message.message_digest = None;
    }
    if let Some(envelope) = &mut bundle.dsse_envelope {
        envelope.signatures.iter_mut().for_each(|s| s.keyid.clear());
    }
    let entries = bundle.verification_material.tlog_entries.iter_mut();
    let proofs = entries.filter_map(|e| e.inclusion_proof.as_mut());
    for checkpoint in proofs.filter_map(|p| p.checkpoint.as_mut()) {
        checkpoint.envelope = without_key_names(&checkpoint.envelope);
    }
    Some(bundle)
}

/// `original` without the evidence `mutated` no longer carries: dropping a whole SET, inclusion
/// proof, log entry or RFC 3161 timestamp changes nothing that was signed (a missing key drops
/// the field), and what is left must still be enough on its own.
fn without_dropped_evidence(mut original: Bundle, mutated: &Bundle) -> Bundle {
    let (o, m) = (
        &mut original.verification_material,
        &mutated.verification_material,
    );
    if o.tlog_entries.len() == m.tlog_entries.len() {
        for (entry, kept) in o.tlog_entries.iter_mut().zip(&m.tlog_entries) {
            if kept.inclusion_promise.is_none() {
                entry.inclusion_promise = None;
            }
            if kept.inclusion_proof.is_none() {
                entry.inclusion_proof = None;
            }
        }
    } else {
        o.tlog_entries.retain(|e| m.tlog_entries.contains(e));
    }
    let kept = &m.timestamp_verification_data.rfc3161_timestamps;
    let stamps = &mut o.timestamp_verification_data.rfc3161_timestamps;
    stamps.retain(|t| kept.contains(t));
    original
}

/// A signed note with the key names of its signature lines left out.
fn without_key_names(note: &str) -> String {
    let Some((body, signatures)) = note.split_once("\n\n") else {
        return note.to_owned();
    };
    let lines = signatures.lines().map(|line| {
        match line
            .strip_prefix("\u{2014} ")
            .and_then(|l| l.rsplit_once(' '))
        {
            Some((_name, signature)) => format!("\u{2014} {signature}"),
            None => line.to_owned(),
        }
    });
    format!("{body}\n\n{}", lines.collect::<Vec<_>>().join("\n"))
}

/// Mutates `original` ROUNDS times; every mutation that `verifies` must read as the original
/// once the unsigned parts are set aside. Returns how many verified (all of them harmless).
fn no_signed_byte_changes(
    name: &str,
    rng: &mut XorShift,
    original: &[u8],
    tsa: &[CertificateAuthority],
    verifies: impl Fn(&[u8]) -> bool,
) -> usize {
    assert!(verifies(original), "{name}: the original must verify");
    let signed = signed_part(original, tsa).unwrap();
    let mut harmless = 0;
    for round in 0..ROUNDS {
        let input = mutate(rng, original);
        if input == original || !verifies(&input) {
            continue;
        }
        let mutated = signed_part(&input, tsa);
        let expected = mutated
            .as_ref()
            .map(|m| without_dropped_evidence(signed.clone(), m));
        assert!(
            mutated.is_some() && mutated == expected,
            "{name}, mutation {round}: a change to signed content verified: {}",
            where_they_differ(original, &input)
        );
        harmless += 1;
    }
    harmless
}

/// The first difference between two byte strings, with some context, for failure messages.
fn where_they_differ(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let show = |s: &[u8]| {
        String::from_utf8_lossy(&s[at.saturating_sub(40)..(at + 40).min(s.len())]).into_owned()
    };
    format!("at byte {at}: {:?} became {:?}", show(a), show(b))
}

fn vectors() -> PathBuf {
    std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"))
}

#[test]
fn mutated_bundles_never_panic_and_verify_only_when_nothing_signed_changed() {
    let dir = vectors().join("sigstore-conformance/test/assets/bundle-verify");
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
    let artifact = Artifact {
        sha256: &digest,
        bytes: None,
    };
    let managed_pem = std::fs::read(dir.join("managed-key-happy-path/key.pub")).unwrap();
    let managed = TrustedKey::from_pem(&managed_pem, "key.pub").unwrap();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut harmless = 0;
    for (case, signer) in [
        ("happy-path-v0.3", SignerTrust::Identity(&policy)),
        ("happy-path-v0.1", SignerTrust::Identity(&policy)),
        (
            "happy-path-intoto-in-dsse-v3",
            SignerTrust::Identity(&policy),
        ),
        ("managed-key-happy-path", SignerTrust::Key(managed.key())),
    ] {
        let original = std::fs::read(dir.join(case).join("bundle.sigstore.json")).unwrap();
        let verifies =
            |b: &[u8]| verify_bundle(b, artifact, &root, signer, SystemTime::now()).is_ok();
        let tsa = &root.timestamp_authorities;
        harmless += no_signed_byte_changes(case, &mut rng, &original, tsa, verifies);
    }

    // The key verifier, on a Hallmark bundle signed with a fixed Ed25519 key (deterministic
    // signatures: the same bundle every run).
    let seed_pkcs8 = [
        &[
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
        ][..],
        &[0x04, 0x22, 0x04, 0x20],
        &[7; 32],
    ]
    .concat();
    let key = SigningKey::from_pkcs8(&seed_pkcs8).unwrap();
    let trusted = TrustedKey::from_pem(key.public_key_pem().as_bytes(), "k.pub").unwrap();
    let subject = Digest::from_bytes(DigestAlgorithm::Sha256, &[9; 32]);
    let statement = Statement::new(
        vec![ResourceDescriptor::named("dist/app.tar", subject.to_set())],
        "https://slsa.dev/provenance/v1",
        serde_json::json!({"buildDefinition": {"buildType": "https://hallmark.dev/buildtypes/step/v1", "externalParameters": {"step": "package"}}, "runDetails": {"builder": {"id": "https://hallmark.dev/builders/local/self-asserted"}}}),
    )
    .unwrap();
    let original = KeySigner::new(key)
        .sign_statement(&statement)
        .unwrap()
        .to_json();
    let keys = std::slice::from_ref(&trusted);
    let verifies =
        |b: &[u8]| verify_key_bundle(b, &subject, keys, SignaturePolicy::ExactlyOne).is_ok();
    harmless += no_signed_byte_changes("key-signed", &mut rng, &original, &[], verifies);
    println!(
        "{harmless} of {} mutated bundles verified, each changing only unsigned parts",
        5 * ROUNDS
    );
}
