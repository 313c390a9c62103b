//! Version ranges for SBOM deny rules: purl-spec's `vers` syntax
//! (`vers:npm/>=1.0.0|<4.17.21`, or the constraints alone: `<4.17.21`), compiled into intervals
//! a Rego rule checks with `semver.compare`; and the semantic version a component's version is
//! compared as ([`coerce`]). docs/sbom.md gives the rules.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::Error;

/// Longest range read: 4 KiB; most constraints in one range: 64.
const MAX_RANGE: usize = 4096;
const MAX_CONSTRAINTS: usize = 64;

/// A compiled range: a version is in it when it is not one of `except` and lies in one of
/// `intervals`. Each interval maps comparators (`eq`, `gt`, `gte`, `lt`, `lte`) to semantic
/// versions, all of which must hold; `{}` holds for every version (`*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    /// The intervals (any of them).
    pub intervals: Vec<BTreeMap<&'static str, String>>,
    /// Versions excluded (`!=`).
    pub except: Vec<String>,
}

/// The semantic version `version` is compared as, or None when it has no such reading (then a
/// deny rule with a range cannot decide: see docs/sbom.md). A leading `v` is dropped, build
/// metadata (`+…`) ignored as semver precedence does, and one or two numeric parts padded
/// (`1.2` is `1.2.0`); four numeric parts, letters in the core, or an invalid pre-release have no
/// reading.
pub fn coerce(version: &str) -> Option<String> {
    let v = version.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let v = v.split_once('+').map_or(v, |(core, _)| core);
    let (core, pre) = match v.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (v, None),
    };
    let parts: Vec<u64> = core
        .split('.')
        .map(|p| {
            (!p.is_empty() && p.len() <= 19 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let get = |i: usize| parts.get(i).copied().unwrap_or(0);
    let mut out = format!("{}.{}.{}", get(0), get(1), get(2));
    if let Some(pre) = pre {
        let valid = pre.split('.').all(|id| {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !(id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()))
        });
        if !valid {
            return None;
        }
        out.push('-');
        out.push_str(pre);
    }
    Some(out)
}

/// Compares two coerced versions with semver precedence.
fn compare(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (Vec<u64>, Option<&str>) {
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        (
            core.split('.').map(|p| p.parse().unwrap_or(0)).collect(),
            pre,
        )
    }
    let (ca, pa) = split(a);
    let (cb, pb) = split(b);
    ca.cmp(&cb).then_with(|| match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let (mut xs, mut ys) = (x.split('.'), y.split('.'));
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some(i), Some(j)) => {
                        let o = match (i.parse::<u64>(), j.parse::<u64>()) {
                            (Ok(n), Ok(m)) => n.cmp(&m),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => i.cmp(j),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                }
            }
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn key(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Le => "lte",
            Op::Gt => "gt",
            Op::Ge => "gte",
        }
    }
    fn lesser(self) -> bool {
        matches!(self, Op::Lt | Op::Le)
    }
}

/// Parses and compiles a range: `vers:SCHEME/CONSTRAINTS` or `CONSTRAINTS` alone, where
/// CONSTRAINTS is `*` or `|`-separated `[=|!=|<|<=|>|>=]VERSION`, with purl-spec `vers`'s
/// containment rules (sorted by version: a `<`/`<=` opens the range from below, a `>`/`>=`
/// followed by a `<`/`<=` is an interval, a final `>`/`>=` is open above; `=` adds one version,
/// `!=` removes one). Every version must have a semantic-version reading ([`coerce`]).
pub fn parse(text: &str) -> Result<Range, Error> {
    let bad = |reason: String| Error::VersionRange {
        range: text.chars().take(200).collect(),
        reason,
    };
    if text.len() > MAX_RANGE {
        return Err(bad("longer than 4096 bytes".into()));
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let constraints = match compact.strip_prefix("vers:") {
        Some(rest) => match rest.split_once('/') {
            Some((scheme, c)) if !scheme.is_empty() => c.to_owned(),
            _ => {
                return Err(bad(
                    "vers: needs a versioning scheme: vers:SCHEME/...".into()
                ));
            }
        },
        None => compact,
    };
    if constraints.is_empty() {
        return Err(bad("no constraint".into()));
    }
    if constraints == "*" {
        return Ok(Range {
            intervals: vec![BTreeMap::new()],
            except: Vec::new(),
        });
    }
    let mut parsed: Vec<(Op, String)> = Vec::new();
    for c in constraints.split('|') {
        if parsed.len() == MAX_CONSTRAINTS {
            return Err(bad(format!("more than {MAX_CONSTRAINTS} constraints")));
        }
        let (op, v) = [
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("=", Op::Eq),
        ]
        .iter()
        .find_map(|(p, op)| c.strip_prefix(p).map(|v| (*op, v)))
        .unwrap_or((Op::Eq, c));
        if v.is_empty() || v == "*" {
            return Err(bad(format!("constraint {c:?} has no version")));
        }
        let semver = coerce(v).ok_or_else(|| {
            bad(format!(
                "version {v:?} has no semantic-version reading (MAJOR[.MINOR[.PATCH]][-PRE])"
            ))
        })?;
        if parsed
            .iter()
            .any(|(_, s)| compare(s, &semver) == Ordering::Equal)
        {
            return Err(bad(format!("version {v:?} appears twice")));
        }
        parsed.push((op, semver));
    }
    parsed.sort_by(|a, b| compare(&a.1, &b.1));
    let mut range = Range {
        intervals: Vec::new(),
        except: Vec::new(),
    };
    let bounds: Vec<&(Op, String)> = parsed
        .iter()
        .filter(|(op, _)| !matches!(op, Op::Eq | Op::Ne))
        .collect();
    for pair in bounds.windows(2) {
        let (a, b) = (pair[0].0, pair[1].0);
        if a.lesser() == b.lesser() {
            return Err(bad(format!(
                "{} {} and {} {} follow each other: a range alternates lower and upper bounds",
                a.key(),
                pair[0].1,
                b.key(),
                pair[1].1
            )));
        }
    }
    for (op, v) in &parsed {
        match op {
            Op::Eq => range.intervals.push(BTreeMap::from([("eq", v.clone())])),
            Op::Ne => range.except.push(v.clone()),
            _ => {}
        }
    }
    let mut i = 0;
    while i < bounds.len() {
        let (op, v) = bounds[i];
        if op.lesser() {
            range
                .intervals
                .push(BTreeMap::from([(op.key(), v.clone())]));
            i += 1;
        } else if let Some((next, w)) = bounds.get(i + 1).map(|b| (b.0, &b.1)) {
            range.intervals.push(BTreeMap::from([
                (op.key(), v.clone()),
                (next.key(), w.clone()),
            ]));
            i += 2;
        } else {
            range
                .intervals
                .push(BTreeMap::from([(op.key(), v.clone())]));
            i += 1;
        }
    }
    if range.intervals.is_empty() {
        // Only exclusions: every other version.
        range.intervals.push(BTreeMap::new());
    }
    Ok(range)
}

impl Range {
    /// True when the coerced version `v` is in the range (what the Rego rule computes; kept here
    /// for tests and for callers without a policy engine).
    pub fn contains(&self, v: &str) -> bool {
        if self.except.iter().any(|e| compare(e, v) == Ordering::Equal) {
            return false;
        }
        self.intervals.iter().any(|interval| {
            interval.iter().all(|(op, bound)| {
                let o = compare(v, bound);
                match *op {
                    "eq" => o == Ordering::Equal,
                    "gt" => o == Ordering::Greater,
                    "gte" => o != Ordering::Less,
                    "lt" => o == Ordering::Less,
                    "lte" => o != Ordering::Greater,
                    _ => false,
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(range: &str, v: &str) -> bool {
        parse(range).unwrap().contains(&coerce(v).unwrap())
    }

    #[test]
    fn coercion() {
        assert_eq!(coerce("4.17.20").as_deref(), Some("4.17.20"));
        assert_eq!(coerce("v1.2").as_deref(), Some("1.2.0"));
        assert_eq!(coerce("1").as_deref(), Some("1.0.0"));
        assert_eq!(coerce("1.0.0-rc.1+build.5").as_deref(), Some("1.0.0-rc.1"));
        assert_eq!(coerce("01.2.3").as_deref(), Some("1.2.3"));
        for none in [
            "1.2.3.4", "1.0rc1", "", "latest", "1.2.x", "1.0.0-", "1.0.0-01", "2:1.0-1",
        ] {
            assert_eq!(coerce(none), None, "{none}");
        }
    }

    #[test]
    fn precedence() {
        assert_eq!(compare("1.0.0-alpha", "1.0.0"), Ordering::Less);
        assert_eq!(compare("1.0.0-alpha.1", "1.0.0-alpha.beta"), Ordering::Less);
        assert_eq!(compare("1.0.0-2", "1.0.0-11"), Ordering::Less);
        assert_eq!(compare("1.10.0", "1.9.0"), Ordering::Greater);
    }

    #[test]
    fn ranges() {
        assert!(contains("<4.17.21", "4.17.20"));
        assert!(!contains("<4.17.21", "4.17.21"));
        assert!(contains("vers:npm/<4.17.21", "4.17.21-rc.1"));
        assert!(contains("vers:npm/>=1.0.0|<2.0.0", "1.5.0"));
        assert!(!contains("vers:npm/>=1.0.0|<2.0.0", "2.0.0"));
        assert!(!contains(">=1.0.0|<2.0.0", "0.9.0"));
        // Two open ends: below 1.0 or from 3.0 on.
        assert!(contains("<1.0.0|>=3.0.0", "0.5.0"));
        assert!(contains("<1.0.0|>=3.0.0", "3.1.0"));
        assert!(!contains("<1.0.0|>=3.0.0", "2.0.0"));
        assert!(contains("1.2.3|>=2.0.0|<2.1.0", "1.2.3"));
        assert!(contains("1.2.3|>=2.0.0|<2.1.0", "2.0.5"));
        assert!(!contains("1.2.3|>=2.0.0|<2.1.0", "1.2.4"));
        assert!(!contains(">=1.0.0|!=1.5.0|<2.0.0", "1.5.0"));
        assert!(contains(">=1.0.0|!=1.5.0|<2.0.0", "1.5.1"));
        assert!(contains("*", "9.9.9"));
        assert!(contains("!=1.0.0", "1.0.1"));
        assert!(contains(" >= 1.0 | < 2 ", "1.9.9"));
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for bad in [
            "",
            "<",
            "<1.0.0|<2.0.0",
            ">1.0.0|>2.0.0",
            "1.0rc1",
            "vers:/<1",
            "1.0.0|1.0.0",
            "<=*",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
