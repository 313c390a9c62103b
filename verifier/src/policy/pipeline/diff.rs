//! Drift between a pipeline and a policy written for it (`hallmark policy diff`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Derived, PipelineError};

/// One difference between what the pipeline records and what the policy requires.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    /// The policy field, e.g. `steps.package.inputs`.
    pub field: String,
    /// What differs and what it means for verification.
    pub message: String,
    /// The value the pipeline implies (JSON), if any.
    pub pipeline: Option<Value>,
    /// The value the policy has (JSON), if any.
    pub policy: Option<Value>,
}

/// Inputs as a comparable value: a list becomes a sorted set, an object keeps sorted sets.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Array(items) => {
            let set: BTreeSet<String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            Value::Array(set.into_iter().map(Value::String).collect())
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), canonical(v))).collect())
        }
        other => other.clone(),
    }
}

/// The differences between `derived` and the declarative policy text `policy`.
pub fn diff(derived: &Derived, policy: &str) -> Result<Vec<Drift>, PipelineError> {
    if policy.len() > super::MAX_PIPELINE_BYTES {
        return Err(PipelineError::TooLarge {
            size: policy.len(),
            limit: super::MAX_PIPELINE_BYTES,
        });
    }
    let have: Value =
        yaml_serde::from_str(policy).map_err(|e| PipelineError::Policy(e.to_string()))?;
    if have.get("apiVersion").and_then(Value::as_str) != Some(super::super::API_VERSION) {
        return Err(PipelineError::Policy(format!(
            "apiVersion is not {}",
            super::super::API_VERSION
        )));
    }
    let want = &derived.policy;
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    let want_steps = want["steps"].as_object().unwrap_or(&empty);
    let have_steps = have
        .get("steps")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, rule) in want_steps {
        let job = derived
            .jobs
            .iter()
            .find(|(_, s)| *s == name)
            .map(|(j, _)| j.as_str())
            .unwrap_or("?");
        match have_steps.get(name) {
            None => out.push(Drift {
                field: format!("steps.{name}"),
                message: format!("job {job:?} records step {name:?}, which the policy does not declare (its attestations are denied as step.undeclared)"),
                pipeline: Some(rule.clone()),
                policy: None,
            }),
            Some(h) => {
                for field in ["inputs", "signers"] {
                    let (w, hv) = (rule.get(field), h.get(field));
                    if w.map(canonical) != hv.map(canonical) {
                        out.push(Drift {
                            field: format!("steps.{name}.{field}"),
                            message: format!("the pipeline gives step {name:?} (job {job:?}) other {field} than the policy"),
                            pipeline: w.cloned(),
                            policy: hv.cloned(),
                        });
                    }
                }
            }
        }
    }
    for (name, rule) in have_steps {
        if !want_steps.contains_key(name) {
            let required = rule.get("required").and_then(Value::as_bool) != Some(false);
            out.push(Drift {
                field: format!("steps.{name}"),
                message: if required {
                    format!("the policy requires step {name:?}, which no job of the pipeline records (every release would be denied: step.missing)")
                } else {
                    format!("the policy declares step {name:?} (not required), which no job of the pipeline records")
                },
                pipeline: None,
                policy: Some(rule.clone()),
            });
        }
    }
    let pairs = [
        (
            "artifactFrom",
            want.get("artifactFrom"),
            have.get("artifactFrom"),
        ),
        (
            "sources.repositories",
            want.pointer("/sources/repositories"),
            have.pointer("/sources/repositories"),
        ),
        (
            "sources.refs",
            want.pointer("/sources/refs"),
            have.pointer("/sources/refs"),
        ),
    ];
    for (field, w, h) in pairs {
        // A policy without artifactFrom takes the ends of its inputs graph: compared above.
        if field == "artifactFrom" && h.is_none() {
            continue;
        }
        if w.map(canonical) != h.map(canonical) {
            out.push(Drift {
                field: field.to_owned(),
                message: format!("{field} differs between the pipeline and the policy"),
                pipeline: w.cloned(),
                policy: h.cloned(),
            });
        }
    }
    Ok(out)
}
