//! The in-toto Statement: subjects, a predicate type and a predicate.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digest;
use crate::resource::ResourceDescriptor;
use crate::{Error, Result};

/// `_type` of the statements Hallmark writes.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of the older statements Hallmark still reads.
pub const STATEMENT_V0_1: &str = "https://in-toto.io/Statement/v0.1";
/// DSSE payloadType of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// An in-toto Statement. Construct with [`Statement::new`] or parse with [`Statement::from_slice`],
/// both of which validate: `new` by the rules for what Hallmark writes, `from_slice` by the rules
/// for what it reads (see [`Statement::validate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// The statement type URI.
    #[serde(rename = "_type", default)]
    pub statement_type: String,
    /// What the statement is about.
    #[serde(default)]
    pub subject: Vec<ResourceDescriptor>,
    /// The predicate type URI. Empty in some statements real producers wrote: what that means
    /// is for the verifier's predicate rule and the policy, not for parsing.
    #[serde(rename = "predicateType", default)]
    pub predicate_type: String,
    /// The predicate, opaque at this level. Optional in in-toto Statement v1 ("unset is treated
    /// the same as set-but-empty"); a predicate type may require one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<Value>,
}

impl Statement {
    /// A v1 statement, validated as one Hallmark writes ([`Statement::validate_for_writing`]).
    pub fn new(
        subject: Vec<ResourceDescriptor>,
        predicate_type: impl Into<String>,
        predicate: Value,
    ) -> Result<Self> {
        let statement = Statement {
            statement_type: STATEMENT_V1.to_owned(),
            subject,
            predicate_type: predicate_type.into(),
            predicate: Some(predicate),
        };
        statement.validate_for_writing()?;
        Ok(statement)
    }

    /// Parses and validates a statement (v1 or v0.1).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let statement: Statement =
            serde_json::from_slice(bytes).map_err(Error::json("statement"))?;
        statement.validate()?;
        Ok(statement)
    }

    /// The rules for a statement Hallmark reads: in-toto's statement layer (a known `_type`,
    /// subjects, each with a valid digest), plus Hallmark's refusal of subject names that could
    /// escape a directory when used as paths. The predicate may be absent (in-toto v1: optional)
    /// and the predicateType empty (slsa-github-generator's container builder writes one): the
    /// in-toto validation model hands both to the policy, and a predicate type's own rules
    /// are the verifier's (docs/decisions/0020, 0022).
    pub fn validate(&self) -> Result<()> {
        if self.statement_type != STATEMENT_V1 && self.statement_type != STATEMENT_V0_1 {
            return Err(Error::StatementType(self.statement_type.clone()));
        }
        if self.subject.is_empty() {
            return Err(Error::NoSubjects);
        }
        for (index, subject) in self.subject.iter().enumerate() {
            subject.validate()?;
            if subject.digest.is_empty() {
                return Err(Error::SubjectWithoutDigest {
                    index,
                    name: subject.name.clone(),
                });
            }
            check_subject_name(&subject.name)?;
        }
        Ok(())
    }

    /// The rules for a statement Hallmark writes: [`Statement::validate`], and a predicateType,
    /// which in-toto requires of producers.
    pub fn validate_for_writing(&self) -> Result<()> {
        self.validate()?;
        if self.predicate_type.is_empty() {
            return Err(Error::NoPredicateType);
        }
        Ok(())
    }

    /// The subjects whose digest set holds `digest`.
    pub fn subjects_matching<'a>(
        &'a self,
        digest: &'a Digest,
    ) -> impl Iterator<Item = &'a ResourceDescriptor> + 'a {
        self.subject.iter().filter(move |s| digest.is_in(&s.digest))
    }
}

/// Rejects names with a `..` segment or a NUL: a consumer that writes subjects to disk by name
/// must never be steered outside its directory.
pub fn check_subject_name(name: &str) -> Result<()> {
    let traverses = name.split(['/', '\\']).any(|segment| segment == "..");
    if traverses || name.contains('\0') {
        return Err(Error::UnsafeSubjectName(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::DigestSet;
    use serde_json::json;

    fn subject(name: &str) -> ResourceDescriptor {
        ResourceDescriptor::named(name, DigestSet::from([("sha256".into(), "a".repeat(64))]))
    }

    #[test]
    fn rejects_traversal_in_subject_names() {
        for bad in ["../etc/passwd", "a/../../b", "..\\x", "a\0b"] {
            let err = Statement::new(vec![subject(bad)], "t", json!({})).unwrap_err();
            assert!(matches!(err, Error::UnsafeSubjectName(_)), "{bad}: {err}");
        }
        for good in ["dist/app.tar", "..hidden", "a..b", "ghcr.io/o/r", ""] {
            assert!(
                Statement::new(vec![subject(good)], "t", json!({})).is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn rejects_missing_pieces() {
        let no_subjects = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"t","predicate":{}}"#;
        assert!(matches!(
            Statement::from_slice(no_subjects),
            Err(Error::NoSubjects)
        ));
        let truncated = br#"{"_type":"https://in-toto.io/Statement/v1","subj"#;
        assert!(matches!(
            Statement::from_slice(truncated),
            Err(Error::Json { .. })
        ));
        let without_type = Statement {
            predicate_type: String::new(),
            ..Statement::new(vec![subject("a")], "t", json!({})).unwrap()
        };
        assert!(without_type.validate().is_ok());
        assert!(matches!(
            without_type.validate_for_writing(),
            Err(Error::NoPredicateType)
        ));
        let err = Statement::new(vec![subject("a")], "", json!({})).unwrap_err();
        assert!(matches!(err, Error::NoPredicateType), "{err}");
    }

    #[test]
    fn reads_what_real_producers_write() {
        // cosign v3 image signatures: Statement v1, no predicate (optional in v1).
        let cosign = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"r/x","digest":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1"}"#;
        let st = Statement::from_slice(cosign).unwrap();
        assert_eq!(st.predicate, None);
        // What it serializes is what it read: no `predicate` appears.
        assert!(
            !String::from_utf8(serde_json::to_vec(&st).unwrap())
                .unwrap()
                .contains("\"predicate\"")
        );
        // slsa-github-generator's container-based builder: Statement v0.1, empty predicateType.
        let container = br#"{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"x","digest":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}],"predicateType":"","predicate":{"builder":{"id":"b"}}}"#;
        assert_eq!(Statement::from_slice(container).unwrap().predicate_type, "");
    }
}
