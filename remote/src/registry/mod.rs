//! OCI registries: references, a distribution client, and attestations as referrers.

pub mod client;
pub mod reference;
