//! SBOM documents checked before Hallmark signs them (docs/sbom.md): CycloneDX JSON 1.4–1.7 and
//! SPDX 2.3 JSON, validated against their published JSON Schemas.
//!
//! The schemas are embedded (`schemas/`, see its README for sources and checksums) and every
//! `$ref` resolves to them: the validator's loader refuses any other URL, so validation never
//! touches the network or the disk. Format and version detection and the inventory are
//! `hallmark_model::sbom` (no I/O, no heavy dependency); this crate adds the schemas.
#![forbid(unsafe_code)]

mod schemas;

use hallmark_model::limits::{MAX_SBOM_BYTES, check};
use hallmark_model::sbom::{Detected, Format, detect};
use serde_json::Value;

pub use schemas::{SCHEMA_FILES, schema_name};

/// Most schema violations reported for one document.
pub const MAX_VIOLATIONS: usize = 20;

/// Why a document cannot be signed as an SBOM.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Too large, not JSON, or neither CycloneDX nor SPDX.
    #[error(transparent)]
    Model(#[from] hallmark_model::Error),
    /// Not JSON at all.
    #[error("the document is not JSON: {0}")]
    Json(String),
    /// A format version without an embedded schema.
    #[error(
        "{format} {version} is not supported: Hallmark validates CycloneDX 1.4, 1.5, 1.6, 1.7 and SPDX 2.3 JSON"
    )]
    Unsupported {
        /// The format.
        format: Format,
        /// The version the document declares.
        version: String,
    },
    /// The document violates its schema.
    #[error("the document does not follow the {schema} schema: {}", list(.violations, *.total))]
    Invalid {
        /// The schema file (`bom-1.7.schema.json`, `spdx-2.3.schema.json`).
        schema: &'static str,
        /// The first violations (at most [`MAX_VIOLATIONS`]), deepest first.
        violations: Vec<Violation>,
        /// How many there are in all.
        total: usize,
    },
    /// An embedded schema did not compile (a defect of Hallmark, not of the document).
    #[error("the embedded schema {schema} does not compile: {message}")]
    Schema {
        /// The schema file.
        schema: &'static str,
        /// The compiler's message.
        message: String,
    },
}

/// One schema violation: where in the document, which schema keyword, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The JSON pointer (RFC 6901) of the offending value; empty for the document itself.
    pub pointer: String,
    /// The absolute location of the failing schema keyword
    /// (`http://cyclonedx.org/schema/bom-1.7.schema.json#/properties/bomFormat/enum`).
    pub keyword: String,
    /// What is wrong, in the validator's words.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "(the document)"
        } else {
            &self.pointer
        };
        write!(f, "at {at}: {} (schema {})", self.message, self.keyword)
    }
}

fn list(violations: &[Violation], total: usize) -> String {
    let mut text = violations
        .iter()
        .map(Violation::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if total > violations.len() {
        text.push_str(&format!(" (and {} more)", total - violations.len()));
    }
    text
}

/// A document that passed its schema.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Its format and version.
    pub detected: Detected,
    /// The schema file it was validated against.
    pub schema: &'static str,
    /// The document.
    pub document: Value,
}

impl Checked {
    /// The predicate type to sign it with.
    pub fn predicate_type(&self) -> String {
        self.detected.predicate_type()
    }
}

/// Parses `bytes` (at most [`MAX_SBOM_BYTES`]) as JSON and validates the SBOM it holds.
pub fn check_bytes(bytes: &[u8]) -> Result<Checked, Error> {
    check("SBOM document", bytes.len() as u64, MAX_SBOM_BYTES)?;
    let document: Value = serde_json::from_slice(bytes).map_err(|e| Error::Json(e.to_string()))?;
    let (detected, schema) = validate(&document)?;
    Ok(Checked {
        detected,
        schema,
        document,
    })
}

/// Detects the format and version of `doc` and validates it against that version's schema,
/// returning what it is and the schema file used.
pub fn validate(doc: &Value) -> Result<(Detected, &'static str), Error> {
    let detected = detect(doc)?;
    let schema = schema_name(&detected).ok_or_else(|| Error::Unsupported {
        format: detected.format,
        version: detected.spec_version.clone(),
    })?;
    schemas::validate(schema, doc)?;
    Ok((detected, schema))
}
