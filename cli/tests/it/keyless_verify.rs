//! `hallmark verify` on keyless attestations: identity flags, expected-versus-actual messages.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::{Scratch, rejection_code, rejection_codes};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const A_TXT: &str = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";

fn dsse_bundle() -> String {
    let vectors = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let path = vectors.join("sigstore-conformance/test/assets/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json");
    assert!(
        path.is_file(),
        "{} missing: set HALLMARK_VECTORS",
        path.display()
    );
    path.display().to_string()
}

#[test]
fn keyless_attestation_is_allowed_for_the_right_identity() {
    let s = Scratch::repo();
    let bundle = dsse_bundle();
    let run = s.expect(
        &[
            "verify",
            A_TXT,
            "--bundle",
            &bundle,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--format",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["verdict"], "allow");
    let signer = doc["attestations"][0]["signers"][0]["identity"]
        .as_str()
        .unwrap();
    assert!(
        signer.contains(IDENTITY) && signer.contains(ISSUER),
        "{signer}"
    );
}

/// `hallmark verify A_TXT --bundle BUNDLE ARGS --format json`, denied: the one rejected
/// attestation's code and reason.
fn denied(s: &Scratch, bundle: &str, args: &[&str]) -> (String, String) {
    let mut all = vec!["verify", A_TXT, "--bundle", bundle, "--format", "json"];
    all.extend(args);
    let run = s.expect(&all, 1);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let [code] = rejection_codes(&doc).try_into().unwrap();
    let reason = doc["attestations"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    (code, reason)
}

#[test]
fn wrong_identity_issuer_or_workflow_is_denied_with_expected_and_actual() {
    let s = Scratch::repo();
    let bundle = dsse_bundle();
    let evil = "https://github.com/evil/x/.github/workflows/y.yml@refs/heads/main";
    let (code, reason) = denied(
        &s,
        &bundle,
        &[
            "--certificate-identity",
            evil,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(code, "sigstore.identity.mismatch", "{reason}");
    // The reason shows what was expected next to what the certificate has.
    assert!(
        reason.contains(&format!("expected {evil:?}")) && reason.contains(IDENTITY),
        "{reason}"
    );
    let google = "https://accounts.google.com";
    let (code, reason) = denied(
        &s,
        &bundle,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            google,
        ],
    );
    assert_eq!(code, "sigstore.identity.mismatch", "{reason}");
    assert!(
        reason.contains(&format!("expected {google:?}")) && reason.contains(ISSUER),
        "{reason}"
    );
    let workflow = "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1";
    let (code, reason) = denied(
        &s,
        &bundle,
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            "--signer-workflow",
            workflow,
        ],
    );
    assert_eq!(code, "sigstore.identity.mismatch", "{reason}");
    assert!(
        reason.contains(&format!("expected {workflow:?}"))
            && reason.contains("extremely-dangerous-oidc-beacon.yml"),
        "{reason}"
    );
    // Without identity flags, a keyless attestation is not trusted by a key.
    s.expect(&["keygen", "--output", "k"], 0);
    let (code, reason) = denied(&s, &bundle, &["--key", "k.pub"]);
    assert_eq!(code, "bundle.keyless-needs-identity", "{reason}");
    let run = s.expect(&["verify", A_TXT, "--bundle", &bundle, "--key", "k.pub"], 1);
    // The library states the fact; the command line says which flags to use.
    assert!(
        run.stdout
            .contains("hint: verify it with --certificate-identity and --certificate-oidc-issuer"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_key_signed_bundle_checked_by_identity_points_to_key() {
    let s = Scratch::repo();
    s.expect(&["keygen", "--output", "k"], 0);
    let subject = format!("a.txt@{A_TXT}");
    s.expect(
        &[
            "attest",
            "--subject",
            &subject,
            "--provenance",
            "--key",
            "k.key",
            "--output",
            "k.json",
            "--no-store",
        ],
        0,
    );
    let run = s.expect(
        &[
            "verify-bundle",
            "--bundle",
            "k.json",
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
            A_TXT,
        ],
        1,
    );
    assert_eq!(
        rejection_code(&run.stdout),
        Some("sigstore.bundle.signer-kind"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("signed with a public key, and a certificate was given"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("hint: the bundle is signed with a key: verify it with --key"),
        "{}",
        run.stderr
    );
}
