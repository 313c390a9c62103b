//! Container image references as Kubernetes objects write them (`nginx`, `nginx:1.27`,
//! `registry.example:5000/team/app@sha256:…`), normalised the way container runtimes do, and
//! their pinned form.

use hallmark_remote::registry::reference::Reference;

use crate::Error;

/// The registry of references without one (Docker Hub, as container runtimes assume).
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// The host that serves Docker Hub's registry API (`docker.io` names the hub, not the API).
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// Longest image reference accepted.
const MAX_IMAGE: usize = 1024;

/// An image reference, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// As written in the object.
    pub written: String,
    /// The name as written, without tag or digest (what a pinned reference keeps).
    pub name: String,
    /// The registry as runtimes name it (`docker.io` for Docker Hub).
    pub registry: String,
    /// The registry reference it stands for: the API host, repository, tag, digest.
    pub reference: Reference,
}

fn bad(image: &str, message: impl Into<String>) -> Error {
    Error::Image {
        image: crate::review::short(image),
        message: message.into(),
    }
}

impl ImageRef {
    /// Parses `image` as a container runtime would: a first path component with a `.` or `:`
    /// (or `localhost`) is the registry, else Docker Hub (`library/` for one-component names);
    /// no tag and no digest means `latest`.
    pub fn parse(image: &str) -> Result<ImageRef, Error> {
        if image.len() > MAX_IMAGE || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(image, "is too long or holds white space"));
        }
        let (name_tag, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        let (name, tag) = match name_tag.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (name_tag, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), rest.to_owned())
            }
            Some(_) => (DEFAULT_REGISTRY.to_owned(), name.to_owned()),
            None => (DEFAULT_REGISTRY.to_owned(), format!("library/{name}")),
        };
        let tag = match (tag, digest) {
            (None, None) => Some("latest"),
            (t, _) => t,
        };
        let host = if registry == DEFAULT_REGISTRY || registry == "index.docker.io" {
            DOCKER_HUB_API
        } else {
            registry.as_str()
        };
        let mut text = format!("oci://{host}/{repository}");
        if let Some(t) = tag {
            text.push(':');
            text.push_str(t);
        }
        if let Some(d) = digest {
            text.push('@');
            text.push_str(d);
        }
        let reference: Reference = text.parse().map_err(|e: hallmark_remote::Error| {
            let message = match e {
                hallmark_remote::Error::Reference { message, .. } => message,
                other => other.to_string(),
            };
            bad(image, message)
        })?;
        Ok(ImageRef {
            written: image.to_owned(),
            name: name.to_owned(),
            registry,
            reference,
        })
    }

    /// `registry/repository`, what rule and exemption globs are matched against: one spelling
    /// per image, so `nginx` and `docker.io/library/nginx` cannot be told apart by a glob.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.registry, self.reference.repository)
    }

    /// The digest the reference names, if it names one.
    pub fn digest(&self) -> Option<&str> {
        self.reference.digest.as_deref()
    }

    /// The name as written, pinned to `digest`: what runs is what was verified.
    pub fn pinned(&self, digest: &str) -> String {
        format!("{}@{digest}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn normalises_as_runtimes_do() {
        let cases = [
            ("nginx", "docker.io/library/nginx", Some("latest"), None),
            ("nginx:1.27", "docker.io/library/nginx", Some("1.27"), None),
            ("team/app:v1", "docker.io/team/app", Some("v1"), None),
            ("localhost/app", "localhost/app", Some("latest"), None),
            (
                "127.0.0.1:5000/demo/app:v1",
                "127.0.0.1:5000/demo/app",
                Some("v1"),
                None,
            ),
            (
                &format!("r.example/app@{D}"),
                "r.example/app",
                None,
                Some(D),
            ),
            (
                &format!("r.example/app:v2@{D}"),
                "r.example/app",
                Some("v2"),
                Some(D),
            ),
        ];
        for (image, repository, tag, digest) in cases {
            let r = ImageRef::parse(image).unwrap();
            assert_eq!(r.repository(), repository, "{image}");
            assert_eq!(r.reference.tag.as_deref(), tag, "{image}");
            assert_eq!(r.digest(), digest, "{image}");
        }
        assert_eq!(
            ImageRef::parse("nginx").unwrap().reference.registry,
            DOCKER_HUB_API
        );
        let r = ImageRef::parse("127.0.0.1:5000/demo/app:v1").unwrap();
        assert_eq!(r.pinned(D), format!("127.0.0.1:5000/demo/app@{D}"));
        assert_eq!(
            ImageRef::parse("nginx:1").unwrap().pinned(D),
            format!("nginx@{D}")
        );
    }

    #[test]
    fn refuses_what_no_runtime_would_pull() {
        for image in [
            "",
            "UPPER/app",
            "r.example/app@sha256:short",
            "r.example/app:bad tag",
            "user:pw@r.example/app",
            "r.example/app:",
        ] {
            assert_eq!(
                ImageRef::parse(image).unwrap_err().code(),
                "admission.image",
                "{image}"
            );
        }
    }
}
