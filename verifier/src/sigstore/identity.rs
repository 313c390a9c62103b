//! Who may have signed: the certificate identity, its OIDC issuer, and the CI facts Fulcio
//! records in certificate extensions (1.3.6.1.4.1.57264.1.8 to .24).

use regex_lite::Regex;

use super::certificate::LeafCertificate;
use super::error::IdentityError;

/// A regular expression that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid regular expression {expression:?}: {message}")]
pub struct InvalidExpression {
    /// The expression as given.
    pub expression: String,
    /// What the regex engine said.
    pub message: String,
}

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
    pub fn regex(expression: &str) -> Result<Self, InvalidExpression> {
        Regex::new(&format!("^(?:{expression})$"))
            .map(Matcher::Regex)
            .map_err(|e| InvalidExpression {
                expression: expression.to_owned(),
                message: e.to_string(),
            })
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
    /// Further Fulcio extensions: arc, matcher, and what messages call the extension.
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
    pub fn check(&self, leaf: &LeafCertificate) -> Result<String, IdentityError> {
        let Some(matched) = leaf.identities.iter().find(|id| self.identity.matches(id)) else {
            return Err(IdentityError::Identity {
                expected: self.identity.describe(),
                found: leaf.identities.clone(),
            });
        };
        let issuer = leaf.issuer().unwrap_or("");
        if !self.issuer.matches(issuer) {
            return Err(IdentityError::Issuer {
                expected: self.issuer.describe(),
                found: issuer.to_owned(),
            });
        }
        for (arc, matcher, label) in &self.extensions {
            let actual = leaf.fulcio.get(arc).map(String::as_str).unwrap_or("");
            if !matcher.matches(actual) {
                return Err(IdentityError::Extension {
                    label,
                    arc: *arc,
                    expected: matcher.describe(),
                    found: actual.to_owned(),
                });
            }
        }
        Ok(matched.clone())
    }

    /// Checks the certificate against each of `policies` in turn (cheap: the certificate was
    /// verified once) and returns the identity the first match matched. With several policies
    /// and none matching, the error says how many were tried and why the first failed.
    pub fn check_any(
        policies: &[IdentityPolicy],
        leaf: &LeafCertificate,
    ) -> Result<String, IdentityError> {
        let mut first = None;
        for policy in policies {
            match policy.check(leaf) {
                Ok(identity) => return Ok(identity),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        match first {
            Some(only) if policies.len() == 1 => Err(only),
            Some(first) => Err(IdentityError::NoneMatched {
                tried: policies.len(),
                first: Box::new(first),
            }),
            None => Err(IdentityError::NoneTrusted),
        }
    }
}
