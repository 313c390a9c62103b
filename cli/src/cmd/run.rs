//! `hallmark run`: record one build step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use hallmark_attester::ci::{CiContext, Env, process_env};
use hallmark_attester::hashing::{HashOptions, HashedFile, hash_paths};
use hallmark_attester::redact::CommandRecording;
use hallmark_attester::repository::{IgnoreRules, never_hashed};
use hallmark_attester::step::{SIGNING_ENV, StepContext, StepSpec, StepStatement, record_step};
use hallmark_model::clock::SystemClock;
use hallmark_model::digest::DigestAlgorithm;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::{PAYLOAD_TYPE, Statement};
use hallmark_model::test_result::{MAX_TEST_NAMES, TEST_RESULT_V0_1, TestNames, TestResult};
use hallmark_remote::layout::Subject;
use hallmark_remote::oci::FILE_MEDIA_TYPE;

use crate::Outcome;
use crate::progress::HashingBar;
use crate::signing::{SignArgs, read_limited};
use crate::store::{OutputArgs, StoreArgs, SubjectMeta, save, save_subjects};

/// Largest `--exclude-from` file read.
const MAX_EXCLUDE_FILE_BYTES: u64 = 1024 * 1024;

/// Hashing options shared by `run` and `attest`.
#[derive(Debug, Clone, clap::Args)]
pub struct HashArgs {
    /// Leave out paths matching GLOB (gitignore syntax, e.g. '*.o', 'target/'). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Read more --exclude GLOBs from FILE, one a line ('#' comments). Read once, before the
    /// command runs. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub exclude_from: Vec<PathBuf>,
    /// Also leave out what the .gitignore files committed at HEAD ignore (read from the commit
    /// with git, never from the working tree).
    #[arg(long)]
    pub gitignore: bool,
    /// Record SHA-512 digests as well as SHA-256.
    #[arg(long)]
    pub sha512: bool,
}

impl HashArgs {
    /// As library options for hashing names under `root`, for a command run in `cwd` (where
    /// the store is found); the repository's own .git and the store are left out, and nothing
    /// else by name.
    pub fn options(&self, root: &Path, cwd: &Path, store: &StoreArgs) -> Result<HashOptions> {
        let mut algorithms = vec![DigestAlgorithm::Sha256];
        if self.sha512 {
            algorithms.push(DigestAlgorithm::Sha512);
        }
        let mut excludes = self.exclude.clone();
        for file in &self.exclude_from {
            let text = String::from_utf8(read_limited(file, MAX_EXCLUDE_FILE_BYTES)?)
                .with_context(|| format!("--exclude-from {} is not UTF-8", file.display()))?;
            for line in text.lines().map(str::trim_end) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                anyhow::ensure!(
                    !line.starts_with('!'),
                    "--exclude-from {}: negated pattern {line:?} is not supported",
                    file.display()
                );
                excludes.push(line.to_owned());
            }
        }
        let ignores = if self.gitignore {
            Some(Arc::new(IgnoreRules::committed(root)?))
        } else {
            None
        };
        Ok(HashOptions {
            excludes,
            ignores,
            skip: never_hashed(root, Some(&cwd.join(store.dir(cwd)))),
            algorithms,
            progress: Arc::new(HashingBar::default()),
        })
    }
}

/// Arguments of `hallmark run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  hallmark run --step build -m src -p out --key k.key -- sh -c 'mkdir -p out && cat src/*.c > out/app'\n\n\
The command's stdin, stdout and stderr pass through. If it fails, nothing is signed and its exit code is returned \
(unless --attest-failure). Paths must really lie inside the current directory (symlinked directories are resolved; \
files are named where they really are) and names must be UTF-8. Only the repository's own .git and the store are \
left out; --gitignore reads the .gitignore files committed at HEAD, never those in the working tree."
)]
pub struct Args {
    /// Step name, recorded in the provenance and required by `verify --step`.
    #[arg(long, short = 'n')]
    pub step: String,
    /// Material: a file or directory the step reads. Repeatable.
    #[arg(long = "materials", short = 'm', value_name = "PATH")]
    pub materials: Vec<PathBuf>,
    /// Product: a file or directory the step writes; products become the subjects. Repeatable.
    #[arg(long = "products", short = 'p', value_name = "PATH")]
    pub products: Vec<PathBuf>,
    /// Record this environment variable's value (names that look secret are redacted). Repeatable.
    #[arg(long, value_name = "VAR")]
    pub env_allow: Vec<String>,
    /// Sign and store provenance even when the command fails (its exit code is recorded).
    #[arg(long)]
    pub attest_failure: bool,
    /// Refuse to run when tracked files have uncommitted changes.
    #[arg(long)]
    pub require_clean: bool,
    /// How much of the command line the signed provenance records: `redacted` removes URL
    /// credentials, values of secret-named flags and variables (--password=…, API_KEY=…) and
    /// token-shaped words; `full` records it verbatim; `none` records no command.
    #[arg(long, value_enum, value_name = "MODE", default_value = "redacted")]
    pub record_command: RecordCommand,
    /// Let the command see one of the variables Hallmark withholds from it because it signs
    /// with them (HALLMARK_KEY, HALLMARK_PASSWORD, HALLMARK_PKCS11_PIN, COSIGN_KEY, COSIGN_PASSWORD,
    /// SIGSTORE_ID_TOKEN, ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN). Insecure: the command could sign
    /// provenance of its own choosing. Repeatable; warns.
    #[arg(long, value_name = "VAR")]
    pub insecure_pass_signing_env: Vec<String>,
    /// This step runs tests: also sign an in-toto test-result (v0.1) over the materials it
    /// tested, PASSED when the command exits 0 and FAILED otherwise (record failures with
    /// --attest-failure). Implied by --test-config and --test-summary.
    #[arg(long)]
    pub test_result: bool,
    /// The test suite's configuration (a file or directory, repeatable), hashed into the
    /// test result's `configuration`.
    #[arg(long, value_name = "PATH")]
    pub test_config: Vec<PathBuf>,
    /// Test names the harness wrote, read after the command ran: JSON
    /// `{"passedTests": [...], "warnedTests": [...], "failedTests": [...]}`. A named failure makes
    /// the result FAILED, a warning WARNED.
    #[arg(long, value_name = "FILE")]
    pub test_summary: Option<PathBuf>,
    /// The directory material and product names are relative to, and must stay inside
    /// (default: the working directory). A monorepo job in `app/` that reads `../lib` passes
    /// `--root ..`: its names become `app/…` and `lib/…`. Never implied: a path that leaves the
    /// root is refused.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[command(flatten)]
    pub hashing: HashArgs,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// The command to run, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `--record-command`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordCommand {
    /// Secrets removed (default).
    Redacted,
    /// Verbatim.
    Full,
    /// Not recorded.
    None,
}

impl From<RecordCommand> for CommandRecording {
    fn from(mode: RecordCommand) -> Self {
        match mode {
            RecordCommand::Redacted => CommandRecording::Redacted,
            RecordCommand::Full => CommandRecording::Full,
            RecordCommand::None => CommandRecording::None,
        }
    }
}

/// Checks `--insecure-pass-signing-env` names and warns for each.
fn signing_env_passed(names: &[String]) -> Result<Vec<String>> {
    for name in names {
        if !SIGNING_ENV.contains(&name.as_str()) {
            anyhow::bail!(
                "--insecure-pass-signing-env {name}: only the variables Hallmark withholds can be passed \
                 ({}); every other variable reaches the command already",
                SIGNING_ENV.join(", ")
            );
        }
        eprintln!(
            "hallmark: warning: passing {name} to the build command (--insecure-pass-signing-env): \
             the command can use it to sign provenance of its own choosing"
        );
    }
    Ok(names.to_vec())
}

/// Runs `hallmark run`.
pub fn run(args: Args) -> Result<Outcome> {
    let pass_env = signing_env_passed(&args.insecure_pass_signing_env)?;
    if args
        .sign
        .sigstore
        .identity_token
        .as_deref()
        .is_some_and(|t| !t.starts_with('@'))
    {
        anyhow::bail!(
            "--identity-token TOKEN would be readable by the build command in Hallmark's own command \
             line (/proc/<pid>/cmdline); with `run`, pass it as --identity-token @FILE or in \
             $SIGSTORE_ID_TOKEN (which the command does not see)"
        );
    }
    // aws-lc seeds its random generator from CPU jitter (tens of ms of CPU) on first use, which
    // is the signature at the end; seeded now on a thread of its own, it overlaps the key load,
    // git and the walk instead.
    std::thread::spawn(hallmark_attester::signer::seed_random);
    // Load the key and obtain the identity token first: a wrong password fails before the build
    // runs, and the command never needs (or sees) what signing consumes.
    let signer = args.sign.signer()?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    let root = match &args.root {
        Some(dir) => cwd
            .join(dir)
            .canonicalize()
            .with_context(|| format!("--root {}", dir.display()))?,
        None => cwd.clone(),
    };
    let env = process_env();
    let spec = StepSpec {
        name: args.step.clone(),
        materials: args.materials,
        products: args.products,
        command: args.command,
        env_allow: args.env_allow,
        hashing: args.hashing.options(&root, &cwd, &args.store)?,
        attest_failure: args.attest_failure,
        require_clean: args.require_clean,
        record_command: args.record_command.into(),
        pass_env,
    };
    // The test configuration is hashed before the command runs: a suite that loosens its own
    // configuration, runs, and restores it must not get the reviewed one recorded.
    let wants_test =
        args.test_result || !args.test_config.is_empty() || args.test_summary.is_some();
    let test_configuration: Vec<ResourceDescriptor> = match wants_test {
        true => hash_paths(&cwd, &args.test_config, &HashOptions::default())?
            .iter()
            .map(HashedFile::to_descriptor)
            .collect(),
        false => Vec::new(),
    };
    let outcome = record_step(
        &spec,
        &StepContext {
            cwd: &cwd,
            root: &root,
            env: &env,
            clock: &SystemClock,
        },
    )?;
    let code = u8::try_from(outcome.exit_code.clamp(0, 255)).unwrap_or(1);
    let Some(statement) = outcome.statement else {
        eprintln!(
            "hallmark: step {:?}: command exited with {}; nothing attested (pass --attest-failure to record failures)",
            spec.name, outcome.exit_code
        );
        return Ok(Outcome::Code(code));
    };
    // The test result is read before anything is signed: a bad summary leaves nothing half-done.
    let test = match wants_test {
        true => Some(test_result(
            args.test_summary.as_deref(),
            test_configuration,
            outcome.exit_code,
            &env,
        )?),
        false => None,
    };
    let bundle = signer.sign_dsse(PAYLOAD_TYPE, statement.payload())?;
    drop(statement);
    // The subjects: the products, or for a step that produced none, its materials.
    let subjects = match outcome.products.is_empty() {
        true => &outcome.materials,
        false => &outcome.products,
    };
    let stored_subjects: Vec<Subject> = match args.output.no_store {
        true => Vec::new(),
        false => subjects
            .iter()
            .map(|f| Subject {
                digest: f.digest.sha256(),
                size: f.size,
                media_type: FILE_MEDIA_TYPE.to_owned(),
            })
            .collect(),
    };
    let saved = save_subjects(
        &bundle,
        StepStatement::PREDICATE_TYPE,
        &stored_subjects,
        Some(&spec.name),
        &args.store,
        &args.output,
        &cwd,
    )?;
    drop((stored_subjects, bundle));
    eprintln!(
        "hallmark: step {:?}: {}, {}; signed by {}; stored in {}",
        spec.name,
        count(outcome.materials.len(), "material"),
        count(outcome.products.len(), "product"),
        signer.identity(),
        saved.place
    );
    if let Some(result) = test {
        let tested = match outcome.materials.is_empty() {
            true => subjects,
            false => &outcome.materials,
        };
        let outcome_word = result.result;
        let statement = Statement::new(
            tested.iter().map(HashedFile::to_descriptor).collect(),
            TEST_RESULT_V0_1,
            result.to_value(),
        )?;
        let bundle = signer.sign_statement(&statement)?;
        let meta = file_meta(tested);
        // The test result goes to the store (never over --output, which holds the provenance).
        let store_only = OutputArgs {
            output: None,
            format: args.output.format,
            no_store: false,
        };
        let saved = save(
            &bundle,
            &statement,
            &meta,
            Some(&spec.name),
            &args.store,
            &store_only,
            &cwd,
        )?;
        eprintln!(
            "hallmark: step {:?}: test result {outcome_word:?} over {}; stored in {}",
            spec.name,
            count(tested.len(), "tested file"),
            saved.place
        );
    }
    Ok(if code == 0 {
        Outcome::Success
    } else {
        Outcome::Code(code)
    })
}

/// The store's per-subject metadata of hashed files: their sizes.
fn file_meta(files: &[HashedFile]) -> BTreeMap<String, SubjectMeta> {
    files
        .iter()
        .map(|f| (f.name.clone(), SubjectMeta::file(f.size)))
        .collect()
}

/// Largest `--test-summary` read.
const MAX_TEST_SUMMARY_BYTES: u64 = 16 * 1024 * 1024;

/// The test-result predicate of this run: its exit code, the harness's test names, the
/// configuration (hashed before the run, named relative to the working directory), and the CI
/// job as its URL.
fn test_result(
    summary: Option<&Path>,
    configuration: Vec<ResourceDescriptor>,
    exit_code: i32,
    env: &Env,
) -> Result<TestResult> {
    let names = match summary {
        Some(path) => {
            let names: TestNames =
                serde_json::from_slice(&read_limited(path, MAX_TEST_SUMMARY_BYTES)?).with_context(
                    || format!("--test-summary {}: expected {{\"passedTests\": [...], \"warnedTests\": [...], \"failedTests\": [...]}}", path.display()),
                )?;
            anyhow::ensure!(
                names.len() <= MAX_TEST_NAMES,
                "--test-summary {}: more than {MAX_TEST_NAMES} test names",
                path.display()
            );
            names
        }
        None => TestNames::default(),
    };
    let url = CiContext::detect(env).invocation_id();
    Ok(TestResult::of_run(exit_code, names, configuration, url))
}

/// `1 product`, `2 products`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
