//! The test services behind one loopback HTTP port, speaking the real APIs:
//! OIDC discovery and JWKS (`/oidc`), Fulcio v2 `signingCert` (`/fulcio`), and Rekor v1
//! `log/entries` for `dsse` entries (`/rekor`). Each request is checked with real cryptography.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::{Decode, Encode};
use serde_json::{Value, json};

use crate::fulcio::{Identity, TestFulcio};
use crate::http::{Request, Response, serve};
use crate::log::{LogError, TransparencyLog};
use crate::oidc::{Issuer, verify_token};
use crate::tsa::TestTsa;

/// A deliberate misbehaviour, to prove clients check what services answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Fulcio certifies a different key than the one requested.
    FulcioWrongKey,
    /// Rekor returns a corrupted signed entry timestamp.
    RekorBadSet,
    /// Rekor returns an inclusion proof for another root.
    RekorBadProof,
}

/// Running services.
pub struct Services {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    issuer: Arc<Issuer>,
    fulcio: Arc<TestFulcio>,
    log: Arc<Mutex<TransparencyLog>>,
    tsa: Arc<TestTsa>,
}

fn json_response(status: u16, value: &Value) -> Response {
    (status, "application/json", value.to_string().into_bytes())
}

fn error(status: u16, message: &str) -> Response {
    json_response(status, &json!({"code": status, "message": message}))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The uncompressed P-256 point of a PEM `PUBLIC KEY` or `CERTIFICATE`.
fn p256_point(pem_text: &str) -> Option<Vec<u8>> {
    let block = pem::parse(pem_text).ok()?;
    let spki = match block.tag() {
        "CERTIFICATE" => x509_cert::Certificate::from_der(block.contents())
            .ok()?
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .ok()?,
        "PUBLIC KEY" => block.contents().to_vec(),
        _ => return None,
    };
    let spki = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(&spki).ok()?;
    spki.subject_public_key.as_bytes().map(<[u8]>::to_vec)
}

/// The P-256 point of a base64 PEM CSR whose self-signature verifies.
fn csr_point(b64_pem: &str) -> Option<Vec<u8>> {
    let pem_text = String::from_utf8(STANDARD.decode(b64_pem).ok()?).ok()?;
    let block = pem::parse(pem_text).ok()?;
    let csr = x509_cert::request::CertReq::from_der(block.contents()).ok()?;
    let info = csr.info.to_der().ok()?;
    let point = csr.info.public_key.subject_public_key.as_bytes()?.to_vec();
    let signature = csr.signature.as_bytes()?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point)
        .verify(&info, signature)
        .ok()?;
    Some(point)
}

impl Services {
    /// Starts the services on a free loopback port.
    pub fn start() -> Result<Self, LogError> {
        Self::start_with(Fault::None)
    }

    /// Starts services that misbehave as `fault` says.
    pub fn start_with(fault: Fault) -> Result<Self, LogError> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| LogError::Crypto(e.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|e| LogError::Crypto(e.to_string()))?
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let services = Services {
            issuer: Arc::new(Issuer::new(&format!("{url}/oidc"))?),
            fulcio: Arc::new(TestFulcio::new()?),
            tsa: Arc::new(TestTsa::new()?),
            log: Arc::new(Mutex::new(TransparencyLog::new(&format!(
                "127.0.0.1:{port}/rekor - 1"
            ))?)),
            url,
        };
        let tsa = services.tsa.clone();
        let (issuer, fulcio, log) = (
            services.issuer.clone(),
            services.fulcio.clone(),
            services.log.clone(),
        );
        serve(
            listener,
            Arc::new(move |r: &Request| {
                if r.method == "POST" && r.path == "/tsa/api/v1/timestamp" {
                    return match tsa.respond(&r.body) {
                        Ok(der) => (200, "application/timestamp-reply", der),
                        Err(e) => error(400, &e.to_string()),
                    };
                }
                route(r, &issuer, &fulcio, &log, fault)
            }),
        );
        Ok(services)
    }

    /// Mints an ID token from the test issuer.
    pub fn token(&self, claims: &Value) -> Result<String, LogError> {
        self.issuer.token(claims)
    }

    /// The trusted_root.json describing these services.
    pub fn trusted_root(&self) -> Value {
        let valid = json!({"start": "2020-01-01T00:00:00Z"});
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let ct = self.fulcio.ct_public_key_der();
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{"baseUrl": format!("{}/rekor", self.url), "hashAlgorithm": "SHA2_256",
                       "publicKey": {"rawBytes": STANDARD.encode(log.public_key_der()), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": valid},
                       "logId": {"keyId": STANDARD.encode(log.log_id())}}],
            "certificateAuthorities": [{"subject": {"organization": "hallmark-test", "commonName": "hallmark test fulcio root"},
                       "uri": format!("{}/fulcio", self.url),
                       "certChain": {"certificates": [{"rawBytes": STANDARD.encode(self.fulcio.root_der())}]}, "validFor": valid}],
            "ctlogs": [{"baseUrl": format!("{}/ct", self.url), "hashAlgorithm": "SHA2_256",
                       "publicKey": {"rawBytes": STANDARD.encode(ct), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": valid},
                       "logId": {"keyId": STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, ct).as_ref())}}],
            "timestampAuthorities": [{"subject": {"organization": "hallmark-test", "commonName": "hallmark test TSA"},
                       "uri": format!("{}/tsa/api/v1/timestamp", self.url),
                       "certChain": {"certificates": self.tsa.chain().iter().map(|c| json!({"rawBytes": STANDARD.encode(c)})).collect::<Vec<_>>()},
                       "validFor": valid}]
        })
    }

    /// A ClientTrustConfig (what sigstore-python's `--trust-config` takes) for these services.
    pub fn client_trust_config(&self) -> Value {
        let service = |path: &str| {
            json!({"url": format!("{}{path}", self.url), "majorApiVersion": 1,
                                          "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "hallmark-test"})
        };
        json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": self.trusted_root(),
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [service("/fulcio")], "oidcUrls": [service("/oidc")], "rekorTlogUrls": [service("/rekor")],
                "tsaUrls": [service("/tsa/api/v1/timestamp")], "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"}
            }
        })
    }
}

fn route(
    r: &Request,
    issuer: &Issuer,
    fulcio: &TestFulcio,
    log: &Mutex<TransparencyLog>,
    fault: Fault,
) -> Response {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/oidc/.well-known/openid-configuration") => {
            json_response(200, &issuer.discovery())
        }
        ("GET", "/oidc/jwks") => json_response(200, &issuer.jwks()),
        ("POST", "/fulcio/api/v2/signingCert") => signing_cert(r, issuer, fulcio, fault),
        ("POST", "/rekor/api/v1/log/entries") => log_entry(r, log, fault),
        ("GET", p) if p == "/actions/token" || p.starts_with("/actions/token/") => {
            actions_token(r, issuer)
        }
        _ => error(404, "not found"),
    }
}

/// The bearer the GitHub Actions stand-in expects in `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
pub const ACTIONS_RUNTIME_TOKEN: &str = "hallmark-test-runtime-token";

/// The commit the Actions token names unless the runtime URL names another.
pub const ACTIONS_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// Serves ID tokens the way the GitHub Actions runtime does (`{"value": JWT}` for a bearer).
/// The runtime URL is per job on GitHub; here `/actions/token/sha/<40 hex>` names the job's
/// commit (the `sha` claim, which Fulcio puts in the certificate), `/actions/token` the default.
fn actions_token(r: &Request, issuer: &Issuer) -> Response {
    if r.header("authorization") != Some(&format!("bearer {ACTIONS_RUNTIME_TOKEN}")) {
        return error(401, "bad runtime token");
    }
    let sha = match r.path.strip_prefix("/actions/token") {
        Some("") => ACTIONS_SHA,
        Some(rest) => match rest.strip_prefix("/sha/") {
            Some(hex) if hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => hex,
            _ => return error(404, "not found"),
        },
        None => return error(404, "not found"),
    };
    let claims = json!({
        "sub": "repo:acme/app:ref:refs/heads/main", "aud": "sigstore", "exp": now() + 300, "iat": now(),
        "job_workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
        "repository": "acme/app", "ref": "refs/heads/main", "sha": sha,
        "runner_environment": "github-hosted",
    });
    match issuer.token(&claims) {
        Ok(token) => json_response(200, &json!({"value": token})),
        Err(e) => error(500, &e.to_string()),
    }
}

/// Fulcio v2: verify the token and the proof of possession, issue a certificate with an SCT.
fn signing_cert(r: &Request, issuer: &Issuer, fulcio: &TestFulcio, fault: Fault) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
        return error(400, "body is not JSON");
    };
    let token = body["credentials"]["oidcIdentityToken"]
        .as_str()
        .unwrap_or("");
    let claims = match verify_token(
        token,
        &[(issuer.url().to_owned(), issuer.jwks())],
        "sigstore",
        now(),
    ) {
        Ok(c) => c,
        Err(e) => return error(401, &e.to_string()),
    };
    let subject = claims["sub"].as_str().unwrap_or("");
    // The key and its proof of possession: a signed PKCS#10 request, or a public key with a
    // signature over the token's subject.
    let point = if let Some(csr) = body["certificateSigningRequest"].as_str() {
        match csr_point(csr) {
            Some(p) => p,
            None => {
                return error(
                    400,
                    "certificateSigningRequest is not a P-256 CSR with a valid signature",
                );
            }
        }
    } else {
        let Some(point) = body["publicKeyRequest"]["publicKey"]["content"]
            .as_str()
            .and_then(p256_point)
        else {
            return error(
                400,
                "publicKeyRequest.publicKey.content must be a P-256 PEM public key",
            );
        };
        let proof = STANDARD
            .decode(
                body["publicKeyRequest"]["proofOfPossession"]
                    .as_str()
                    .unwrap_or(""),
            )
            .unwrap_or_default();
        if UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point)
            .verify(subject.as_bytes(), &proof)
            .is_err()
        {
            return error(
                400,
                "proof of possession does not verify over the token's subject",
            );
        }
        point
    };
    // GitLab's ID tokens (Fulcio's gitlab-pipeline mapping, config/identity/config.yaml): the
    // SAN and build signer are https://{ci_config_ref_uri}.
    if let Some(config_ref) = claims["ci_config_ref_uri"].as_str() {
        let url = "https://gitlab.com";
        let mut extensions = vec![(9, format!("https://{config_ref}"))];
        if let Some(p) = claims["project_path"].as_str() {
            extensions.push((12, format!("{url}/{p}")));
        }
        if let Some(sha) = claims["sha"].as_str() {
            extensions.push((13, sha.to_owned()));
        }
        if let (Some(kind), Some(r)) = (claims["ref_type"].as_str(), claims["ref"].as_str()) {
            let dir = if kind == "branch" { "heads" } else { "tags" };
            extensions.push((14, format!("refs/{dir}/{r}")));
        }
        if let Some(env) = claims["runner_environment"].as_str() {
            extensions.push((11, env.to_owned()));
        }
        let identity = Identity {
            san: format!("https://{config_ref}"),
            issuer: issuer.url().to_owned(),
            extensions,
        };
        return match fulcio.issue(&point, &identity, SystemTime::now()) {
            Ok(leaf) => json_response(
                200,
                &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
                    hallmark_model::keyid::pem_encode("CERTIFICATE", &leaf),
                    hallmark_model::keyid::pem_encode("CERTIFICATE", fulcio.root_der()),
                ]}}}),
            ),
            Err(e) => error(500, &e.to_string()),
        };
    }
    let san = match (
        claims["email"].as_str(),
        claims["job_workflow_ref"].as_str(),
    ) {
        (_, Some(workflow)) => format!("https://github.com/{workflow}"),
        (Some(email), None) => email.to_owned(),
        (None, None) if subject.contains("://") => subject.to_owned(),
        _ => {
            return error(
                400,
                "the token names no usable identity (email, job_workflow_ref or a URI subject)",
            );
        }
    };
    let mut extensions = Vec::new();
    if let Some(workflow) = claims["job_workflow_ref"].as_str() {
        extensions.push((9, format!("https://github.com/{workflow}")));
    }
    for (arc, claim, prefix) in [
        (11, "runner_environment", ""),
        (12, "repository", "https://github.com/"),
        (13, "sha", ""),
        (14, "ref", ""),
    ] {
        if let Some(v) = claims[claim].as_str() {
            extensions.push((arc, format!("{prefix}{v}")));
        }
    }
    let identity = Identity {
        san,
        issuer: issuer.url().to_owned(),
        extensions,
    };
    let point = if fault == Fault::FulcioWrongKey {
        match EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING) {
            Ok(k) => k.public_key().as_ref().to_vec(),
            Err(e) => return error(500, &e.to_string()),
        }
    } else {
        point
    };
    match fulcio.issue(&point, &identity, SystemTime::now()) {
        Ok(leaf) => json_response(
            200,
            &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
                hallmark_model::keyid::pem_encode("CERTIFICATE", &leaf),
                hallmark_model::keyid::pem_encode("CERTIFICATE", fulcio.root_der()),
            ]}}}),
        ),
        Err(e) => error(500, &e.to_string()),
    }
}

/// Rekor v1: accept a `dsse` entry whose signatures verify, log it, return it with its evidence.
fn log_entry(r: &Request, log: &Mutex<TransparencyLog>, fault: Fault) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
        return error(400, "body is not JSON");
    };
    if body["kind"] != "dsse" || body["apiVersion"] != "0.0.1" {
        return error(400, "only dsse 0.0.1 entries are accepted");
    }
    let content = &body["spec"]["proposedContent"];
    let envelope_text = content["envelope"].as_str().unwrap_or("");
    let Ok(envelope) = hallmark_model::dsse::Envelope::from_slice(envelope_text.as_bytes()) else {
        return error(400, "proposedContent.envelope is not a DSSE envelope");
    };
    let Some(verifier_pem) = content["verifiers"][0]
        .as_str()
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
    else {
        return error(400, "proposedContent.verifiers[0] must be base64 PEM");
    };
    let Some(point) = p256_point(&verifier_pem) else {
        return error(400, "unusable verifier");
    };
    let pae = envelope.signed_bytes();
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &point);
    if envelope.signatures.is_empty()
        || envelope
            .signatures
            .iter()
            .any(|s| key.verify(&pae, &s.sig).is_err())
    {
        return error(
            400,
            "the envelope's signatures do not verify with the verifier",
        );
    }
    let sigs: Vec<Vec<u8>> = envelope.signatures.iter().map(|s| s.sig.clone()).collect();
    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
    let mut logged = match log.append_dsse(
        envelope_text.as_bytes(),
        &envelope.payload,
        &sigs,
        &verifier_pem,
        now(),
    ) {
        Ok(l) => l,
        Err(e) => return error(500, &e.to_string()),
    };
    match fault {
        Fault::RekorBadSet => {
            if let Some(b) = logged.signed_entry_timestamp.last_mut() {
                *b ^= 1;
            }
        }
        Fault::RekorBadProof => logged.root_hash[0] ^= 1,
        _ => {}
    }
    let hex = hallmark_model::hex::encode;
    let uuid = hex(&crate::log::leaf_hash(&logged.body));
    json_response(
        201,
        &json!({ uuid: {
            "body": STANDARD.encode(&logged.body),
            "integratedTime": logged.integrated_time,
            "logID": hex(&log.log_id()),
            "logIndex": logged.log_index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": logged.checkpoint,
                    "hashes": logged.proof.iter().map(|h| hex(h)).collect::<Vec<_>>(),
                    "logIndex": logged.log_index,
                    "rootHash": hex(&logged.root_hash),
                    "treeSize": logged.tree_size,
                },
                "signedEntryTimestamp": STANDARD.encode(&logged.signed_entry_timestamp),
            }
        }}),
    )
}
