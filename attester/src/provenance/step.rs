//! Provenance for one build step, with Hallmark's step buildType. The parameters are documented
//! in docs/buildtypes/step-v1.md; change them only with a new buildType version.

use std::collections::BTreeMap;
use std::time::SystemTime;

use hallmark_model::digest::DigestSet;
use hallmark_model::provenance::{BuildDefinition, BuildMetadata, Builder, Provenance, RunDetails};
use hallmark_model::resource::ResourceDescriptor;
use serde_json::{Value, json};

use super::rfc3339;
use crate::VERSION;
use crate::ci::CiContext;
use crate::redact::CommandRecording;
use crate::source::SourceInfo;

pub use hallmark_model::provenance::STEP_BUILD_TYPE;

/// Everything a step's provenance records.
#[derive(Debug, Clone)]
pub struct StepRecord<'a> {
    /// The step name (`build`, `package`, ...).
    pub step: &'a str,
    /// The command and its arguments as recorded (already redacted), or `None` when not recorded.
    pub command: Option<Vec<String>>,
    /// How the command was recorded.
    pub command_recording: CommandRecording,
    /// Working directory relative to the source root (`.` at the root).
    pub working_directory: String,
    /// Environment variables the user allowed to be recorded, already redacted.
    pub env: BTreeMap<String, String>,
    /// The command's exit code.
    pub exit_code: i32,
    /// Hashed input files.
    pub materials: Vec<ResourceDescriptor>,
    /// The git source, if any.
    pub source: Option<&'a SourceInfo>,
    /// The CI platform.
    pub ci: &'a CiContext,
    /// When the command started.
    pub started: SystemTime,
    /// When it ended.
    pub finished: SystemTime,
}

/// Whether two repository URLs name the same repository: scheme, credentials, a trailing `/` or
/// `.git` and the case of the host aside (`git@host:o/r.git` is `https://host/o/r`).
pub fn same_repository(a: &str, b: &str) -> bool {
    fn key(url: &str) -> String {
        let url = crate::redact::strip_url_credentials(url.trim());
        let rest = match url.split_once("://") {
            Some((_, rest)) => rest.to_owned(),
            // scp-style `user@host:path`
            None => url
                .rsplit_once('@')
                .map_or(url.as_str(), |(_, r)| r)
                .replacen(':', "/", 1),
        };
        let rest = rest.trim_end_matches('/');
        let rest = rest.strip_suffix(".git").unwrap_or(rest);
        match rest.split_once('/') {
            Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
            None => rest.to_ascii_lowercase(),
        }
    }
    key(a) == key(b)
}

/// Whether the CI platform's claim (repository `url`, commit `sha`) is the checkout `src`: the same
/// commit, and the same repository as its remote (when it has one).
pub fn claim_is_checkout(url: &str, sha: &str, src: &SourceInfo) -> bool {
    sha.eq_ignore_ascii_case(&src.commit)
        && src
            .remote_url
            .as_deref()
            .is_none_or(|remote| same_repository(remote, url))
}

/// The source the CI platform reports, as whole-job formats record it (GitLab's runner format):
/// `git+<url>@<ref>` with the platform's commit, unchecked against any checkout.
pub fn ci_claimed_source(ci: &CiContext) -> Option<ResourceDescriptor> {
    let (url, git_ref, sha) = ci.source().filter(|(_, _, sha)| !sha.is_empty())?;
    Some(ResourceDescriptor {
        uri: format!("git+{url}@{git_ref}"),
        digest: DigestSet::from([("gitCommit".to_owned(), sha)]),
        ..Default::default()
    })
}

/// The git source of a step as a resolved dependency: `git+<url>@<ref>` with a `gitCommit` digest.
///
/// The commit is the checkout's HEAD: what was built. The CI platform's claim (`GITHUB_SHA`,
/// `CI_COMMIT_SHA`, ...) names the repository and ref when it agrees with the checkout: the same
/// commit, and the same repository as the checkout's remote (CI checkouts are often detached);
/// when it names another commit or repository (a job that checked out another ref or a fork),
/// the checkout's own remote and ref are recorded and the claim is kept as the
/// annotations `ciCommit`, `ciRef` and `ciRepository`, which the policy library denies
/// (`source.commit-mismatch`). Without a checkout the claim is recorded as it is, annotated
/// `checkout: false`. A dirty tree is annotated `dirty: true`.
pub fn source_descriptor(
    source: Option<&SourceInfo>,
    ci: &CiContext,
) -> Option<ResourceDescriptor> {
    let claim = ci.source().filter(|(_, _, sha)| !sha.is_empty());
    let mut annotations = BTreeMap::new();
    let (uri, commit) = match (claim, source) {
        (Some((url, git_ref, sha)), Some(src)) if claim_is_checkout(&url, &sha, src) => {
            (format!("git+{url}@{git_ref}"), src.commit.clone())
        }
        (Some((url, git_ref, sha)), Some(src)) => {
            let uri = src.uri().unwrap_or_else(|| format!("git+{url}"));
            annotations.insert("ciCommit".to_owned(), Value::String(sha));
            annotations.insert("ciRef".to_owned(), Value::String(git_ref));
            annotations.insert("ciRepository".to_owned(), Value::String(url));
            (uri, src.commit.clone())
        }
        (Some((url, git_ref, sha)), None) => {
            annotations.insert("checkout".to_owned(), Value::Bool(false));
            (format!("git+{url}@{git_ref}"), sha)
        }
        (None, Some(src)) => (src.uri().unwrap_or_default(), src.commit.clone()),
        (None, None) => return None,
    };
    if source.is_some_and(|s| s.dirty) {
        annotations.insert("dirty".to_owned(), Value::Bool(true));
    }
    Some(ResourceDescriptor {
        uri,
        digest: DigestSet::from([("gitCommit".to_owned(), commit)]),
        annotations: annotations.into_iter().collect(),
        ..Default::default()
    })
}

impl StepRecord<'_> {
    fn external_parameters(&self) -> Value {
        let mut params = json!({
            "step": self.step,
            "workingDirectory": self.working_directory,
            "env": self.env,
        });
        if let (Some(command), Some(map)) = (&self.command, params.as_object_mut()) {
            map.insert("command".to_owned(), json!(command));
        }
        params
    }

    /// The SLSA provenance v1 predicate of this step.
    pub fn provenance(&self) -> Provenance {
        let mut resolved: Vec<ResourceDescriptor> = source_descriptor(self.source, self.ci)
            .into_iter()
            .collect();
        resolved.extend(self.materials.iter().cloned());
        Provenance {
            build_definition: BuildDefinition {
                build_type: STEP_BUILD_TYPE.to_owned(),
                external_parameters: self.external_parameters(),
                internal_parameters: Some(json!({
                    "exitCode": self.exit_code,
                    "commandRecording": self.command_recording.name(),
                    "ci": self.ci.facts(),
                    "sourceDirty": self.source.map(|s| s.dirty),
                })),
                resolved_dependencies: resolved,
            },
            run_details: RunDetails {
                builder: Builder {
                    id: self.ci.builder_id(),
                    version: BTreeMap::from([("hallmark".to_owned(), VERSION.to_owned())]),
                    builder_dependencies: Vec::new(),
                },
                metadata: Some(BuildMetadata {
                    invocation_id: self.ci.invocation_id(),
                    started_on: Some(rfc3339(self.started)),
                    finished_on: Some(rfc3339(self.finished)),
                }),
                byproducts: Vec::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn checkout(remote: &str, commit: &str) -> SourceInfo {
        SourceInfo {
            root: PathBuf::from("/src"),
            commit: commit.to_owned(),
            git_ref: Some("refs/heads/pr-evil".to_owned()),
            remote_url: Some(remote.to_owned()),
            dirty: false,
        }
    }

    fn github(sha: &str) -> CiContext {
        let env: crate::ci::Env = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/app"),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_SHA", sha),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        CiContext::detect(&env)
    }

    #[test]
    fn repositories_compare_without_scheme_credentials_or_dot_git() {
        assert!(same_repository(
            "https://github.com/acme/app",
            "https://GitHub.com/acme/app.git/"
        ));
        assert!(same_repository(
            "git@github.com:acme/app.git",
            "https://github.com/acme/app"
        ));
        assert!(same_repository(
            "https://x:tok@github.com/acme/app",
            "ssh://git@github.com/acme/app"
        ));
        assert!(!same_repository(
            "https://github.com/mallory/app",
            "https://github.com/acme/app"
        ));
        assert!(!same_repository(
            "https://github.com/acme/app-fork",
            "https://github.com/acme/app"
        ));
    }

    #[test]
    fn ci_names_the_ref_only_of_its_own_commit_in_its_own_repository() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let same = source_descriptor(
            Some(&checkout("https://github.com/acme/app.git", sha)),
            &github(sha),
        )
        .unwrap();
        assert_eq!(same.uri, "git+https://github.com/acme/app@refs/heads/main");
        assert!(same.annotations.is_empty());
        // The fork's commit, claimed by CI variables set to match it: the checkout's own remote
        // and ref are recorded, and the claim is kept for the policy to deny.
        let fork = source_descriptor(
            Some(&checkout("https://github.com/mallory/app.git", sha)),
            &github(sha),
        )
        .unwrap();
        assert_eq!(
            fork.uri,
            "git+https://github.com/mallory/app.git@refs/heads/pr-evil"
        );
        assert_eq!(
            fork.annotations["ciRepository"],
            "https://github.com/acme/app"
        );
        assert_eq!(fork.digest["gitCommit"], sha);
    }
}
