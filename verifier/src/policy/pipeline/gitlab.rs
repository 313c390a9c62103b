//! GitLab CI/CD: jobs, `extends:`, `needs:`/`dependencies:`/stages, artifacts, and the steps each
//! job records (`hallmark run` in its script, or the component's `.hallmark-record`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::script::{run_calls, substitute};
use super::{Job, MAX_EXTENDS_DEPTH, MAX_JOBS, Note, PipelineError, Recorded, note, strings};

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
    "types",
];

/// The stages GitLab uses when `stages:` is not given.
const DEFAULT_STAGES: &[&str] = &[".pre", "build", "test", "deploy", ".post"];

/// The hidden jobs of Hallmark's component (templates/hallmark.yml).
const COMPONENT_TEMPLATES: &[&str] = &[
    ".hallmark",
    ".hallmark-record",
    ".hallmark-attest-image",
    ".hallmark-verify",
];

/// The component template that records a step.
const RECORD_TEMPLATE: &str = ".hallmark-record";

/// True when an include is Hallmark's component (by `component:`, `project:` + `file:`, or a
/// `local:` template of this repository).
fn is_hallmark_include(item: &Value) -> bool {
    let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
    let component = text("component");
    if !component.is_empty() {
        // HOST/GROUP/hallmark/hallmark@VERSION
        let path = component.split('@').next().unwrap_or("");
        return path.ends_with("/hallmark/hallmark");
    }
    let files: Vec<String> = item
        .get("file")
        .and_then(|f| strings(f, "include.file").ok())
        .unwrap_or_default();
    if !text("project").is_empty() {
        return text("project").ends_with("/hallmark")
            && files
                .iter()
                .all(|f| f.trim_start_matches('/') == "templates/hallmark.yml");
    }
    text("local").trim_start_matches('/') == "templates/hallmark.yml"
}

/// GitLab variables: a string, a number, or `{value: ...}`.
fn variables(value: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(map) = value.and_then(Value::as_object) {
        for (k, v) in map {
            let v = match v {
                Value::Object(o) => o.get("value").cloned().unwrap_or(Value::Null),
                other => other.clone(),
            };
            match v {
                Value::String(s) => {
                    out.insert(k.clone(), s);
                }
                Value::Number(n) => {
                    out.insert(k.clone(), n.to_string());
                }
                Value::Bool(b) => {
                    out.insert(k.clone(), b.to_string());
                }
                _ => {}
            }
        }
    }
    out
}

/// Deep merge as `extends:` does: mappings merge, everything else the child's value wins.
fn merge(base: &mut Map<String, Value>, child: &Map<String, Value>) {
    for (k, v) in child {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(c)) => merge(b, c),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// A job with its `extends:` resolved; also the component templates it extends.
fn resolve(
    name: &str,
    root: &Map<String, Value>,
    depth: usize,
    seen: &mut Vec<String>,
    component: &mut BTreeSet<String>,
    notes: &mut Vec<Note>,
    job_name: &str,
) -> Result<Map<String, Value>, PipelineError> {
    let Some(Value::Object(job)) = root.get(name) else {
        return Err(PipelineError::Shape {
            what: format!("job {name:?}"),
            expected: "a mapping",
        });
    };
    let mut out = Map::new();
    if let Some(ext) = job.get("extends") {
        for parent in strings(ext, &format!("{name}.extends"))? {
            if seen.contains(&parent) {
                return Err(PipelineError::Extends {
                    job: job_name.to_owned(),
                    parent,
                    reason: "loops back to itself",
                });
            }
            if depth >= MAX_EXTENDS_DEPTH {
                return Err(PipelineError::Extends {
                    job: job_name.to_owned(),
                    parent,
                    reason: "is nested too deeply",
                });
            }
            if root.get(&parent).is_some_and(Value::is_object) {
                seen.push(parent.clone());
                let base = resolve(&parent, root, depth + 1, seen, component, notes, job_name)?;
                seen.pop();
                merge(&mut out, &base);
            } else if COMPONENT_TEMPLATES.contains(&parent.as_str()) {
                component.insert(parent);
            } else {
                note(
                    notes,
                    Some(job_name),
                    format!(
                        "extends {parent:?}, which is not in this file (an include not followed): \
                         what it adds is not in the policy"
                    ),
                );
            }
        }
    }
    let mut own = job.clone();
    own.remove("extends");
    merge(&mut out, &own);
    Ok(out)
}

/// The lines of a script: strings, nested lists, and `!reference [.job, key, ...]` to another
/// part of this file. A reference that cannot be followed is returned in `missing` (one into
/// the component's templates is known and holds no `hallmark run` of the user's).
fn flatten(
    v: &Value,
    root: &Map<String, Value>,
    depth: usize,
    out: &mut Vec<String>,
    missing: &mut Vec<String>,
) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items
            .iter()
            .for_each(|i| flatten(i, root, depth, out, missing)),
        Value::Object(o) => {
            if let Some(path) = o.get("!reference").and_then(Value::as_array) {
                let keys: Vec<&str> = path.iter().filter_map(Value::as_str).collect();
                let mut target = keys.first().and_then(|k| root.get(*k));
                for k in keys.iter().skip(1) {
                    target = target.and_then(|t| t.get(*k));
                }
                match target {
                    Some(t) if depth < MAX_EXTENDS_DEPTH => {
                        flatten(t, root, depth + 1, out, missing)
                    }
                    _ if keys
                        .first()
                        .is_some_and(|k| COMPONENT_TEMPLATES.contains(k)) => {}
                    _ => missing.push(keys.join(".")),
                }
            } else {
                missing.push(serde_json::to_string(v).unwrap_or_default());
            }
        }
        _ => {}
    }
}

/// The lines of `before_script` + `script`, and the references that could not be followed.
fn script_text(
    job: &Map<String, Value>,
    default: Option<&Map<String, Value>>,
    root: &Map<String, Value>,
) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    let before = job
        .get("before_script")
        .or_else(|| default.and_then(|d| d.get("before_script")));
    if let Some(b) = before {
        flatten(b, root, 0, &mut lines, &mut missing);
    }
    if let Some(s) = job.get("script") {
        flatten(s, root, 0, &mut lines, &mut missing);
    }
    (lines.join("\n"), missing)
}

/// The jobs of a `.gitlab-ci.yml`.
pub(super) fn jobs(root: &Value, notes: &mut Vec<Note>) -> Result<Vec<Job>, PipelineError> {
    let Some(map) = root.as_object() else {
        return Err(PipelineError::Shape {
            what: "the pipeline file".into(),
            expected: "a mapping",
        });
    };
    if let Some(include) = map.get("include") {
        let items = match include {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        for item in items {
            if !is_hallmark_include(&item) {
                note(
                    notes,
                    None,
                    format!(
                        "include {} is not followed: jobs and templates it defines are not in the policy",
                        serde_json::to_string(&item).unwrap_or_default()
                    ),
                );
            }
        }
    }
    let stages: Vec<String> = match map.get("stages") {
        Some(s) => {
            let mut list = vec![".pre".to_owned()];
            list.extend(strings(s, "stages")?);
            list.push(".post".into());
            list
        }
        None => DEFAULT_STAGES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let global_vars = variables(map.get("variables"));
    let default = map.get("default").and_then(Value::as_object);
    let names: Vec<&String> = map
        .keys()
        .filter(|k| !RESERVED.contains(&k.as_str()) && !k.starts_with('.'))
        .filter(|k| map.get(*k).is_some_and(Value::is_object))
        .collect();
    if names.len() > MAX_JOBS {
        return Err(PipelineError::TooManyJobs {
            count: names.len(),
            limit: MAX_JOBS,
        });
    }
    struct Resolved {
        job: Map<String, Value>,
        stage: usize,
        component: BTreeSet<String>,
    }
    let mut resolved: BTreeMap<String, Resolved> = BTreeMap::new();
    for name in &names {
        let mut component = BTreeSet::new();
        let job = resolve(
            name,
            map,
            0,
            &mut vec![(*name).clone()],
            &mut component,
            notes,
            name,
        )?;
        let stage_name = job
            .get("stage")
            .and_then(Value::as_str)
            .unwrap_or("test")
            .to_owned();
        let stage = match stages.iter().position(|s| *s == stage_name) {
            Some(i) => i,
            None => {
                note(
                    notes,
                    Some(name),
                    format!("stage {stage_name:?} is not in stages: its order is not known"),
                );
                stages.len()
            }
        };
        if job.get("trigger").is_some() {
            note(
                notes,
                Some(name),
                "triggers another pipeline: the steps it records are not in this policy",
            );
        }
        resolved.insert(
            (*name).clone(),
            Resolved {
                job,
                stage,
                component,
            },
        );
    }
    let has_artifacts = |job: &Map<String, Value>| -> Vec<String> {
        job.get("artifacts")
            .and_then(|a| a.get("paths"))
            .and_then(|p| strings(p, "artifacts.paths").ok())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (name, r) in &resolved {
        let job = &r.job;
        let mut vars = global_vars.clone();
        vars.extend(variables(job.get("variables")));
        vars.insert("CI_JOB_NAME".into(), name.clone());
        let mut steps = Vec::new();
        if r.component.contains(RECORD_TEMPLATE) {
            let step = match vars.get("HALLMARK_STEP") {
                Some(s) => substitute(s, &vars),
                None => Some(name.clone()),
            };
            let materials = match vars.get("HALLMARK_MATERIALS") {
                Some(m) => substitute(m, &vars)
                    .map(|m| m.split_whitespace().map(str::to_owned).collect::<Vec<_>>()),
                None => Some(Vec::new()),
            };
            match step {
                Some(step) => steps.push(Recorded { step, materials }),
                None => note(
                    notes,
                    Some(name),
                    "extends .hallmark-record with a HALLMARK_STEP that is not known statically; \
                     its step is not in the policy",
                ),
            }
        }
        let (script, missing) = script_text(job, default, map);
        for m in missing {
            note(
                notes,
                Some(name),
                format!(
                    "the script refers to {m}, which is not in this file: a step it records is not in the policy"
                ),
            );
        }
        for call in run_calls(&script, &vars) {
            match call.step {
                Some(step) => steps.push(Recorded {
                    step,
                    materials: call.materials,
                }),
                None => note(
                    notes,
                    Some(name),
                    "runs `hallmark run` with a --step that is not known statically; its step is \
                     not in the policy",
                ),
            }
        }
        if !steps.is_empty() && job.get("parallel").is_some() {
            note(
                notes,
                Some(name),
                "runs in parallel: every instance records the same step name",
            );
        }
        if job
            .get("artifacts")
            .and_then(|a| a.get("untracked"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            note(
                notes,
                Some(name),
                "artifacts: untracked: true hands over files that cannot be known from the file",
            );
        }
        // Whose artifacts this job receives: dependencies:, else needs:, else earlier stages.
        let mut upstream = Vec::new();
        if let Some(deps) = job.get("dependencies") {
            upstream = strings(deps, &format!("{name}.dependencies"))?;
        } else if let Some(needs) = job.get("needs") {
            let items = match needs {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            for item in items {
                match &item {
                    Value::String(s) => upstream.push(s.clone()),
                    Value::Object(o) if o.get("job").is_some() => {
                        let artifacts = o.get("artifacts").and_then(Value::as_bool) != Some(false);
                        if o.get("pipeline").is_some() || o.get("project").is_some() {
                            note(
                                notes,
                                Some(name),
                                "needs a job of another pipeline or project: its artifacts are not in the policy",
                            );
                        } else if artifacts && let Some(j) = o.get("job").and_then(Value::as_str) {
                            upstream.push(j.to_owned());
                        }
                    }
                    _ => note(
                        notes,
                        Some(name),
                        format!(
                            "needs entry {} is not understood",
                            serde_json::to_string(&item).unwrap_or_default()
                        ),
                    ),
                }
            }
        } else {
            upstream = resolved
                .iter()
                .filter(|(_, other)| other.stage < r.stage)
                .map(|(n, _)| n.clone())
                .collect();
        }
        let mut kept = Vec::new();
        for up in upstream {
            match resolved.get(&up) {
                Some(u) if !has_artifacts(&u.job).is_empty() => kept.push(up),
                Some(_) => {}
                None => note(
                    notes,
                    Some(name),
                    format!("takes artifacts from {up:?}, which is not a job of this file"),
                ),
            }
        }
        out.push(Job {
            name: name.clone(),
            steps,
            upstream: kept,
            artifacts: has_artifacts(job),
            view: false,
        });
    }
    Ok(out)
}
