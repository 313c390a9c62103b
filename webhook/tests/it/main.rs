//! The webhook as the API server meets it: the `hallmark-webhook` binary over HTTPS with a test
//! CA, real objects from `kubectl --dry-run=client -o json` wrapped in AdmissionReview v1, and a
//! real `docker-registry` holding signed and unsigned images.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod lifecycle;
mod manifests;
mod review;
