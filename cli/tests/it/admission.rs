//! `hallmark admission REVIEW`: one AdmissionReview decided from the command line with the
//! webhook's configuration file and library call, against a real registry.

use std::process::Command;

use hallmark_testsvc::registry::{Registry, push_image};
use serde_json::{Value, json};

use crate::common::Scratch;

/// A Deployment from `kubectl create … --dry-run=client -o json`, in an AdmissionReview v1.
fn review(image: &str, namespace: &str) -> String {
    let out = Command::new("kubectl")
        .args(["create", "deployment", "app", "--image", image])
        .args(["--dry-run=client", "-o", "json"])
        .env("KUBECONFIG", "/dev/null")
        .output()
        .expect("kubectl is not installed: run scripts/install-test-deps.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let object: Value = serde_json::from_slice(&out.stdout).unwrap();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": namespace,
            "operation": "CREATE",
            "object": object,
        }
    })
    .to_string()
}

#[test]
fn admission_decides_a_review_as_the_webhook_would() {
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path()).unwrap();
    let host = registry.host();
    let app = push_image(storage.path(), &format!("{host}/demo/app:v1"), "app").unwrap();
    push_image(storage.path(), &format!("{host}/demo/bad:v1"), "bad").unwrap();
    s.expect(&["keygen", "--output", "k"], 0);
    let subject = format!("oci://{host}/demo/app:v1");
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
    std::fs::write(
        s.file("config.yaml"),
        format!(
            "apiVersion: hallmark.dev/admission/v1\ntrust:\n  keys: [k.pub]\nregistries:\n  insecure: [\"{host}\"]\nrules:\n  - name: relaxed\n    namespaces: [relaxed]\n    mode: warn\n  - name: default\n"
        ),
    )
    .unwrap();

    std::fs::write(
        s.file("ok.json"),
        review(&format!("{host}/demo/app:v1"), "default"),
    )
    .unwrap();
    let run = s.expect(
        &[
            "admission",
            "ok.json",
            "--config",
            "config.yaml",
            "--endpoint",
            "mutate",
        ],
        0,
    );
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(
        answer["response"]["uid"],
        "705ab4f5-6393-11e8-b7cc-42010a800002"
    );
    assert_eq!(answer["response"]["patchType"], "JSONPatch");
    assert!(
        run.stderr.contains(&app) && run.stderr.contains("allowed"),
        "{}",
        run.stderr
    );

    std::fs::write(
        s.file("bad.json"),
        review(&format!("{host}/demo/bad:v1"), "default"),
    )
    .unwrap();
    let run = s.expect(&["admission", "bad.json", "--config", "config.yaml"], 1);
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("denied: attestation.none: image ") && message.contains("demo/bad:v1"),
        "{message}"
    );

    // The same image under a warn rule: allowed, with the warning; from stdin.
    let mut child = s
        .command(&["admission", "-", "--config", "config.yaml"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(review(&format!("{host}/demo/bad:v1"), "relaxed").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        answer["response"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("attestation.none")
    );

    // A malformed review is denied with its code; a broken configuration is an error.
    std::fs::write(
        s.file("junk.json"),
        "{\"apiVersion\":\"admission.k8s.io/v1\"",
    )
    .unwrap();
    let run = s.expect(&["admission", "junk.json", "--config", "config.yaml"], 1);
    assert!(run.stdout.contains("admission.review"), "{}", run.stdout);
    std::fs::write(
        s.file("broken.yaml"),
        "apiVersion: hallmark.dev/admission/v1\nrules: []\n",
    )
    .unwrap();
    let run = s.expect(&["admission", "ok.json", "--config", "broken.yaml"], 2);
    assert!(run.stderr.contains("broken.yaml"), "{}", run.stderr);
}

/// A private registry (htpasswd) is read with the credentials of a mounted image pull Secret
/// (`registries.dockerConfig`), and only for the registry they name: without them, or with
/// another registry's, the image cannot be judged and is denied (fail closed).
#[test]
fn a_private_registry_is_read_with_the_pull_secret_for_its_host_only() {
    use hallmark_testsvc::registry::push_image_with;
    let s = Scratch::repo();
    let storage = tempfile::tempdir().unwrap();
    let d = storage.path();
    let htpasswd = Command::new("htpasswd")
        .args(["-Bbn", "bob", "pl41n-pw"])
        .output()
        .expect("htpasswd (apache2-utils): run scripts/install-test-deps.sh");
    std::fs::write(d.join("htpasswd"), &htpasswd.stdout).unwrap();
    let extra = format!(
        "auth:\n  htpasswd:\n    realm: hallmark-test\n    path: {}\n",
        d.join("htpasswd").display()
    );
    let registry = Registry::start_with(d, extra).unwrap();
    let host = registry.host();
    push_image_with(
        d,
        &format!("{host}/demo/app:v1"),
        "app",
        &["--dest-creds", "bob:pl41n-pw"],
    )
    .unwrap();
    s.expect(&["keygen", "--output", "k"], 0);
    let attest = crate::common::into_run(
        s.command(&[
            "attest",
            "--subject",
            &format!("oci://{host}/demo/app:v1"),
            "--provenance",
            "--key",
            "k.key",
            "--allow-insecure-registry",
            &host,
        ])
        .env("HALLMARK_REGISTRY", &host)
        .env("HALLMARK_REGISTRY_USERNAME", "bob")
        .env("HALLMARK_REGISTRY_PASSWORD", "pl41n-pw")
        .output()
        .unwrap(),
    );
    assert_eq!(attest.code, 0, "{}", attest.stderr);
    std::fs::write(
        s.file("review.json"),
        review(&format!("{host}/demo/app:v1"), "default"),
    )
    .unwrap();
    let config = |docker_config: &str| {
        format!(
            "apiVersion: hallmark.dev/admission/v1\ntrust:\n  keys: [k.pub]\nregistries:\n  insecure: [\"{host}\"]\n{docker_config}rules:\n  - name: default\n"
        )
    };
    std::fs::write(
        s.file("pull.json"),
        json!({"auths": {host.clone(): {"username": "bob", "password": "pl41n-pw"}}}).to_string(),
    )
    .unwrap();
    std::fs::write(
        s.file("other.json"),
        json!({"auths": {"other.example:5000": {"username": "bob", "password": "pl41n-pw"}}})
            .to_string(),
    )
    .unwrap();
    std::fs::write(s.file("with.yaml"), config("  dockerConfig: pull.json\n")).unwrap();
    std::fs::write(s.file("without.yaml"), config("")).unwrap();
    std::fs::write(
        s.file("elsewhere.yaml"),
        config("  dockerConfig: other.json\n"),
    )
    .unwrap();

    let run = s.expect(&["admission", "review.json", "--config", "with.yaml"], 0);
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(
        !run.text().contains("pl41n-pw"),
        "the password is never printed"
    );
    for refused in ["without.yaml", "elsewhere.yaml"] {
        let run = s.expect(&["admission", "review.json", "--config", refused], 1);
        let answer: Value = serde_json::from_str(&run.stdout).unwrap();
        let message = answer["response"]["status"]["message"].as_str().unwrap();
        assert!(
            message.contains("admission.registry"),
            "{refused}: {message}"
        );
    }
}
