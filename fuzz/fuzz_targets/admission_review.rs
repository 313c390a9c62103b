//! Kubernetes AdmissionReview bodies (`hallmark_admission::review::Review::parse`).
#![no_main]

use hallmark_admission::review::Review;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Review::parse(data);
});
