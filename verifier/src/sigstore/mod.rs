//! Sigstore bundle verification, offline, against a trust root the caller chooses.

pub mod sct;
pub mod timestamp;
pub mod trust_root;
