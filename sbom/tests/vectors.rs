//! The SBOM vectors (`$HALLMARK_VECTORS/sbom`, see its MANIFEST.md): the schema-valid examples
//! validate, the invalid ones fail on the schema violation the MANIFEST names, at its JSON
//! pointer. Without the vectors the test fails rather than pass vacuously.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use hallmark_model::sbom::Format;
use hallmark_model::sbom::inventory::Inventory;
use hallmark_sbom::{Error, check_bytes, validate};
use serde_json::{Value, json};

fn vectors() -> PathBuf {
    let dir = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    assert!(
        dir.join("sbom/MANIFEST.md").is_file(),
        "SBOM vectors not found at {}: set HALLMARK_VECTORS to the shared/vectors folder",
        dir.display()
    );
    dir.join("sbom")
}

/// The example documents the MANIFEST lists, with the expectation of their file name.
fn examples() -> Vec<(PathBuf, bool)> {
    let dir = vectors();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    let found: Vec<(PathBuf, bool)> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(p, _)| p))
        .filter(|p| p.ends_with(".json") && !p.contains("/schema/") && !p.contains("/schemas/"))
        .map(|p| {
            let name = p.rsplit('/').next().unwrap_or_default();
            (dir.join(p), !name.starts_with("invalid-"))
        })
        .collect();
    assert!(
        found.len() >= 10,
        "the MANIFEST lists {} examples",
        found.len()
    );
    found
}

#[test]
fn valid_examples_validate_and_yield_an_inventory() {
    for (path, valid) in examples().into_iter().filter(|(_, v)| *v) {
        assert!(valid);
        let bytes = std::fs::read(&path).unwrap();
        let checked = check_bytes(&bytes)
            .unwrap_or_else(|e| panic!("{} should validate: {e}", path.display()));
        let inventory = Inventory::from_predicate(&checked.predicate_type(), &checked.document)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Every top-level component (CycloneDX) or package (SPDX) is read; nested ones add to it.
        let listed = ["components", "packages"]
            .iter()
            .filter_map(|k| checked.document.get(*k)?.as_array().map(Vec::len))
            .sum::<usize>();
        assert!(
            inventory.component_count >= listed && (listed == 0) == inventory.components.is_empty(),
            "{}: {} read, {listed} listed",
            path.display(),
            inventory.component_count
        );
        assert!(!inventory.truncated);
    }
}

#[test]
fn invalid_examples_are_refused_with_pointer_and_keyword() {
    let expected = [
        (
            "invalid-bomformat-1.7.json",
            "/bomFormat",
            "/properties/bomFormat",
        ),
        (
            "invalid-hash-sha256-1.7.json",
            "/components/0/hashes/2/content",
            "hash-content",
        ),
    ];
    let invalid: Vec<PathBuf> = examples()
        .into_iter()
        .filter(|(_, v)| !*v)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(invalid.len(), expected.len());
    for (name, pointer, keyword) in expected {
        let path = invalid.iter().find(|p| p.ends_with(name)).unwrap();
        let err = check_bytes(&std::fs::read(path).unwrap()).unwrap_err();
        let Error::Invalid {
            schema, violations, ..
        } = &err
        else {
            panic!("{name}: {err}");
        };
        assert_eq!(*schema, "bom-1.7.schema.json");
        let v = violations
            .iter()
            .find(|v| v.pointer == pointer)
            .unwrap_or_else(|| panic!("{name}: no violation at {pointer}: {err}"));
        assert!(v.keyword.contains(keyword), "{name}: {}", v.keyword);
        let message = err.to_string();
        assert!(
            message.contains(pointer) && message.contains("bom-1.7.schema.json"),
            "{message}"
        );
    }
}

fn minimal(version: &str) -> Value {
    json!({
        "$schema": format!("http://cyclonedx.org/schema/bom-{version}.schema.json"),
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "version": 1,
        "components": [{"type": "library", "name": "acme", "purl": "pkg:npm/acme@1.0.0"}]
    })
}

#[test]
fn each_cyclonedx_version_has_its_own_schema() {
    for version in ["1.4", "1.5", "1.6", "1.7"] {
        let (detected, schema) = validate(&minimal(version)).unwrap();
        assert_eq!(detected.format, Format::CycloneDX);
        assert_eq!(schema, format!("bom-{version}.schema.json"));
    }
    // `omniborId` came with 1.6: a 1.5 document may not carry it.
    let mut doc = minimal("1.5");
    doc["components"][0]["omniborId"] =
        json!(["gitoid:blob:sha1:261eeb9e9f8b2b4b0d119366dda99c6fd7d35c64"]);
    assert!(matches!(validate(&doc), Err(Error::Invalid { .. })));
    doc["specVersion"] = json!("1.6");
    doc["$schema"] = json!("http://cyclonedx.org/schema/bom-1.6.schema.json");
    validate(&doc).unwrap();
    // 1.4 requires `version`.
    let mut old = minimal("1.4");
    old.as_object_mut().unwrap().remove("version");
    let err = validate(&old).unwrap_err();
    assert!(err.to_string().contains("version"), "{err}");
}

#[test]
fn unsupported_and_foreign_documents_are_refused() {
    let err = validate(&json!({"bomFormat": "CycloneDX", "specVersion": "1.3"})).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    let err = validate(&json!({"spdxVersion": "SPDX-2.2"})).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(matches!(
        check_bytes(b"{\"name\": \"x\"}"),
        Err(Error::Model(_))
    ));
    assert!(matches!(check_bytes(b"not json"), Err(Error::Json(_))));
    // An SPDX document missing required fields names them.
    let err = validate(&json!({"spdxVersion": "SPDX-2.3"})).unwrap_err();
    assert!(err.to_string().contains("spdx-2.3.schema.json"), "{err}");
}
