//! Policies in Rego (rego.v1, evaluated by `regorus`), over the policy input document
//! (docs/policy-input.md) built only from *verified* attestations.
//!
//! Convention: rules in `package hallmark` contribute to `deny contains v` and `warn contains v`,
//! with `v = {"code": ..., "msg": ..., "attestation": ...}`. A missing or undefined `deny`, or
//! any evaluation error, denies (fail closed).

mod declarative;
mod facts;
mod input;
mod library;
pub mod pipeline;
mod rego_value;
mod sbom_rules;
mod tests_runner;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::keys::TrustedKey;

pub use declarative::API_VERSION;
pub use facts::add_facts;
pub use input::{INPUT_VERSION, policy_input};
pub use tests_runner::{TestOutcome, run_tests};

/// Largest policy or data file read.
const MAX_POLICY_FILE: u64 = 4 * 1024 * 1024;
/// Most files in a policy directory.
const MAX_POLICY_FILES: usize = 500;

/// Why a policy could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("policy {path}: {message}")]
pub struct PolicyError {
    /// The file or directory.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
    /// What kind of problem, for callers that advise on it.
    pub kind: PolicyErrorKind,
}

/// The kind of a [`PolicyError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The policy cannot be read, parsed or compiled.
    Invalid,
    /// A declarative policy file inside a policy directory, where it would configure nothing.
    DeclarativeInDirectory,
}

fn error(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError {
        path: path.to_path_buf(),
        message: message.into(),
        kind: PolicyErrorKind::Invalid,
    }
}

/// One finding of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// A stable code, e.g. `step.missing`.
    pub code: String,
    /// The message, in plain words (`msg` in the Rego rule's object; `message` in Hallmark's
    /// output, as every other message).
    #[serde(rename = "message")]
    pub msg: String,
    /// The rest of the object the rule produced (attestation, expected, actual, ...).
    pub details: Value,
}

/// The result of evaluating a policy.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Decision {
    /// Violations: any denies.
    pub deny: Vec<Finding>,
    /// Warnings: reported, not fatal.
    pub warn: Vec<Finding>,
    /// The SLSA levels the policy verified (`data.hallmark.verified_levels`), for VSAs.
    pub levels: Vec<String>,
}

/// Loaded policy modules and data.
#[derive(Debug, Clone)]
pub struct Policy {
    path: PathBuf,
    sources: Vec<(String, String)>,
    data: Vec<Value>,
    digest: String,
    keys: Vec<TrustedKey>,
    identities: Vec<(String, String)>,
    vendors: Vec<crate::vendor::VendorRule>,
    prepared: Prepared,
}

/// The engine with the modules parsed and the data loaded, built on first use and cloned for
/// each evaluation (parsing the library is most of the cost of a decision).
#[derive(Clone, Default)]
struct Prepared(std::sync::OnceLock<Result<regorus::Engine, PolicyError>>);

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prepared")
    }
}

fn read(path: &Path) -> Result<String, PolicyError> {
    let meta = std::fs::metadata(path).map_err(|e| error(path, e.to_string()))?;
    if meta.len() > MAX_POLICY_FILE {
        return Err(error(path, format!("larger than {MAX_POLICY_FILE} bytes")));
    }
    std::fs::read_to_string(path).map_err(|e| error(path, e.to_string()))
}

/// The `.rego`, `.json` and `.yaml` files of `path` (a file or a directory, recursively), sorted.
fn files(path: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| error(&dir, e.to_string()))? {
            let p = entry.map_err(|e| error(&dir, e.to_string()))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|e| e == "rego" || e == "json" || e == "yaml" || e == "yml")
            {
                out.push(p);
            }
            if out.len() > MAX_POLICY_FILES {
                return Err(error(path, format!("more than {MAX_POLICY_FILES} files")));
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Policy {
    /// Loads `path`: a declarative policy (`.yaml` with `apiVersion: hallmark.dev/policy/v1`), a
    /// `.rego` file, or a directory of modules and `data.json`/`.yaml` files. `*_test.rego` files
    /// are left out unless `with_tests`.
    pub fn load(path: &Path, with_tests: bool) -> Result<Self, PolicyError> {
        if path.is_file()
            && path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            let text = read(path)?;
            if !declarative::is_declarative(&text) {
                return Err(error(
                    path,
                    format!(
                        "not a declarative policy (apiVersion: {API_VERSION}); data files go in a \
                         directory next to the .rego modules"
                    ),
                ));
            }
            let compiled = declarative::compile(path, &text)?;
            // The vendors a policy names decide too: a VSA's policy digest covers them.
            let vendors: Vec<(String, String)> = compiled
                .vendors
                .iter()
                .map(|v| ("vendor".to_owned(), v.fingerprint()))
                .collect();
            let digest = digest_of(&compiled.modules, &vendors);
            return Ok(Policy {
                path: path.to_path_buf(),
                sources: compiled.modules,
                data: Vec::new(),
                digest,
                keys: compiled.keys,
                identities: compiled.identities,
                vendors: compiled.vendors,
                prepared: Prepared::default(),
            });
        }
        let mut sources = Vec::new();
        let mut data = Vec::new();
        let mut data_texts = Vec::new();
        for file in files(path)? {
            let name = file.display().to_string();
            let text = read(&file)?;
            if name.ends_with(".rego") {
                if name.ends_with("_test.rego") && !with_tests {
                    continue;
                }
                // That package is Hallmark's own (it gathers deny, warn and the levels in one
                // evaluation): a module adding rules to it could answer in the policy's place.
                let package = text.lines().find_map(|l| l.trim().strip_prefix("package "));
                if package.is_some_and(|p| {
                    p.trim() == DECISION_PACKAGE
                        || p.trim().starts_with(&format!("{DECISION_PACKAGE}."))
                }) {
                    return Err(error(
                        &file,
                        format!("package {DECISION_PACKAGE} is reserved for Hallmark"),
                    ));
                }
                sources.push((name, text));
            } else {
                if declarative::is_declarative(&text) {
                    // Loaded as data it would configure nothing: the library would run with an
                    // empty configuration and allow far more than the file says.
                    return Err(PolicyError {
                        kind: PolicyErrorKind::DeclarativeInDirectory,
                        ..error(
                            &file,
                            "a declarative policy inside a policy directory would configure nothing",
                        )
                    });
                }
                let value: Value = if name.ends_with(".json") {
                    serde_json::from_str(&text).map_err(|e| error(&file, e.to_string()))?
                } else {
                    let v = regorus::Value::from_yaml_str(&text)
                        .map_err(|e| error(&file, e.to_string()))?;
                    serde_json::from_str(&v.to_json_str().map_err(|e| error(&file, e.to_string()))?)
                        .map_err(|e| error(&file, e.to_string()))?
                };
                data.push(value);
                data_texts.push((name, text));
            }
        }
        if sources.is_empty() {
            return Err(error(path, "no .rego modules"));
        }
        let digest = digest_of(&sources, &data_texts);
        Ok(Policy {
            path: path.to_path_buf(),
            sources,
            data,
            digest,
            keys: Vec::new(),
            identities: Vec::new(),
            vendors: Vec::new(),
            prepared: Prepared::default(),
        })
    }

    /// The vendor profile a declarative policy's `vendors:` names for the artifact `name`
    /// (the first matching glob), if any.
    pub fn vendor_for(&self, name: Option<&str>) -> Option<&crate::vendor::VendorProfile> {
        // `./fw.bin` and `fw.bin` are one file: the spelling must not choose the rules.
        let mut name = name?;
        while let Some(rest) = name.strip_prefix("./") {
            name = rest.trim_start_matches('/');
        }
        self.vendors
            .iter()
            .find(|v| v.matches(name))
            .map(crate::vendor::VendorRule::profile)
    }

    /// Where the policy was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Public keys a declarative policy names as signers or approvers: trusted for verification.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// Keyless `(identity, issuer)` pairs a declarative policy names: trusted for verification
    /// (exact matches) against the Sigstore trust root.
    pub fn identities(&self) -> &[(String, String)] {
        &self.identities
    }

    /// The Rego modules evaluated, as `(name, text)`: for a declarative policy, the generated
    /// configuration and the library (`hallmark policy explain`).
    pub fn modules(&self) -> &[(String, String)] {
        &self.sources
    }

    /// SHA-256 over the modules and data (for VSAs and audit records).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    fn engine(&self) -> Result<regorus::Engine, PolicyError> {
        let mut engine = regorus::Engine::new();
        for (name, text) in &self.sources {
            engine
                .add_policy(name.clone(), text.clone())
                .map_err(|e| error(Path::new(name), e.to_string()))?;
        }
        for value in &self.data {
            let json =
                serde_json::to_string(value).map_err(|e| error(&self.path, e.to_string()))?;
            engine
                .add_data_json(&json)
                .map_err(|e| error(&self.path, e.to_string()))?;
        }
        let (name, text) = DECISION_MODULE;
        engine
            .add_policy(name.to_owned(), text.to_owned())
            .map_err(|e| error(Path::new(name), e.to_string()))?;
        // Analyse the modules now (the first query does it), so every clone starts prepared.
        engine
            .eval_query("true".to_owned(), false)
            .map_err(|e| error(&self.path, e.to_string()))?;
        Ok(engine)
    }

    /// Evaluates `data.hallmark.deny` and `data.hallmark.warn` for `input`. Fail closed: an
    /// evaluation error or an undefined `deny` is reported as a violation, never as an allow.
    pub fn evaluate(&self, input: &Value) -> Decision {
        let mut decision = Decision::default();
        let fail = |code: &str, msg: String| Finding {
            code: code.to_owned(),
            msg,
            details: Value::Null,
        };
        let prepared = self.prepared.0.get_or_init(|| self.engine());
        let mut engine = match prepared {
            Ok(e) => e.clone(),
            Err(e) => {
                decision.deny.push(fail("policy.error", e.to_string()));
                return decision;
            }
        };
        engine.set_input(rego_value::to_rego(input));
        // One evaluation for the three results, so the rules they share (the steps, the
        // provenances, the settings) are computed once. Anything unusual (an undefined deny, an
        // error, a result of the wrong shape) is evaluated again rule by rule, which says
        // precisely what is wrong.
        if let Some(fast) = together(&mut engine) {
            return fast;
        }
        rule_by_rule(&mut engine, decision)
    }
}

/// The package of [`DECISION_MODULE`], which policies may not use.
const DECISION_PACKAGE: &str = "hallmark_internal_decision";

/// The module every engine gets: `deny`, `warn` and `verified_levels` in one object, undefined
/// when `deny` is.
const DECISION_MODULE: (&str, &str) = (
    "hallmark-internal-decision.rego",
    "package hallmark_internal_decision\n\
     import rego.v1\n\
     default warn := set()\n\
     warn := data.hallmark.warn\n\
     default levels := set()\n\
     levels := data.hallmark.verified_levels\n\
     result := {\"deny\": data.hallmark.deny, \"warn\": warn, \"levels\": levels}\n",
);

fn together(engine: &mut regorus::Engine) -> Option<Decision> {
    let value = engine
        .eval_rule("data.hallmark_internal_decision.result".to_owned())
        .ok()?;
    let field = |name: &str| value[&regorus::Value::from(name)].clone();
    if field("deny") == regorus::Value::Undefined {
        return None;
    }
    Some(Decision {
        deny: findings(&field("deny"))?,
        warn: findings(&field("warn"))?,
        levels: strings(&field("levels")),
    })
}

fn rule_by_rule(engine: &mut regorus::Engine, mut decision: Decision) -> Decision {
    let fail = |code: &str, msg: String| Finding {
        code: code.to_owned(),
        msg,
        details: Value::Null,
    };
    for (rule, out) in [("deny", &mut decision.deny), ("warn", &mut decision.warn)] {
        match engine.eval_rule(format!("data.hallmark.{rule}")) {
                Ok(regorus::Value::Undefined) => {
                    if rule == "deny" {
                        out.push(fail(
                            "policy.undefined",
                            "the policy defines no data.hallmark.deny; denying (fail closed)"
                                .into(),
                        ));
                    }
                }
                Ok(value) => match findings(&value) {
                    Some(found) => out.extend(found),
                    None => out.push(fail(
                        "policy.error",
                        format!(
                            "data.hallmark.{rule} is not a set of findings (write `{rule} contains {{\"code\": ..., \"msg\": ...}} if {{ ... }}`); denying (fail closed)"
                        ),
                    )),
                },
                // A missing rule: no warnings is fine; no deny is a missing entrypoint.
                Err(e) if e.to_string().contains("not a valid rule path") => {
                    if rule == "deny" {
                        out.push(fail("policy.undefined", "the policy defines no data.hallmark.deny (missing entrypoint); denying (fail closed)".into()));
                    }
                }
                Err(e) => out.push(fail(
                    "policy.error",
                    format!("evaluating data.hallmark.{rule}: {e}"),
                )),
            }
    }
    decision.levels = match engine.eval_rule("data.hallmark.verified_levels".to_owned()) {
        Ok(value) => strings(&value),
        Err(_) => Vec::new(),
    };
    decision
}

/// `sha256:` over the module texts then the data texts (in path order), each length-prefixed
/// so that no two different policies hash alike. Names are left out: the same policy read through
/// another path has the same digest.
fn digest_of(sources: &[(String, String)], data: &[(String, String)]) -> String {
    let mut hasher = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for (kind, list) in [(b'm', sources), (b'd', data)] {
        for (_, text) in list {
            hasher.update(&[kind]);
            hasher.update(&(text.len() as u64).to_be_bytes());
            hasher.update(text.as_bytes());
        }
    }
    format!(
        "sha256:{}",
        hallmark_model::hex::encode(hasher.finish().as_ref())
    )
}

/// A regorus value as JSON.
fn json_of(value: &regorus::Value) -> Option<Value> {
    serde_json::from_str(&value.to_json_str().ok()?).ok()
}

fn strings(value: &regorus::Value) -> Vec<String> {
    json_of(value)
        .unwrap_or(Value::Null)
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The findings of a `deny`/`warn` set; `None` when the rule is not a set (or array) at all, e.g.
/// `deny := true` or an object, which must not be read as "no findings".
fn findings(value: &regorus::Value) -> Option<Vec<Finding>> {
    let json = json_of(value)?;
    let items = json.as_array()?;
    Some(
        items
            .iter()
            .map(|v| Finding {
                code: v["code"].as_str().unwrap_or("policy.violation").to_owned(),
                msg: v["msg"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string()),
                details: v.clone(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_in_hallmarks_own_decision_package_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("p.rego"),
            "package hallmark\nimport rego.v1\ndeny contains {\"code\": \"x\", \"msg\": \"no\"} if true\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sneak.rego"),
            "package hallmark_internal_decision\nimport rego.v1\ndefault result := {\"deny\": [], \"warn\": [], \"levels\": []}\n",
        )
        .unwrap();
        let e = Policy::load(dir.path(), false).unwrap_err();
        assert!(e.message.contains("reserved"), "{e}");
        std::fs::remove_file(dir.path().join("sneak.rego")).unwrap();
        let policy = Policy::load(dir.path(), false).unwrap();
        let decision = policy.evaluate(&serde_json::json!({}));
        assert_eq!(decision.deny.len(), 1, "{decision:?}");
    }
}
