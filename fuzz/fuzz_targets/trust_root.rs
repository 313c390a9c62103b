//! Sigstore trust roots (`TrustRoot::from_json`, `TrustRoots::from_json` for JSON lines).
#![no_main]

use hallmark_verifier::sigstore::trust_root::{TrustRoot, TrustRoots};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = TrustRoot::from_json(data);
    let _ = TrustRoots::from_json(data);
});
