//! Failure and change: the registry down or hanging (fail closed within the deadline, failOpen
//! warns), configuration reloads (a broken one is refused while the old one serves),
//! certificate rotation, and draining on SIGTERM.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Fixture, RULES, Webhook, issue, kubectl, message, metric, review};

/// A "registry" that accepts connections and never answers, named insecure in the
/// configuration (in place of the unused `127.0.0.1:1`). Returns its port.
fn hanging_registry(f: &Fixture) -> u16 {
    let hang = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hang.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in hang.incoming().flatten() {
            held.push(s);
        }
    });
    let text = std::fs::read_to_string(&f.config)
        .unwrap()
        .replace("\"127.0.0.1:1\"", &format!("\"127.0.0.1:{port}\""));
    std::fs::write(&f.config, text).unwrap();
    port
}

fn deployment(image: &str) -> Value {
    kubectl(&["create", "deployment", "app", "--image", image])
}

#[test]
fn a_registry_outage_fails_closed_within_the_deadline_and_fail_open_warns() {
    let mut f = Fixture::new();
    f.image("demo/app:v1", true);
    f.write_config("3s", RULES);
    let w = f.start();
    let ca = &f.pki.ca_pem;
    let app = format!("{}/demo/app:v1", f.host);
    assert_eq!(
        w.post(
            ca,
            "/validate",
            &review(&deployment(&app), "default", "CREATE")
        )["allowed"],
        true
    );

    f.registry.stop();
    let started = Instant::now();
    let r = w.post(
        ca,
        "/validate",
        &review(&deployment(&app), "default", "CREATE"),
    );
    let took = started.elapsed();
    assert_eq!(r["allowed"], false, "{r}");
    let m = message(&r);
    assert!(
        m.starts_with("denied: admission.registry: image ")
            && m.contains(&app)
            && m.ends_with("(fail closed)"),
        "{m}"
    );
    // The deadline is 3 s; the answer must come before the API server's timeout, with room.
    assert!(took < Duration::from_secs(5), "took {took:?}");

    let r = w.post(
        ca,
        "/validate",
        &review(&deployment(&app), "lenient", "CREATE"),
    );
    assert_eq!(r["allowed"], true, "{r}");
    let warning = r["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("hallmark: failOpen: admission.registry: image ")
            && warning.contains("admitted unverified"),
        "{warning}"
    );
    let (_, text) = w.admin("/metrics");
    assert_eq!(
        metric(&text, "hallmark_webhook_fail_open_total"),
        1.0,
        "{text}"
    );

    // A registry that accepts connections and never answers: the deadline decides.
    let port = hanging_registry(&f);
    w.eventually("the reload", || {
        metric(
            &w.admin("/metrics").1,
            "hallmark_webhook_reloads_total{what=\"config\",result=\"ok\"}",
        ) >= 1.0
    });
    let hung = format!("127.0.0.1:{port}/demo/app:v1");
    let started = Instant::now();
    let r = w.post(
        ca,
        "/validate",
        &review(&deployment(&hung), "default", "CREATE"),
    );
    let took = started.elapsed();
    assert_eq!(r["allowed"], false, "{r}");
    assert!(message(&r).contains(&hung), "{r}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(5),
        "took {took:?}"
    );
    f.registry.restart().unwrap();
}

#[test]
fn configuration_changes_are_picked_up_and_broken_ones_refused() {
    let f = Fixture::new();
    f.image("demo/bad:v1", false);
    f.write_config("8s", RULES);
    let w = f.start();
    let ca = &f.pki.ca_pem;
    let bad = review(
        &deployment(&format!("{}/demo/bad:v1", f.host)),
        "default",
        "CREATE",
    );
    assert_eq!(w.post(ca, "/validate", &bad)["allowed"], false);

    // The default rule becomes warn: picked up without a restart.
    f.write_config("8s", &RULES.replace("mode: enforce", "mode: warn"));
    w.eventually("warn mode", || {
        w.post(ca, "/validate", &bad)["allowed"] == true
    });

    // A broken configuration (a key file that does not exist) is refused; warn mode stays.
    let broken = std::fs::read_to_string(&f.config)
        .unwrap()
        .replace("release.pub", "missing.pub");
    std::fs::write(&f.config, broken).unwrap();
    w.eventually("the refusal", || {
        metric(
            &w.admin("/metrics").1,
            "hallmark_webhook_reloads_total{what=\"config\",result=\"error\"}",
        ) >= 1.0
    });
    let (_, text) = w.admin("/metrics");
    assert_eq!(metric(&text, "hallmark_webhook_config_last_reload_ok"), 0.0);
    assert_eq!(
        w.post(ca, "/validate", &bad)["allowed"],
        true,
        "the last good configuration serves"
    );
    assert!(
        w.log()
            .iter()
            .any(|l| l.contains("configuration refused") && l.contains("missing.pub"))
    );
    assert_eq!(w.admin("/readyz").0, 200);

    // Not YAML at all: refused too; then a good one is taken again.
    std::fs::write(&f.config, "rules: [").unwrap();
    w.eventually("the second refusal", || {
        metric(
            &w.admin("/metrics").1,
            "hallmark_webhook_reloads_total{what=\"config\",result=\"error\"}",
        ) >= 2.0
    });
    assert_eq!(w.post(ca, "/validate", &bad)["allowed"], true);
    f.write_config("8s", RULES);
    w.eventually("enforce again", || {
        w.post(ca, "/validate", &bad)["allowed"] == false
    });
    // A broken configuration at start is an error, not a server without rules.
    std::fs::write(&f.config, "rules: [").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hallmark-webhook"))
        .arg("--config")
        .arg(&f.config)
        .arg("--tls-cert")
        .arg(&f.pki.cert)
        .arg("--tls-key")
        .arg(&f.pki.key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("loading the configuration"));
}

#[test]
fn a_rotated_certificate_is_served_without_a_restart() {
    let f = Fixture::new();
    f.write_config("8s", RULES);
    let w = f.start();
    assert!(w.handshake(&f.pki.ca_pem).is_ok());
    let second = issue(f.dir.path(), "second");
    w.eventually("the new certificate", || {
        w.handshake(&second.ca_pem).is_ok()
    });
    assert!(
        w.handshake(&f.pki.ca_pem).is_err(),
        "the old certificate is still served"
    );
    // A key that does not match the certificate is refused; the rotated pair keeps serving.
    // (Counted from here: the rotation's two renames may already have made one refusal.)
    let refusals = || {
        metric(
            &w.admin("/metrics").1,
            "hallmark_webhook_reloads_total{what=\"certificate\",result=\"error\"}",
        )
    };
    let before = refusals();
    let third = issue(&f.dir.path().join("other").tap(), "third");
    std::fs::copy(&third.key, &second.key).unwrap();
    w.eventually("the refusal", || refusals() > before);
    assert!(w.handshake(&second.ca_pem).is_ok());
}

trait Tap {
    fn tap(self) -> Self;
}

impl Tap for std::path::PathBuf {
    fn tap(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn sigterm_drops_readiness_and_lets_in_flight_requests_finish() {
    let f = Fixture::new();
    f.write_config("3s", RULES);
    // A registry that never answers keeps a request in flight for the whole deadline.
    let port = hanging_registry(&f);
    let mut w = Webhook::start(&f.config, &f.pki, &["--shutdown-delay", "1s"]);
    let ca = f.pki.ca_pem.clone();
    let port_https = w.port;
    let body = review(
        &deployment(&format!("127.0.0.1:{port}/demo/app:v1")),
        "default",
        "CREATE",
    );
    let in_flight = std::thread::spawn(move || {
        let agent =
            hallmark_remote::http::agent(Some(ca.as_bytes()), Some(Duration::from_secs(30)))
                .unwrap();
        let mut r = agent
            .post(&format!("https://localhost:{port_https}/validate"))
            .send(serde_json::to_vec(&body).unwrap())
            .unwrap();
        serde_json::from_str::<Value>(&r.body_mut().read_to_string().unwrap()).unwrap()
    });
    std::thread::sleep(Duration::from_millis(500));
    let pid = w.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    w.eventually("readiness dropped", || w.admin("/readyz").0 == 503);
    assert_eq!(w.admin("/livez").0, 200);
    let answer = in_flight.join().unwrap();
    assert_eq!(answer["response"]["allowed"], json!(false), "{answer}");
    let status = w.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    let _ = w
        .child
        .stdout
        .take()
        .map(|mut s| s.read_to_string(&mut rest));
    assert!(
        w.log().iter().any(|l| l.contains("\"drained\"")),
        "{:?}",
        w.log()
    );
}

/// Revocation lists come with the configuration: a revoked image is denied once the list is
/// loaded, and an older list of the same series (a rollback) is refused while the newer one
/// keeps serving.
#[test]
fn revocation_lists_are_reloaded_and_never_rolled_back() {
    let f = Fixture::new();
    let digest = f.image("demo/app:v1", true);
    f.write_config("8s", RULES);
    let w = f.start();
    let ca = &f.pki.ca_pem;
    let app = review(
        &deployment(&format!("{}/demo/app:v1", f.host)),
        "default",
        "CREATE",
    );
    assert_eq!(w.post(ca, "/validate", &app)["allowed"], true);
    let other = format!("sha256:{}", "0".repeat(64));
    f.revocation_list("seq2.json", 2, &[&digest]);
    f.revocation_list("seq1.json", 1, &[&other]);
    f.write_config_trusting("8s", "  revocations: [seq2.json]\n", RULES);
    w.eventually("the revocation", || {
        w.post(ca, "/validate", &app)["allowed"] == false
    });
    assert!(
        message(&w.post(ca, "/validate", &app)).contains("revocation.artifact"),
        "{}",
        w.post(ca, "/validate", &app)
    );
    // The older list of the series: refused, the newer one keeps serving.
    f.write_config_trusting("8s", "  revocations: [seq1.json]\n", RULES);
    w.eventually("the refusal", || {
        w.log()
            .iter()
            .any(|l| l.contains("configuration refused") && l.contains("revocation.rollback"))
    });
    assert_eq!(w.post(ca, "/validate", &app)["allowed"], false);
}
