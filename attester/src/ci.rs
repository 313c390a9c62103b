//! The CI platform we run on, read from an injected environment map so it can be tested.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The process environment, or a fixed one in tests.
pub type Env = BTreeMap<String, String>;

/// Reads the real process environment (variables that are not valid UTF-8 are skipped).
pub fn process_env() -> Env {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Builder id of a run outside any recognised CI. It says plainly that nobody vouches for it.
pub const LOCAL_BUILDER_ID: &str = "https://hallmark.dev/builders/local/self-asserted";

/// Where the build runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiContext {
    /// GitHub Actions.
    GitHub(GitHub),
    /// GitLab CI.
    GitLab(GitLab),
    /// A developer machine or an unrecognised CI: self-asserted.
    Local,
}

/// Facts GitHub Actions puts in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHub {
    /// `GITHUB_SERVER_URL`, e.g. `https://github.com`.
    pub server_url: String,
    /// `GITHUB_REPOSITORY`, `owner/repo`.
    pub repository: String,
    /// `GITHUB_REF`, e.g. `refs/heads/main`.
    pub git_ref: String,
    /// `GITHUB_SHA`.
    pub sha: String,
    /// `GITHUB_WORKFLOW_REF`, `owner/repo/.github/workflows/x.yml@refs/heads/main`.
    pub workflow_ref: String,
    /// `GITHUB_RUN_ID`.
    pub run_id: String,
    /// `GITHUB_RUN_ATTEMPT`.
    pub run_attempt: String,
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// `GITHUB_REPOSITORY_ID`.
    pub repository_id: String,
    /// `GITHUB_REPOSITORY_OWNER_ID`.
    pub repository_owner_id: String,
    /// `RUNNER_ENVIRONMENT` (`github-hosted` or `self-hosted`).
    pub runner_environment: String,
    /// `GITHUB_JOB`.
    pub job: String,
}

/// Facts GitLab CI puts in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLab {
    /// `CI_SERVER_URL`.
    pub server_url: String,
    /// `CI_PROJECT_URL`.
    pub project_url: String,
    /// `CI_PROJECT_PATH`.
    pub project_path: String,
    /// `CI_COMMIT_SHA`.
    pub commit_sha: String,
    /// `CI_COMMIT_REF_NAME` (a branch or tag name).
    pub ref_name: String,
    /// `CI_COMMIT_TAG`, set for tag pipelines.
    pub tag: String,
    /// `CI_MERGE_REQUEST_IID`, set for merge-request pipelines.
    pub merge_request_iid: String,
    /// `CI_JOB_ID`.
    pub job_id: String,
    /// `CI_JOB_NAME`.
    pub job_name: String,
    /// `CI_JOB_URL`.
    pub job_url: String,
    /// `CI_PIPELINE_ID`.
    pub pipeline_id: String,
    /// `CI_RUNNER_ID`.
    pub runner_id: String,
    /// `CI_RUNNER_VERSION`.
    pub runner_version: String,
    /// `CI_RUNNER_REVISION`.
    pub runner_revision: String,
    /// `CI_RUNNER_DESCRIPTION`.
    pub runner_description: String,
}

fn get(env: &Env, key: &str) -> String {
    env.get(key).cloned().unwrap_or_default()
}

impl CiContext {
    /// Detects the platform from `GITHUB_ACTIONS` / `GITLAB_CI`.
    pub fn detect(env: &Env) -> Self {
        if env.get("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            return CiContext::GitHub(GitHub {
                server_url: non_empty(get(env, "GITHUB_SERVER_URL"), "https://github.com"),
                repository: get(env, "GITHUB_REPOSITORY"),
                git_ref: get(env, "GITHUB_REF"),
                sha: get(env, "GITHUB_SHA"),
                workflow_ref: get(env, "GITHUB_WORKFLOW_REF"),
                run_id: get(env, "GITHUB_RUN_ID"),
                run_attempt: get(env, "GITHUB_RUN_ATTEMPT"),
                event_name: get(env, "GITHUB_EVENT_NAME"),
                repository_id: get(env, "GITHUB_REPOSITORY_ID"),
                repository_owner_id: get(env, "GITHUB_REPOSITORY_OWNER_ID"),
                runner_environment: get(env, "RUNNER_ENVIRONMENT"),
                job: get(env, "GITHUB_JOB"),
            });
        }
        if env.get("GITLAB_CI").is_some_and(|v| v == "true") {
            return CiContext::GitLab(GitLab {
                server_url: get(env, "CI_SERVER_URL"),
                project_url: get(env, "CI_PROJECT_URL"),
                project_path: get(env, "CI_PROJECT_PATH"),
                commit_sha: get(env, "CI_COMMIT_SHA"),
                ref_name: get(env, "CI_COMMIT_REF_NAME"),
                tag: get(env, "CI_COMMIT_TAG"),
                merge_request_iid: get(env, "CI_MERGE_REQUEST_IID"),
                job_id: get(env, "CI_JOB_ID"),
                job_name: get(env, "CI_JOB_NAME"),
                job_url: get(env, "CI_JOB_URL"),
                pipeline_id: get(env, "CI_PIPELINE_ID"),
                runner_id: get(env, "CI_RUNNER_ID"),
                runner_version: get(env, "CI_RUNNER_VERSION"),
                runner_revision: get(env, "CI_RUNNER_REVISION"),
                runner_description: get(env, "CI_RUNNER_DESCRIPTION"),
            });
        }
        CiContext::Local
    }

    /// A short name: `github`, `gitlab` or `local`.
    pub fn name(&self) -> &'static str {
        match self {
            CiContext::GitHub(_) => "github",
            CiContext::GitLab(_) => "gitlab",
            CiContext::Local => "local",
        }
    }

    /// The builder id recorded in step provenance.
    ///
    /// GitHub: the workflow that ran (`<server>/<workflow_ref>`); GitLab: the runner, as the
    /// runner's own provenance names it; elsewhere the self-asserted local id.
    pub fn builder_id(&self) -> String {
        match self {
            CiContext::GitHub(gh) => format!("{}/{}", gh.server_url, gh.workflow_ref),
            CiContext::GitLab(gl) => format!("{}/-/runners/{}", gl.project_url, gl.runner_id),
            CiContext::Local => LOCAL_BUILDER_ID.to_owned(),
        }
    }

    /// A URI naming this job run, if the platform has one.
    pub fn invocation_id(&self) -> Option<String> {
        match self {
            CiContext::GitHub(gh) => Some(format!(
                "{}/{}/actions/runs/{}/attempts/{}",
                gh.server_url, gh.repository, gh.run_id, gh.run_attempt
            )),
            CiContext::GitLab(gl) if !gl.job_url.is_empty() => Some(gl.job_url.clone()),
            _ => None,
        }
    }

    /// A URI naming the whole pipeline run (every job and attempt of it), if the platform has
    /// one: the steps of one chain must come from one run (`chain.mixed-sources`).
    pub fn pipeline_run(&self) -> Option<String> {
        match self {
            CiContext::GitHub(gh) if !gh.run_id.is_empty() => Some(format!(
                "{}/{}/actions/runs/{}",
                gh.server_url, gh.repository, gh.run_id
            )),
            CiContext::GitLab(gl) if !gl.pipeline_id.is_empty() => {
                Some(format!("{}/-/pipelines/{}", gl.project_url, gl.pipeline_id))
            }
            _ => None,
        }
    }

    /// The source repository URL and ref the platform reports, if any.
    pub fn source(&self) -> Option<(String, String, String)> {
        match self {
            CiContext::GitHub(gh) => Some((
                format!("{}/{}", gh.server_url, gh.repository),
                gh.git_ref.clone(),
                gh.sha.clone(),
            )),
            CiContext::GitLab(gl) => {
                // A merge-request pipeline builds the MR's head (perhaps a fork's branch that
                // happens to be called `main`): name it as the MR, never as a branch.
                let git_ref = if !gl.merge_request_iid.is_empty() {
                    format!("refs/merge-requests/{}/head", gl.merge_request_iid)
                } else if gl.tag.is_empty() {
                    format!("refs/heads/{}", gl.ref_name)
                } else {
                    format!("refs/tags/{}", gl.tag)
                };
                Some((gl.project_url.clone(), git_ref, gl.commit_sha.clone()))
            }
            CiContext::Local => None,
        }
    }

    /// Platform facts for internalParameters of step provenance.
    pub fn facts(&self) -> Value {
        match self {
            CiContext::GitHub(gh) => json!({
                "platform": "github",
                "workflowRef": gh.workflow_ref,
                "job": gh.job,
                "eventName": gh.event_name,
                "repositoryId": gh.repository_id,
                "repositoryOwnerId": gh.repository_owner_id,
                "runnerEnvironment": gh.runner_environment,
                "pipelineRun": self.pipeline_run(),
            }),
            CiContext::GitLab(gl) => json!({
                "platform": "gitlab",
                "jobId": gl.job_id,
                "jobName": gl.job_name,
                "pipelineId": gl.pipeline_id,
                "runnerId": gl.runner_id,
                "runnerDescription": gl.runner_description,
                "pipelineRun": self.pipeline_run(),
            }),
            CiContext::Local => json!({ "platform": "local", "selfAsserted": true }),
        }
    }
}

fn non_empty(value: String, default: &str) -> String {
    if value.is_empty() {
        default.to_owned()
    } else {
        value
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The variables a GitHub Actions job sees (values from a real run, shortened).
    pub(crate) fn github_env() -> Env {
        [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "octo/app"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            (
                "GITHUB_WORKFLOW_REF",
                "octo/app/.github/workflows/build.yml@refs/heads/main",
            ),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "1"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_REPOSITORY_ID", "1000"),
            ("GITHUB_REPOSITORY_OWNER_ID", "2000"),
            ("RUNNER_ENVIRONMENT", "github-hosted"),
            ("GITHUB_JOB", "build"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn detects_github() {
        let ctx = CiContext::detect(&github_env());
        assert_eq!(
            ctx.builder_id(),
            "https://github.com/octo/app/.github/workflows/build.yml@refs/heads/main"
        );
        assert_eq!(
            ctx.invocation_id().unwrap(),
            "https://github.com/octo/app/actions/runs/42/attempts/1"
        );
    }

    #[test]
    fn detects_gitlab_and_names_the_runner() {
        let env: Env = [
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_URL", "https://gitlab.example/grp/proj"),
            ("CI_RUNNER_ID", "7"),
            ("CI_COMMIT_REF_NAME", "main"),
            ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let ctx = CiContext::detect(&env);
        assert_eq!(
            ctx.builder_id(),
            "https://gitlab.example/grp/proj/-/runners/7"
        );
        assert_eq!(ctx.source().unwrap().1, "refs/heads/main");
    }

    #[test]
    fn a_merge_request_pipeline_names_the_merge_request_not_a_branch() {
        // A fork's branch called `main`, built in the parent project's MR pipeline.
        let env: Env = [
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_URL", "https://gitlab.example/grp/proj"),
            ("CI_COMMIT_REF_NAME", "main"),
            ("CI_MERGE_REQUEST_IID", "12"),
            ("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let ctx = CiContext::detect(&env);
        assert_eq!(ctx.source().unwrap().1, "refs/merge-requests/12/head");
    }

    #[test]
    fn local_is_visibly_self_asserted() {
        let ctx = CiContext::detect(&Env::new());
        assert!(ctx.builder_id().contains("self-asserted"));
        assert_eq!(ctx.facts()["selfAsserted"], true);
    }
}
