//! The declarative release policy (`apiVersion: hallmark.dev/policy/v1`): ten lines of YAML
//! compiled into the policy library's configuration, so it is evaluated by the same Rego rules
//! as a hand-written policy and gives identical results. `hallmark policy explain` prints it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{PolicyError, error, library};
use crate::keys::TrustedKey;

/// The `apiVersion` of a declarative policy.
pub const API_VERSION: &str = "hallmark.dev/policy/v1";

/// Who may sign: a public key file (relative to the policy file), a keyid, or a keyless
/// identity with its issuer.
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum SignerRef {
    Key(String),
    KeyId { keyid: String },
    Identity { identity: String, issuer: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRule {
    #[serde(default)]
    signers: Vec<SignerRef>,
    /// The steps (or `source`) whose products this step may consume.
    #[serde(default)]
    inputs: Option<Vec<String>>,
    #[serde(default = "yes")]
    required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sources {
    #[serde(default)]
    repositories: Vec<String>,
    #[serde(default)]
    refs: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Approvals {
    required: u32,
    approvers: Vec<SignerRef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Declarative {
    api_version: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    steps: BTreeMap<String, StepRule>,
    #[serde(default)]
    sources: Option<Sources>,
    #[serde(default)]
    builders: Option<Vec<String>>,
    #[serde(default)]
    max_age: Option<String>,
    #[serde(default)]
    sbom_required: Option<bool>,
    #[serde(default)]
    self_hosted_runners: Option<bool>,
    #[serde(default)]
    source_steps: Option<Vec<String>>,
    #[serde(default)]
    external_inputs: Option<Vec<String>>,
    #[serde(default)]
    approvals: Option<Approvals>,
    #[serde(default)]
    slsa_build_level: Option<u8>,
}

/// A compiled declarative policy: the Rego modules to evaluate and the keys it names.
pub(super) struct Compiled {
    pub modules: Vec<(String, String)>,
    pub keys: Vec<TrustedKey>,
    pub identities: Vec<(String, String)>,
}

/// True when `text` is a declarative policy (rather than data or Rego).
pub(super) fn is_declarative(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with("apiVersion:") && l.contains(API_VERSION))
}

struct Signers<'a> {
    base: &'a Path,
    path: &'a Path,
    keys: Vec<TrustedKey>,
    identities: Vec<(String, String)>,
}

impl Signers<'_> {
    fn resolve(&mut self, s: &SignerRef) -> Result<String, PolicyError> {
        match s {
            SignerRef::KeyId { keyid } => Ok(keyid.clone()),
            SignerRef::Identity { identity, issuer } => {
                let pair = (identity.clone(), issuer.clone());
                if !self.identities.contains(&pair) {
                    self.identities.push(pair);
                }
                Ok(format!("{identity} (issuer {issuer})"))
            }
            SignerRef::Key(file) => {
                let path = self.base.join(file);
                let text = super::read(&path)?;
                let key = TrustedKey::from_pem(text.as_bytes(), &path.display().to_string())
                    .map_err(|e| error(self.path, format!("signer key {file}: {e}")))?;
                let id = key.keyid().to_owned();
                if !self.keys.iter().any(|k| k.keyid() == id) {
                    self.keys.push(key);
                }
                Ok(id)
            }
        }
    }

    fn all(&mut self, list: &[SignerRef]) -> Result<Vec<String>, PolicyError> {
        list.iter().map(|s| self.resolve(s)).collect()
    }
}

/// Compiles the declarative policy at `path` (text `text`).
pub(super) fn compile(path: &Path, text: &str) -> Result<Compiled, PolicyError> {
    let value = regorus::Value::from_yaml_str(text)
        .map_err(|e| error(path, e.to_string()))?
        .to_json_str()
        .map_err(|e| error(path, e.to_string()))?;
    let policy: Declarative = serde_json::from_str(&value).map_err(|e| {
        error(
            path,
            format!("{e} (see docs/policy-file.md for the fields of {API_VERSION})"),
        )
    })?;
    if policy.api_version != API_VERSION {
        return Err(error(
            path,
            format!(
                "apiVersion {:?}, expected {API_VERSION}",
                policy.api_version
            ),
        ));
    }
    if let Some(kind) = policy.kind.as_deref().filter(|k| *k != "ReleasePolicy") {
        return Err(error(
            path,
            format!("kind {kind:?}, expected ReleasePolicy"),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut signers = Signers {
        base,
        path,
        keys: Vec::new(),
        identities: Vec::new(),
    };
    let mut config = Map::new();
    let required: Vec<&String> = policy
        .steps
        .iter()
        .filter(|(_, r)| r.required)
        .map(|(n, _)| n)
        .collect();
    if !required.is_empty() {
        config.insert("required_steps".into(), json!(required));
    }
    let mut step_signers = Map::new();
    for (name, rule) in &policy.steps {
        if !rule.signers.is_empty() {
            step_signers.insert(name.clone(), json!(signers.all(&rule.signers)?));
        }
    }
    if !step_signers.is_empty() {
        config.insert("step_signers".into(), Value::Object(step_signers));
    }
    let mut step_inputs = Map::new();
    for (name, rule) in &policy.steps {
        let Some(inputs) = &rule.inputs else { continue };
        if let Some(unknown) = inputs
            .iter()
            .find(|i| *i != "source" && !policy.steps.contains_key(*i))
        {
            return Err(error(
                path,
                format!(
                    "steps.{name}.inputs names {unknown:?}, which is neither a step of this policy nor \"source\""
                ),
            ));
        }
        step_inputs.insert(name.clone(), json!(inputs));
    }
    if !step_inputs.is_empty() {
        config.insert("step_inputs".into(), Value::Object(step_inputs));
    }
    if let Some(s) = &policy.sources {
        if !s.repositories.is_empty() {
            config.insert("source_repositories".into(), json!(s.repositories));
        }
        if !s.refs.is_empty() {
            config.insert("source_refs".into(), json!(s.refs));
        }
    }
    if let Some(b) = &policy.builders {
        config.insert("trusted_builders".into(), json!(b));
    }
    if let Some(age) = &policy.max_age {
        let d = humantime::parse_duration(age)
            .map_err(|e| error(path, format!("maxAge {age:?}: {e} (e.g. 72h, 7d)")))?;
        config.insert("max_age_hours".into(), json!(d.as_secs_f64() / 3600.0));
    }
    if let Some(b) = policy.sbom_required {
        config.insert("sbom_required".into(), json!(b));
    }
    if let Some(b) = policy.self_hosted_runners {
        config.insert("allow_self_hosted_runners".into(), json!(b));
    }
    if let Some(s) = &policy.source_steps {
        config.insert("source_steps".into(), json!(s));
    }
    if let Some(inputs) = &policy.external_inputs {
        for d in inputs {
            d.parse::<hallmark_model::digest::Digest>()
                .map_err(|e| error(path, format!("externalInputs {d:?}: {e}")))?;
        }
        config.insert("external_inputs".into(), json!(inputs));
    }
    if let Some(a) = &policy.approvals {
        if a.required as usize > a.approvers.len() {
            return Err(error(
                path,
                format!(
                    "approvals: {} required but only {} approvers listed",
                    a.required,
                    a.approvers.len()
                ),
            ));
        }
        config.insert(
            "approvals".into(),
            json!({"required": a.required, "approvers": signers.all(&a.approvers)?}),
        );
    }
    if let Some(level) = policy.slsa_build_level {
        if !(1..=3).contains(&level) {
            return Err(error(path, "slsaBuildLevel must be 1, 2 or 3"));
        }
        config.insert("min_slsa_build_level".into(), json!(level));
    }
    let config = serde_json::to_string_pretty(&Value::Object(config))
        .map_err(|e| error(path, e.to_string()))?;
    let generated = format!(
        "# Generated by hallmark from {} ({API_VERSION}).\n# The rules below are the policy library; this module only sets their configuration.\npackage hallmark\n\nimport rego.v1\n\nconfig := {config}\n",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    let modules = library::MODULES
        .iter()
        .map(|(name, text)| {
            if *name == library::CONFIG_MODULE {
                (format!("{} (generated)", path.display()), generated.clone())
            } else {
                ((*name).to_owned(), (*text).to_owned())
            }
        })
        .collect();
    Ok(Compiled {
        modules,
        keys: signers.keys,
        identities: signers.identities,
    })
}
