//! The lot predicate (`https://hallmark.dev/lot/v1`, docs/lot-v1.md): a signed record that a
//! production lot was made on a target during a time window. Its subject is the lot itself:
//! the name `lot:<ID>` and, as digest, the SHA-256 of that name's UTF-8 bytes, so stores and
//! registries index lots like any other subject.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::deployment::{field, optional_text, text};
use crate::error::FieldProblem;
use crate::target::Target;
use crate::time::Timestamp;
use crate::{Error, Result};

/// predicateType of a lot record.
pub const LOT_V1: &str = "https://hallmark.dev/lot/v1";

/// Prefix of a lot's subject name.
pub const SUBJECT_PREFIX: &str = "lot:";

const WHAT: &str = "lot";

/// The subject name of lot `id`; its digest is the SHA-256 of these bytes.
pub fn subject_name(id: &str) -> String {
    format!("{SUBJECT_PREFIX}{id}")
}

/// The lot predicate. Parse with [`Lot::from_value`], which validates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lot {
    /// The lot's id, e.g. `L-2026-0042`.
    pub lot: String,
    /// Where it was made: usually `SITE/LINE`; every asset under it counts.
    pub target: Target,
    /// When production of the lot started.
    pub from: Timestamp,
    /// When it ended (not before `from`).
    pub to: Timestamp,
    /// The product made, if recorded.
    #[serde(default)]
    pub product: Option<String>,
    /// The work order, if recorded.
    #[serde(default)]
    pub work_order: Option<String>,
}

impl Lot {
    /// Parses and validates a predicate.
    pub fn from_value(predicate: &Value) -> Result<Self> {
        let lot = Lot::deserialize(predicate).map_err(Error::json(WHAT))?;
        lot.validate()?;
        Ok(lot)
    }

    /// The id is non-blank text without control characters; texts at most
    /// [`crate::deployment::MAX_TEXT`] bytes; `to` is not before `from`.
    pub fn validate(&self) -> Result<()> {
        text(WHAT, "lot", &self.lot)?;
        if self.lot.chars().any(char::is_control) {
            return Err(field(
                WHAT,
                "lot",
                FieldProblem::Invalid("holds a control character".into()),
            ));
        }
        optional_text(WHAT, "product", self.product.as_deref())?;
        optional_text(WHAT, "workOrder", self.work_order.as_deref())?;
        if self.to < self.from {
            return Err(field(
                WHAT,
                "to",
                FieldProblem::Invalid(format!("{} is before from {}", self.to, self.from)),
            ));
        }
        Ok(())
    }

    /// The predicate as JSON.
    pub fn to_value(&self) -> Value {
        // Strings and timestamps: serializing cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Value {
        json!({
            "lot": "L-2026-0042",
            "target": "plant-a/line-3",
            "from": "2026-11-26T06:00:00Z",
            "to": "2026-11-26T14:00:00Z",
            "product": "valve-body-7",
            "workOrder": "WO-118"
        })
    }

    #[test]
    fn round_trips_the_documented_shape() {
        let lot = Lot::from_value(&sample()).unwrap();
        assert_eq!(lot.to_value(), sample());
        assert_eq!(subject_name(&lot.lot), "lot:L-2026-0042");
    }

    #[test]
    fn refuses_a_window_that_ends_before_it_starts_and_bad_fields() {
        for (key, value) in [
            ("to", json!("2026-11-26T05:59:59Z")),
            ("lot", json!("")),
            ("lot", json!("L\n42")),
            ("target", json!("plant a")),
            ("extra", json!(true)),
        ] {
            let mut v = sample();
            v[key] = value;
            assert!(Lot::from_value(&v).is_err(), "{key}");
        }
    }
}
