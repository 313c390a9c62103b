//! Registry credentials from Docker's `config.json`, which is also the `.dockerconfigjson` of a
//! Kubernetes `kubernetes.io/dockerconfigjson` Secret (image pull secrets).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::client::Credentials;

/// Largest config file read.
pub const MAX_DOCKER_CONFIG_BYTES: u64 = 1024 * 1024;

/// The names Docker Hub goes by in `auths` keys.
const DOCKER_HUB: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "index.docker.io/v1",
];

/// A parsed config: `auths` (base64 `user:password` in `auth`, or `username`/`password`),
/// `credHelpers` and `credsStore`.
#[derive(Clone)]
pub struct DockerConfig {
    value: serde_json::Value,
}

impl std::fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets: only which registries it has credentials for.
        let hosts: Vec<&String> = self
            .value
            .get("auths")
            .and_then(|a| a.as_object())
            .map(|a| a.keys().collect())
            .unwrap_or_default();
        f.debug_struct("DockerConfig")
            .field("auths", &hosts)
            .finish()
    }
}

/// A registry key as written (`https://host/v1/`) reduced to its host (`host`, `host/v1` for
/// Docker Hub's legacy index).
fn host_of(key: &str) -> &str {
    key.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
}

fn same_registry(key: &str, registry: &str) -> bool {
    let key = host_of(key);
    key == registry || (DOCKER_HUB.contains(&key) && DOCKER_HUB.contains(&registry))
}

impl DockerConfig {
    /// Parses a config file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() as u64 > MAX_DOCKER_CONFIG_BYTES {
            return Err(format!(
                "larger than the {MAX_DOCKER_CONFIG_BYTES}-byte limit"
            ));
        }
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        if !value.is_object() {
            return Err("not a JSON object".into());
        }
        Ok(DockerConfig { value })
    }

    /// The credential helper docker would ask for `registry` (`credHelpers`, else
    /// `credsStore`).
    pub fn helper(&self, registry: &str) -> Option<&str> {
        self.value["credHelpers"][registry]
            .as_str()
            .or_else(|| self.value["credsStore"].as_str())
    }

    /// The `auths` credentials for `registry` (a host, `host:port`), matched by host only:
    /// credentials never go to another registry.
    pub fn auth(&self, registry: &str) -> Option<Credentials> {
        let auths = self.value.get("auths")?.as_object()?;
        let entry = auths.get(registry).or_else(|| {
            auths
                .iter()
                .find_map(|(k, v)| same_registry(k, registry).then_some(v))
        })?;
        if let (Some(username), Some(password)) =
            (entry["username"].as_str(), entry["password"].as_str())
        {
            return Some(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
            });
        }
        let decoded = STANDARD.decode(entry["auth"].as_str()?).ok()?;
        let (username, password) = String::from_utf8(decoded)
            .ok()?
            .split_once(':')
            .map(|(u, p)| (u.to_owned(), p.to_owned()))?;
        Some(Credentials { username, password })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_by_host_in_both_spellings_and_never_for_another_registry() {
        let auth = STANDARD.encode("bob:pw");
        let config = DockerConfig::parse(
            format!(
                r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{auth}"}},
                   "r.example:5000": {{"username": "ci", "password": "tok"}}}}}}"#
            )
            .as_bytes(),
        )
        .unwrap();
        let hub = config.auth("registry-1.docker.io").unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.as_str()),
            ("bob", "pw")
        );
        assert_eq!(config.auth("docker.io").unwrap().username, "bob");
        assert_eq!(config.auth("r.example:5000").unwrap().password, "tok");
        assert!(config.auth("r.example").is_none());
        assert!(config.auth("evil.example").is_none());
        assert!(!format!("{config:?}").contains("tok"));
        assert!(DockerConfig::parse(b"[]").is_err());
    }
}
