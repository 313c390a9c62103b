//! The SigningConfigs that Sigstore publishes and sigstore-python tests with: the public-good
//! TUF repository's and sigstore-python's assets (`HALLMARK_VECTORS`, see in_toto_vectors.rs).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hallmark_model::Error;
use hallmark_model::signing_config::SigningConfig;

fn vectors() -> PathBuf {
    let dir = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    assert!(
        dir.join("tuf-sigstore/MANIFEST.md").is_file(),
        "test vectors not found at {}: set HALLMARK_VECTORS to the shared/vectors folder",
        dir.display()
    );
    dir
}

fn read(relative: &str) -> Result<SigningConfig, Error> {
    let path = vectors().join(relative);
    SigningConfig::from_slice(&std::fs::read(&path).expect("vector file"))
}

/// 2026-06-01T00:00:00Z: after the Rekor v2 log's start (2026-01-01) and the TSA's (2025-07-04).
fn june_2026() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_780_272_000)
}

const PUBLIC_GOOD_V2: &str = "tuf-sigstore/targets/9711a6d5375706957a4859af31c5866a4474f81f0544f9f4b76c9c4f4c8a539c.signing_config.v0.2.json";
const PUBLIC_GOOD_REKOR_V2: &str = "tuf-sigstore/targets/0f5f38554e29e770d4d5d6f0e1b51fcbf84f61dc6934530a09b7a901eaad5bee.signing_config_rekor_v2.v0.2.json";

#[test]
fn every_published_v0_2_config_parses() {
    for file in [
        PUBLIC_GOOD_V2,
        PUBLIC_GOOD_REKOR_V2,
        "sigstore-python/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/signing_config.v0.2.json",
        "sigstore-python/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstage.dev/signing_config.v0.2.json",
        "sigstore-python/test/assets/signing_config/signingconfig.v2.json",
        "sigstore-python/test/assets/signing_config/signingconfig-only-v1-rekor.v2.json",
        // A ClientTrustConfig written with the proto field name `signing_config`.
        "sigstore-python/test/assets/trust_config/config.v1.json",
    ] {
        read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn the_public_good_config_selects_its_services() {
    let config = read(PUBLIC_GOOD_V2).unwrap();
    let at = june_2026();
    assert_eq!(
        config.certificate_authority(at, &[1]).unwrap().url,
        "https://fulcio.sigstore.dev"
    );
    let logs = config.transparency_logs(at, &[1]).unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].url, "https://rekor.sigstore.dev");
    let tsas = config.timestamp_authorities(at, &[1]).unwrap();
    assert_eq!(
        tsas[0].url,
        "https://timestamp.sigstore.dev/api/v1/timestamp"
    );
    // Before the TSA's validity began there is none to use.
    let early = UNIX_EPOCH + Duration::from_secs(1_735_689_600); // 2025-01-01
    assert!(config.timestamp_authorities(early, &[1]).is_err());
}

#[test]
fn a_rekor_v1_client_keeps_to_rekor_v1() {
    let config = read(PUBLIC_GOOD_REKOR_V2).unwrap();
    let at = june_2026();
    let v1 = config.transparency_logs(at, &[1]).unwrap();
    assert_eq!(v1[0].url, "https://rekor.sigstore.dev");
    let v2 = config.transparency_logs(at, &[1, 2]).unwrap();
    assert_eq!(v2[0].url, "https://log2025-1.rekor.sigstore.dev");
    // Before the v2 log's start even a v2 client writes to v1.
    let before = UNIX_EPOCH + Duration::from_secs(1_750_000_000); // 2025-06
    let early = config.transparency_logs(before, &[1, 2]).unwrap();
    assert_eq!(early[0].url, "https://rekor.sigstore.dev");
}

#[test]
fn unread_versions_and_unusable_configs_are_refused() {
    // v0.1 (still in the public-good TUF repository) is not read.
    let v0_1 = "tuf-sigstore/targets/d358c75d032833f4193500f5b01b5760409410558fac962c599439adbb268b0f.signing_config.json";
    assert!(matches!(read(v0_1), Err(Error::MediaType { .. })), "v0.1");
    // A ClientTrustConfig with a bad mediaType is not recognised as one.
    assert!(read("sigstore-python/test/assets/trust_config/config.badtype.json").is_err());
    // A TSA named "placeholder" is no URL.
    assert!(matches!(
        read("sigstore-python/test/assets/tsa/trust_config.json"),
        Err(Error::Field { .. })
    ));
}
