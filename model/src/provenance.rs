//! The SLSA provenance v1 predicate (<https://slsa.dev/spec/v1.0/provenance>).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::resource::ResourceDescriptor;
use crate::{Error, Result};

/// predicateType of SLSA provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// SLSA provenance v0.2, read for older producers (slsa-github-generator v1, cosign).
pub const SLSA_PROVENANCE_V0_2: &str = "https://slsa.dev/provenance/v0.2";

/// The predicate types an artifact's provenance may have: what `verify` requires by default.
pub const PROVENANCE_TYPES: &[&str] = &[SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V0_2];

/// The predicate type URI a name stands for: cosign's shorthands (`slsaprovenance`,
/// `slsaprovenance1`, `spdxjson`, `cyclonedx`, `vuln`, `openvex`, `link`, ...) expanded, any
/// other text returned as given (a URI).
pub fn predicate_type_uri(name: &str) -> &str {
    match name {
        "slsaprovenance" | "slsaprovenance02" => SLSA_PROVENANCE_V0_2,
        "slsaprovenance1" => SLSA_PROVENANCE_V1,
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "link" => "https://in-toto.io/Link/v1",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        other => other,
    }
}

/// The SLSA provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// What was built and how.
    pub build_definition: BuildDefinition,
    /// Who ran the build and what happened.
    pub run_details: RunDetails,
}

/// The inputs of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    /// URI naming the template of this build; defines the parameter shapes.
    pub build_type: String,
    /// Parameters under the control of whoever started the build.
    pub external_parameters: Value,
    /// Parameters set by the build platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_parameters: Option<Value>,
    /// Artifacts fetched or read during the build.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// Details of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The build platform.
    pub builder: Builder,
    /// Invocation id and timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadata>,
    /// Other outputs of the build.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

/// The build platform's identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Builder {
    /// URI of the trusted build platform.
    pub id: String,
    /// Versions of the platform's components.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub version: BTreeMap<String, String>,
    /// Dependencies of the platform itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builder_dependencies: Vec<ResourceDescriptor>,
}

/// When and as what the build ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadata {
    /// Identifies this invocation of the builder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// RFC 3339 start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// RFC 3339 end time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

impl Provenance {
    /// Parses and validates a predicate, naming the first missing required field as in-toto's
    /// Go validator does.
    pub fn from_value(predicate: &Value) -> Result<Self> {
        let definition = predicate
            .get("buildDefinition")
            .filter(|v| !v.is_null())
            .ok_or(Error::ProvenanceField("buildDefinition"))?;
        if definition
            .get("buildType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            return Err(Error::ProvenanceField("buildDefinition.buildType"));
        }
        if definition
            .get("externalParameters")
            .is_none_or(Value::is_null)
        {
            return Err(Error::ProvenanceField("buildDefinition.externalParameters"));
        }
        let run = predicate
            .get("runDetails")
            .filter(|v| !v.is_null())
            .ok_or(Error::ProvenanceField("runDetails"))?;
        let builder = run
            .get("builder")
            .filter(|v| !v.is_null())
            .ok_or(Error::ProvenanceField("runDetails.builder"))?;
        if builder
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            return Err(Error::ProvenanceField("runDetails.builder.id"));
        }
        let provenance: Provenance =
            Provenance::deserialize(predicate).map_err(Error::json("SLSA provenance"))?;
        provenance.validate()?;
        Ok(provenance)
    }

    /// Validates the descriptors inside the predicate.
    pub fn validate(&self) -> Result<()> {
        self.build_definition
            .resolved_dependencies
            .iter()
            .chain(&self.run_details.builder.builder_dependencies)
            .chain(&self.run_details.byproducts)
            .try_for_each(ResourceDescriptor::validate)
    }

    /// The predicate as JSON.
    pub fn to_value(&self) -> Value {
        // Serializing plain data structures with string keys cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// buildType URI of one Hallmark build step (docs/buildtypes/step-v1.md).
pub const STEP_BUILD_TYPE: &str = "https://hallmark.dev/buildtypes/step/v1";

/// The step name in a predicate with Hallmark's step buildType, if it is one.
pub fn step_name(predicate: &Value) -> Option<&str> {
    let definition = predicate.get("buildDefinition")?;
    if definition.get("buildType")?.as_str()? != STEP_BUILD_TYPE {
        return None;
    }
    definition.get("externalParameters")?.get("step")?.as_str()
}
