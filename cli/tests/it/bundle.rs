//! Evidence bundles across the air gap: `hallmark bundle export` on the vendor's side (its own
//! store and a `docker-registry`), `bundle import` into a separate plant store and a second
//! `docker-registry`, then offline `verify`; and bundles that must import nothing: a tampered
//! blob, a missing attestation, a swapped trust root, a truncated archive, an untrusted exporter,
//! evidence the plant's trust denies. Each failure leaves the destination unchanged.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_testsvc::registry::{self, sha256_hex};

use crate::common::{self, Scratch};

/// Every file below `dir` with a digest of its content (empty when `dir` does not exist).
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n != ".hallmark.lock") {
                out.push((path.clone(), sha256_hex(&std::fs::read(&path).unwrap())));
            }
        }
    }
    out.sort();
    out
}

/// No staging directory is left behind in `dir`.
fn no_staging_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".hallmark-import-")
        })
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

/// The HTTP status of GET `path` on the plain-HTTP registry at `host`.
fn http_status(host: &str, path: &str) -> u16 {
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap()
}

/// The blobs a bundle's manifest lists with `role` (from `bundle inspect --format json`).
fn blobs_with_role(s: &Scratch, bundle: &str, role: &str) -> Vec<String> {
    let run = s.expect(&["bundle", "inspect", bundle, "--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["signatureVerified"], false, "{doc}");
    doc["manifest"]["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["role"] == role)
        .map(|b| b["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// Unpacks `bundle` with tar(1), lets `change` edit the layout, and packs it again as `out`.
fn rewrite(s: &Scratch, bundle: &str, out: &str, change: impl FnOnce(&Path)) {
    let dir = s.file(&format!("{out}.d"));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = Command::new("tar")
        .arg("-xf")
        .arg(s.file(bundle))
        .arg("-C")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(ok.success());
    change(&dir);
    let ok = Command::new("tar")
        .arg("-cf")
        .arg(s.file(out))
        .arg("-C")
        .arg(&dir)
        .args(["oci-layout", "index.json", "blobs"])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn blob_path(dir: &Path, digest: &str) -> PathBuf {
    dir.join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

/// The vendor's side: a two-step build (k.key), an image in the vendor registry attested with
/// k.key, the transfer station's key, the plant's key.
fn vendor(s: &Scratch) {
    s.build_and_package();
    s.expect(&["keygen", "--output", "station"], 0);
    s.expect(&["keygen", "--output", "plant"], 0);
}

#[test]
fn export_import_round_trip_across_stores_and_registries_then_offline_verify() {
    let s = Scratch::repo();
    vendor(&s);
    let vendor_storage = tempfile::tempdir().unwrap();
    let mut vendor_registry = registry::Registry::start(vendor_storage.path()).unwrap();
    let vendor_host = vendor_registry.host();
    let plant_storage = tempfile::tempdir().unwrap();
    let plant_registry = registry::Registry::start(plant_storage.path()).unwrap();
    let plant_host = plant_registry.host();
    // A two-platform image: the index and both platform manifests must travel.
    let (image, amd64, arm64) = crate::registry::push_multi_platform(
        vendor_storage.path(),
        &format!("{vendor_host}/vendor/app:v1"),
    );
    let image_ref = format!("oci://{vendor_host}/vendor/app:v1");
    s.expect(
        &[
            "attest",
            "--subject",
            &image_ref,
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &vendor_host,
        ],
        0,
    );
    // A real list (the vendor recalls an older build): verified at export, carried as it is.
    let older = format!("sha256:{}", "1".repeat(64));
    s.expect(
        &[
            "revoke",
            "--name",
            "vendor",
            "--sequence",
            "1",
            "--valid-for",
            "1d",
            "--artifact",
            &older,
            "--reason",
            "recalled",
            "--key",
            "k.key",
            "--output",
            "revoked.json",
        ],
        0,
    );
    let export = s.expect(
        &[
            "bundle",
            "export",
            "dist/app.tar",
            &image_ref,
            "--key",
            "k.pub",
            "--signing-key",
            "station.key",
            "--out",
            "delivery.tar",
            "--revocations",
            "revoked.json",
            "--allow-insecure-registry",
            &vendor_host,
        ],
        0,
    );
    assert!(export.stdout.starts_with("sha256:"), "{}", export.stdout);
    let inspect = s.expect(&["bundle", "inspect", "delivery.tar"], 0);
    for expected in [
        "app.tar",
        image.as_str(),
        "https://slsa.dev/provenance/v1",
        "trust root",
        "key: k.pub",
        "revocation list: revoked.json",
    ] {
        assert!(
            inspect.stdout.contains(expected),
            "{expected}: {}",
            inspect.stdout
        );
    }
    // Both steps of the file's chain travel, and the image's attestation.
    assert_eq!(blobs_with_role(&s, "delivery.tar", "attestation").len(), 3);

    // The air gap: the vendor registry is gone; the plant has its own store and registry.
    vendor_registry.stop();
    let plant = s.file("plant");
    std::fs::create_dir(&plant).unwrap();
    let plant_store = plant.join("store");
    let plant_ref = format!("oci://{plant_host}/plant/app:v1");
    let import = s.expect(
        &[
            "bundle",
            "import",
            "delivery.tar",
            "--exporter-key",
            "station.pub",
            "--key",
            "k.pub",
            "--station",
            "line-3",
            "--custody-key",
            "plant.key",
            "--store",
            plant_store.to_str().unwrap(),
            "--to",
            &plant_ref,
            "--allow-insecure-registry",
            &plant_host,
            "--files-to",
            plant.join("delivered").to_str().unwrap(),
            "--format",
            "json",
        ],
        0,
    );
    let doc: serde_json::Value = serde_json::from_str(&import.stdout).unwrap();
    assert_eq!(doc["imported"], true, "{doc}");
    assert_eq!(doc["verdicts"].as_array().unwrap().len(), 2, "{doc}");
    no_staging_left(&plant);

    // Offline verification at the plant: the file from the plant store, the image from the
    // plant registry alone (an empty store), and the custody record signed by the plant.
    let delivered = plant.join("delivered/app.tar");
    s.expect(
        &[
            "verify",
            delivered.to_str().unwrap(),
            "--key",
            "k.pub",
            "--store",
            plant_store.to_str().unwrap(),
            "--step",
            "package",
        ],
        0,
    );
    let empty = tempfile::tempdir().unwrap();
    s.expect(
        &[
            "verify",
            &plant_ref,
            "--key",
            "k.pub",
            "--store",
            empty.path().to_str().unwrap(),
            "--allow-insecure-registry",
            &plant_host,
        ],
        0,
    );
    let custody = s.expect(
        &[
            "verify",
            delivered.to_str().unwrap(),
            "--key",
            "plant.pub",
            "--store",
            plant_store.to_str().unwrap(),
            "--predicate-type",
            "https://hallmark.dev/custody/v1",
            "--format",
            "json",
        ],
        0,
    );
    let custody: serde_json::Value = serde_json::from_str(&custody.stdout).unwrap();
    assert!(
        custody
            .to_string()
            .contains("https://hallmark.dev/custody/v1"),
        "{custody}"
    );
    assert_eq!(http_status(&plant_host, "/v2/plant/app/tags/list"), 200);
    // The plant registry's copy of the image carries the custody record as well.
    s.expect(
        &[
            "verify",
            &plant_ref,
            "--key",
            "plant.pub",
            "--store",
            empty.path().to_str().unwrap(),
            "--allow-insecure-registry",
            &plant_host,
            "--predicate-type",
            "https://hallmark.dev/custody/v1",
        ],
        0,
    );
    for platform in [&amd64, &arm64] {
        s.expect(
            &[
                "copy",
                &format!("oci://{plant_host}/plant/app@{platform}"),
                s.file(&format!("check-{}", &platform[7..19]))
                    .to_str()
                    .unwrap(),
                "--allow-insecure-registry",
                &plant_host,
            ],
            0,
        );
    }
}

#[test]
fn a_bad_bundle_imports_nothing_and_says_why() {
    let s = Scratch::repo();
    vendor(&s);
    let plant_storage = tempfile::tempdir().unwrap();
    let plant_registry = registry::Registry::start(plant_storage.path()).unwrap();
    let plant_host = plant_registry.host();
    s.expect(
        &[
            "bundle",
            "export",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--signing-key",
            "station.key",
            "--out",
            "good.tar",
        ],
        0,
    );
    // The plant store already holds something: it must stay exactly as it is.
    let plant = s.file("plant");
    std::fs::create_dir(&plant).unwrap();
    let store = plant.join("store");
    let store_flag = store.to_str().unwrap().to_owned();
    s.expect(
        &[
            "attest",
            "--subject",
            "src/a.c",
            "--provenance",
            "--key",
            "plant.key",
            "--store",
            &store_flag,
        ],
        0,
    );
    let before = snapshot(&store);

    let artifact = blobs_with_role(&s, "good.tar", "artifact").remove(0);
    let attestation = blobs_with_role(&s, "good.tar", "attestation").remove(0);
    let root = blobs_with_role(&s, "good.tar", "trust-root").remove(0);
    rewrite(&s, "good.tar", "tampered.tar", |dir| {
        let path = blob_path(dir, &artifact);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] ^= 1;
        std::fs::write(path, bytes).unwrap();
    });
    rewrite(&s, "good.tar", "missing.tar", |dir| {
        std::fs::remove_file(blob_path(dir, &attestation)).unwrap();
    });
    rewrite(&s, "good.tar", "swapped-root.tar", |dir| {
        std::fs::remove_file(blob_path(dir, &root)).unwrap();
        let other = br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}"#;
        std::fs::write(dir.join("blobs/sha256").join(sha256_hex(other)), other).unwrap();
    });
    let good = std::fs::read(s.file("good.tar")).unwrap();
    std::fs::write(s.file("truncated.tar"), &good[..good.len() / 2 + 100]).unwrap();

    let plant_ref = format!("oci://{plant_host}/plant/app:v1");
    let import = |bundle: &str, exporter: &str, vendor_key: &str| {
        s.run(&[
            "bundle",
            "import",
            bundle,
            "--exporter-key",
            exporter,
            "--key",
            vendor_key,
            "--station",
            "line-3",
            "--custody-key",
            "plant.key",
            "--store",
            &store_flag,
            "--to",
            &plant_ref,
            "--allow-insecure-registry",
            &plant_host,
        ])
    };
    let cases = [
        (
            "tampered.tar",
            "station.pub",
            "k.pub",
            2,
            "evidence.blob-digest",
            artifact.as_str(),
        ),
        (
            "missing.tar",
            "station.pub",
            "k.pub",
            2,
            "evidence.missing",
            "(attestation)",
        ),
        (
            "swapped-root.tar",
            "station.pub",
            "k.pub",
            2,
            "evidence.missing",
            "(trust-root)",
        ),
        (
            "truncated.tar",
            "station.pub",
            "k.pub",
            2,
            "evidence.archive",
            "truncated",
        ),
        (
            "good.tar",
            "k.pub",
            "k.pub",
            1,
            "evidence.signature",
            "dsse.signature",
        ),
        (
            "good.tar",
            "station.pub",
            "plant.pub",
            1,
            "evidence.denied",
            "attestation.none-verified",
        ),
    ];
    for (bundle, exporter, vendor_key, code, error, why) in cases {
        let run = import(bundle, exporter, vendor_key);
        assert_eq!(run.code, code, "{bundle}: {}", run.text());
        assert!(run.stderr.contains(error), "{bundle}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{bundle}: {}", run.stderr);
        assert_eq!(snapshot(&store), before, "{bundle} changed the plant store");
        assert_eq!(
            http_status(&plant_host, "/v2/plant/app/tags/list"),
            404,
            "{bundle} reached the plant registry"
        );
        no_staging_left(&plant);
    }
    // The good bundle with the right trust imports.
    assert_eq!(import("good.tar", "station.pub", "k.pub").code, 0);
    assert_ne!(snapshot(&store), before);
    let _ = common::error_code;
}

/// Revocation lists at the air gap: the lists a bundle carries and the plant's own apply to the
/// import's decisions, and must verify against the plant's revocation signers.
#[test]
fn revocation_lists_travel_with_the_bundle_and_bind_the_import() {
    let s = Scratch::repo();
    vendor(&s);
    let revoke = |file: &str, key: &str, name: &str, entry: &[&str]| {
        let mut args = vec![
            "revoke",
            "--name",
            name,
            "--sequence",
            "1",
            "--valid-for",
            "1d",
            "--key",
            key,
            "--reason",
            "recall",
            "--output",
            file,
        ];
        args.extend(entry);
        s.expect(&args, 0);
    };
    // The vendor recalls an older build (not this one): the export goes through and carries it.
    revoke(
        "recall.json",
        "k.key",
        "vendor",
        &["--artifact", &format!("sha256:{}", "0".repeat(64))],
    );
    s.expect(
        &[
            "bundle",
            "export",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--revocations",
            "recall.json",
            "--signing-key",
            "station.key",
            "--out",
            "with-list.tar",
        ],
        0,
    );
    assert_eq!(
        blobs_with_role(&s, "with-list.tar", "revocation-list").len(),
        1
    );
    // A list revoking the artifact itself stops the export: nothing is written.
    revoke(
        "recall-this.json",
        "k.key",
        "vendor-2",
        &["--artifact", "dist/app.tar"],
    );
    let run = s.run(&[
        "bundle",
        "export",
        "dist/app.tar",
        "--key",
        "k.pub",
        "--revocations",
        "recall-this.json",
        "--signing-key",
        "station.key",
        "--out",
        "refused.tar",
    ]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stderr.contains("revocation.artifact"), "{}", run.stderr);
    assert!(!s.file("refused.tar").exists());

    let plant = s.file("plant");
    std::fs::create_dir(&plant).unwrap();
    let store = plant.join("store").to_str().unwrap().to_owned();
    let import = |extra: &[&str]| {
        let mut args = vec![
            "bundle",
            "import",
            "with-list.tar",
            "--exporter-key",
            "station.pub",
            "--key",
            "k.pub",
            "--station",
            "line-3",
            "--custody-key",
            "plant.key",
            "--store",
            &store,
        ];
        args.extend(extra);
        s.run(&args)
    };
    // The plant revoked the vendor's key: the carried evidence no longer counts. (Every list,
    // carried or the plant's, verifies against the revocation signers named.)
    revoke(
        "plant-list.json",
        "plant.key",
        "plant",
        &["--revoke-key", "k.pub"],
    );
    let run = import(&[
        "--revocations",
        "plant-list.json",
        "--revocation-key",
        "plant.pub",
        "--revocation-key",
        "k.pub",
    ]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stderr.contains("evidence.denied"), "{}", run.stderr);
    // Its only attestation is signed by the revoked key (the same bundle imports below).
    assert!(
        run.stderr.contains("attestation.none-verified"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("revocation list plant #1"),
        "{}",
        run.stderr
    );
    assert!(
        !Path::new(&store).join("index.json").exists(),
        "a denied bundle reached the store"
    );
    no_staging_left(&plant);
    // The carried list must verify against the plant's revocation signers: with only the
    // plant's key trusted to sign lists, the vendor's list is refused and nothing imported.
    let run = import(&["--revocation-key", "plant.pub"]);
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("revocation.unverified"),
        "{}",
        run.stderr
    );
    assert!(!Path::new(&store).join("index.json").exists());
    // A station key the plant revoked delivers nothing, whatever the bundle holds.
    revoke(
        "station-list.json",
        "plant.key",
        "plant-stations",
        &["--revoke-key", "station.pub"],
    );
    let run = import(&[
        "--revocations",
        "station-list.json",
        "--revocation-key",
        "plant.pub",
        "--revocation-key",
        "k.pub",
    ]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stderr.contains("evidence.signature"), "{}", run.stderr);
    assert!(run.stderr.contains("revocation.key"), "{}", run.stderr);
    assert!(!Path::new(&store).join("index.json").exists());
    // By default the import's own trust (the vendor key) vouches for the vendor's list.
    let run = import(&[]);
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(
        run.stderr.contains("revocation list vendor #1"),
        "{}",
        run.stderr
    );
}

/// The exporter signs keyless (the local Fulcio, Rekor and OIDC issuer); the importer trusts that
/// identity only, with its own copy of the test services' trust root, which the bundle also
/// carries: the custody record notes they are the same. Another identity is refused.
#[test]
fn a_keyless_exporter_is_trusted_by_identity_only() {
    use hallmark_testsvc::services::Services;
    let s = Scratch::repo();
    vendor(&s);
    let services = Services::start().unwrap();
    let root = s.file("test-root.json");
    std::fs::write(&root, serde_json::to_vec(&services.trusted_root()).unwrap()).unwrap();
    let root = root.to_str().unwrap().to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let workflow = "https://github.com/acme/station/.github/workflows/export.yml@refs/heads/main";
    let token = services
        .token(&serde_json::json!({
            "sub": "repo:acme/station:ref:refs/heads/main", "aud": "sigstore", "exp": now + 300,
            "job_workflow_ref": "acme/station/.github/workflows/export.yml@refs/heads/main",
            "repository": "acme/station"}))
        .unwrap();
    std::fs::write(s.file("token"), &token).unwrap();
    let (fulcio, rekor) = (
        format!("{}/fulcio", services.url),
        format!("{}/rekor", services.url),
    );
    let issuer = format!("{}/oidc", services.url);
    let export = s.expect(
        &[
            "bundle",
            "export",
            "dist/app.tar",
            "--key",
            "k.pub",
            "--trusted-root",
            &root,
            "--keyless",
            "--identity-token",
            "@token",
            "--fulcio-url",
            &fulcio,
            "--rekor-url",
            &rekor,
            "--sigstore-trusted-root",
            &root,
            "--out",
            "keyless.tar",
        ],
        0,
    );
    assert!(
        !export.text().contains(&token),
        "the token is never printed"
    );
    let import = |identity: &str, store: &str| {
        s.run(&[
            "bundle",
            "import",
            "keyless.tar",
            "--exporter-identity",
            identity,
            "--exporter-oidc-issuer",
            &issuer,
            "--key",
            "k.pub",
            "--trusted-root",
            &root,
            "--station",
            "line-3",
            "--custody-key",
            "plant.key",
            "--store",
            store,
            "--format",
            "json",
        ])
    };
    let other = import(
        "https://github.com/evil/station/.github/workflows/export.yml@refs/heads/main",
        "refused-store",
    );
    assert_eq!(other.code, 1, "{}", other.text());
    assert!(
        other.stderr.contains("sigstore.identity"),
        "{}",
        other.stderr
    );
    assert!(!s.file("refused-store").exists(), "nothing imported");
    let ok = import(workflow, "plant-store");
    assert_eq!(ok.code, 0, "{}", ok.text());
    let doc: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(doc["trustRootSame"], true, "{doc}");
}
