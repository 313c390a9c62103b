//! Compliance reports: verified supply-chain evidence mapped to controls (NIST SP 800-53 rev. 5:
//! SR-4, SR-11, SI-7, CM-14, CM-3, CM-8, SA-10, SR-3), for each what satisfied it, what is
//! missing and how fresh the evidence is; rendered as a self-contained HTML page, JSON, and
//! OSCAL assessment results.
//!
//! - [`evidence`]: the input, verified evidence grouped by artifact (the CLI fills it from the
//!   evidence index);
//! - [`controls`]: the controls, their official titles, and what evidence counts for each;
//! - [`assess`]: the mapping, evidence → [`assess::Report`];
//! - [`html`], [`oscal`]: the renderers (JSON is the report's serde form).
#![forbid(unsafe_code)]

pub mod assess;
pub mod controls;
pub mod evidence;
pub mod html;
pub mod oscal;
mod uuid;

/// What can go wrong making a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A control set this version does not know.
    #[error("unknown control set {0:?} (known: nist-800-53)")]
    UnknownControlSet(String),
    /// An OSCAL catalog that could not be read.
    #[error("OSCAL catalog: {0}")]
    Catalog(String),
}
