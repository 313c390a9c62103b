//! Recording one build step: hash the materials, run the command, hash the products, and build the
//! step's statement. Signing and storing are the caller's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_model::clock::Clock;
use hallmark_model::provenance::SLSA_PROVENANCE_V1;
use hallmark_model::statement::Statement;

use crate::ci::{CiContext, Env};
use crate::hashing::{HashCache, HashOptions, HashedFile, hash_paths_cached};
use crate::provenance::step::StepRecord;
use crate::redact::{self, CommandRecording};
use crate::source::{self, SourceInfo};
use crate::{Error, Result};

pub use crate::redact::REDACTED;

/// Variables Hallmark itself consumes to sign: the key path, key passwords, identity tokens and
/// GitHub's token-request pair. The wrapped command never sees them (unless the user passes one
/// on explicitly), so a build step cannot sign provenance of its own choosing with them.
pub const SIGNING_ENV: &[&str] = &[
    "HALLMARK_KEY",
    "HALLMARK_PASSWORD",
    "COSIGN_KEY",
    "COSIGN_PASSWORD",
    "HALLMARK_PKCS11_PIN",
    "SIGSTORE_ID_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

/// What to record.
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// The step name.
    pub name: String,
    /// Files and directories read by the step.
    pub materials: Vec<PathBuf>,
    /// Files and directories the step produces; they become the subjects.
    pub products: Vec<PathBuf>,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Environment variables whose values are recorded.
    pub env_allow: Vec<String>,
    /// Hashing options for materials and products.
    pub hashing: HashOptions,
    /// Attest even when the command fails.
    pub attest_failure: bool,
    /// Refuse to run on a source tree with uncommitted changes.
    pub require_clean: bool,
    /// How much of the command line to record.
    pub record_command: CommandRecording,
    /// Variables of [`SIGNING_ENV`] the user explicitly lets the command see.
    pub pass_env: Vec<String>,
}

/// Where and when the step runs.
pub struct StepContext<'a> {
    /// The working directory: the command runs here, and material and product paths are
    /// written relative to it.
    pub cwd: &'a Path,
    /// The directory that material and product names are relative to, and that they must stay
    /// inside: the working directory, or (for a monorepo job that reads `../lib`) a directory
    /// above it that the user named.
    pub root: &'a Path,
    /// The environment.
    pub env: &'a Env,
    /// The clock.
    pub clock: &'a dyn Clock,
}

/// The result of running a step.
#[derive(Debug)]
pub struct StepOutcome {
    /// The command's exit code (128 + signal number when killed by a signal).
    pub exit_code: i32,
    /// The statement to sign, or `None` when the command failed and failures are not attested.
    pub statement: Option<Statement>,
    /// The hashed products.
    pub products: Vec<HashedFile>,
    /// The hashed materials.
    pub materials: Vec<HashedFile>,
    /// The git source, if any.
    pub source: Option<SourceInfo>,
}

/// The allowed variables and their values, redacted (see [`crate::redact`]).
pub fn allowed_env(env: &Env, allow: &[String]) -> BTreeMap<String, String> {
    allow
        .iter()
        .filter_map(|name| {
            let value = env.get(name)?;
            Some((name.clone(), redact::env_value(name, value)))
        })
        .collect()
}

/// The variables of [`SIGNING_ENV`] the command must not see: all but those passed on.
pub fn withheld_env(pass: &[String]) -> Vec<&'static str> {
    SIGNING_ENV
        .iter()
        .copied()
        .filter(|name| !pass.iter().any(|p| p == name))
        .collect()
}

/// Runs the step and builds its statement.
pub fn record_step(spec: &StepSpec, ctx: &StepContext<'_>) -> Result<StepOutcome> {
    let mut source = source::discover(ctx.cwd)?;
    let ci = CiContext::detect(ctx.env);
    // Products that were also materials, untouched by the command, are not read twice.
    let cache = HashCache::new(ctx.clock.now());
    let materials = hash_paths_cached(
        ctx.root,
        &from_cwd(ctx, &spec.materials),
        &spec.hashing,
        Some(&cache),
    )?;
    // What git vouches for is asked before the command runs, which could change the index.
    let (material_records, hidden) = material_descriptors(ctx.root, &materials, source.is_some())?;
    if let Some(src) = source.as_mut() {
        src.dirty |= hidden;
    }
    if spec.require_clean {
        match &source {
            Some(src) if src.dirty => return Err(Error::DirtyTree(src.root.clone())),
            Some(_) => {}
            None => return Err(Error::CleanTreeOutsideCheckout(ctx.cwd.to_path_buf())),
        }
    }

    let started = ctx.clock.now();
    let exit_code = run_command(&spec.command, ctx.cwd, &withheld_env(&spec.pass_env))?;
    let finished = ctx.clock.now();

    if exit_code != 0 && !spec.attest_failure {
        return Ok(StepOutcome {
            exit_code,
            statement: None,
            products: Vec::new(),
            materials,
            source,
        });
    }
    let products = hash_paths_cached(
        ctx.root,
        &from_cwd(ctx, &spec.products),
        &spec.hashing,
        Some(&cache),
    )?;
    // A step that produces nothing (tests, scans, linters) vouches for what it checked: its
    // materials become the subjects, so a policy can require the step over an artifact's inputs.
    let subjects = match (products.is_empty(), materials.is_empty()) {
        (false, _) => &products,
        (true, false) => &materials,
        (true, true) => return Err(Error::NoProducts(spec.name.clone())),
    };
    let record = StepRecord {
        step: &spec.name,
        command: redact::command(&spec.command, spec.record_command),
        command_recording: spec.record_command,
        working_directory: working_directory(ctx.cwd, source.as_ref()),
        env: allowed_env(ctx.env, &spec.env_allow),
        exit_code,
        materials: material_records,
        source: source.as_ref(),
        ci: &ci,
        started,
        finished,
    };
    let statement = Statement::new(
        subjects.iter().map(HashedFile::to_descriptor).collect(),
        SLSA_PROVENANCE_V1,
        record.provenance().to_value(),
    )?;
    Ok(StepOutcome {
        exit_code,
        statement: Some(statement),
        products,
        materials,
        source,
    })
}

/// The paths as the user wrote them (relative to the working directory), for hashing under the
/// root: unchanged when the root is the working directory (so a `..` out of it is refused as
/// written), else made absolute (they must then lead inside the root).
fn from_cwd(ctx: &StepContext<'_>, paths: &[PathBuf]) -> Vec<PathBuf> {
    if ctx.root == ctx.cwd {
        return paths.to_vec();
    }
    paths.iter().map(|p| ctx.cwd.join(p)).collect()
}

/// The materials as descriptors; in a checkout, files git cannot vouch for (untracked, ignored,
/// or hidden from `git status` by the index) are annotated `uncommitted: true`, so they are never
/// taken as read from the source. Returns whether a tracked material was hidden (the source
/// cannot be called clean then).
fn material_descriptors(
    cwd: &Path,
    materials: &[HashedFile],
    in_checkout: bool,
) -> Result<(Vec<hallmark_model::resource::ResourceDescriptor>, bool)> {
    let names: Vec<&str> = materials.iter().map(|m| m.name.as_str()).collect();
    // Inside a checkout, git must answer: without the answer every material would pass for source.
    let uncommitted = match in_checkout {
        true => crate::repository::uncommitted(cwd, &names)?.ok_or_else(|| {
            Error::Git(format!(
                "git could not list the untracked files under {}",
                cwd.display()
            ))
        })?,
        false => Default::default(),
    };
    let descriptors = materials
        .iter()
        .map(|m| {
            let mut d = m.to_descriptor();
            if uncommitted.untracked.contains(&m.name) || uncommitted.hidden.contains(&m.name) {
                d.annotations
                    .insert("uncommitted".to_owned(), serde_json::Value::Bool(true));
            }
            d
        })
        .collect();
    Ok((descriptors, !uncommitted.hidden.is_empty()))
}

fn working_directory(cwd: &Path, source: Option<&SourceInfo>) -> String {
    let relative = source.and_then(|s| {
        let root = s.root.canonicalize().ok()?;
        let cwd = cwd.canonicalize().ok()?;
        cwd.strip_prefix(root).ok().map(Path::to_path_buf)
    });
    match relative {
        Some(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Some(rel) => rel.to_string_lossy().replace('\\', "/"),
        None => ".".to_owned(),
    }
}

fn run_command(command: &[String], cwd: &Path, withheld: &[&str]) -> Result<i32> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::Context("no command given after --".to_owned()))?;
    let mut child = Command::new(program);
    child.args(args).current_dir(cwd);
    for name in withheld {
        child.env_remove(name);
    }
    let status = child.status().map_err(|source| Error::Spawn {
        command: program.clone(),
        source,
    })?;
    if let Some(code) = status.code() {
        return Ok(code);
    }
    use std::os::unix::process::ExitStatusExt;
    Ok(128 + status.signal().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallmark_model::clock::FixedClock;
    use std::time::{Duration, UNIX_EPOCH};

    fn spec(command: &str) -> StepSpec {
        StepSpec {
            name: "build".into(),
            materials: vec!["src".into()],
            products: vec!["out".into()],
            command: vec!["sh".into(), "-c".into(), command.into()],
            env_allow: vec!["CC".into(), "GH_TOKEN".into(), "REPO".into()],
            hashing: HashOptions::default(),
            attest_failure: false,
            require_clean: false,
            record_command: CommandRecording::Redacted,
            pass_env: Vec::new(),
        }
    }

    fn run(dir: &Path, spec: &StepSpec) -> Result<StepOutcome> {
        let env: Env = [
            ("CC", "gcc"),
            ("GH_TOKEN", "ghp_secret"),
            ("REPO", "https://u:pw@h/r"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let clock = FixedClock(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        record_step(
            spec,
            &StepContext {
                cwd: dir,
                root: dir,
                env: &env,
                clock: &clock,
            },
        )
    }

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/a.c"), "int a;").unwrap();
        dir
    }

    #[test]
    fn records_materials_products_command_and_env() {
        let dir = project();
        let out = run(dir.path(), &spec("mkdir -p out && cat src/a.c > out/app")).unwrap();
        assert_eq!(out.exit_code, 0);
        let st = out.statement.unwrap();
        assert_eq!(st.subject[0].name, "out/app");
        let p = st.predicate.unwrap();
        let ext = &p["buildDefinition"]["externalParameters"];
        assert_eq!(ext["step"], "build");
        assert_eq!(ext["command"][2], "mkdir -p out && cat src/a.c > out/app");
        assert_eq!(ext["env"]["CC"], "gcc");
        assert_eq!(ext["env"]["GH_TOKEN"], REDACTED);
        assert_eq!(ext["env"]["REPO"], "https://h/r");
        assert_eq!(
            p["buildDefinition"]["resolvedDependencies"][0]["name"],
            "src/a.c"
        );
        assert_eq!(p["buildDefinition"]["internalParameters"]["exitCode"], 0);
        assert_eq!(
            p["runDetails"]["metadata"]["startedOn"],
            "2023-11-14T22:13:20Z"
        );
        // Same product bytes as the material.
        assert_eq!(st.subject[0].digest, out.materials[0].digest);
    }

    #[test]
    fn failed_commands_are_not_attested_unless_asked() {
        let dir = project();
        let out = run(
            dir.path(),
            &spec("mkdir -p out && echo x > out/app; exit 3"),
        )
        .unwrap();
        assert_eq!(out.exit_code, 3);
        assert!(out.statement.is_none());
        let mut s = spec("mkdir -p out && echo x > out/app; exit 3");
        s.attest_failure = true;
        let out = run(dir.path(), &s).unwrap();
        let p = out.statement.unwrap().predicate.unwrap();
        assert_eq!(p["buildDefinition"]["internalParameters"]["exitCode"], 3);
    }

    #[test]
    fn a_step_without_products_attests_its_materials_and_one_without_either_is_an_error() {
        let dir = project();
        let out = run(dir.path(), &spec("mkdir -p out")).unwrap();
        let st = out.statement.unwrap();
        let names: Vec<&str> = st.subject.iter().map(|s| s.name.as_str()).collect();
        let materials: Vec<&str> = out.materials.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, materials);
        assert!(!names.is_empty());
        let mut nothing = spec("true");
        nothing.materials.clear();
        let err = run(dir.path(), &nothing).unwrap_err();
        assert!(matches!(err, Error::NoProducts(_)), "{err}");
    }
}
