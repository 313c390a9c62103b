//! SBOMs as in-toto predicates (docs/sbom.md): the predicate types of the in-toto attestation
//! specification, which document format and version a predicate is, and the typed inventory a
//! verified SBOM yields (components with name, version, purl, cpe, licenses and hashes).
//!
//! Schema validation is not here (it is a heavy dependency): the `hallmark-sbom` crate validates
//! a document before `attest --sbom` signs it. This module only reads.
//!
//! - [`inventory`]: the components of a CycloneDX or SPDX document;
//! - [`purl`]: the package a purl names, normalized so that policies can compare it;
//! - [`vers`]: version ranges (purl-spec `vers`) and the versions they are compared with.

pub mod inventory;
pub mod purl;
pub mod vers;

use serde::Serialize;
use serde_json::Value;

use crate::Error;

/// The predicate type Hallmark writes for CycloneDX (any spec version: the version is in the
/// document). Read also as `https://cyclonedx.org/bom/vX.Y`.
pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";

/// The predicate type Hallmark writes for SPDX 2.3 documents.
pub const SPDX_DOCUMENT_V2_3: &str = "https://spdx.dev/Document/v2.3";

/// The unversioned SPDX predicate type (cosign's `spdxjson`), read as an SPDX document.
pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";

/// The SBOM predicate types `hallmark sbom` asks the engine for: the ones Hallmark writes and
/// those other tools write for the versions Hallmark reads.
pub const SBOM_PREDICATE_TYPES: &[&str] = &[
    CYCLONEDX_BOM,
    "https://cyclonedx.org/bom/v1.4",
    "https://cyclonedx.org/bom/v1.5",
    "https://cyclonedx.org/bom/v1.6",
    "https://cyclonedx.org/bom/v1.7",
    SPDX_DOCUMENT_V2_3,
    "https://spdx.dev/Document/v2.2",
    SPDX_DOCUMENT,
];

/// An SBOM document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    /// CycloneDX (JSON).
    CycloneDX,
    /// SPDX 2.x (JSON).
    #[serde(rename = "SPDX")]
    Spdx,
}

impl Format {
    /// The name users know: `CycloneDX` or `SPDX`.
    pub fn name(self) -> &'static str {
        match self {
            Format::CycloneDX => "CycloneDX",
            Format::Spdx => "SPDX",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The format a predicate type names, if it is an SBOM type: `https://cyclonedx.org/bom`,
/// `https://cyclonedx.org/bom/vX.Y`, `https://spdx.dev/Document`, `https://spdx.dev/Document/vX.Y`.
pub fn format_of_type(predicate_type: &str) -> Option<Format> {
    let versioned = |rest: &str| {
        rest.is_empty()
            || rest.strip_prefix("/v").is_some_and(|v| {
                !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            })
    };
    if let Some(rest) = predicate_type.strip_prefix(CYCLONEDX_BOM) {
        return versioned(rest).then_some(Format::CycloneDX);
    }
    if let Some(rest) = predicate_type.strip_prefix(SPDX_DOCUMENT) {
        return versioned(rest).then_some(Format::Spdx);
    }
    None
}

/// True when an attestation of type `actual` satisfies a requirement for `wanted`: the same
/// type, or an unversioned SBOM type (`https://spdx.dev/Document`) met by a versioned one of the
/// same format (`https://spdx.dev/Document/v2.3`), as cosign's `spdxjson` is meant.
pub fn type_satisfies(wanted: &str, actual: &str) -> bool {
    wanted == actual
        || ((wanted == CYCLONEDX_BOM || wanted == SPDX_DOCUMENT)
            && format_of_type(actual).is_some()
            && format_of_type(actual) == format_of_type(wanted))
}

/// What a document says it is: its format and specification version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detected {
    /// The format.
    pub format: Format,
    /// The specification version: `1.6` for CycloneDX, `2.3` for SPDX (without `SPDX-`).
    pub spec_version: String,
}

impl Detected {
    /// The predicate type to sign this document with (in-toto attestation specification):
    /// `https://cyclonedx.org/bom` for CycloneDX, `https://spdx.dev/Document/vX.Y` for SPDX.
    pub fn predicate_type(&self) -> String {
        match self.format {
            Format::CycloneDX => CYCLONEDX_BOM.to_owned(),
            Format::Spdx => format!("{SPDX_DOCUMENT}/v{}", self.spec_version),
        }
    }
}

/// Detects the format and version of an SBOM document from its markers: CycloneDX by
/// `bomFormat` or `specVersion`, SPDX by `spdxVersion` (`SPDX-X.Y`). Whether the rest of the
/// document is well formed is the schema's business (`hallmark-sbom`), or the reader's.
pub fn detect(doc: &Value) -> Result<Detected, Error> {
    let Some(obj) = doc.as_object() else {
        return Err(Error::Sbom(
            "the document is not a JSON object (CycloneDX JSON or SPDX 2.3 JSON expected)".into(),
        ));
    };
    let text = |key: &str| obj.get(key).and_then(Value::as_str);
    if let Some(v) = obj.get("spdxVersion") {
        let version = v
            .as_str()
            .and_then(|s| s.strip_prefix("SPDX-"))
            .filter(|s| is_dotted(s))
            .ok_or_else(|| Error::Sbom(format!("spdxVersion {v} is not SPDX-X.Y")))?;
        return Ok(Detected {
            format: Format::Spdx,
            spec_version: version.to_owned(),
        });
    }
    if obj.contains_key("bomFormat") || obj.contains_key("specVersion") {
        let version = text("specVersion")
            .filter(|s| is_dotted(s))
            .ok_or_else(|| {
                Error::Sbom(format!(
                    "a CycloneDX document needs specVersion X.Y, found {}",
                    obj.get("specVersion")
                        .map_or_else(|| "none".to_owned(), Value::to_string)
                ))
            })?;
        return Ok(Detected {
            format: Format::CycloneDX,
            spec_version: version.to_owned(),
        });
    }
    Err(Error::Sbom(
        "neither a CycloneDX document (bomFormat, specVersion) nor an SPDX document (spdxVersion)"
            .into(),
    ))
}

fn is_dotted(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 16
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn predicate_types() {
        assert_eq!(format_of_type(CYCLONEDX_BOM), Some(Format::CycloneDX));
        assert_eq!(
            format_of_type("https://cyclonedx.org/bom/v1.5"),
            Some(Format::CycloneDX)
        );
        assert_eq!(format_of_type(SPDX_DOCUMENT), Some(Format::Spdx));
        assert_eq!(format_of_type(SPDX_DOCUMENT_V2_3), Some(Format::Spdx));
        assert_eq!(format_of_type("https://spdx.dev/DocumentX"), None);
        assert_eq!(format_of_type("https://cyclonedx.org/bom/vx"), None);
        assert_eq!(format_of_type("https://cyclonedx.org/bomb"), None);
        assert!(type_satisfies(SPDX_DOCUMENT, SPDX_DOCUMENT_V2_3));
        assert!(type_satisfies(
            CYCLONEDX_BOM,
            "https://cyclonedx.org/bom/v1.6"
        ));
        assert!(!type_satisfies(SPDX_DOCUMENT, CYCLONEDX_BOM));
        assert!(!type_satisfies(SPDX_DOCUMENT_V2_3, SPDX_DOCUMENT));
    }

    #[test]
    fn detection() {
        let cdx = detect(&json!({"bomFormat": "CycloneDX", "specVersion": "1.6"})).unwrap();
        assert_eq!(
            (cdx.format, cdx.spec_version.as_str()),
            (Format::CycloneDX, "1.6")
        );
        assert_eq!(cdx.predicate_type(), CYCLONEDX_BOM);
        let spdx = detect(&json!({"spdxVersion": "SPDX-2.3"})).unwrap();
        assert_eq!(spdx.predicate_type(), SPDX_DOCUMENT_V2_3);
        assert!(detect(&json!({"bomFormat": "CycloneDX"})).is_err());
        assert!(detect(&json!({"spdxVersion": "2.3"})).is_err());
        assert!(detect(&json!({"name": "x"})).is_err());
        assert!(detect(&json!([1])).is_err());
    }
}
