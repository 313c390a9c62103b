//! Recording one build step: hash the materials, run the command, hash the products, and build the
//! step's statement. Signing and storing are the caller's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_model::clock::Clock;
use hallmark_model::provenance::SLSA_PROVENANCE_V1;
use hallmark_model::statement::{STATEMENT_V1, Statement, check_subject_name};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::ci::{CiContext, Env};
use crate::hashing::{
    HashCache, HashOptions, HashedFile, hash_listing, hash_paths_cached, list_paths,
};
use crate::provenance::step::StepRecord;
use crate::redact::{self, CommandRecording};
use crate::repository::Uncommitted;
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
    pub statement: Option<StepStatement>,
    /// The hashed products.
    pub products: Vec<HashedFile>,
    /// The hashed materials.
    pub materials: Vec<HashedFile>,
    /// The git source, if any.
    pub source: Option<SourceInfo>,
}

/// A step's in-toto statement (SLSA provenance v1), serialized once, straight from the hashed
/// files: a step over 20,000 files never holds 40,000 descriptors or a JSON document tree. The
/// bytes are those `serde_json::to_vec` writes for the equivalent [`Statement`].
#[derive(Debug, Clone)]
pub struct StepStatement {
    payload: Vec<u8>,
}

impl StepStatement {
    /// The statement's predicate type.
    pub const PREDICATE_TYPE: &'static str = SLSA_PROVENANCE_V1;

    /// The serialized statement: the DSSE payload to sign.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The statement, parsed back (for inspection; signing uses [`Self::payload`]).
    pub fn parse(&self) -> Result<Statement> {
        Ok(Statement::from_slice(&self.payload)?)
    }
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

/// What git said about the source and the materials, asked while the materials are hashed.
struct GitAnswers {
    source: Option<SourceInfo>,
    uncommitted: Option<Uncommitted>,
}

/// Runs the step and builds its statement.
pub fn record_step(spec: &StepSpec, ctx: &StepContext<'_>) -> Result<StepOutcome> {
    let ci = CiContext::detect(ctx.env);
    // Products that were also materials, untouched by the command, are not read twice.
    let cache = HashCache::new(ctx.clock.now());
    let listing = list_paths(
        ctx.root,
        &from_cwd(ctx, &spec.materials),
        &spec.hashing,
        Some(&cache),
    )?;
    let names: Vec<String> = listing.names().map(str::to_owned).collect();
    // git runs in its own processes: asking it while the materials are hashed costs no wall
    // time. What git vouches for is still asked before the command runs, which could change
    // the index.
    let (materials, git) = std::thread::scope(|scope| {
        let git = scope.spawn(|| -> Result<GitAnswers> {
            let source = source::discover(ctx.cwd)?;
            let uncommitted = match source {
                Some(_) => Some(uncommitted_materials(ctx.root, &names)?),
                None => None,
            };
            Ok(GitAnswers {
                source,
                uncommitted,
            })
        });
        let materials = hash_listing(listing, &spec.hashing, Some(&cache));
        let git = git
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (materials, git)
    });
    let materials = materials?;
    let GitAnswers {
        mut source,
        uncommitted,
    } = git?;
    drop(names);
    // In a checkout, files git cannot vouch for (untracked, ignored, or hidden from `git status`
    // by the index) are annotated `uncommitted: true`, so they are never taken as read from the
    // source; a hidden tracked material makes the source dirty.
    let uncommitted = uncommitted.unwrap_or_default();
    let flags: Vec<bool> = materials
        .iter()
        .map(|m| uncommitted.untracked.contains(&m.name) || uncommitted.hidden.contains(&m.name))
        .collect();
    if let Some(src) = source.as_mut() {
        src.dirty |= !uncommitted.hidden.is_empty();
    }
    drop(uncommitted);
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
    drop(cache);
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
        // The materials are written by `statement_payload`, straight from the hashed files.
        materials: Vec::new(),
        source: source.as_ref(),
        ci: &ci,
        started,
        finished,
    };
    let payload = statement_payload(subjects, &record, &materials, &flags)?;
    Ok(StepOutcome {
        exit_code,
        statement: Some(StepStatement { payload }),
        products,
        materials,
        source,
    })
}

/// Which of the materials `names` git cannot vouch for (see [`crate::repository::uncommitted`]);
/// inside a checkout git must answer, or every material would pass for source.
fn uncommitted_materials(root: &Path, names: &[String]) -> Result<Uncommitted> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::repository::uncommitted(root, &names)?.ok_or_else(|| {
        Error::Git(format!(
            "git could not list the untracked files under {}",
            root.display()
        ))
    })
}

/// One material as the provenance lists it, in the key order of the JSON document tree the
/// statement used to be built from (sorted): `annotations`, `digest`, `name`.
struct MaterialJson<'a> {
    file: &'a HashedFile,
    uncommitted: bool,
}

impl Serialize for MaterialJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if self.uncommitted {
            map.serialize_entry("annotations", &Uncommitted1)?;
        }
        map.serialize_entry("digest", &self.file.digest)?;
        map.serialize_entry("name", &self.file.name)?;
        map.end()
    }
}

/// `{"uncommitted": true}`.
struct Uncommitted1;

impl Serialize for Uncommitted1 {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("uncommitted", &true)?;
        map.end()
    }
}

/// One subject, in a ResourceDescriptor's field order: `name`, `digest`.
struct SubjectJson<'a>(&'a HashedFile);

impl Serialize for SubjectJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &self.0.name)?;
        map.serialize_entry("digest", &self.0.digest)?;
        map.end()
    }
}

/// A JSON object written as it is, except that the array under `buildDefinition` →
/// `resolvedDependencies` is followed by the materials.
struct WithMaterials<'a> {
    value: &'a Value,
    depth: u8,
    materials: &'a [HashedFile],
    flags: &'a [bool],
}

impl Serialize for WithMaterials<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let Value::Object(object) = self.value else {
            return self.value.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(object.len()))?;
        for (key, value) in object {
            match (self.depth, key.as_str(), value) {
                (0, "buildDefinition", _) => map.serialize_entry(
                    key,
                    &WithMaterials {
                        depth: 1,
                        value,
                        ..*self
                    },
                )?,
                (1, "resolvedDependencies", Value::Array(listed)) => map.serialize_entry(
                    key,
                    &Dependencies {
                        listed,
                        materials: self.materials,
                        flags: self.flags,
                    },
                )?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// The resolved dependencies: those listed (the source), then the materials.
struct Dependencies<'a> {
    listed: &'a [Value],
    materials: &'a [HashedFile],
    flags: &'a [bool],
}

impl Serialize for Dependencies<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.listed.len() + self.materials.len()))?;
        for value in self.listed {
            seq.serialize_element(value)?;
        }
        for (file, uncommitted) in self.materials.iter().zip(self.flags) {
            seq.serialize_element(&MaterialJson {
                file,
                uncommitted: *uncommitted,
            })?;
        }
        seq.end()
    }
}

/// The statement of `record` (whose own materials are empty) over `subjects`, with `materials`
/// (annotated `uncommitted` where `flags` says so) as resolved dependencies after the source:
/// the bytes `serde_json::to_vec` writes for the [`Statement`] built from descriptors and a
/// document tree, validated by the same rules, without building either.
fn statement_payload(
    subjects: &[HashedFile],
    record: &StepRecord<'_>,
    materials: &[HashedFile],
    flags: &[bool],
) -> Result<Vec<u8>> {
    if subjects.is_empty() {
        return Err(hallmark_model::Error::NoSubjects.into());
    }
    for subject in subjects {
        check_subject_name(&subject.name)?;
    }
    let mut predicate = record.provenance().to_value();
    // The key the materials go under, made present (empty) when the source gave none.
    if let Some(definition) = predicate
        .get_mut("buildDefinition")
        .and_then(Value::as_object_mut)
        .filter(|_| !materials.is_empty())
    {
        definition
            .entry("resolvedDependencies")
            .or_insert_with(|| Value::Array(Vec::new()));
    }
    let statement = StatementJson {
        subjects,
        predicate: WithMaterials {
            value: &predicate,
            depth: 0,
            materials,
            flags,
        },
    };
    serde_json::to_vec(&statement)
        .map_err(|e| Error::Context(format!("writing the statement: {e}")))
}

/// An in-toto Statement v1 in [`Statement`]'s field order.
struct StatementJson<'a> {
    subjects: &'a [HashedFile],
    predicate: WithMaterials<'a>,
}

impl Serialize for StatementJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Subjects<'a>(&'a [HashedFile]);
        impl Serialize for Subjects<'_> {
            fn serialize<S: Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(SubjectJson))
            }
        }
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("_type", STATEMENT_V1)?;
        map.serialize_entry("subject", &Subjects(self.subjects))?;
        map.serialize_entry("predicateType", SLSA_PROVENANCE_V1)?;
        map.serialize_entry("predicate", &self.predicate)?;
        map.end()
    }
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
    use hallmark_model::resource::ResourceDescriptor;
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
        let st = out.statement.unwrap().parse().unwrap();
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
        assert_eq!(st.subject[0].digest, out.materials[0].digest.to_set());
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
        let p = out.statement.unwrap().parse().unwrap().predicate.unwrap();
        assert_eq!(p["buildDefinition"]["internalParameters"]["exitCode"], 3);
    }

    #[test]
    fn a_step_without_products_attests_its_materials_and_one_without_either_is_an_error() {
        let dir = project();
        let out = run(dir.path(), &spec("mkdir -p out")).unwrap();
        let st = out.statement.unwrap().parse().unwrap();
        let names: Vec<&str> = st.subject.iter().map(|s| s.name.as_str()).collect();
        let materials: Vec<&str> = out.materials.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, materials);
        assert!(!names.is_empty());
        let mut nothing = spec("true");
        nothing.materials.clear();
        let err = run(dir.path(), &nothing).unwrap_err();
        assert!(matches!(err, Error::NoProducts(_)), "{err}");
    }

    fn hashed(name: &str, byte: u8) -> HashedFile {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), [byte; 3]).unwrap();
        let mut file = crate::hashing::hash_paths(
            dir.path(),
            &[PathBuf::from("f")],
            &HashOptions {
                algorithms: vec![hallmark_model::digest::DigestAlgorithm::Sha512],
                ..Default::default()
            },
        )
        .unwrap()
        .remove(0);
        file.name = name.to_owned();
        file
    }

    /// The statement written straight from the hashed files is, byte for byte, the one built
    /// from descriptors and a JSON document tree (what was signed before), with and without a
    /// source, uncommitted materials, and SHA-512 digests.
    #[test]
    fn the_statement_is_written_as_the_document_tree_would_be() {
        let env: Env = [("GITHUB_ACTIONS", "true"), ("GITHUB_SHA", "abc")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let ci = CiContext::detect(&env);
        let source = SourceInfo {
            root: PathBuf::from("/src"),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            git_ref: Some("refs/heads/main".into()),
            remote_url: Some("https://h/r".into()),
            dirty: true,
        };
        let materials = vec![hashed("src/a.c", 1), hashed("src/b \"q\".c", 2)];
        let products = vec![hashed("out/app", 3)];
        for (source, flags, materials) in [
            (Some(&source), vec![false, true], materials.clone()),
            (None, vec![true, false], materials.clone()),
            (None, vec![], vec![]),
            (Some(&source), vec![], vec![]),
        ] {
            let record = |materials: Vec<ResourceDescriptor>| StepRecord {
                step: "build",
                command: Some(vec!["make".into()]),
                command_recording: CommandRecording::Redacted,
                working_directory: ".".into(),
                env: BTreeMap::from([("CC".into(), "gcc".into())]),
                exit_code: 0,
                materials,
                source,
                ci: &ci,
                started: UNIX_EPOCH,
                finished: UNIX_EPOCH + Duration::from_secs(3),
            };
            let descriptors = materials
                .iter()
                .zip(&flags)
                .map(|(m, flag)| {
                    let mut d = m.to_descriptor();
                    if *flag {
                        d.annotations
                            .insert("uncommitted".into(), Value::Bool(true));
                    }
                    d
                })
                .collect();
            let tree = Statement::new(
                products.iter().map(HashedFile::to_descriptor).collect(),
                SLSA_PROVENANCE_V1,
                record(descriptors).provenance().to_value(),
            )
            .unwrap();
            let written =
                statement_payload(&products, &record(Vec::new()), &materials, &flags).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(serde_json::to_vec(&tree).unwrap()).unwrap()
            );
        }
    }

    /// A product that was a material and is rewritten by the command, with its size and mtime
    /// restored, is hashed again, not taken from the cache: its ctime changed.
    #[test]
    fn a_file_the_command_rewrites_is_hashed_again() {
        let dir = project();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("out/app"), "old").unwrap();
        let mut s = spec(
            "touch -r out/app out/.ref && printf new > out/app && touch -r out/.ref out/app && rm out/.ref",
        );
        s.materials = vec!["src".into(), "out".into()];
        let env = Env::new();
        // A step that starts well after the files were written: the material pass caches them
        // (they are past the racy margin), so only the stamp check can catch the rewrite.
        let clock = FixedClock(std::time::SystemTime::now() + Duration::from_secs(60));
        let out = record_step(
            &s,
            &StepContext {
                cwd: dir.path(),
                root: dir.path(),
                env: &env,
                clock: &clock,
            },
        )
        .unwrap();
        let material = out.materials.iter().find(|m| m.name == "out/app").unwrap();
        let product = out.products.iter().find(|p| p.name == "out/app").unwrap();
        assert_eq!(material.digest.sha256(), crate::hashing::sha256(b"old"));
        assert_eq!(product.digest.sha256(), crate::hashing::sha256(b"new"));
        let st = out.statement.unwrap().parse().unwrap();
        assert_eq!(st.subject.len(), 1);
        assert_eq!(st.subject[0].digest, product.digest.to_set());
    }
}
