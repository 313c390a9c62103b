//! Real producers' bundle shapes, judged by the real binary: each verifies, and its tampered twin
//! is rejected with the code of the check that catches it.
//!
//! - cosign v3 image signatures: in-toto Statement v1, predicateType
//!   `https://sigstore.dev/cosign/sign/v1`, no `predicate` (docs/decisions/0020);
//! - slsa-github-generator's container-based builder: Statement v0.1 with an empty predicateType
//!   (docs/decisions/0022);
//!
//! both signed keyless by the local test services (OIDC → Fulcio → Rekor) in that shape; and
//! - a trusted root whose certificate chains list the root first (docs/decisions/0021), with
//!   sigstore-go's v0.1 bundle whose chain ends with that very root (`$HALLMARK_VECTORS`).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hallmark_attester::signer::Signer;
use hallmark_model::bundle::Bundle;
use hallmark_model::statement::PAYLOAD_TYPE;
use hallmark_remote::keyless::{KeylessConfig, KeylessSigner};
use hallmark_testsvc::services::Services;
use hallmark_verifier::sigstore::trust_root::TrustRoot;
use serde_json::{Value, json};

use crate::common::{Scratch, rejection_code, rejection_codes};

const WORKFLOW: &str = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main";
const COSIGN_SIGN: &str = "https://sigstore.dev/cosign/sign/v1";
/// The image the statements are about.
const IMAGE: &str = "sha256:4a5c1e6f0d1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5";

/// The test services, their trusted root written to `root.json`, and a keyless signer holding a
/// GitHub Actions workflow identity.
struct Keyless {
    services: Services,
    root: String,
    signer: KeylessSigner,
}

fn keyless(s: &Scratch) -> Keyless {
    let services = Services::start().unwrap();
    let root_json = serde_json::to_vec(&services.trusted_root()).unwrap();
    std::fs::write(s.file("root.json"), &root_json).unwrap();
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 300;
    let token = services
        .token(
            &json!({"sub": "repo:acme/app:ref:refs/heads/main", "aud": "sigstore", "exp": exp,
                       "job_workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
                       "repository": "acme/app"}),
        )
        .unwrap();
    let config = KeylessConfig {
        fulcio_url: format!("{}/fulcio", services.url),
        rekor_url: format!("{}/rekor", services.url),
        token,
        trust_root: TrustRoot::from_json(&root_json).unwrap(),
        timestamp_url: None,
    };
    let agent = hallmark_remote::http::agent(None, None).unwrap();
    Keyless {
        root: s.file("root.json").display().to_string(),
        signer: KeylessSigner::new(agent, config).unwrap(),
        services,
    }
}

impl Keyless {
    /// Signs `statement` as written and saves the bundle as `name`.
    fn sign(&self, s: &Scratch, statement: &Value, name: &str) -> Bundle {
        let bundle = self
            .signer
            .sign_dsse(PAYLOAD_TYPE, statement.to_string().as_bytes())
            .unwrap();
        std::fs::write(s.file(name), bundle.to_json()).unwrap();
        bundle
    }

    fn issuer(&self) -> String {
        format!("{}/oidc", self.services.url)
    }

    /// `hallmark verify-bundle` of `bundle` for IMAGE: the exit code and output.
    fn verify_bundle(&self, s: &Scratch, bundle: &str) -> (i32, String) {
        let run = s.run(&[
            "verify-bundle",
            "--bundle",
            bundle,
            "--certificate-identity",
            WORKFLOW,
            "--certificate-oidc-issuer",
            &self.issuer(),
            "--trusted-root",
            &self.root,
            IMAGE,
        ]);
        (run.code, run.text())
    }

    /// `hallmark verify IMAGE --bundle B EXTRA --format json`, expecting `code`.
    fn verify(&self, s: &Scratch, bundle: &str, extra: &[&str], code: i32) -> Value {
        let issuer = self.issuer();
        let mut args = vec![
            "verify",
            IMAGE,
            "--bundle",
            bundle,
            "--certificate-identity",
            WORKFLOW,
            "--certificate-oidc-issuer",
            &issuer,
            "--trusted-root",
            &self.root,
            "--format",
            "json",
        ];
        args.extend(extra);
        serde_json::from_str(&s.expect(&args, code).stdout).unwrap()
    }
}

impl Keyless {
    /// Saves `bundle` with its DSSE payload replaced by `statement` (the signature left as it
    /// was) as `twin.json`, and asserts `verify-bundle` rejects it for the signature.
    fn twin_is_rejected(&self, s: &Scratch, bundle: &Bundle, statement: &Value) {
        let mut twin = bundle.clone();
        twin.dsse_envelope.as_mut().unwrap().payload = statement.to_string().into_bytes();
        std::fs::write(s.file("twin.json"), twin.to_json()).unwrap();
        let (code, out) = self.verify_bundle(s, "twin.json");
        assert_eq!(code, 1, "{out}");
        assert_eq!(
            rejection_code(&out),
            Some("sigstore.signature.mismatch"),
            "{out}"
        );
    }
}

/// The code of each violation in a `verify --format json` document.
fn violation_codes(doc: &Value) -> Vec<&str> {
    let violations = doc["violations"].as_array().into_iter().flatten();
    violations.filter_map(|v| v["code"].as_str()).collect()
}

fn image_hex() -> &'static str {
    IMAGE.trim_start_matches("sha256:")
}

#[test]
fn a_cosign_image_signature_without_predicate_verifies_keyless() {
    let s = Scratch::repo();
    let k = keyless(&s);
    let statement = json!({"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "registry.example/acme/app", "digest": {"sha256": image_hex()}}],
        "predicateType": COSIGN_SIGN});
    let bundle = k.sign(&s, &statement, "cosign.json");
    let (code, out) = k.verify_bundle(&s, "cosign.json");
    assert_eq!(code, 0, "{out}");

    // `verify` hands it to the policy as signed: the predicate type, and no predicate.
    std::fs::write(
        s.file("cosign.rego"),
        format!(
            "package hallmark\n\nimport rego.v1\n\n\
             deny contains v if {{\n\tnot cosign_signed\n\tv := {{\"code\": \"cosign.missing\", \"msg\": \"no cosign image signature\"}}\n}}\n\n\
             cosign_signed if {{\n\tsome a in input.attestations\n\ta.predicateType == {COSIGN_SIGN:?}\n\tnot \"predicate\" in object.keys(a.statement)\n}}\n"
        ),
    )
    .unwrap();
    k.verify(&s, "cosign.json", &["--policy", "cosign.rego"], 0);
    // Without a policy it is what cosign's --type asks for, and it is not provenance.
    let doc = k.verify(&s, "cosign.json", &["--predicate-type", COSIGN_SIGN], 0);
    assert_eq!(violation_codes(&doc), Vec::<&str>::new(), "{doc}");
    let doc = k.verify(&s, "cosign.json", &[], 1);
    assert_eq!(violation_codes(&doc), ["predicate.missing"], "{doc}");
    assert_eq!(rejection_codes(&doc), Vec::<String>::new(), "{doc}");

    // The twin: a predicate slipped into the signed payload.
    let mut tampered = statement;
    tampered["predicate"] = json!({"approved": true});
    k.twin_is_rejected(&s, &bundle, &tampered);
    let doc = k.verify(&s, "twin.json", &["--policy", "cosign.rego"], 1);
    assert_eq!(rejection_codes(&doc), ["sigstore.signature.mismatch"]);
}

#[test]
fn container_based_provenance_with_an_empty_predicate_type_verifies_at_the_sigstore_layer() {
    let s = Scratch::repo();
    let k = keyless(&s);
    // The shape slsa-github-generator's container-based builder writes.
    let statement = json!({"_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "ghcr.io/acme/app", "digest": {"sha256": image_hex()}}],
        "predicateType": "",
        "predicate": {
            "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@refs/tags/v1.9.0"},
            "buildType": "https://slsa.dev/container-based-build/v0.1?draft",
            "invocation": {"configSource": {"uri": "git+https://github.com/acme/app@refs/heads/main",
                                            "digest": {"sha1": "0123456789abcdef0123456789abcdef01234567"},
                                            "entryPoint": "build.toml"}},
            "materials": [{"uri": "git+https://github.com/acme/app@refs/heads/main",
                           "digest": {"sha1": "0123456789abcdef0123456789abcdef01234567"}}]}});
    let bundle = k.sign(&s, &statement, "provenance.json");
    let (code, out) = k.verify_bundle(&s, "provenance.json");
    assert_eq!(code, 0, "{out}");

    // What an untyped predicate means is the policy's to say: this one refuses it by name,
    // which it can only do because the attestation verified and reached it.
    std::fs::write(
        s.file("typed.rego"),
        "package hallmark\n\nimport rego.v1\n\n\
         deny contains v if {\n\tsome a in input.attestations\n\ta.predicateType == \"\"\n\t\
         v := {\"code\": \"predicate.untyped\", \"msg\": sprintf(\"%s has no predicate type\", [a.origin])}\n}\n",
    )
    .unwrap();
    let doc = k.verify(&s, "provenance.json", &["--policy", "typed.rego"], 1);
    assert!(
        rejection_codes(&doc).is_empty(),
        "the attestation itself verified: {doc}"
    );
    assert!(doc.to_string().contains("predicate.untyped"), "{doc}");
    // Without a policy, an untyped predicate is never the provenance `verify` requires.
    let doc = k.verify(&s, "provenance.json", &[], 1);
    assert_eq!(violation_codes(&doc), ["predicate.missing"], "{doc}");
    assert!(rejection_codes(&doc).is_empty(), "{doc}");

    // The twin: the subject changed after signing.
    let mut tampered = statement;
    tampered["subject"][0]["digest"]["sha256"] = json!("0".repeat(64));
    k.twin_is_rejected(&s, &bundle, &tampered);
}

#[test]
fn a_trusted_root_listing_the_root_first_verifies_a_bundle_that_carries_that_root() {
    let vectors = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let go = vectors.join("sigstore-go/pkg/testing/data");
    let read = |p: PathBuf| -> Value {
        serde_json::from_slice(
            &std::fs::read(&p)
                .unwrap_or_else(|e| panic!("{}: {e} (HALLMARK_VECTORS)", p.display())),
        )
        .unwrap()
    };
    let s = Scratch::repo();
    let mut root = read(go.join("trusted-roots/public-good.json"));
    for ca in root["certificateAuthorities"].as_array_mut().unwrap() {
        ca["certChain"]["certificates"]
            .as_array_mut()
            .unwrap()
            .reverse();
    }
    std::fs::write(s.file("root-first.json"), root.to_string()).unwrap();
    let bundle = read(go.join("bundles/dsse.sigstore.json"));
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    let subject = format!(
        "sha512:{}",
        statement["subject"][0]["digest"]["sha512"]
            .as_str()
            .unwrap()
    );
    let verify = |bundle: &Value| {
        std::fs::write(s.file("b.json"), bundle.to_string()).unwrap();
        let run = s.run(&[
            "verify-bundle",
            "--bundle",
            "b.json",
            "--certificate-identity",
            "brian@dehamer.com",
            "--certificate-oidc-issuer",
            "https://github.com/login/oauth",
            "--trusted-root",
            "root-first.json",
            &subject,
        ]);
        (run.code, run.text())
    };
    let (code, out) = verify(&bundle);
    assert_eq!(code, 0, "{out}");
    // The twin ends its chain with a self-signed certificate of its own.
    let staging = hallmark_verifier::sigstore::embedded::staging().unwrap();
    let foreign = (staging.certificate_authorities.iter())
        .flat_map(|ca| &ca.chain)
        .find(|c| hallmark_verifier::sigstore::certificate::is_self_issued(c))
        .unwrap();
    let mut twin = bundle;
    twin["verificationMaterial"]["x509CertificateChain"]["certificates"][2] =
        json!({"rawBytes": STANDARD.encode(foreign)});
    let (code, out) = verify(&twin);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        rejection_code(&out),
        Some("sigstore.certificate.bundled-root"),
        "{out}"
    );
}
