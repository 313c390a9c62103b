//! Vendor profiles (`VendorProfiles::load` on a YAML file). The input is written to one file per
//! process, rewritten for each run.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use hallmark_verifier::vendor::VendorProfiles;
use libfuzzer_sys::fuzz_target;

static DIR: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));
static FILE: LazyLock<PathBuf> = LazyLock::new(|| DIR.path().join("vendor.yaml"));

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*FILE, data).expect("the profile file is writable");
    let _ = VendorProfiles::load(&FILE);
});
