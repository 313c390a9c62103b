//! A small, blocking OCI distribution client: manifests, blobs, the referrers API, token and
//! basic auth, retries with backoff, size limits, TLS by default.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ureq::Agent;
use ureq::http::{Method, Request, Response, StatusCode};

use super::reference::Reference;
use crate::oci::sha256_digest;
use crate::{Error, Result};

/// Media types a manifest request accepts.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// Attempts per request (transport errors, 5xx and 429 are retried).
const ATTEMPTS: u32 = 4;

/// Registry credentials. `Debug` never shows the password.
#[derive(Clone)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Hosts (`host:port`) reached over plain HTTP. Insecure: for loopback test registries.
    pub insecure_hosts: Vec<String>,
    /// Credentials for every registry (from `HALLMARK_REGISTRY_USERNAME`/`_PASSWORD`).
    pub credentials: Option<Credentials>,
    /// Extra CA certificates (PEM) to trust instead of the web PKI roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Per-request timeout.
    pub timeout: Option<Duration>,
}

/// A manifest as fetched: bytes (digest-checked), media type and digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The raw bytes.
    pub bytes: Vec<u8>,
    /// The `Content-Type`.
    pub media_type: String,
    /// `sha256:<hex>` of the bytes.
    pub digest: String,
}

/// The client. Its `Debug` never shows cached tokens or credentials.
pub struct RegistryClient {
    agent: Agent,
    options: ClientOptions,
    tokens: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("insecure_hosts", &self.options.insecure_hosts)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// A client with these options.
    pub fn new(options: ClientOptions) -> Result<Self> {
        let agent = crate::http::agent(options.ca_pem.as_deref(), options.timeout)?;
        Ok(RegistryClient {
            agent,
            options,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    fn base(&self, registry: &str) -> String {
        let scheme = if self.options.insecure_hosts.iter().any(|h| h == registry) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{registry}/v2")
    }

    /// `scheme://registry` of this registry.
    fn origin(&self, registry: &str) -> String {
        self.base(registry).trim_end_matches("/v2").to_owned()
    }

    /// True when `url` is on this registry's own origin (scheme, host and port).
    fn same_origin(&self, registry: &str, url: &str) -> bool {
        url.starts_with(&format!("{}/", self.origin(registry)))
    }

    /// Resolves a `Location` or `Link` target: a path is taken relative to the registry; an
    /// absolute URL is kept (it may be a storage backend) but never receives credentials.
    fn resolve_url(&self, registry: &str, target: &str) -> Result<String> {
        if target.starts_with('/') {
            return Ok(format!("{}{target}", self.origin(registry)));
        }
        if target.starts_with("https://") || target.starts_with("http://") {
            return Ok(target.to_owned());
        }
        Err(Self::err(
            registry,
            format!("unusable URL {target:?} in a response"),
        ))
    }

    fn err(registry: &str, message: impl Into<String>) -> Error {
        Error::Registry {
            registry: registry.to_owned(),
            message: message.into(),
        }
    }

    /// Sends one request, handling auth challenges and retrying transient failures.
    fn send(
        &self,
        registry: &str,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        scope: &str,
    ) -> Result<Response<ureq::Body>> {
        let mut challenge_answered = false;
        let mut attempt = 0;
        // A caller's timeout bounds the retries too: no backoff sleeps past it.
        let give_up = self.options.timeout.map(|t| std::time::Instant::now() + t);
        loop {
            attempt += 1;
            let mut builder = Request::builder().method(method.clone()).uri(url);
            for (k, v) in headers {
                builder = builder.header(*k, *v);
            }
            // Credentials only ever go to the registry itself, never to a host a response named.
            if let Some(auth) = self
                .authorization(registry, scope)
                .filter(|_| self.same_origin(registry, url))
            {
                builder = builder.header("Authorization", auth);
            }
            let request = builder
                .body(body.to_vec())
                .map_err(|e| Self::err(registry, e.to_string()))?;
            let result = self.agent.run(request);
            // A registry that serves plain HTTP answers the same way every time: not retried.
            if let Err(e) = &result
                && crate::http::answered_without_tls(e)
                && self.same_origin(registry, url)
            {
                return Err(Error::PlainHttp {
                    registry: registry.to_owned(),
                });
            }
            let retryable = match &result {
                Ok(r) => {
                    r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS
                }
                Err(_) => true,
            };
            let backoff = Duration::from_millis(150 * 4u64.pow(attempt - 1));
            let in_time = give_up.is_none_or(|g| std::time::Instant::now() + backoff < g);
            if retryable && attempt < ATTEMPTS && in_time {
                std::thread::sleep(backoff);
                continue;
            }
            let response =
                result.map_err(|e| Self::err(registry, format!("{method} {url}: {e}")))?;
            if response.status() == StatusCode::UNAUTHORIZED && !challenge_answered {
                challenge_answered = true;
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                self.answer_challenge(registry, &challenge, scope)?;
                attempt = 0;
                continue;
            }
            return Ok(response);
        }
    }

    fn authorization(&self, registry: &str, scope: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(&format!("{registry} {scope}")).cloned()
    }

    fn basic(&self) -> Option<String> {
        self.options.credentials.as_ref().map(|c| {
            format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", c.username, c.password))
            )
        })
    }

    fn answer_challenge(&self, registry: &str, challenge: &str, scope: &str) -> Result<()> {
        let value = if let Some(params) = challenge.strip_prefix("Bearer ") {
            let param = |name: &str| {
                params.split(',').find_map(|p| {
                    let (k, v) = p.trim().split_once('=')?;
                    (k == name).then(|| v.trim_matches('"').to_owned())
                })
            };
            let realm = param("realm")
                .ok_or_else(|| Self::err(registry, "token challenge without a realm"))?;
            let insecure_ok = self.options.insecure_hosts.iter().any(|h| h == registry);
            if !(realm.starts_with("https://") || (insecure_ok && realm.starts_with("http://"))) {
                return Err(Self::err(
                    registry,
                    format!("refusing token realm {realm:?}: not https"),
                ));
            }
            let mut url = format!("{realm}?scope={}", percent(scope));
            if let Some(service) = param("service") {
                url.push_str(&format!("&service={}", percent(&service)));
            }
            let mut builder = Request::builder().method(Method::GET).uri(&url);
            if let Some(basic) = self.basic() {
                builder = builder.header("Authorization", basic);
            }
            let request = builder
                .body(Vec::new())
                .map_err(|e| Self::err(registry, e.to_string()))?;
            let mut response = self
                .agent
                .run(request)
                .map_err(|e| Self::err(registry, format!("token request: {e}")))?;
            if !response.status().is_success() {
                return Err(Self::err(
                    registry,
                    format!(
                        "token request refused ({}); check the registry credentials",
                        response.status()
                    ),
                ));
            }
            let body =
                read_limited(&mut response, 64 * 1024).map_err(|m| Self::err(registry, m))?;
            let json: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|_| Self::err(registry, "token response is not JSON"))?;
            let token = json
                .get("token")
                .or_else(|| json.get("access_token"))
                .and_then(|t| t.as_str())
                .ok_or_else(|| Self::err(registry, "token response has no token"))?;
            format!("Bearer {token}")
        } else if challenge.starts_with("Basic") {
            self.basic().ok_or_else(|| {
                Self::err(registry, "the registry wants credentials: set HALLMARK_REGISTRY to this host with HALLMARK_REGISTRY_USERNAME and HALLMARK_REGISTRY_PASSWORD, or log in with docker")
            })?
        } else {
            return Err(Self::err(
                registry,
                "unauthorized, with no usable challenge",
            ));
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.insert(format!("{registry} {scope}"), value);
        Ok(())
    }

    fn scope(reference: &Reference, push: bool) -> String {
        format!(
            "repository:{}:{}",
            reference.repository,
            if push { "pull,push" } else { "pull" }
        )
    }

    /// Fetches a manifest by tag or digest; `Ok(None)` when the registry says 404.
    pub fn get_manifest(
        &self,
        reference: &Reference,
        limit: u64,
    ) -> Result<Option<FetchedManifest>> {
        let url = format!(
            "{}/{}/manifests/{}",
            self.base(&reference.registry),
            reference.repository,
            reference.manifest_reference()
        );
        let mut response = self.send(
            &reference.registry,
            Method::GET,
            &url,
            &[("Accept", MANIFEST_ACCEPT)],
            &[],
            &Self::scope(reference, false),
        )?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(Self::err(
                &reference.registry,
                format!("GET manifest {reference}: {}", response.status()),
            ));
        }
        let media_type = header(&response, "content-type");
        let bytes =
            read_limited(&mut response, limit).map_err(|m| Self::err(&reference.registry, m))?;
        let digest = sha256_digest(&bytes);
        if let Some(expected) = &reference.digest
            && expected != &digest
        {
            return Err(Self::err(
                &reference.registry,
                format!("manifest {reference} has digest {digest}"),
            ));
        }
        Ok(Some(FetchedManifest {
            bytes,
            media_type,
            digest,
        }))
    }

    /// Stores a manifest under `tag_or_digest`; returns its digest.
    pub fn put_manifest(
        &self,
        reference: &Reference,
        tag_or_digest: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<String> {
        let url = format!(
            "{}/{}/manifests/{tag_or_digest}",
            self.base(&reference.registry),
            reference.repository
        );
        let response = self.send(
            &reference.registry,
            Method::PUT,
            &url,
            &[("Content-Type", media_type)],
            bytes,
            &Self::scope(reference, true),
        )?;
        if !response.status().is_success() {
            return Err(Self::err(
                &reference.registry,
                format!("PUT manifest {tag_or_digest}: {}", response.status()),
            ));
        }
        Ok(sha256_digest(bytes))
    }

    /// Uploads a blob unless the registry has it; returns its digest.
    pub fn put_blob(&self, reference: &Reference, bytes: &[u8]) -> Result<String> {
        let digest = sha256_digest(bytes);
        let scope = Self::scope(reference, true);
        let base = self.base(&reference.registry);
        let head = format!("{base}/{}/blobs/{digest}", reference.repository);
        if self
            .send(&reference.registry, Method::HEAD, &head, &[], &[], &scope)?
            .status()
            .is_success()
        {
            return Ok(digest);
        }
        let start = format!("{base}/{}/blobs/uploads/", reference.repository);
        let response = self.send(&reference.registry, Method::POST, &start, &[], &[], &scope)?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(Self::err(
                &reference.registry,
                format!("starting a blob upload: {}", response.status()),
            ));
        }
        let location = header(&response, "location");
        let location = self.resolve_url(&reference.registry, &location)?;
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={digest}");
        let response = self.send(
            &reference.registry,
            Method::PUT,
            &url,
            &[("Content-Type", "application/octet-stream")],
            bytes,
            &scope,
        )?;
        if response.status() != StatusCode::CREATED {
            return Err(Self::err(
                &reference.registry,
                format!("uploading blob {digest}: {}", response.status()),
            ));
        }
        Ok(digest)
    }

    /// Uploads the file at `path` as the blob `digest` (its content already checked), streamed
    /// from disk in one monolithic PUT, unless the registry has it. The file is read afresh for
    /// each attempt.
    pub fn put_blob_file(
        &self,
        reference: &Reference,
        path: &std::path::Path,
        digest: &str,
    ) -> Result<()> {
        let scope = Self::scope(reference, true);
        let base = self.base(&reference.registry);
        let head = format!("{base}/{}/blobs/{digest}", reference.repository);
        if self
            .send(&reference.registry, Method::HEAD, &head, &[], &[], &scope)?
            .status()
            .is_success()
        {
            return Ok(());
        }
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let start = format!("{base}/{}/blobs/uploads/", reference.repository);
            let response =
                self.send(&reference.registry, Method::POST, &start, &[], &[], &scope)?;
            if response.status() != StatusCode::ACCEPTED {
                return Err(Self::err(
                    &reference.registry,
                    format!("starting a blob upload: {}", response.status()),
                ));
            }
            let location = self.resolve_url(&reference.registry, &header(&response, "location"))?;
            let separator = if location.contains('?') { '&' } else { '?' };
            let url = format!("{location}{separator}digest={digest}");
            let file = std::fs::File::open(path).map_err(Error::io(path))?;
            let mut builder = Request::builder()
                .method(Method::PUT)
                .uri(&url)
                .header("Content-Type", "application/octet-stream");
            if let Some(auth) = self
                .authorization(&reference.registry, &scope)
                .filter(|_| self.same_origin(&reference.registry, &url))
            {
                builder = builder.header("Authorization", auth);
            }
            let request = builder
                .body(file)
                .map_err(|e| Self::err(&reference.registry, e.to_string()))?;
            match self.agent.run(request) {
                Ok(r) if r.status() == StatusCode::CREATED => return Ok(()),
                Ok(r)
                    if !(r.status().is_server_error()
                        || r.status() == StatusCode::TOO_MANY_REQUESTS) =>
                {
                    return Err(Self::err(
                        &reference.registry,
                        format!("uploading blob {digest}: {}", r.status()),
                    ));
                }
                Ok(r) => last = r.status().to_string(),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(150 * 4u64.pow(attempt - 1)));
        }
        Err(Self::err(
            &reference.registry,
            format!("uploading blob {digest}: {last}"),
        ))
    }

    /// Downloads a blob into `out` as it arrives (bounded memory), hashing it on the way;
    /// refuses more than `limit` bytes and content that is not `digest` (the caller discards
    /// what was written then). Returns the size.
    pub fn get_blob_into(
        &self,
        reference: &Reference,
        digest: &str,
        limit: u64,
        out: &mut dyn std::io::Write,
    ) -> Result<u64> {
        use std::io::Read;
        let url = format!(
            "{}/{}/blobs/{digest}",
            self.base(&reference.registry),
            reference.repository
        );
        let mut response = self.send(
            &reference.registry,
            Method::GET,
            &url,
            &[],
            &[],
            &Self::scope(reference, false),
        )?;
        if !response.status().is_success() {
            return Err(Self::err(
                &reference.registry,
                format!("GET blob {digest}: {}", response.status()),
            ));
        }
        let mut reader = response.body_mut().with_config().limit(limit).reader();
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut buffer = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = reader.read(&mut buffer).map_err(|e| {
                Self::err(
                    &reference.registry,
                    format!("reading blob {digest} (limit {limit} bytes): {e}"),
                )
            })?;
            if n == 0 {
                break;
            }
            context.update(&buffer[..n]);
            out.write_all(&buffer[..n]).map_err(|e| {
                Self::err(&reference.registry, format!("writing blob {digest}: {e}"))
            })?;
            size += n as u64;
        }
        let actual = hallmark_model::digest::Digest::from_bytes(
            hallmark_model::digest::DigestAlgorithm::Sha256,
            context.finish().as_ref(),
        )
        .to_string();
        if actual != digest {
            return Err(Self::err(
                &reference.registry,
                format!("blob {digest} has digest {actual}"),
            ));
        }
        Ok(size)
    }

    /// Downloads a blob, refusing more than `limit` bytes and content that is not `digest`.
    pub fn get_blob(&self, reference: &Reference, digest: &str, limit: u64) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.get_blob_into(reference, digest, limit, &mut bytes)?;
        Ok(bytes)
    }

    /// The referrers index for `digest` from the OCI 1.1 referrers API; `Ok(None)` when the
    /// registry has no such API (404), so the caller falls back to the tag schema.
    pub fn referrers(
        &self,
        reference: &Reference,
        digest: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>> {
        let url = format!(
            "{}/{}/referrers/{digest}",
            self.base(&reference.registry),
            reference.repository
        );
        let mut response = self.send(
            &reference.registry,
            Method::GET,
            &url,
            &[("Accept", "application/vnd.oci.image.index.v1+json")],
            &[],
            &Self::scope(reference, false),
        )?;
        let is_index = header(&response, "content-type")
            .starts_with("application/vnd.oci.image.index.v1+json");
        // Only "no such API" means fall back; an auth or server error is an error.
        if response.status() == StatusCode::NOT_FOUND
            || (response.status().is_success() && !is_index)
        {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(Self::err(
                &reference.registry,
                format!("GET referrers: {}", response.status()),
            ));
        }
        read_limited(&mut response, limit)
            .map(Some)
            .map_err(|m| Self::err(&reference.registry, m))
    }
}

impl RegistryClient {
    /// Every tag of the repository that starts with `prefix`, following pagination.
    pub fn tags_with_prefix(&self, reference: &Reference, prefix: &str) -> Result<Vec<String>> {
        let base = self.base(&reference.registry);
        let mut url = format!("{base}/{}/tags/list?n=1000", reference.repository);
        let mut found = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let mut response = self.send(
                &reference.registry,
                Method::GET,
                &url,
                &[],
                &[],
                &Self::scope(reference, false),
            )?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(found);
            }
            if !response.status().is_success() {
                return Err(Self::err(
                    &reference.registry,
                    format!("listing tags: {}", response.status()),
                ));
            }
            let link = header(&response, "link");
            let body = read_limited(&mut response, 16 * 1024 * 1024)
                .map_err(|m| Self::err(&reference.registry, m))?;
            let page: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|_| Self::err(&reference.registry, "tag list is not JSON"))?;
            found.extend(
                page["tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str())
                    .filter(|t| t.starts_with(prefix))
                    .map(str::to_owned),
            );
            // RFC 5988 `Link: </v2/...?last=x&n=1000>; rel="next"`.
            match link
                .split_once('<')
                .and_then(|(_, rest)| rest.split_once('>'))
            {
                Some((next, _)) if link.contains("rel=\"next\"") => {
                    url = self.resolve_url(&reference.registry, next)?;
                }
                _ => return Ok(found),
            }
        }
        Err(Self::err(
            &reference.registry,
            format!("more than {MAX_TAG_PAGES} pages of tags"),
        ))
    }
}

/// Pages of a tag listing read at most.
const MAX_TAG_PAGES: usize = 100;

fn header(response: &Response<ureq::Body>, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn read_limited(
    response: &mut Response<ureq::Body>,
    limit: u64,
) -> std::result::Result<Vec<u8>, String> {
    response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| format!("reading the response (limit {limit} bytes): {e}"))
}

/// Percent-encodes a query value.
fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_leave_the_registry_origin() {
        let client = RegistryClient::new(ClientOptions {
            insecure_hosts: vec!["127.0.0.1:5000".into()],
            ..Default::default()
        })
        .unwrap();
        assert!(client.same_origin(
            "127.0.0.1:5000",
            "http://127.0.0.1:5000/v2/x/blobs/uploads/1"
        ));
        assert!(!client.same_origin("127.0.0.1:5000", "http://127.0.0.1:5000@evil.example/v2/x"));
        assert!(!client.same_origin("127.0.0.1:5000", "http://127.0.0.1:50001/v2/x"));
        assert!(
            !client.same_origin("reg.example", "http://reg.example/v2/x"),
            "https registry, http URL"
        );
        assert_eq!(
            client
                .resolve_url("127.0.0.1:5000", "/v2/x/tags/list?last=a")
                .unwrap(),
            "http://127.0.0.1:5000/v2/x/tags/list?last=a"
        );
        assert!(
            client
                .resolve_url("127.0.0.1:5000", "@evil.example/v2/x")
                .is_err()
        );
        let shown = format!("{client:?}");
        assert!(!shown.contains("tokens"), "{shown}");
    }
}
