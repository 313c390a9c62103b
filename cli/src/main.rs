//! `hallmark`: record, sign, store and verify build provenance.
//!
//! Each subcommand parses its arguments, makes one library call and renders the result.
//! Exit codes: 0 allowed or succeeded, 1 denied, 2 error. `hallmark run` exits with the build
//! command's own code when the command fails.
#![forbid(unsafe_code)]

mod cmd;
mod coded;
mod evidence;
mod hint;
mod password;
mod pkcs11;
mod progress;
mod registry;
mod render;
mod revocations;
mod roots;
mod signing;
mod store;
mod vsa_out;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hallmark records what went into each build step, what ran and what came out, signs it as SLSA
/// provenance, stores it next to the artifact, and verifies it before anything ships.
#[derive(Debug, Parser)]
#[command(name = "hallmark", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Exit codes: 0 allowed/succeeded, 1 denied, 2 error.\n\
Store: --store DIR, else $HALLMARK_STORE, else .hallmark/store at the git root (or the current directory).\n\
Sigstore trust roots: --trusted-root FILE, else the last `hallmark trust update`, else the embedded public-good snapshot of 2025-09-22 (hallmark version).\n\
Docs: README.md, docs/ARCHITECTURE.md, docs/buildtypes/step-v1.md")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a signing key pair (NAME.key, NAME.pub), import a cosign key, or make one in a PKCS#11 token.
    Keygen(cmd::keygen::Args),
    /// Record one build step: hash materials, run the command, hash products, sign, store.
    Run(cmd::run::Args),
    /// Sign a one-shot attestation (whole-job provenance, an SBOM, or any predicate) about subjects.
    Attest(cmd::attest::Args),
    /// Push a file to a registry as an OCI artifact, so it can be attested there.
    PushArtifact(cmd::artifact::PushArtifactArgs),
    /// Fetch an artifact's attestations from a registry into the local store (for offline use).
    Pull(cmd::artifact::PullArgs),
    /// Copy an artifact with its attestations between registries and OCI layout directories.
    Copy(cmd::copy::Args),
    /// Push attestations from the local store to registries (`--pending` retries failed pushes).
    Push(cmd::push::Args),
    /// Evidence bundles for the air gap: export, import (verified first), inspect.
    Bundle(cmd::bundle::Args),
    /// Verify an artifact: its attestations, the chain of steps behind it, and a policy.
    Verify(Box<cmd::verify::Args>),
    /// Sign a release manager's approval of an artifact (change control as evidence).
    Approve(cmd::approve::Args),
    /// Record a deployment on a target or a production lot, signed (traceability on the shop floor).
    Record(cmd::record::Args),
    /// Sign a revocation list: artifacts, keys, keyless identities or vendors that no longer count.
    Revoke(Box<cmd::revoke::Args>),
    /// Show the verified provenance chain behind an artifact: a tree, JSON, Mermaid or DOT.
    Inspect(cmd::inspect::Args),
    /// The evidence index: verify attestations and index them (SQLite or PostgreSQL).
    Index(cmd::index::Args),
    /// Trace across the evidence index: commit/package → artifacts → deployments → lots, or back.
    Trace(cmd::trace::Args),
    /// Map the indexed evidence to controls (NIST SP 800-53): HTML, JSON or OSCAL.
    Report(Box<cmd::report::Args>),
    /// Compare what is installed or running with the evidence: unattested, unexpected,
    /// revoked, expired.
    Audit(Box<cmd::audit::Args>),
    /// Show the inventory of an artifact's verified SBOMs: components, versions, purls, licenses.
    Sbom(cmd::sbom::Args),
    /// Sigstore trust roots: refresh them through TUF (`update`), or show those in use (`show`).
    Trust(cmd::trust::Args),
    /// Policies: run their tests, evaluate one against an input, or explain a declarative policy.
    Policy(cmd::policy::Args),
    /// Verify one Sigstore bundle offline (keyless identity or key), as sigstore-conformance expects.
    VerifyBundle(cmd::verify_bundle::Args),
    /// Decide one Kubernetes AdmissionReview file the way hallmark-webhook would.
    Admission(cmd::admission::Args),
    /// Run the whole story in a temporary directory: build steps, verify, a policy, a VSA, tampering.
    Demo(cmd::demo::Args),
    /// Print the version.
    Version,
}

/// The outcome of a command, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Succeeded or allowed: exit 0.
    Success,
    /// Denied: exit 1.
    Denied,
    /// The build command's own exit code.
    Code(u8),
}

/// Keeps processes of the same user out of this one: with the process non-dumpable, the build
/// command `hallmark run` wraps (and anything else running as the same user) can neither read
/// /proc/<pid>/environ or /proc/<pid>/mem nor ptrace it, so the decrypted key, the password and
/// the identity token stay in Hallmark. Children get their own flag back at exec.
fn harden_process() {
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        eprintln!("hallmark: warning: could not make the process non-dumpable: {e}");
    }
}

fn main() -> ExitCode {
    harden_process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // A usage error of a command asked for JSON is answered in JSON too.
            let args: Vec<String> = std::env::args().skip(1).collect();
            let asked_json = args
                .windows(2)
                .any(|w| w[0] == "--format" && w[1] == "json");
            let schema = match args.first().map(String::as_str) {
                Some("verify") if asked_json => Some(render::VERIFY_SCHEMA),
                Some("inspect") if asked_json => Some(cmd::inspect::INSPECT_SCHEMA),
                Some("sbom") if asked_json => Some(cmd::sbom::SBOM_SCHEMA),
                Some("trust") if asked_json => Some(cmd::trust::TRUST_SCHEMA),
                Some("verify-bundle") if asked_json => {
                    Some(cmd::verify_bundle::VERIFY_BUNDLE_SCHEMA)
                }
                Some("policy") if args.get(1).is_some_and(|a| a == "eval") => {
                    Some(cmd::policy::POLICY_DECISION_SCHEMA)
                }
                _ => None,
            };
            if let Some(schema) = schema.filter(|_| e.use_stderr()) {
                let error = coded::coded("usage", e.kind().to_string());
                let doc = coded::error_document(schema, &error);
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            e.exit()
        }
    };
    // Commands asked for JSON answer an error in JSON too (on stdout, with its code).
    let json_schema = match &cli.command {
        Command::Verify(args) if args.format == render::Format::Json => Some(render::VERIFY_SCHEMA),
        Command::Inspect(args) if args.format == cmd::inspect::InspectFormat::Json => {
            Some(cmd::inspect::INSPECT_SCHEMA)
        }
        Command::Trust(args) if args.json() => Some(cmd::trust::TRUST_SCHEMA),
        Command::Sbom(args) if args.format == render::Format::Json => Some(cmd::sbom::SBOM_SCHEMA),
        Command::VerifyBundle(args) if args.format == render::Format::Json => {
            Some(cmd::verify_bundle::VERIFY_BUNDLE_SCHEMA)
        }
        Command::Bundle(args) => args.json_schema(),
        Command::Index(args) => args.json_schema(),
        Command::Trace(args) => args.json_schema(),
        Command::Audit(args) => args.json_schema(),
        Command::Policy(args)
            if matches!(args.command, cmd::policy::PolicyCommand::Eval { .. }) =>
        {
            Some(cmd::policy::POLICY_DECISION_SCHEMA)
        }
        _ => None,
    };
    let result = match cli.command {
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::Run(args) => cmd::run::run(args),
        Command::Attest(args) => cmd::attest::run(args),
        Command::Verify(args) => cmd::verify::run(*args),
        Command::Push(args) => cmd::push::run(args),
        Command::Copy(args) => cmd::copy::run(args),
        Command::Bundle(args) => cmd::bundle::run(args),
        Command::PushArtifact(args) => cmd::artifact::push_artifact(args),
        Command::Pull(args) => cmd::artifact::pull(args),
        Command::VerifyBundle(args) => cmd::verify_bundle::run(args),
        Command::Admission(args) => cmd::admission::run(args),
        Command::Policy(args) => cmd::policy::run(args),
        Command::Trust(args) => cmd::trust::run(args),
        Command::Approve(args) => cmd::approve::run(args),
        Command::Record(args) => cmd::record::run(args),
        Command::Revoke(args) => cmd::revoke::run(*args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Sbom(args) => cmd::sbom::run(args),
        Command::Index(args) => cmd::index::run(args),
        Command::Trace(args) => cmd::trace::run(args),
        Command::Report(args) => cmd::report::run(*args),
        Command::Audit(args) => cmd::audit::run(*args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Version => {
            println!("hallmark {}", env!("CARGO_PKG_VERSION"));
            println!(
                "embedded Sigstore trust root: public-good snapshot of {}",
                hallmark_verifier::sigstore::embedded::SNAPSHOT
            );
            Ok(Outcome::Success)
        }
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Denied) => ExitCode::from(1),
        Ok(Outcome::Code(code)) => ExitCode::from(code),
        Err(error) => {
            if let Some(schema) = json_schema {
                let doc = coded::error_document(schema, &error);
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            eprintln!("hallmark: error: {error:#}");
            if let Some(hint) = hint::for_error(&error) {
                eprintln!("hallmark: hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}
