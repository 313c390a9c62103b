//! `hallmark bundle inspect`: what a bundle holds, read with the same checks as import (every
//! blob hashed; only blobs up to 16 MiB kept, in a temporary directory) but without verifying
//! its signature.

use std::path::PathBuf;

use anyhow::{Context, Result};
use hallmark_model::limits::MAX_BUNDLE_BYTES;
use hallmark_model::text::printable;
use hallmark_remote::evidence::archive::{self, Limits};
use hallmark_remote::evidence::manifest::Role;
use hallmark_remote::evidence::staged::Staged;
use serde_json::json;

use super::coded;
use crate::Outcome;
use crate::render::Format;

/// `schemaVersion` of `bundle inspect --format json`.
pub const INSPECT_SCHEMA: &str = "https://hallmark.dev/schemas/evidence-bundle-inspect/v1";

/// Arguments of `hallmark bundle inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The bundle (a tar written by `hallmark bundle export`).
    #[arg(value_name = "FILE.tar")]
    pub bundle: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Runs `hallmark bundle inspect`.
pub fn run(args: Args) -> Result<Outcome> {
    let file = std::fs::File::open(&args.bundle)
        .with_context(|| format!("opening {}", args.bundle.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(".hallmark-inspect-")
        .tempdir()
        .context("creating a temporary directory")?;
    // Every blob is hashed, but only the small ones (manifests, attestations) are kept.
    let limits = Limits {
        keep_blobs_up_to: Some(MAX_BUNDLE_BYTES),
        ..Limits::default()
    };
    let unpacked = archive::unpack(file, scratch.path(), &limits, |_| {}).map_err(coded)?;
    let staged = Staged::open(scratch.path(), unpacked).map_err(coded)?;
    let manifest = staged.manifest().map_err(coded)?;
    let (digest, size) = staged.archive();
    let mut attestations = Vec::new();
    for blob in manifest.blobs_of(Role::Attestation) {
        let path = scratch
            .path()
            .join("blobs/sha256")
            .join(blob.digest.trim_start_matches("sha256:"));
        let Ok(bytes) = crate::signing::read_limited(&path, MAX_BUNDLE_BYTES) else {
            continue;
        };
        let Some(claim) = hallmark_verifier::chain::claim(&bytes) else {
            continue;
        };
        let subjects: Vec<String> = claim
            .statement
            .subject
            .iter()
            .filter_map(|s| s.digest.get("sha256").map(|h| format!("sha256:{h}")))
            .take(5)
            .collect();
        attestations.push(json!({
            "digest": blob.digest,
            "predicateType": claim.statement.predicate_type,
            "subjects": subjects,
        }));
    }
    let revocations: Vec<_> = manifest.blobs_of(Role::RevocationList).collect();
    if args.format == Format::Json {
        let doc = json!({
            "schemaVersion": INSPECT_SCHEMA,
            "archive": {"digest": digest, "size": size},
            "manifestDigest": staged.manifest_digest,
            "signatureVerified": false,
            "manifest": manifest,
            "attestations": attestations,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(Outcome::Success);
    }
    println!("bundle {} ({digest}, {size} bytes)", args.bundle.display());
    println!(
        "  created {} by {} (claimed; `hallmark bundle import` checks the signature)",
        printable(&manifest.created),
        printable(&manifest.exporter)
    );
    println!("  manifest {}", staged.manifest_digest);
    println!("artifacts:");
    for a in &manifest.artifacts {
        println!("  {:?} {} {}", a.kind, printable(&a.name), a.digest);
    }
    println!("attestations: {}", attestations.len());
    for a in &attestations {
        println!(
            "  {} {}",
            a["predicateType"]
                .as_str()
                .map(printable)
                .unwrap_or_default(),
            a["subjects"][0].as_str().unwrap_or_default()
        );
    }
    if let Some(root) = &manifest.trust_root {
        println!(
            "trust root: {} ({}{})",
            root.digest,
            printable(&root.origin),
            root.date
                .as_deref()
                .map(|d| format!(", {}", printable(d)))
                .unwrap_or_default()
        );
    }
    for key in manifest.blobs_of(Role::Key) {
        println!(
            "key: {} {}",
            printable(key.name.as_deref().unwrap_or("")),
            key.digest
        );
    }
    if let Some(policy) = &manifest.policy {
        println!("policy: {} {}", printable(&policy.name), policy.digest);
    }
    for r in revocations {
        println!(
            "revocation list: {} {}",
            printable(r.name.as_deref().unwrap_or("")),
            r.digest
        );
    }
    let total: u64 = manifest.blobs.iter().map(|b| b.size).sum();
    println!("{} blobs, {total} bytes", manifest.blobs.len());
    Ok(Outcome::Success)
}
