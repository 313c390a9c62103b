//! The approval predicate (`https://hallmark.dev/approval/v1`, docs/approval-v1.md): a release
//! manager's signed approval of one artifact. The approver is whoever signed; the predicate names
//! nobody a policy should trust.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldProblem;
use crate::time::Timestamp;
use crate::{Error, Result};

/// predicateType of an approval.
pub const APPROVAL_V1: &str = "https://hallmark.dev/approval/v1";

/// Longest reason, ticket or environment accepted, in bytes.
pub const MAX_APPROVAL_TEXT: usize = 4096;

const WHAT: &str = "approval";

/// The approval predicate. Construct with [`Approval::new`] or parse with
/// [`Approval::from_value`], both of which validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// Why the artifact is approved.
    pub reason: String,
    /// The change ticket, e.g. `CHG-1234`; written as `null` when absent.
    #[serde(default)]
    pub ticket: Option<String>,
    /// What the approval is for, e.g. `production`; `null` approves for every environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// When the approver signed, as the approver claims it (a keyless bundle's verified signing
    /// time is the one to trust).
    pub approved_at: Timestamp,
}

impl Approval {
    /// A validated approval at `approved_at`, kept to whole seconds.
    pub fn new(
        reason: impl Into<String>,
        ticket: Option<String>,
        environment: Option<String>,
        approved_at: Timestamp,
    ) -> Result<Self> {
        let approval = Approval {
            reason: reason.into(),
            ticket,
            environment,
            approved_at: approved_at.whole_seconds(),
        };
        approval.validate()?;
        Ok(approval)
    }

    /// Parses and validates a predicate.
    pub fn from_value(predicate: &Value) -> Result<Self> {
        let approval = Approval::deserialize(predicate).map_err(Error::json(WHAT))?;
        approval.validate()?;
        Ok(approval)
    }

    /// `reason` is required; `reason`, `ticket` and `environment` are non-blank and at most
    /// [`MAX_APPROVAL_TEXT`] bytes.
    pub fn validate(&self) -> Result<()> {
        text("reason", &self.reason)?;
        if let Some(ticket) = &self.ticket {
            text("ticket", ticket)?;
        }
        if let Some(environment) = &self.environment {
            text("environment", environment)?;
        }
        Ok(())
    }

    /// The predicate as JSON.
    pub fn to_value(&self) -> Value {
        // Plain strings and a timestamp: serializing cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn text(field: &str, value: &str) -> Result<()> {
    let problem = if value.trim().is_empty() {
        FieldProblem::Empty
    } else if value.len() > MAX_APPROVAL_TEXT {
        FieldProblem::TooLong(MAX_APPROVAL_TEXT)
    } else {
        return Ok(());
    };
    Err(Error::Field {
        what: WHAT,
        field: field.to_owned(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at() -> Timestamp {
        "2026-11-26T09:30:00Z".parse().unwrap()
    }

    #[test]
    fn writes_the_documented_shape() {
        let a = Approval::new(
            "release 1.4, tested in staging",
            Some("CHG-1234".into()),
            None,
            at(),
        )
        .unwrap();
        assert_eq!(
            a.to_value(),
            json!({
                "reason": "release 1.4, tested in staging",
                "ticket": "CHG-1234",
                "environment": null,
                "approvedAt": "2026-11-26T09:30:00Z",
            })
        );
        assert_eq!(Approval::from_value(&a.to_value()).unwrap(), a);
    }

    #[test]
    fn keeps_whole_seconds() {
        let precise = Timestamp::new(at().time() + std::time::Duration::from_millis(250)).unwrap();
        let a = Approval::new("ok", None, None, precise).unwrap();
        assert_eq!(a.to_value()["approvedAt"], "2026-11-26T09:30:00Z");
    }

    #[test]
    fn reads_absent_optional_fields() {
        let a = Approval::from_value(
            &json!({"reason": "r", "approvedAt": "2026-11-26T10:30:00+01:00"}),
        )
        .unwrap();
        assert_eq!((a.ticket, a.environment, a.approved_at), (None, None, at()));
    }

    #[test]
    fn refuses_blank_oversized_and_malformed_fields() {
        let field_of = |e: Error| match e {
            Error::Field { field, problem, .. } => (field, problem),
            other => panic!("{other}"),
        };
        let blank = Approval::new("  ", None, None, at()).unwrap_err();
        assert_eq!(field_of(blank), ("reason".into(), FieldProblem::Empty));
        let long = Approval::new("r", Some("x".repeat(MAX_APPROVAL_TEXT + 1)), None, at());
        assert_eq!(
            field_of(long.unwrap_err()),
            ("ticket".into(), FieldProblem::TooLong(MAX_APPROVAL_TEXT))
        );
        let empty_env = Approval::new("r", None, Some(String::new()), at()).unwrap_err();
        assert_eq!(field_of(empty_env).0, "environment");
        for bad in [
            json!({"approvedAt": "2026-11-26T09:30:00Z"}),
            json!({"reason": "r"}),
            json!({"reason": "r", "approvedAt": "yesterday"}),
            json!({"reason": 7, "approvedAt": "2026-11-26T09:30:00Z"}),
            json!({"reason": "r", "ticket": ["CHG-1"], "approvedAt": "2026-11-26T09:30:00Z"}),
            json!("approved"),
        ] {
            assert!(Approval::from_value(&bad).is_err(), "{bad}");
        }
    }
}
