//! OCI image manifests and indexes (`hallmark_remote::oci::{Manifest, Index}`), round-tripped.
#![no_main]

use hallmark_remote::oci::{Index, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = serde_json::from_slice::<Manifest>(data) {
        let json = serde_json::to_vec(&manifest).expect("a manifest serializes");
        let again: Manifest = serde_json::from_slice(&json).expect("a written manifest parses");
        assert_eq!(manifest, again, "manifest changed over a round trip");
    }
    if let Ok(index) = serde_json::from_slice::<Index>(data) {
        let json = serde_json::to_vec(&index).expect("an index serializes");
        let again: Index = serde_json::from_slice(&json).expect("a written index parses");
        assert_eq!(index, again, "index changed over a round trip");
    }
});
