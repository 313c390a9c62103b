//! `verify --emit-vsa`: sign the decision as a SLSA VSA, write it, and store it with the
//! artifact's attestations so that `verify --accept-vsa-from` finds it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use hallmark_attester::signer::Signer;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;
use hallmark_verifier::engine::Decision;
use hallmark_verifier::vsa::{InputAttestation, Summary, VSA_V1};

use crate::evidence::{Evidence, SourceArgs};
use crate::store::{BundleFormat, OutputArgs, SubjectMeta, save};

/// Signs and writes the VSA for `decision`, listing the chain's and the artifact's verified
/// attestations as its inputs.
pub fn emit(
    decision: &Decision,
    evidence: &Evidence,
    summary: &Summary,
    signer: &dyn Signer,
    out: &Path,
    sources: &SourceArgs,
) -> Result<()> {
    let mut inputs: Vec<InputAttestation> = decision
        .chain
        .iter()
        .flat_map(|c| &c.steps)
        .map(|s| InputAttestation {
            uri: s.origin.clone(),
            digest: s.id.clone(),
        })
        .collect();
    for report in decision.verdict.attestations() {
        if report.verified.is_some() && !inputs.iter().any(|i| i.digest == report.id) {
            inputs.push(InputAttestation {
                uri: report.origin.clone(),
                digest: report.id.clone(),
            });
        }
    }
    let resource = evidence.label();
    let subject = ResourceDescriptor {
        name: evidence
            .name
            .clone()
            .unwrap_or_else(|| "artifact".to_owned()),
        digest: evidence.digest.to_set(),
        ..Default::default()
    };
    let statement = Statement::new(
        vec![subject],
        VSA_V1.to_owned(),
        summary.predicate(&resource, &inputs)?,
    )?;
    let bundle = signer.sign_statement(&statement)?;
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let output = OutputArgs {
        output: Some(out.to_path_buf()),
        format: BundleFormat::Bundle,
        no_store: false,
    };
    let meta = BTreeMap::from([(statement.subject[0].name.clone(), SubjectMeta::file(0))]);
    let saved = save(
        &bundle,
        &statement,
        &meta,
        None,
        &sources.store,
        &output,
        &cwd,
    )?;
    eprintln!(
        "hallmark: VSA ({}) for {resource} signed by {}; written to {}",
        if summary.passed { "PASSED" } else { "FAILED" },
        signer.identity(),
        saved.place
    );
    Ok(())
}
