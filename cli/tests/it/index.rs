//! `hallmark index add` and `hallmark trace`: verified attestations only, re-adding changes
//! nothing, a stranger's attestation is reported and not indexed (exit 1).

use crate::common::Scratch;

fn digest_of(s: &Scratch, rel: &str) -> String {
    let bytes = std::fs::read(s.file(rel)).unwrap();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    format!(
        "sha256:{}",
        d.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

#[test]
fn indexes_verified_attestations_and_traces_them() {
    let s = Scratch::repo();
    s.build_and_package();
    let add = s.expect(&["index", "add", "--key", "k.pub", "--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&add.stdout).unwrap();
    assert_eq!(doc["added"], 2, "{doc}");
    assert!(s.file(".hallmark/index.sqlite").exists());
    let again = s.expect(&["index", "add", "--key", "k.pub", "--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(
        (doc["added"].clone(), doc["alreadyIndexed"].clone()),
        (0.into(), 2.into())
    );
    // From a source file to the package built from it, two steps on.
    let source = digest_of(&s, "src/a.c");
    let trace = s.expect(
        &["trace", "forward", "--digest", &source, "--format", "json"],
        0,
    );
    let doc: serde_json::Value = serde_json::from_str(&trace.stdout).unwrap();
    let reached: Vec<(u64, String)> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["depth"].as_u64().unwrap(),
                a["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reached,
        [
            (1, digest_of(&s, "out/app")),
            (2, digest_of(&s, "dist/app.tar"))
        ]
    );
    let tree = s.expect(&["trace", "forward", "--digest", &source], 0);
    assert!(tree.stdout.contains("dist/app.tar"), "{}", tree.stdout);
}

#[test]
fn a_strangers_attestation_is_reported_and_never_indexed() {
    let s = Scratch::repo();
    s.build_and_package();
    s.expect(&["keygen", "--output", "other"], 0);
    let run = s.expect(
        &["index", "add", "--key", "other.pub", "--format", "json"],
        1,
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["added"], 0);
    let rejected = doc["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2);
    assert!(
        rejected.iter().all(|r| r["code"] == "dsse.signature"),
        "{doc}"
    );
    assert!(
        run.stderr.contains("hallmark: rejected store"),
        "{}",
        run.stderr
    );
    let source = digest_of(&s, "src/a.c");
    let trace = s.expect(
        &["trace", "forward", "--digest", &source, "--format", "json"],
        0,
    );
    let doc: serde_json::Value = serde_json::from_str(&trace.stdout).unwrap();
    assert_eq!(doc["artifacts"].as_array().unwrap().len(), 0);
    // No trust at all is an error, not a verdict.
    s.expect(&["index", "add"], 2);
}
