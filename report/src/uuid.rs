//! Name-based UUIDs (RFC 9562 version 5), so the same evidence gives the same OSCAL document.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

/// Hallmark's namespace for report UUIDs (itself a v5 UUID of "hallmark.dev" in the DNS
/// namespace).
const NAMESPACE: [u8; 16] = [
    0x3f, 0x0b, 0x5c, 0x1e, 0x7a, 0x44, 0x5d, 0x2b, 0x9c, 0x61, 0x0e, 0x8d, 0x43, 0x2a, 0x77, 0x15,
];

/// The version 5 UUID of `name` in Hallmark's namespace. SHA-1 is what version 5 is defined
/// with; it names, it does not protect anything.
pub fn v5(name: &str) -> String {
    let mut input = NAMESPACE.to_vec();
    input.extend_from_slice(name.as_bytes());
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hallmark_model::hex::encode(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_a_stable_version_5_uuid() {
        let a = super::v5("report/sr-4");
        assert_eq!(a, super::v5("report/sr-4"));
        assert_ne!(a, super::v5("report/sr-11"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
