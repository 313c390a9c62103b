//! OCI references as users write them: `oci://REGISTRY/REPO[:TAG][@sha256:HEX]`.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A parsed `oci://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// The repository path, e.g. `demo/app`.
    pub repository: String,
    /// The tag, if given.
    pub tag: Option<String>,
    /// The manifest digest (`sha256:<hex>`), if given.
    pub digest: Option<String>,
}

fn bad(text: &str, why: &str) -> Error {
    Error::Reference {
        reference: text.to_owned(),
        message: why.to_owned(),
    }
}

fn valid_repository(repo: &str) -> bool {
    // distribution-spec: path components of [a-z0-9]+ joined by separators [._-] or "__".
    !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                && c.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
        })
}

fn valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    tag.len() <= 128
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

impl FromStr for Reference {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let rest = text
            .strip_prefix("oci://")
            .ok_or_else(|| bad(text, "must start with oci://"))?;
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad(text, "has no repository"))?;
        if registry.is_empty() || registry.contains('@') {
            return Err(bad(
                text,
                "has no registry host (or carries credentials, which are never accepted in references)",
            ));
        }
        let (name, digest) = match path.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (path, None),
        };
        // A tag follows the last ':' after the last '/'.
        let (repository, tag) = match name.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_owned())),
            _ => (name, None),
        };
        if !valid_repository(repository) {
            return Err(bad(
                text,
                "has an invalid repository name (lowercase letters, digits, '.', '_', '-', '/')",
            ));
        }
        if tag.as_deref().is_some_and(|t| !valid_tag(t)) {
            return Err(bad(text, "has an invalid tag"));
        }
        if digest.as_deref().is_some_and(|d| !valid_digest(d)) {
            return Err(bad(
                text,
                "has an invalid digest (expected sha256:<64 lowercase hex>)",
            ));
        }
        if tag.is_none() && digest.is_none() {
            return Err(bad(
                text,
                "names neither a tag nor a digest (add :TAG or @sha256:HEX)",
            ));
        }
        Ok(Reference {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }
}

impl Reference {
    /// A repository named without an artifact (`oci://REGISTRY/REPO`), for listing its tags:
    /// the same rules as a full reference; `tag` and `digest` are `None`.
    pub fn repository(text: &str) -> Result<Reference, Error> {
        if text.contains('@')
            || text
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':'))
        {
            return Err(bad(text, "names an artifact: give the repository alone"));
        }
        // A placeholder tag lets the one parser check the registry and the repository.
        let parsed: Reference = format!("{text}:_").parse()?;
        Ok(Reference {
            tag: None,
            ..parsed
        })
    }

    /// The same repository at `digest`.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_owned()),
            ..self.clone()
        }
    }

    /// The reference to request a manifest by: the digest when known, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_repository_alone() {
        let r = super::Reference::repository("oci://127.0.0.1:5000/plant/hmi").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("127.0.0.1:5000", "plant/hmi")
        );
        assert!(r.tag.is_none() && r.digest.is_none());
        for bad in [
            "oci://h/plant/hmi:v1",
            "oci://h/plant/hmi@sha256:00",
            "oci://h",
            "h/plant/hmi",
            "oci://h/Plant",
        ] {
            assert!(super::Reference::repository(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn parses_tags_digests_and_ports() {
        let r: Reference = "oci://127.0.0.1:5000/demo/app:v1".parse().unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "demo/app", Some("v1"))
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let r: Reference = format!("oci://ghcr.io/o/app@{d}").parse().unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.to_string(), format!("oci://ghcr.io/o/app@{d}"));
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "ghcr.io/o/app:v1",
            "oci://ghcr.io/O/App:v1",
            "oci://ghcr.io/o/app",
            "oci://user:pw@ghcr.io/o/app:v1",
            "oci://ghcr.io/o/app:-bad",
            "oci://ghcr.io/o/app@sha256:abc",
            "oci://ghcr.io/o/../x:v1",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "{bad}");
        }
    }
}
