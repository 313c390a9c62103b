//! The Sigstore SigningConfig (`application/vnd.dev.sigstore.signingconfig.v0.2+json`, message
//! `SigningConfig` of protobuf-specs' `sigstore_trustroot.proto`): which certificate authority,
//! identity provider, transparency logs and timestamp authorities a signer uses, and when.
//!
//! Read on its own or from a ClientTrustConfig's `signingConfig`. Services are chosen as the
//! specification says: only those valid at the signing time with a major API version the client
//! speaks, the highest such version, the newest validity start, the first listed on a tie, and at
//! most one per operator when several are selected.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{FieldProblem, NoServiceReason};
use crate::limits::{MAX_SIGNING_CONFIG_BYTES, check};
use crate::time::Timestamp;
use crate::{Error, Result};

/// Media type of the SigningConfig version read and written.
pub const SIGNING_CONFIG_V0_2: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// Media type of a ClientTrustConfig, which wraps a trusted root and a SigningConfig.
pub const CLIENT_TRUST_CONFIG_V0_1: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

const WHAT: &str = "signing config";

/// A SigningConfig. Parse with [`SigningConfig::from_slice`], which validates. Like every
/// protobuf JSON reader, it accepts the proto field names (`ca_urls`) as well as the JSON names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfig {
    /// [`SIGNING_CONFIG_V0_2`].
    #[serde(alias = "media_type")]
    pub media_type: String,
    /// Fulcio-compatible certificate authorities (base URLs).
    #[serde(default, alias = "ca_urls")]
    pub ca_urls: Vec<Service>,
    /// OpenID Connect identity providers (base URLs).
    #[serde(default, alias = "oidc_urls")]
    pub oidc_urls: Vec<Service>,
    /// Rekor transparency logs (base URLs).
    #[serde(default, alias = "rekor_tlog_urls")]
    pub rekor_tlog_urls: Vec<Service>,
    /// How many transparency logs to write to; required when any is listed.
    #[serde(
        default,
        alias = "rekor_tlog_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    /// RFC 3161 timestamp authorities (full URLs).
    #[serde(default, alias = "tsa_urls")]
    pub tsa_urls: Vec<Service>,
    /// How many timestamp authorities to ask; required when any is listed.
    #[serde(default, alias = "tsa_config", skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
}

/// One instance of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// The URL, with scheme and host.
    pub url: String,
    /// The service's major API version; 0 is a service not yet released. Protobuf JSON omits a
    /// zero, hence the default.
    #[serde(default, alias = "major_api_version")]
    pub major_api_version: u32,
    /// When the instance may be used.
    #[serde(alias = "valid_for")]
    pub valid_for: TimeRange,
    /// Who runs it, a scheme-less URI such as `sigstore.dev`: several services are chosen from
    /// distinct operators.
    #[serde(default)]
    pub operator: String,
}

/// A validity period, both ends included; without an end it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    /// The first valid instant.
    pub start: Timestamp,
    /// The last valid instant, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

impl TimeRange {
    /// True when `time` lies within the range (ends included).
    pub fn contains(&self, time: SystemTime) -> bool {
        time >= self.start.time() && self.end.is_none_or(|end| time <= end.time())
    }
}

/// How many of a list of services to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfiguration {
    /// The rule.
    pub selector: ServiceSelector,
    /// The number of services for [`ServiceSelector::Exact`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub count: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The selection rule. `SERVICE_SELECTOR_UNDEFINED` is refused, as the specification asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceSelector {
    /// Every usable service (one per operator).
    All,
    /// One usable service.
    Any,
    /// Exactly `count` usable services.
    Exact,
}

impl SigningConfig {
    /// Parses and validates a SigningConfig v0.2, or the one inside a ClientTrustConfig v0.1.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        check(WHAT, bytes.len() as u64, MAX_SIGNING_CONFIG_BYTES)?;
        let value: Value = serde_json::from_slice(bytes).map_err(Error::json(WHAT))?;
        let media_type = value.get("mediaType").or_else(|| value.get("media_type"));
        let inner = match media_type.and_then(Value::as_str) {
            Some(CLIENT_TRUST_CONFIG_V0_1) => value
                .get("signingConfig")
                .or_else(|| value.get("signing_config"))
                .ok_or_else(|| Error::Field {
                    what: "client trust config",
                    field: "signingConfig".to_owned(),
                    problem: FieldProblem::Empty,
                })?,
            _ => &value,
        };
        let config = SigningConfig::deserialize(inner).map_err(Error::json(WHAT))?;
        config.validate()?;
        Ok(config)
    }

    /// The media type, the service URLs, and a selection rule for every non-empty list that
    /// needs one (an EXACT count between 1 and the number listed).
    pub fn validate(&self) -> Result<()> {
        if self.media_type != SIGNING_CONFIG_V0_2 {
            return Err(Error::MediaType {
                what: WHAT,
                found: self.media_type.clone(),
                expected: SIGNING_CONFIG_V0_2,
            });
        }
        for (kind, services) in [
            ("caUrls", &self.ca_urls),
            ("oidcUrls", &self.oidc_urls),
            ("rekorTlogUrls", &self.rekor_tlog_urls),
            ("tsaUrls", &self.tsa_urls),
        ] {
            for (i, service) in services.iter().enumerate() {
                if !is_url(&service.url) {
                    return Err(field(
                        format!("{kind}[{i}].url"),
                        FieldProblem::NotUrl(service.url.clone()),
                    ));
                }
            }
        }
        for (kind, services, config) in [
            (
                "rekorTlogConfig",
                &self.rekor_tlog_urls,
                self.rekor_tlog_config,
            ),
            ("tsaConfig", &self.tsa_urls, self.tsa_config),
        ] {
            match config {
                None if !services.is_empty() => {
                    return Err(field(kind.to_owned(), FieldProblem::Empty));
                }
                Some(ServiceConfiguration {
                    selector: ServiceSelector::Exact,
                    count,
                }) if count == 0 || count as usize > services.len() => {
                    return Err(field(
                        format!("{kind}.count"),
                        FieldProblem::Count {
                            count,
                            available: services.len(),
                        },
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The certificate authority to use at `now`, among those speaking a major API version in
    /// `supported`.
    pub fn certificate_authority(&self, now: SystemTime, supported: &[u32]) -> Result<&Service> {
        select_one("caUrls", &self.ca_urls, now, supported)
    }

    /// The identity provider to use at `now`.
    pub fn identity_provider(&self, now: SystemTime, supported: &[u32]) -> Result<&Service> {
        select_one("oidcUrls", &self.oidc_urls, now, supported)
    }

    /// The transparency logs to write to at `now`, as `rekorTlogConfig` asks; none when none is
    /// listed.
    pub fn transparency_logs(&self, now: SystemTime, supported: &[u32]) -> Result<Vec<&Service>> {
        select_many(
            "rekorTlogUrls",
            &self.rekor_tlog_urls,
            self.rekor_tlog_config,
            now,
            supported,
        )
    }

    /// The timestamp authorities to ask at `now`, as `tsaConfig` asks; none when none is listed.
    pub fn timestamp_authorities(
        &self,
        now: SystemTime,
        supported: &[u32],
    ) -> Result<Vec<&Service>> {
        select_many("tsaUrls", &self.tsa_urls, self.tsa_config, now, supported)
    }
}

fn field(field: String, problem: FieldProblem) -> Error {
    Error::Field {
        what: WHAT,
        field,
        problem,
    }
}

/// `http(s)://` followed by a host: the specification requires scheme and authority.
fn is_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.and_then(|r| r.split(['/', '?', '#']).next())
        .is_some_and(|host| !host.is_empty() && !host.contains(char::is_whitespace))
}

/// The services valid at `now` with the highest supported major API version, in list order.
fn usable<'a>(
    kind: &'static str,
    services: &'a [Service],
    now: SystemTime,
    supported: &[u32],
) -> Result<Vec<&'a Service>> {
    let candidates: Vec<&Service> = services
        .iter()
        .filter(|s| s.valid_for.contains(now) && supported.contains(&s.major_api_version))
        .collect();
    let Some(version) = candidates.iter().map(|s| s.major_api_version).max() else {
        return Err(Error::NoService {
            kind,
            reason: NoServiceReason::NoneValid {
                at: humantime::format_rfc3339_seconds(now).to_string(),
                supported: supported.to_vec(),
            },
        });
    };
    Ok(candidates
        .into_iter()
        .filter(|s| s.major_api_version == version)
        .collect())
}

/// The newest start among `services`, the first listed on a tie.
fn newest<'a>(services: impl IntoIterator<Item = &'a Service>) -> Option<&'a Service> {
    services
        .into_iter()
        .fold(None, |best: Option<&Service>, s| match best {
            Some(b) if b.valid_for.start >= s.valid_for.start => Some(b),
            _ => Some(s),
        })
}

fn select_one<'a>(
    kind: &'static str,
    services: &'a [Service],
    now: SystemTime,
    supported: &[u32],
) -> Result<&'a Service> {
    let usable = usable(kind, services, now, supported)?;
    newest(usable).ok_or(Error::NoService {
        kind,
        reason: NoServiceReason::TooFew {
            required: 1,
            usable: 0,
        },
    })
}

fn select_many<'a>(
    kind: &'static str,
    services: &'a [Service],
    config: Option<ServiceConfiguration>,
    now: SystemTime,
    supported: &[u32],
) -> Result<Vec<&'a Service>> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let usable = usable(kind, services, now, supported)?;
    // One per operator, its newest; operators in the order the list first names them.
    let mut operators: Vec<&str> = Vec::new();
    for s in &usable {
        if !operators.contains(&s.operator.as_str()) {
            operators.push(&s.operator);
        }
    }
    let chosen: Vec<&Service> = operators
        .iter()
        .filter_map(|op| newest(usable.iter().copied().filter(|s| s.operator == *op)))
        .collect();
    // validate() makes a missing configuration impossible for a non-empty list.
    let required = match config.map(|c| (c.selector, c.count)) {
        Some((ServiceSelector::All, _)) => return Ok(chosen),
        Some((ServiceSelector::Exact, count)) => count as usize,
        Some((ServiceSelector::Any, _)) | None => 1,
    };
    if chosen.len() < required {
        return Err(Error::NoService {
            kind,
            reason: NoServiceReason::TooFew {
                required,
                usable: chosen.len(),
            },
        });
    }
    Ok(chosen.into_iter().take(required).collect())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;

    /// 2026-06-01T00:00:00Z.
    fn june_2026() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_272_000)
    }

    fn service(url: &str, version: u32, start: &str, end: Option<&str>, operator: &str) -> Value {
        let mut valid = json!({ "start": start });
        if let Some(end) = end {
            valid["end"] = json!(end);
        }
        json!({"url": url, "majorApiVersion": version, "validFor": valid, "operator": operator})
    }

    fn config(rekor: Vec<Value>, rekor_config: Value) -> Value {
        json!({
            "mediaType": SIGNING_CONFIG_V0_2,
            "caUrls": [
                service("https://fulcio-old.example", 1, "2020-01-01T00:00:00Z", Some("2024-01-01T00:00:00Z"), "example"),
                service("https://fulcio.example", 1, "2024-01-01T00:00:00Z", None, "example"),
                service("https://fulcio-next.example", 1, "2027-01-01T00:00:00Z", None, "example"),
            ],
            "oidcUrls": [service("https://oauth2.example/auth", 1, "2020-01-01T00:00:00Z", None, "example")],
            "rekorTlogUrls": rekor,
            "rekorTlogConfig": rekor_config,
            "tsaUrls": [],
        })
    }

    fn parse(value: &Value) -> Result<SigningConfig> {
        SigningConfig::from_slice(&serde_json::to_vec(value).unwrap())
    }

    fn urls(services: &[&Service]) -> Vec<String> {
        services.iter().map(|s| s.url.clone()).collect()
    }

    #[test]
    fn picks_the_newest_service_valid_now() {
        let c = parse(&config(vec![], json!({"selector": "ANY"}))).unwrap();
        let ca = c.certificate_authority(june_2026(), &[1]).unwrap();
        assert_eq!(ca.url, "https://fulcio.example");
        let old = UNIX_EPOCH + Duration::from_secs(1_600_000_000); // 2020-09
        assert_eq!(
            c.certificate_authority(old, &[1]).unwrap().url,
            "https://fulcio-old.example"
        );
        assert!(c.transparency_logs(june_2026(), &[1]).unwrap().is_empty());
        assert!(
            c.timestamp_authorities(june_2026(), &[1])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn validity_ends_are_inclusive() {
        let c = parse(&config(vec![], json!({"selector": "ANY"}))).unwrap();
        let end = c.ca_urls[0].valid_for.end.unwrap().time();
        assert!(c.ca_urls[0].valid_for.contains(end));
        assert!(
            !c.ca_urls[0]
                .valid_for
                .contains(end + Duration::from_secs(1))
        );
    }

    #[test]
    fn prefers_the_highest_supported_api_version() {
        let rekor = vec![
            service(
                "https://rekor.example",
                1,
                "2021-01-01T00:00:00Z",
                None,
                "example",
            ),
            service(
                "https://rekor-v2.example",
                2,
                "2021-01-01T00:00:00Z",
                None,
                "example",
            ),
        ];
        let c = parse(&config(rekor, json!({"selector": "ANY"}))).unwrap();
        let v1_only = c.transparency_logs(june_2026(), &[1]).unwrap();
        assert_eq!(urls(&v1_only), ["https://rekor.example"]);
        let both = c.transparency_logs(june_2026(), &[1, 2]).unwrap();
        assert_eq!(urls(&both), ["https://rekor-v2.example"]);
        assert!(matches!(
            c.transparency_logs(june_2026(), &[3]),
            Err(Error::NoService {
                kind: "rekorTlogUrls",
                reason: NoServiceReason::NoneValid { .. }
            })
        ));
    }

    #[test]
    fn selects_at_most_one_per_operator() {
        let rekor = vec![
            service(
                "https://a-old.example",
                1,
                "2021-01-01T00:00:00Z",
                None,
                "a",
            ),
            service("https://b.example", 1, "2022-01-01T00:00:00Z", None, "b"),
            service("https://a.example", 1, "2023-01-01T00:00:00Z", None, "a"),
        ];
        let all = parse(&config(rekor.clone(), json!({"selector": "ALL"}))).unwrap();
        assert_eq!(
            urls(&all.transparency_logs(june_2026(), &[1]).unwrap()),
            ["https://a.example", "https://b.example"]
        );
        let any = parse(&config(rekor.clone(), json!({"selector": "ANY"}))).unwrap();
        assert_eq!(
            urls(&any.transparency_logs(june_2026(), &[1]).unwrap()),
            ["https://a.example"]
        );
        let three = parse(&config(rekor, json!({"selector": "EXACT", "count": 3}))).unwrap();
        assert!(matches!(
            three.transparency_logs(june_2026(), &[1]),
            Err(Error::NoService {
                reason: NoServiceReason::TooFew {
                    required: 3,
                    usable: 2
                },
                ..
            })
        ));
    }

    #[test]
    fn reads_a_client_trust_config() {
        let wrapped = json!({
            "mediaType": CLIENT_TRUST_CONFIG_V0_1,
            "trustedRoot": {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"},
            "signingConfig": config(vec![], json!({"selector": "ANY"})),
        });
        assert_eq!(parse(&wrapped).unwrap().oidc_urls.len(), 1);
        let empty = json!({"mediaType": CLIENT_TRUST_CONFIG_V0_1});
        assert!(matches!(parse(&empty), Err(Error::Field { .. })));
    }

    #[test]
    fn refuses_malformed_configs() {
        let ok = || config(vec![], json!({"selector": "ANY"}));
        let rekor = || {
            vec![service(
                "https://r.example",
                1,
                "2021-01-01T00:00:00Z",
                None,
                "r",
            )]
        };
        let cases: Vec<(&str, Value)> = vec![
            ("v0.1", {
                let mut c = ok();
                c["mediaType"] = json!("application/vnd.dev.sigstore.signingconfig.v0.1+json");
                c
            }),
            ("no scheme", {
                let mut c = ok();
                c["caUrls"][0]["url"] = json!("fulcio.example");
                c
            }),
            ("no host", {
                let mut c = ok();
                c["caUrls"][0]["url"] = json!("https:///path");
                c
            }),
            ("no start", {
                let mut c = ok();
                c["caUrls"][0]["validFor"] = json!({"end": "2024-01-01T00:00:00Z"});
                c
            }),
            ("bad time", {
                let mut c = ok();
                c["caUrls"][0]["validFor"]["start"] = json!("yesterday");
                c
            }),
            ("no selector", {
                let mut c = config(rekor(), json!(null));
                c.as_object_mut().unwrap().remove("rekorTlogConfig");
                c
            }),
            (
                "undefined selector",
                config(rekor(), json!({"selector": "SERVICE_SELECTOR_UNDEFINED"})),
            ),
            (
                "exact zero",
                config(rekor(), json!({"selector": "EXACT", "count": 0})),
            ),
            (
                "exact too many",
                config(rekor(), json!({"selector": "EXACT", "count": 2})),
            ),
            ("not an object", json!([1, 2])),
        ];
        for (name, value) in cases {
            assert!(parse(&value).is_err(), "{name}");
        }
        assert!(matches!(
            SigningConfig::from_slice(b"{\"mediaType\":"),
            Err(Error::Json { .. })
        ));
    }

    #[test]
    fn refuses_oversized_input_unparsed() {
        let big = vec![b' '; MAX_SIGNING_CONFIG_BYTES as usize + 1];
        assert!(matches!(
            SigningConfig::from_slice(&big),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn round_trips() {
        let original = parse(&config(
            vec![service(
                "https://r.example",
                1,
                "2021-01-01T00:00:00Z",
                None,
                "r",
            )],
            json!({"selector": "EXACT", "count": 1}),
        ))
        .unwrap();
        let again = SigningConfig::from_slice(&serde_json::to_vec(&original).unwrap()).unwrap();
        assert_eq!(again, original);
    }
}
