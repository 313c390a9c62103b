//! The AdmissionReview answer: allowed or denied (HTTP-style status 403 with the message, code
//! first), warnings, and for the mutating endpoint the JSONPatch pinning verified images to
//! their digests.

use base64::Engine;
use serde_json::{Value, json};

use crate::gate::Reviewed;
use crate::review::API_VERSION;

/// Which endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/validate`: allowed or denied.
    Validate,
    /// `/mutate`: the same decision, plus the pinning patch when allowed.
    Mutate,
}

/// The JSONPatch (RFC 6902) that pins each verified image: `replace` of each `image` field.
pub fn patch(reviewed: &Reviewed) -> Value {
    Value::Array(
        reviewed
            .pins
            .iter()
            .map(|p| json!({"op": "replace", "path": p.pointer, "value": p.value}))
            .collect(),
    )
}

/// The AdmissionReview carrying the answer.
pub fn review(reviewed: &Reviewed, endpoint: Endpoint) -> Value {
    let mut response = json!({
        "uid": reviewed.uid,
        "allowed": reviewed.allowed(),
    });
    if !reviewed.allowed() {
        response["status"] = json!({
            "code": 403,
            "reason": "Forbidden",
            "message": reviewed.message.clone().unwrap_or_else(|| "denied".to_owned()),
        });
    }
    if !reviewed.warnings.is_empty() {
        response["warnings"] = json!(reviewed.warnings);
    }
    if endpoint == Endpoint::Mutate && reviewed.allowed() && !reviewed.pins.is_empty() {
        let bytes = serde_json::to_vec(&patch(reviewed)).unwrap_or_default();
        response["patchType"] = json!("JSONPatch");
        response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": "AdmissionReview",
        "response": response,
    })
}
