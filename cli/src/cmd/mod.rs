//! One module per subcommand.

pub mod admission;
pub mod approve;
pub mod artifact;
pub mod attest;
pub mod audit;
pub mod bundle;
pub mod copy;
pub mod demo;
pub mod index;
pub mod inspect;
pub mod keygen;
pub mod policy;
pub mod push;
pub mod record;
pub mod report;
pub mod revoke;
pub mod run;
pub mod sbom;
pub mod trace;
pub mod trust;
pub mod verify;
pub mod verify_bundle;
