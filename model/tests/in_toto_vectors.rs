//! Every case in the in-toto/attestation vectors, judged as their MANIFEST.md says.
//!
//! The vectors live outside the project; `HALLMARK_VECTORS` names the folder (the test command
//! sets it to `../shared/vectors`). Without it the test fails rather than pass vacuously.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use hallmark_model::provenance::Provenance;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;

fn vectors() -> PathBuf {
    let dir = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    assert!(
        dir.join("in-toto-attestation/MANIFEST.md").is_file(),
        "test vectors not found at {}: set HALLMARK_VECTORS to the shared/vectors folder",
        dir.display()
    );
    dir.join("in-toto-attestation")
}

/// Table rows of MANIFEST.md: the cells of each `| ... |` line whose first cell is a file.
fn rows(manifest: &str, prefix: &str) -> Vec<Vec<String>> {
    manifest
        .lines()
        .filter(|l| l.starts_with(&format!("| `{prefix}")))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

/// Where Hallmark judges a vector otherwise than the upstream Go `Validate()`, and why.
const DEPARTURES: &[(&str, &str)] = &[(
    // The Go library requires a predicate; the specification it implements does not.
    "go-test-vectors/TestBadStatementPredicate__missing-predicate.json",
    "in-toto Statement v1 says `predicate` is optional (docs/decisions/0020)",
)];

/// Statements are judged by the rules for what Hallmark writes (which include in-toto's required
/// predicateType); what Hallmark reads is checked separately below.
fn judge(kind: &str, bytes: &[u8]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    match kind {
        "Statement" => Statement::from_slice(bytes)
            .and_then(|s| s.validate_for_writing())
            .map_err(|e| err(&e)),
        "ResourceDescriptor" => serde_json::from_slice::<ResourceDescriptor>(bytes)
            .map_err(|e| err(&e))?
            .validate()
            .map_err(|e| err(&e)),
        "SLSA Provenance v1 predicate" => {
            let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| err(&e))?;
            Provenance::from_value(&value)
                .map(|_| ())
                .map_err(|e| err(&e))
        }
        other => panic!("MANIFEST names an unknown type {other:?}"),
    }
}

#[test]
fn go_validation_vectors_are_judged_as_upstream() {
    let dir = vectors();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    let rows = rows(&manifest, "go-test-vectors/");
    assert_eq!(rows.len(), 26, "MANIFEST lists 26 Go vectors");
    let mut failures = Vec::new();
    for row in &rows {
        let (file, kind, expected) = (&row[0], &row[1], &row[2]);
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let got = judge(kind, &bytes);
        let departs = DEPARTURES.iter().any(|(f, _)| f == file);
        let want_valid = (expected == "OK") != departs;
        match (&got, want_valid) {
            (Ok(()), true) | (Err(_), false) => {}
            _ => failures.push(format!("{file}: expected {expected}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn statements_without_predicate_or_predicate_type_are_read() {
    let dir = vectors();
    for (file, why) in DEPARTURES {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let st = Statement::from_slice(&bytes).unwrap_or_else(|e| panic!("{file} ({why}): {e}"));
        assert_eq!(st.predicate, None);
    }
    // An empty predicateType is read (a fact for the policy, docs/decisions/0022), never written.
    let file = "go-test-vectors/TestBadStatementPredicate__missing-predicate-type.json";
    let st = Statement::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
    assert_eq!(st.predicate_type, "");
    assert!(st.validate_for_writing().is_err());
}

/// Accepts success, or a digest error on a value the spec authors shortened with "...".
fn elided_only(result: hallmark_model::Result<()>) -> Result<(), String> {
    use hallmark_model::Error;
    match result {
        Ok(()) => Ok(()),
        Err(Error::DigestEncoding { value, .. } | Error::DigestLength { value, .. })
            if value.ends_with("...") =>
        {
            Ok(())
        }
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn spec_examples_parse_and_templates_do_not() {
    let dir = vectors();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    let rows = rows(&manifest, "spec-examples/");
    assert!(rows.len() > 50);
    let mut failures = Vec::new();
    for row in &rows {
        let (file, status) = (&row[0], &row[3]);
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let value: Result<serde_json::Value, _> = serde_json::from_slice(&bytes);
        if status.starts_with("template") {
            if value.is_ok() {
                failures.push(format!("{file}: a template parsed as JSON"));
            }
            continue;
        }
        let value = match value {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        // Spec examples are illustrations: they must have our types' shape, and the only
        // validation failures allowed are digests the authors elided with "...".
        let result = if value.get("_type").is_some() {
            serde_json::from_value::<Statement>(value.clone())
                .map_err(|e| e.to_string())
                .and_then(|st| elided_only(st.validate()))
        } else if value.get("payloadType").is_some() {
            // The v0.1 example's payload is a `<Base64(...)>` placeholder: check the shape only.
            ["payload", "payloadType", "signatures"]
                .iter()
                .all(|k| value.get(k).is_some())
                .then_some(())
                .ok_or_else(|| "DSSE example lacks a field".to_owned())
        } else {
            serde_json::from_value::<ResourceDescriptor>(value.clone())
                .map_err(|e| e.to_string())
                .and_then(|rd| elided_only(rd.validate()))
        };
        if let Err(e) = result {
            failures.push(format!("{file}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
