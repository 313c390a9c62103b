//! examples/kubernetes: rendered with `kubectl kustomize` and validated offline against the
//! Kubernetes OpenAPI schemas with `kubernetes-validate --strict` (cert-manager's kinds have no
//! schema there: the tool warns for exactly those, and the test holds it to that), plus the
//! properties the gate depends on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hallmark_admission::config::Config;
use serde_json::Value;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/kubernetes")
}

fn validator() -> PathBuf {
    let venv = std::env::var_os("HALLMARK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/hallmark/venv")
        });
    let tool = venv.join("bin/kubernetes-validate");
    assert!(
        tool.exists(),
        "{} is missing: run scripts/install-test-deps.sh",
        tool.display()
    );
    tool
}

fn render(dir: &Path) -> String {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kustomize: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs kubernetes-validate --strict on `yaml`: exit status and output.
fn validate(yaml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(validator())
        .arg("--strict")
        .arg(&file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn documents(yaml: &str) -> Vec<Value> {
    use serde::Deserialize;
    yaml_serde::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap())
        .collect()
}

#[test]
fn the_manifests_render_and_validate_against_the_kubernetes_schemas() {
    let yaml = render(&examples());
    let (ok, report) = validate(&yaml);
    assert!(ok, "{report}");
    let docs = documents(&yaml);
    for d in &docs {
        let (kind, api) = (
            d["kind"].as_str().unwrap(),
            d["apiVersion"].as_str().unwrap(),
        );
        let name = d["metadata"]["name"].as_str().unwrap();
        if api.starts_with("cert-manager.io/") {
            assert!(
                report.contains(&format!(
                    "Couldn't find schema for kind {kind} with api version {api}"
                )),
                "{report}"
            );
        } else {
            let line = format!("passed for resource {}/{name}", kind.to_lowercase());
            assert!(report.contains(&line), "{line} not in {report}");
        }
    }
    assert_eq!(
        report.matches("WARN").count(),
        2,
        "only cert-manager's kinds go unchecked: {report}"
    );
}

#[test]
fn a_broken_manifest_fails_validation() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(examples()).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let deployment = dir.path().join("deployment.yaml");
    let text = std::fs::read_to_string(&deployment).unwrap();
    std::fs::write(
        &deployment,
        text.replace(
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: true\n            readOnlyRootFS: true",
        ),
    )
    .unwrap();
    let (ok, report) = validate(&render(dir.path()));
    assert!(!ok, "an unknown field passed --strict: {report}");
}

#[test]
fn the_manifests_hold_what_the_gate_depends_on() {
    let docs = documents(&render(&examples()));
    let find = |kind: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let config = Config::load(
        &examples().join("config.yaml"),
        std::time::SystemTime::now(),
    )
    .unwrap();
    for kind in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        let hook = &find(kind)["webhooks"][0];
        assert_eq!(hook["failurePolicy"], "Fail", "{kind}");
        assert_eq!(hook["sideEffects"], "None", "{kind}");
        let timeout = hook["timeoutSeconds"].as_u64().unwrap();
        assert!(
            config.deadline < Duration::from_secs(timeout),
            "the deadline must be below timeoutSeconds"
        );
        let exempt = &hook["namespaceSelector"]["matchExpressions"][0];
        assert_eq!(exempt["operator"], "NotIn");
        assert_eq!(
            exempt["values"],
            serde_json::json!(["kube-system", "hallmark-system"])
        );
        let resources: Vec<&str> = hook["rules"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
            })
            .collect();
        for r in [
            "pods",
            "pods/ephemeralcontainers",
            "deployments",
            "replicasets",
            "statefulsets",
            "daemonsets",
            "jobs",
            "cronjobs",
            "replicationcontrollers",
        ] {
            assert!(resources.contains(&r), "{kind} misses {r}");
        }
    }
    let deployment = find("Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert!(
        c["resources"]["limits"]["memory"].is_string()
            && c["resources"]["limits"]["cpu"].is_string()
    );
    assert_eq!(find("PodDisruptionBudget")["spec"]["minAvailable"], 1);
    assert_eq!(find("Service")["spec"]["ports"][0]["targetPort"], "https");
    assert!(docs.iter().any(|d| d["kind"] == "Certificate"));
}
