//! The pieces the webhook tests share: a test PKI, the running server, a registry with signed
//! images, and reviews made from real objects.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hallmark_attester::ci::CiContext;
use hallmark_attester::keys::SigningKey;
use hallmark_attester::provenance::job::job_provenance;
use hallmark_attester::signer::{KeySigner, Signer};
use hallmark_model::keyid::KeyKind;
use hallmark_model::provenance::SLSA_PROVENANCE_V1;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_remote::registry::attestations::RegistryAttestations;
use hallmark_remote::registry::client::{ClientOptions, RegistryClient};
use hallmark_remote::registry::reference::Reference;
use hallmark_testsvc::registry::{Registry, push_image};
use serde_json::{Value, json};

/// A CA and the serving certificate it issued for `localhost` and 127.0.0.1.
pub struct Pki {
    pub ca_pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Issues a fresh CA and serving certificate into `dir` (`tls.crt`, `tls.key`), replacing
/// what is there the way a Secret update does (write aside, rename).
pub fn issue(dir: &Path, name: &str) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("hallmark test CA {name}"),
    );
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "hallmark-webhook");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, leaf_key.serialize_pem()).unwrap();
    std::fs::rename(&tmp, &key).unwrap();
    std::fs::write(&tmp, leaf_cert.pem()).unwrap();
    std::fs::rename(&tmp, &cert).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        cert,
        key,
    }
}

/// The running `hallmark-webhook`; killed on drop.
pub struct Webhook {
    pub child: Child,
    pub port: u16,
    pub admin: u16,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Webhook {
    /// Starts the binary with `config` and the certificate of `pki`, and waits until it serves.
    pub fn start(config: &Path, pki: &Pki, extra: &[&str]) -> Webhook {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallmark-webhook"))
            .arg("--config")
            .arg(config)
            .arg("--tls-cert")
            .arg(&pki.cert)
            .arg("--tls-key")
            .arg(&pki.key)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .args(["--watch-interval", "200ms"])
            .args(if extra.contains(&"--shutdown-delay") {
                &[][..]
            } else {
                &["--shutdown-delay", "0s"][..]
            })
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("\"serving\"") {
                    let _ = tx.send(line.clone());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let serving = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the webhook did not start serving");
        let v: Value = serde_json::from_str(&serving).unwrap();
        let port = |k: &str| -> u16 {
            v[k].as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        Webhook {
            port: port("admission"),
            admin: port("admin"),
            child,
            lines,
        }
    }

    /// POSTs a review to `path` over HTTPS, trusting `ca_pem`; the answer's `response`.
    pub fn post(&self, ca_pem: &str, path: &str, review: &Value) -> Value {
        self.try_post(ca_pem, path, review).unwrap()
    }

    /// [`Webhook::post`], or the error sending failed with (a server that stops reading an
    /// oversized body may close the connection while the client is still writing it).
    pub fn try_post(&self, ca_pem: &str, path: &str, review: &Value) -> Result<Value, ureq::Error> {
        let agent =
            hallmark_remote::http::agent(Some(ca_pem.as_bytes()), Some(Duration::from_secs(30)))
                .unwrap();
        let mut response = agent
            .post(&format!("https://localhost:{}{path}", self.port))
            .header("Content-Type", "application/json")
            .send(serde_json::to_vec(review).unwrap())?;
        assert_eq!(response.status(), 200);
        let answer: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(answer["kind"], "AdmissionReview");
        Ok(answer["response"].clone())
    }

    /// A TLS request that only checks the handshake against `ca_pem`.
    pub fn handshake(&self, ca_pem: &str) -> Result<(), String> {
        let agent =
            hallmark_remote::http::agent(Some(ca_pem.as_bytes()), Some(Duration::from_secs(5)))
                .unwrap();
        agent
            .get(&format!("https://localhost:{}/livez", self.port))
            .call()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// GET on the admin port: status and body.
    pub fn admin(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.admin)).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text
            .split_once("\r\n\r\n")
            .map(|x| x.1)
            .unwrap_or("")
            .to_owned();
        (status, body)
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until `check` holds (polling), or fails with `what`.
    pub fn eventually(&self, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if check() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{what} did not happen; log:\n{}", self.log().join("\n"));
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A metric's value in the text exposition (0 when absent).
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// A registry with images, and the key that signs their provenance.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub registry: Registry,
    pub host: String,
    signer: KeySigner,
    pub pki: Pki,
    pub config: PathBuf,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::start(&dir.path().join("registry").tap_mkdir()).unwrap();
        let host = registry.host();
        let key = SigningKey::generate(KeyKind::EcdsaP256).unwrap();
        std::fs::write(dir.path().join("release.pub"), key.public_key_pem()).unwrap();
        let pki = issue(dir.path(), "first");
        let config = dir.path().join("config.yaml");
        Fixture {
            dir,
            registry,
            host,
            signer: KeySigner::new(key),
            pki,
            config,
        }
    }

    /// Pushes an image `repo:tag`; signs SLSA provenance for it when `signed`. Returns the
    /// manifest digest.
    pub fn image(&self, repo_tag: &str, signed: bool) -> String {
        let dest = format!("{}/{repo_tag}", self.host);
        let digest = push_image(self.dir.path(), &dest, repo_tag).unwrap();
        if signed {
            let reference: Reference = format!("oci://{dest}").parse().unwrap();
            let client = RegistryClient::new(ClientOptions {
                insecure_hosts: vec![self.host.clone()],
                ..ClientOptions::default()
            })
            .unwrap();
            let attestations = RegistryAttestations::new(&client);
            let resolved = attestations.resolve(&reference).unwrap();
            let hex = digest.strip_prefix("sha256:").unwrap();
            let subject = ResourceDescriptor::named(
                format!("{}/{}", reference.registry, reference.repository),
                BTreeMap::from([("sha256".to_owned(), hex.to_owned())]),
            );
            let ci = CiContext::detect(&BTreeMap::new());
            let predicate = job_provenance(&ci, None, None).unwrap().to_value();
            let statement = Statement::new(vec![subject], SLSA_PROVENANCE_V1, predicate).unwrap();
            let bundle = self.signer.sign_statement(&statement).unwrap();
            attestations
                .push(
                    &resolved,
                    &serde_json::to_vec(&bundle).unwrap(),
                    &BTreeMap::new(),
                )
                .unwrap();
        }
        digest
    }

    /// Writes the configuration; `rules` is the YAML list under `rules:`.
    pub fn write_config(&self, deadline: &str, rules: &str) {
        self.write_config_trusting(deadline, "", rules);
    }

    /// [`Self::write_config`] with more lines under `trust:` (each `  key: value\n`).
    pub fn write_config_trusting(&self, deadline: &str, trust: &str, rules: &str) {
        let text = format!(
            "apiVersion: hallmark.dev/admission/v1\ndeadline: {deadline}\ntrust:\n  keys: [release.pub]\n{trust}registries:\n  insecure: [\"{}\", \"127.0.0.1:1\"]\ncache:\n  ttl: 10m\n  denyTtl: 1s\nexempt:\n  namespaces: [kube-system]\n  images: [\"{}/exempt/*\"]\nrules:\n{rules}",
            self.host, self.host
        );
        let tmp = self.dir.path().join(".config.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &self.config).unwrap();
    }

    /// A revocation list `file` (series `plant`, `sequence`) of these artifact digests, signed by
    /// the release key (the configuration's trust, so its default revocation signer).
    pub fn revocation_list(&self, file: &str, sequence: u64, digests: &[&str]) {
        use hallmark_model::revocation::{Entry, Kind, REVOCATION_V1, RevocationList};
        use hallmark_model::time::Timestamp;
        let now = Timestamp::new(std::time::SystemTime::now())
            .unwrap()
            .whole_seconds();
        let list = RevocationList {
            name: "plant".into(),
            sequence,
            issued: Timestamp::new(now.time() - Duration::from_secs(60)).unwrap(),
            expires: Some(Timestamp::new(now.time() + Duration::from_secs(86_400)).unwrap()),
            entries: digests
                .iter()
                .map(|d| Entry {
                    kind: Kind::Artifact,
                    value: (*d).to_owned(),
                    issuer: None,
                    reason: "recalled".into(),
                    effective: Timestamp::new(now.time() - Duration::from_secs(60)).unwrap(),
                })
                .collect(),
        };
        let content = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &list.content_bytes());
        let hex: String = content
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let subject = ResourceDescriptor::named(
            list.subject_name(),
            BTreeMap::from([("sha256".to_owned(), hex)]),
        );
        let statement = Statement::new(vec![subject], REVOCATION_V1, list.to_value()).unwrap();
        let bundle = self.signer.sign_statement(&statement).unwrap();
        std::fs::write(self.dir.path().join(file), bundle.to_json()).unwrap();
    }

    pub fn start(&self) -> Webhook {
        Webhook::start(&self.config, &self.pki, &[])
    }
}

/// The default rules: enforce everywhere except `relaxed` (warn), `quiet` (audit) and
/// `lenient` (failOpen).
pub const RULES: &str = "  - name: relaxed\n    namespaces: [relaxed]\n    mode: warn\n  - name: quiet\n    namespaces: [quiet]\n    mode: audit\n  - name: lenient\n    namespaces: [lenient]\n    failOpen: true\n  - name: default\n    namespaces: [\"*\"]\n    images: [\"**\"]\n    mode: enforce\n";

trait MkDir {
    fn tap_mkdir(self) -> Self;
}

impl MkDir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

/// A loopback stand-in for the API server's discovery documents (`/api`, `/apis`, `/api/v1`),
/// the only thing `kubectl run --dry-run=client` asks a server for (to map `Pod` to its
/// resource). The object itself is kubectl's own. Returns the kubeconfig that points at it.
fn discovery() -> &'static Path {
    static KUBECONFIG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    KUBECONFIG.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let path = head.split_whitespace().nth(1).unwrap_or("").split('?').next().unwrap_or("");
                let body = match path {
                    "/api" => json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
                    "/apis" => json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
                    "/api/v1" => json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [{"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": ["create", "get"]}]}),
                    _ => {
                        let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        continue;
                    }
                };
                let body = body.to_string();
                let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        let dir = std::env::temp_dir().join(format!("hallmark-kubeconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(&path, format!("apiVersion: v1\nkind: Config\nclusters: [{{name: stub, cluster: {{server: \"http://127.0.0.1:{port}\"}}}}]\ncontexts: [{{name: stub, context: {{cluster: stub, namespace: default, user: stub}}}}]\ncurrent-context: stub\nusers: [{{name: stub, user: {{token: none}}}}]\n")).unwrap();
        path
    })
}

/// `kubectl ARGS --dry-run=client -o json`: a real object as kubectl would send it.
pub fn kubectl(args: &[&str]) -> Value {
    let cache = std::env::temp_dir().join(format!("hallmark-kubectl-cache-{}", std::process::id()));
    let out = Command::new("kubectl")
        .args(args)
        .args(["--dry-run=client", "-o", "json"])
        .arg("--cache-dir")
        .arg(cache)
        .env("KUBECONFIG", discovery())
        .output()
        .expect("kubectl is not installed: run scripts/install-test-deps.sh");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Wraps `object` in an AdmissionReview v1 request, as the API server sends it.
pub fn review(object: &Value, namespace: &str, operation: &str) -> Value {
    let kind = object["kind"].as_str().unwrap();
    let (group, version) = match object["apiVersion"].as_str().unwrap().split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (
            String::new(),
            object["apiVersion"].as_str().unwrap().to_owned(),
        ),
    };
    let resource = format!("{}s", kind.to_lowercase());
    let uid = format!("{:032x}", rand_u128());
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object["metadata"]["name"],
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": if operation == "UPDATE" { object.clone() } else { Value::Null },
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": if operation == "UPDATE" { "UpdateOptions" } else { "CreateOptions" }, "fieldManager": "kubectl-client-side-apply"}
        }
    })
}

fn rand_u128() -> u128 {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    u128::from_le_bytes(b)
}

/// The JSONPatch of a mutating answer, decoded.
pub fn patch_of(response: &Value) -> Value {
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(response["patch"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The deny message of an answer.
pub fn message(response: &Value) -> String {
    response["status"]["message"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}
