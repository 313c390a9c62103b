//! The in-toto ResourceDescriptor.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::{DigestSet, validate_set};
use crate::{Error, Result};

/// An in-toto v1 ResourceDescriptor: a named, located and/or digested thing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// Human-readable name, e.g. a relative file path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// A URI that identifies the resource.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    /// Digests of the resource's content.
    #[serde(default, skip_serializing_if = "DigestSet::is_empty")]
    pub digest: DigestSet,
    /// The content itself, base64 in JSON (kept as text: we never need the bytes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// Where the resource can be downloaded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub download_location: String,
    /// Media type of the resource.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    /// Free-form annotations.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
}

impl ResourceDescriptor {
    /// A descriptor with a name and a digest set, the shape of a hashed file.
    pub fn named(name: impl Into<String>, digest: DigestSet) -> Self {
        ResourceDescriptor {
            name: name.into(),
            digest,
            ..Default::default()
        }
    }

    /// Checks the in-toto rules: something must identify the resource, and known digests must be
    /// well-formed.
    pub fn validate(&self) -> Result<()> {
        if self.name.is_empty()
            && self.uri.is_empty()
            && self.digest.is_empty()
            && self.content.is_empty()
        {
            return Err(Error::EmptyResourceDescriptor);
        }
        validate_set(&self.digest)
    }
}
