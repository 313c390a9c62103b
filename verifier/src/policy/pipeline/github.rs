//! GitHub Actions: jobs, `needs:`, artifacts handed over with actions/upload-artifact and
//! actions/download-artifact, and the steps each job records (`hallmark run` in a `run:` step,
//! or the Hallmark Action with `mode: run`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::script::{run_calls, substitute};
use super::{Job, MAX_JOBS, Note, PipelineError, Recorded, note, strings};

/// `env:` of a workflow, job or step (strings only; expressions stay unresolved).
fn env(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    Value::Number(n) => Some((k.clone(), n.to_string())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The action a step uses, without its version: `actions/upload-artifact`.
fn action(step: &Value) -> Option<&str> {
    step.get("uses")
        .and_then(Value::as_str)
        .map(|u| u.split('@').next().unwrap_or(u))
}

/// True when `uses` is the Hallmark Action (`OWNER/hallmark`, or `./` in this repository).
fn is_hallmark_action(uses: &str) -> bool {
    uses.ends_with("/hallmark") || uses == "."
}

/// The lines of a multi-line `with:` value (`path:`, `materials:`), split on whitespace.
fn lines(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_str)
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The deepest directory all `paths` share (what upload-artifact strips from the names).
fn common_dir(paths: &[String]) -> String {
    let dirs: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            let p = p.trim_start_matches("./").trim_end_matches('/');
            let mut parts: Vec<&str> = p.split('/').collect();
            // A file's directory; a glob's fixed part.
            if let Some(i) = parts.iter().position(|s| s.contains(['*', '?', '['])) {
                parts.truncate(i);
            } else if parts.last().is_some_and(|l| l.contains('.')) {
                parts.pop();
            }
            parts
        })
        .collect();
    let Some(first) = dirs.first() else {
        return String::new();
    };
    let mut n = first.len();
    for d in &dirs[1..] {
        n = n.min(d.iter().zip(first).take_while(|(a, b)| a == b).count());
    }
    first[..n].join("/")
}

/// The jobs of a workflow.
pub(super) fn jobs(root: &Value, notes: &mut Vec<Note>) -> Result<Vec<Job>, PipelineError> {
    let Some(map) = root.get("jobs").and_then(Value::as_object) else {
        return Err(PipelineError::Shape {
            what: "jobs".into(),
            expected: "a mapping of jobs",
        });
    };
    if map.len() > MAX_JOBS {
        return Err(PipelineError::TooManyJobs {
            count: map.len(),
            limit: MAX_JOBS,
        });
    }
    let workflow_env = env(root.get("env"));
    // name → (uploading job, paths) and each job's downloads.
    let mut uploads: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut parsed = Vec::new();
    for (name, job) in map {
        if job.get("uses").is_some() {
            note(
                notes,
                Some(name),
                "calls a reusable workflow: the steps it records and the identity it signs with are not in the policy",
            );
        }
        if job.get("strategy").and_then(|s| s.get("matrix")).is_some() {
            note(
                notes,
                Some(name),
                "runs a matrix: every instance records the same step name",
            );
        }
        let needs = match job.get("needs") {
            Some(n) => strings(n, &format!("jobs.{name}.needs"))?,
            None => Vec::new(),
        };
        let mut vars = workflow_env.clone();
        vars.extend(env(job.get("env")));
        let mut steps = Vec::new();
        let mut downloads: Vec<(Option<String>, String)> = Vec::new();
        let empty = Vec::new();
        for step in job.get("steps").and_then(Value::as_array).unwrap_or(&empty) {
            let mut svars = vars.clone();
            svars.extend(env(step.get("env")));
            let with = step.get("with");
            let w = |k: &str| with.and_then(|w| w.get(k));
            match action(step) {
                Some("actions/upload-artifact") => {
                    let artifact = w("name")
                        .and_then(Value::as_str)
                        .unwrap_or("artifact")
                        .to_owned();
                    uploads.insert(artifact, (name.clone(), lines(w("path"))));
                }
                Some("actions/download-artifact") => {
                    let target = w("path").and_then(Value::as_str).unwrap_or("").to_owned();
                    let artifact = w("name").and_then(Value::as_str).map(str::to_owned);
                    if w("pattern").is_some() {
                        note(
                            notes,
                            Some(name),
                            "download-artifact with a pattern: which artifacts it takes is not derived",
                        );
                    }
                    downloads.push((artifact, target));
                }
                Some(uses) if is_hallmark_action(uses) => {
                    let mode = w("mode").and_then(Value::as_str).unwrap_or("run");
                    if mode == "run" {
                        let step_name = w("step").and_then(Value::as_str).map(str::to_owned);
                        let materials: Vec<String> = lines(w("materials"));
                        let materials = materials
                            .iter()
                            .map(|m| substitute(m, &svars))
                            .collect::<Option<Vec<_>>>();
                        match step_name.and_then(|s| substitute(&s, &svars)) {
                            Some(s) if !s.contains("${{") => {
                                steps.push(Recorded { step: s, materials })
                            }
                            _ => note(
                                notes,
                                Some(name),
                                "uses the Hallmark Action with a step name that is not known statically; its step is not in the policy",
                            ),
                        }
                    }
                }
                Some(_) => {}
                None => {
                    if let Some(run) = step.get("run").and_then(Value::as_str) {
                        for call in run_calls(run, &svars) {
                            match call.step {
                                Some(s) => steps.push(Recorded {
                                    step: s,
                                    materials: call.materials,
                                }),
                                None => note(
                                    notes,
                                    Some(name),
                                    "runs `hallmark run` with a --step that is not known statically; its step is not in the policy",
                                ),
                            }
                        }
                    }
                }
            }
        }
        parsed.push((name.clone(), needs, steps, downloads));
    }
    // `needs:` orders transitively: a job needing `test` also runs after what `test` needs.
    let direct: BTreeMap<String, Vec<String>> = parsed
        .iter()
        .map(|(n, needs, ..)| (n.clone(), needs.clone()))
        .collect();
    let after = |job: &str| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        let mut todo: Vec<String> = direct.get(job).cloned().unwrap_or_default();
        while let Some(n) = todo.pop() {
            if !seen.contains(&n) && seen.len() <= MAX_JOBS {
                todo.extend(direct.get(&n).cloned().unwrap_or_default());
                seen.push(n);
            }
        }
        seen
    };
    let mut out = Vec::new();
    let mut landed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut upstream_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, _, _, downloads) in &parsed {
        let needs = after(name);
        for (artifact, target) in downloads {
            let chosen: Vec<(&String, &(String, Vec<String>))> = match artifact {
                Some(a) => match uploads.get_key_value(a) {
                    Some(kv) => vec![kv],
                    None => {
                        note(
                            notes,
                            Some(name),
                            format!(
                                "downloads artifact {a:?}, which no job of this workflow uploads"
                            ),
                        );
                        vec![]
                    }
                },
                None => uploads.iter().collect(),
            };
            for (artifact_name, (from, paths)) in chosen {
                if !needs.contains(from) {
                    note(
                        notes,
                        Some(name),
                        format!(
                            "downloads {artifact_name:?} from job {from:?} without needing it: the order is not guaranteed"
                        ),
                    );
                }
                // Files land under the download path, relative to the uploaded paths' common
                // directory; without a name, each artifact gets its own directory.
                let base = common_dir(paths);
                let mut target = target.trim_end_matches('/').to_owned();
                if artifact.is_none() {
                    target = if target.is_empty() {
                        artifact_name.clone()
                    } else {
                        format!("{target}/{artifact_name}")
                    };
                }
                for p in paths {
                    let p = p.trim_start_matches("./").trim_end_matches('/');
                    let rel = p
                        .strip_prefix(&base)
                        .map(|r| r.trim_start_matches('/'))
                        .unwrap_or(p);
                    let at = match (target.is_empty(), rel.is_empty()) {
                        (true, _) => rel.to_owned(),
                        (false, true) => target.clone(),
                        (false, false) => format!("{target}/{rel}"),
                    };
                    landed
                        .entry(format!("{name}\u{0}{from}"))
                        .or_default()
                        .push(if at.is_empty() { ".".into() } else { at });
                }
                upstream_of
                    .entry(name.clone())
                    .or_default()
                    .push(from.clone());
            }
        }
    }
    // Each (consumer, producer) pair becomes a pseudo-job whose artifacts are where the files
    // land in the consumer, so the graph code compares them with the consumer's materials.
    for (name, _, steps, _) in &parsed {
        let mut ups = upstream_of.remove(name).unwrap_or_default();
        ups.sort();
        ups.dedup();
        let mut upstream = Vec::new();
        for from in &ups {
            let producer_steps = parsed
                .iter()
                .find(|(n, ..)| n == from)
                .map(|(_, _, s, _)| s.clone())
                .unwrap_or_default();
            let alias = format!("{from}\u{0}{name}");
            out.push(Job {
                name: alias.clone(),
                steps: producer_steps,
                upstream: vec![from.clone()],
                artifacts: landed
                    .remove(&format!("{name}\u{0}{from}"))
                    .unwrap_or_default(),
                view: true,
            });
            upstream.push(alias);
        }
        out.push(Job {
            name: name.clone(),
            steps: steps.clone(),
            upstream,
            artifacts: Vec::new(),
            view: false,
        });
    }
    Ok(out)
}
