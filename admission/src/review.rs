//! AdmissionReview `admission.k8s.io/v1` requests as the API server sends them, parsed at the
//! boundary into a [`Review`]. Untrusted input: size-limited, never a panic.

use serde::Deserialize;
use serde_json::Value;

use crate::Error;

/// Largest review body read: 6 MiB. The API server stores objects of at most 1.5 MiB (etcd's
/// request limit) and a review carries the object and, for UPDATE, the old object.
pub const MAX_REVIEW_BYTES: usize = 6 * 1024 * 1024;

/// The API version of reviews this crate reads and writes.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// Longest `uid`, namespace or name accepted (Kubernetes names are at most 253 bytes).
const MAX_NAME: usize = 253;

/// What the request does to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// A new object.
    Create,
    /// A changed object: judged on what it would run.
    Update,
    /// A deletion: runs nothing.
    Delete,
    /// A connect (exec, attach, port-forward): runs no new image.
    Connect,
}

impl Operation {
    /// The name as Kubernetes writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// One admission request, checked.
#[derive(Debug, Clone)]
pub struct Review {
    /// The request's uid, echoed in the response.
    pub uid: String,
    /// The object's kind (`Pod`, `Deployment`, …).
    pub kind: String,
    /// The object's API group (empty for the core group).
    pub group: String,
    /// The namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// The object's name (may be empty for generated names).
    pub name: String,
    /// What is done to it.
    pub operation: Operation,
    /// True for a dry run: answered the same way, and nothing is recorded beyond the answer.
    pub dry_run: bool,
    /// The object as it would be stored (absent for DELETE).
    pub object: Option<Value>,
}

#[derive(Deserialize)]
struct Wire {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    request: Option<WireRequest>,
}

#[derive(Deserialize)]
struct WireKind {
    #[serde(default)]
    group: String,
    kind: String,
}

#[derive(Deserialize)]
struct WireRequest {
    uid: String,
    kind: WireKind,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
    operation: Operation,
    #[serde(rename = "dryRun", default)]
    dry_run: bool,
    #[serde(default)]
    object: Option<Value>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::Review(message.into())
}

/// The `request.uid` of a body, if one can be read: even a review refused as malformed is
/// answered under its uid when it has one.
pub fn uid_of(body: &[u8]) -> Option<String> {
    if body.len() > MAX_REVIEW_BYTES {
        return None;
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    let uid = v.get("request")?.get("uid")?.as_str()?;
    (uid.len() <= MAX_NAME).then(|| uid.to_owned())
}

impl Review {
    /// Parses a review body.
    pub fn parse(body: &[u8]) -> Result<Review, Error> {
        if body.len() > MAX_REVIEW_BYTES {
            return Err(bad(format!(
                "{} bytes is more than the {MAX_REVIEW_BYTES} bytes accepted",
                body.len()
            )));
        }
        let wire: Wire = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
        if wire.api_version != API_VERSION || wire.kind != "AdmissionReview" {
            return Err(bad(format!(
                "expected kind AdmissionReview of {API_VERSION}, got {:?} of {:?}",
                short(&wire.kind),
                short(&wire.api_version)
            )));
        }
        let r = wire.request.ok_or_else(|| bad("no request"))?;
        for (what, value) in [
            ("uid", &r.uid),
            ("namespace", &r.namespace),
            ("name", &r.name),
            ("kind", &r.kind.kind),
            ("group", &r.kind.group),
        ] {
            if value.len() > MAX_NAME || value.chars().any(char::is_control) {
                return Err(bad(format!("request {what} is too long or not printable")));
            }
        }
        if r.uid.is_empty() {
            return Err(bad("request uid is empty"));
        }
        let object = r.object.filter(|o| !o.is_null());
        if object.is_none() && matches!(r.operation, Operation::Create | Operation::Update) {
            return Err(bad(format!("{} without an object", r.operation.as_str())));
        }
        if object.as_ref().is_some_and(|o| !o.is_object()) {
            return Err(bad("request object is not a JSON object"));
        }
        Ok(Review {
            uid: r.uid,
            kind: r.kind.kind,
            group: r.kind.group,
            namespace: r.namespace,
            name: r.name,
            operation: r.operation,
            dry_run: r.dry_run,
            object,
        })
    }
}

/// At most 64 characters of untrusted text, for messages.
pub fn short(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > 64 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: &str) -> String {
        format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{request}}}"#
        )
    }

    #[test]
    fn reads_a_pod_review() {
        let body = review(
            r#"{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"ns","name":"p","operation":"CREATE","dryRun":true,"object":{"spec":{}}}"#,
        );
        let r = Review::parse(body.as_bytes()).unwrap();
        assert_eq!((r.uid.as_str(), r.kind.as_str()), ("u1", "Pod"));
        assert!(r.dry_run);
        assert_eq!(uid_of(body.as_bytes()).as_deref(), Some("u1"));
    }

    #[test]
    fn malformed_reviews_are_errors_not_panics() {
        let too_big = vec![b' '; MAX_REVIEW_BYTES + 1];
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"{".to_vec(),
            b"null".to_vec(),
            deep.into_bytes(),
            too_big,
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#
                .to_vec(),
            review(r#"{"uid":"","kind":{"kind":"Pod"},"operation":"CREATE","object":{}}"#)
                .into_bytes(),
            review(r#"{"uid":"u","kind":{"kind":"Pod"},"operation":"CREATE"}"#).into_bytes(),
            review(r#"{"uid":"u","kind":{"kind":"Pod"},"operation":"CREATE","object":[1]}"#)
                .into_bytes(),
            review(r#"{"uid":"u","kind":{"kind":"Pod"},"operation":"PATCH","object":{}}"#)
                .into_bytes(),
            review(r#"{"uid":"u\n","kind":{"kind":"Pod"},"operation":"CREATE","object":{}}"#)
                .into_bytes(),
        ];
        for body in cases {
            let e = Review::parse(&body).unwrap_err();
            assert_eq!(e.code(), "admission.review");
        }
    }

    #[test]
    fn delete_needs_no_object() {
        let body = review(r#"{"uid":"u","kind":{"kind":"Pod"},"operation":"DELETE"}"#);
        assert!(Review::parse(body.as_bytes()).unwrap().object.is_none());
    }
}
