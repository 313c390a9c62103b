//! DSSE envelopes (`hallmark_model::dsse::Envelope::from_slice`), with their PAE and a round trip.
#![no_main]

use hallmark_model::dsse::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_slice(data) {
        let signed = envelope.signed_bytes();
        if let Ok(json) = serde_json::to_vec(&envelope) {
            let again = Envelope::from_slice(&json).expect("a written envelope parses");
            assert_eq!(
                signed,
                again.signed_bytes(),
                "PAE changed over a round trip"
            );
        }
    }
});
