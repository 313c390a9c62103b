//! Where software runs and lots are made: a target path `SITE/LINE/ASSET` (docs/deployment-v1.md).
//!
//! A target is one to [`MAX_SEGMENTS`] segments joined by `/`, each of letters, digits and
//! `.`, `_`, `-`, `:` (not `.` or `..` alone). A shorter path contains the longer ones under it:
//! `plant-a/line-3` contains `plant-a/line-3/hmi-2`, so a lot made on a line is traced to the
//! software on every asset of that line.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldProblem;
use crate::{Error, Result};

/// Most segments a target has.
pub const MAX_SEGMENTS: usize = 8;

/// Longest segment, in bytes.
pub const MAX_SEGMENT: usize = 128;

/// A validated target path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target(String);

impl Target {
    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// True when `other` is this target or lies under it.
    pub fn contains(&self, other: &Target) -> bool {
        other.0 == self.0
            || (other.0.len() > self.0.len()
                && other.0.starts_with(&self.0)
                && other.0.as_bytes()[self.0.len()] == b'/')
    }
}

impl FromStr for Target {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let problem = |why: String| Error::Field {
            what: "target",
            field: "target".to_owned(),
            problem: FieldProblem::Invalid(why),
        };
        if s.is_empty() {
            return Err(Error::Field {
                what: "target",
                field: "target".to_owned(),
                problem: FieldProblem::Empty,
            });
        }
        let segments: Vec<&str> = s.split('/').collect();
        if segments.len() > MAX_SEGMENTS {
            return Err(problem(format!(
                "has {} segments, at most {MAX_SEGMENTS}",
                segments.len()
            )));
        }
        for segment in segments {
            let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
            if segment.is_empty()
                || segment == "."
                || segment == ".."
                || segment.len() > MAX_SEGMENT
                || !segment.chars().all(allowed)
            {
                return Err(problem(format!(
                    "segment {:?} is not 1-{MAX_SEGMENT} of A-Z a-z 0-9 . _ - :",
                    crate::text::printable(segment)
                )));
            }
        }
        Ok(Target(s.to_owned()))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        s.parse().unwrap()
    }

    #[test]
    fn a_line_contains_its_assets_and_not_its_neighbours() {
        assert!(t("plant-a/line-3").contains(&t("plant-a/line-3/hmi-2")));
        assert!(t("plant-a/line-3").contains(&t("plant-a/line-3")));
        assert!(!t("plant-a/line-3").contains(&t("plant-a/line-30/hmi-2")));
        assert!(!t("plant-a/line-3/hmi-2").contains(&t("plant-a/line-3")));
    }

    #[test]
    fn refuses_empty_dot_and_odd_segments() {
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "a/./b",
            "a/../b",
            "a b",
            "a/b\u{1b}[31m",
            "1/2/3/4/5/6/7/8/9",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad:?}");
        }
        assert!(format!("a/{}", "x".repeat(129)).parse::<Target>().is_err());
        assert_eq!(t("plant:a/L_3/hmi-2.1").as_str(), "plant:a/L_3/hmi-2.1");
    }
}
