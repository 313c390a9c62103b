//! X.509 leaf certificates as the verifier reads them (`LeafCertificate::parse`, DER), and the
//! precertificate SCT extraction (`verify_embedded_scts` with no trusted CT log).
#![no_main]

use hallmark_verifier::sigstore::certificate::LeafCertificate;
use hallmark_verifier::sigstore::sct::verify_embedded_scts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = LeafCertificate::parse(data);
    let _ = verify_embedded_scts(data, b"", &[]);
});
