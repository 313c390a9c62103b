//! in-toto statements (`hallmark_model::statement::Statement::from_slice`), re-serialized.
#![no_main]

use hallmark_model::statement::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(statement) = Statement::from_slice(data) {
        let _ = statement.validate();
        if let Ok(json) = serde_json::to_vec(&statement) {
            let again = Statement::from_slice(&json).expect("a written statement parses");
            assert_eq!(statement, again, "statement changed over a round trip");
        }
    }
});
