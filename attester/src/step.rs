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
use crate::source::{self, SourceInfo};
use crate::{Error, Result};

/// Placeholder recorded instead of the value of an allowed variable whose name looks secret.
pub const REDACTED: &str = "[REDACTED]";

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
}

/// Where and when the step runs.
pub struct StepContext<'a> {
    /// The working directory: paths are relative to it and must stay inside it.
    pub cwd: &'a Path,
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

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PRIVATE",
        "CREDENTIAL",
        "API_KEY",
        "APIKEY",
    ]
    .iter()
    .any(|marker| upper.contains(marker))
}

/// The allowed variables and their values; values of secret-looking names are redacted.
pub fn allowed_env(env: &Env, allow: &[String]) -> BTreeMap<String, String> {
    allow
        .iter()
        .filter_map(|name| {
            let value = env.get(name)?;
            let recorded = if looks_secret(name) {
                REDACTED.to_owned()
            } else {
                source::strip_credentials(value)
            };
            Some((name.clone(), recorded))
        })
        .collect()
}

/// Runs the step and builds its statement.
pub fn record_step(spec: &StepSpec, ctx: &StepContext<'_>) -> Result<StepOutcome> {
    let source = source::discover(ctx.cwd)?;
    if spec.require_clean {
        match &source {
            Some(src) if src.dirty => return Err(Error::DirtyTree(src.root.clone())),
            Some(_) => {}
            None => {
                return Err(Error::Git(format!(
                    "--require-clean: {} is not in a git checkout",
                    ctx.cwd.display()
                )));
            }
        }
    }
    let ci = CiContext::detect(ctx.env);
    // Products that were also materials, untouched by the command, are not read twice.
    let cache = HashCache::new(ctx.clock.now());
    let materials = hash_paths_cached(ctx.cwd, &spec.materials, &spec.hashing, Some(&cache))?;

    let started = ctx.clock.now();
    let exit_code = run_command(&spec.command, ctx.cwd)?;
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
    let products = hash_paths_cached(ctx.cwd, &spec.products, &spec.hashing, Some(&cache))?;
    if products.is_empty() {
        return Err(Error::NoProducts(spec.name.clone()));
    }
    let record = StepRecord {
        step: &spec.name,
        command: &spec.command,
        working_directory: working_directory(ctx.cwd, source.as_ref()),
        env: allowed_env(ctx.env, &spec.env_allow),
        exit_code,
        materials: materials.iter().map(HashedFile::to_descriptor).collect(),
        source: source.as_ref(),
        ci: &ci,
        started,
        finished,
    };
    let statement = Statement::new(
        products.iter().map(HashedFile::to_descriptor).collect(),
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

fn run_command(command: &[String], cwd: &Path) -> Result<i32> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::Context("no command given after --".to_owned()))?;
    let status = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .status()
        .map_err(|source| Error::Spawn {
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
    fn a_step_without_products_is_an_error() {
        let dir = project();
        let err = run(dir.path(), &spec("mkdir -p out")).unwrap_err();
        assert!(matches!(err, Error::NoProducts(_)), "{err}");
    }
}
