//! Whole-job provenance for `hallmark attest --provenance`.
//!
//! On GitHub Actions this is exactly what GitHub's own attester (actions/attest-build-provenance)
//! writes, so `gh attestation verify` and other verifiers accept it. GitHub builds it from the
//! OIDC token's claims; the same values are in the job's environment, except one: the builder id
//! is the token's `job_workflow_ref`, which names the reusable workflow a job runs in (and equals
//! `GITHUB_WORKFLOW_REF` elsewhere). Keyless signing has the token and passes the claim; with key
//! signing there is no token, and `GITHUB_WORKFLOW_REF` stands in.

use std::collections::BTreeMap;

use hallmark_model::digest::DigestSet;
use hallmark_model::provenance::{BuildDefinition, BuildMetadata, Builder, Provenance, RunDetails};
use hallmark_model::resource::ResourceDescriptor;
use serde_json::json;

use super::step::{ci_claimed_source, claim_is_checkout, source_descriptor};
use crate::VERSION;
use crate::ci::{CiContext, GitHub, GitLab};
use crate::source::SourceInfo;
use crate::{Error, Result};

/// GitHub's workflow buildType.
pub const GITHUB_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// Hallmark's buildType for self-asserted local jobs.
pub const LOCAL_BUILD_TYPE: &str = "https://hallmark.dev/buildtypes/local-job/v1";

/// Builds whole-job provenance for the detected platform.
///
/// The whole-job formats record the platform's source (GitHub's and GitLab's own attesters do);
/// when the job has a checkout of another commit or repository (a `pull_request_target` job that
/// checked out a fork's head), that record would name code that was not built, so it is refused:
/// record such builds as steps (`hallmark run`), which name the checkout.
///
/// `job_workflow_ref` is the identity token's claim of that name, when the signer has a token.
pub fn job_provenance(
    ci: &CiContext,
    source: Option<&SourceInfo>,
    job_workflow_ref: Option<&str>,
) -> Result<Provenance> {
    if let (Some((url, git_ref, sha)), Some(src)) = (ci.source(), source)
        && !sha.is_empty()
        && !claim_is_checkout(&url, &sha, src)
    {
        return Err(Error::CheckoutNotClaimed {
            commit: src.commit.clone(),
            remote: src.remote_url.as_deref().unwrap_or("no remote").to_owned(),
            claimed_url: url,
            claimed_ref: git_ref,
            claimed_commit: sha,
        });
    }
    match ci {
        CiContext::GitHub(gh) => github(gh, job_workflow_ref.filter(|r| !r.is_empty())),
        CiContext::GitLab(gl) => Ok(gitlab(gl)),
        CiContext::Local => local(ci, source),
    }
}

fn require(name: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::Context(format!(
            "GitHub provenance needs {name}, which is not set in this job"
        )));
    }
    Ok(())
}

fn github(gh: &GitHub, job_workflow_ref: Option<&str>) -> Result<Provenance> {
    for (name, value) in [
        ("GITHUB_REPOSITORY", &gh.repository),
        ("GITHUB_REF", &gh.git_ref),
        ("GITHUB_SHA", &gh.sha),
        ("GITHUB_WORKFLOW_REF", &gh.workflow_ref),
        ("GITHUB_RUN_ID", &gh.run_id),
        ("GITHUB_RUN_ATTEMPT", &gh.run_attempt),
    ] {
        require(name, value)?;
    }
    // owner/repo/.github/workflows/main.yml@refs/heads/main → .github/workflows/main.yml, refs/heads/main
    let without_repo = gh
        .workflow_ref
        .strip_prefix(&format!("{}/", gh.repository))
        .unwrap_or(&gh.workflow_ref);
    let (path, workflow_ref) = without_repo.split_once('@').unwrap_or((without_repo, ""));
    let server = &gh.server_url;
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: GITHUB_BUILD_TYPE.to_owned(),
            external_parameters: json!({
                "workflow": {
                    "ref": workflow_ref,
                    "repository": format!("{server}/{}", gh.repository),
                    "path": path,
                }
            }),
            internal_parameters: Some(json!({
                "github": {
                    "event_name": gh.event_name,
                    "repository_id": gh.repository_id,
                    "repository_owner_id": gh.repository_owner_id,
                    "runner_environment": gh.runner_environment,
                }
            })),
            resolved_dependencies: vec![ResourceDescriptor {
                uri: format!("git+{server}/{}@{}", gh.repository, gh.git_ref),
                digest: DigestSet::from([("gitCommit".to_owned(), gh.sha.clone())]),
                ..Default::default()
            }],
        },
        run_details: RunDetails {
            builder: Builder {
                id: format!("{server}/{}", job_workflow_ref.unwrap_or(&gh.workflow_ref)),
                version: BTreeMap::new(),
                builder_dependencies: Vec::new(),
            },
            metadata: Some(BuildMetadata {
                invocation_id: Some(format!(
                    "{server}/{}/actions/runs/{}/attempts/{}",
                    gh.repository, gh.run_id, gh.run_attempt
                )),
                ..Default::default()
            }),
            byproducts: Vec::new(),
        },
    })
}

/// The GitLab runner's buildType: its PROVENANCE.md at the runner's version.
fn gitlab(gl: &GitLab) -> Provenance {
    let version = if gl.runner_version.starts_with('v') {
        gl.runner_version.clone()
    } else if !gl.runner_version.is_empty() {
        format!("v{}", gl.runner_version)
    } else {
        gl.runner_revision.clone()
    };
    let ci = CiContext::GitLab(gl.clone());
    Provenance {
        build_definition: BuildDefinition {
            build_type: format!(
                "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/{version}/PROVENANCE.md"
            ),
            external_parameters: json!({
                "source": gl.project_url,
                "entryPoint": gl.job_name,
            }),
            internal_parameters: Some(json!({
                "name": gl.runner_description,
                "job": gl.job_id,
                "pipeline": gl.pipeline_id,
            })),
            resolved_dependencies: ci_claimed_source(&ci).into_iter().collect(),
        },
        run_details: RunDetails {
            builder: Builder {
                id: ci.builder_id(),
                version: BTreeMap::from([("gitlab-runner".to_owned(), version)]),
                builder_dependencies: Vec::new(),
            },
            metadata: Some(BuildMetadata {
                invocation_id: ci.invocation_id(),
                ..Default::default()
            }),
            byproducts: Vec::new(),
        },
    }
}

fn local(ci: &CiContext, source: Option<&SourceInfo>) -> Result<Provenance> {
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: LOCAL_BUILD_TYPE.to_owned(),
            external_parameters: json!({ "source": source.and_then(SourceInfo::uri) }),
            internal_parameters: Some(
                json!({ "ci": ci.facts(), "sourceDirty": source.map(|s| s.dirty) }),
            ),
            resolved_dependencies: source_descriptor(source, ci).into_iter().collect(),
        },
        run_details: RunDetails {
            builder: Builder {
                id: ci.builder_id(),
                version: BTreeMap::from([("hallmark".to_owned(), VERSION.to_owned())]),
                builder_dependencies: Vec::new(),
            },
            metadata: None,
            byproducts: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci::tests::github_env;

    #[test]
    fn github_provenance_is_byte_for_byte_githubs_shape() {
        let ci = CiContext::detect(&github_env());
        let got = job_provenance(&ci, None, None).unwrap().to_value();
        // What actions/attest-build-provenance writes for the same job.
        let want = json!({
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {"workflow": {
                    "ref": "refs/heads/main",
                    "repository": "https://github.com/octo/app",
                    "path": ".github/workflows/build.yml"}},
                "internalParameters": {"github": {
                    "event_name": "push", "repository_id": "1000",
                    "repository_owner_id": "2000", "runner_environment": "github-hosted"}},
                "resolvedDependencies": [{
                    "uri": "git+https://github.com/octo/app@refs/heads/main",
                    "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}]
            },
            "runDetails": {
                "builder": {"id": "https://github.com/octo/app/.github/workflows/build.yml@refs/heads/main"},
                "metadata": {"invocationId": "https://github.com/octo/app/actions/runs/42/attempts/1"}
            }
        });
        assert_eq!(got, want);
    }

    #[test]
    fn github_provenance_refuses_missing_facts() {
        let mut env = github_env();
        env.remove("GITHUB_SHA");
        let err = job_provenance(&CiContext::detect(&env), None, None).unwrap_err();
        assert!(err.to_string().contains("GITHUB_SHA"), "{err}");
    }

    /// In a reusable workflow the token's job_workflow_ref names the reusable workflow: it is
    /// the builder, as in GitHub's attester; the caller's workflow stays the external parameter.
    #[test]
    fn the_builder_is_the_tokens_job_workflow_ref() {
        let ci = CiContext::detect(&github_env());
        let reusable = "octo/shared/.github/workflows/release.yml@refs/tags/v1";
        let got = job_provenance(&ci, None, Some(reusable))
            .unwrap()
            .to_value();
        assert_eq!(
            got["runDetails"]["builder"]["id"],
            format!("https://github.com/{reusable}")
        );
        assert_eq!(
            got["buildDefinition"]["externalParameters"]["workflow"]["path"],
            ".github/workflows/build.yml"
        );
        let plain = job_provenance(&ci, None, Some("")).unwrap().to_value();
        assert_eq!(
            plain["runDetails"]["builder"]["id"],
            "https://github.com/octo/app/.github/workflows/build.yml@refs/heads/main"
        );
    }
}
