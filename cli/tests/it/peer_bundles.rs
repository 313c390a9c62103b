//! Whole-bundle cases from peer Sigstore clients (sigstore-python, sigstore-go, cosign), run
//! through `hallmark verify-bundle` with the expectation each vendored MANIFEST.md states.
//! The vectors come from `$HALLMARK_VECTORS` (default: `../../shared/vectors` next to the
//! workspace); a missing vectors folder is a failure, not a skip.
//!
//! Not run here (not whole-bundle verifications, see the MANIFESTs' "other data" sections):
//! X.509 profile PEMs, trusted-root / trust-config / signing-config parse cases, the raw RFC3161
//! regression, the staging TUF snapshot, unsigned predicates and statements, cosign policy
//! envelopes and CUE policies, and sigstore-python's online-only detached cert+signature pairs.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::common::rejection_code;

/// sigstore-python `STAGING`: the staging root sigstore-python embeds.
const STAGING: &str =
    "sigstore-python/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstage.dev/trusted_root.json";
/// sigstore-python `PROD`: the production root sigstore-python embeds.
const PROD: &str =
    "sigstore-python/sigstore/_store/https%3A%2F%2Ftuf-repo-cdn.sigstore.dev/trusted_root.json";
/// sigstore-python `TSA`: STAGING with the local test TSA (`test/assets/tsa/ca.json`).
const TSA: &str = "sigstore-python/derived/tsa-staging-plus-test-tsa.trusted_root.json";
/// sigstore-go's older public-good root (no TSA, no Rekor v2).
const GO_PUBLIC_GOOD: &str = "sigstore-go/pkg/testing/data/trusted-roots/public-good.json";
/// The public-good production root at root-signing HEAD.
const PRODUCTION: &str = "trust-roots/production/trusted_root.json";

const GITHUB_OAUTH: &str = "https://github.com/login/oauth";
const GOOGLE: &str = "https://accounts.google.com";
const GHA: &str = "https://token.actions.githubusercontent.com";
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";

/// Who must have signed.
#[derive(Clone, Copy)]
enum Signer {
    /// `--certificate-identity` / `--certificate-oidc-issuer`.
    Identity(&'static str, &'static str),
    /// `--key` with a PEM file under the vectors folder.
    KeyPem(&'static str),
    /// `--key` with a PEM built from the npm registry key list entry with this keyId and usage.
    NpmKey(&'static str, &'static str),
}

/// What is passed as the artifact.
#[derive(Clone, Copy)]
enum Input {
    /// A file under the vectors folder.
    File(&'static str),
    /// A literal `sha256:HEX` / `sha512:HEX`.
    Digest(&'static str),
    /// `ALG:HEX` of the (single) subject of the in-toto statement inside the bundle's DSSE envelope.
    StatementSubject,
    /// `sha256:HEX` of the bundle's `messageSignature.messageDigest`.
    MessageDigest,
    /// A temporary file with these bytes.
    Bytes(&'static [u8]),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// Exit 0.
    Ok,
    /// Exit 1: a verdict, with the code of the check that must have failed
    /// (`REJECTED: ARTIFACT: CODE: ...`, docs/error-codes.md).
    Reject(&'static str),
}

struct Case {
    name: &'static str,
    bundle: &'static str,
    subject: Input,
    signer: Signer,
    trust_root: &'static str,
    expect: Expect,
}

fn vectors_dir() -> PathBuf {
    let dir = std::env::var_os("HALLMARK_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
        });
    assert!(
        dir.is_dir(),
        "vectors not found at {}: set HALLMARK_VECTORS",
        dir.display()
    );
    dir
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `ALG:HEX` of the single subject of the statement in the bundle's DSSE envelope.
fn statement_subject(bundle: &Path) -> String {
    let b = read_json(bundle);
    let payload = B64
        .decode(b["dsseEnvelope"]["payload"].as_str().expect("DSSE payload"))
        .unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let subjects = statement["subject"].as_array().expect("statement subject");
    assert_eq!(subjects.len(), 1, "{}: one subject", bundle.display());
    let digests = subjects[0]["digest"].as_object().unwrap();
    for alg in ["sha512", "sha256"] {
        if let Some(v) = digests.get(alg) {
            return format!("{alg}:{}", v.as_str().unwrap());
        }
    }
    panic!("{}: no sha256/sha512 subject digest", bundle.display());
}

/// `sha256:HEX` of the bundle's message digest.
fn message_digest(bundle: &Path) -> String {
    let b = read_json(bundle);
    let md = &b["messageSignature"]["messageDigest"];
    assert_eq!(md["algorithm"], "SHA2_256", "{}", bundle.display());
    let raw = B64.decode(md["digest"].as_str().unwrap()).unwrap();
    format!("sha256:{}", hex(&raw))
}

/// Writes the npm registry key (`trust-roots/npm-registry-keys.json`, DER SPKI in base64) as PEM.
fn npm_key_pem(vectors: &Path, key_id: &str, usage: &str, tmp: &Path) -> PathBuf {
    let keys = read_json(&vectors.join("trust-roots/npm-registry-keys.json"));
    let key = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["keyId"] == key_id && k["keyUsage"] == usage)
        .unwrap_or_else(|| panic!("npm key {key_id} ({usage}) not found"));
    assert_eq!(key["publicKey"]["keyDetails"], "PKIX_ECDSA_P256_SHA_256");
    let b64 = key["publicKey"]["rawBytes"].as_str().unwrap();
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    let path = tmp.join("npm-registry-key.pem");
    std::fs::write(&path, pem).unwrap();
    path
}

fn cases() -> Vec<Case> {
    use Expect::*;
    use Input::*;
    use Signer::*;
    const WILLIAM: Signer = Identity("william@yossarian.net", GITHUB_OAUTH);
    const ALEXIS: Signer = Identity("alexis.challande@trailofbits.com", GOOGLE);
    vec![
        // ---- sigstore-python MANIFEST, "Bundle cases" (rows 1-18) ----
        Case {
            name: "py#1 bundle.txt.sigstore (v0.1)",
            bundle: "sigstore-python/test/assets/bundle.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle.txt"),
            signer: Identity("a@tny.town", GITHUB_OAUTH),
            trust_root: STAGING,
            expect: Ok,
        },
        Case {
            name: "py#2 bundle_v3.txt.sigstore",
            bundle: "sigstore-python/test/assets/bundle_v3.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle_v3.txt"),
            signer: WILLIAM,
            trust_root: STAGING,
            expect: Ok,
        },
        Case {
            name: "py#3 bundle_v3_alt.txt.sigstore (alt mediaType)",
            bundle: "sigstore-python/test/assets/bundle_v3_alt.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle_v3_alt.txt"),
            signer: WILLIAM,
            trust_root: STAGING,
            expect: Ok,
        },
        Case {
            name: "py#4 integration/bundle_v3.txt.sigstore",
            bundle: "sigstore-python/test/assets/integration/bundle_v3.txt.sigstore",
            subject: File("sigstore-python/test/assets/integration/bundle_v3.txt"),
            signer: WILLIAM,
            trust_root: STAGING,
            expect: Ok,
        },
        Case {
            name: "py#5 staging-rekor-v2.txt.sigstore.json (Rekor v2 + TSA)",
            bundle: "sigstore-python/test/assets/staging-rekor-v2.txt.sigstore.json",
            subject: File("sigstore-python/test/assets/staging-rekor-v2.txt"),
            signer: Identity("jku@goto.fi", GITHUB_OAUTH),
            trust_root: STAGING,
            expect: Ok,
        },
        Case {
            name: "py#6 a.dsse.staging-rekor-v2 (subject digest)",
            bundle: "sigstore-python/test/assets/a.dsse.staging-rekor-v2.txt.sigstore.json",
            subject: Digest(
                "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
            ),
            signer: Identity(BEACON, GHA),
            trust_root: STAGING,
            expect: Ok,
        },
        Case {
            // The MANIFEST's second form of row 6: the `.txt` file is not the statement's subject.
            name: "py#6b a.dsse.staging-rekor-v2 (wrong artifact: the .txt file)",
            bundle: "sigstore-python/test/assets/a.dsse.staging-rekor-v2.txt.sigstore.json",
            subject: File("sigstore-python/test/assets/a.dsse.staging-rekor-v2.txt"),
            signer: Identity(BEACON, GHA),
            trust_root: STAGING,
            expect: Reject("statement.subject"),
        },
        Case {
            name: "py#7 bundle_v3_github.whl.sigstore (prod)",
            bundle: "sigstore-python/test/assets/bundle_v3_github.whl.sigstore",
            subject: File("sigstore-python/test/assets/bundle_v3_github.whl"),
            signer: Identity(
                "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
                GHA,
            ),
            trust_root: PROD,
            expect: Ok,
        },
        Case {
            name: "py#8 bundle_cve_2022_36056 (inconsistent tlog entry)",
            bundle: "sigstore-python/test/assets/bundle_cve_2022_36056.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle_cve_2022_36056.txt"),
            signer: WILLIAM,
            trust_root: STAGING,
            expect: Reject("sigstore.tlog.body"),
        },
        Case {
            name: "py#9 bundle_invalid_version (bad mediaType)",
            bundle: "sigstore-python/test/assets/bundle_invalid_version.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle_invalid_version.txt"),
            signer: WILLIAM,
            trust_root: STAGING,
            expect: Reject("bundle.parse"),
        },
        Case {
            // The MANIFEST says "any" identity; the parse fails before identity matters.
            name: "py#10 bundle_no_cert_v1 (empty chain)",
            bundle: "sigstore-python/test/assets/bundle_no_cert_v1.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle_no_cert_v1.txt"),
            signer: WILLIAM,
            trust_root: PROD,
            expect: Reject("sigstore.certificate.empty-chain"),
        },
        Case {
            name: "py#11 bundle_no_log_entry",
            bundle: "sigstore-python/test/assets/bundle_no_log_entry.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle_no_log_entry.txt"),
            signer: Identity("alex.cameron@trailofbits.com", GOOGLE),
            trust_root: STAGING,
            expect: Reject("sigstore.tlog.missing"),
        },
        Case {
            name: "py#12 bundle_no_checkpoint (v0.2 proof without checkpoint)",
            bundle: "sigstore-python/test/assets/bundle_no_checkpoint.txt.sigstore",
            subject: File("sigstore-python/test/assets/bundle_no_checkpoint.txt"),
            signer: WILLIAM,
            trust_root: STAGING,
            expect: Reject("sigstore.tlog.checkpoint"),
        },
        Case {
            name: "py#13 bundle_v3_no_signed_time (no SET, no TSA)",
            bundle: "sigstore-python/test/assets/bundle_v3_no_signed_time.txt.sigstore.json",
            subject: File("sigstore-python/test/assets/bundle_v3_no_signed_time.txt"),
            signer: WILLIAM,
            trust_root: PROD,
            expect: Reject("sigstore.time.no-verified-time"),
        },
        Case {
            name: "py#14 tsa/bundle.txt.sigstore (2 RFC3161 timestamps)",
            bundle: "sigstore-python/test/assets/tsa/bundle.txt.sigstore",
            subject: File("sigstore-python/test/assets/tsa/bundle.txt"),
            signer: ALEXIS,
            trust_root: TSA,
            expect: Ok,
        },
        Case {
            name: "py#15 tsa/bundle.duplicate (duplicate timestamp)",
            bundle: "sigstore-python/test/assets/tsa/bundle.duplicate.sigstore",
            subject: File("sigstore-python/test/assets/tsa/bundle.txt"),
            signer: ALEXIS,
            trust_root: TSA,
            expect: Reject("sigstore.timestamp.duplicate"),
        },
        Case {
            name: "py#16 tsa/bundle.many_timestamp (33 > 32)",
            bundle: "sigstore-python/test/assets/tsa/bundle.many_timestamp.sigstore",
            subject: File("sigstore-python/test/assets/tsa/bundle.txt"),
            signer: ALEXIS,
            trust_root: TSA,
            expect: Reject("sigstore.timestamp.too-many"),
        },
        Case {
            // As the MANIFEST states it (trust root TSA). The bundle's one timestamp is from the
            // real staging TSA (`sigstore-tsa-selfsigned`), which TSA does not trust (it holds
            // only the local test TSA), so the timestamp is refused before the time matters: the
            // late time itself is exercised by py#17b.
            name: "py#17 tsa/bundle.txt.late_timestamp (TSA time after cert expiry)",
            bundle: "sigstore-python/test/assets/tsa/bundle.txt.late_timestamp.sigstore",
            subject: File("sigstore-python/test/assets/tsa/bundle.txt"),
            signer: Identity(
                "insecure-cloudtop-shared-user@cloudtop-prod-us-east.iam.gserviceaccount.com",
                GOOGLE,
            ),
            trust_root: TSA,
            expect: Reject("sigstore.timestamp.untrusted"),
        },
        Case {
            // Row 17 against STAGING, whose TSAs include the one that stamped it: the timestamp
            // verifies and places the signature after the certificate expired.
            name: "py#17b tsa/bundle.txt.late_timestamp (STAGING: TSA trusted, time too late)",
            bundle: "sigstore-python/test/assets/tsa/bundle.txt.late_timestamp.sigstore",
            subject: File("sigstore-python/test/assets/tsa/bundle.txt"),
            signer: Identity(
                "insecure-cloudtop-shared-user@cloudtop-prod-us-east.iam.gserviceaccount.com",
                GOOGLE,
            ),
            trust_root: STAGING,
            expect: Reject("sigstore.certificate.expired"),
        },
        Case {
            // Policy-dependent in the MANIFEST. Hallmark's decision: REJECT, because the bundle's
            // inclusion proof has no checkpoint (as sigstore-python does for the bundle as-is;
            // upstream only verifies it after `sigstore plumbing fix-bundle`, which needs the network).
            name: "py#18 integration/Python-3.12.5.tgz.sigstore (proof without checkpoint)",
            bundle: "sigstore-python/test/assets/integration/Python-3.12.5.tgz.sigstore",
            subject: Digest(
                "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405",
            ),
            signer: Identity("thomas@python.org", GOOGLE),
            trust_root: PROD,
            expect: Reject("sigstore.tlog.checkpoint"),
        },
        // ---- sigstore-go MANIFEST ----
        Case {
            name: "go sigstore.js@2.0.0-provenance (public-good.json)",
            bundle: "sigstore-go/pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
            subject: StatementSubject,
            signer: Identity(
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
                GHA,
            ),
            trust_root: GO_PUBLIC_GOOD,
            expect: Ok,
        },
        Case {
            name: "go sigstore.js@2.0.0-provenance (production root)",
            bundle: "sigstore-go/pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
            subject: StatementSubject,
            signer: Identity(
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
                GHA,
            ),
            trust_root: PRODUCTION,
            expect: Ok,
        },
        Case {
            name: "go dsse.sigstore.json",
            bundle: "sigstore-go/pkg/testing/data/bundles/dsse.sigstore.json",
            subject: StatementSubject,
            signer: Identity("brian@dehamer.com", GITHUB_OAUTH),
            trust_root: GO_PUBLIC_GOOD,
            expect: Ok,
        },
        Case {
            // ErrDSSEInvalidSignatureCount: exactly one DSSE signature is allowed. The bundle is
            // well-formed, so the rejection must be a verdict.
            name: "go dsse-2sigs.sigstore.json (two DSSE signatures)",
            bundle: "sigstore-go/pkg/testing/data/bundles/dsse-2sigs.sigstore.json",
            subject: StatementSubject,
            signer: Identity("brian@dehamer.com", GITHUB_OAUTH),
            trust_root: GO_PUBLIC_GOOD,
            expect: Reject("dsse.signature-count"),
        },
        Case {
            name: "go othername.sigstore.json (otherName SAN foo!oidc.local)",
            bundle: "sigstore-go/pkg/testing/data/bundles/othername.sigstore.json",
            subject: MessageDigest,
            signer: Identity("foo!oidc.local", "http://oidc.local:8080"),
            trust_root: "sigstore-go/pkg/testing/data/trusted-roots/scaffolding.json",
            expect: Ok,
        },
        Case {
            name: "go othername.sigstore.json (wrong identity foo@oidc.local)",
            bundle: "sigstore-go/pkg/testing/data/bundles/othername.sigstore.json",
            subject: MessageDigest,
            signer: Identity("foo@oidc.local", "http://oidc.local:8080"),
            trust_root: "sigstore-go/pkg/testing/data/trusted-roots/scaffolding.json",
            expect: Reject("sigstore.identity.mismatch"),
        },
        Case {
            // The positive form: the key trusted at the TSA time. The negative upstream form
            // (key trusted only for [1970-01-01T00:00:00Z, +1s]) needs a key validity window,
            // which a PEM `--key` cannot carry, so it is not run.
            name: "go public-key-validity.sigstore.json (key + TSA)",
            bundle: "sigstore-go/pkg/testing/data/bundles/public-key-validity.sigstore.json",
            subject: Bytes(b"test content"),
            signer: KeyPem("sigstore-go/pkg/testing/data/public-keys/public-key-validity.pem"),
            trust_root: "sigstore-go/pkg/testing/data/trusted-roots/public-key-validity.json",
            expect: Ok,
        },
        Case {
            // Identity and issuer read once from the leaf certificate (`openssl x509 -noout -text`):
            // URI SAN https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main,
            // 1.3.6.1.4.1.57264.1.1 (and .1.8) https://token.actions.githubusercontent.com.
            name: "go examples/bundle-provenance.json (sigstore@1.3.0)",
            bundle: "sigstore-go/examples/bundle-provenance.json",
            subject: StatementSubject,
            signer: Identity(
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
                GHA,
            ),
            trust_root: GO_PUBLIC_GOOD,
            expect: Ok,
        },
        Case {
            // The npm registry key is a DER SubjectPublicKeyInfo (ECDSA P-256) in the key list,
            // so it is given as a PEM `--key` built from `rawBytes`; the bundle's hint names
            // `SHA256:jl3bwswu…`, the `npm:attestations` entry. Its tlog entry is on production
            // Rekor, which sigstore-go's public-good root carries.
            name: "go examples/bundle-publish.json (npm registry key)",
            bundle: "sigstore-go/examples/bundle-publish.json",
            subject: StatementSubject,
            signer: NpmKey(
                "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
                "npm:attestations",
            ),
            trust_root: GO_PUBLIC_GOOD,
            expect: Ok,
        },
        // ---- cosign MANIFEST: Statement v0.1 is accepted (DESIGN.md) ----
        Case {
            name: "cosign oci-attestation.sigstore.json (trusted_root_pgi.json)",
            bundle: "cosign/pkg/cosign/testdata/oci-attestation.sigstore.json",
            subject: StatementSubject,
            signer: Identity("cody@soyland.com", GITHUB_OAUTH),
            trust_root: "cosign/pkg/cosign/testdata/trusted_root_pgi.json",
            expect: Ok,
        },
        Case {
            name: "cosign oci-attestation.sigstore.json (production root)",
            bundle: "cosign/pkg/cosign/testdata/oci-attestation.sigstore.json",
            subject: StatementSubject,
            signer: Identity("cody@soyland.com", GITHUB_OAUTH),
            trust_root: PRODUCTION,
            expect: Ok,
        },
    ]
}

/// Runs one case; returns (args, exit code, output).
fn invoke(vectors: &Path, tmp: &Path, case: &Case) -> Result<(Vec<String>, i32, String), String> {
    let bundle = vectors.join(case.bundle);
    let trust_root = vectors.join(case.trust_root);
    for p in [&bundle, &trust_root] {
        if !p.is_file() {
            return Err(format!("missing vector file {}", p.display()));
        }
    }
    let mut args: Vec<String> = vec![
        "verify-bundle".into(),
        "--bundle".into(),
        bundle.display().to_string(),
        "--trusted-root".into(),
        trust_root.display().to_string(),
    ];
    match case.signer {
        Signer::Identity(identity, issuer) => args.extend([
            "--certificate-identity".into(),
            identity.into(),
            "--certificate-oidc-issuer".into(),
            issuer.into(),
        ]),
        Signer::KeyPem(pem) => {
            let pem = vectors.join(pem);
            if !pem.is_file() {
                return Err(format!("missing vector file {}", pem.display()));
            }
            args.extend(["--key".into(), pem.display().to_string()]);
        }
        Signer::NpmKey(key_id, usage) => {
            let pem = npm_key_pem(vectors, key_id, usage, tmp);
            args.extend(["--key".into(), pem.display().to_string()]);
        }
    }
    args.push(match case.subject {
        Input::File(f) => {
            let f = vectors.join(f);
            if !f.is_file() {
                return Err(format!("missing vector file {}", f.display()));
            }
            f.display().to_string()
        }
        Input::Digest(d) => d.to_owned(),
        Input::StatementSubject => statement_subject(&bundle),
        Input::MessageDigest => message_digest(&bundle),
        Input::Bytes(bytes) => {
            let f = tmp.join("artifact.bin");
            std::fs::write(&f, bytes).unwrap();
            f.display().to_string()
        }
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
    Ok((
        args,
        out.status.code().unwrap_or(-1),
        text.trim().to_owned(),
    ))
}

#[test]
fn peer_client_bundles_as_their_manifests_state() {
    let vectors = vectors_dir();
    let cases = cases();
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for case in &cases {
        let tmp = tempfile::tempdir().unwrap();
        let (args, code, output) = match invoke(&vectors, tmp.path(), case) {
            Result::Ok(r) => r,
            Err(e) => {
                table.push(format!("FAIL  {}: {e}", case.name));
                failures.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        // The same verification as JSON: the same answer, with the code in `rejection`.
        let mut json_args: Vec<&str> = args.iter().map(String::as_str).collect();
        json_args.insert(1, "--format");
        json_args.insert(2, "json");
        let run = crate::common::into_run(
            Command::new(env!("CARGO_BIN_EXE_hallmark"))
                .args(&json_args)
                .output()
                .unwrap(),
        );
        crate::common::record_json(&json_args, &run);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_default();
        let json_agrees = run.code == code
            && doc["verified"] == (code == 0)
            && match case.expect {
                Expect::Ok => doc["rejection"].is_null(),
                Expect::Reject(expected) => doc["rejection"]["code"] == expected,
            };
        if !json_agrees {
            failures.push(format!(
                "{}: --format json disagrees: {}",
                case.name, run.stdout
            ));
        }
        let good = match case.expect {
            Expect::Ok => code == 0,
            // A rejection must be a verdict, not an error, and for the MANIFEST's reason: a
            // rejection by an unrelated check would hide a verifier bug.
            Expect::Reject(expected) => code == 1 && rejection_code(&output) == Some(expected),
        };
        table.push(format!(
            "{}  {} (expect {:?}, exit {code}): {}",
            if good { "pass" } else { "FAIL" },
            case.name,
            case.expect,
            output.lines().next().unwrap_or_default()
        ));
        if !good {
            failures.push(format!(
                "{} (expect {:?}): exit {code}\n  $ hallmark {}\n  {output}",
                case.name,
                case.expect,
                args.join(" ")
            ));
        }
    }
    println!("{}", table.join("\n"));
    println!(
        "peer bundles: {}/{} cases as expected",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
