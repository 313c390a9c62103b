//! Policies in Rego (rego.v1, evaluated by `regorus`), over the policy input document
//! (docs/policy-input.md) built only from *verified* attestations.
//!
//! Convention: rules in `package hallmark` contribute to `deny contains v` and `warn contains v`,
//! with `v = {"code": ..., "msg": ..., "attestation": ...}`. A missing or undefined `deny`, or
//! any evaluation error, denies (fail closed).

mod input;
mod tests_runner;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use input::{INPUT_VERSION, policy_input};
pub use tests_runner::{TestOutcome, run_tests};

/// Largest policy or data file read.
const MAX_POLICY_FILE: u64 = 4 * 1024 * 1024;
/// Most files in a policy directory.
const MAX_POLICY_FILES: usize = 500;

/// Why a policy could not be used.
#[derive(Debug, thiserror::Error)]
#[error("policy {path}: {message}")]
pub struct PolicyError {
    /// The file or directory.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

fn error(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// One finding of a policy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    /// A stable code, e.g. `step.missing`.
    pub code: String,
    /// The message, in plain words.
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
}

/// Loaded policy modules and data.
#[derive(Debug, Clone)]
pub struct Policy {
    path: PathBuf,
    sources: Vec<(String, String)>,
    data: Vec<Value>,
    digest: String,
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
    /// Loads `path` (a `.rego` file or a directory of modules and `data.json`/`.yaml` files).
    /// `*_test.rego` files are left out unless `with_tests`.
    pub fn load(path: &Path, with_tests: bool) -> Result<Self, PolicyError> {
        let mut sources = Vec::new();
        let mut data = Vec::new();
        let mut hasher = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for file in files(path)? {
            let name = file.display().to_string();
            let text = read(&file)?;
            if name.ends_with(".rego") {
                if name.ends_with("_test.rego") && !with_tests {
                    continue;
                }
                hasher.update(name.as_bytes());
                hasher.update(text.as_bytes());
                sources.push((name, text));
            } else {
                let value: Value = if name.ends_with(".json") {
                    serde_json::from_str(&text).map_err(|e| error(&file, e.to_string()))?
                } else {
                    let v = regorus::Value::from_yaml_str(&text)
                        .map_err(|e| error(&file, e.to_string()))?;
                    serde_json::from_str(&v.to_json_str().map_err(|e| error(&file, e.to_string()))?)
                        .map_err(|e| error(&file, e.to_string()))?
                };
                hasher.update(name.as_bytes());
                hasher.update(text.as_bytes());
                data.push(value);
            }
        }
        if sources.is_empty() {
            return Err(error(path, "no .rego modules"));
        }
        let digest = hasher
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Ok(Policy {
            path: path.to_path_buf(),
            sources,
            data,
            digest: format!("sha256:{digest}"),
        })
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
        let mut engine = match self.engine() {
            Ok(e) => e,
            Err(e) => {
                decision.deny.push(fail("policy.error", e.to_string()));
                return decision;
            }
        };
        let Ok(json) = serde_json::to_string(input) else {
            decision.deny.push(fail(
                "policy.error",
                "the input cannot be serialized".into(),
            ));
            return decision;
        };
        if let Err(e) = engine.set_input_json(&json) {
            decision.deny.push(fail("policy.error", e.to_string()));
            return decision;
        }
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
                Ok(value) => out.extend(findings(&value)),
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
        decision
    }
}

fn findings(value: &regorus::Value) -> Vec<Finding> {
    let json: Value = value
        .to_json_str()
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    json.as_array()
        .into_iter()
        .flatten()
        .map(|v| Finding {
            code: v["code"].as_str().unwrap_or("policy.violation").to_owned(),
            msg: v["msg"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string()),
            details: v.clone(),
        })
        .collect()
}
