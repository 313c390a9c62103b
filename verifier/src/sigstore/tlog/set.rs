//! The signed entry timestamp (SET): Rekor v1's signature over the entry and its time.

use crate::keys::PublicKey;
use crate::sigstore::error::SetError;

/// The RFC 8785 (JCS) canonical JSON the SET signs: keys sorted, no whitespace. Every value is a
/// base64 or hex string, or an integer, so no escaping is ever needed.
pub fn set_payload(
    body_base64: &str,
    integrated_time: i64,
    log_id_hex: &str,
    log_index: i64,
) -> String {
    format!(
        r#"{{"body":"{body_base64}","integratedTime":{integrated_time},"logID":"{log_id_hex}","logIndex":{log_index}}}"#
    )
}

/// Verifies a SET with the log's key.
pub fn verify_set(
    signature: &[u8],
    key: &PublicKey,
    body_base64: &str,
    integrated_time: i64,
    log_id_hex: &str,
    log_index: i64,
) -> Result<(), SetError> {
    let payload = set_payload(body_base64, integrated_time, log_id_hex, log_index);
    if key.verify(payload.as_bytes(), signature) {
        Ok(())
    } else {
        Err(SetError::Signature)
    }
}
