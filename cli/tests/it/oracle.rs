//! One decision, several doors: every `hallmark verify` and `hallmark inspect` a scenario runs
//! through [`Both::expect_both`] is decided a second time in this process, through
//! `hallmark_verifier::engine::decide` on the same evidence, and the two must agree on the
//! outcome, the violations (rule and code) and each attestation's fate.
//!
//! The flags are mapped here independently of the CLI (an oracle, not a copy): a flag this map
//! does not know fails the test, so a new scenario cannot skip the comparison.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hallmark_model::budget::Budget;
use hallmark_model::digest::Digest;
use hallmark_remote::layout::{LayoutStore, StoreReader};
use hallmark_remote::sources::{BundleFiles, StoreSource};
use hallmark_verifier::attestation::SignaturePolicy;
use hallmark_verifier::engine::{self, Decision, Request, Trust, VsaAcceptance};
use hallmark_verifier::keys::TrustedKey;
use hallmark_verifier::policy::Policy;
use hallmark_verifier::source::AttestationSource;
use serde_json::Value;

use crate::common::{Run, Scratch};

/// `expect`, plus the in-process decision for `verify` and `inspect`.
pub trait Both {
    /// Runs `hallmark args`, asserts the exit code, and checks the library agrees.
    fn expect_both(&self, args: &[&str], code: i32) -> Run;
}

impl Both for Scratch {
    fn expect_both(&self, args: &[&str], code: i32) -> Run {
        let run = self.expect(args, code);
        match args.first() {
            Some(&"verify") => agree_verify(self, args, &run),
            Some(&"inspect") => agree_inspect(self, args, &run),
            _ => {}
        }
        run
    }
}

/// The flags of one command line, as the oracle understands them.
#[derive(Default)]
struct Flags {
    artifact: String,
    keys: Vec<PathBuf>,
    steps: Vec<String>,
    predicate_types: Vec<String>,
    policy: Option<PathBuf>,
    bundles: Vec<PathBuf>,
    store: Option<PathBuf>,
    threshold: Option<usize>,
    facts: serde_json::Map<String, Value>,
    vsa_keys: Vec<PathBuf>,
    vsa_policy_digest: Option<String>,
    vsa_max_age: Option<Duration>,
    emit_vsa: bool,
    json: bool,
}

fn parse(dir: &Path, args: &[&str]) -> Flags {
    let mut flags = Flags::default();
    let mut it = args.iter().skip(1);
    let path = |v: &str| dir.join(v);
    while let Some(&arg) = it.next() {
        let mut value = || *it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg {
            "--key" => flags.keys.push(path(value())),
            "--step" => flags.steps.push(value().to_owned()),
            "--predicate-type" => flags
                .predicate_types
                .push(hallmark_model::provenance::predicate_type_uri(value()).to_owned()),
            "--policy" => flags.policy = Some(path(value())),
            "--bundle" => flags.bundles.push(path(value())),
            "--store" => flags.store = Some(path(value())),
            "--threshold" => flags.threshold = Some(value().parse().unwrap()),
            "--fact" => {
                let (k, v) = value().split_once('=').unwrap();
                flags
                    .facts
                    .insert(k.to_owned(), Value::String(v.to_owned()));
            }
            // The environment is a fact of the policy input (docs/policy-input.md).
            "--environment" => {
                flags
                    .facts
                    .insert("environment".to_owned(), Value::String(value().to_owned()));
            }
            "--accept-vsa-from" => flags.vsa_keys.push(path(value())),
            "--vsa-policy-digest" => flags.vsa_policy_digest = Some(value().to_owned()),
            "--vsa-max-age" => {
                flags.vsa_max_age = Some(humantime::parse_duration(value()).unwrap())
            }
            "--format" => flags.json = value() == "json",
            "--emit-vsa" => {
                value();
                flags.emit_vsa = true;
            }
            // What the CLI writes besides its verdict does not change the verdict.
            "--vsa-signing-key" | "--save-policy-input" => {
                value();
            }
            flag if flag.starts_with("--") => panic!("oracle: map {flag} before using it"),
            artifact => flags.artifact = artifact.to_owned(),
        }
    }
    flags
}

fn key(path: &Path) -> TrustedKey {
    TrustedKey::from_pem(&std::fs::read(path).unwrap(), &path.display().to_string()).unwrap()
}

/// The in-process decision for these flags; `Err` where the CLI must exit 2.
fn decide(s: &Scratch, flags: &Flags, walk_chain: bool) -> Result<Decision, String> {
    if flags.emit_vsa && !flags.facts.is_empty() {
        // The CLI refuses to sign a summary of a decision that depended on facts it omits.
        return Err("a VSA records no facts".into());
    }
    let file = s.path().join(&flags.artifact);
    let (artifact, aliases): (Digest, Vec<Digest>) = if file.is_file() {
        use hallmark_model::digest::DigestAlgorithm::{Sha256, Sha512};
        let mut d = hallmark_attester::hashing::hash_file_with(&file, &[Sha256, Sha512])
            .map_err(|e| e.to_string())?;
        (d.remove(0), d)
    } else {
        (
            flags.artifact.parse().map_err(|e| format!("{e}"))?,
            Vec::new(),
        )
    };
    let policy = match &flags.policy {
        Some(p) => Some(Policy::load(p, false).map_err(|e| e.to_string())?),
        None => None,
    };
    let signatures = match flags.threshold {
        Some(0) => return Err("threshold 0".into()),
        Some(n) => SignaturePolicy::Threshold(n),
        None => SignaturePolicy::ExactlyOne,
    };
    let accept_vsa = (!flags.vsa_keys.is_empty()).then(|| VsaAcceptance {
        verifiers: Trust {
            keys: flags.vsa_keys.iter().map(|p| key(p)).collect(),
            ..Trust::default()
        },
        policy_digest: flags.vsa_policy_digest.as_ref().map(|d| d.parse().unwrap()),
        max_age: flags.vsa_max_age.unwrap_or(Duration::from_secs(7 * 86_400)),
    });
    let budget = Budget::default();
    let files = BundleFiles::read(&flags.bundles, &budget).map_err(|e| e.to_string())?;
    let store_dir = flags
        .store
        .clone()
        .unwrap_or_else(|| s.path().join(".hallmark/store"));
    let store = LayoutStore::open_existing(&store_dir)
        .unwrap()
        .map(|st| StoreSource::new(StoreReader::open(st).unwrap()));
    let mut sources: Vec<&dyn AttestationSource> = vec![&files];
    if let Some(store) = &store {
        sources.push(store);
    }
    let request = Request {
        name: file.is_file().then(|| flags.artifact.clone()),
        aliases,
        trust: Trust {
            keys: flags.keys.iter().map(|p| key(p)).collect(),
            ..Trust::default()
        },
        signatures,
        steps: flags.steps.clone(),
        predicate_types: flags.predicate_types.clone(),
        policy: policy.as_ref(),
        facts: flags.facts.clone(),
        accept_vsa,
        walk_chain,
        ..Request::new(artifact, SystemTime::now())
    };
    engine::decide_within(&request, &sources, &budget).map_err(|e| e.to_string())
}

/// `(rule, code)` of each violation, sorted.
fn violation_codes(violations: &[Value]) -> Vec<(String, String)> {
    let mut codes: Vec<(String, String)> = violations
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().unwrap_or_default().to_owned(),
                v["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    codes.sort();
    codes
}

fn agree_verify(s: &Scratch, args: &[&str], run: &Run) {
    let flags = parse(s.path(), args);
    let decision = decide(s, &flags, false);
    let Ok(decision) = decision else {
        assert_eq!(
            run.code, 2,
            "the CLI decided ({}) where the library could not: {decision:?}\n{}",
            run.code, run.stdout
        );
        return;
    };
    let verdict = &decision.verdict;
    assert_eq!(
        run.code,
        if verdict.allowed() { 0 } else { 1 },
        "CLI and library disagree on {args:?}\nCLI:\n{}\nlibrary: {:?}",
        run.stdout,
        verdict.violations()
    );
    // The codes, from the CLI's JSON (asked for again when the scenario read the human form).
    let doc: Value = if flags.json {
        serde_json::from_str(&run.stdout).unwrap()
    } else {
        let mut again: Vec<&str> = Vec::new();
        let mut it = args.iter();
        while let Some(&a) = it.next() {
            if matches!(
                a,
                "--emit-vsa" | "--vsa-signing-key" | "--save-policy-input"
            ) {
                it.next();
            } else {
                again.push(a);
            }
        }
        again.extend(["--format", "json"]);
        serde_json::from_str(&s.expect(&again, run.code).stdout).unwrap()
    };
    assert_eq!(doc["allowed"], verdict.allowed(), "{doc}");
    assert_eq!(
        !doc["acceptedVsa"].is_null(),
        verdict.accepted_vsa().is_some(),
        "{doc}"
    );
    let library: Vec<Value> = verdict
        .violations()
        .iter()
        .map(|v| {
            let mut doc = serde_json::to_value(v).unwrap();
            doc["code"] = Value::String(v.code().to_owned());
            doc
        })
        .collect();
    assert_eq!(
        violation_codes(doc["violations"].as_array().unwrap()),
        violation_codes(&library),
        "violations differ for {args:?}"
    );
    let cli_fates: Vec<(String, bool)> = doc["attestations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|a| {
                    (
                        a["origin"].as_str().unwrap().to_owned(),
                        a["verified"].as_bool().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let lib_fates: Vec<(String, bool)> = verdict
        .attestations()
        .iter()
        .map(|a| (a.origin.clone(), a.verified.is_some()))
        .collect();
    assert_eq!(cli_fates, lib_fates, "attestations differ for {args:?}");
}

fn agree_inspect(s: &Scratch, args: &[&str], run: &Run) {
    let flags = parse(s.path(), args);
    let decision = decide(s, &flags, true);
    let Ok(decision) = decision else {
        assert_eq!(run.code, 2, "{decision:?}");
        return;
    };
    let chain = decision.chain.unwrap_or_default();
    assert_eq!(
        run.code,
        if chain.roots.is_empty() { 1 } else { 0 },
        "{args:?}"
    );
    if flags.json {
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let ids = |steps: &Value| -> Vec<String> {
            steps
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            ids(&doc["chain"]["steps"]),
            chain.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>()
        );
    }
}
