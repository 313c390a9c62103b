//! `hallmark record lot`: a signed record that a production lot was made on a target during a
//! time window (docs/lot-v1.md). The subject is the lot itself: the name `lot:ID` and, as
//! digest, the SHA-256 of that name, so a lot is stored and found like any artifact.

use anyhow::{Result, bail};
use hallmark_attester::hashing::sha256;
use hallmark_model::lot::{LOT_V1, Lot, subject_name};

use super::super::attest;
use super::{flag_error, target, time};
use crate::Outcome;
use crate::registry::RegistryArgs;
use crate::signing::SignArgs;
use crate::store::{OutputArgs, StoreArgs};

/// Arguments of `hallmark record lot`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  hallmark record lot L-2026-0042 --target plant-a/line-3 \\\n    \
--from 2026-11-26T06:00:00Z --to 2026-11-26T14:00:00Z \\\n    \
--product valve-body-7 --work-order WO-118 --key line3.key\n\n\
The subject is the lot: name lot:L-2026-0042, digest the SHA-256 of that name (so\n\
`hallmark verify sha256:<hex>` and the evidence index find it). A lot made on SITE/LINE is\n\
traced to the software deployed on every asset under it (docs/lot-v1.md)."
)]
pub struct Args {
    /// The lot's id, e.g. L-2026-0042.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Where the lot was made: SITE/LINE (or SITE/LINE/ASSET); every asset under it counts.
    #[arg(long, value_name = "SITE/LINE")]
    pub target: String,
    /// When production of the lot started (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub from: String,
    /// When it ended (RFC 3339, not before --from).
    #[arg(long, value_name = "TIME")]
    pub to: String,
    /// The product made.
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,
    /// The work order, e.g. WO-2026-118.
    #[arg(long, value_name = "ID")]
    pub work_order: Option<String>,
    #[command(flatten)]
    pub sign: SignArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The predicate; a field the model refuses is named by its flag.
fn lot(args: &Args) -> Result<Lot> {
    let (from, to) = (time("from", &args.from)?, time("to", &args.to)?);
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    let lot = Lot {
        lot: args.id.clone(),
        target: target(&args.target)?,
        from,
        to,
        product: args.product.clone(),
        work_order: args.work_order.clone(),
    };
    lot.validate().map_err(flag_error)?;
    Ok(lot)
}

/// The subject argument `attest::publish` takes: `lot:ID@sha256:HEX`.
fn subject(id: &str) -> Result<String> {
    let name = subject_name(id);
    let spec = format!("{name}@{}", sha256(name.as_bytes()));
    // publish hashes an existing file of that name instead: never let one stand in for the lot.
    if std::path::Path::new(&spec).exists() {
        bail!("a file named {spec:?} is in the way of lot {id:?}; run from another directory");
    }
    Ok(spec)
}

/// Runs `hallmark record lot`.
pub fn run(args: Args) -> Result<Outcome> {
    // Before the signer: a bad flag costs no password prompt or token.
    let predicate = lot(&args)?.to_value();
    let attest_args = attest::Args::about(
        subject(&args.id)?,
        args.sign,
        args.store,
        args.output,
        None,
        RegistryArgs {
            allow_insecure_registry: Vec::new(),
            registry_ca: None,
        },
    );
    attest::publish(&attest_args, |_, _, _| Ok((LOT_V1.to_owned(), predicate)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_is_the_lot_name_and_its_sha256() {
        // sha256("lot:L-1"), computed independently: printf 'lot:L-1' | sha256sum
        assert_eq!(
            subject("L-1").unwrap(),
            "lot:L-1@sha256:0f390a45b3305406f0770bf8b6a0b59c72e18f47c08db21f8c4d85292f9cadba"
        );
    }
}
