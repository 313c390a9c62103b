//! The Sigstore trust root: which transparency logs, certificate authorities, CT logs and
//! timestamp authorities to trust, and when.
//!
//! Reads `trusted_root.json` (`application/vnd.dev.sigstore.trustedroot+json;version=0.1`) and
//! ClientTrustConfig documents that wrap one. Entries keep their validity windows; an entry without
//! `validFor` is unbounded, one whose `validFor` has no `start` is rejected (DESIGN.md).

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::keys::PublicKey;

/// Largest trust root accepted: 4 MiB.
pub const MAX_TRUST_ROOT_BYTES: u64 = 4 * 1024 * 1024;

/// A validity window; both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The first instant of validity.
    pub start: SystemTime,
    /// The last instant of validity, if it ends.
    pub end: Option<SystemTime>,
}

impl Validity {
    /// True when `time` lies within the window (ends included).
    pub fn contains(&self, time: SystemTime) -> bool {
        time >= self.start && self.end.is_none_or(|end| time <= end)
    }
}

/// True when `time` lies within `validity`, or the entry is unbounded.
pub fn valid_at(validity: Option<&Validity>, time: SystemTime) -> bool {
    validity.is_none_or(|v| v.contains(time))
}

/// A transparency log (Rekor) or certificate transparency log.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    /// Where the log lives (for messages).
    pub base_url: String,
    /// The log's public key.
    pub key: PublicKey,
    /// The log id: SHA-256 of the key's DER SPKI, as the trust root states it.
    pub log_id: Vec<u8>,
    /// When this key signed for the log.
    pub validity: Option<Validity>,
}

/// A certificate authority (Fulcio) or timestamp authority.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// The authority's URI (for messages).
    pub uri: String,
    /// DER certificates, in the order the trust root lists them: usually leaf-most first and the
    /// root last, but some list the root first. Consumers find the root and the issuers by who
    /// issued whom, never by position.
    pub chain: Vec<Vec<u8>>,
    /// When the authority issued.
    pub validity: Option<Validity>,
}

/// A complete trust root.
#[derive(Debug, Clone, Default)]
pub struct TrustRoot {
    /// Rekor logs.
    pub tlogs: Vec<TransparencyLog>,
    /// Fulcio CAs.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate transparency logs.
    pub ctlogs: Vec<TransparencyLog>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

/// Why a trust root could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trusted root: {0}")]
pub struct TrustRootError(pub String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawAuthority>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    timestamp_authorities: Vec<RawAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    #[serde(default)]
    raw_bytes: String,
    #[serde(default)]
    key_details: String,
    #[serde(default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAuthority {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    #[serde(default)]
    valid_for: Option<RawValidity>,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCert {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct RawValidity {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

/// Parses an RFC 3339 timestamp as protobuf JSON writes it.
pub fn parse_time(text: &str) -> Result<SystemTime, TrustRootError> {
    humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))
        .or_else(|_| humantime::parse_rfc3339(text))
        .map_err(|e| TrustRootError(format!("invalid timestamp {text:?}: {e}")))
}

fn validity(raw: Option<RawValidity>, what: &str) -> Result<Option<Validity>, TrustRootError> {
    let Some(raw) = raw else { return Ok(None) };
    let start = raw
        .start
        .ok_or_else(|| TrustRootError(format!("{what} has validFor without a start")))?;
    let context = |e: TrustRootError| TrustRootError(format!("{what}: {}", e.0));
    let start = parse_time(&start).map_err(context)?;
    let end = raw
        .end
        .map(|e| parse_time(&e))
        .transpose()
        .map_err(context)?;
    Ok(Some(Validity { start, end }))
}

fn b64(text: &str, what: &str) -> Result<Vec<u8>, TrustRootError> {
    STANDARD
        .decode(text)
        .map_err(|e| TrustRootError(format!("{what}: invalid base64: {e}")))
}

fn log(raw: RawLog) -> Result<TransparencyLog, TrustRootError> {
    let what = format!("log {}", raw.base_url);
    let der = b64(&raw.public_key.raw_bytes, &what)?;
    // PKCS1_* key details carry a bare RSAPublicKey rather than a SubjectPublicKeyInfo.
    let key = if raw.public_key.key_details.starts_with("PKCS1_RSA") {
        PublicKey::from_pkcs1_rsa(&der, &raw.public_key.key_details)
    } else {
        PublicKey::from_spki_with_details(&der, &raw.public_key.key_details)
    }
    .map_err(|e| TrustRootError(format!("{what}: {e}")))?;
    Ok(TransparencyLog {
        log_id: b64(&raw.log_id.key_id, &what)?,
        validity: validity(raw.public_key.valid_for, &what)?,
        base_url: raw.base_url,
        key,
    })
}

fn authority(raw: RawAuthority) -> Result<CertificateAuthority, TrustRootError> {
    let what = format!("authority {}", raw.uri);
    let chain = raw
        .cert_chain
        .certificates
        .iter()
        .map(|c| b64(&c.raw_bytes, &what))
        .collect::<Result<Vec<_>, _>>()?;
    if chain.is_empty() {
        return Err(TrustRootError(format!(
            "{what} has an empty certificate chain"
        )));
    }
    Ok(CertificateAuthority {
        validity: validity(raw.valid_for, &what)?,
        uri: raw.uri,
        chain,
    })
}

impl TrustRoot {
    /// Parses a trusted_root.json, or a ClientTrustConfig holding one under `trustedRoot`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustRootError> {
        if bytes.len() as u64 > MAX_TRUST_ROOT_BYTES {
            return Err(TrustRootError(format!(
                "{} bytes is over the {MAX_TRUST_ROOT_BYTES}-byte limit",
                bytes.len()
            )));
        }
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| TrustRootError(format!("invalid JSON: {e}")))?;
        let root = match value.get("trustedRoot") {
            Some(inner) => inner.clone(),
            None => value,
        };
        let raw: RawRoot = serde_json::from_value(root)
            .map_err(|e| TrustRootError(format!("unexpected shape: {e}")))?;
        if !raw.media_type.is_empty()
            && !raw
                .media_type
                .starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(TrustRootError(format!(
                "unknown mediaType {:?}",
                raw.media_type
            )));
        }
        Ok(TrustRoot {
            tlogs: raw.tlogs.into_iter().map(log).collect::<Result<_, _>>()?,
            certificate_authorities: raw
                .certificate_authorities
                .into_iter()
                .map(authority)
                .collect::<Result<_, _>>()?,
            ctlogs: raw.ctlogs.into_iter().map(log).collect::<Result<_, _>>()?,
            timestamp_authorities: raw
                .timestamp_authorities
                .into_iter()
                .map(authority)
                .collect::<Result<_, _>>()?,
        })
    }

    /// The Rekor log with this log id.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The CT log with this log id.
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.ctlogs.iter().find(|l| l.log_id == log_id)
    }
}

/// Most trust roots one document may hold (JSON lines).
pub const MAX_TRUST_ROOTS: usize = 64;

/// One or more trust roots (never none): a bundle verifies when one of them verifies it. Roots
/// are never merged, so a certificate from one root's CA is never matched with another root's
/// log.
#[derive(Debug, Clone)]
pub struct TrustRoots(Vec<TrustRoot>);

impl From<TrustRoot> for TrustRoots {
    fn from(root: TrustRoot) -> Self {
        TrustRoots(vec![root])
    }
}

impl TrustRoots {
    /// The roots in `roots`, in order; `None` when there are none.
    pub fn new(roots: Vec<TrustRoot>) -> Option<Self> {
        (!roots.is_empty()).then_some(TrustRoots(roots))
    }

    /// Parses one trusted_root.json or ClientTrustConfig, or JSON lines of them (what
    /// `gh attestation trusted-root` writes: one root per line).
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustRootError> {
        if bytes.len() as u64 > MAX_TRUST_ROOT_BYTES {
            return Err(TrustRootError(format!(
                "{} bytes is over the {MAX_TRUST_ROOT_BYTES}-byte limit",
                bytes.len()
            )));
        }
        // One document, however it is laid out over lines.
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            return Ok(TrustRoot::from_json(bytes)?.into());
        }
        let mut roots = Vec::new();
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if roots.len() == MAX_TRUST_ROOTS {
                return Err(TrustRootError(format!(
                    "more than {MAX_TRUST_ROOTS} trust roots"
                )));
            }
            let root = TrustRoot::from_json(line)
                .map_err(|e| TrustRootError(format!("line {}: {}", i + 1, e.0)))?;
            roots.push(root);
        }
        TrustRoots::new(roots).ok_or_else(|| TrustRootError("no trust root".into()))
    }

    /// Adds the roots of `other` after these.
    pub fn extend(&mut self, other: TrustRoots) {
        self.0.extend(other.0);
    }

    /// The roots, in order.
    pub fn iter(&self) -> impl Iterator<Item = &TrustRoot> {
        self.0.iter()
    }

    /// The first success of `verify` over the roots in order. When every root refuses, the
    /// error kept is the first one that is not merely "this root is another instance's"
    /// (`other_instance`), else the first: with one root, exactly its answer; with several (a
    /// GitHub root and public-good), the reason from the root that knew the signer.
    pub fn first_verifying<T, E>(
        &self,
        mut verify: impl FnMut(&TrustRoot) -> Result<T, E>,
        other_instance: impl Fn(&E) -> bool,
    ) -> Result<T, E> {
        let mut first = None;
        let mut telling = None;
        for root in &self.0 {
            match verify(root) {
                Ok(t) => return Ok(t),
                Err(e) if telling.is_none() && !other_instance(&e) => telling = Some(e),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        // `new` refuses an empty list, so one error at least was seen.
        Err(telling
            .or(first)
            .unwrap_or_else(|| unreachable!("TrustRoots is never empty")))
    }
}

/// The codes that say a bundle belongs to another Sigstore instance than the root tried: its
/// certificate does not chain to the root's CAs, or its log or CT log is not the root's.
pub const OTHER_INSTANCE_CODES: &[&str] = &[
    "sigstore.certificate.bundled-root",
    "sigstore.certificate.chain",
    "sigstore.sct.untrusted-log",
    "sigstore.timestamp.untrusted",
    "sigstore.tlog.unknown-log",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_ends_are_inclusive() {
        let start = parse_time("2024-01-01T00:00:00Z").unwrap();
        let end = parse_time("2024-02-01T00:00:00.000Z").unwrap();
        let v = Validity {
            start,
            end: Some(end),
        };
        assert!(v.contains(start) && v.contains(end));
        assert!(!v.contains(end + std::time::Duration::from_nanos(1)));
        assert!(valid_at(None, start));
    }

    #[test]
    fn a_validity_without_start_is_rejected() {
        let root = br#"{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"baseUrl":"x","hashAlgorithm":"SHA2_256","publicKey":{"rawBytes":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==","keyDetails":"PKIX_ECDSA_P256_SHA_256","validFor":{"end":"2030-01-01T00:00:00Z"}},"logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="}}]}"#;
        let err = TrustRoot::from_json(root).unwrap_err();
        assert!(err.0.contains("without a start"), "{err}");
    }

    const ROOT: &[u8] = include_bytes!("../../roots/public-good-production.json");

    #[test]
    fn json_lines_hold_several_roots_and_one_document_may_span_lines() {
        let one = TrustRoots::from_json(ROOT).unwrap();
        assert_eq!(one.iter().count(), 1);
        let line: serde_json::Value = serde_json::from_slice(ROOT).unwrap();
        let line = serde_json::to_string(&line).unwrap();
        let two = TrustRoots::from_json(format!("{line}\n\n{line}\n").as_bytes()).unwrap();
        assert_eq!(two.iter().count(), 2);
        let bad =
            TrustRoots::from_json(format!("{line}\n{{\"tlogs\": 1}}\n").as_bytes()).unwrap_err();
        assert!(bad.0.starts_with("line 2:"), "{bad}");
        assert!(TrustRoots::from_json(b"\n \n").is_err());
    }

    #[test]
    fn the_first_verifying_root_wins_and_otherwise_the_first_error() {
        let roots = TrustRoots::new(vec![TrustRoot::default(), TrustRoot::default()]).unwrap();
        let mut n = 0;
        let r: Result<(), usize> = roots.first_verifying(
            |_| {
                n += 1;
                Err(n)
            },
            |_| false,
        );
        assert_eq!(r, Err(1));
        // The first root is another instance's: the second's reason is the telling one.
        let mut n = 0;
        let r: Result<(), usize> = roots.first_verifying(
            |_| {
                n += 1;
                Err(n)
            },
            |e| *e == 1,
        );
        assert_eq!(r, Err(2));
        let mut n = 0;
        let r: Result<usize, ()> = roots.first_verifying(
            |_| {
                n += 1;
                if n == 2 { Ok(n) } else { Err(()) }
            },
            |_| false,
        );
        assert_eq!(r, Ok(2));
        assert!(TrustRoots::new(Vec::new()).is_none());
    }
}
