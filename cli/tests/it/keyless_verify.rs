//! `hallmark verify` on keyless attestations: identity flags, expected-versus-actual messages.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::Scratch;

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
    let signer = doc["attestations"][0]["signer"][0]["identity"]
        .as_str()
        .unwrap();
    assert!(
        signer.contains(IDENTITY) && signer.contains(ISSUER),
        "{signer}"
    );
}

#[test]
fn wrong_identity_issuer_or_workflow_is_denied_with_expected_and_actual() {
    let s = Scratch::repo();
    let bundle = dsse_bundle();
    let run = s.expect(
        &[
            "verify",
            A_TXT,
            "--bundle",
            &bundle,
            "--certificate-identity",
            "https://github.com/evil/x/.github/workflows/y.yml@refs/heads/main",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
        1,
    );
    assert!(
        run.stdout
            .contains("certificate identity mismatch: expected \"https://github.com/evil"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(IDENTITY),
        "actual shown: {}",
        run.stdout
    );
    let run = s.expect(
        &[
            "verify",
            A_TXT,
            "--bundle",
            &bundle,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
        ],
        1,
    );
    assert!(
        run.stdout.contains("OIDC issuer mismatch"),
        "{}",
        run.stdout
    );
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
            "--signer-workflow",
            "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1",
        ],
        1,
    );
    assert!(
        run.stdout.contains("--signer-workflow mismatch"),
        "{}",
        run.stdout
    );
    // Without identity flags, a keyless attestation is not trusted by a key.
    s.expect(&["keygen", "--output", "k"], 0);
    let run = s.expect(&["verify", A_TXT, "--bundle", &bundle, "--key", "k.pub"], 1);
    assert!(run.stdout.contains("signed keyless"), "{}", run.stdout);
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
