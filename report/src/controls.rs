//! The controls a report assesses: NIST SP 800-53 rev. 5 ids and titles (taken verbatim from
//! the official OSCAL catalog, content version 5.0.1; a test compares them with it), and what
//! evidence Hallmark counts for each.

use serde::Serialize;
use serde_json::Value;

use crate::Error;

/// The control set reported on.
pub const NIST_800_53: &str = "nist-800-53";

/// Largest OSCAL catalog read, in bytes (the full SP 800-53 rev. 5 catalog is under 2 MiB;
/// the 5.1.1 one with assessment objectives is several).
pub const MAX_CATALOG: usize = 32 << 20;

/// One control of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Control {
    /// The OSCAL id, e.g. `sr-4`.
    pub id: String,
    /// The label, e.g. `SR-4`.
    pub label: String,
    /// The official title, e.g. `Provenance`.
    pub title: String,
    /// The control family.
    pub family: String,
    /// What Hallmark evidence satisfies it.
    pub evidence: &'static str,
}

/// (id, label, title, family, evidence): the catalog's words and ours.
const CONTROLS: [(&str, &str, &str, &str, &str); 8] = [
    (
        "sr-4",
        "SR-4",
        "Provenance",
        "Supply Chain Risk Management",
        "verified SLSA provenance naming the builder and the source commit",
    ),
    (
        "sr-11",
        "SR-11",
        "Component Authenticity",
        "Supply Chain Risk Management",
        "verified provenance from a trusted builder, and no verified revocation of the artifact",
    ),
    (
        "si-7",
        "SI-7",
        "Software, Firmware, and Information Integrity",
        "System and Information Integrity",
        "a verified signature over the artifact's digest, and every deployment record naming that same digest",
    ),
    (
        "cm-14",
        "CM-14",
        "Signed Components",
        "Configuration Management",
        "a verified signature by a trusted signer on the artifact's provenance, with a proven signing time for keyless signatures",
    ),
    (
        "cm-3",
        "CM-3",
        "Configuration Change Control",
        "Configuration Management",
        "every deployment preceded by a verified approval for its environment, with a change ticket",
    ),
    (
        "cm-8",
        "CM-8",
        "System Component Inventory",
        "Configuration Management",
        "a verified SBOM listing the artifact's components",
    ),
    (
        "sa-10",
        "SA-10",
        "Developer Configuration Management",
        "System and Services Acquisition",
        "provenance naming a source repository and commit, built from a clean tree",
    ),
    (
        "sr-3",
        "SR-3",
        "Supply Chain Controls and Processes",
        "Supply Chain Risk Management",
        "a recorded policy decision (a verified VSA that PASSED)",
    ),
];

/// The controls of `set` with their embedded titles.
pub fn controls(set: &str) -> Result<Vec<Control>, Error> {
    if set != NIST_800_53 {
        return Err(Error::UnknownControlSet(set.to_owned()));
    }
    Ok(CONTROLS
        .iter()
        .map(|(id, label, title, family, evidence)| Control {
            id: (*id).to_owned(),
            label: (*label).to_owned(),
            title: (*title).to_owned(),
            family: (*family).to_owned(),
            evidence,
        })
        .collect())
}

/// The controls of `set` with titles and families read from an OSCAL catalog (JSON), for a
/// newer catalog than the embedded one. Every control must be in it.
pub fn controls_from_catalog(set: &str, catalog: &[u8]) -> Result<Vec<Control>, Error> {
    if catalog.len() > MAX_CATALOG {
        return Err(Error::Catalog(format!("larger than {MAX_CATALOG} bytes")));
    }
    let doc: Value = serde_json::from_slice(catalog).map_err(|e| Error::Catalog(e.to_string()))?;
    let groups = doc
        .pointer("/catalog/groups")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Catalog("no catalog.groups".into()))?;
    let mut out = controls(set)?;
    for control in &mut out {
        let (title, family) = groups
            .iter()
            .find_map(|group| {
                let family = group.get("title")?.as_str()?;
                find(group.get("controls")?, &control.id).map(|title| (title, family))
            })
            .ok_or_else(|| Error::Catalog(format!("control {} is not in it", control.label)))?;
        control.title = title.to_owned();
        control.family = family.to_owned();
    }
    Ok(out)
}

/// The title of control `id` among `controls` and their enhancements.
fn find<'a>(controls: &'a Value, id: &str) -> Option<&'a str> {
    controls.as_array()?.iter().find_map(|c| {
        if c.get("id")?.as_str()? == id {
            c.get("title")?.as_str()
        } else {
            find(c.get("controls")?, id)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded titles are the official catalog's (HALLMARK_VECTORS points at
    /// shared/vectors; the test fails without it rather than pass unchecked).
    #[test]
    fn embedded_titles_are_the_catalogs() {
        let vectors = std::env::var("HALLMARK_VECTORS").expect("HALLMARK_VECTORS");
        // The full 5.0.1 catalog: SR-4 and CM-14 are in no baseline, so not in the resolved ones.
        let catalog =
            "oscal/oscal-content/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog-min.json";
        let bytes = std::fs::read(format!("{vectors}/{catalog}")).unwrap();
        let read = controls_from_catalog(NIST_800_53, &bytes).unwrap();
        assert_eq!(read, controls(NIST_800_53).unwrap());
    }

    #[test]
    fn a_catalog_without_a_control_or_an_unknown_set_is_refused() {
        let catalog = br#"{"catalog":{"groups":[{"title":"Supply Chain Risk Management","controls":[{"id":"sr-4","title":"Provenance"}]}]}}"#;
        let err = controls_from_catalog(NIST_800_53, catalog).unwrap_err();
        assert!(err.to_string().contains("SR-11"), "{err}");
        assert!(controls("iso-27001").is_err());
        assert!(controls_from_catalog(NIST_800_53, b"[]").is_err());
    }
}
