//! Registry options shared by the commands that accept `oci://` references.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use hallmark_remote::registry::client::{ClientOptions, Credentials, RegistryClient};
use hallmark_remote::registry::docker_config::{DockerConfig, MAX_DOCKER_CONFIG_BYTES};

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

/// Credentials for `registry`, without ever printing them, from (first match wins):
/// `HALLMARK_REGISTRY_USERNAME`/`_PASSWORD` when `HALLMARK_REGISTRY` names this host (comma-separated list); on GitLab CI `CI_REGISTRY_USER`/`_PASSWORD` for
/// `CI_REGISTRY`; `GITHUB_TOKEN` for ghcr.io; docker's `config.json` (`credHelpers`,
/// `credsStore`, `auths`) in `$DOCKER_CONFIG` or `~/.docker`.
pub fn credentials_for(registry: &str, env: &BTreeMap<String, String>) -> Option<Credentials> {
    from_env(registry, env).or_else(|| from_docker_config(registry, env))
}

fn from_docker_config(registry: &str, env: &BTreeMap<String, String>) -> Option<Credentials> {
    let dir = match env.get("DOCKER_CONFIG") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env.get("HOME")?).join(".docker"),
    };
    let bytes = read_limited(&dir.join("config.json"), MAX_DOCKER_CONFIG_BYTES).ok()?;
    let config = DockerConfig::parse(&bytes).ok()?;
    if let Some(helper) = config.helper(registry)
        && let Some(found) = from_helper(helper, registry, env)
    {
        return Some(found);
    }
    config.auth(registry)
}

/// Asks `docker-credential-<helper> get`, as docker does.
fn from_helper(
    helper: &str,
    registry: &str,
    env: &BTreeMap<String, String>,
) -> Option<Credentials> {
    use std::io::Write;
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let mut command = std::process::Command::new(format!("docker-credential-{helper}"));
    // A helper named in a config file the build could write must not see what Hallmark signs with.
    for name in hallmark_attester::step::SIGNING_ENV {
        command.env_remove(name);
    }
    if let Some(path) = env.get("PATH") {
        command.env("PATH", path);
    }
    let mut child = command
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(registry.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() || output.stdout.len() > 64 * 1024 {
        return None;
    }
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    Some(Credentials {
        username: answer["Username"].as_str()?.to_owned(),
        password: answer["Secret"].as_str()?.to_owned(),
    })
}

fn from_env(registry: &str, env: &BTreeMap<String, String>) -> Option<Credentials> {
    let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
    if let (Some(username), Some(password)) = (
        get("HALLMARK_REGISTRY_USERNAME"),
        get("HALLMARK_REGISTRY_PASSWORD"),
    ) {
        // Credentials go only to the registries they were given for: a command pointed at
        // another registry must never hand them over.
        let hosts = get("HALLMARK_REGISTRY").unwrap_or_default();
        if hosts.split(',').any(|h| h.trim() == registry) {
            return Some(Credentials { username, password });
        }
        if hosts.is_empty() {
            eprintln!(
                "hallmark: warning: HALLMARK_REGISTRY_USERNAME/PASSWORD ignored: set HALLMARK_REGISTRY to the registry host(s) they are for"
            );
        }
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
    fn reads_docker_config_auths_and_credential_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "bob:pw1");
        std::fs::write(
            dir.path().join("config.json"),
            format!(r#"{{"auths":{{"https://reg.example":{{"auth":"{auth}"}}}},"credHelpers":{{"helped.example":"fake"}}}}"#),
        )
        .unwrap();
        let helper = dir.path().join("docker-credential-fake");
        std::fs::write(&helper, "#!/bin/sh\nread host\necho \"{\\\"Username\\\":\\\"carol\\\",\\\"Secret\\\":\\\"pw-$host\\\"}\"\n").unwrap();
        std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let e = env(&[
            ("DOCKER_CONFIG", dir.path().to_str().unwrap()),
            ("PATH", &format!("{}:/usr/bin:/bin", dir.path().display())),
        ]);
        let c = credentials_for("reg.example", &e).unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("bob", "pw1"));
        let c = credentials_for("helped.example", &e).unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("carol", "pw-helped.example")
        );
        assert!(credentials_for("other.example", &e).is_none());
    }

    #[test]
    fn env_credentials_only_go_to_the_named_registry() {
        let e = env(&[
            ("HALLMARK_REGISTRY", "reg.corp:5000, other.corp"),
            ("HALLMARK_REGISTRY_USERNAME", "u"),
            ("HALLMARK_REGISTRY_PASSWORD", "p"),
        ]);
        assert!(credentials_for("reg.corp:5000", &e).is_some());
        assert!(credentials_for("other.corp", &e).is_some());
        assert!(credentials_for("evil.example", &e).is_none());
        let unnamed = env(&[
            ("HALLMARK_REGISTRY_USERNAME", "u"),
            ("HALLMARK_REGISTRY_PASSWORD", "p"),
        ]);
        assert!(credentials_for("reg.corp:5000", &unnamed).is_none());
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
