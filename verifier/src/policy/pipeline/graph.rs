//! From jobs to the declarative policy: steps, their inputs per file, the artifact steps, the
//! source and the keyless signers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use super::{Derived, Job, Note, Options, PipelineError, Platform, note};

/// The pseudo-step of the source checkout.
const SOURCE: &str = "source";

/// A path as written in a pipeline, without `./` and a trailing `/`.
fn normal(path: &str) -> String {
    let p = path.trim();
    let p = p.strip_prefix("./").unwrap_or(p);
    p.trim_end_matches('/').to_owned()
}

/// The globs naming what `material` takes from an artifact path, when they overlap: the material
/// inside the artifact directory, or the artifact inside the material directory.
fn overlap(artifact: &str, material: &str) -> Option<Vec<String>> {
    let (a, m) = (normal(artifact), normal(material));
    if a.is_empty() || m.is_empty() || m == "." || a == "." {
        return Some(vec![if m.is_empty() || m == "." {
            "**".to_owned()
        } else {
            format!("{m}/**")
        }]);
    }
    let wild = a.find(['*', '?', '[']);
    let fixed = match wild {
        Some(i) => a[..i].rsplit_once('/').map_or("", |(d, _)| d).to_owned(),
        None => a.clone(),
    };
    if wild.is_some() {
        if fixed.is_empty() || m == fixed || m.starts_with(&format!("{fixed}/")) {
            return Some(vec![a]);
        }
        if fixed.starts_with(&format!("{m}/")) {
            return Some(vec![a]);
        }
        return None;
    }
    let inside =
        |inner: &str, outer: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
    if inside(&m, &a) {
        return Some(vec![m.clone(), format!("{m}/**")]);
    }
    if inside(&a, &m) {
        return Some(vec![a.clone(), format!("{a}/**")]);
    }
    None
}

/// Jobs kept for `--job`: those named and, transitively, the jobs they take artifacts from.
fn selected(jobs: &[Job], wanted: &[String]) -> Result<BTreeSet<String>, PipelineError> {
    let by_name: BTreeMap<&str, &Job> = jobs.iter().map(|j| (j.name.as_str(), j)).collect();
    if wanted.is_empty() {
        return Ok(by_name.keys().map(|k| (*k).to_owned()).collect());
    }
    let mut keep = BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    for w in wanted {
        if !by_name.contains_key(w.as_str()) {
            return Err(PipelineError::UnknownJob(w.clone()));
        }
        todo.push(w.clone());
    }
    while let Some(name) = todo.pop() {
        if keep.insert(name.clone())
            && let Some(job) = by_name.get(name.as_str())
        {
            todo.extend(job.upstream.iter().cloned());
        }
    }
    Ok(keep)
}

/// The identity the platform's Fulcio mapping puts in the certificate for `git_ref`.
fn identity(platform: Platform, repository: &str, config: &str, git_ref: &str) -> String {
    match platform {
        // GitLab: SAN = https://{ci_config_ref_uri} = HOST/PROJECT//PATH@REF.
        Platform::GitLab => format!("{repository}//{config}@{git_ref}"),
        // GitHub: SAN = https://github.com/{job_workflow_ref} = OWNER/REPO/PATH@REF.
        Platform::GitHub => format!("{repository}/{config}@{git_ref}"),
    }
}

/// Builds the policy from the jobs.
pub(super) fn policy(
    platform: Platform,
    jobs: Vec<Job>,
    options: &Options,
    mut notes: Vec<Note>,
) -> Result<Derived, PipelineError> {
    let repository = options.repository.trim_end_matches('/');
    let repository = repository.strip_suffix(".git").unwrap_or(repository);
    let valid_repo = repository.strip_prefix("https://").is_some_and(|rest| {
        rest.split('/').filter(|s| !s.is_empty()).count() >= 2
            && !rest.contains(['@', '?', '#', ' '])
    });
    if !valid_repo {
        return Err(PipelineError::Repository(options.repository.clone()));
    }
    for r in &options.refs {
        if !r.starts_with("refs/") || r.contains(' ') {
            return Err(PipelineError::Ref(r.clone()));
        }
    }
    let keep = selected(&jobs, &options.jobs)?;
    let jobs: Vec<Job> = jobs
        .into_iter()
        .filter(|j| keep.contains(&j.name))
        .collect();
    let by_name: BTreeMap<&str, &Job> = jobs.iter().map(|j| (j.name.as_str(), j)).collect();
    // The last step each job records is what its artifacts carry.
    let step_of: BTreeMap<&str, &str> = jobs
        .iter()
        .filter_map(|j| j.steps.last().map(|s| (j.name.as_str(), s.step.as_str())))
        .collect();
    if step_of.is_empty() {
        return Err(PipelineError::NoSteps);
    }
    let config = options
        .config_path
        .clone()
        .unwrap_or_else(|| match platform {
            Platform::GitLab => ".gitlab-ci.yml".to_owned(),
            Platform::GitHub => format!(".github/workflows/{}", options.file_name),
        });
    let issuer = options
        .issuer
        .clone()
        .unwrap_or_else(|| platform.default_issuer().to_owned());
    let exact: Vec<&String> = options
        .refs
        .iter()
        .filter(|r| !r.contains(['*', '?', '[']))
        .collect();
    for r in options.refs.iter().filter(|r| r.contains(['*', '?', '['])) {
        note(
            &mut notes,
            None,
            format!(
                "ref pattern {r:?} allows sources, but signers are exact identities: add the \
                 identity for each release ref by hand"
            ),
        );
    }
    let signers: Vec<Value> = exact
        .iter()
        .map(|r| json!({"identity": identity(platform, repository, &config, r), "issuer": issuer}))
        .collect();
    if signers.is_empty() {
        note(
            &mut notes,
            None,
            "no exact ref given: the steps have no signers; verification then needs --certificate-identity",
        );
    }
    let mut steps: BTreeMap<String, Value> = BTreeMap::new();
    let mut recorded_by: BTreeMap<String, String> = BTreeMap::new();
    let mut consumed: BTreeSet<String> = BTreeSet::new();
    for job in jobs.iter().filter(|j| !j.view) {
        for (i, rec) in job.steps.iter().enumerate() {
            if let Some(other) = recorded_by.get(&rec.step) {
                note(
                    &mut notes,
                    Some(&job.name),
                    format!(
                        "records step {:?}, which job {other:?} records too: the policy has it once, with the first job's inputs",
                        rec.step
                    ),
                );
                continue;
            }
            recorded_by.insert(rec.step.clone(), job.name.clone());
            if i > 0 {
                note(
                    &mut notes,
                    Some(&job.name),
                    format!(
                        "records more than one step; what step {:?} takes from the steps before it in the same job is not derived",
                        rec.step
                    ),
                );
            }
            let unattested: Vec<&Job> = job
                .upstream
                .iter()
                .filter(|u| !step_of.contains_key(u.as_str()))
                .filter_map(|u| by_name.get(u.as_str()).copied())
                .collect();
            let upstream_steps: Vec<(&Job, &str)> = job
                .upstream
                .iter()
                .filter_map(|u| by_name.get(u.as_str()).map(|j| (*j, step_of.get(u.as_str()).copied())))
                .filter_map(|(j, s)| {
                    if s.is_none() {
                        note(
                            &mut notes,
                            Some(&job.name),
                            format!(
                                "takes artifacts from job {:?}, which records no step: files it hands over are unattested (chain.unattested-input)",
                                j.name.split('\u{0}').next().unwrap_or_default()
                            ),
                        );
                    }
                    s.map(|s| (j, s))
                })
                .collect();
            let inputs = match &rec.materials {
                Some(materials) => {
                    let mut per: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                    for m in materials {
                        let mut found = false;
                        for (up, step) in &upstream_steps {
                            for a in &up.artifacts {
                                if let Some(globs) = overlap(a, m) {
                                    per.entry((*step).to_owned()).or_default().extend(globs);
                                    found = true;
                                }
                            }
                        }
                        // Files from a job that records no step are nobody's: neither a step's
                        // nor the source's, so the policy denies them.
                        for up in &unattested {
                            if up.artifacts.iter().any(|a| overlap(a, m).is_some()) {
                                note(
                                    &mut notes,
                                    Some(&job.name),
                                    format!(
                                        "material {m:?} of step {:?} comes from job {:?}, which records no step: it is not allowed as an input",
                                        rec.step,
                                        up.name.split('\u{0}').next().unwrap_or_default()
                                    ),
                                );
                                found = true;
                            }
                        }
                        if !found {
                            per.entry(SOURCE.to_owned())
                                .or_default()
                                .extend([normal(m), format!("{}/**", normal(m))]);
                        }
                    }
                    if per.is_empty() && !materials.is_empty() {
                        // Every material comes from jobs that record no step: no inputs allowed.
                        Value::Null
                    } else if per.is_empty() {
                        if upstream_steps.is_empty() {
                            json!([SOURCE])
                        } else {
                            json!(
                                upstream_steps
                                    .iter()
                                    .map(|(_, s)| *s)
                                    .collect::<BTreeSet<_>>()
                            )
                        }
                    } else {
                        json!(per)
                    }
                }
                None => {
                    note(
                        &mut notes,
                        Some(&job.name),
                        format!(
                            "the materials of step {:?} are not known statically: its inputs are given per step, not per file",
                            rec.step
                        ),
                    );
                    if upstream_steps.is_empty() {
                        json!([SOURCE])
                    } else {
                        json!(
                            upstream_steps
                                .iter()
                                .map(|(_, s)| *s)
                                .collect::<BTreeSet<_>>()
                        )
                    }
                }
            };
            for name in inputs
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .or_else(|| inputs.as_object().map(|o| o.keys().cloned().collect()))
                .unwrap_or_default()
            {
                consumed.insert(name);
            }
            let mut rule = if inputs.is_null() {
                json!({})
            } else {
                json!({"inputs": inputs})
            };
            if !signers.is_empty() {
                rule["signers"] = json!(signers);
            }
            steps.insert(rec.step.clone(), rule);
        }
    }
    if steps.is_empty() {
        return Err(PipelineError::NoSteps);
    }
    let reads_source = steps.values().any(|r| {
        r["inputs"]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == SOURCE))
            || r["inputs"].get(SOURCE).is_some()
    });
    if !reads_source {
        note(
            &mut notes,
            None,
            "no step reads the source checkout: check the materials of the first step",
        );
    }
    let artifact_from: Vec<&String> = steps.keys().filter(|s| !consumed.contains(*s)).collect();
    let mut sources = json!({"repositories": [repository]});
    if !options.refs.is_empty() {
        sources["refs"] = json!(options.refs);
    }
    let policy = json!({
        "apiVersion": super::super::API_VERSION,
        "kind": "ReleasePolicy",
        "steps": steps,
        "artifactFrom": artifact_from,
        "sources": sources,
    });
    let derived = Derived {
        platform,
        policy,
        notes,
        jobs: recorded_by.into_iter().map(|(s, j)| (j, s)).collect(),
    };
    // What is written must load, with the same compiler `verify --policy` uses.
    let yaml = derived.to_yaml("check");
    super::super::declarative::compile(Path::new("derived.yaml"), &yaml)
        .map_err(|e| PipelineError::Derived(e.message))?;
    Ok(derived)
}

#[cfg(test)]
mod tests {
    use super::overlap;

    #[test]
    fn overlap_of_materials_and_artifacts() {
        assert_eq!(
            overlap("out/", "out"),
            Some(vec!["out".into(), "out/**".into()])
        );
        assert_eq!(
            overlap("out", "out/app"),
            Some(vec!["out/app".into(), "out/app/**".into()])
        );
        assert_eq!(
            overlap("dist/app.tar", "dist"),
            Some(vec!["dist/app.tar".into(), "dist/app.tar/**".into()])
        );
        assert_eq!(overlap("out/", "outside"), None);
        assert_eq!(
            overlap("reports/*.xml", "reports"),
            Some(vec!["reports/*.xml".into()])
        );
        assert_eq!(overlap("reports/*.xml", "src"), None);
    }
}
