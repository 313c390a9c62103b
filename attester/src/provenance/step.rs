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
use crate::source::SourceInfo;

pub use hallmark_model::provenance::STEP_BUILD_TYPE;

/// Everything a step's provenance records.
#[derive(Debug, Clone)]
pub struct StepRecord<'a> {
    /// The step name (`build`, `package`, ...).
    pub step: &'a str,
    /// The command and its arguments.
    pub command: &'a [String],
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

/// The git source as a resolved dependency: `git+<url>@<ref>` with a `gitCommit` digest.
/// CI-reported facts win over the local checkout's (CI checkouts are often detached).
pub fn source_descriptor(
    source: Option<&SourceInfo>,
    ci: &CiContext,
) -> Option<ResourceDescriptor> {
    let (uri, commit) = match (ci.source(), source) {
        (Some((url, git_ref, sha)), _) if !sha.is_empty() => (format!("git+{url}@{git_ref}"), sha),
        (_, Some(src)) => (src.uri().unwrap_or_default(), src.commit.clone()),
        _ => return None,
    };
    let mut descriptor = ResourceDescriptor {
        uri,
        digest: DigestSet::from([("gitCommit".to_owned(), commit)]),
        ..Default::default()
    };
    if source.is_some_and(|s| s.dirty) {
        descriptor
            .annotations
            .insert("dirty".to_owned(), Value::Bool(true));
    }
    Some(descriptor)
}

impl StepRecord<'_> {
    /// The SLSA provenance v1 predicate of this step.
    pub fn provenance(&self) -> Provenance {
        let mut resolved: Vec<ResourceDescriptor> = source_descriptor(self.source, self.ci)
            .into_iter()
            .collect();
        resolved.extend(self.materials.iter().cloned());
        Provenance {
            build_definition: BuildDefinition {
                build_type: STEP_BUILD_TYPE.to_owned(),
                external_parameters: json!({
                    "step": self.step,
                    "command": self.command,
                    "workingDirectory": self.working_directory,
                    "env": self.env,
                }),
                internal_parameters: Some(json!({
                    "exitCode": self.exit_code,
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
