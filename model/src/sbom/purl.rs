//! Package URLs (purl-spec): the package a purl names, in one spelling, so that a policy rule
//! `pkg:npm/lodash` matches `pkg:npm/lodash@4.17.20?foo=bar` and `pkg:NPM/Lodash@4.17.20`.

use crate::Error;

/// Longest purl read: 4 KiB.
const MAX_PURL: usize = 4096;

/// The parts of a purl a policy compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    /// The package: `pkg:TYPE/NAMESPACE/NAME`, normalized (see [`Purl::parse`]).
    pub package: String,
    /// The version, percent-decoded, when the purl has one.
    pub version: Option<String>,
}

impl Purl {
    /// Parses `text` (purl-spec: `pkg:type/namespace/name@version?qualifiers#subpath`) and
    /// normalizes the package: the type lowercased; namespace segments and name percent-decoded
    /// (then `@` written as `%40`, so that an npm scope reads the same either way); for the types
    /// whose names purl-spec says are lowercased (`npm`, `pypi`, `github`, `bitbucket`,
    /// `composer`) namespace and name lowercased, and for `pypi` `_` written as `-`. Qualifiers and subpath are not part of the package.
    pub fn parse(text: &str) -> Result<Purl, Error> {
        let bad = |reason| Error::Purl {
            purl: text.chars().take(200).collect(),
            reason,
        };
        if text.len() > MAX_PURL {
            return Err(bad("longer than 4096 bytes"));
        }
        let rest = match text.get(..4) {
            Some(scheme) if scheme.eq_ignore_ascii_case("pkg:") => &text[4..],
            _ => return Err(bad("does not start with pkg:")),
        };
        let rest = rest.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
        let (kind, path) = rest.split_once('/').ok_or_else(|| bad("has no name"))?;
        let kind = kind.to_ascii_lowercase();
        if kind.is_empty()
            || !kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'+' || b == b'-')
        {
            return Err(bad("has no valid type"));
        }
        let path = path.trim_end_matches('/');
        // The version follows the last `@` of the last segment (an npm scope `@x` is a segment
        // of its own).
        let (path, version) = match path.rsplit_once('/') {
            Some((ns, last)) => match last.rsplit_once('@') {
                Some((name, v)) => (format!("{ns}/{name}"), Some(v)),
                None => (path.to_owned(), None),
            },
            None => match path.rsplit_once('@') {
                Some((name, v)) => (name.to_owned(), Some(v)),
                None => (path.to_owned(), None),
            },
        };
        let fold = matches!(
            kind.as_str(),
            "npm" | "pypi" | "github" | "bitbucket" | "composer"
        );
        let mut segments = Vec::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            let mut seg = decode(seg).ok_or_else(|| bad("has invalid percent-encoding"))?;
            if fold {
                seg = seg.to_lowercase();
            }
            if kind == "pypi" {
                seg = seg.replace('_', "-");
            }
            segments.push(seg.replace('%', "%25").replace('@', "%40"));
        }
        if segments.is_empty() {
            return Err(bad("has no name"));
        }
        let version = match version {
            Some("") => return Err(bad("has an empty version")),
            Some(v) => Some(decode(v).ok_or_else(|| bad("has invalid percent-encoding"))?),
            None => None,
        };
        Ok(Purl {
            package: format!("pkg:{kind}/{}", segments.join("/")),
            version,
        })
    }
}

/// Percent-decodes `s` (None when an escape is malformed or the result is not UTF-8).
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(s: &str) -> String {
        Purl::parse(s).unwrap().package
    }

    #[test]
    fn packages_are_normalized() {
        let p = Purl::parse("pkg:npm/lodash@4.17.20?foo=bar#lib").unwrap();
        assert_eq!(p.package, "pkg:npm/lodash");
        assert_eq!(p.version.as_deref(), Some("4.17.20"));
        assert_eq!(package("pkg:NPM/Lodash"), "pkg:npm/lodash");
        assert_eq!(
            package("pkg:npm/%40angular/core@1.0.0"),
            "pkg:npm/%40angular/core"
        );
        assert_eq!(
            package("pkg:npm/@angular/core@1.0.0"),
            "pkg:npm/%40angular/core"
        );
        assert_eq!(package("pkg:pypi/Django_Rest@1"), "pkg:pypi/django-rest");
        assert_eq!(
            package("pkg:maven/org.Apache/Commons@1.2"),
            "pkg:maven/org.Apache/Commons"
        );
        assert_eq!(package("pkg:cargo/tokio@1.0.0"), "pkg:cargo/tokio");
        assert_eq!(
            Purl::parse("pkg:golang/a/b@v1.2.3%2Bincompatible")
                .unwrap()
                .version
                .as_deref(),
            Some("v1.2.3+incompatible")
        );
    }

    #[test]
    fn malformed_purls_are_refused() {
        for bad in [
            "npm/lodash",
            "pkg:",
            "pkg:npm",
            "pkg:npm/",
            "pkg:n%m/x",
            "pkg:npm/a%zz",
            "pkg:npm/a@",
        ] {
            assert!(Purl::parse(bad).is_err(), "{bad}");
        }
    }
}
