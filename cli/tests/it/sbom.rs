//! SBOMs as attestations (docs/sbom.md): `attest --sbom` validates before it signs, `hallmark
//! sbom` shows the verified inventory, and a policy requires an SBOM and denies components.
//! The example documents are the shared vectors (`$HALLMARK_VECTORS/sbom`, read in place).

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::common::Scratch;

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

/// The example documents the MANIFEST lists: (path, valid by its name).
fn examples() -> Vec<(String, bool)> {
    let dir = vectors();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    manifest
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(p, _)| p))
        .filter(|p| p.ends_with(".json") && !p.contains("/schema/") && !p.contains("/schemas/"))
        .map(|p| {
            let valid = !p
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .starts_with("invalid-");
            (dir.join(p).display().to_string(), valid)
        })
        .collect()
}

fn keyed() -> Scratch {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "k"], 0);
    std::fs::write(s.file("app.bin"), "the artifact\n").unwrap();
    s
}

fn attest_sbom(s: &Scratch, subject: &str, sbom: &str, code: i32) -> crate::common::Run {
    s.expect(
        &[
            "attest",
            "--subject",
            subject,
            "--sbom",
            sbom,
            "--key",
            "k.key",
        ],
        code,
    )
}

/// A CycloneDX 1.6 BOM with lodash at `version` and one other component.
fn bom_with_lodash(version: &str) -> String {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"component": {"type": "application", "name": "app", "version": "1.0.0"}},
        "components": [
            {"type": "library", "name": "lodash", "version": version,
             "purl": format!("pkg:npm/lodash@{version}"),
             "licenses": [{"license": {"id": "MIT"}}]},
            {"type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0",
             "licenses": [{"license": {"id": "WTFPL"}}]}
        ]
    })
    .to_string()
}

#[test]
fn valid_examples_attest_verify_and_show() {
    let s = keyed();
    let valid: Vec<String> = examples()
        .into_iter()
        .filter(|(_, v)| *v)
        .map(|(p, _)| p)
        .collect();
    assert!(valid.len() >= 8, "{valid:?}");
    for path in &valid {
        let run = attest_sbom(&s, "app.bin", path, 0);
        assert!(run.stderr.contains("valid against"), "{}", run.stderr);
    }
    // Verified as evidence of their types, cosign's shorthands included.
    for t in ["cyclonedx", "spdxjson", "https://spdx.dev/Document/v2.3"] {
        s.expect(
            &["verify", "app.bin", "--key", "k.pub", "--predicate-type", t],
            0,
        );
    }
    let run = s.expect(
        &["sbom", "app.bin", "--key", "k.pub", "--format", "json"],
        0,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["schemaVersion"], "https://hallmark.dev/schemas/sbom/v1");
    let sboms = doc["sboms"].as_array().unwrap();
    assert_eq!(sboms.len(), valid.len());
    let cdx = sboms.iter().filter(|b| b["format"] == "CycloneDX").count();
    let spdx = sboms.iter().filter(|b| b["format"] == "SPDX").count();
    assert_eq!((cdx, spdx), (5, 3));
    for b in sboms {
        assert_eq!(b["schema"]["valid"], true, "{b}");
        let expected = if b["format"] == "CycloneDX" {
            "https://cyclonedx.org/bom"
        } else {
            "https://spdx.dev/Document/v2.3"
        };
        assert_eq!(b["predicateType"], expected);
        assert_eq!(b["signers"][0]["key"], "k.pub");
    }
    // What the documents say, read through: the identifiers example's purl and cpe, the SPDX
    // example's cargo packages.
    let components: Vec<&Value> = sboms
        .iter()
        .flat_map(|b| b["components"].as_array().unwrap())
        .collect();
    let acme = components
        .iter()
        .find(|c| c["purl"] == "pkg:maven/com.example/acme-library@1.0.0")
        .unwrap();
    assert_eq!(
        acme["cpe"],
        "cpe:2.3:a:example:acme-library:1.0.0:*:*:*:*:*:*:*"
    );
    assert!(components.iter().any(|c| {
        c["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:cargo/tokio@"))
    }));
    assert!(components.iter().any(|c| {
        c["hashes"]
            .as_object()
            .is_some_and(|h| h.contains_key("SHA-256"))
    }));
}

#[test]
fn invalid_examples_are_refused_before_signing() {
    let s = keyed();
    let invalid: Vec<String> = examples()
        .into_iter()
        .filter(|(_, v)| !*v)
        .map(|(p, _)| p)
        .collect();
    assert_eq!(invalid.len(), 2, "{invalid:?}");
    for (name, pointer) in [
        ("invalid-bomformat-1.7.json", "/bomFormat"),
        (
            "invalid-hash-sha256-1.7.json",
            "/components/0/hashes/2/content",
        ),
    ] {
        let path = invalid.iter().find(|p| p.ends_with(name)).unwrap();
        let run = s.expect(
            &[
                "attest",
                "--subject",
                "app.bin",
                "--sbom",
                path,
                "--key",
                "k.key",
                "--output",
                "out.json",
            ],
            2,
        );
        assert!(
            run.stderr.contains("nothing was signed")
                && run.stderr.contains("bom-1.7.schema.json")
                && run.stderr.contains(&format!("at {pointer}:")),
            "{name}: {}",
            run.stderr
        );
        assert!(!s.file("out.json").exists());
        assert!(
            !s.file(".hallmark").exists(),
            "{name}: the store was written"
        );
    }
    // Not an SBOM at all, and a version without a schema.
    std::fs::write(s.file("other.json"), r#"{"name": "x"}"#).unwrap();
    let run = attest_sbom(&s, "app.bin", "other.json", 2);
    assert!(run.stderr.contains("neither a CycloneDX"), "{}", run.stderr);
    std::fs::write(
        s.file("old.json"),
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.3", "version": 1}"#,
    )
    .unwrap();
    let run = attest_sbom(&s, "app.bin", "old.json", 2);
    assert!(
        run.stderr.contains("CycloneDX 1.3 is not supported"),
        "{}",
        run.stderr
    );
    assert!(!s.file(".hallmark").exists());
    // --sbom and --type do not go together (the type follows from the document).
    s.expect(
        &[
            "attest",
            "--subject",
            "app.bin",
            "--sbom",
            "old.json",
            "--type",
            "x",
            "--key",
            "k.key",
        ],
        2,
    );
}

#[test]
fn sbom_shows_the_verified_inventory_only() {
    let s = keyed();
    std::fs::write(s.file("bom.json"), bom_with_lodash("4.17.20")).unwrap();
    attest_sbom(&s, "app.bin", "bom.json", 0);
    let run = s.expect(&["sbom", "app.bin", "--key", "k.pub"], 0);
    let out = &run.stdout;
    assert!(
        out.contains("1 verified SBOM(s) for app.bin (sha256:")
            && out.contains("CycloneDX 1.6 SBOM of app@1.0.0 (valid against bom-1.6.schema.json), 2 component(s)")
            && out.contains("signed by "),
        "{out}"
    );
    let header = out.lines().find(|l| l.contains("NAME")).unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["NAME", "VERSION", "PURL", "LICENSES"]
    );
    let lodash = out.lines().find(|l| l.contains("lodash")).unwrap();
    assert_eq!(
        lodash.split_whitespace().collect::<Vec<_>>(),
        ["lodash", "4.17.20", "pkg:npm/lodash@4.17.20", "MIT"]
    );
    let json = s.expect(
        &["sbom", "app.bin", "--key", "k.pub", "--format", "json"],
        0,
    );
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let b = &doc["sboms"][0];
    assert_eq!(
        (
            &b["specVersion"],
            &b["describes"],
            &b["componentCount"],
            &b["truncated"]
        ),
        (&json!("1.6"), &json!("app@1.0.0"), &json!(2), &json!(false))
    );
    assert_eq!(
        b["components"][1],
        json!({"name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0",
               "cpe": null, "licenses": ["WTFPL"], "hashes": {}})
    );
    // Another key: nothing verifies, nothing is shown.
    s.expect(&["keygen", "--output", "other"], 0);
    let run = s.expect(
        &["sbom", "app.bin", "--key", "other.pub", "--format", "json"],
        1,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["sboms"], json!([]));
    assert_eq!(doc["rejected"][0]["code"], "dsse.signature");
    assert!(run.stderr.contains("no verified SBOM"), "{}", run.stderr);
    // No trust at all is an error, in JSON too.
    let run = s.expect(&["sbom", "app.bin", "--format", "json"], 2);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "trust.none");
}

/// A signed statement whose predicate type says SBOM but whose document is not one is rejected
/// by the verifier (`predicate.invalid`), so it neither shows nor satisfies a policy.
#[test]
fn an_sbom_type_over_another_document_is_rejected() {
    let s = keyed();
    std::fs::write(s.file("spdx.json"), r#"{"spdxVersion": "SPDX-2.3"}"#).unwrap();
    s.expect(
        &[
            "attest",
            "--subject",
            "app.bin",
            "--predicate",
            "spdx.json",
            "--type",
            "https://cyclonedx.org/bom",
            "--key",
            "k.key",
        ],
        0,
    );
    let run = s.expect(
        &["sbom", "app.bin", "--key", "k.pub", "--format", "json"],
        1,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["rejected"][0]["code"], "predicate.invalid");
    assert!(
        doc["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("names CycloneDX, but the document is SPDX"),
        "{doc}"
    );
}

const POLICY: &str = "apiVersion: hallmark.dev/policy/v1
steps:
  build:   {signers: [k.pub], inputs: [source]}
  package: {signers: [k.pub], inputs: [build]}
allowDirtySource: true
sbom:
  required: true
  deny:
    - {purl: \"pkg:npm/lodash\", versions: \"<4.17.21\", reason: CVE-2021-23337}
";

fn violations(run: &crate::common::Run) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    doc["violations"].as_array().unwrap().clone()
}

#[test]
fn policy_requires_an_sbom_and_denies_listed_components() {
    let s = Scratch::repo();
    s.build_and_package();
    std::fs::write(s.file("release.yaml"), POLICY).unwrap();
    let verify = [
        "verify",
        "dist/app.tar",
        "--policy",
        "release.yaml",
        "--format",
        "json",
    ];
    // No SBOM: denied for that alone.
    let run = s.expect(&verify, 1);
    let codes: Vec<Value> = violations(&run).iter().map(|v| v["code"].clone()).collect();
    assert_eq!(codes, [json!("sbom.missing")], "{}", run.stdout);
    // An SBOM with a fixed lodash: allowed.
    std::fs::write(s.file("bom-ok.json"), bom_with_lodash("4.17.21")).unwrap();
    attest_sbom(&s, "dist/app.tar", "bom-ok.json", 0);
    s.expect(&verify, 0);
    // Another SBOM naming the vulnerable version: denied, the component named.
    std::fs::write(s.file("bom-old.json"), bom_with_lodash("4.17.20")).unwrap();
    attest_sbom(&s, "dist/app.tar", "bom-old.json", 0);
    let run = s.expect(&verify, 1);
    let found = violations(&run);
    assert_eq!(found.len(), 1, "{}", run.stdout);
    let v = &found[0];
    assert_eq!(v["code"], "sbom.component-denied");
    assert_eq!(v["details"]["purl"], "pkg:npm/lodash@4.17.20");
    assert_eq!(v["details"]["version"], "4.17.20");
    assert_eq!(
        v["details"]["rule"],
        json!({"purl": "pkg:npm/lodash", "versions": "<4.17.21"})
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("component lodash 4.17.20 (pkg:npm/lodash@4.17.20) in the SBOM of dist/app.tar is denied by pkg:npm/lodash <4.17.21: CVE-2021-23337"),
        "{v}"
    );
    // The human verdict names it too.
    let run = s.expect(&["verify", "dist/app.tar", "--policy", "release.yaml"], 1);
    assert!(
        run.stdout.contains("sbom.component-denied"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("pkg:npm/lodash@4.17.20"),
        "{}",
        run.stdout
    );
    // A range that is not one is a policy error, not a rule that never fires.
    std::fs::write(
        s.file("bad.yaml"),
        POLICY.replace("<4.17.21", "<4.17.21|<5"),
    )
    .unwrap();
    let run = s.expect(&["verify", "dist/app.tar", "--policy", "bad.yaml"], 2);
    assert!(run.stderr.contains("sbom.deny[0]"), "{}", run.stderr);
}
