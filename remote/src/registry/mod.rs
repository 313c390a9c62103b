//! OCI registries: references, a distribution client, and attestations as referrers.

pub mod attestations;
pub mod client;
pub mod cosign;
pub mod docker_config;
pub mod reference;
