//! Attestations next to images in a real registry: the CNCF distribution registry (Debian
//! `docker-registry`) started on a loopback port, images pushed with `skopeo`.
//! `scripts/install-test-deps.sh` installs both; without them this test fails, it does not skip.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{self, Scratch};

use hallmark_testsvc::registry::{self, sha256_hex};

/// `hallmark verify REFERENCE --key KEY` against the plain-HTTP test registry at `host`, with
/// an empty local store so that every attestation has to come from the registry.
fn verify_from_registry(
    s: &Scratch,
    reference: &str,
    key: &str,
    host: &str,
    extra: &[&str],
    code: i32,
) -> common::Run {
    let empty = tempfile::tempdir().unwrap();
    let store = empty.path().to_str().unwrap();
    let mut args = vec![
        "verify",
        reference,
        "--key",
        key,
        "--allow-insecure-registry",
        host,
        "--store",
        store,
    ];
    args.extend_from_slice(extra);
    s.expect(&args, code)
}

/// The shared registry helper (`hallmark_testsvc::registry`), unwrapped for tests.
struct Registry(registry::Registry);

impl Registry {
    fn start(dir: &Path) -> Registry {
        Registry(registry::Registry::start(dir).unwrap())
    }

    fn start_with(dir: &Path, extra: String) -> Registry {
        Registry(registry::Registry::start_with(dir, extra).unwrap())
    }

    fn restart(&mut self) {
        self.0.restart().unwrap();
    }

    fn stop(&mut self) {
        self.0.stop();
    }

    fn host(&self) -> String {
        self.0.host()
    }
}

fn push_image(work: &Path, dest: &str, content: &str) -> String {
    registry::push_image(work, dest, content).unwrap()
}

fn push_image_with(work: &Path, dest: &str, content: &str, skopeo_args: &[&str]) -> String {
    registry::push_image_with(work, dest, content, skopeo_args).unwrap()
}

#[test]
fn attest_push_discover_verify_and_the_pending_outbox() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let mut registry = Registry::start(storage.path());
    let host = registry.host();
    let app = push_image(storage.path(), &format!("{host}/demo/app:v1"), "app");
    let other = push_image(storage.path(), &format!("{host}/demo/other:v1"), "other");
    let late = push_image(storage.path(), &format!("{host}/demo/late:v1"), "late");
    assert_ne!(app, other);
    s.expect(&["keygen", "--output", "k"], 0);
    let insecure = ["--allow-insecure-registry", host.as_str()];

    // The acceptance story.
    let mut attest = vec!["attest", "--subject"];
    let app_ref = format!("oci://{host}/demo/app:v1");
    attest.extend([app_ref.as_str(), "--provenance", "--key", "k.key"]);
    attest.extend(insecure);
    let run = s.expect(&attest, 0);
    assert!(
        run.stderr.contains(&app),
        "resolved digest is named: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("plain HTTP"),
        "insecure use warns: {}",
        run.stderr
    );

    // Verify from the registry only (an empty local store), so discovery is what is tested.
    let empty = tempfile::tempdir().unwrap();
    let store_flag = ["--store", empty.path().to_str().unwrap()];
    let mut verify = vec!["verify", app_ref.as_str(), "--key", "k.pub"];
    verify.extend(insecure);
    verify.extend(store_flag);
    let ok = s.expect(&verify, 0);
    assert!(
        ok.stdout.contains(&format!("registry {host}/demo/app")),
        "{}",
        ok.stdout
    );
    assert!(ok.stdout.contains(&app), "{}", ok.stdout);
    assert_eq!(
        ok.stdout.matches(app.as_str()).count(),
        1,
        "the pinned reference shows the digest once: {}",
        ok.stdout
    );

    // With the local store too, the attestation is in both places: listed once, both named.
    let mut both = vec![
        "verify",
        app_ref.as_str(),
        "--key",
        "k.pub",
        "--format",
        "json",
    ];
    both.extend(insecure);
    let run = s.expect(&both, 0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let listed = doc["attestations"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{doc}");
    assert!(
        listed[0]["origin"]
            .as_str()
            .unwrap()
            .starts_with("registry ")
            && listed[0]["alsoFoundAt"][0]
                .as_str()
                .unwrap()
                .starts_with("store "),
        "{doc}"
    );

    let other_ref = format!("oci://{host}/demo/other:v1");
    let mut verify_other = vec!["verify", other_ref.as_str(), "--key", "k.pub"];
    verify_other.extend(insecure);
    let denied = s.expect(&verify_other, 1);
    assert!(
        denied.stdout.contains("no attestation matches this digest"),
        "{}",
        denied.stdout
    );

    // Idempotent: attesting the same statement again is harmless; pushing it again stores it once.
    let mut push_again = vec!["push", app_ref.as_str()];
    push_again.extend(insecure);
    s.expect(&push_again, 0);
    let tag_index = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!(
            "docker://{host}/demo/app:{}",
            app.replacen(':', "-", 1)
        ))
        .output()
        .unwrap();
    assert!(
        tag_index.status.success(),
        "a second client sees the referrers tag-schema index"
    );
    let index: serde_json::Value = serde_json::from_slice(&tag_index.stdout).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1, "{index}");
    assert_eq!(
        index["manifests"][0]["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );

    // Registry down: the attestation is signed, kept and marked pending; exit non-zero.
    registry.stop();
    let late_ref = format!("oci://{host}/demo/late@{late}");
    let mut attest_late = vec![
        "attest",
        "--subject",
        late_ref.as_str(),
        "--provenance",
        "--key",
        "k.key",
    ];
    attest_late.extend(insecure);
    let failed = s.run(&attest_late);
    assert_ne!(failed.code, 0);
    assert!(
        failed.stderr.contains("pending in the local store"),
        "{}",
        failed.stderr
    );

    // Registry back: push --pending delivers it, and verify passes.
    registry.restart();
    let mut pending = vec!["push", "--pending"];
    pending.extend(insecure);
    let pushed = s.expect(&pending, 0);
    assert!(
        pushed.stderr.contains("pushed 1, failed 0"),
        "{}",
        pushed.stderr
    );
    let again = s.expect(&pending, 0);
    assert!(again.stderr.contains("nothing to push"), "{}", again.stderr);
    let mut verify_late = vec!["verify", late_ref.as_str(), "--key", "k.pub"];
    verify_late.extend(insecure);
    verify_late.extend(store_flag);
    s.expect(&verify_late, 0);
}

#[test]
fn concurrent_pushes_for_one_subject_are_all_discoverable() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let host = registry.host();
    let digest = push_image(storage.path(), &format!("{host}/demo/busy:v1"), "busy");
    s.expect(&["keygen", "--output", "k"], 0);
    let reference = format!("oci://{host}/demo/busy@{digest}");
    let children: Vec<_> = (0..8)
        .map(|i| {
            std::fs::write(s.file(&format!("p{i}.json")), format!(r#"{{"n": {i}}}"#)).unwrap();
            let store = s.file(&format!("store{i}"));
            s.command(&[
                "attest",
                "--subject",
                &reference,
                "--predicate",
                &format!("p{i}.json"),
                "--type",
                "https://example.com/n/v1",
                "--key",
                "k.key",
                "--allow-insecure-registry",
                &host,
                "--store",
                store.to_str().unwrap(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let run = verify_from_registry(
        &s,
        &reference,
        "k.pub",
        &host,
        &[
            "--format",
            "json",
            "--predicate-type",
            "https://example.com/n/v1",
        ],
        0,
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        doc["attestations"].as_array().unwrap().len(),
        8,
        "all 8 concurrent pushes are discoverable"
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tls_from_a_test_ca_and_htpasswd_auth() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let d = storage.path();
    // A test CA and a server certificate for 127.0.0.1.
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=hallmark test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        d.join("san.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    let htpasswd = Command::new("htpasswd")
        .args(["-Bbn", "alice", "s3cr3t-pw"])
        .output()
        .expect("htpasswd (apache2-utils)");
    assert!(htpasswd.status.success());
    std::fs::write(d.join("htpasswd"), &htpasswd.stdout).unwrap();
    let extra = format!(
        "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: hallmark-test\n    path: {}\n",
        d.join("server.pem").display(),
        d.join("server.key").display(),
        d.join("htpasswd").display()
    );
    let registry = Registry::start_with(d, extra);
    let host = registry.host();
    push_image_with(
        d,
        &format!("{host}/demo/app:v1"),
        "app",
        &["--dest-creds", "alice:s3cr3t-pw"],
    );
    s.expect(&["keygen", "--output", "k"], 0);
    let app_ref = format!("oci://{host}/demo/app:v1");
    let ca = d.join("ca.pem");
    let ca = ca.to_str().unwrap();
    let with_creds = |args: &[&str]| {
        common::into_run(
            s.command(args)
                .env("HALLMARK_REGISTRY", &host)
                .env("HALLMARK_REGISTRY_USERNAME", "alice")
                .env("HALLMARK_REGISTRY_PASSWORD", "s3cr3t-pw")
                .output()
                .unwrap(),
        )
    };
    let run = with_creds(&[
        "attest",
        "--subject",
        &app_ref,
        "--provenance",
        "--key",
        "k.key",
        "--registry-ca",
        ca,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let empty = tempfile::tempdir().unwrap();
    let run = with_creds(&[
        "verify",
        &app_ref,
        "--key",
        "k.pub",
        "--registry-ca",
        ca,
        "--store",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.text().contains("s3cr3t-pw"));

    // Without credentials: a clear error naming what to set.
    let run = s.run(&["verify", &app_ref, "--key", "k.pub", "--registry-ca", ca]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("HALLMARK_REGISTRY_USERNAME"),
        "{}",
        run.stderr
    );
    // Without the CA: TLS refuses the server, never falls back to plain HTTP.
    let run = with_creds(&["verify", &app_ref, "--key", "k.pub"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    // The certificate is refused for its issuer (the test CA is not trusted by default).
    assert!(
        run.stderr
            .contains("invalid peer certificate: UnknownIssuer"),
        "{}",
        run.stderr
    );
    assert!(!run.text().contains("s3cr3t-pw"));
    // Wrong password: refused, and the password is never echoed.
    let wrong = common::into_run(
        s.command(&["verify", &app_ref, "--key", "k.pub", "--registry-ca", ca])
            .env("HALLMARK_REGISTRY", &host)
            .env("HALLMARK_REGISTRY_USERNAME", "alice")
            .env("HALLMARK_REGISTRY_PASSWORD", "not-the-pw")
            .output()
            .unwrap(),
    );
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("401 Unauthorized"),
        "{}",
        wrong.stderr
    );
    assert!(!wrong.text().contains("not-the-pw"));
}

/// A TCP proxy in front of the registry that sabotages the next `faults` connections, in turn
/// dropping them, answering 500, or stalling before passing them on.
struct FaultyProxy {
    port: u16,
    faults: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    injected: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FaultyProxy {
    fn start(upstream: u16) -> FaultyProxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let faults = Arc::new(AtomicUsize::new(0));
        let injected = Arc::new(AtomicUsize::new(0));
        let (f, inj) = (faults.clone(), injected.clone());
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(mut client) = client else { continue };
                let sabotage = f
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
                    .is_ok();
                if sabotage {
                    inj.fetch_add(1, Ordering::SeqCst);
                    match n % 3 {
                        0 => drop(client),
                        1 => {
                            let mut buf = [0u8; 4096];
                            let _ = client.read(&mut buf);
                            let _ = client.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        }
                        _ => {
                            std::thread::sleep(Duration::from_millis(300));
                            drop(client);
                        }
                    }
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut c1, mut s1) = (client, server);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c1, &mut s1);
                    let _ = s1.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s2, &mut c2);
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        FaultyProxy {
            port,
            faults,
            injected,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn sabotage(&self, connections: usize) {
        self.faults
            .store(connections, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn retries_ride_out_faults_and_the_outbox_keeps_what_fails() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let digest = push_image(
        storage.path(),
        &format!("{}/demo/flaky:v1", registry.host()),
        "flaky",
    );
    let proxy = FaultyProxy::start(registry.0.port());
    let host = proxy.host();
    s.expect(&["keygen", "--output", "k"], 0);
    let reference = format!("oci://{host}/demo/flaky@{digest}");

    // Transient faults (drops, 500s, stalls) on a few connections: retries absorb them.
    proxy.sabotage(3);
    s.expect(
        &[
            "attest",
            "--subject",
            &reference,
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &host,
        ],
        0,
    );
    assert_eq!(
        proxy.injected.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "the faults were exercised"
    );

    // A fault that outlasts the retries: the attestation stays pending, exit non-zero.
    proxy.sabotage(1000);
    std::fs::write(s.file("x.json"), r#"{"x": 1}"#).unwrap();
    let failed = s.run(&[
        "attest",
        "--subject",
        &reference,
        "--predicate",
        "x.json",
        "--type",
        "https://example.com/x/v1",
        "--key",
        "k.key",
        "--allow-insecure-registry",
        &host,
    ]);
    assert_ne!(failed.code, 0);
    assert!(
        failed.stderr.contains("pending in the local store"),
        "{}",
        failed.stderr
    );
    proxy.sabotage(0);
    let pushed = s.expect(
        &["push", "--pending", "--allow-insecure-registry", &host],
        0,
    );
    assert!(
        pushed.stderr.contains("pushed 1, failed 0"),
        "{}",
        pushed.stderr
    );
    let run = verify_from_registry(&s, &reference, "k.pub", &host, &["--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["attestations"].as_array().unwrap().len(), 2);
}

/// A two-platform image (linux/amd64, linux/arm64) pushed with skopeo --all. Returns the index
/// digest and the two platform manifest digests.
pub(crate) fn push_multi_platform(work: &Path, dest: &str) -> (String, String, String) {
    let layout = work.join("layout-multi");
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        hex
    };
    let mut entries = Vec::new();
    let mut digests = Vec::new();
    for arch in ["amd64", "arm64"] {
        let src = work.join(format!("src-{arch}"));
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("arch.txt"), arch).unwrap();
        let tar = Command::new("tar")
            .args(["-cf", "-", "-C"])
            .arg(&src)
            .arg("arch.txt")
            .output()
            .unwrap();
        let layer = put(&tar.stdout);
        let config = format!(
            r#"{{"architecture":"{arch}","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{layer}"]}}}}"#
        );
        let config_hex = put(config.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config_hex}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{layer}","size":{}}}]}}"#,
            config.len(),
            tar.stdout.len()
        );
        let hex = put(manifest.as_bytes());
        entries.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{hex}","size":{},"platform":{{"os":"linux","architecture":"{arch}"}}}}"#,
            manifest.len()
        ));
        digests.push(format!("sha256:{hex}"));
    }
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
        entries.join(",")
    );
    let index_hex = put(index.as_bytes());
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:{index_hex}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#,
            index.len()
        ),
    )
    .unwrap();
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--all",
            "--dest-tls-verify=false",
            "--preserve-digests",
        ])
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        format!("sha256:{index_hex}"),
        digests[0].clone(),
        digests[1].clone(),
    )
}

#[test]
fn image_indexes_and_platform_manifests_are_attested_separately() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let host = registry.host();
    let (index, _amd64, arm64) =
        push_multi_platform(storage.path(), &format!("{host}/demo/multi:v1"));
    s.expect(&["keygen", "--output", "k"], 0);
    let reference = format!("oci://{host}/demo/multi:v1");
    let insecure = ["--allow-insecure-registry", host.as_str()];
    let empty = tempfile::tempdir().unwrap();
    let store = ["--store", empty.path().to_str().unwrap()];

    let mut attest = vec![
        "attest",
        "--subject",
        reference.as_str(),
        "--provenance",
        "--key",
        "k.key",
        "--platform",
        "linux/arm64",
    ];
    attest.extend(insecure);
    let run = s.expect(&attest, 0);
    assert!(
        run.stderr.contains(&format!(
            "linux/arm64 manifest {arm64} of image index {index}"
        )),
        "{}",
        run.stderr
    );

    // The arm64 manifest verifies; the index itself was not attested; amd64 neither.
    let mut verify_arm = vec![
        "verify",
        reference.as_str(),
        "--key",
        "k.pub",
        "--platform",
        "linux/arm64",
    ];
    verify_arm.extend(insecure);
    verify_arm.extend(store);
    let ok = s.expect(&verify_arm, 0);
    assert!(
        ok.stderr.contains(&index) && ok.stderr.contains(&arm64),
        "names both digests: {}",
        ok.stderr
    );
    let mut verify_index = vec!["verify", reference.as_str(), "--key", "k.pub"];
    verify_index.extend(insecure);
    verify_index.extend(store);
    let denied = s.expect(&verify_index, 1);
    assert!(
        denied.stderr.contains(&format!("image index {index}")),
        "{}",
        denied.stderr
    );
    let mut verify_amd = vec![
        "verify",
        reference.as_str(),
        "--key",
        "k.pub",
        "--platform",
        "linux/amd64",
    ];
    verify_amd.extend(insecure);
    verify_amd.extend(store);
    s.expect(&verify_amd, 1);
    let mut bad = vec![
        "verify",
        reference.as_str(),
        "--key",
        "k.pub",
        "--platform",
        "windows/amd64",
    ];
    bad.extend(insecure);
    let err = s.expect(&bad, 2);
    assert!(
        err.stderr
            .contains("has no windows/amd64 manifest (it has: linux/amd64, linux/arm64)"),
        "{}",
        err.stderr
    );
}

#[test]
fn cosign_legacy_att_attestations_are_read() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let host = registry.host();
    let digest = push_image(
        storage.path(),
        &format!("{host}/demo/cosigned:v1"),
        "cosigned",
    );
    s.expect(&["keygen", "--output", "k"], 0);
    // A DSSE envelope about the image, laid out as cosign v2 attaches attestations: a manifest
    // tagged sha256-<hex>.att whose layer is the envelope (application/vnd.dsse.envelope.v1+json).
    let subject = format!("{host}/demo/cosigned@{digest}");
    s.expect(
        &[
            "attest",
            "--subject",
            &subject,
            "--provenance",
            "--key",
            "k.key",
            "--output",
            "env.json",
            "--format",
            "dsse",
            "--no-store",
        ],
        0,
    );
    let envelope = std::fs::read(s.file("env.json")).unwrap();
    let layout = storage.path().join("att-layout");
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let env_hex = sha256_hex(&envelope);
    std::fs::write(blobs.join(&env_hex), &envelope).unwrap();
    let config = br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_hex = sha256_hex(config);
    std::fs::write(blobs.join(&config_hex), config).unwrap();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config_hex}","size":{}}},"layers":[{{"mediaType":"application/vnd.dsse.envelope.v1+json","digest":"sha256:{env_hex}","size":{},"annotations":{{"predicateType":"https://slsa.dev/provenance/v1"}}}}]}}"#,
        config.len(),
        envelope.len()
    );
    let manifest_hex = sha256_hex(manifest.as_bytes());
    std::fs::write(blobs.join(&manifest_hex), &manifest).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    std::fs::write(
        layout.join("index.json"),
        format!(r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_hex}","size":{}}}]}}"#, manifest.len()),
    )
    .unwrap();
    let att_tag = format!("{}.att", digest.replacen(':', "-", 1));
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--preserve-digests",
        ])
        .arg(format!("oci:{}", layout.display()))
        .arg(format!("docker://{host}/demo/cosigned:{att_tag}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let reference = format!("oci://{host}/demo/cosigned:v1");
    let run = verify_from_registry(&s, &reference, "k.pub", &host, &[], 0);
    assert!(run.stdout.contains("cosign .att"), "{}", run.stdout);
    s.expect(&["keygen", "--output", "other"], 0);
    verify_from_registry(&s, &reference, "other.pub", &host, &[], 1);
}

#[test]
fn files_as_oci_artifacts_and_pull_for_offline_verification() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let mut registry = Registry::start(storage.path());
    let host = registry.host();
    s.expect(&["keygen", "--output", "k"], 0);
    std::fs::write(s.file("firmware.bin"), b"\x7fELF firmware 1.4.2").unwrap();
    let reference = format!("oci://{host}/plc/firmware:1.4.2");
    let pushed = s.expect(
        &[
            "push-artifact",
            "firmware.bin",
            &reference,
            "--allow-insecure-registry",
            &host,
        ],
        0,
    );
    let pinned = pushed.stdout.trim().to_owned();
    assert!(
        pinned.starts_with(&format!("{reference}@sha256:")),
        "{pinned}"
    );
    let raw = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{host}/plc/firmware:1.4.2"))
        .output()
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(
        manifest["artifactType"],
        "application/vnd.dev.hallmark.file.v1"
    );
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "firmware.bin"
    );

    s.expect(
        &[
            "attest",
            "--subject",
            &reference,
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &host,
        ],
        0,
    );
    let evidence = tempfile::tempdir().unwrap();
    let evidence_dir = evidence.path().to_str().unwrap();
    let run = s.expect(
        &[
            "pull",
            &reference,
            "--store",
            evidence_dir,
            "--allow-insecure-registry",
            &host,
        ],
        0,
    );
    assert!(
        run.stderr.contains("pulled 1 attestation"),
        "{}",
        run.stderr
    );

    // Offline: the registry is gone; the pulled evidence still verifies by digest.
    registry.stop();
    let digest = pinned.rsplit_once('@').unwrap().1.to_owned();
    s.expect(
        &["verify", &digest, "--key", "k.pub", "--store", evidence_dir],
        0,
    );
}

#[test]
fn copy_carries_images_and_attestations_across_an_air_gap() {
    let s = Scratch::repo();
    let storage_a = tempfile::tempdir().unwrap();
    let storage_b = tempfile::tempdir().unwrap();
    let a = Registry::start(storage_a.path());
    let b = Registry::start(storage_b.path());
    let (ha, hb) = (a.host(), b.host());
    let (index, _amd64, arm64) =
        push_multi_platform(storage_a.path(), &format!("{ha}/demo/multi:v1"));
    s.expect(&["keygen", "--output", "k"], 0);
    let src = format!("oci://{ha}/demo/multi:v1");
    s.expect(
        &[
            "attest",
            "--subject",
            &src,
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &ha,
        ],
        0,
    );
    s.expect(
        &[
            "attest",
            "--subject",
            &src,
            "--platform",
            "linux/arm64",
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &ha,
        ],
        0,
    );

    // Registry A → a directory (the transfer medium).
    let transfer = tempfile::tempdir().unwrap();
    let dir = transfer.path().join("transfer");
    let dir = dir.to_str().unwrap();
    let run = s.expect(&["copy", &src, dir, "--allow-insecure-registry", &ha], 0);
    assert!(
        run.stderr.contains("3 manifest(s)") && run.stderr.contains("2 attestation(s)"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout.trim(), index);
    // Offline, straight from the directory.
    s.expect(&["verify", &index, "--key", "k.pub", "--store", dir], 0);
    s.expect(&["verify", &arm64, "--key", "k.pub", "--store", dir], 0);

    // The directory → registry B, with a new name.
    let dst = format!("oci://{hb}/mirror/multi:v1");
    s.expect(&["copy", dir, &dst, "--allow-insecure-registry", &hb], 0);
    let empty = tempfile::tempdir().unwrap();
    let store = empty.path().to_str().unwrap();
    s.expect(
        &[
            "verify",
            &dst,
            "--key",
            "k.pub",
            "--allow-insecure-registry",
            &hb,
            "--store",
            store,
        ],
        0,
    );
    s.expect(
        &[
            "verify",
            &dst,
            "--platform",
            "linux/arm64",
            "--key",
            "k.pub",
            "--allow-insecure-registry",
            &hb,
            "--store",
            store,
        ],
        0,
    );
    let pulled = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{hb}/mirror/multi:v1"))
        .output()
        .unwrap();
    assert_eq!(
        format!("sha256:{}", sha256_hex(&pulled.stdout)),
        index,
        "digests are preserved"
    );
}

#[test]
fn htpasswd_auth_without_tls() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let d = storage.path();
    let htpasswd = Command::new("htpasswd")
        .args(["-Bbn", "bob", "pl41n-pw"])
        .output()
        .expect("htpasswd (apache2-utils)");
    std::fs::write(d.join("htpasswd"), &htpasswd.stdout).unwrap();
    let extra = format!(
        "auth:\n  htpasswd:\n    realm: hallmark-test\n    path: {}\n",
        d.join("htpasswd").display()
    );
    let registry = Registry::start_with(d, extra);
    let host = registry.host();
    push_image_with(
        d,
        &format!("{host}/demo/app:v1"),
        "app",
        &["--dest-creds", "bob:pl41n-pw"],
    );
    s.expect(&["keygen", "--output", "k"], 0);
    let reference = format!("oci://{host}/demo/app:v1");
    let args = [
        "attest",
        "--subject",
        reference.as_str(),
        "--provenance",
        "--key",
        "k.key",
        "--allow-insecure-registry",
        host.as_str(),
    ];
    let denied = s.run(&args);
    assert_eq!(denied.code, 2);
    assert!(
        denied.stderr.contains("HALLMARK_REGISTRY_USERNAME"),
        "{}",
        denied.stderr
    );
    let ok = common::into_run(
        s.command(&args)
            .env("HALLMARK_REGISTRY", &host)
            .env("HALLMARK_REGISTRY_USERNAME", "bob")
            .env("HALLMARK_REGISTRY_PASSWORD", "pl41n-pw")
            .output()
            .unwrap(),
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(!ok.text().contains("pl41n-pw"));
}

#[test]
fn a_plain_http_registry_reached_over_tls_names_the_option_that_allows_it() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let host = registry.host();
    let digest = push_image(storage.path(), &format!("{host}/demo/app:v1"), "app");
    s.expect(&["keygen", "--output", "k"], 0);
    let by_tag = format!("oci://{host}/demo/app:v1");
    let by_digest = format!("oci://{host}/demo/app@{digest}");
    // Without the option, TLS is tried: whatever the command or reference, the failure says what
    // the registry did and which option reaches it. Localhost is not insecure by default.
    for args in [
        vec!["verify", by_tag.as_str(), "--key", "k.pub"],
        vec!["verify", by_digest.as_str(), "--key", "k.pub"],
        vec!["pull", by_tag.as_str()],
    ] {
        let run = s.expect(&args, 2);
        assert!(
            run.stderr.contains(&format!(
                "hallmark: error: the registry at {host} answered in plain HTTP, not TLS"
            )),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!(
                "hallmark: hint: if it is meant to serve plain HTTP (a loopback test registry), \
                 pass --allow-insecure-registry {host}"
            )),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("InvalidContentType"), "{}", run.stderr);
    }
    // With it, the same registry answers (no attestation there yet: denied, not an error).
    let run = s.run(&[
        "verify",
        &by_tag,
        "--key",
        "k.pub",
        "--allow-insecure-registry",
        &host,
    ]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        !run.stderr.contains("plain HTTP, not TLS"),
        "{}",
        run.stderr
    );
}

/// PUTs a manifest to the plain-HTTP test registry, as anyone with push access can; returns the
/// HTTP status.
fn put_manifest(host: &str, repository: &str, reference: &str, body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "PUT /v2/{repository}/manifests/{reference} HTTP/1.0\r\nHost: {host}\r\n\
         Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// One small referrer manifest whose bundle layer claims 300 MB used to fail `verify` and
/// `pull` for the image until someone deleted it; it is skipped with a warning.
#[test]
fn oversize_referrer_layer_is_skipped() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let host = registry.host();
    let digest = push_image(storage.path(), &format!("{host}/demo/app:v1"), "app");
    s.expect(&["keygen", "--output", "k"], 0);
    let subject = format!("oci://{host}/demo/app@{digest}");
    s.expect(
        &[
            "attest",
            "--subject",
            &subject,
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &host,
        ],
        0,
    );
    // The layer names an existing blob (the empty config): the registry checks that a blob
    // exists, not the size a manifest claims for it.
    let empty = format!("sha256:{}", sha256_hex(b"{}"));
    let referrer = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{empty}","size":2}},"layers":[{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"{empty}","size":300000000}}],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":0}}}}"#
    );
    let referrer_hex = sha256_hex(referrer.as_bytes());
    // Tagged as discovery finds referrers on registries without the referrers API.
    let tag = format!("{}.{}", digest.replacen(':', "-", 1), &referrer_hex[..12]);
    assert_eq!(
        put_manifest(&host, "demo/app", &tag, referrer.as_bytes()),
        201
    );
    let reference = format!("oci://{host}/demo/app:v1");
    let run = verify_from_registry(&s, &reference, "k.pub", &host, &[], 0);
    assert!(
        run.stderr
            .contains(&format!("skipped sha256:{referrer_hex}"))
            && run.stderr.contains("300000000"),
        "{}",
        run.stderr
    );
    let run = s.expect(
        &[
            "pull",
            &reference,
            "--allow-insecure-registry",
            &host,
            "--store",
            "pulled",
        ],
        0,
    );
    assert!(
        run.stderr.contains("pulled 1 attestation") && run.stderr.contains("skipped"),
        "{}",
        run.stderr
    );
}

/// The chain behind an image, verified from the registry alone: `push --chain` puts each step's
/// attestation next to its own subject digest, and `verify --policy` walks it there (no `pull`,
/// an empty local store). Without the upstream step the same policy denies.
#[test]
fn a_chain_is_walked_in_the_registry() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let host = registry.host();
    s.expect(&["keygen", "--output", "k"], 0);
    let insecure = ["--allow-insecure-registry", host.as_str()];
    let run = |step: &str, material: &str, product: &str, script: &str| {
        s.expect(
            &[
                "run", "--step", step, "--key", "k.key", "-m", material, "-p", product, "--", "sh",
                "-c", script,
            ],
            0,
        );
    };
    run(
        "build",
        "src",
        "out",
        "mkdir -p out && cat src/*.c > out/app",
    );
    // The image step's product is the OCI layout it pushes: its manifest blob is the image.
    let stage = s.file("stage");
    let reference = format!("{host}/demo/app:v1");
    let image = push_image(&stage, &reference, "app");
    let layout = std::fs::read_dir(&stage)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    run(
        "image",
        "out",
        "img",
        &format!("cp -r {} img", layout.display()),
    );
    std::fs::write(
        s.file("release.yaml"),
        "apiVersion: hallmark.dev/policy/v1\nkind: ReleasePolicy\nsteps:\n  build: {signers: [k.pub], inputs: [source]}\n  image: {signers: [k.pub], inputs: [build]}\nartifactFrom: [image]\n",
    )
    .unwrap();
    let oci = format!("oci://{reference}");
    let policy = ["--policy", "release.yaml", "--format", "json"];

    let mut push = vec!["push", oci.as_str()];
    push.extend(insecure);
    s.expect(&push, 0);
    let only_image = verify_from_registry(&s, &oci, "k.pub", &host, &policy, 1);
    let doc: serde_json::Value = serde_json::from_str(&only_image.stdout).unwrap();
    let codes: Vec<&str> = doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"chain.unattested-input"),
        "the build step is not in the registry yet: {}",
        only_image.stdout
    );

    push.push("--chain");
    let pushed = s.expect(&push, 0);
    assert!(
        pushed.stderr.contains("for 2 digest(s)"),
        "{}",
        pushed.stderr
    );
    let allowed = verify_from_registry(&s, &oci, "k.pub", &host, &policy, 0);
    let doc: serde_json::Value = serde_json::from_str(&allowed.stdout).unwrap();
    assert_eq!(doc["artifact"]["digest"], image.as_str());
    let steps: Vec<&str> = doc["chain"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["image", "build"], "{}", allowed.stdout);
    let origins = doc["chain"]["steps"][1]["origin"].as_str().unwrap();
    assert!(
        origins.starts_with(&format!("registry {host}/demo/app")),
        "the build step came from the registry: {origins}"
    );
}

#[test]
fn index_add_reads_every_tagged_artifact_of_a_repository() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path());
    let host = registry.host();
    s.expect(&["keygen", "--output", "k"], 0);
    let insecure = ["--allow-insecure-registry", host.as_str()];
    let mut digests = Vec::new();
    for tag in ["v1", "v2"] {
        digests.push(push_image(
            storage.path(),
            &format!("{host}/plant/hmi:{tag}"),
            tag,
        ));
        let reference = format!("oci://{host}/plant/hmi:{tag}");
        let mut attest = vec![
            "attest",
            "--subject",
            reference.as_str(),
            "--provenance",
            "--key",
            "k.key",
        ];
        attest.extend(insecure);
        s.expect(&attest, 0);
    }
    // From the registry only (a source given: the local store is not read), the repository
    // without a tag.
    let repository = format!("oci://{host}/plant/hmi");
    let mut add = vec![
        "index",
        "add",
        repository.as_str(),
        "--key",
        "k.pub",
        "--database",
        "registry.sqlite",
        "--format",
        "json",
    ];
    add.extend(insecure);
    let run = s.expect(&add, 0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["added"], 2, "{doc}");
    for digest in &digests {
        let trace = s.expect(
            &[
                "trace",
                "forward",
                "--digest",
                digest,
                "--database",
                "registry.sqlite",
                "--format",
                "json",
            ],
            0,
        );
        let doc: serde_json::Value = serde_json::from_str(&trace.stdout).unwrap();
        assert_eq!(doc["artifacts"][0]["digest"], digest.as_str(), "{doc}");
    }
    // A stranger's key: nothing is indexed, both are reported.
    s.expect(&["keygen", "--output", "other"], 0);
    add[4] = "other.pub";
    add[6] = "other.sqlite";
    let run = s.expect(&add, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            doc["added"].as_u64(),
            doc["rejected"].as_array().map(Vec::len)
        ),
        (Some(0), Some(2)),
        "{doc}"
    );
}
