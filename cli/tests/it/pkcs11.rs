//! Keys in a hardware module, against a real PKCS#11 module: SoftHSM2 with a throw-away token
//! directory per test (SOFTHSM2_CONF names a configuration in a temporary directory). The
//! module must be installed (scripts/install-test-deps.sh): these tests fail, never skip,
//! without it.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::common::{Run, Scratch, error_code, into_run, record_json, rejection_codes};

const USER_PIN: &str = "user-pin-4711";
const SO_PIN: &str = "so-pin-0815";
const INSTALL: &str = "run scripts/install-test-deps.sh (Debian package softhsm2)";

/// SoftHSM2's module; a missing one fails the test with what to do.
fn module() -> PathBuf {
    hallmark_attester::keys::pkcs11::DEFAULT_MODULES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("SoftHSM2's libsofthsm2.so is not installed: {INSTALL}"))
}

/// A scratch repository with a SoftHSM2 configuration of its own and one token, `plant`.
struct Hsm {
    s: Scratch,
    tokens: tempfile::TempDir,
    module: PathBuf,
}

impl Hsm {
    fn new() -> Self {
        let module = module();
        let tokens = tempfile::tempdir().unwrap();
        std::fs::create_dir(tokens.path().join("tokens")).unwrap();
        std::fs::write(
            tokens.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.path().join("tokens").display()
            ),
        )
        .unwrap();
        let hsm = Hsm {
            s: Scratch::repo(),
            tokens,
            module,
        };
        hsm.init_token("plant");
        hsm
    }

    fn conf(&self) -> PathBuf {
        self.tokens.path().join("softhsm2.conf")
    }

    fn init_token(&self, label: &str) {
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", SO_PIN, "--pin", USER_PIN])
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .unwrap_or_else(|e| panic!("softhsm2-util cannot run ({e}): {INSTALL}"));
        assert!(
            out.status.success(),
            "softhsm2-util --init-token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `hallmark ARGS` with this token's configuration and `pin` in $HALLMARK_PKCS11_PIN.
    fn run(&self, args: &[&str], pin: Option<&str>) -> Run {
        self.run_env(args, pin, &[])
    }

    fn run_env(&self, args: &[&str], pin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.s.command(args);
        cmd.envs(env.iter().copied());
        cmd.env("SOFTHSM2_CONF", self.conf())
            .env("HALLMARK_PKCS11_MODULE", &self.module)
            .env_remove("HALLMARK_PKCS11_PIN")
            .stdin(std::process::Stdio::null());
        if let Some(pin) = pin {
            cmd.env("HALLMARK_PKCS11_PIN", pin);
        }
        let run = into_run(cmd.output().unwrap());
        record_json(args, &run);
        // Whatever happened, no PIN is ever printed.
        for secret in [USER_PIN, SO_PIN, "wrong-pin-1234"] {
            assert!(
                !run.text().contains(secret),
                "a PIN was printed by hallmark {args:?}:\n{}",
                run.text()
            );
        }
        run
    }

    fn expect(&self, args: &[&str], pin: Option<&str>, code: i32) -> Run {
        let run = self.run(args, pin);
        assert_eq!(
            run.code, code,
            "hallmark {args:?}\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run
    }

    fn build(&self, key: &str, pin: Option<&str>, code: i32) -> Run {
        self.expect(
            &[
                "run",
                "--step",
                "build",
                "-m",
                "src",
                "-p",
                "out",
                "--key",
                key,
                "--output",
                "build.json",
                "--no-store",
                "--",
                "sh",
                "-c",
                "mkdir -p out && cat src/*.c > out/app",
            ],
            pin,
            code,
        )
    }

    fn verify(&self, key: &str, bundle: &str, code: i32) -> Value {
        let run = self.expect(
            &[
                "verify", "out/app", "--key", key, "--bundle", bundle, "--format", "json",
            ],
            None,
            code,
        );
        serde_json::from_str(&run.stdout).unwrap()
    }
}

const KEY: &str = "pkcs11:token=plant;object=release";

#[test]
fn a_key_made_in_the_token_signs_a_step_that_verifies_with_its_exported_public_key() {
    let hsm = Hsm::new();
    let made = hsm.expect(
        &["keygen", "--pkcs11", KEY, "--output", "release"],
        Some(USER_PIN),
        0,
    );
    assert!(made.stderr.contains("never leaves"), "{}", made.stderr);
    assert!(
        made.stderr.contains(&format!("sign with --key '{KEY}'")),
        "{}",
        made.stderr
    );
    assert!(hsm.s.file("release.pub").is_file());
    assert!(
        !hsm.s.file("release.key").exists(),
        "no private key file is ever written"
    );
    // The same label again is refused: a key in a token is never replaced.
    let again = hsm.expect(
        &["keygen", "--pkcs11", KEY, "--output", "again"],
        Some(USER_PIN),
        2,
    );
    assert_eq!(error_code(&again.stderr), Some("pkcs11.object-exists"));

    hsm.build(KEY, Some(USER_PIN), 0);
    let allowed = hsm.verify("release.pub", "build.json", 0);
    assert_eq!(allowed["allowed"], json!(true), "{allowed}");
    // The token's public key serves as trust too, read without the PIN.
    hsm.verify(KEY, "build.json", 0);

    // A tampered attestation: the signature no longer matches.
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(hsm.s.file("build.json")).unwrap()).unwrap();
    let mut tampered = bundle.clone();
    let payload = STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let evil = String::from_utf8(payload)
        .unwrap()
        .replace("\"build\"", "\"evil\"");
    tampered["dsseEnvelope"]["payload"] = json!(STANDARD.encode(evil));
    std::fs::write(hsm.s.file("t.json"), serde_json::to_vec(&tampered).unwrap()).unwrap();
    let denied = hsm.verify("release.pub", "t.json", 1);
    assert_eq!(rejection_codes(&denied), vec!["dsse.signature"], "{denied}");

    // Another key of the same token is not the one that signed.
    let other = "pkcs11:token=plant;object=other";
    hsm.expect(
        &["keygen", "--pkcs11", other, "--output", "other"],
        Some(USER_PIN),
        0,
    );
    let denied = hsm.verify("other.pub", "build.json", 1);
    assert_eq!(rejection_codes(&denied), vec!["dsse.signature"], "{denied}");
}

#[test]
fn an_ed25519_key_in_the_token_signs_and_a_pin_file_unlocks_it() {
    let hsm = Hsm::new();
    let pin_file = hsm.s.file("pin.txt");
    std::fs::write(&pin_file, format!("{USER_PIN}\n")).unwrap();
    std::fs::set_permissions(
        &pin_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let key = format!(
        "pkcs11:token=plant;object=ed?pin-source=file:{}",
        pin_file.display()
    );
    hsm.expect(
        &[
            "keygen",
            "--pkcs11",
            &key,
            "--algorithm",
            "ed25519",
            "--output",
            "ed",
        ],
        None,
        0,
    );
    let pem = std::fs::read_to_string(hsm.s.file("ed.pub")).unwrap();
    // An Ed25519 SubjectPublicKeyInfo is 44 bytes: 60 base64 characters.
    assert_eq!(pem.lines().nth(1).map(str::len), Some(60), "{pem}");
    hsm.build(&key, None, 0);
    hsm.verify("ed.pub", "build.json", 0);
    // $HALLMARK_KEY may name a key in a token too; approvals sign with it like any key.
    let approved = hsm.run_env(
        &[
            "approve",
            "out/app",
            "--reason",
            "tested",
            "--output",
            "approval.json",
        ],
        None,
        &[("HALLMARK_KEY", &key)],
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    let approval: Value =
        serde_json::from_slice(&std::fs::read(hsm.s.file("approval.json")).unwrap()).unwrap();
    let built: Value =
        serde_json::from_slice(&std::fs::read(hsm.s.file("build.json")).unwrap()).unwrap();
    let hint = |b: &Value| b["verificationMaterial"]["publicKey"]["hint"].clone();
    assert_eq!(
        hint(&approval),
        hint(&built),
        "signed by the same token key"
    );
}

#[test]
fn an_rsa_key_in_the_token_signs_and_verifies_as_pkcs1_sha256() {
    let hsm = Hsm::new();
    let key = "pkcs11:token=plant;object=rsa";
    hsm.expect(
        &[
            "keygen",
            "--pkcs11",
            key,
            "--algorithm",
            "rsa-3072",
            "--output",
            "rsa",
        ],
        Some(USER_PIN),
        0,
    );
    hsm.build(key, Some(USER_PIN), 0);
    hsm.verify("rsa.pub", "build.json", 0);
    hsm.verify(key, "build.json", 0);
    // RSA keys live only in tokens: no key file of that kind is made.
    let refused = hsm.expect(
        &["keygen", "--algorithm", "rsa-3072", "--output", "file"],
        None,
        2,
    );
    assert!(
        refused.stderr.contains("only in a token"),
        "{}",
        refused.stderr
    );
    assert!(!hsm.s.file("file.key").exists());
}

#[test]
fn a_wrong_pin_is_refused_with_a_clear_message_and_never_printed() {
    let hsm = Hsm::new();
    hsm.expect(
        &["keygen", "--pkcs11", KEY, "--output", "release"],
        Some(USER_PIN),
        0,
    );
    let refused = hsm.build(KEY, Some("wrong-pin-1234"), 2);
    assert_eq!(
        error_code(&refused.stderr),
        Some("pkcs11.pin-incorrect"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("wrong PIN for token \"plant\""),
        "{}",
        refused.stderr
    );
    assert!(!hsm.s.file("build.json").exists(), "nothing was signed");
    assert!(
        !hsm.s.file("out").exists(),
        "the key is opened before the build runs, so a wrong PIN stops it first"
    );
    // In the URI: refused the same way, with a warning that the command line shows it.
    let in_uri = format!("{KEY}?pin-value=wrong-pin-1234");
    let refused = hsm.build(&in_uri, None, 2);
    assert_eq!(error_code(&refused.stderr), Some("pkcs11.pin-incorrect"));
    assert!(refused.stderr.contains("other users"), "{}", refused.stderr);
    // No PIN at all, and no terminal to ask on.
    let missing = hsm.build(KEY, None, 2);
    assert_eq!(
        error_code(&missing.stderr),
        Some("pkcs11.pin-missing"),
        "{}",
        missing.stderr
    );
    assert!(missing.stderr.contains("HALLMARK_PKCS11_PIN"));
    // The right PIN still works: nothing was locked by the tries above.
    hsm.build(KEY, Some(USER_PIN), 0);
}

#[test]
fn a_uri_naming_a_missing_object_token_or_module_is_a_clear_error() {
    let hsm = Hsm::new();
    let cases = [
        (
            "pkcs11:token=plant;object=nope",
            "pkcs11.object-not-found",
            "object=nope",
        ),
        (
            "pkcs11:token=elsewhere;object=release",
            "pkcs11.token-not-found",
            "\"plant\"",
        ),
        (
            "pkcs11:token=plant;object=release;x-vendor=1",
            "pkcs11.uri",
            "x-vendor",
        ),
        (
            "pkcs11:token=plant;object=release?module-path=/nonexistent/module.so",
            "pkcs11.module",
            "/nonexistent/module.so",
        ),
    ];
    for (key, code, named) in cases {
        let run = hsm.build(key, Some(USER_PIN), 2);
        assert_eq!(error_code(&run.stderr), Some(code), "{key}: {}", run.stderr);
        assert!(run.stderr.contains(named), "{key}: {}", run.stderr);
        // As trust for verify too.
        let run = hsm.expect(&["verify", "src/a.c", "--key", key], None, 2);
        assert_eq!(error_code(&run.stderr), Some(code), "{key}: {}", run.stderr);
    }
}

/// In-process checks need SoftHSM2's configuration in this process's environment before the
/// module is loaded, and the test may not set it (no unsafe code): the test runs itself again
/// with SOFTHSM2_CONF set, and the child does the checks.
#[test]
fn the_private_key_never_leaves_the_token() {
    use hallmark_attester::keys::pkcs11::{KeyAlgorithm, Pkcs11Key, Pkcs11Uri};
    const CHILD: &str = "HALLMARK_TEST_SOFTHSM_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let hsm = Hsm::new();
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "pkcs11::the_private_key_never_leaves_the_token",
                "--exact",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("SOFTHSM2_CONF", hsm.conf())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("1 passed"),
            "the child ran the checks: {text}"
        );
        return;
    }
    let env: hallmark_attester::ci::Env = [
        ("HALLMARK_PKCS11_PIN".to_owned(), USER_PIN.to_owned()),
        (
            "HALLMARK_PKCS11_MODULE".to_owned(),
            module().display().to_string(),
        ),
    ]
    .into();
    let no_prompt = |_: &str| None;
    let uri = Pkcs11Uri::parse(KEY).unwrap();
    let key = Pkcs11Key::generate(&uri, KeyAlgorithm::EcdsaP256, &env, &no_prompt).unwrap();
    let kept = key.private_key_protection().unwrap();
    assert!(
        kept.sensitive && !kept.extractable && !kept.value_readable,
        "{kept:?}"
    );
    // Opened again for signing: same key, and its signatures verify with the exported key.
    let opened = Pkcs11Key::open_signing(&uri, &env, &no_prompt).unwrap();
    assert_eq!(opened.keyid(), key.keyid());
    let sig = opened.sign(b"message").unwrap();
    let trusted =
        hallmark_verifier::keys::TrustedKey::from_pem(key.public_key_pem().as_bytes(), "token")
            .unwrap();
    assert!(trusted.verifies(b"message", &sig));
    assert!(!trusted.verifies(b"other", &sig));
    // A key from a file with the same public key shape gets its keyid the same way.
    assert_eq!(trusted.keyid(), key.keyid());
    let public_only = Pkcs11Key::open_public(&uri, &env).unwrap();
    assert!(
        public_only.sign(b"message").is_err(),
        "a public key cannot sign"
    );
}

/// A token URI where only a file is taken (importing a cosign key, checking a bundle against a
/// key file) is refused without echoing it: it may carry the PIN.
#[test]
fn a_token_uri_where_a_file_is_taken_is_refused_without_echoing_the_pin() {
    let s = Scratch::repo();
    let uri = "pkcs11:token=plant;object=release?pin-value=918273";
    for args in [
        vec!["keygen", "--import", uri, "--output", "imported"],
        vec![
            "verify-bundle",
            "--bundle",
            "none.json",
            "--key",
            uri,
            "README.md",
        ],
    ] {
        let run = s.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.text());
        assert!(
            !run.text().contains("918273"),
            "{args:?} printed the PIN: {}",
            run.text()
        );
    }
}
