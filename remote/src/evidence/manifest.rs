//! The evidence bundle's manifest: every blob of the bundle with its digest, size, media type
//! and role, the artifacts it carries, and where its trust material and policy are. The exporter
//! signs it (an in-toto statement whose first subject is this document); the importer reads it
//! only after that signature verified against the importer's own trust (docs/evidence-bundle.md).

use serde::{Deserialize, Serialize};

/// `schemaVersion` of the manifest document.
pub const MANIFEST_SCHEMA: &str = "https://hallmark.dev/evidence-bundle/manifest/v1";
/// Media type of the manifest document.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.hallmark.evidence-bundle.manifest.v1+json";
/// Predicate type of the exporter's signed statement over the bundle.
pub const EVIDENCE_BUNDLE_V1: &str = "https://hallmark.dev/evidence-bundle/v1";
/// Predicate type of the importer's chain-of-custody attestation.
pub const CUSTODY_V1: &str = "https://hallmark.dev/custody/v1";
/// `artifactType` of the OCI manifest that holds the manifest document and its signature.
pub const BUNDLE_ARTIFACT_TYPE: &str = "application/vnd.hallmark.evidence-bundle.v1";
/// Index annotation marking that OCI manifest in `index.json`.
pub const ANNOTATION_EVIDENCE: &str = "dev.hallmark.evidence-bundle";
/// Media type of a Sigstore trusted root.
pub const TRUST_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// Media type of a PEM public key.
pub const KEY_MEDIA_TYPE: &str = "application/x-pem-file";
/// Media type of a policy file (declarative YAML, Rego or data).
pub const POLICY_MEDIA_TYPE: &str = "application/vnd.hallmark.policy.v1";

/// What a blob is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A file artifact's content.
    Artifact,
    /// An image manifest or image index.
    ImageManifest,
    /// An image config or layer.
    ImageBlob,
    /// An attestation's OCI artifact manifest.
    AttestationManifest,
    /// An attestation: a Sigstore bundle.
    Attestation,
    /// The empty config of artifact manifests.
    EmptyConfig,
    /// The Sigstore trust root the exporter verified with.
    TrustRoot,
    /// A public key the exporter verified with.
    Key,
    /// A policy file.
    Policy,
    /// A revocation list, carried as given.
    RevocationList,
}

impl Role {
    /// The role's name as written in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Role::Artifact => "artifact",
            Role::ImageManifest => "image-manifest",
            Role::ImageBlob => "image-blob",
            Role::AttestationManifest => "attestation-manifest",
            Role::Attestation => "attestation",
            Role::EmptyConfig => "empty-config",
            Role::TrustRoot => "trust-root",
            Role::Key => "key",
            Role::Policy => "policy",
            Role::RevocationList => "revocation-list",
        }
    }
}

/// One blob of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobEntry {
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
    /// What it is for.
    pub role: Role,
    /// A file name (artifacts, keys, policy files, revocation lists, the trust root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For an attestation manifest: the digests it is an attestation of (store index entries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
}

/// What kind of artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A file (one blob).
    File,
    /// An OCI image (a manifest or an index with every platform).
    Image,
}

/// One artifact the bundle delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactEntry {
    /// The file name, or the image reference it was exported from.
    pub name: String,
    /// `sha256:<hex>`: the file's content, or the image's top manifest.
    pub digest: String,
    /// File or image.
    pub kind: ArtifactKind,
    /// The image's name inside the layout (`org.opencontainers.image.ref.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_name: Option<String>,
    /// The top manifest's media type (images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// The trust root the exporter used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustRootEntry {
    /// The blob holding it.
    pub digest: String,
    /// Where it came from: `--trusted-root FILE`, the TUF cache, or the embedded snapshot.
    pub origin: String,
    /// The snapshot's date or the time it was fetched, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// The policy the exporter verified with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyEntry {
    /// The policy's name (its file or directory name).
    pub name: String,
    /// The policy digest, as `hallmark policy explain` and VSAs record it.
    pub digest: String,
}

/// The manifest document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceManifest {
    /// [`MANIFEST_SCHEMA`].
    pub schema_version: String,
    /// When the bundle was made (RFC 3339).
    pub created: String,
    /// Who signed it, as the signer describes itself (informative; the signature decides).
    pub exporter: String,
    /// The artifacts delivered.
    pub artifacts: Vec<ArtifactEntry>,
    /// Every blob, sorted by digest.
    pub blobs: Vec<BlobEntry>,
    /// The trust root used at export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_root: Option<TrustRootEntry>,
    /// The policy used at export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyEntry>,
}

impl EvidenceManifest {
    /// The blobs of one role.
    pub fn blobs_of(&self, role: Role) -> impl Iterator<Item = &BlobEntry> {
        self.blobs.iter().filter(move |b| b.role == role)
    }
}
