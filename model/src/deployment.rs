//! The deployment predicate (`https://hallmark.dev/deployment/v1`, docs/deployment-v1.md): a
//! signed record that an artifact (the statement's subject) was put into service on a target.
//! Each record names the version it replaced, so a target's history is a chain, and a rollback
//! is one more recorded deployment, of an earlier version.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digest;
use crate::error::FieldProblem;
use crate::target::Target;
use crate::time::Timestamp;
use crate::{Error, Result};

/// predicateType of a deployment record.
pub const DEPLOYMENT_V1: &str = "https://hallmark.dev/deployment/v1";

/// Longest environment, work order, change ticket or lot id, in bytes.
pub const MAX_TEXT: usize = 1024;

/// Most lots one deployment record names.
pub const MAX_LOTS: usize = 1000;

const WHAT: &str = "deployment";

/// The deployment predicate. Construct with [`Deployment::new`] or parse with
/// [`Deployment::from_value`], both of which validate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Deployment {
    /// Where the artifact now runs: `SITE/LINE/ASSET`.
    pub target: Target,
    /// The environment the deployment is for (what an approval must name), e.g. `production`.
    #[serde(default)]
    pub environment: Option<String>,
    /// The version it replaced on the target (`ALGORITHM:HEX`); `null` for the first one.
    #[serde(default)]
    pub replaces: Option<String>,
    /// Lots the deployment was made for, if known when it was recorded.
    #[serde(default)]
    pub lots: Vec<String>,
    /// The work order, e.g. `WO-2026-118`.
    #[serde(default)]
    pub work_order: Option<String>,
    /// The change ticket, e.g. `CHG-1234`.
    #[serde(default)]
    pub change: Option<String>,
    /// When the artifact was put into service, as the signer claims (a keyless bundle's
    /// verified signing time is the one to trust).
    pub deployed_at: Timestamp,
}

impl Deployment {
    /// Parses and validates a predicate.
    pub fn from_value(predicate: &Value) -> Result<Self> {
        let deployment = Deployment::deserialize(predicate).map_err(Error::json(WHAT))?;
        deployment.validate()?;
        Ok(deployment)
    }

    /// Texts are non-blank and at most [`MAX_TEXT`] bytes; at most [`MAX_LOTS`] lots;
    /// `replaces` is a digest.
    pub fn validate(&self) -> Result<()> {
        optional_text(WHAT, "environment", self.environment.as_deref())?;
        optional_text(WHAT, "workOrder", self.work_order.as_deref())?;
        optional_text(WHAT, "change", self.change.as_deref())?;
        if self.lots.len() > MAX_LOTS {
            return Err(field(WHAT, "lots", FieldProblem::TooLong(MAX_LOTS)));
        }
        for lot in &self.lots {
            text(WHAT, "lots", lot)?;
        }
        if let Some(replaces) = &self.replaces {
            replaces.parse::<Digest>().map_err(|e| {
                field(
                    WHAT,
                    "replaces",
                    FieldProblem::Invalid(format!("is not ALGORITHM:HEX: {e}")),
                )
            })?;
        }
        Ok(())
    }

    /// The predicate as JSON.
    pub fn to_value(&self) -> Value {
        // Strings and a timestamp: serializing cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// `value`, when present, is non-blank and at most [`MAX_TEXT`] bytes.
pub(crate) fn optional_text(what: &'static str, name: &str, value: Option<&str>) -> Result<()> {
    value.map_or(Ok(()), |v| text(what, name, v))
}

/// `value` is non-blank and at most [`MAX_TEXT`] bytes.
pub(crate) fn text(what: &'static str, name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(field(what, name, FieldProblem::Empty))
    } else if value.len() > MAX_TEXT {
        Err(field(what, name, FieldProblem::TooLong(MAX_TEXT)))
    } else {
        Ok(())
    }
}

pub(crate) fn field(what: &'static str, name: &str, problem: FieldProblem) -> Error {
    Error::Field {
        what,
        field: name.to_owned(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "target": "plant-a/line-3/hmi-2",
            "environment": "production",
            "replaces": format!("sha256:{}", "a".repeat(64)),
            "lots": ["L-0042"],
            "workOrder": "WO-118",
            "change": "CHG-1234",
            "deployedAt": "2026-11-26T09:30:00Z"
        })
    }

    #[test]
    fn round_trips_the_documented_shape() {
        let d = Deployment::from_value(&sample()).unwrap();
        assert_eq!(d.target.as_str(), "plant-a/line-3/hmi-2");
        assert_eq!(d.to_value(), sample());
    }

    #[test]
    fn a_first_deployment_replaces_nothing() {
        let d = Deployment::from_value(&json!({
            "target": "plant-a/line-3/hmi-2",
            "deployedAt": "2026-11-26T09:30:00Z"
        }))
        .unwrap();
        assert_eq!(d.replaces, None);
        assert!(d.lots.is_empty());
    }

    #[test]
    fn refuses_bad_fields() {
        for (key, value) in [
            ("target", json!("plant-a//hmi")),
            ("replaces", json!("sha256:abc")),
            ("environment", json!(" ")),
            ("lots", json!([""])),
            ("change", json!("x".repeat(MAX_TEXT + 1))),
            ("unknown", json!(1)),
            ("deployedAt", json!("yesterday")),
        ] {
            let mut v = sample();
            v[key] = value;
            assert!(Deployment::from_value(&v).is_err(), "{key}");
        }
        let mut v = sample();
        v["lots"] = json!(vec!["L"; MAX_LOTS + 1]);
        assert!(Deployment::from_value(&v).is_err());
    }
}
