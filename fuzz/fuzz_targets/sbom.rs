//! SBOM documents: format detection and inventory (`hallmark_model::sbom`), and the schema
//! validator of `hallmark_sbom::check_bytes` for documents that parse as JSON.
#![no_main]

use hallmark_model::sbom::detect;
use hallmark_model::sbom::inventory::Inventory;
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 3] = [
    "https://cyclonedx.org/bom",
    "https://spdx.dev/Document/v2.3",
    "https://example.com/other",
];

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(detected) = detect(&doc) {
        let _ = Inventory::read(detected, &doc, 64);
    }
    for predicate_type in TYPES {
        let _ = Inventory::from_predicate(predicate_type, &doc);
    }
    let _ = hallmark_sbom::check_bytes(data);
});
