//! The revocation list predicate (`https://hallmark.dev/revocation/v1`, docs/revocation.md): a
//! signed list of artifact digests, keys, keyless identities and vendors that no longer count,
//! each from an effective time. The verifier decides what a list may change; this module only
//! parses and validates it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digest;
use crate::error::FieldProblem;
use crate::time::Timestamp;
use crate::{Error, Result};

/// predicateType of a revocation list.
pub const REVOCATION_V1: &str = "https://hallmark.dev/revocation/v1";

/// Prefix of the list's subject name: `hallmark-revocations/<name>`.
pub const SUBJECT_PREFIX: &str = "hallmark-revocations/";

/// Most entries one list may hold.
pub const MAX_ENTRIES: usize = 10_000;

/// Longest name, value, issuer or reason, in bytes.
pub const MAX_TEXT: usize = 4096;

const WHAT: &str = "revocation list";

/// What an entry revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An artifact digest (`sha256:HEX`, `sha512:HEX`): always denied from the effective time.
    Artifact,
    /// A signing key by its keyid (securesystemslib's, as Hallmark reports signers).
    Key,
    /// A keyless certificate identity (`value`) from an OIDC issuer (`issuer`).
    Identity,
    /// A vendor by its profile name: every key and identity of that profile.
    Vendor,
}

impl Kind {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Artifact => "artifact",
            Kind::Key => "key",
            Kind::Identity => "identity",
            Kind::Vendor => "vendor",
        }
    }
}

/// One revoked thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Entry {
    /// What is revoked.
    pub kind: Kind,
    /// The digest, keyid, certificate identity or vendor name.
    pub value: String,
    /// The OIDC issuer, for an identity (required there, absent elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Why (for people and audits).
    pub reason: String,
    /// From when the revocation holds.
    pub effective: Timestamp,
}

/// The revocation list predicate. Parse with [`RevocationList::from_value`], which validates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RevocationList {
    /// The list's name: lists of one name are one series, numbered by `sequence`.
    pub name: String,
    /// The position in the series: each new list of the same name has a higher number.
    pub sequence: u64,
    /// When the list was issued.
    pub issued: Timestamp,
    /// After this the list is refused: a stale list cannot stand in for a newer one forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// What is revoked.
    pub entries: Vec<Entry>,
}

impl RevocationList {
    /// Parses and validates a predicate.
    pub fn from_value(predicate: &Value) -> Result<Self> {
        let list = RevocationList::deserialize(predicate).map_err(Error::json(WHAT))?;
        list.validate()?;
        Ok(list)
    }

    /// The name is non-blank; at most [`MAX_ENTRIES`] entries; every text non-blank and at most
    /// [`MAX_TEXT`] bytes; artifact values are `ALGORITHM:HEX` digests; identities name an
    /// issuer and nothing else does; `expires` after `issued`.
    pub fn validate(&self) -> Result<()> {
        text("name", &self.name)?;
        if self.entries.len() > MAX_ENTRIES {
            return Err(field("entries", FieldProblem::TooLong(MAX_ENTRIES)));
        }
        if let Some(expires) = self.expires
            && expires <= self.issued
        {
            return Err(field(
                "expires",
                FieldProblem::Unknown(format!("{expires} is not after issued {}", self.issued)),
            ));
        }
        for (i, entry) in self.entries.iter().enumerate() {
            let at = |f: &str| format!("entries[{i}].{f}");
            text(&at("value"), &entry.value)?;
            text(&at("reason"), &entry.reason)?;
            match (entry.kind, &entry.issuer) {
                (Kind::Identity, Some(issuer)) => text(&at("issuer"), issuer)?,
                (Kind::Identity, None) => return Err(field(&at("issuer"), FieldProblem::Empty)),
                (_, Some(_)) => {
                    return Err(field(
                        &at("issuer"),
                        FieldProblem::Unknown("an issuer on a non-identity entry".into()),
                    ));
                }
                (_, None) => {}
            }
            if entry.kind == Kind::Artifact {
                entry
                    .value
                    .parse::<Digest>()
                    .map_err(|e| field(&at("value"), FieldProblem::Unknown(e.to_string())))?;
            }
        }
        Ok(())
    }

    /// The predicate as JSON.
    pub fn to_value(&self) -> Value {
        // Strings, integers and timestamps: serializing cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The bytes the list's subject digest covers: the predicate as compact JSON with the
    /// fields in their documented order (what [`Self::to_value`] writes, re-serialized), so a
    /// verifier recomputes them from the parsed list.
    pub fn content_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The subject name: `hallmark-revocations/<name>`.
    pub fn subject_name(&self) -> String {
        format!("{SUBJECT_PREFIX}{}", self.name)
    }
}

fn field(name: &str, problem: FieldProblem) -> Error {
    Error::Field {
        what: WHAT,
        field: name.to_owned(),
        problem,
    }
}

fn text(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(field(name, FieldProblem::Empty))
    } else if value.len() > MAX_TEXT {
        Err(field(name, FieldProblem::TooLong(MAX_TEXT)))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn list() -> Value {
        json!({
            "name": "plant-a",
            "sequence": 3,
            "issued": "2026-12-01T00:00:00Z",
            "expires": "2027-01-01T00:00:00Z",
            "entries": [
                {"kind": "artifact", "value": format!("sha256:{}", "ab".repeat(32)),
                 "reason": "malware", "effective": "2026-11-30T00:00:00Z"},
                {"kind": "identity", "value": "ci@example.com", "issuer": "https://issuer",
                 "reason": "left", "effective": "2026-11-30T00:00:00Z"},
            ],
        })
    }

    #[test]
    fn reads_and_writes_the_documented_shape() {
        let parsed = RevocationList::from_value(&list()).unwrap();
        assert_eq!(parsed.entries[1].kind, Kind::Identity);
        assert_eq!(parsed.to_value(), list());
        assert_eq!(parsed.subject_name(), "hallmark-revocations/plant-a");
        let again: Value = serde_json::from_slice(&parsed.content_bytes()).unwrap();
        assert_eq!(again, list());
    }

    #[test]
    fn refuses_what_a_verifier_could_misread() {
        let cases: [(&str, Value); 6] = [
            ("/entries/0/value", json!("not-a-digest")),
            ("/entries/1/issuer", Value::Null),
            ("/entries/0/reason", json!("  ")),
            ("/name", json!("")),
            ("/expires", json!("2026-01-01T00:00:00Z")),
            ("/entries/0/kind", json!("everything")),
        ];
        for (pointer, value) in cases {
            let mut doc = list();
            *doc.pointer_mut(pointer).unwrap() = value;
            if pointer == "/entries/1/issuer" {
                doc["entries"][1].as_object_mut().unwrap().remove("issuer");
            }
            assert!(RevocationList::from_value(&doc).is_err(), "{pointer}");
        }
        let mut doc = list();
        doc["entries"][0]["issuer"] = json!("https://issuer");
        assert!(RevocationList::from_value(&doc).is_err());
        let mut doc = list();
        doc["extra"] = json!(1);
        assert!(RevocationList::from_value(&doc).is_err());
    }
}
