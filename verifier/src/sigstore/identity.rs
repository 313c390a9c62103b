//! Who may have signed: the certificate identity, its OIDC issuer, and the CI facts Fulcio
//! records in certificate extensions (1.3.6.1.4.1.57264.1.8 to .24).

use regex_lite::Regex;

use super::certificate::LeafCertificate;

/// Matches one value exactly, or against a regular expression that must match the whole value.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// The value must equal this.
    Exact(String),
    /// The value must match this (anchored at both ends).
    Regex(Regex),
}

impl Matcher {
    /// A regular-expression matcher; the expression is anchored (`^(?:…)$`) so that
    /// `https://github.com/acme/.*` cannot match `https://github.com/acme-evil/...` by a prefix.
    pub fn regex(expression: &str) -> Result<Self, String> {
        Regex::new(&format!("^(?:{expression})$"))
            .map(Matcher::Regex)
            .map_err(|e| format!("invalid regular expression {expression:?}: {e}"))
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(expected) => expected == value,
            Matcher::Regex(re) => re.is_match(value),
        }
    }

    fn describe(&self) -> String {
        match self {
            Matcher::Exact(expected) => format!("{expected:?}"),
            Matcher::Regex(re) => format!(
                "a match for /{}/",
                re.as_str()
                    .trim_start_matches("^(?:")
                    .trim_end_matches(")$")
            ),
        }
    }
}

/// Fulcio extension arcs for the policy flags.
pub mod arcs {
    /// Build Signer URI (the workflow that signed): `--signer-workflow`.
    pub const BUILD_SIGNER_URI: u32 = 9;
    /// Build Signer Digest.
    pub const BUILD_SIGNER_DIGEST: u32 = 10;
    /// Runner Environment: `--runner-environment`.
    pub const RUNNER_ENVIRONMENT: u32 = 11;
    /// Source Repository URI: `--source-repository`.
    pub const SOURCE_REPOSITORY_URI: u32 = 12;
    /// Source Repository Digest: `--source-digest`.
    pub const SOURCE_REPOSITORY_DIGEST: u32 = 13;
    /// Source Repository Ref: `--source-ref`.
    pub const SOURCE_REPOSITORY_REF: u32 = 14;
}

/// The identity a keyless signature must carry.
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    /// The certificate identity (SAN e-mail or URI).
    pub identity: Matcher,
    /// The OIDC issuer.
    pub issuer: Matcher,
    /// Further Fulcio extensions: arc, matcher, and the flag name for messages.
    pub extensions: Vec<(u32, Matcher, &'static str)>,
}

impl IdentityPolicy {
    /// Exactly this identity from exactly this issuer, with no further extensions.
    pub fn exact(identity: &str, issuer: &str) -> Self {
        IdentityPolicy {
            identity: Matcher::Exact(identity.to_owned()),
            issuer: Matcher::Exact(issuer.to_owned()),
            extensions: Vec::new(),
        }
    }

    /// Checks the certificate and returns the identity that matched; the error shows the
    /// expected value next to the actual one.
    pub fn check(&self, leaf: &LeafCertificate) -> Result<String, String> {
        let Some(matched) = leaf.identities.iter().find(|id| self.identity.matches(id)) else {
            return Err(format!(
                "certificate identity mismatch: expected {}, certificate has {:?}",
                self.identity.describe(),
                leaf.identities
            ));
        };
        let issuer = leaf.issuer().unwrap_or("");
        if !self.issuer.matches(issuer) {
            return Err(format!(
                "OIDC issuer mismatch: expected {}, certificate has {issuer:?}",
                self.issuer.describe()
            ));
        }
        for (arc, matcher, flag) in &self.extensions {
            let actual = leaf.fulcio.get(arc).map(String::as_str).unwrap_or("");
            if !matcher.matches(actual) {
                return Err(format!(
                    "{flag} mismatch: expected {}, certificate has {actual:?} (extension 1.3.6.1.4.1.57264.1.{arc})",
                    matcher.describe()
                ));
            }
        }
        Ok(matched.clone())
    }
}
