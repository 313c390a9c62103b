//! The declarative release policy (`apiVersion: hallmark.dev/policy/v1`): ten lines of YAML
//! compiled into the policy library's configuration, so it is evaluated by the same Rego rules
//! as a hand-written policy and gives identical results. `hallmark policy explain` prints it.
//!
//! A mistake in the file is an error, never a silently weaker policy: unknown or duplicate
//! fields, empty lists, steps named in `inputs`/`sourceSteps`/`artifactFrom` that are not
//! declared, and a `steps` list that does not say which steps read the source.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value, json};

use super::{PolicyError, error, library};
use crate::keys::TrustedKey;

/// The `apiVersion` of a declarative policy.
pub const API_VERSION: &str = "hallmark.dev/policy/v1";

/// The pseudo-step a source step takes its inputs from.
const SOURCE: &str = "source";

/// A signer as the policy input names it: a keyid, or `IDENTITY (issuer ISSUER)`.
type SignerId = String;

/// Who may sign: a public key file (relative to the policy file), a keyid, or a keyless
/// identity with its issuer.
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum SignerRef {
    Key(String),
    KeyId { keyid: String },
    Identity { identity: String, issuer: String },
}

/// Where a step's inputs may come from: step names (or `source`), or per step (or `source`) the
/// glob patterns of the files it may take from there.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Inputs {
    Steps(Vec<String>),
    Files(#[serde(deserialize_with = "unique_map")] BTreeMap<String, Vec<String>>),
}

impl Inputs {
    fn names(&self) -> Vec<&String> {
        match self {
            Inputs::Steps(list) => list.iter().collect(),
            Inputs::Files(map) => map.keys().collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRule {
    #[serde(default)]
    signers: Option<Vec<SignerRef>>,
    /// The steps (or `source`) whose products this step may consume.
    #[serde(default)]
    inputs: Option<Inputs>,
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
    repositories: Option<Vec<String>>,
    #[serde(default)]
    refs: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Approvals {
    required: u32,
    approvers: Vec<SignerRef>,
    #[serde(default)]
    max_age: Option<String>,
}

/// `deployments:`: what recorded deployments of the artifact must show (docs/deployment-v1.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Deployments {
    /// Each deployment record needs the approvals (`approvals`) for its environment signed at
    /// or before it.
    #[serde(default)]
    require_approval: bool,
    /// Who records deployments: trusted for verification, so their records are judged.
    #[serde(default)]
    deployers: Option<Vec<SignerRef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Declarative {
    api_version: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "unique_map")]
    steps: BTreeMap<String, StepRule>,
    #[serde(default)]
    artifact_from: Option<Vec<String>>,
    #[serde(default)]
    sources: Option<Sources>,
    #[serde(default)]
    builders: Option<Vec<String>>,
    #[serde(default)]
    builder_keys: Option<Vec<SignerRef>>,
    #[serde(default)]
    builder_issuers: Option<Vec<String>>,
    #[serde(default)]
    max_age: Option<String>,
    #[serde(default)]
    sbom_required: Option<bool>,
    #[serde(default)]
    sbom: Option<super::sbom_rules::SbomRules>,
    #[serde(default)]
    self_hosted_runners: Option<bool>,
    #[serde(default)]
    source_steps: Option<Vec<String>>,
    #[serde(default)]
    external_inputs: Option<Vec<String>>,
    #[serde(default)]
    approvals: Option<Approvals>,
    #[serde(default)]
    deployments: Option<Deployments>,
    #[serde(default)]
    slsa_build_level: Option<u8>,
    #[serde(default)]
    allow_dirty_source: Option<bool>,
    #[serde(default)]
    allow_mixed_sources: Option<bool>,
    #[serde(default)]
    allow_failed_steps: Option<Vec<String>>,
    #[serde(default)]
    vendors: Option<Vec<VendorRuleFile>>,
    #[serde(default)]
    vendor_profiles: Option<String>,
}

/// `vendors:` entry: artifacts matching `artifacts` are deliveries of `vendor`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VendorRuleFile {
    artifacts: String,
    vendor: String,
}

/// A map that refuses a key given twice (YAML would keep the last one silently).
fn unique_map<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, V>()? {
                if out.contains_key(&key) {
                    return Err(serde::de::Error::custom(format!("{key:?} is given twice")));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique(std::marker::PhantomData))
}

/// A compiled declarative policy: the Rego modules to evaluate and the trust it names.
pub(super) struct Compiled {
    pub modules: Vec<(String, String)>,
    pub keys: Vec<TrustedKey>,
    pub identities: Vec<(String, String)>,
    pub vendors: Vec<crate::vendor::VendorRule>,
}

/// `vendors:` with the profiles of `vendorProfiles` (default `vendors`, beside the policy).
fn vendor_rules(
    path: &Path,
    base: &Path,
    policy: &Declarative,
) -> Result<Vec<crate::vendor::VendorRule>, PolicyError> {
    let Some(rules) = &policy.vendors else {
        if policy.vendor_profiles.is_some() {
            return Err(error(path, "vendorProfiles without vendors"));
        }
        return Ok(Vec::new());
    };
    non_empty(path, "vendors", rules)?;
    let dir = base.join(policy.vendor_profiles.as_deref().unwrap_or("vendors"));
    let profiles = crate::vendor::VendorProfiles::load(&dir)
        .map_err(|e| error(path, format!("vendorProfiles: {e}")))?;
    rules
        .iter()
        .map(|r| {
            let profile = profiles
                .get(&r.vendor)
                .map_err(|e| error(path, format!("vendors: {e}")))?;
            crate::vendor::VendorRule::new(&r.artifacts, profile.clone())
                .map_err(|e| error(path, format!("vendors: {e}")))
        })
        .collect()
}

/// True when `text` is a declarative policy (rather than data or Rego): it names our
/// `apiVersion`, as YAML, quoted YAML or JSON. The line test also catches a file that then fails
/// to parse, so that the compiler reports why.
pub(super) fn is_declarative(text: &str) -> bool {
    let on_a_line = text
        .lines()
        .any(|l| l.trim_start().starts_with("apiVersion:") && l.contains(API_VERSION));
    on_a_line
        || yaml_serde::from_str::<Value>(text)
            .is_ok_and(|v| v.get("apiVersion").and_then(Value::as_str) == Some(API_VERSION))
}

/// Resolves signer references into the strings policies compare, collecting the trust.
struct Signers<'a> {
    base: &'a Path,
    path: &'a Path,
    keys: Vec<TrustedKey>,
    identities: Vec<(String, String)>,
}

impl Signers<'_> {
    fn resolve(&mut self, s: &SignerRef) -> Result<SignerId, PolicyError> {
        match s {
            SignerRef::KeyId { keyid } => Ok(keyid.to_ascii_lowercase()),
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

    fn all(&mut self, what: &str, list: &[SignerRef]) -> Result<Vec<SignerId>, PolicyError> {
        non_empty(self.path, what, list)?;
        list.iter().map(|s| self.resolve(s)).collect()
    }
}

/// An explicitly empty list is a mistake: it would either deny everything or check nothing.
fn non_empty<T>(path: &Path, what: &str, list: &[T]) -> Result<(), PolicyError> {
    if list.is_empty() {
        return Err(error(
            path,
            format!("{what} is an empty list; leave it out, or name at least one"),
        ));
    }
    Ok(())
}

fn hours(path: &Path, what: &str, text: &str) -> Result<f64, PolicyError> {
    let d = humantime::parse_duration(text)
        .map_err(|e| error(path, format!("{what} {text:?}: {e} (e.g. 72h, 7d)")))?;
    Ok(d.as_secs_f64() / 3600.0)
}

/// Checks that every name in `names` is a declared step (or `source` where allowed).
fn declared(
    path: &Path,
    what: &str,
    names: &[String],
    steps: &BTreeMap<String, StepRule>,
    source_allowed: bool,
) -> Result<(), PolicyError> {
    non_empty(path, what, names)?;
    match names
        .iter()
        .find(|n| !(steps.contains_key(*n) || (source_allowed && *n == SOURCE)))
    {
        Some(unknown) => Err(error(
            path,
            format!(
                "{what} names {unknown:?}, which is not a step of this policy{}",
                if source_allowed {
                    " nor \"source\""
                } else {
                    ""
                }
            ),
        )),
        None => Ok(()),
    }
}

/// The step settings: required, declared, signers, inputs, source and artifact steps.
fn compile_steps(
    policy: &Declarative,
    path: &Path,
    signers: &mut Signers<'_>,
    config: &mut Map<String, Value>,
) -> Result<(), PolicyError> {
    let steps = &policy.steps;
    let reads_source = steps.values().any(|r| {
        r.inputs
            .as_ref()
            .is_some_and(|i| i.names().iter().any(|n| *n == SOURCE))
    });
    // Chain integrity is always checked, so the policy must say where the chain starts: a guess
    // would let a chain cut short and re-recorded from a tampered file pass.
    match &policy.source_steps {
        Some(list) if steps.is_empty() => {
            non_empty(path, "sourceSteps", list)?;
            config.insert("source_steps".into(), json!(list));
        }
        Some(list) => {
            declared(path, "sourceSteps", list, steps, false)?;
            config.insert("source_steps".into(), json!(list));
        }
        None if reads_source => {}
        None => {
            return Err(error(
                path,
                "say which steps read the source checkout: `inputs: [source]` on those steps, or \
                 `sourceSteps: [...]`; otherwise a chain cut short and re-recorded from a tampered \
                 file could pass as starting at the source",
            ));
        }
    }
    if steps.is_empty() {
        if policy.artifact_from.is_some() {
            return Err(error(path, "artifactFrom needs steps"));
        }
        return Ok(());
    }
    let names: Vec<&String> = steps.keys().collect();
    config.insert("declared_steps".into(), json!(names));
    let required: Vec<&String> = steps
        .iter()
        .filter(|(_, r)| r.required)
        .map(|(n, _)| n)
        .collect();
    if !required.is_empty() {
        config.insert("required_steps".into(), json!(required));
    }
    let mut step_signers = Map::new();
    let mut step_inputs = Map::new();
    for (name, rule) in steps {
        if let Some(list) = &rule.signers {
            let what = format!("steps.{name}.signers");
            step_signers.insert(name.clone(), json!(signers.all(&what, list)?));
        }
        let what = format!("steps.{name}.inputs");
        match &rule.inputs {
            None => {}
            Some(Inputs::Steps(list)) => {
                declared(path, &what, list, steps, true)?;
                step_inputs.insert(name.clone(), json!(list));
            }
            Some(Inputs::Files(map)) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                declared(path, &what, &keys, steps, true)?;
                for (from, patterns) in map {
                    non_empty(path, &format!("{what}.{from}"), patterns)?;
                }
                step_inputs.insert(name.clone(), json!(map));
            }
        }
    }
    if !step_signers.is_empty() {
        config.insert("step_signers".into(), Value::Object(step_signers));
    }
    // The steps that may produce the artifact: as given, or the steps no other step takes
    // inputs from (the ends of the declared graph). Without either, any declared step could
    // label its output as the release.
    let artifact_steps: Vec<String> = match &policy.artifact_from {
        Some(list) => {
            declared(path, "artifactFrom", list, steps, false)?;
            list.clone()
        }
        None if steps.values().any(|r| r.inputs.is_some()) => {
            let consumed: BTreeSet<&str> = steps
                .values()
                .filter_map(|r| r.inputs.as_ref())
                .flat_map(Inputs::names)
                .map(String::as_str)
                .collect();
            steps
                .keys()
                .filter(|n| !consumed.contains(n.as_str()))
                .cloned()
                .collect()
        }
        None => {
            return Err(error(
                path,
                "say which step produces the artifact: `artifactFrom: [...]`, or `inputs` on the \
                 steps (the steps no other step takes inputs from produce it)",
            ));
        }
    };
    if artifact_steps.is_empty() {
        return Err(error(
            path,
            "every step is another step's input, so none can produce the artifact; set artifactFrom",
        ));
    }
    config.insert("artifact_steps".into(), json!(artifact_steps));
    if !step_inputs.is_empty() {
        config.insert("step_inputs".into(), Value::Object(step_inputs));
    }
    Ok(())
}

/// Compiles the declarative policy at `path` (text `text`).
pub(super) fn compile(path: &Path, text: &str) -> Result<Compiled, PolicyError> {
    let policy: Declarative = yaml_serde::from_str(text).map_err(|e| {
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
    compile_steps(&policy, path, &mut signers, &mut config)?;
    if let Some(s) = &policy.sources {
        if s.repositories.is_none() && s.refs.is_none() {
            return Err(error(
                path,
                "sources checks nothing: give repositories and/or refs",
            ));
        }
        if let Some(list) = &s.repositories {
            non_empty(path, "sources.repositories", list)?;
            config.insert("source_repositories".into(), json!(list));
        }
        if let Some(list) = &s.refs {
            non_empty(path, "sources.refs", list)?;
            config.insert("source_refs".into(), json!(list));
        }
    }
    if let Some(list) = &policy.builders {
        non_empty(path, "builders", list)?;
        config.insert("trusted_builders".into(), json!(list));
    }
    if let Some(list) = &policy.builder_keys {
        config.insert(
            "builder_keys".into(),
            json!(signers.all("builderKeys", list)?),
        );
    }
    if let Some(list) = &policy.builder_issuers {
        non_empty(path, "builderIssuers", list)?;
        config.insert("builder_issuers".into(), json!(list));
    }
    if let Some(age) = &policy.max_age {
        config.insert("max_age_hours".into(), json!(hours(path, "maxAge", age)?));
    }
    if let Some(b) = policy.sbom_required {
        config.insert("sbom_required".into(), json!(b));
    }
    if let Some(rules) = &policy.sbom {
        super::sbom_rules::compile(path, rules, policy.sbom_required, &mut config)?;
    }
    if let Some(b) = policy.self_hosted_runners {
        config.insert("allow_self_hosted_runners".into(), json!(b));
    }
    if let Some(b) = policy.allow_dirty_source {
        config.insert("allow_dirty_source".into(), json!(b));
    }
    if let Some(b) = policy.allow_mixed_sources {
        config.insert("allow_mixed_sources".into(), json!(b));
    }
    if let Some(list) = &policy.allow_failed_steps {
        non_empty(path, "allowFailedSteps", list)?;
        if let Some(unknown) = list.iter().find(|s| !policy.steps.contains_key(*s)) {
            return Err(error(
                path,
                format!("allowFailedSteps names {unknown:?}, which is not one of the steps"),
            ));
        }
        config.insert("allow_failed_steps".into(), json!(list));
    }
    if let Some(inputs) = &policy.external_inputs {
        for d in inputs {
            d.parse::<hallmark_model::digest::Digest>()
                .map_err(|e| error(path, format!("externalInputs {d:?}: {e}")))?;
        }
        config.insert("external_inputs".into(), json!(inputs));
    }
    if let Some(a) = &policy.approvals {
        if a.required == 0 || a.required as usize > a.approvers.len() {
            return Err(error(
                path,
                format!(
                    "approvals: {} required of {} approvers listed; need 1 to {}",
                    a.required,
                    a.approvers.len(),
                    a.approvers.len()
                ),
            ));
        }
        let mut approvals = json!({
            "required": a.required,
            "approvers": signers.all("approvals.approvers", &a.approvers)?,
        });
        if let Some(age) = &a.max_age {
            approvals["max_age_hours"] = json!(hours(path, "approvals.maxAge", age)?);
        }
        config.insert("approvals".into(), approvals);
    }
    if let Some(d) = &policy.deployments {
        // Who approves must be named: with any signer counting, a deployer trusted to record
        // deployments could approve their own.
        if d.require_approval && policy.approvals.is_none() {
            return Err(error(
                path,
                "deployments.requireApproval needs approvals: {required, approvers}: who may approve",
            ));
        }
        if let Some(list) = &d.deployers {
            signers.all("deployments.deployers", list)?;
        }
        config.insert(
            "deployments".into(),
            json!({"require_approval": d.require_approval}),
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
        vendors: vendor_rules(path, base, &policy)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "apiVersion: hallmark.dev/policy/v1\nsourceSteps: [build]\n";

    fn generated(compiled: &Compiled) -> &str {
        &compiled
            .modules
            .iter()
            .find(|(name, _)| name.ends_with("(generated)"))
            .unwrap()
            .1
    }

    #[test]
    fn deployments_need_named_approvers_and_their_deployers_are_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        let e = compile(
            &path,
            &format!("{BASE}deployments: {{requireApproval: true}}\n"),
        )
        .err()
        .unwrap();
        assert!(e.message.contains("needs approvals"), "{e}");
        let e = compile(
            &path,
            &format!("{BASE}deployments: {{requireApproval: true, extra: 1}}\n"),
        )
        .err()
        .unwrap();
        assert!(e.message.contains("unknown field"), "{e}");
        let text = format!(
            "{BASE}approvals: {{required: 1, approvers: [{{keyid: ab}}]}}\n\
             deployments:\n  requireApproval: true\n  deployers: [{{identity: d@example.com, issuer: https://issuer.example}}]\n"
        );
        let compiled = compile(&path, &text).unwrap();
        assert!(
            generated(&compiled).contains("\"require_approval\": true"),
            "{}",
            generated(&compiled)
        );
        assert_eq!(
            compiled.identities,
            vec![(
                "d@example.com".to_owned(),
                "https://issuer.example".to_owned()
            )]
        );
    }
}
