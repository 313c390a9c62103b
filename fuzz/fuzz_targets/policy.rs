//! Declarative policies (`Policy::load` on a `.yaml` file: the YAML parser and the policy
//! compiler). The input is written to one file per process, rewritten for each run.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use hallmark_verifier::policy::Policy;
use libfuzzer_sys::fuzz_target;

static DIR: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));
static FILE: LazyLock<PathBuf> = LazyLock::new(|| DIR.path().join("policy.yaml"));

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*FILE, data).expect("the policy file is writable");
    let _ = Policy::load(&FILE, false);
});
