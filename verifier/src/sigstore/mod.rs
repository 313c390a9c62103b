//! Sigstore bundle verification, offline, against a trust root the caller chooses.

pub mod certificate;
pub mod embedded;
pub mod error;
pub mod identity;
pub mod sct;
pub mod timestamp;
pub mod tlog;
pub mod trust_root;
pub mod verify;

pub use error::Error;
