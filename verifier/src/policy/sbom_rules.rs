//! The declarative policy's `sbom` key (docs/policy-file.md, docs/sbom.md): an SBOM required,
//! and components denied by package URL and version range, compiled into the library's
//! `sbom_required`, `sbom_deny` and `sbom_unknown_version` settings. Purls are normalized and
//! ranges parsed here, once, so a mistake is a policy error rather than a rule that never fires.

use std::path::Path;

use hallmark_model::sbom::purl::Purl;
use hallmark_model::sbom::vers;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{PolicyError, error};

/// `sbom: {required, deny, unknownVersion}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SbomRules {
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    deny: Option<Vec<DenyRule>>,
    #[serde(default)]
    unknown_version: Option<UnknownVersion>,
}

/// One denied package: every version, or those in `versions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DenyRule {
    purl: String,
    #[serde(default)]
    versions: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// What a rule with a range does with a component version it cannot compare.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum UnknownVersion {
    Deny,
    Warn,
}

/// Compiles `rules` into `config`; `sbom_required` says whether the top-level `sbomRequired`
/// was given too (one of them, not both).
pub(super) fn compile(
    path: &Path,
    rules: &SbomRules,
    sbom_required: Option<bool>,
    config: &mut Map<String, Value>,
) -> Result<(), PolicyError> {
    if rules.required.is_none() && rules.deny.is_none() {
        return Err(error(
            path,
            "sbom checks nothing: give required and/or deny",
        ));
    }
    if let Some(required) = rules.required {
        if sbom_required.is_some() {
            return Err(error(
                path,
                "sbomRequired and sbom.required are both given; keep one",
            ));
        }
        config.insert("sbom_required".into(), json!(required));
    }
    if let Some(deny) = &rules.deny {
        if deny.is_empty() {
            return Err(error(
                path,
                "sbom.deny is an empty list; leave it out, or name at least one package",
            ));
        }
        let compiled = deny
            .iter()
            .enumerate()
            .map(|(i, rule)| deny_rule(path, i, rule))
            .collect::<Result<Vec<_>, _>>()?;
        config.insert("sbom_deny".into(), Value::Array(compiled));
    }
    if let Some(mode) = rules.unknown_version {
        if rules.deny.is_none() {
            return Err(error(path, "sbom.unknownVersion needs sbom.deny"));
        }
        let mode = match mode {
            UnknownVersion::Deny => "deny",
            UnknownVersion::Warn => "warn",
        };
        config.insert("sbom_unknown_version".into(), json!(mode));
    }
    Ok(())
}

fn deny_rule(path: &Path, i: usize, rule: &DenyRule) -> Result<Value, PolicyError> {
    let what = format!("sbom.deny[{i}]");
    let purl = Purl::parse(&rule.purl).map_err(|e| error(path, format!("{what}: {e}")))?;
    if purl.version.is_some() {
        return Err(error(
            path,
            format!(
                "{what}: purl {:?} names a version; name the package (`{}`) and put the versions in `versions` (e.g. \"<4.17.21\")",
                rule.purl, purl.package
            ),
        ));
    }
    let mut out = json!({"purl": purl.package});
    if let Some(text) = &rule.versions {
        let range = vers::parse(text).map_err(|e| error(path, format!("{what}: {e}")))?;
        out["versions"] = json!(text.trim());
        out["ranges"] = json!(range);
    }
    if let Some(reason) = &rule.reason {
        out["reason"] = json!(reason);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn compiled(yaml: &str, sbom_required: Option<bool>) -> Result<Value, String> {
        let rules: SbomRules = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        let mut config = Map::new();
        compile(Path::new("p.yaml"), &rules, sbom_required, &mut config).map_err(|e| e.message)?;
        Ok(Value::Object(config))
    }

    #[test]
    fn rules_compile_to_the_library_settings() {
        let config = compiled(
            "required: true\nunknownVersion: warn\ndeny:\n  - {purl: \"pkg:NPM/Lodash\", versions: \"<4.17.21\", reason: CVE-2021-23337}\n  - {purl: \"pkg:pypi/Py_YAML\"}\n",
            None,
        )
        .unwrap();
        assert_eq!(
            config,
            json!({
                "sbom_required": true,
                "sbom_unknown_version": "warn",
                "sbom_deny": [
                    {"purl": "pkg:npm/lodash", "versions": "<4.17.21", "reason": "CVE-2021-23337",
                     "ranges": {"intervals": [{"lt": "4.17.21"}], "except": []}},
                    {"purl": "pkg:pypi/py-yaml"}
                ]
            })
        );
    }

    #[test]
    fn mistakes_are_errors() {
        for (yaml, required, expected) in [
            ("{}", None, "checks nothing"),
            ("required: true", Some(true), "both given"),
            ("deny: []", None, "empty list"),
            (
                "deny: [{purl: \"pkg:npm/lodash@4.17.20\"}]",
                None,
                "names a version",
            ),
            ("deny: [{purl: \"npm/lodash\"}]", None, "pkg:"),
            (
                "deny: [{purl: \"pkg:npm/lodash\", versions: \"<1.0|<2.0\"}]",
                None,
                "alternates",
            ),
            (
                "deny: [{purl: \"pkg:npm/lodash\", versions: \"<1.0rc1\"}]",
                None,
                "semantic-version",
            ),
            (
                "deny: [{purl: \"pkg:npm/lodash\", version: \"<1\"}]",
                None,
                "unknown field",
            ),
            (
                "required: true\nunknownVersion: warn",
                None,
                "needs sbom.deny",
            ),
            (
                "deny: [{purl: \"pkg:npm/x\"}]\nunknownVersion: maybe",
                None,
                "unknown variant",
            ),
        ] {
            let err = compiled(yaml, required).unwrap_err();
            assert!(err.contains(expected), "{yaml}: {err}");
        }
    }
}
