//! The embedded schemas, registered under their `$id`s, and validation against one of them.

use boon::{Compiler, SchemaIndex, Schemas, UrlLoader, ValidationError};
use hallmark_model::sbom::{Detected, Format};
use serde_json::Value;

use crate::{Error, MAX_VIOLATIONS, Violation};

macro_rules! schema_file {
    ($name:literal, $id:literal) => {
        ($name, $id, include_str!(concat!("../schemas/", $name)))
    };
}

/// Every embedded schema file: (file name, `$id`, text). The BOM schemas `$ref` the others by
/// relative URL, which resolves against their `$id`s to these.
pub const SCHEMA_FILES: &[(&str, &str, &str)] = &[
    schema_file!(
        "bom-1.4.schema.json",
        "http://cyclonedx.org/schema/bom-1.4.schema.json"
    ),
    schema_file!(
        "bom-1.5.schema.json",
        "http://cyclonedx.org/schema/bom-1.5.schema.json"
    ),
    schema_file!(
        "bom-1.6.schema.json",
        "http://cyclonedx.org/schema/bom-1.6.schema.json"
    ),
    schema_file!(
        "bom-1.7.schema.json",
        "http://cyclonedx.org/schema/bom-1.7.schema.json"
    ),
    schema_file!(
        "spdx.schema.json",
        "http://cyclonedx.org/schema/spdx.schema.json"
    ),
    schema_file!(
        "jsf-0.82.schema.json",
        "http://cyclonedx.org/schema/jsf-0.82.schema.json"
    ),
    schema_file!(
        "cryptography-defs.schema.json",
        "http://cyclonedx.org/schema/cryptography-defs.schema.json"
    ),
    schema_file!("spdx-2.3.schema.json", "http://spdx.org/rdf/terms/2.3"),
];

/// The schema file for a detected document, if Hallmark has one.
pub fn schema_name(detected: &Detected) -> Option<&'static str> {
    Some(match (detected.format, detected.spec_version.as_str()) {
        (Format::CycloneDX, "1.4") => "bom-1.4.schema.json",
        (Format::CycloneDX, "1.5") => "bom-1.5.schema.json",
        (Format::CycloneDX, "1.6") => "bom-1.6.schema.json",
        (Format::CycloneDX, "1.7") => "bom-1.7.schema.json",
        (Format::Spdx, "2.3") => "spdx-2.3.schema.json",
        _ => return None,
    })
}

/// Refuses every URL: all schemas are registered up front, so a `$ref` to anything else is an
/// error rather than a download.
struct Offline;

impl UrlLoader for Offline {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Err(format!("{url} is not an embedded schema (nothing is fetched)").into())
    }
}

/// Compiles `schema` (a file name of [`SCHEMA_FILES`]).
fn compile(schema: &'static str) -> Result<(Schemas, SchemaIndex), Error> {
    let fail = |message: String| Error::Schema { schema, message };
    let mut compiler = Compiler::new();
    compiler.use_loader(Box::new(Offline));
    // `format` is asserted for every draft, as CycloneDX's own validators do.
    compiler.enable_format_assertions();
    let mut root = None;
    // The schema and what it may `$ref`: a BOM schema needs the other CycloneDX files, never
    // another BOM version or SPDX's.
    let needed = |name: &str| {
        name == schema
            || (schema.starts_with("bom-")
                && !name.starts_with("bom-")
                && !name.starts_with("spdx-"))
    };
    for (name, id, text) in SCHEMA_FILES.iter().filter(|(name, _, _)| needed(name)) {
        let value: Value = serde_json::from_str(text).map_err(|e| fail(format!("{name}: {e}")))?;
        compiler
            .add_resource(id, value)
            .map_err(|e| fail(format!("{name}: {e}")))?;
        if *name == schema {
            root = Some(*id);
        }
    }
    let id = root.ok_or_else(|| fail("not embedded".to_owned()))?;
    let mut schemas = Schemas::new();
    let index = compiler
        .compile(id, &mut schemas)
        .map_err(|e| fail(e.to_string()))?;
    Ok((schemas, index))
}

/// Validates `doc` against `schema`.
pub(crate) fn validate(schema: &'static str, doc: &Value) -> Result<(), Error> {
    let (schemas, index) = compile(schema)?;
    let Err(error) = schemas.validate(doc, index) else {
        return Ok(());
    };
    let mut leaves = Vec::new();
    collect(&error, &mut leaves);
    // Deepest first: the most specific place is the most useful to read.
    leaves.sort_by(|a: &Violation, b| {
        b.pointer
            .matches('/')
            .count()
            .cmp(&a.pointer.matches('/').count())
            .then_with(|| a.pointer.cmp(&b.pointer))
    });
    leaves.dedup();
    let total = leaves.len();
    leaves.truncate(MAX_VIOLATIONS);
    Err(Error::Invalid {
        schema,
        violations: leaves,
        total,
    })
}

/// The leaves of a validation error tree (where the failing keywords are).
fn collect(error: &ValidationError<'_, '_>, out: &mut Vec<Violation>) {
    if error.causes.is_empty() {
        out.push(Violation {
            pointer: error.instance_location.to_string(),
            keyword: error.schema_url.to_owned(),
            message: error.kind.to_string(),
        });
    }
    for cause in &error.causes {
        collect(cause, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_compiles_offline() {
        for (name, _, _) in SCHEMA_FILES {
            if name.starts_with("bom-") || name.starts_with("spdx-") {
                compile(name).unwrap();
            }
        }
    }

    #[test]
    fn a_reference_to_anything_else_is_refused() {
        assert!(Offline.load("https://example.com/x.json").is_err());
    }
}
