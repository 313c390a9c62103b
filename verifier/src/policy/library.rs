//! The policy library (`policies/hallmark/`), built into the binary so that a declarative
//! policy needs no files besides itself.

/// The module that defines `config`; a declarative policy replaces it.
pub const CONFIG_MODULE: &str = "policies/hallmark/config.rego";

macro_rules! module {
    ($name:literal) => {
        (
            concat!("policies/hallmark/", $name),
            include_str!(concat!("../../../policies/hallmark/", $name)),
        )
    };
}

/// The library's modules (tests left out), by path.
pub const MODULES: &[(&str, &str)] = &[
    module!("config.rego"),
    module!("common.rego"),
    module!("baseline.rego"),
    module!("chain.rego"),
    module!("source.rego"),
    module!("signers.rego"),
    module!("sbom.rego"),
    module!("runners.rego"),
    module!("approvals.rego"),
    module!("deployments.rego"),
    module!("slsa.rego"),
];
