//! RFC 3161 timestamp tokens and TimeStampResps (`verify_timestamp`: parsing, the imprint and the
//! signed attributes run before the authorities are needed). The first byte picks the signed
//! bytes so that the imprint check can pass.
#![no_main]

use hallmark_verifier::sigstore::timestamp::verify_timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = verify_timestamp(data, b"", &[]);
    if let Some((split, rest)) = data.split_first() {
        let at = usize::from(*split).min(rest.len());
        let (signed, token) = rest.split_at(at);
        let _ = verify_timestamp(token, signed, &[]);
    }
});
