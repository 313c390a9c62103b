//! Errors with a stable code (docs/error-codes.md): printed as `CODE: message`, and the `code` of
//! the JSON error document `--format json` writes on exit 2.

use hallmark_verifier::policy::PolicyError;
use serde_json::{Value, json};

/// An error whose stable code is known.
#[derive(Debug)]
pub struct Coded {
    /// The code.
    pub code: &'static str,
    /// What went wrong, with the hint if any.
    pub message: String,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Coded {}

/// `message` under `code`.
pub fn coded(code: &'static str, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        message: message.into(),
    })
}

/// The stable code of `error`: the first coded error in its chain, `policy.invalid` for a
/// policy that cannot be loaded, `error` for anything else (usage, files, I/O).
pub fn code_of(error: &anyhow::Error) -> &'static str {
    error
        .chain()
        .find_map(|e| {
            if let Some(c) = e.downcast_ref::<Coded>() {
                Some(c.code)
            } else if e.downcast_ref::<PolicyError>().is_some() {
                Some("policy.invalid")
            } else if let Some(code) = crate::pkcs11::code_of(e) {
                Some(code)
            } else {
                None
            }
        })
        .unwrap_or("error")
}

/// The JSON document of an error, for commands asked for JSON: the same `schemaVersion` as their
/// result, and `error` instead of it.
pub fn error_document(schema: &str, error: &anyhow::Error) -> Value {
    json!({
        "schemaVersion": schema,
        "error": {"code": code_of(error), "message": format!("{error:#}")},
    })
}
