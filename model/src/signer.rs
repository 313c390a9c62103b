//! Who signed a verified attestation, in the detail a policy sees (`signerDetails` in
//! docs/policy-input.md). The JSON shape is the policy library's contract: `{"keyid"}` for a
//! trusted key, `{"identity", "issuer", "extensions", "tlogEntries"}` for a keyless certificate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One signer of a verified attestation. Serialized without a tag: the fields tell the kinds
/// apart, as the Rego library expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SignerDetails {
    /// A keyless (Fulcio) certificate whose chain, log entries and identity verified.
    Certificate {
        /// The certificate identity (SAN e-mail or URI).
        identity: String,
        /// The OIDC issuer.
        issuer: String,
        /// The Fulcio extensions by name (`sourceRepositoryURI`, `runnerEnvironment`, ...).
        extensions: BTreeMap<String, String>,
        /// How many transparency-log entries verified.
        #[serde(rename = "tlogEntries")]
        tlog_entries: usize,
    },
    /// A trusted key.
    Key {
        /// The key's id (securesystemslib keyid, hex).
        keyid: String,
    },
}

impl SignerDetails {
    /// A trusted key's details.
    pub fn key(keyid: impl Into<String>) -> Self {
        SignerDetails::Key {
            keyid: keyid.into(),
        }
    }

    /// The keyid, for a key.
    pub fn keyid(&self) -> Option<&str> {
        match self {
            SignerDetails::Key { keyid } => Some(keyid),
            SignerDetails::Certificate { .. } => None,
        }
    }

    /// A certificate's Fulcio extension by name (`runnerEnvironment`); `None` for keys.
    pub fn extension(&self, name: &str) -> Option<&str> {
        match self {
            SignerDetails::Certificate { extensions, .. } => {
                extensions.get(name).map(String::as_str)
            }
            SignerDetails::Key { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serializes_exactly_as_the_policy_library_reads_it() {
        assert_eq!(
            serde_json::to_value(SignerDetails::key("ab12")).unwrap(),
            json!({"keyid": "ab12"})
        );
        let certificate = SignerDetails::Certificate {
            identity: "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
                .into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            extensions: BTreeMap::from([("runnerEnvironment".into(), "github-hosted".into())]),
            tlog_entries: 1,
        };
        let value = serde_json::to_value(&certificate).unwrap();
        assert_eq!(
            value,
            json!({
                "identity": "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main",
                "issuer": "https://token.actions.githubusercontent.com",
                "extensions": {"runnerEnvironment": "github-hosted"},
                "tlogEntries": 1,
            })
        );
        assert_eq!(
            serde_json::from_value::<SignerDetails>(value).unwrap(),
            certificate
        );
        assert_eq!(
            serde_json::from_value::<SignerDetails>(json!({"keyid": "ab12"})).unwrap(),
            SignerDetails::key("ab12")
        );
        assert!(serde_json::from_value::<SignerDetails>(json!({"identity": "x"})).is_err());
    }

    #[test]
    fn answers_by_kind() {
        let key = SignerDetails::key("ab12");
        assert_eq!(key.keyid(), Some("ab12"));
        assert_eq!(key.extension("runnerEnvironment"), None);
        let certificate = SignerDetails::Certificate {
            identity: "i".into(),
            issuer: "o".into(),
            extensions: BTreeMap::from([("runnerEnvironment".into(), "self-hosted".into())]),
            tlog_entries: 1,
        };
        assert_eq!(certificate.keyid(), None);
        assert_eq!(
            certificate.extension("runnerEnvironment"),
            Some("self-hosted")
        );
    }
}
