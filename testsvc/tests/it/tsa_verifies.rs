//! The test TSA's timestamps pass Hallmark's RFC 3161 verifier, for the stamped bytes only.

use hallmark_remote::keyless::timestamp_request as request_for;
use hallmark_testsvc::tsa::TestTsa;
use hallmark_verifier::sigstore::error::TimestampError;
use hallmark_verifier::sigstore::timestamp::verify_timestamp;
use hallmark_verifier::sigstore::trust_root::CertificateAuthority;

#[test]
fn timestamps_verify_for_what_they_stamp() {
    let tsa = TestTsa::new().unwrap();
    let signature = b"a signature to stamp";
    let response = tsa.respond(&request_for(signature)).unwrap();
    let authority = CertificateAuthority {
        uri: "http://127.0.0.1/tsa".into(),
        chain: tsa.chain(),
        validity: None,
    };
    let time = verify_timestamp(&response, signature, std::slice::from_ref(&authority)).unwrap();
    let age = std::time::SystemTime::now().duration_since(time).unwrap();
    assert!(age.as_secs() < 60);
    let err = verify_timestamp(&response, b"other bytes", std::slice::from_ref(&authority));
    assert_eq!(err, Err(TimestampError::ImprintMismatch("SHA-256")));
    let stranger = TestTsa::new().unwrap();
    let other = CertificateAuthority {
        uri: "x".into(),
        chain: stranger.chain(),
        validity: None,
    };
    let err = verify_timestamp(&response, signature, &[other]).unwrap_err();
    assert_eq!(err.code(), "sigstore.timestamp.untrusted", "{err}");
}
