//! Serde helpers for base64 byte fields. Writes standard base64 with padding; reads standard
//! or URL-safe, padded or not, as the DSSE and protobuf-JSON specifications allow.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserializer, Serializer};

/// Decodes standard or URL-safe base64, with or without padding.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    // Line breaks inside base64 are ignored, as Go's and Python's decoders do.
    let owned;
    // A byte scan: matching a set of chars walks the text char by char.
    let text = if text.bytes().any(|b| b == b'\n' || b == b'\r') {
        owned = text.replace(['\n', '\r'], "");
        owned.as_str()
    } else {
        text
    };
    STANDARD.decode(text).or_else(|_| {
        let normalized: String = text
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                other => other,
            })
            .collect();
        URL_SAFE_NO_PAD.decode(normalized)
    })
}

pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(bytes))
}

/// Decodes the string where the parser holds it, without copying it into a `String` first.
pub(crate) struct Base64Visitor;

impl serde::de::Visitor<'_> for Base64Visitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vec<u8>, E> {
        decode(text).map_err(E::custom)
    }
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    deserializer.deserialize_str(Base64Visitor)
}
