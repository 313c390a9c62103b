//! Sigstore bundles (`hallmark_model::bundle::Bundle::from_slice`), re-serialized and re-parsed.
#![no_main]

use hallmark_model::bundle::Bundle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = Bundle::from_slice(data) {
        // What the model writes, it must read back to the same bundle.
        let json = bundle.to_json();
        if let Ok(again) = Bundle::from_slice(&json) {
            assert_eq!(json, again.to_json(), "bundle JSON is not stable");
        }
    }
});
