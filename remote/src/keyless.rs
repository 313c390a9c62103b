//! Keyless signing: an OIDC identity token buys a short-lived Fulcio certificate for an ephemeral
//! key; the DSSE signature goes to Rekor; the returned entry (proof, checkpoint, SET) and the
//! certificate are verified against the trust root before any bundle is written.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hallmark_attester::keys::SigningKey;
use hallmark_attester::signer::Signer;
use hallmark_model::asn1::tlv;
use hallmark_model::bundle::{
    BUNDLE_V0_3, Bundle, Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId,
    TransparencyLogEntry, VerificationMaterial, X509Certificate,
};
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::dsse::{Envelope, Signature, pae};
use hallmark_model::keyid::KeyKind;
use hallmark_model::signing_config::SigningConfig;
use hallmark_model::statement::Statement;
use hallmark_verifier::sigstore::certificate::LeafCertificate;
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher};
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use hallmark_verifier::sigstore::verify::{Artifact, SignerTrust, verify_bundle};
use serde_json::{Value, json};
use ureq::Agent;
use ureq::http::{Request, StatusCode};

/// Largest service response read.
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// Where and as whom to sign.
#[derive(Debug, Clone)]
pub struct KeylessConfig {
    /// Fulcio base URL (`https://fulcio.sigstore.dev`).
    pub fulcio_url: String,
    /// Rekor base URL (`https://rekor.sigstore.dev`).
    pub rekor_url: String,
    /// The OIDC identity token (never logged).
    pub token: String,
    /// The trust root the returned certificate and log entry must verify against.
    pub trust_root: TrustRoot,
    /// An RFC 3161 time-stamping authority to countersign the signature (optional).
    pub timestamp_url: Option<String>,
}

/// Major API versions of the certificate authorities this signer speaks (Fulcio's
/// `/api/v2/signingCert` belongs to its API version 1).
pub const CA_API_VERSIONS: &[u32] = &[1];
/// Major API versions of the transparency logs this signer writes to (Rekor v1's
/// `/api/v1/log/entries`).
pub const REKOR_API_VERSIONS: &[u32] = &[1];
/// Major API versions of the RFC 3161 timestamp authorities this signer asks.
pub const TSA_API_VERSIONS: &[u32] = &[1];

/// The services one keyless signature uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// Fulcio base URL.
    pub fulcio_url: String,
    /// Rekor base URL.
    pub rekor_url: String,
    /// The timestamp authority, if any.
    pub timestamp_url: Option<String>,
}

impl Services {
    /// The services `config` selects at `now` for the API versions this signer speaks. A
    /// configuration that asks for several logs or timestamp authorities is refused: this signer
    /// writes one log entry and asks one authority, and doing less than asked would be silent.
    pub fn from_signing_config(
        config: &SigningConfig,
        now: SystemTime,
    ) -> Result<Services, crate::Error> {
        let fulcio = config.certificate_authority(now, CA_API_VERSIONS)?;
        let logs = config.transparency_logs(now, REKOR_API_VERSIONS)?;
        let tsas = config.timestamp_authorities(now, TSA_API_VERSIONS)?;
        let rekor = match logs.as_slice() {
            [one] => one,
            _ => {
                return Err(crate::Error::ServiceSelection {
                    kind: "rekorTlogUrls",
                    selected: logs.len(),
                });
            }
        };
        if tsas.len() > 1 {
            return Err(crate::Error::ServiceSelection {
                kind: "tsaUrls",
                selected: tsas.len(),
            });
        }
        Ok(Services {
            fulcio_url: fulcio.url.clone(),
            rekor_url: rekor.url.clone(),
            timestamp_url: tsas.first().map(|s| s.url.clone()),
        })
    }
}

/// A keyless signer.
pub struct KeylessSigner {
    agent: Agent,
    config: KeylessConfig,
    identity: String,
}

impl std::fmt::Debug for KeylessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeylessSigner")
            .field("fulcio", &self.config.fulcio_url)
            .field("rekor", &self.config.rekor_url)
            .finish_non_exhaustive()
    }
}

fn fail(message: impl Into<String>) -> hallmark_attester::Error {
    hallmark_attester::Error::Signing(message.into())
}

/// The claims of a JWT, unverified (Fulcio verifies it; we only need `sub` for the proof of
/// possession and the identity for messages).
pub fn token_claims(token: &str) -> Result<Value, String> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or("the identity token is not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "the identity token is not base64url")?;
    serde_json::from_slice(&bytes)
        .map_err(|_| "the identity token's claims are not JSON".to_owned())
}

/// A PKCS#10 certification request for `key` with an empty subject (Fulcio takes the identity
/// from the token); its signature is the proof of possession.
pub fn certificate_request(key: &SigningKey) -> hallmark_attester::Result<Vec<u8>> {
    let info = tlv(
        0x30,
        &[
            tlv(0x02, &[0]),
            tlv(0x30, &[]),
            key.public_key_der().to_vec(),
            tlv(0xa0, &[]),
        ]
        .concat(),
    );
    let signature = key.sign(&info)?;
    // ecdsa-with-SHA256 1.2.840.10045.4.3.2
    let algorithm = tlv(
        0x30,
        &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    );
    let bits = [&[0u8][..], &signature].concat();
    Ok(tlv(0x30, &[info, algorithm, tlv(0x03, &bits)].concat()))
}

/// A DER RFC 3161 TimeStampReq for the SHA-256 of `message`, asking for the TSA certificate.
pub fn timestamp_request(message: &[u8]) -> Vec<u8> {
    // id-sha256 2.16.840.1.101.3.4.2.1 with NULL parameters.
    let sha256 = tlv(
        0x30,
        &[
            tlv(
                0x06,
                &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let hashed = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
    let imprint = tlv(0x30, &[sha256, tlv(0x04, hashed.as_ref())].concat());
    tlv(
        0x30,
        &[tlv(0x02, &[1]), imprint, tlv(0x01, &[0xff])].concat(),
    )
}

/// The GitHub Actions OIDC token for audience `sigstore`, when the job may request one
/// (`ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN` set by `permissions: id-token: write`).
pub fn github_actions_token(
    agent: &Agent,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<Option<String>, crate::Error> {
    let (Some(url), Some(bearer)) = (
        env.get("ACTIONS_ID_TOKEN_REQUEST_URL"),
        env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        return Ok(None);
    };
    let err = |m: String| crate::Error::Registry {
        registry: "GitHub Actions token service".into(),
        message: m,
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let request = Request::builder()
        .method("GET")
        .uri(format!("{url}{separator}audience=sigstore"))
        .header("Authorization", format!("bearer {bearer}"))
        .header("Accept", "application/json")
        .body(Vec::new())
        .map_err(|e| err(e.to_string()))?;
    let mut response = agent.run(request).map_err(|e| err(e.to_string()))?;
    if !response.status().is_success() {
        return Err(err(format!("token request refused: {}", response.status())));
    }
    let bytes = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .map_err(|e| err(e.to_string()))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| err("the token answer is not JSON".into()))?;
    value["value"]
        .as_str()
        .map(|t| Some(t.to_owned()))
        .ok_or_else(|| err("the token answer has no value".into()))
}

impl KeylessSigner {
    /// A signer; fails early when the token cannot be read.
    pub fn new(agent: Agent, config: KeylessConfig) -> Result<Self, String> {
        let claims = token_claims(&config.token)?;
        let identity = claims["email"]
            .as_str()
            .or(claims["sub"].as_str())
            .unwrap_or("(unknown)")
            .to_owned();
        Ok(KeylessSigner {
            agent,
            config,
            identity,
        })
    }

    fn post(
        &self,
        url: &str,
        body: &Value,
        bearer: Option<&str>,
    ) -> hallmark_attester::Result<(StatusCode, Value)> {
        let mut builder = Request::builder()
            .method("POST")
            .uri(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        if let Some(token) = bearer {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        let request = builder
            .body(body.to_string().into_bytes())
            .map_err(|e| fail(e.to_string()))?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| fail(format!("POST {url}: {e}")))?;
        let status = response.status();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| fail(format!("reading the answer of {url}: {e}")))?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    fn certificate(&self, key: &SigningKey) -> hallmark_attester::Result<Vec<u8>> {
        let claims = token_claims(&self.config.token).map_err(fail)?;
        let subject = claims["sub"]
            .as_str()
            .ok_or_else(|| fail("the identity token has no sub claim"))?;
        let proof = key.sign(subject.as_bytes())?;
        let request = json!({
            "credentials": {"oidcIdentityToken": self.config.token},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": key.public_key_pem()},
                "proofOfPossession": STANDARD.encode(proof),
            }
        });
        let url = format!(
            "{}/api/v2/signingCert",
            self.config.fulcio_url.trim_end_matches('/')
        );
        let (status, answer) = self.post(&url, &request, None)?;
        if !status.is_success() {
            return Err(fail(format!(
                "Fulcio refused the certificate ({status}): {}",
                answer["message"].as_str().unwrap_or("")
            )));
        }
        let chain = answer["signedCertificateEmbeddedSct"]["chain"]["certificates"]
            .as_array()
            .or_else(|| answer["signedCertificateDetachedSct"]["chain"]["certificates"].as_array())
            .ok_or_else(|| fail("Fulcio's answer has no certificate chain"))?;
        let leaf_pem = chain
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| fail("Fulcio's chain is empty"))?;
        let leaf = pem::parse(leaf_pem)
            .map_err(|e| fail(format!("Fulcio's certificate: {e}")))?
            .into_contents();
        let parsed = LeafCertificate::parse(&leaf).map_err(|e| fail(e.to_string()))?;
        if parsed.key.spki_der() != key.public_key_der() {
            return Err(fail("Fulcio's certificate is not for our key"));
        }
        Ok(leaf)
    }

    fn timestamp(&self, url: &str, signature: &[u8]) -> hallmark_attester::Result<Vec<u8>> {
        let request = Request::builder()
            .method("POST")
            .uri(url)
            .header("Content-Type", "application/timestamp-query")
            .body(timestamp_request(signature))
            .map_err(|e| fail(e.to_string()))?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| fail(format!("POST {url}: {e}")))?;
        if !response.status().is_success() {
            return Err(fail(format!(
                "the timestamp authority refused ({})",
                response.status()
            )));
        }
        response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_vec()
            .map_err(|e| fail(format!("reading the timestamp: {e}")))
    }

    fn log(
        &self,
        envelope: &Envelope,
        leaf: &[u8],
    ) -> hallmark_attester::Result<TransparencyLogEntry> {
        let envelope_json = serde_json::to_string(envelope).map_err(|e| fail(e.to_string()))?;
        let leaf_pem = hallmark_model::keyid::pem_encode("CERTIFICATE", leaf);
        let request = json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": {
            "envelope": envelope_json, "verifiers": [STANDARD.encode(leaf_pem)]}}});
        let url = format!(
            "{}/api/v1/log/entries",
            self.config.rekor_url.trim_end_matches('/')
        );
        let (status, answer) = self.post(&url, &request, None)?;
        if status != StatusCode::CREATED && !status.is_success() {
            return Err(fail(format!(
                "Rekor refused the entry ({status}): {}",
                answer["message"].as_str().unwrap_or("")
            )));
        }
        let (_, entry) = answer
            .as_object()
            .and_then(|m| m.iter().next())
            .ok_or_else(|| fail("Rekor's answer holds no entry"))?;
        let hex = |v: &Value| -> hallmark_attester::Result<Vec<u8>> {
            v.as_str()
                .and_then(hallmark_model::hex::decode)
                .ok_or_else(|| fail("Rekor's answer lacks a hex field or has malformed hex"))
        };
        let b64 = |v: &Value| {
            STANDARD
                .decode(v.as_str().unwrap_or(""))
                .map_err(|_| fail("Rekor's answer has malformed base64"))
        };
        let proof = &entry["verification"]["inclusionProof"];
        Ok(TransparencyLogEntry {
            log_index: entry["logIndex"]
                .as_i64()
                .ok_or_else(|| fail("Rekor's answer has no logIndex"))?,
            log_id: LogId {
                key_id: hex(&entry["logID"])?,
            },
            kind_version: KindVersion {
                kind: "dsse".into(),
                version: "0.0.1".into(),
            },
            integrated_time: entry["integratedTime"]
                .as_i64()
                .ok_or_else(|| fail("Rekor's answer has no integratedTime"))?,
            inclusion_promise: Some(InclusionPromise {
                signed_entry_timestamp: b64(&entry["verification"]["signedEntryTimestamp"])?,
            }),
            inclusion_proof: Some(InclusionProof {
                log_index: proof["logIndex"]
                    .as_i64()
                    .ok_or_else(|| fail("Rekor's proof has no logIndex"))?,
                root_hash: hex(&proof["rootHash"])?,
                tree_size: proof["treeSize"]
                    .as_i64()
                    .ok_or_else(|| fail("Rekor's proof has no treeSize"))?,
                hashes: proof["hashes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(hex)
                    .collect::<Result<_, _>>()?,
                checkpoint: proof["checkpoint"].as_str().map(|c| Checkpoint {
                    envelope: c.to_owned(),
                }),
            }),
            canonicalized_body: b64(&entry["body"])?,
        })
    }
}

impl Signer for KeylessSigner {
    fn oidc_claim(&self, name: &str) -> Option<String> {
        let claims = token_claims(&self.config.token).ok()?;
        claims.get(name)?.as_str().map(str::to_owned)
    }

    fn sign_dsse(&self, payload_type: &str, payload: &[u8]) -> hallmark_attester::Result<Bundle> {
        let key = SigningKey::generate(KeyKind::EcdsaP256)?;
        let leaf = self.certificate(&key)?;
        let envelope = Envelope {
            payload: payload.to_vec(),
            payload_type: payload_type.to_owned(),
            signatures: vec![Signature {
                keyid: String::new(),
                sig: key.sign(&pae(payload_type, payload))?,
            }],
        };
        let entry = self.log(&envelope, &leaf)?;
        let mut timestamps = Vec::new();
        if let Some(url) = &self.config.timestamp_url {
            let signature = envelope
                .signatures
                .first()
                .map(|s| s.sig.clone())
                .unwrap_or_default();
            timestamps.push(hallmark_model::bundle::Rfc3161Timestamp {
                signed_timestamp: self.timestamp(url, &signature)?,
            });
        }
        let bundle = Bundle {
            media_type: BUNDLE_V0_3.to_owned(),
            verification_material: VerificationMaterial {
                certificate: Some(X509Certificate {
                    raw_bytes: leaf.clone(),
                }),
                tlog_entries: vec![entry],
                timestamp_verification_data: hallmark_model::bundle::TimestampVerificationData {
                    rfc3161_timestamps: timestamps,
                },
                ..Default::default()
            },
            dsse_envelope: Some(envelope),
            message_signature: None,
        };
        // Nothing is written unless what the services returned verifies end to end.
        let parsed = LeafCertificate::parse(&leaf).map_err(|e| fail(e.to_string()))?;
        let identity = parsed.identities.first().cloned().unwrap_or_default();
        let policy = IdentityPolicy {
            identity: Matcher::Exact(identity),
            issuer: Matcher::Exact(parsed.issuer().unwrap_or("").to_owned()),
            extensions: Vec::new(),
        };
        let statement = Statement::from_slice(payload).map_err(|e| fail(e.to_string()))?;
        let subject = statement
            .subject
            .first()
            .and_then(|s| s.digest.get("sha256"))
            .ok_or_else(|| fail("the statement has no sha256 subject"))?;
        let digest =
            Digest::from_hex(DigestAlgorithm::Sha256, subject).map_err(|e| fail(e.to_string()))?;
        verify_bundle(
            &bundle.to_json(),
            Artifact {
                sha256: &digest,
                bytes: None,
            },
            &self.config.trust_root,
            SignerTrust::Identity(&policy),
            SystemTime::now(),
        )
        .map_err(|e| {
            fail(format!(
                "the signed bundle does not verify against the trust root: {}: {e}",
                e.code()
            ))
        })?;
        Ok(bundle)
    }

    fn identity(&self) -> String {
        format!(
            "keyless identity {} (Fulcio {})",
            self.identity, self.config.fulcio_url
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;

    fn config(rekor_selector: Value, tsas: usize) -> SigningConfig {
        let service = |url: &str, operator: &str| json!({"url": url, "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": operator});
        let tsa_urls: Vec<Value> = (0..tsas)
            .map(|i| {
                service(
                    &format!("https://tsa{i}.example/api/v1/timestamp"),
                    &format!("op{i}"),
                )
            })
            .collect();
        let doc = json!({
            "mediaType": hallmark_model::signing_config::SIGNING_CONFIG_V0_2,
            "caUrls": [service("https://fulcio.example", "a")],
            "rekorTlogUrls": [
                service("https://rekor-a.example", "a"),
                service("https://rekor-b.example", "b"),
                // Rekor v2 speaks another API: never chosen by this signer.
                {"url": "https://rekor-v2.example", "majorApiVersion": 2, "validFor": {"start": "2021-01-01T00:00:00Z"}, "operator": "a"},
            ],
            "rekorTlogConfig": rekor_selector,
            "tsaUrls": tsa_urls,
            "tsaConfig": {"selector": "ALL"},
        });
        SigningConfig::from_slice(&serde_json::to_vec(&doc).unwrap()).unwrap()
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_272_000)
    }

    #[test]
    fn one_log_and_at_most_one_timestamp_authority() {
        let services =
            Services::from_signing_config(&config(json!({"selector": "ANY"}), 1), now()).unwrap();
        assert_eq!(
            services,
            Services {
                fulcio_url: "https://fulcio.example".into(),
                rekor_url: "https://rekor-a.example".into(),
                timestamp_url: Some("https://tsa0.example/api/v1/timestamp".into()),
            }
        );
        let no_tsa =
            Services::from_signing_config(&config(json!({"selector": "ANY"}), 0), now()).unwrap();
        assert_eq!(no_tsa.timestamp_url, None);
    }

    #[test]
    fn asking_for_more_than_one_service_is_refused_not_silently_cut() {
        let all_logs = config(json!({"selector": "ALL"}), 0);
        assert!(matches!(
            Services::from_signing_config(&all_logs, now()),
            Err(crate::Error::ServiceSelection {
                kind: "rekorTlogUrls",
                selected: 2
            })
        ));
        let two_tsas = config(json!({"selector": "ANY"}), 2);
        assert!(matches!(
            Services::from_signing_config(&two_tsas, now()),
            Err(crate::Error::ServiceSelection {
                kind: "tsaUrls",
                selected: 2
            })
        ));
    }
}
