//! TLS-encoded SignedCertificateTimestampLists (`sct::parse_sct_list`, exposed for fuzzing).
#![no_main]

use hallmark_verifier::sigstore::sct::parse_sct_list;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_sct_list(data);
});
