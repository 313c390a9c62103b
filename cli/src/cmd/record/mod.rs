//! `hallmark record`: signed records of what happened on the shop floor, stored and pushed like
//! every attestation. `record deployment` says an artifact was put into service on a target
//! (docs/deployment-v1.md); `record lot` says a production lot was made on a target during a
//! time window (docs/lot-v1.md). Together they trace a lot to the software that made it.

mod deployment;
mod gate;
mod history;
mod lot;

use anyhow::Result;

use crate::Outcome;

/// Arguments of `hallmark record`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: RecordCommand,
}

/// What to record.
#[derive(Debug, clap::Subcommand)]
pub enum RecordCommand {
    /// Record that an artifact was put into service on a target (SITE/LINE/ASSET).
    Deployment(Box<deployment::Args>),
    /// Record that a production lot was made on a target (SITE/LINE) during a time window.
    Lot(Box<lot::Args>),
}

/// Runs `hallmark record`.
pub fn run(args: Args) -> Result<Outcome> {
    match args.command {
        RecordCommand::Deployment(args) => deployment::run(*args),
        RecordCommand::Lot(args) => lot::run(*args),
    }
}

/// A field the model refuses, named by its flag (`--work-order must not be empty`).
fn flag_error(error: hallmark_model::Error) -> anyhow::Error {
    match error {
        // The lot's id is the positional ID, not a flag.
        hallmark_model::Error::Field { field, problem, .. } if field == "lot" => {
            anyhow::anyhow!("the lot ID {problem}")
        }
        hallmark_model::Error::Field { field, problem, .. } => {
            anyhow::anyhow!("--{} {problem}", flag_of(&field))
        }
        other => other.into(),
    }
}

/// The flag that sets a predicate field.
fn flag_of(field: &str) -> &str {
    match field {
        "workOrder" => "work-order",
        "lots" => "lot",
        other => other,
    }
}

/// `--FLAG TEXT` as an RFC 3339 time.
fn time(flag: &str, text: &str) -> Result<hallmark_model::time::Timestamp> {
    text.parse().map_err(|e| {
        anyhow::anyhow!(
            "--{flag} {}: {e} (an RFC 3339 time, e.g. 2026-11-26T06:00:00Z)",
            hallmark_model::text::printable(text)
        )
    })
}

/// `--target PATH`, checked.
fn target(text: &str) -> Result<hallmark_model::target::Target> {
    text.parse().map_err(|e: hallmark_model::Error| {
        let why = match e {
            hallmark_model::Error::Field {
                problem: hallmark_model::FieldProblem::Invalid(why),
                ..
            } => why,
            hallmark_model::Error::Field { problem, .. } => problem.to_string(),
            other => other.to_string(),
        };
        anyhow::anyhow!(
            "--target {}: {why} (SITE/LINE/ASSET, e.g. plant-a/line-3/hmi-2)",
            hallmark_model::text::printable(text)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_flag() {
        let e = target("plant a/line").unwrap_err().to_string();
        assert!(e.starts_with("--target plant a/line: segment"), "{e}");
        assert!(
            time("from", "yesterday")
                .unwrap_err()
                .to_string()
                .starts_with("--from yesterday")
        );
        let refused = hallmark_model::Error::Field {
            what: "deployment",
            field: "workOrder".to_owned(),
            problem: hallmark_model::FieldProblem::Empty,
        };
        assert!(flag_error(refused).to_string().starts_with("--work-order "));
    }
}
