//! Trust roots whose certificate chains list the root first verify exactly as those that list it
//! last: certificates are matched by content and by who issued whom, never by position. Real
//! roots and bundles from `$HALLMARK_VECTORS` (sigstore-conformance, sigstore-go).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::sigstore::Error;
use hallmark_verifier::sigstore::embedded;
use hallmark_verifier::sigstore::identity::IdentityPolicy;
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};
use serde_json::{Value, json};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn vectors() -> PathBuf {
    let dir = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    assert!(
        dir.join("sigstore-conformance").is_dir(),
        "vectors not found at {}: set HALLMARK_VECTORS",
        dir.display()
    );
    dir
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// The trusted root with every certificate authority's and timestamp authority's `certChain`
/// reversed: the root first, the leaf-most certificate last.
fn reversed(root: &Value) -> Value {
    let mut root = root.clone();
    let mut turned = 0;
    for list in ["certificateAuthorities", "timestampAuthorities"] {
        for ca in root[list].as_array_mut().into_iter().flatten() {
            let certs = ca["certChain"]["certificates"].as_array_mut().unwrap();
            turned += usize::from(certs.len() > 1);
            certs.reverse();
        }
    }
    assert!(turned > 0, "a root whose chains all have one certificate");
    root
}

fn sha256(bytes: &[u8]) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    Digest::from_bytes(DigestAlgorithm::Sha256, d.as_ref())
}

/// One sigstore-conformance case verified against `root` (its README's conventions: `artifact`
/// or `../a.txt`, `identity`/`issuer` or the defaults, `key.pub` for managed keys).
fn verify_case(case: &Path, root: &TrustRoot) -> Result<(), Error> {
    let artifact = std::fs::read(if case.join("artifact").is_file() {
        case.join("artifact")
    } else {
        case.join("../a.txt")
    })
    .unwrap();
    let digest = sha256(&artifact);
    let text = |name: &str, default: &str| {
        std::fs::read_to_string(case.join(name)).map_or(default.to_owned(), |s| s.trim().into())
    };
    let policy = IdentityPolicy::exact(&text("identity", IDENTITY), &text("issuer", ISSUER));
    let key = std::fs::read(case.join("key.pub"))
        .ok()
        .and_then(|pem| TrustedKey::from_pem(&pem, "key.pub").ok());
    let signer = match &key {
        Some(key) => SignerTrust::Key(key.key()),
        None => SignerTrust::Identity(&policy),
    };
    let bundle = std::fs::read(case.join("bundle.sigstore.json")).unwrap();
    let artifact = Artifact {
        sha256: &digest,
        bytes: Some(&artifact),
    };
    verify_bundle(&bundle, artifact, root, signer, SystemTime::now()).map(|_| ())
}

#[test]
fn every_conformance_case_ends_the_same_with_its_chains_reversed() {
    let dir = vectors().join("sigstore-conformance/test/assets/bundle-verify");
    let production = read_json(&vectors().join("trust-roots/production/trusted_root.json"));
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    cases.sort();
    let (mut verified, mut rejected) = (0, 0);
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy();
        let own = case.join("trusted_root.json");
        let root = if own.is_file() {
            read_json(&own)
        } else {
            production.clone()
        };
        // A root that cannot be read (a must-fail case) is refused whatever its order.
        let Ok(as_listed) = TrustRoot::from_json(root.to_string().as_bytes()) else {
            assert!(TrustRoot::from_json(reversed(&root).to_string().as_bytes()).is_err());
            continue;
        };
        let turned = TrustRoot::from_json(reversed(&root).to_string().as_bytes()).unwrap();
        let expected = verify_case(case, &as_listed).map_err(|e| e.code());
        let got = verify_case(case, &turned).map_err(|e| e.code());
        assert_eq!(got, expected, "{name}: reversed chains changed the outcome");
        assert_eq!(got.is_ok(), !name.ends_with("_fail"), "{name}: {got:?}");
        match got {
            Ok(()) => verified += 1,
            Err(_) => rejected += 1,
        }
    }
    // Every happy path, TSA and Rekor v2 cases included, verifies; every tampered twin is
    // rejected by the same check as before.
    assert_eq!(verified, 21);
    assert!(rejected >= 45, "{rejected}");
}

/// sigstore-go's `dsse.sigstore.json`: a v0.1 bundle whose chain carries the leaf, the
/// intermediate and the public-good root, checked against `root`.
fn go_dsse(bundle: &Value, root: &Value) -> Result<(), Error> {
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    let hex = statement["subject"][0]["digest"]["sha512"]
        .as_str()
        .unwrap();
    let digest = Digest::from_hex(DigestAlgorithm::Sha512, hex).unwrap();
    let policy = IdentityPolicy::exact("brian@dehamer.com", "https://github.com/login/oauth");
    verify_bundle(
        &serde_json::to_vec(bundle).unwrap(),
        Artifact {
            sha256: &digest,
            bytes: None,
        },
        &TrustRoot::from_json(root.to_string().as_bytes()).unwrap(),
        SignerTrust::Identity(&policy),
        SystemTime::now(),
    )
    .map(|_| ())
}

#[test]
fn a_bundle_chain_ending_with_the_trust_roots_own_root_verifies_in_either_order() {
    let go = vectors().join("sigstore-go/pkg/testing/data");
    let bundle = read_json(&go.join("bundles/dsse.sigstore.json"));
    let chain = &bundle["verificationMaterial"]["x509CertificateChain"]["certificates"];
    assert_eq!(
        chain.as_array().unwrap().len(),
        3,
        "leaf, intermediate, root"
    );
    let root = read_json(&go.join("trusted-roots/public-good.json"));
    go_dsse(&bundle, &root).unwrap();
    go_dsse(&bundle, &reversed(&root)).unwrap();

    // Its tampered twin brings another self-signed root (staging's): refused in either order.
    let staging = embedded::staging().unwrap();
    let foreign = staging.certificate_authorities[0]
        .chain
        .iter()
        .find(|c| hallmark_verifier::sigstore::certificate::is_self_issued(c))
        .unwrap();
    let mut twin = bundle.clone();
    twin["verificationMaterial"]["x509CertificateChain"]["certificates"][2] =
        json!({"rawBytes": STANDARD.encode(foreign)});
    for root in [root.clone(), reversed(&root)] {
        let err = go_dsse(&twin, &root).unwrap_err();
        assert_eq!(err.code(), "sigstore.certificate.bundled-root", "{err}");
    }
}

/// A root, an intermediate it issued and a code-signing leaf the intermediate issued, made here:
/// the root valid until `root_ends` (year), the others from 2020 to 2040.
struct Pki {
    root: Vec<u8>,
    intermediate: Vec<u8>,
    leaf: Vec<u8>,
}

fn pki(root_ends: i32) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, date_time_ymd,
    };
    let ca = |name: &str, ends: i32| {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(ends, 1, 1);
        p
    };
    let (root_key, mid_key, leaf_key) = (
        KeyPair::generate().unwrap(),
        KeyPair::generate().unwrap(),
        KeyPair::generate().unwrap(),
    );
    let root_params = ca("test root", root_ends);
    let root = root_params.self_signed(&root_key).unwrap();
    let mid_params = ca("test intermediate", 2040);
    let mid = mid_params
        .signed_by(&mid_key, &Issuer::from_params(&root_params, &root_key))
        .unwrap();
    let mut leaf = CertificateParams::default();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    leaf.not_before = date_time_ymd(2020, 1, 1);
    leaf.not_after = date_time_ymd(2040, 1, 1);
    let leaf = leaf
        .signed_by(&leaf_key, &Issuer::from_params(&mid_params, &mid_key))
        .unwrap();
    Pki {
        root: root.der().to_vec(),
        intermediate: mid.der().to_vec(),
        leaf: leaf.der().to_vec(),
    }
}

#[test]
fn every_certificate_above_the_anchor_must_be_valid_whatever_the_order() {
    use hallmark_verifier::sigstore::certificate::{LeafCertificate, verify_chain};
    use hallmark_verifier::sigstore::error::ChainError;
    use hallmark_verifier::sigstore::trust_root::CertificateAuthority;

    let signed_at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000); // 2027
    let authority = |chain: Vec<Vec<u8>>| CertificateAuthority {
        uri: "https://ca.test".into(),
        chain,
        validity: None,
    };
    let check = |pki: &Pki, root_first: bool| {
        let mut chain = vec![pki.intermediate.clone(), pki.root.clone()];
        if root_first {
            chain.reverse();
        }
        let leaf = LeafCertificate::parse(&pki.leaf).unwrap();
        verify_chain(&leaf, &[authority(chain)], signed_at).map(|(_, issuer)| issuer)
    };
    let valid = pki(2040);
    for root_first in [false, true] {
        check(&valid, root_first).unwrap();
    }
    // The root had expired when the leaf signed: the intermediate may not anchor the leaf,
    // whether the root is listed after it or before it.
    let expired = pki(2025);
    for root_first in [false, true] {
        let err = check(&expired, root_first).unwrap_err();
        assert!(
            matches!(err, ChainError::AuthorityCertificateNotValid(_)),
            "root first: {root_first}: {err:?}"
        );
    }
}
