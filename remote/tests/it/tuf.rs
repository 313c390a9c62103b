//! The TUF client against two mirrors on loopback: a copy of the real Sigstore public-good
//! repository (its roles have expired, so the clock is fixed), and repositories the tests make
//! with tough's editor (rotated keys, expiry, rollback, tampering).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hallmark_model::time::Timestamp;
use hallmark_remote::tuf::{self, Error, Mirror, Refresh, Refreshed, cache};
use hallmark_testsvc::tuf::{Keys, Repository, serve_dir};
use hallmark_verifier::sigstore::embedded;
use url::Url;

fn vectors() -> PathBuf {
    let dir = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .expect("set HALLMARK_VECTORS to the shared/vectors folder");
    dir.join("tuf-sigstore")
}

fn at(text: &str) -> SystemTime {
    text.parse::<Timestamp>().expect("time").time()
}

/// Before the copy's timestamp (v762) expires on 2026-08-28.
const FRESH: &str = "2026-08-22T00:00:00Z";

fn embedded_production() -> Vec<u8> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../verifier/roots/public-good-production.json");
    std::fs::read(path).expect("embedded root file")
}

/// The real repository's layout: metadata and targets in their own folders.
fn sigstore_mirror(dir: &Path) -> Mirror {
    let base = serve_dir(dir).expect("serve");
    Mirror {
        metadata: Url::parse(&format!("{base}metadata/")).expect("url"),
        targets: Url::parse(&format!("{base}targets/")).expect("url"),
    }
}

fn refresh(
    mirror: &Mirror,
    root: &[u8],
    cache: &Path,
    time: SystemTime,
) -> Result<Refreshed, Error> {
    tuf::refresh(&Refresh {
        mirror,
        initial_root: root,
        explicit_root: false,
        cache,
        at: time,
        agent: hallmark_remote::http::agent(None, None).expect("agent"),
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn from_the_embedded_root_the_public_good_copy_yields_the_embedded_trusted_root() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mirror = sigstore_mirror(&vectors());
    let got = refresh(&mirror, embedded::TUF_ROOT, cache.path(), at(FRESH)).expect("refresh");
    assert_eq!(
        (
            got.versions.root,
            got.versions.timestamp,
            got.versions.snapshot,
            got.versions.targets
        ),
        (15, 762, 165, 14)
    );
    assert_eq!(got.trusted_root, embedded_production());
    assert_eq!(got.expires_role, "timestamp");
    assert!(
        got.signing_config.is_some(),
        "signing_config.v0.2.json is a target"
    );
    let current = cache::current(cache.path())
        .expect("cache")
        .expect("recorded");
    assert_eq!(current.trusted_root, embedded_production());
    assert_eq!(current.versions, got.versions);
    assert_eq!(current.mirror, mirror.metadata.as_str());
}

#[test]
fn from_root_v12_the_walk_crosses_the_v13_root_key_rotation_to_v15() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mirror = sigstore_mirror(&vectors());
    let v12 = std::fs::read(vectors().join("metadata/12.root.json")).expect("v12");
    let got = refresh(&mirror, &v12, cache.path(), at(FRESH)).expect("refresh");
    assert_eq!(got.versions.root, 15);
    assert_eq!(got.trusted_root, embedded_production());
    // The walk is remembered: the next refresh starts from v15 even when told v12.
    let dir = cache::repository_dir(cache.path(), &mirror);
    assert_eq!(
        tuf::root_version(&std::fs::read(dir.join("root.json")).expect("root")),
        Some(15)
    );
}

/// tough checks that each key id is the hash of its key; root v11 lists the online key under an
/// id computed another way (the legacy encoding), so a walk cannot start at v11 or before. The
/// embedded root (v15) is past it. Refused with the reason, never skipped.
#[test]
fn a_walk_from_root_v11_is_refused_for_its_legacy_key_id() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mirror = sigstore_mirror(&vectors());
    let v11 = std::fs::read(vectors().join("metadata/11.root.json")).expect("v11");
    let err = refresh(&mirror, &v11, cache.path(), at(FRESH)).unwrap_err();
    assert_eq!(err.code(), "tuf.metadata");
    assert!(err.to_string().contains("Invalid key ID"), "{err}");
}

#[test]
fn expired_timestamp_and_expired_final_root_are_refused_and_nothing_is_recorded() {
    let mirror = sigstore_mirror(&vectors());
    for (time, role) in [
        ("2026-09-01T00:00:00Z", "timestamp"),
        ("2026-12-05T00:00:00Z", "root"),
    ] {
        let cache = tempfile::tempdir().expect("tempdir");
        let err = refresh(&mirror, embedded::TUF_ROOT, cache.path(), at(time)).unwrap_err();
        match &err {
            Error::Expired { role: r, .. } => assert_eq!(r, role, "{err}"),
            other => panic!("{time}: expected expiry of {role}, got {other}"),
        }
        assert_eq!(err.code(), "tuf.expired");
        assert!(cache::current(cache.path()).expect("cache").is_none());
    }
}

#[test]
fn an_older_timestamp_after_a_newer_one_is_a_rollback() {
    let cache = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&vectors(), work.path());
    let mirror = sigstore_mirror(work.path());
    refresh(&mirror, embedded::TUF_ROOT, cache.path(), at(FRESH)).expect("first refresh");
    std::fs::copy(
        vectors().join("previous/timestamp.json"),
        work.path().join("metadata/timestamp.json"),
    )
    .expect("swap");
    let err = refresh(&mirror, embedded::TUF_ROOT, cache.path(), at(FRESH)).unwrap_err();
    assert!(matches!(err, Error::Rollback(_)), "{err}");
    assert!(
        err.to_string().contains("761") && err.to_string().contains("762"),
        "{err}"
    );
    // What the first refresh verified is still the current trust root.
    let current = cache::current(cache.path()).expect("cache").expect("kept");
    assert_eq!(current.versions.timestamp, 762);
}

#[test]
fn the_previous_timestamp_then_the_newer_one_is_an_update() {
    let cache = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    copy_dir(&vectors(), work.path());
    let newest = std::fs::read(work.path().join("metadata/timestamp.json")).expect("read");
    std::fs::copy(
        vectors().join("previous/timestamp.json"),
        work.path().join("metadata/timestamp.json"),
    )
    .expect("swap");
    let mirror = sigstore_mirror(work.path());
    let got = refresh(&mirror, embedded::TUF_ROOT, cache.path(), at(FRESH)).expect("v761");
    assert_eq!(got.versions.timestamp, 761);
    std::fs::write(work.path().join("metadata/timestamp.json"), newest).expect("write");
    let got = refresh(&mirror, embedded::TUF_ROOT, cache.path(), at(FRESH)).expect("v762");
    assert_eq!(got.versions.timestamp, 762);
}

/// A repository of our own, publishing the production trusted root.
fn own_repository(dir: &Path) -> (Repository, Mirror) {
    let mut repo = Repository::create(dir).expect("create");
    repo.publish(&[("trusted_root.json", &embedded_production())])
        .expect("publish");
    let mirror = Mirror::parse(&serve_dir(dir).expect("serve")).expect("mirror");
    (repo, mirror)
}

fn now() -> SystemTime {
    SystemTime::now()
}

#[test]
fn a_rotated_root_is_followed_and_the_rotated_out_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let (mut repo, mirror) = own_repository(dir.path());
    let v1 = repo.root_json().expect("root");
    refresh(&mirror, &v1, cache.path(), now()).expect("v1");

    let old = repo.keys.clone();
    repo.rotate(Keys::generate().expect("keys"))
        .expect("rotate");
    repo.publish(&[("trusted_root.json", &embedded_production())])
        .expect("publish");
    let got = refresh(&mirror, &v1, cache.path(), now()).expect("v2");
    assert_eq!(got.versions.root, 2);

    // The timestamp, snapshot and targets signed again with the keys root v2 replaced.
    repo.publish_with(
        &[("trusted_root.json", &embedded_production())],
        30,
        &old,
        1,
    )
    .expect("publish with old keys");
    let err = refresh(&mirror, &v1, cache.path(), now()).unwrap_err();
    assert!(
        matches!(&err, Error::Signature { role, .. } if role == "timestamp"),
        "{err}"
    );
    assert_eq!(err.code(), "tuf.signature");
}

#[test]
fn a_new_root_not_signed_by_the_old_root_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let (mut repo, mirror) = own_repository(dir.path());
    let v1 = repo.root_json().expect("root");
    repo.rotate_signed_only_by_new(Keys::generate().expect("keys"))
        .expect("rotate");
    repo.publish(&[("trusted_root.json", &embedded_production())])
        .expect("publish");
    let err = refresh(&mirror, &v1, cache.path(), now()).unwrap_err();
    assert!(
        matches!(&err, Error::Signature { role, .. } if role == "root"),
        "{err}"
    );
    assert!(cache::current(cache.path()).expect("cache").is_none());
}

#[test]
fn an_expired_timestamp_role_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let (mut repo, mirror) = own_repository(dir.path());
    let keys = repo.keys.clone();
    repo.publish_with(
        &[("trusted_root.json", &embedded_production())],
        -1,
        &keys,
        1,
    )
    .expect("publish");
    let err = refresh(
        &mirror,
        &repo.root_json().expect("root"),
        cache.path(),
        now(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Expired { role, .. } if role == "timestamp"),
        "{err}"
    );
}

#[test]
fn a_rolled_back_timestamp_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let (mut repo, mirror) = own_repository(dir.path());
    let root = repo.root_json().expect("root");
    let v1_timestamp = std::fs::read(dir.path().join("timestamp.json")).expect("timestamp");
    repo.publish(&[("trusted_root.json", &embedded_production())])
        .expect("v2");
    refresh(&mirror, &root, cache.path(), now()).expect("v2");
    std::fs::write(dir.path().join("timestamp.json"), v1_timestamp).expect("roll back");
    let err = refresh(&mirror, &root, cache.path(), now()).unwrap_err();
    assert!(matches!(err, Error::Rollback(_)), "{err}");
    assert_eq!(err.code(), "tuf.rollback");
}

#[test]
fn a_tampered_target_is_refused_and_the_previous_root_stays_current() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let (repo, mirror) = own_repository(dir.path());
    let root = repo.root_json().expect("root");
    refresh(&mirror, &root, cache.path(), now()).expect("refresh");
    let path = repo.target_path("trusted_root.json").expect("target");
    let mut bytes = std::fs::read(&path).expect("read");
    let i = bytes.iter().position(|b| *b == b'M').expect("base64");
    bytes[i] = b'N';
    std::fs::write(&path, bytes).expect("tamper");
    let err = refresh(&mirror, &root, cache.path(), now()).unwrap_err();
    assert!(matches!(err, Error::TargetMismatch(_)), "{err}");
    let current = cache::current(cache.path()).expect("cache").expect("kept");
    assert_eq!(current.trusted_root, embedded_production());
}

#[test]
fn a_signed_target_that_is_no_trusted_root_or_no_target_at_all_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let mut repo = Repository::create(dir.path()).expect("create");
    repo.publish(&[("trusted_root.json", b"{\"tlogs\": 5}")])
        .expect("publish");
    let mirror = Mirror::parse(&serve_dir(dir.path()).expect("serve")).expect("mirror");
    let root = repo.root_json().expect("root");
    let err = refresh(&mirror, &root, cache.path(), now()).unwrap_err();
    assert!(matches!(err, Error::TrustedRoot(_)), "{err}");
    repo.publish(&[("other.json", b"{}")]).expect("publish");
    let err = refresh(&mirror, &root, cache.path(), now()).unwrap_err();
    assert!(matches!(err, Error::TargetMissing(_)), "{err}");
}

#[test]
fn an_unreachable_mirror_is_unavailable() {
    let cache = tempfile::tempdir().expect("tempdir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mirror = Mirror::parse(&format!("http://127.0.0.1:{port}/")).expect("mirror");
    let err = refresh(&mirror, embedded::TUF_ROOT, cache.path(), now()).unwrap_err();
    assert_eq!(err.code(), "tuf.unavailable", "{err}");
}

#[test]
fn a_local_directory_mirror_is_read_without_a_server() {
    let cache = tempfile::tempdir().expect("tempdir");
    let mirror = Mirror::parse(vectors().to_str().expect("utf-8")).expect("mirror");
    assert_eq!(mirror.metadata.scheme(), "file");
    let got = refresh(&mirror, embedded::TUF_ROOT, cache.path(), at(FRESH)).expect("refresh");
    assert_eq!(got.trusted_root, embedded_production());
}
