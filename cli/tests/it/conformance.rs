//! The sigstore-conformance bundle-verify suite, run through `hallmark verify-bundle` exactly as
//! the upstream harness does: every case twice (artifact path and `sha256:` digest), no xfails.
//! The cases come from `$HALLMARK_VECTORS/sigstore-conformance` (the test command sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{error_code, rejection_code};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// How a must-fail case must fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// A verdict (exit 1) naming the check that failed.
    Rejected(&'static str),
    /// No verdict (exit 2): the trust given is refused first, with this code.
    Refused(&'static str),
}

use Failure::{Refused, Rejected};

/// Each must-fail case and the check that must reject it, read from the case's README (upstream's
/// first paragraph, quoted after each row) and its files. Where a bundle has more than one defect,
/// the row names the one the README describes.
#[rustfmt::skip]
const MUST_FAIL: &[(&str, Failure)] = &[
    // "Bundle contains empty certificate chain"
    ("bundle-empty-certificate-chain_fail", Rejected("sigstore.certificate.empty-chain")),
    // "a valid bundle from public good staging": its log is not one of production's.
    ("bundle-from-wrong-instance_fail", Rejected("sigstore.tlog.unknown-log")),
    // "Bundle signature contains invalid base64 encoding"
    ("bundle-invalid-base64-signature_fail", Rejected("bundle.parse")),
    // "truncated/malformed JSON: verification should fail with parse error"
    ("bundle-malformed-json_fail", Rejected("bundle.parse")),
    // "tlog entry has negative log index"
    ("bundle-negative-log-index_fail", Rejected("sigstore.tlog.negative-index")),
    // "unknown/unsupported version"
    ("bundle-unknown-version_fail", Rejected("bundle.parse")),
    // "bundle certificate chain contains a root certificate"
    ("bundle-with-root-cert_fail", Rejected("sigstore.certificate.bundled-root")),
    // "checkpoint signature does not match the transparency log providing the entry"
    ("checkpoint-bad-keyhint_fail", Rejected("sigstore.tlog.checkpoint")),
    // "the checkpoint is self consistent but does not apply to this bundle (root hash is wrong)"
    ("checkpoint-wrong-roothash_fail", Rejected("sigstore.tlog.checkpoint")),
    // "The signature in the dsse envelope is incorrect"
    ("dsse-invalid-sig_fail", Rejected("sigstore.signature.mismatch")),
    // "DSSE envelope does not match the entry"
    ("dsse-mismatch-envelope_fail", Rejected("sigstore.tlog.body")),
    // "DSSE signature does not match" (the log entry's; both signatures are valid)
    ("dsse-mismatch-sig_fail", Rejected("sigstore.tlog.body")),
    // "The inclusion proof has a corrupted hash"
    ("inclusion-proof-corrupted-hash_fail", Rejected("sigstore.tlog.inclusion-proof")),
    // "The public key in the hashrekord entry has been modified"
    ("incorrect-public-key_fail", Rejected("sigstore.tlog.body")),
    // "The signed entry timestamp (rekor integrated time) is not within signing certificate
    // validity": it is after the certificate expired.
    ("integrated-time-in-future_fail", Rejected("sigstore.certificate.expired")),
    // "Certificate was issued outside the validity window": valid from 2030, logged in 2023.
    ("intoto-expired-certificate_fail", Rejected("sigstore.certificate.not-yet-valid")),
    // "log entry does not match the signed artifact"
    ("intoto-log-entry-mismatch_fail", Rejected("sigstore.tlog.body")),
    // "A v0.2 bundle where log entry does not contain an inclusion proof is invalid"
    ("intoto-missing-inclusion-proof_fail", Rejected("sigstore.tlog.no-inclusion-proof")),
    // "A Signed Entry Timestamp (integrated time) that falls outside the validity window of the
    // signing certificate"
    ("intoto-set-outside-signing-cert-validity_fail", Rejected("sigstore.certificate.expired")),
    // "TSA timestamp is outside of the validity window of the signing certificate"
    ("intoto-tsa-timestamp-outside-cert-validity_fail", Rejected("sigstore.certificate.expired")),
    // "Rekor checkpoint signature is invalid"
    ("invalid-checkpoint-signature_fail", Rejected("sigstore.tlog.checkpoint")),
    // (no README) The trust root's CT log key is another: no SCT from a trusted log.
    ("invalid-ct-key_fail", Rejected("sigstore.sct.untrusted-log")),
    // "The inclusion proof is old and is not valid for this entry"
    ("invalid-inclusion-proof_fail", Rejected("sigstore.tlog.inclusion-proof")),
    // "bundle is signed with key but no key is provided"
    ("managed-key-no-key_fail", Rejected("sigstore.bundle.signer-kind")),
    // "expected to fail due to wrong key": key.pub is not even a readable key.
    ("managed-key-wrong-key_fail", Refused("trust.key")),
    // "The messageDigest in the bundle does not match the artifact hash"
    ("message-digest-mismatch_fail", Rejected("sigstore.subject.message-digest")),
    // "The log checkpoint has had log signature removed"
    ("rekor2-checkpoint-missing-log-signature_fail", Rejected("sigstore.tlog.checkpoint")),
    // "The log checkpoint has had its origin line removed"
    ("rekor2-checkpoint-missing-origin_fail", Rejected("sigstore.tlog.checkpoint")),
    // "The log checkpoint has had its root hash removed"
    ("rekor2-checkpoint-missing-root-hash_fail", Rejected("sigstore.tlog.checkpoint")),
    // "The log checkpoint has had its size removed"
    ("rekor2-checkpoint-missing-size_fail", Rejected("sigstore.tlog.checkpoint")),
    // "The identity of the checkpoint signature does not match the transparency log host"
    ("rekor2-checkpoint-no-matching-signature_fail", Rejected("sigstore.tlog.checkpoint")),
    // "The envelope signature does not verify under the bundle's certificate"
    ("rekor2-dsse-invalid-sig_fail", Rejected("sigstore.signature.mismatch")),
    // "Hash(PAE(envelope)) does not match the hashedrekord entry's recorded digest"
    ("rekor2-dsse-mismatch-envelope_fail", Rejected("sigstore.tlog.body")),
    // "the envelope signature does not match the signature recorded in the tlog entry"
    ("rekor2-dsse-mismatch-sig_fail", Rejected("sigstore.tlog.body")),
    // "the bundle would be valid, but the inclusion proof is removed"
    ("rekor2-no-inclusion-proof_fail", Rejected("sigstore.tlog.no-inclusion-proof")),
    // "there is no TSA timestamp in the bundle ... making TSA timestamps required"
    ("rekor2-no-timestamp_fail", Rejected("sigstore.time.no-verified-time")),
    // "the Sigstore TSA has an expiry date that precedes the time at which the timestamp was
    // generated" (in the trust root)
    ("rekor2-timestamp-outside-trust-root-tsa-validity_fail", Rejected("sigstore.timestamp.authority-validity")),
    // "The timestamp was requested after expiry" (of the TSA's certificate chain)
    ("rekor2-timestamp-outside-tsa-cert-validity_fail", Rejected("sigstore.timestamp.certificate-expired")),
    // "the timestamp payload does not match the bundle signature"
    ("rekor2-timestamp-payload-mismatch_fail", Rejected("sigstore.timestamp.imprint-mismatch")),
    // "embedded certificates from an untrusted TSA"
    ("rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail", Rejected("sigstore.timestamp.untrusted")),
    // "no embedded certificates from an untrusted TSA"
    ("rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail", Rejected("sigstore.timestamp.untrusted")),
    // "the timestamp time is outside the signing certificate lifetime"
    ("rekor2-timestamp-with-incorrect-time_fail", Rejected("sigstore.certificate.expired")),
    // "The signed entry timestamp (rekor integrated time) signature is invalid"
    ("set-invalid-signature_fail", Rejected("sigstore.tlog.set")),
    // "The signature in this bundle is incorrect"
    ("signature-mismatch_fail", Rejected("sigstore.signature.mismatch")),
    // "Verification must reject the malformed trust root"
    ("trust-root-tlog-missing-validity-start_fail", Refused("trust.root")),
    // "otherwise cryptographically valid but artifact is incorrect" (in the hashedrekord)
    ("wrong-hashedrekord-artifact_fail", Rejected("sigstore.tlog.body")),
    // "certificate (and signature) used for hashedrekord is incorrect"
    ("wrong-hashedrekord-cert-and-sig_fail", Rejected("sigstore.tlog.body")),
    // "hashedrekord is for a different entry"
    ("wrong-hashedrekord-entry_fail", Rejected("sigstore.tlog.body")),
    // "a valid bundle for the default artifact, but the artifact here is different"
    ("wrong-material_fail", Rejected("sigstore.subject.message-digest")),
];

/// True when the invocation failed as `failure` says: its exit code, and the code it printed.
fn failed_as(failure: Failure, code: i32, output: &str) -> bool {
    match failure {
        Rejected(c) => code == 1 && rejection_code(output) == Some(c),
        Refused(c) => code == 2 && error_code(output) == Some(c),
    }
}

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
    let names: Vec<String> = cases
        .iter()
        .map(|c| c.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let must_fail: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| n.ends_with("_fail"))
        .collect();
    let listed: Vec<&str> = MUST_FAIL.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        listed, must_fail,
        "MUST_FAIL lists each _fail case once, sorted"
    );
    let mut passed = 0;
    let mut failures = Vec::new();
    for (case, name) in cases.iter().zip(&names) {
        let expected = MUST_FAIL.iter().find(|(n, _)| n == name).map(|(_, f)| *f);
        for by_digest in [false, true] {
            let (code, output) = invoke(case, by_digest);
            // A must-fail case fails by the check its README names (a crash is never a pass).
            let ok = match expected {
                None => code == 0,
                Some(failure) => failed_as(failure, code, &output),
            };
            if ok {
                passed += 1;
            } else {
                failures.push(format!(
                    "{name} ({}): expected {expected:?}, exit {code}: {output}",
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
