//! Release policies derived from a CI pipeline (`hallmark policy init --from`, `policy diff`).
//!
//! A pipeline file (a GitLab `.gitlab-ci.yml` or a GitHub Actions workflow) is read into the jobs
//! that record a step (`hallmark run`, the GitLab component's `.hallmark-record`, the Action in
//! `mode: run`), the artifacts each job hands to the next, and the keyless identity the platform
//! puts in the certificates. From them a declarative policy
//! ([`API_VERSION`](super::API_VERSION), docs/policy-file.md) is written: one step per recording
//! job, each step's inputs per file from the job graph, the source repository and refs, and the
//! signers. What the reader does not understand is reported as a [`Note`], never guessed: the
//! mapping rules are in docs/policy-init.md and decision record "policy from pipeline".

mod diff;
mod github;
mod gitlab;
mod graph;
mod render;
mod script;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::Value;

pub use diff::{Drift, diff};

/// Largest pipeline file read.
pub const MAX_PIPELINE_BYTES: usize = 1024 * 1024;
/// Most jobs in one pipeline.
pub const MAX_JOBS: usize = 1000;
/// Deepest `extends:` chain followed (GitLab allows 11 levels).
pub const MAX_EXTENDS_DEPTH: usize = 11;

/// Why no policy could be derived.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The file is larger than [`MAX_PIPELINE_BYTES`].
    #[error("the pipeline file is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The file is not YAML.
    #[error("the pipeline file is not valid YAML: {0}")]
    Yaml(String),
    /// A part of the file has the wrong shape.
    #[error("{what} must be {expected}")]
    Shape {
        /// Where (e.g. `jobs.build.needs`).
        what: String,
        /// What it must be.
        expected: &'static str,
    },
    /// More jobs than [`MAX_JOBS`].
    #[error("the pipeline has {count} jobs, more than the limit of {limit}")]
    TooManyJobs {
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An `extends:` chain loops or is too deep.
    #[error("job {job:?}: extends {parent:?} {reason}")]
    Extends {
        /// The job.
        job: String,
        /// The template it extends.
        parent: String,
        /// Why it cannot be followed.
        reason: &'static str,
    },
    /// No job records a step, so there is nothing to require.
    #[error(
        "no job records a step (`hallmark run`, the component's .hallmark-record, or the Action with mode: run); nothing to write a policy for"
    )]
    NoSteps,
    /// `--job` names a job the pipeline does not have.
    #[error("job {0:?} is not in the pipeline")]
    UnknownJob(String),
    /// The repository is not an `https://HOST/PATH` URL.
    #[error("repository {0:?} must be an https URL such as https://gitlab.com/group/project")]
    Repository(String),
    /// A ref is not a full ref (`refs/heads/main`, `refs/tags/v*`).
    #[error("ref {0:?} must be a full ref such as refs/heads/main or refs/tags/v*")]
    Ref(String),
    /// The policy written does not load (a bug: reported rather than written).
    #[error("the derived policy does not load: {0}")]
    Derived(String),
    /// The existing policy given to `diff` cannot be read.
    #[error("the policy to compare is not a declarative policy: {0}")]
    Policy(String),
}

/// The CI platform a pipeline file is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// GitLab CI/CD (`.gitlab-ci.yml`).
    GitLab,
    /// GitHub Actions (`.github/workflows/*.yml`).
    GitHub,
}

impl Platform {
    /// The issuer of the platform's OIDC tokens on its public instance.
    pub fn default_issuer(self) -> &'static str {
        match self {
            Platform::GitLab => "https://gitlab.com",
            Platform::GitHub => "https://token.actions.githubusercontent.com",
        }
    }

    /// A short name.
    pub fn name(self) -> &'static str {
        match self {
            Platform::GitLab => "gitlab",
            Platform::GitHub => "github",
        }
    }
}

/// What the pipeline file does not say, given by the caller.
#[derive(Debug, Clone)]
pub struct Options {
    /// The source repository, `https://HOST/GROUP/PROJECT` (no `.git`).
    pub repository: String,
    /// The refs releases are built from (full refs; globs allowed): the protected refs.
    pub refs: Vec<String>,
    /// The OIDC issuer in the certificates; default: the platform's ([`Platform::default_issuer`]);
    /// for GitLab, a self-managed instance's URL.
    pub issuer: Option<String>,
    /// The pipeline file's path in the repository, as the identity names it. Default:
    /// `.gitlab-ci.yml` for GitLab, `.github/workflows/FILE` for GitHub.
    pub config_path: Option<String>,
    /// The pipeline file's name (for GitHub's default `config_path`).
    pub file_name: String,
    /// Only these jobs and the jobs they take artifacts from (all jobs when empty).
    pub jobs: Vec<String>,
}

/// Something in the pipeline the reader did not follow, or a choice the caller should check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    /// The job it is about, if one.
    pub job: Option<String>,
    /// What, in plain words.
    pub message: String,
}

/// A policy derived from a pipeline.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The platform the file was read as.
    pub platform: Platform,
    /// The policy document (the fields of docs/policy-file.md).
    pub policy: Value,
    /// What was not followed or assumed.
    pub notes: Vec<Note>,
    /// Job name → the step it records, for the steps in the policy.
    pub jobs: BTreeMap<String, String>,
}

impl Derived {
    /// The policy as YAML, with a header naming where it came from and the notes.
    pub fn to_yaml(&self, source: &str) -> String {
        render::yaml(self, source)
    }
}

/// A job as the platform readers see it: what it records and what it receives.
#[derive(Debug, Clone, Default)]
pub(crate) struct Job {
    /// The job's name.
    pub name: String,
    /// The steps it records, in order; `None` for a `hallmark run` whose step is not static.
    pub steps: Vec<Recorded>,
    /// The jobs whose artifacts it receives.
    pub upstream: Vec<String>,
    /// Where its artifacts land in a downstream job's workspace (paths or globs).
    pub artifacts: Vec<String>,
    /// A view of another job's hand-over to one consumer (GitHub): its steps are that job's,
    /// looked up, never declared again.
    pub view: bool,
}

/// One step a job records.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// The step name (`--step`).
    pub step: String,
    /// Its materials (`-m`), `None` when not known statically.
    pub materials: Option<Vec<String>>,
}

/// Reads the pipeline into jobs, as the platform it is written for.
fn read(text: &str) -> Result<(Platform, Value), PipelineError> {
    if text.len() > MAX_PIPELINE_BYTES {
        return Err(PipelineError::TooLarge {
            size: text.len(),
            limit: MAX_PIPELINE_BYTES,
        });
    }
    // A GitLab component template is two documents: `spec:` then the jobs.
    let mut docs = Vec::new();
    for doc in yaml_serde::Deserializer::from_str(text) {
        let mut value: yaml_serde::Value = serde::Deserialize::deserialize(doc)
            .map_err(|e: yaml_serde::Error| PipelineError::Yaml(e.to_string()))?;
        // `<<: *defaults`, as GitLab applies it.
        value
            .apply_merge()
            .map_err(|e| PipelineError::Yaml(e.to_string()))?;
        docs.push(json(value));
    }
    let root = match docs.as_slice() {
        [one] => one.clone(),
        [spec, jobs] if spec.get("spec").is_some() => jobs.clone(),
        [] => return Err(PipelineError::NoSteps),
        _ => {
            return Err(PipelineError::Shape {
                what: "the pipeline file".into(),
                expected: "one YAML document (or a `spec:` header and one document)",
            });
        }
    };
    if !root.is_object() {
        return Err(PipelineError::Shape {
            what: "the pipeline file".into(),
            expected: "a mapping",
        });
    }
    let github = root
        .get("jobs")
        .and_then(Value::as_object)
        .is_some_and(|jobs| {
            jobs.values()
                .any(|j| j.get("runs-on").is_some() || j.get("steps").is_some())
        });
    Ok((
        if github {
            Platform::GitHub
        } else {
            Platform::GitLab
        },
        root,
    ))
}

/// YAML as JSON: mapping keys as strings, a tagged value (`!reference [.job, script]`) as
/// `{"!reference": [".job", "script"]}`.
fn json(value: yaml_serde::Value) -> Value {
    use yaml_serde::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().map_or(Value::Null, Value::from)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => match json(other) {
                            Value::String(s) => s,
                            v => v.to_string(),
                        },
                    };
                    (key, json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let mut map = serde_json::Map::new();
            map.insert(t.tag.to_string(), json(t.value));
            Value::Object(map)
        }
    }
}

/// Derives the release policy of the pipeline `text` (a `.gitlab-ci.yml` or a GitHub workflow).
pub fn derive(text: &str, options: &Options) -> Result<Derived, PipelineError> {
    let (platform, root) = read(text)?;
    let mut notes = Vec::new();
    let jobs = match platform {
        Platform::GitLab => gitlab::jobs(&root, &mut notes)?,
        Platform::GitHub => github::jobs(&root, &mut notes)?,
    };
    graph::policy(platform, jobs, options, notes)
}

/// A string list from YAML: one string or a list of strings.
pub(crate) fn strings(value: &Value, what: &str) -> Result<Vec<String>, PipelineError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(PipelineError::Shape {
                    what: what.to_owned(),
                    expected: "a string or a list of strings",
                }),
            })
            .collect(),
        _ => Err(PipelineError::Shape {
            what: what.to_owned(),
            expected: "a string or a list of strings",
        }),
    }
}

/// A note about `job`.
pub(crate) fn note(notes: &mut Vec<Note>, job: Option<&str>, message: impl Into<String>) {
    let n = Note {
        job: job.map(str::to_owned),
        message: message.into(),
    };
    if !notes.contains(&n) {
        notes.push(n);
    }
}
