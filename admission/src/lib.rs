//! Kubernetes admission decisions for Hallmark, without async and without a server: the
//! webhook (`hallmark-webhook`) and `hallmark admission` both call [`gate::Gate::review`], which
//! reaches every image's verdict through the verification engine
//! (`hallmark_verifier::engine::decide_within`), as `hallmark verify oci://…` does.
//!
//! - [`review`]: AdmissionReview `admission.k8s.io/v1` requests, parsed within size limits;
//! - [`workload`]: the images a Pod or a workload (Deployment, ReplicaSet, StatefulSet, DaemonSet,
//!   Job, CronJob, ReplicationController) would run, with where each stands in the object;
//! - [`image`]: container image references as Kubernetes writes them, and their pinned form;
//! - [`config`]: the gate's configuration file: trust, registries, rules (policy, mode,
//!   failOpen by namespace and image glob), exemptions, deadline, cache;
//! - [`target`]: one image reference into the engine's request and attestation sources;
//! - [`cache`]: verdicts by (image digest, policy digest, trust digest), with single-flight;
//! - [`gate`]: the decision on one review; [`response`]: the AdmissionReview answer and the
//!   JSONPatch that pins images to digests;
//! - [`error`]: why an image could not be decided, with stable codes.

#![forbid(unsafe_code)]

pub mod cache;
pub mod config;
pub mod error;
pub mod gate;
pub mod image;
pub mod response;
pub mod review;
pub mod target;
pub mod workload;

pub use error::Error;

/// The verifier's rejection and trust codes (`hallmark_verifier::ALL_CODES`), for callers that
/// label metrics with known codes only.
pub fn verifier_codes() -> &'static [&'static str] {
    hallmark_verifier::ALL_CODES
}
