//! OCI image-spec types Hallmark writes and reads (descriptor, manifest, index).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Media type of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image index.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The empty config of artifacts.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Content of the empty config blob.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// Media type for subjects that are plain files rather than OCI manifests.
pub const FILE_MEDIA_TYPE: &str = "application/octet-stream";

/// Annotation Sigstore clients use for the predicate type of a stored bundle.
pub const ANNOTATION_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
/// Annotation Sigstore clients use for the bundle content kind.
pub const ANNOTATION_CONTENT: &str = "dev.sigstore.bundle.content";
/// Index annotation naming the subject digest, so lookups need not open every manifest.
pub const ANNOTATION_SUBJECT: &str = "dev.hallmark.subject";
/// Annotation naming the Hallmark step, when the attestation records one.
pub const ANNOTATION_STEP: &str = "dev.hallmark.step";

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Artifact type, for manifests of artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image manifest (used for artifacts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`].
    pub media_type: String,
    /// The artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob (empty for artifacts).
    pub config: Descriptor,
    /// The content blobs.
    pub layers: Vec<Descriptor>,
    /// What this manifest refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image index (the layout's `index.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// [`INDEX_MEDIA_TYPE`].
    #[serde(default)]
    pub media_type: String,
    /// The manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl Index {
    /// An empty index.
    pub fn empty() -> Self {
        Index {
            schema_version: 2,
            media_type: INDEX_MEDIA_TYPE.to_owned(),
            manifests: Vec::new(),
        }
    }
}

impl Descriptor {
    /// A descriptor without artifact type or annotations.
    pub fn plain(media_type: &str, digest: String, size: u64) -> Self {
        Descriptor {
            media_type: media_type.to_owned(),
            digest,
            size,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }
}

impl Manifest {
    /// The artifact manifest of an attestation: artifactType = the bundle media type, the empty
    /// config, one bundle layer, `subject`, and the given annotations plus the content kind.
    pub fn attestation(
        config_digest: String,
        bundle_digest: String,
        bundle_size: u64,
        subject: Descriptor,
        annotations: &BTreeMap<String, String>,
    ) -> Self {
        let mut annotations = annotations.clone();
        annotations.insert(ANNOTATION_CONTENT.to_owned(), "dsse-envelope".to_owned());
        Manifest {
            schema_version: 2,
            media_type: MANIFEST_MEDIA_TYPE.to_owned(),
            artifact_type: Some(hallmark_model::bundle::BUNDLE_V0_3.to_owned()),
            config: Descriptor::plain(EMPTY_MEDIA_TYPE, config_digest, EMPTY_CONFIG.len() as u64),
            layers: vec![Descriptor::plain(
                hallmark_model::bundle::BUNDLE_V0_3,
                bundle_digest,
                bundle_size,
            )],
            subject: Some(subject),
            annotations,
        }
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    hallmark_attester::hashing::sha256(bytes).to_string()
}
