//! The gate's configuration file (a mounted ConfigMap), parsed and checked into a [`Config`]
//! before it is used: trust, registries, rules, exemptions, the deadline and the cache. A file
//! that does not load is refused whole; the caller keeps the last good one.
//!
//! ```yaml
//! apiVersion: hallmark.dev/admission/v1
//! deadline: 8s
//! trust:
//!   keys: [keys/release.pub]
//! rules:
//!   - name: default
//!     namespaces: ["*"]
//!     images: ["**"]
//!     mode: enforce
//! ```
//!
//! docs/webhook.md documents every field.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use hallmark_model::limits::MAX_KEY_BYTES;
use hallmark_remote::registry::client::ClientOptions;
use hallmark_remote::registry::docker_config::{DockerConfig, MAX_DOCKER_CONFIG_BYTES};
use hallmark_verifier::engine::{Trust, VsaAcceptance};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::policy::Policy;
use hallmark_verifier::revocation::{ListBundle, Revocations, verify_lists};
use hallmark_verifier::sigstore::identity::{IdentityPolicy, Matcher};
use hallmark_verifier::sigstore::trust_root::{MAX_TRUST_ROOT_BYTES, TrustRoots};
use serde::Deserialize;

use crate::Error;

/// The `apiVersion` of the configuration file.
pub const API_VERSION: &str = "hallmark.dev/admission/v1";

/// Largest configuration file read: 1 MiB.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Most rules in one configuration.
const MAX_RULES: usize = 256;

/// The default per-request deadline: 8 s, below the API server's 10 s `timeoutSeconds`.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(8);

/// What happens to an image a rule's policy denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The request is denied.
    #[default]
    Enforce,
    /// The request is allowed with a warning for the user.
    Warn,
    /// The request is allowed; the denial is only logged and counted.
    Audit,
}

impl Mode {
    /// The name, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
        }
    }
}

/// What happens when no verdict can be reached (registry down, deadline passed, policy error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Failure {
    /// Denied with the reason: the safe default.
    #[default]
    Closed,
    /// Allowed with a warning, and counted. Spelled out as `failOpen: true` in a rule.
    Open,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    api_version: String,
    #[serde(default)]
    deadline: Option<String>,
    trust: TrustFile,
    #[serde(default)]
    registries: RegistriesFile,
    #[serde(default)]
    cache: CacheFile,
    #[serde(default)]
    exempt: ExemptFile,
    rules: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TrustFile {
    #[serde(default)]
    keys: Vec<PathBuf>,
    #[serde(default)]
    identities: Vec<IdentityFile>,
    #[serde(default)]
    trusted_root: Option<PathBuf>,
    #[serde(default)]
    accept_vsa_from: Vec<PathBuf>,
    #[serde(default)]
    vsa_max_age: Option<String>,
    /// Signed revocation lists (docs/revocation.md).
    #[serde(default)]
    revocations: Vec<PathBuf>,
    /// Keys trusted to sign them (default: the keys and identities above).
    #[serde(default)]
    revocation_keys: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IdentityFile {
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    identity_regexp: Option<String>,
    issuer: String,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RegistriesFile {
    #[serde(default)]
    insecure: Vec<String>,
    #[serde(default)]
    ca: Option<PathBuf>,
    /// A Docker config.json, e.g. the `.dockerconfigjson` of a mounted image pull Secret.
    #[serde(default)]
    docker_config: Option<PathBuf>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CacheFile {
    #[serde(default)]
    ttl: Option<String>,
    #[serde(default)]
    deny_ttl: Option<String>,
    #[serde(default)]
    max_entries: Option<usize>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExemptFile {
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    images: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleFile {
    name: String,
    #[serde(default = "everything")]
    namespaces: Vec<String>,
    #[serde(default = "everything_deep")]
    images: Vec<String>,
    #[serde(default)]
    policy: Option<PathBuf>,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    fail_open: bool,
}

fn everything() -> Vec<String> {
    vec!["*".to_owned()]
}

fn everything_deep() -> Vec<String> {
    vec!["**".to_owned()]
}

/// Which rule applies to an image: the first whose namespace and image globs both match.
#[derive(Debug)]
pub struct Rule {
    /// Its name, for logs and messages.
    pub name: String,
    namespaces: GlobSet,
    images: GlobSet,
    /// Its policy (`None`: the engine's default requirement, verified SLSA provenance).
    pub policy: Option<Arc<Policy>>,
    /// What a denial does.
    pub mode: Mode,
    /// What an undecidable image does.
    pub failure: Failure,
}

impl Rule {
    /// The policy's digest, or `none`: part of the verdict cache key.
    pub fn policy_digest(&self) -> &str {
        self.policy.as_ref().map_or("none", |p| p.digest())
    }
}

/// Cache settings.
#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// How long an allowed verdict is reused.
    pub ttl: Duration,
    /// How long a denied verdict is reused (short: a signature pushed after a denial counts soon).
    pub deny_ttl: Duration,
    /// Most verdicts kept.
    pub max_entries: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            ttl: Duration::from_secs(600),
            deny_ttl: Duration::from_secs(30),
            max_entries: 10_000,
        }
    }
}

/// A checked configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The digest of the file's bytes (logged on reload).
    pub digest: String,
    /// The per-request deadline.
    pub deadline: Duration,
    /// Who is trusted to sign (rules' policies may add signers).
    pub trust: Trust,
    /// Accepting a trusted verifier's VSA first, when configured.
    pub vsa: Option<VsaAcceptance>,
    /// Verified revocation lists, applied to every decision.
    pub revocations: Revocations,
    /// A digest of everything trusted: part of the verdict cache key.
    pub trust_digest: String,
    /// How registries are reached (credentials are chosen per registry: [`Config::client_options`]).
    pub registries: ClientOptions,
    /// Registry credentials by host (`registries.dockerConfig`).
    pub pull_secret: Option<DockerConfig>,
    /// Verdict cache settings.
    pub cache: CacheSettings,
    exempt_namespaces: GlobSet,
    exempt_images: GlobSet,
    /// The rules, in order.
    pub rules: Vec<Rule>,
    /// The files it was made from besides itself (keys, trust root, CA, policies), so a
    /// server can see when one changes.
    pub inputs: Vec<PathBuf>,
}

fn err(path: &Path, message: impl Into<String>) -> Error {
    Error::Config {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Reads `path` whole, refusing files over `limit` bytes.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| err(path, e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(path, e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(err(path, format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

fn duration(
    path: &Path,
    what: &str,
    text: Option<&str>,
    default: Duration,
) -> Result<Duration, Error> {
    match text {
        None => Ok(default),
        Some(t) => {
            humantime::parse_duration(t).map_err(|e| err(path, format!("{what} {t:?}: {e}")))
        }
    }
}

fn globs(path: &Path, what: &str, patterns: &[String], separator: bool) -> Result<GlobSet, Error> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let glob: Glob = GlobBuilder::new(p)
            .literal_separator(separator)
            .build()
            .map_err(|e| err(path, format!("{what} glob {p:?}: {e}")))?;
        set.add(glob);
    }
    set.build().map_err(|e| err(path, format!("{what}: {e}")))
}

fn sha256(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn key(base: &Path, file: &Path, fingerprint: &mut Vec<String>) -> Result<TrustedKey, Error> {
    let path = base.join(file);
    let text = read_limited(&path, MAX_KEY_BYTES)?;
    let key = TrustedKey::from_pem(&text, &path.display().to_string())
        .map_err(|e| err(&path, e.to_string()))?;
    fingerprint.push(format!("key {}", key.keyid()));
    Ok(key)
}

/// `trust.revocations`, verified against `trust.revocationKeys` (else the configured trust) at
/// `at`: a list that does not verify refuses the whole configuration.
fn revocations(
    path: &Path,
    base: &Path,
    file: &TrustFile,
    trust: &Trust,
    at: SystemTime,
    fingerprint: &mut Vec<String>,
) -> Result<Revocations, Error> {
    if file.revocations.is_empty() {
        if !file.revocation_keys.is_empty() {
            return Err(err(path, "revocationKeys without revocations"));
        }
        return Ok(Revocations::default());
    }
    let signers = if file.revocation_keys.is_empty() {
        trust.clone()
    } else {
        let mut keys = Vec::new();
        for k in &file.revocation_keys {
            keys.push(key(base, k, fingerprint)?);
        }
        Trust {
            keys,
            identities: Vec::new(),
            roots: trust.roots.clone(),
        }
    };
    let requirements = signers
        .requirements(at)
        .map_err(|e| err(path, format!("revocation signers: {e}")))?;
    let mut lists = Vec::new();
    for p in &file.revocations {
        let p = base.join(p);
        let bytes = read_limited(&p, hallmark_model::limits::MAX_BUNDLE_BYTES)?;
        fingerprint.push(format!("revocations {}", sha256(&bytes)));
        lists.push(ListBundle {
            origin: p.display().to_string(),
            bytes,
        });
    }
    verify_lists(&lists, &requirements, at).map_err(|e| err(path, format!("{}: {e}", e.code())))
}

impl Config {
    /// Loads and checks the configuration at `path`: every key, trust root, revocation list and
    /// policy it names is read now (the lists verified at `at`), so a configuration that loads
    /// can serve. Relative paths are relative to the file's directory.
    pub fn load(path: &Path, at: SystemTime) -> Result<Config, Error> {
        let bytes = read_limited(path, MAX_CONFIG_BYTES)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| err(path, "not UTF-8"))?;
        let file: File = yaml_serde::from_str(text).map_err(|e| err(path, e.to_string()))?;
        if file.api_version != API_VERSION {
            return Err(err(
                path,
                format!("apiVersion {:?} is not {API_VERSION}", file.api_version),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let named = |p: &Option<PathBuf>| p.iter().map(|p| base.join(p)).collect::<Vec<_>>();
        let mut inputs: Vec<PathBuf> = file
            .trust
            .keys
            .iter()
            .chain(&file.trust.accept_vsa_from)
            .chain(&file.trust.revocations)
            .chain(&file.trust.revocation_keys)
            .map(|p| base.join(p))
            .collect();
        inputs.extend(named(&file.trust.trusted_root));
        inputs.extend(named(&file.registries.ca));
        // A rotated pull Secret is picked up like any other input.
        inputs.extend(named(&file.registries.docker_config));
        for r in &file.rules {
            inputs.extend(named(&r.policy));
        }
        // What the verdicts depend on besides the image and the policy, in a stable order.
        let mut fingerprint = Vec::new();
        let keys = file
            .trust
            .keys
            .iter()
            .map(|k| key(base, k, &mut fingerprint))
            .collect::<Result<Vec<_>, _>>()?;
        let mut identities = Vec::new();
        for id in &file.trust.identities {
            let policy = match (&id.identity, &id.identity_regexp) {
                (Some(exact), None) => IdentityPolicy::exact(exact, &id.issuer),
                (None, Some(re)) => IdentityPolicy {
                    identity: Matcher::regex(re)
                        .map_err(|e| err(path, format!("identityRegexp {re:?}: {e}")))?,
                    issuer: Matcher::Exact(id.issuer.clone()),
                    extensions: Vec::new(),
                },
                _ => {
                    return Err(err(
                        path,
                        "an identity needs exactly one of identity and identityRegexp",
                    ));
                }
            };
            fingerprint.push(format!(
                "identity {:?} {:?} {:?}",
                id.identity, id.identity_regexp, id.issuer
            ));
            identities.push(policy);
        }
        let roots = match &file.trust.trusted_root {
            Some(file) => {
                let p = base.join(file);
                let bytes = read_limited(&p, MAX_TRUST_ROOT_BYTES)?;
                fingerprint.push(format!("root {}", sha256(&bytes)));
                Some(TrustRoots::from_json(&bytes).map_err(|e| err(&p, e.to_string()))?)
            }
            None => None,
        };
        let trust = Trust {
            keys,
            identities,
            roots,
        };
        let revocations = revocations(path, base, &file.trust, &trust, at, &mut fingerprint)?;
        let vsa = if file.trust.accept_vsa_from.is_empty() {
            None
        } else {
            let mut verifiers = Vec::new();
            for k in &file.trust.accept_vsa_from {
                verifiers.push(key(base, k, &mut fingerprint)?);
            }
            let max_age = duration(
                path,
                "vsaMaxAge",
                file.trust.vsa_max_age.as_deref(),
                Duration::from_secs(7 * 24 * 3600),
            )?;
            fingerprint.push(format!("vsa {}", max_age.as_secs()));
            Some(VsaAcceptance {
                verifiers: Trust {
                    keys: verifiers,
                    ..Trust::default()
                },
                policy_digest: None,
                max_age,
            })
        };
        let deadline = duration(path, "deadline", file.deadline.as_deref(), DEFAULT_DEADLINE)?;
        if deadline.is_zero() || deadline > Duration::from_secs(29) {
            return Err(err(
                path,
                "deadline must be between 1ms and 29s (the API server waits at most 30s)",
            ));
        }
        let ca_pem = match &file.registries.ca {
            Some(ca) => Some(read_limited(&base.join(ca), 1024 * 1024)?),
            None => None,
        };
        let pull_secret = match &file.registries.docker_config {
            Some(p) => {
                let bytes = read_limited(&base.join(p), MAX_DOCKER_CONFIG_BYTES)?;
                Some(DockerConfig::parse(&bytes).map_err(|e| {
                    err(
                        path,
                        format!("registries.dockerConfig {}: {e}", p.display()),
                    )
                })?)
            }
            None => None,
        };
        let defaults = CacheSettings::default();
        let cache = CacheSettings {
            ttl: duration(path, "cache.ttl", file.cache.ttl.as_deref(), defaults.ttl)?,
            deny_ttl: duration(
                path,
                "cache.denyTtl",
                file.cache.deny_ttl.as_deref(),
                defaults.deny_ttl,
            )?,
            max_entries: file
                .cache
                .max_entries
                .unwrap_or(defaults.max_entries)
                .min(1_000_000),
        };
        if file.rules.is_empty() || file.rules.len() > MAX_RULES {
            return Err(err(
                path,
                format!("between 1 and {MAX_RULES} rules are needed"),
            ));
        }
        let mut rules = Vec::new();
        for r in &file.rules {
            let policy = match &r.policy {
                Some(p) => Some(Arc::new(
                    Policy::load(&base.join(p), false).map_err(|e| err(path, e.to_string()))?,
                )),
                None => None,
            };
            rules.push(Rule {
                name: r.name.clone(),
                namespaces: globs(path, "namespace", &r.namespaces, false)?,
                images: globs(path, "image", &r.images, true)?,
                policy,
                mode: r.mode,
                failure: if r.fail_open {
                    Failure::Open
                } else {
                    Failure::Closed
                },
            });
        }
        if trust.is_empty()
            && rules.iter().all(|r| {
                r.policy
                    .as_ref()
                    .is_none_or(|p| p.keys().is_empty() && p.identities().is_empty())
            })
        {
            return Err(err(
                path,
                "no trust: name keys or identities under trust:, or in the rules' policies",
            ));
        }
        Ok(Config {
            path: path.to_path_buf(),
            digest: sha256(&bytes),
            deadline,
            trust,
            vsa,
            revocations,
            trust_digest: sha256(fingerprint.join("\n").as_bytes()),
            registries: ClientOptions {
                insecure_hosts: file.registries.insecure,
                credentials: None,
                ca_pem,
                timeout: None,
            },
            pull_secret,
            cache,
            exempt_namespaces: globs(path, "exempt namespace", &file.exempt.namespaces, false)?,
            exempt_images: globs(path, "exempt image", &file.exempt.images, true)?,
            rules,
            inputs,
        })
    }

    /// How to reach `registry` (the API host, `host:port`): the shared options, with the pull
    /// secret's credentials for that registry only.
    pub fn client_options(&self, registry: &str) -> ClientOptions {
        let mut options = self.registries.clone();
        options.credentials = self.pull_secret.as_ref().and_then(|s| s.auth(registry));
        options
    }

    /// True when the namespace is exempt: its requests are allowed unchecked.
    pub fn namespace_exempt(&self, namespace: &str) -> bool {
        self.exempt_namespaces.is_match(namespace)
    }

    /// True when the image (`registry/repository`) is exempt.
    pub fn image_exempt(&self, repository: &str) -> bool {
        self.exempt_images.is_match(repository)
    }

    /// The rule for an image (`registry/repository`) in a namespace: the first that matches both.
    pub fn rule(&self, namespace: &str, repository: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.namespaces.is_match(namespace) && r.images.is_match(repository))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7E5qN/jSUp0V8rh06bOy6zE+5g5u\nkpD5DE0ON8WBYMYGffL/kiXm6OlA0bcEsxX9zH8Cr4P0yyQHFX64Qo2pBg==\n-----END PUBLIC KEY-----\n";

    fn load(yaml: &str) -> Result<Config, Error> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k.pub"), KEY).unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, yaml).unwrap();
        Config::load(&path, SystemTime::now())
    }

    const GOOD: &str = "apiVersion: hallmark.dev/admission/v1\ntrust:\n  keys: [k.pub]\nexempt:\n  namespaces: [kube-system]\n  images: [\"registry.k8s.io/pause\"]\nrules:\n  - name: prod\n    namespaces: [\"prod-*\"]\n    images: [\"r.example/**\"]\n    mode: enforce\n  - name: rest\n    mode: warn\n    failOpen: true\n";

    #[test]
    fn rules_match_in_order_and_defaults_are_safe() {
        let c = load(GOOD).unwrap();
        assert_eq!(c.deadline, DEFAULT_DEADLINE);
        assert_eq!(
            c.rule("prod-eu", "r.example/team/app").unwrap().name,
            "prod"
        );
        let rest = c.rule("prod-eu", "docker.io/library/nginx").unwrap();
        assert_eq!(
            (rest.name.as_str(), rest.mode, rest.failure),
            ("rest", Mode::Warn, Failure::Open)
        );
        assert_eq!(
            c.rule("dev", "r.example/app").unwrap().failure,
            Failure::Open
        );
        assert!(c.namespace_exempt("kube-system"));
        assert!(!c.namespace_exempt("kube-system-not"));
        assert!(c.image_exempt("registry.k8s.io/pause"));
        // `*` in an image glob does not cross a `/`.
        let one = load(&GOOD.replace("r.example/**", "r.example/*")).unwrap();
        assert_eq!(
            one.rule("prod-eu", "r.example/team/app").unwrap().name,
            "rest"
        );
        assert!(c.trust_digest.starts_with("sha256:"));
    }

    #[test]
    fn broken_configurations_are_refused() {
        let cases = [
            (
                GOOD.replace("admission/v1", "admission/v2").leak() as &str,
                "apiVersion",
            ),
            ("", "missing field"),
            ("{", ""),
        ];
        for (yaml, needle) in cases {
            let e = load(yaml).unwrap_err();
            assert_eq!(e.code(), "admission.config");
            assert!(e.to_string().contains(needle), "{e}");
        }
        for (from, to, needle) in [
            ("mode: enforce", "mode: enforcing", "unknown variant"),
            ("failOpen: true", "failopen: true", "unknown field"),
            ("keys: [k.pub]", "keys: [missing.pub]", "missing.pub"),
            ("keys: [k.pub]", "keys: []", "no trust"),
            ("prod-*", "prod-[", "glob"),
            ("rules:", "deadline: 40s\nrules:", "deadline"),
        ] {
            let e = load(&GOOD.replace(from, to)).unwrap_err();
            assert!(e.to_string().contains(needle), "{from} -> {to}: {e}");
        }
    }

    #[test]
    fn the_trust_digest_follows_what_is_trusted() {
        let a = load(GOOD).unwrap();
        let b = load(&GOOD.replace("mode: warn", "mode: audit")).unwrap();
        assert_eq!(a.trust_digest, b.trust_digest);
        let c = load(&GOOD.replace(
            "keys: [k.pub]",
            "keys: [k.pub]\n  identities:\n    - identity: a@b\n      issuer: https://i",
        ))
        .unwrap();
        assert_ne!(a.trust_digest, c.trust_digest);
    }
}
