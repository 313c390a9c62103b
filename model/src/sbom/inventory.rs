//! The inventory of an SBOM: its components, read from a CycloneDX (`components`, nested ones
//! too) or SPDX 2.x (`packages`) JSON document. Reading is lenient about optional fields (real
//! producers leave many out) and strict about the format markers; it is bounded by
//! [`MAX_SBOM_COMPONENTS`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::purl::Purl;
use super::vers::coerce;
use super::{Detected, Format, detect, format_of_type};
use crate::Error;
use crate::limits::MAX_SBOM_COMPONENTS;

/// Longest text kept from one field: 1 KiB (the rest is cut).
const MAX_FIELD: usize = 1024;
/// Most licenses and hashes kept per component.
const MAX_PER_COMPONENT: usize = 32;

/// One component (CycloneDX) or package (SPDX).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Its name.
    pub name: String,
    /// Its version, as written.
    pub version: Option<String>,
    /// Its package URL, as written.
    pub purl: Option<String>,
    /// The package the purl names, normalized ([`Purl::parse`]); None without a valid purl.
    pub package: Option<String>,
    /// The semantic version deny rules compare: the purl's version, else `version`, read by
    /// [`coerce`]; None when it has no such reading.
    pub semver: Option<String>,
    /// Its CPE (CycloneDX `cpe`; SPDX `cpe23Type`/`cpe22Type` external reference).
    pub cpe: Option<String>,
    /// Its licenses: SPDX ids, names or expressions (SPDX `licenseConcluded`, else
    /// `licenseDeclared`, unless NOASSERTION or NONE).
    pub licenses: Vec<String>,
    /// Its hashes: algorithm (as the document names it, e.g. `SHA-256`, `SHA256`) to value.
    pub hashes: BTreeMap<String, String>,
}

/// The components of one SBOM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    /// The format.
    pub format: Format,
    /// The specification version (`1.6`, `2.3`).
    pub spec_version: String,
    /// What the SBOM describes: CycloneDX `metadata.component`; SPDX the document `name`.
    pub describes: Option<String>,
    /// The components read, in document order (CycloneDX nested components after their parent).
    pub components: Vec<Component>,
    /// How many components the document has.
    pub component_count: usize,
    /// True when the document has more components than were read.
    pub truncated: bool,
}

impl Inventory {
    /// Reads the inventory of `doc`, the predicate of an attestation of type `predicate_type`,
    /// keeping at most [`MAX_SBOM_COMPONENTS`] components. The document's format must be the one
    /// its predicate type names (and a CycloneDX document must say `bomFormat: CycloneDX`).
    pub fn from_predicate(predicate_type: &str, doc: &Value) -> Result<Inventory, Error> {
        let detected = detect(doc)?;
        if let Some(expected) = format_of_type(predicate_type)
            && expected != detected.format
        {
            return Err(Error::Sbom(format!(
                "predicate type {predicate_type} names {expected}, but the document is {}",
                detected.format
            )));
        }
        Self::read(detected, doc, MAX_SBOM_COMPONENTS)
    }

    /// Reads the inventory of a document whose format was detected, keeping at most `max`
    /// components.
    pub fn read(detected: Detected, doc: &Value, max: usize) -> Result<Inventory, Error> {
        let empty = Map::new();
        let obj = doc.as_object().unwrap_or(&empty);
        let mut inventory = Inventory {
            format: detected.format,
            spec_version: detected.spec_version,
            describes: None,
            components: Vec::new(),
            component_count: 0,
            truncated: false,
        };
        match detected.format {
            Format::CycloneDX => {
                if obj.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
                    return Err(Error::Sbom("bomFormat is not \"CycloneDX\"".into()));
                }
                let subject = obj.get("metadata").and_then(|m| m.get("component"));
                inventory.describes = subject.and_then(|c| {
                    let name = text(c.get("name"))?;
                    Some(match text(c.get("version")) {
                        Some(v) => format!("{name}@{v}"),
                        None => name,
                    })
                });
                // Depth first, nested components right after their parent, without recursion.
                // The described component's own parts (`metadata.component.components`) are
                // components too: a deny rule must see them.
                let mut stack: Vec<&Value> = list(obj.get("components")).rev().collect();
                stack.extend(list(subject.and_then(|c| c.get("components"))).rev());
                while let Some(c) = stack.pop() {
                    inventory.push(max, || cyclonedx_component(c));
                    stack.extend(list(c.get("components")).rev());
                }
            }
            Format::Spdx => {
                inventory.describes = text(obj.get("name"));
                for p in list(obj.get("packages")) {
                    // A package with several purls is listed once per purl, so a deny rule
                    // sees each of them.
                    for purl in spdx_purls(p) {
                        inventory.push(max, || spdx_package(p, purl));
                    }
                }
            }
        }
        inventory.truncated = inventory.component_count > inventory.components.len();
        Ok(inventory)
    }

    fn push(&mut self, max: usize, make: impl FnOnce() -> Component) {
        self.component_count += 1;
        if self.components.len() < max {
            self.components.push(make());
        }
    }
}

fn list(v: Option<&Value>) -> std::slice::Iter<'_, Value> {
    match v {
        Some(Value::Array(items)) => items.iter(),
        _ => [].iter(),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    if s.is_empty() {
        return None;
    }
    Some(match s.char_indices().nth(MAX_FIELD) {
        Some((cut, _)) => s[..cut].to_owned(),
        None => s.to_owned(),
    })
}

/// Fills in the fields derived from purl and version.
fn component(
    name: Option<String>,
    version: Option<String>,
    purl: Option<String>,
    cpe: Option<String>,
    licenses: Vec<String>,
    hashes: BTreeMap<String, String>,
) -> Component {
    let parsed = purl.as_deref().and_then(|p| Purl::parse(p).ok());
    let semver = parsed
        .as_ref()
        .and_then(|p| p.version.as_deref())
        .or(version.as_deref())
        .and_then(coerce);
    Component {
        name: name.unwrap_or_default(),
        version,
        package: parsed.map(|p| p.package),
        semver,
        purl,
        cpe,
        licenses,
        hashes,
    }
}

fn cyclonedx_component(c: &Value) -> Component {
    let licenses = list(c.get("licenses"))
        .filter_map(|l| {
            text(l.get("expression"))
                .or_else(|| text(l.pointer("/license/id")))
                .or_else(|| text(l.pointer("/license/name")))
        })
        .take(MAX_PER_COMPONENT)
        .collect();
    let hashes = list(c.get("hashes"))
        .filter_map(|h| Some((text(h.get("alg"))?, text(h.get("content"))?)))
        .take(MAX_PER_COMPONENT)
        .collect();
    component(
        text(c.get("name")),
        text(c.get("version")),
        text(c.get("purl")),
        text(c.get("cpe")),
        licenses,
        hashes,
    )
}

/// The purls an SPDX package names (at least one entry, `None`, when it names none).
fn spdx_purls(p: &Value) -> Vec<Option<String>> {
    let purls: Vec<Option<String>> = list(p.get("externalRefs"))
        .filter(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
        .filter_map(|r| text(r.get("referenceLocator")))
        .take(MAX_PER_COMPONENT)
        .map(Some)
        .collect();
    if purls.is_empty() { vec![None] } else { purls }
}

fn spdx_package(p: &Value, purl: Option<String>) -> Component {
    let reference = |types: &[&str]| {
        list(p.get("externalRefs"))
            .find(|r| {
                r.get("referenceType")
                    .and_then(Value::as_str)
                    .is_some_and(|t| types.contains(&t))
            })
            .and_then(|r| text(r.get("referenceLocator")))
    };
    let license = |key: &str| text(p.get(key)).filter(|l| l != "NOASSERTION" && l != "NONE");
    let hashes = list(p.get("checksums"))
        .filter_map(|h| Some((text(h.get("algorithm"))?, text(h.get("checksumValue"))?)))
        .take(MAX_PER_COMPONENT)
        .collect();
    component(
        text(p.get("name")),
        text(p.get("versionInfo")),
        purl,
        reference(&["cpe23Type", "cpe22Type"]),
        license("licenseConcluded")
            .or_else(|| license("licenseDeclared"))
            .into_iter()
            .collect(),
        hashes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::sbom::{CYCLONEDX_BOM, SPDX_DOCUMENT_V2_3};

    #[test]
    fn cyclonedx_components_nested_and_bounded() {
        let doc = json!({
            "bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"component": {"name": "app", "version": "1.0"}},
            "components": [
                {"type": "library", "name": "lodash", "version": "4.17.20",
                 "purl": "pkg:npm/lodash@4.17.20",
                 "licenses": [{"license": {"id": "MIT"}}, {"expression": "MIT OR Apache-2.0"}],
                 "hashes": [{"alg": "SHA-256", "content": "ab"}],
                 "components": [{"type": "library", "name": "inner"}]},
                {"type": "library", "name": "tail", "cpe": "cpe:2.3:a:x:tail:1:*:*:*:*:*:*:*"}
            ]
        });
        let inv = Inventory::from_predicate("https://cyclonedx.org/bom", &doc).unwrap();
        assert_eq!(inv.describes.as_deref(), Some("app@1.0"));
        let names: Vec<&str> = inv.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["lodash", "inner", "tail"]);
        let lodash = &inv.components[0];
        assert_eq!(lodash.package.as_deref(), Some("pkg:npm/lodash"));
        assert_eq!(lodash.semver.as_deref(), Some("4.17.20"));
        assert_eq!(lodash.licenses, ["MIT", "MIT OR Apache-2.0"]);
        assert_eq!(lodash.hashes.get("SHA-256").map(String::as_str), Some("ab"));
        assert!(inv.components[2].cpe.is_some());
        let small = Inventory::read(detect(&doc).unwrap(), &doc, 2).unwrap();
        assert_eq!(
            (
                small.components.len(),
                small.component_count,
                small.truncated
            ),
            (2, 3, true)
        );
    }

    #[test]
    fn parts_of_the_described_component_and_every_spdx_purl_are_components() {
        let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
            "metadata": {"component": {"name": "fw", "components": [
                {"name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20"}]}},
            "components": [{"name": "zlib", "version": "1.3.1"}]});
        let inv = Inventory::from_predicate(CYCLONEDX_BOM, &bom).unwrap();
        let names: Vec<&str> = inv.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["lodash", "zlib"]);
        let doc = json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "d",
            "packages": [{"name": "both", "versionInfo": "1.0", "externalRefs": [
                {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                 "referenceLocator": "pkg:npm/left-pad@1.0.0"},
                {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                 "referenceLocator": "pkg:npm/lodash@4.17.20"}]}]});
        let inv = Inventory::from_predicate(SPDX_DOCUMENT_V2_3, &doc).unwrap();
        let purls: Vec<&str> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        assert_eq!(purls, ["pkg:npm/left-pad@1.0.0", "pkg:npm/lodash@4.17.20"]);
    }

    #[test]
    fn spdx_packages() {
        let doc = json!({
            "spdxVersion": "SPDX-2.3", "name": "doc",
            "packages": [{"name": "tokio", "versionInfo": "1.0.0", "licenseConcluded": "NOASSERTION",
                          "licenseDeclared": "MIT",
                          "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                            "referenceLocator": "pkg:cargo/tokio@1.0.0"}],
                          "checksums": [{"algorithm": "SHA256", "checksumValue": "cd"}]}]
        });
        let inv = Inventory::from_predicate("https://spdx.dev/Document/v2.3", &doc).unwrap();
        assert_eq!(inv.describes.as_deref(), Some("doc"));
        let c = &inv.components[0];
        assert_eq!(c.package.as_deref(), Some("pkg:cargo/tokio"));
        assert_eq!(c.licenses, ["MIT"]);
        assert_eq!(c.hashes.get("SHA256").map(String::as_str), Some("cd"));
    }

    #[test]
    fn format_must_match_the_type() {
        let spdx = json!({"spdxVersion": "SPDX-2.3"});
        assert!(Inventory::from_predicate("https://cyclonedx.org/bom", &spdx).is_err());
        let other = json!({"bomFormat": "AnotherFormat", "specVersion": "1.6"});
        assert!(Inventory::from_predicate("https://cyclonedx.org/bom", &other).is_err());
    }
}
