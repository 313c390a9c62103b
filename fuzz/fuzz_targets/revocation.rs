//! Revocation lists (`hallmark_model::revocation::RevocationList::from_value`), round-tripped.
#![no_main]

use hallmark_model::revocation::RevocationList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(list) = RevocationList::from_value(&value) {
        let _ = list.subject_name();
        let _ = list.content_bytes();
        let again = RevocationList::from_value(&list.to_value()).expect("a written list parses");
        assert_eq!(
            list.to_value(),
            again.to_value(),
            "list changed over a round trip"
        );
    }
});
