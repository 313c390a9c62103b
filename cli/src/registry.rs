//! Registry options shared by the commands that accept `oci://` references.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use hallmark_remote::registry::client::{ClientOptions, Credentials, RegistryClient};

use crate::signing::read_limited;

/// How to reach registries.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// INSECURE: reach this registry (`host:port`) over plain HTTP. Meant for loopback test
    /// registries; Hallmark warns each time. Repeatable.
    #[arg(long, value_name = "HOST:PORT")]
    pub allow_insecure_registry: Vec<String>,
    /// Trust this CA (PEM) for registry TLS instead of the web PKI roots.
    #[arg(long, value_name = "FILE")]
    pub registry_ca: Option<PathBuf>,
}

/// Credentials for `registry` from the environment, without ever printing them:
/// `HALLMARK_REGISTRY_USERNAME`/`_PASSWORD`; on GitLab CI `CI_REGISTRY_USER`/`_PASSWORD` for
/// `CI_REGISTRY`; `GITHUB_TOKEN` for ghcr.io.
pub fn credentials_for(registry: &str, env: &BTreeMap<String, String>) -> Option<Credentials> {
    let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
    if let (Some(username), Some(password)) = (
        get("HALLMARK_REGISTRY_USERNAME"),
        get("HALLMARK_REGISTRY_PASSWORD"),
    ) {
        return Some(Credentials { username, password });
    }
    if get("CI_REGISTRY").as_deref() == Some(registry)
        && let (Some(username), Some(password)) =
            (get("CI_REGISTRY_USER"), get("CI_REGISTRY_PASSWORD"))
    {
        return Some(Credentials { username, password });
    }
    if registry == "ghcr.io"
        && let Some(password) = get("GITHUB_TOKEN")
    {
        let username = get("GITHUB_ACTOR").unwrap_or_else(|| "token".to_owned());
        return Some(Credentials { username, password });
    }
    None
}

impl RegistryArgs {
    /// A client for `registry`.
    pub fn client(&self, registry: &str, env: &BTreeMap<String, String>) -> Result<RegistryClient> {
        if self.allow_insecure_registry.iter().any(|h| h == registry) {
            eprintln!(
                "hallmark: warning: talking to {registry} over plain HTTP (--allow-insecure-registry)"
            );
        }
        let ca_pem = match &self.registry_ca {
            Some(path) => Some(
                read_limited(path, 1024 * 1024)
                    .with_context(|| format!("reading {}", path.display()))?,
            ),
            None => None,
        };
        Ok(RegistryClient::new(ClientOptions {
            insecure_hosts: self.allow_insecure_registry.clone(),
            credentials: credentials_for(registry, env),
            ca_pem,
            timeout: None,
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn picks_credentials_per_registry() {
        let gl = env(&[
            ("CI_REGISTRY", "registry.gitlab.com"),
            ("CI_REGISTRY_USER", "u"),
            ("CI_REGISTRY_PASSWORD", "p"),
        ]);
        assert_eq!(
            credentials_for("registry.gitlab.com", &gl)
                .unwrap()
                .username,
            "u"
        );
        assert!(credentials_for("ghcr.io", &gl).is_none());
        let gh = env(&[("GITHUB_TOKEN", "s3cr3t-token"), ("GITHUB_ACTOR", "octo")]);
        assert_eq!(credentials_for("ghcr.io", &gh).unwrap().username, "octo");
        let shown = format!("{:?}", credentials_for("ghcr.io", &gh).unwrap());
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
