//! The sigstore-conformance bundle-verify suite, run through `hallmark verify-bundle` exactly as
//! the upstream harness does: every case twice (artifact path and `sha256:` digest), no xfails.
//! The cases come from `$HALLMARK_VECTORS/sigstore-conformance` (the test command sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn cases_dir() -> PathBuf {
    let vectors = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let dir = vectors.join("sigstore-conformance/test/assets/bundle-verify");
    assert!(
        dir.is_dir(),
        "conformance cases not found at {}: set HALLMARK_VECTORS",
        dir.display()
    );
    dir
}

fn sha256_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
    format!(
        "sha256:{}",
        d.as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Runs one invocation; returns (exit code, output).
fn invoke(case: &Path, by_digest: bool) -> (i32, String) {
    let artifact = if case.join("artifact").is_file() {
        case.join("artifact")
    } else {
        case.join("../a.txt")
    };
    let mut args: Vec<String> = vec![
        "verify-bundle".into(),
        "--bundle".into(),
        case.join("bundle.sigstore.json").display().to_string(),
    ];
    if case.join("key.pub").is_file() {
        args.extend(["--key".into(), case.join("key.pub").display().to_string()]);
    } else {
        let identity =
            read_trimmed(&case.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.into());
        let issuer = read_trimmed(&case.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.into());
        args.extend([
            "--certificate-identity".into(),
            identity,
            "--certificate-oidc-issuer".into(),
            issuer,
        ]);
    }
    if case.join("trusted_root.json").is_file() {
        args.extend([
            "--trusted-root".into(),
            case.join("trusted_root.json").display().to_string(),
        ]);
    }
    args.push(if by_digest {
        sha256_of(&artifact)
    } else {
        artifact.display().to_string()
    });
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(&args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text.trim().to_owned())
}

#[test]
fn all_conformance_cases_in_both_forms() {
    let dir = cases_dir();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let mut passed = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let should_fail = name.ends_with("_fail");
        for by_digest in [false, true] {
            let (code, output) = invoke(case, by_digest);
            let ok = if should_fail { code != 0 } else { code == 0 };
            // A rejection must be a verdict (exit 1), with the failed check named; a crash is never a pass.
            let sane = code == 0 || code == 1 || (code == 2 && output.contains("error"));
            if ok && sane {
                passed += 1;
            } else {
                failures.push(format!(
                    "{name} ({}): exit {code}: {output}",
                    if by_digest { "digest" } else { "path" }
                ));
            }
        }
    }
    println!(
        "conformance: {passed}/{} invocations passed",
        cases.len() * 2
    );
    assert!(
        failures.is_empty(),
        "{} of {} invocations failed:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
}
