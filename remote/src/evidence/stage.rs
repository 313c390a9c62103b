//! Export: a staging OCI layout collecting the artifacts, the attestations of their chains, the
//! trust material, the policy and revocation lists, then the signed manifest over all of it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{Context, SHA256};
use hallmark_attester::signer::Signer;
use hallmark_model::digest::Digest;
use hallmark_model::limits::MAX_MANIFEST_BYTES;
use hallmark_model::resource::ResourceDescriptor;
use hallmark_model::statement::Statement;

use super::error::Error;
use super::manifest::{
    ANNOTATION_EVIDENCE, ArtifactEntry, BUNDLE_ARTIFACT_TYPE, BlobEntry, EVIDENCE_BUNDLE_V1,
    EvidenceManifest, MANIFEST_MEDIA_TYPE, MANIFEST_SCHEMA, PolicyEntry, Role, TrustRootEntry,
};
use crate::layout::{ANNOTATION_REF_NAME, LayoutStore, Subject};
use crate::oci::{
    ANNOTATION_SUBJECT, Descriptor, EMPTY_CONFIG, EMPTY_MEDIA_TYPE, FILE_MEDIA_TYPE, Index,
    Manifest,
};

type Result<T, E = Error> = std::result::Result<T, E>;

/// What is known of a blob while the listing is made: role, media type, name, subjects.
type Roles = BTreeMap<String, (Role, String, Option<String>, Vec<String>)>;

/// A bundle being assembled in a staging directory (an OCI image layout).
#[derive(Debug)]
pub struct Stage {
    store: LayoutStore,
    /// Blobs added by hand: digest → (role, media type, name).
    known: BTreeMap<String, (Role, String, Option<String>)>,
    artifacts: Vec<ArtifactEntry>,
}

/// What the exporter records besides the blobs.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// When (RFC 3339).
    pub created: String,
    /// The trust root used, when one was.
    pub trust_root: Option<TrustRootEntry>,
    /// The policy used, when one was.
    pub policy: Option<PolicyEntry>,
}

/// The finished, signed bundle layout.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The manifest document.
    pub manifest: EvidenceManifest,
    /// Its digest (the first subject of the signed statement).
    pub manifest_digest: String,
}

impl Stage {
    /// A staging layout in the empty (or missing) directory `dir`.
    pub fn new(dir: &Path) -> Result<Self> {
        Ok(Stage {
            store: LayoutStore::open(dir)?,
            known: BTreeMap::new(),
            artifacts: Vec::new(),
        })
    }

    /// The staging layout.
    pub fn store(&self) -> &LayoutStore {
        &self.store
    }

    /// Copies a file in as a blob, hashing while it streams; returns its digest and size.
    pub fn add_file(
        &mut self,
        path: &Path,
        role: Role,
        media_type: &str,
        name: &str,
    ) -> Result<(String, u64)> {
        let (digest, size) = stream_blob(&self.store, path)?;
        self.known.insert(
            digest.clone(),
            (role, media_type.to_owned(), Some(name.to_owned())),
        );
        Ok((digest, size))
    }

    /// Adds a file artifact (its content as a blob).
    pub fn add_file_artifact(&mut self, path: &Path, name: &str) -> Result<String> {
        let (digest, _) = self.add_file(path, Role::Artifact, FILE_MEDIA_TYPE, name)?;
        self.artifacts.push(ArtifactEntry {
            name: name.to_owned(),
            digest: digest.clone(),
            kind: super::manifest::ArtifactKind::File,
            ref_name: None,
            media_type: None,
        });
        Ok(digest)
    }

    /// Records an image already copied into the staging layout under `ref_name`.
    pub fn add_image_artifact(&mut self, name: &str, ref_name: &str) -> Result<String> {
        let image = self.store.image(Some(ref_name))?;
        self.artifacts.push(ArtifactEntry {
            name: name.to_owned(),
            digest: image.digest.clone(),
            kind: super::manifest::ArtifactKind::Image,
            ref_name: Some(ref_name.to_owned()),
            media_type: Some(image.media_type),
        });
        Ok(image.digest)
    }

    /// Copies the attestations `source` holds for `digest` and, walking back through the
    /// materials each statement claims, for every upstream digest (the chain a verifier walks).
    /// Claims only route the copy; the importer verifies everything. Returns how many were
    /// copied.
    pub fn add_chain(&mut self, source: &LayoutStore, digest: &str) -> Result<usize> {
        let mut copied = 0;
        let mut seen = BTreeSet::from([digest.to_owned()]);
        let mut queue = VecDeque::from([digest.to_owned()]);
        while let Some(target) = queue.pop_front() {
            let parsed: Digest = target.parse().map_err(crate::Error::from)?;
            for attestation in source.referrers(&parsed)? {
                let subject = Subject {
                    digest: parsed.clone(),
                    size: 0,
                    media_type: FILE_MEDIA_TYPE.to_owned(),
                };
                self.store
                    .put(&attestation.bundle, &[subject], &attestation.annotations)?;
                copied += 1;
                let Some(claim) = hallmark_verifier::chain::claim(&attestation.bundle) else {
                    continue;
                };
                for material in hallmark_verifier::chain::claimed_materials(&claim) {
                    if seen.len() >= hallmark_verifier::chain::MAX_CHAIN_LOOKUPS {
                        return Err(Error::Manifest(
                            "the chain names more digests than a verifier looks up".to_owned(),
                        ));
                    }
                    if material.starts_with("sha256:") && seen.insert(material.clone()) {
                        queue.push_back(material);
                    }
                }
            }
        }
        Ok(copied)
    }

    /// Lists every blob with its role, signs the manifest with `signer` and writes it, its
    /// signature and the OCI manifest holding both into the layout.
    pub fn seal(self, meta: Meta, signer: &dyn Signer) -> Result<Sealed> {
        let blobs = self.classify()?;
        let manifest = EvidenceManifest {
            schema_version: MANIFEST_SCHEMA.to_owned(),
            created: meta.created,
            exporter: signer.identity(),
            artifacts: self.artifacts.clone(),
            blobs,
            trust_root: meta.trust_root,
            policy: meta.policy,
        };
        let bytes =
            serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Manifest(e.to_string()))?;
        let manifest_digest = self.store.write_blob(&bytes)?;
        let mut subjects = vec![descriptor("evidence-manifest.json", &manifest_digest)?];
        for blob in &manifest.blobs {
            let hex = blob.digest.trim_start_matches("sha256:");
            subjects.push(descriptor(&format!("blobs/sha256/{hex}"), &blob.digest)?);
        }
        let predicate = serde_json::json!({
            "manifest": {"digest": manifest_digest, "mediaType": MANIFEST_MEDIA_TYPE},
            "created": manifest.created,
            "artifacts": manifest.artifacts,
        });
        let statement = Statement::new(subjects, EVIDENCE_BUNDLE_V1, predicate)
            .map_err(|e| Error::Manifest(e.to_string()))?;
        let signed = signer
            .sign_statement(&statement)
            .map_err(|e| Error::Manifest(format!("signing: {e}")))?
            .to_json();
        let signed_digest = self.store.write_blob(&signed)?;
        let config = self.store.write_blob(EMPTY_CONFIG)?;
        let wrapper = Manifest {
            schema_version: 2,
            media_type: crate::oci::MANIFEST_MEDIA_TYPE.to_owned(),
            artifact_type: Some(BUNDLE_ARTIFACT_TYPE.to_owned()),
            config: Descriptor::plain(EMPTY_MEDIA_TYPE, config, EMPTY_CONFIG.len() as u64),
            layers: vec![
                Descriptor::plain(
                    MANIFEST_MEDIA_TYPE,
                    manifest_digest.clone(),
                    bytes.len() as u64,
                ),
                Descriptor::plain(
                    hallmark_model::bundle::BUNDLE_V0_3,
                    signed_digest,
                    signed.len() as u64,
                ),
            ],
            subject: None,
            annotations: BTreeMap::new(),
        };
        let wrapper_bytes =
            serde_json::to_vec(&wrapper).map_err(|e| Error::Manifest(e.to_string()))?;
        let wrapper_digest = self.store.write_blob(&wrapper_bytes)?;
        let mut entry = Descriptor::plain(
            crate::oci::MANIFEST_MEDIA_TYPE,
            wrapper_digest,
            wrapper_bytes.len() as u64,
        );
        entry.artifact_type = Some(BUNDLE_ARTIFACT_TYPE.to_owned());
        entry
            .annotations
            .insert(ANNOTATION_EVIDENCE.to_owned(), "v1".to_owned());
        self.store.add_index_entries(vec![entry])?;
        Ok(Sealed {
            manifest,
            manifest_digest,
        })
    }

    /// Every blob in the layout with its role: those added by hand, the attestation manifests
    /// of the index (with their subjects) and their layers, the images and their blobs.
    fn classify(&self) -> Result<Vec<BlobEntry>> {
        let mut roles: Roles = self
            .known
            .iter()
            .map(|(d, (r, m, n))| (d.clone(), (*r, m.clone(), n.clone(), Vec::new())))
            .collect();
        let index: Index = read_json(&self.store.root().join("index.json"))?;
        for entry in &index.manifests {
            if let Some(subject) = entry.annotations.get(ANNOTATION_SUBJECT) {
                let slot = roles.entry(entry.digest.clone()).or_insert_with(|| {
                    (
                        Role::AttestationManifest,
                        entry.media_type.clone(),
                        None,
                        Vec::new(),
                    )
                });
                if !slot.3.contains(subject) {
                    slot.3.push(subject.clone());
                }
                let manifest: Manifest = serde_json::from_slice(
                    &self.store.read_blob(&entry.digest, MAX_MANIFEST_BYTES)?,
                )
                .map_err(|e| Error::Manifest(format!("{}: {e}", entry.digest)))?;
                roles.entry(manifest.config.digest.clone()).or_insert((
                    Role::EmptyConfig,
                    manifest.config.media_type.clone(),
                    None,
                    Vec::new(),
                ));
                for layer in manifest.layers {
                    roles.entry(layer.digest).or_insert((
                        Role::Attestation,
                        layer.media_type,
                        None,
                        Vec::new(),
                    ));
                }
            } else if entry.annotations.contains_key(ANNOTATION_REF_NAME) {
                self.classify_image(&entry.digest, &entry.media_type, &mut roles, 0)?;
            }
        }
        let blobs_dir = self.store.root().join("blobs/sha256");
        let mut out = Vec::new();
        for (digest, (role, media_type, name, subjects)) in roles {
            let path = blobs_dir.join(digest.trim_start_matches("sha256:"));
            let size = std::fs::metadata(&path).map_err(Error::io(&path))?.len();
            out.push(BlobEntry {
                digest,
                size,
                media_type,
                role,
                name,
                subjects,
            });
        }
        Ok(out)
    }

    fn classify_image(
        &self,
        digest: &str,
        media_type: &str,
        roles: &mut Roles,
        depth: u32,
    ) -> Result<()> {
        if depth > 4 {
            return Err(Error::Manifest("an image nests too deeply".to_owned()));
        }
        roles.insert(
            digest.to_owned(),
            (Role::ImageManifest, media_type.to_owned(), None, Vec::new()),
        );
        let value: serde_json::Value =
            serde_json::from_slice(&self.store.read_blob(digest, MAX_MANIFEST_BYTES)?)
                .map_err(|e| Error::Manifest(format!("{digest}: {e}")))?;
        if let Some(children) = value["manifests"].as_array() {
            for child in children {
                let (Some(d), m) = (child["digest"].as_str(), child["mediaType"].as_str()) else {
                    continue;
                };
                self.classify_image(d, m.unwrap_or_default(), roles, depth + 1)?;
            }
            return Ok(());
        }
        let blobs = std::iter::once(&value["config"])
            .chain(value["layers"].as_array().into_iter().flatten());
        for blob in blobs {
            if let Some(d) = blob["digest"].as_str() {
                roles.entry(d.to_owned()).or_insert((
                    Role::ImageBlob,
                    blob["mediaType"].as_str().unwrap_or_default().to_owned(),
                    None,
                    Vec::new(),
                ));
            }
        }
        Ok(())
    }
}

fn descriptor(name: &str, digest: &str) -> Result<ResourceDescriptor> {
    let hex = digest.trim_start_matches("sha256:");
    serde_json::from_value(serde_json::json!({"name": name, "digest": {"sha256": hex}}))
        .map_err(|e| Error::Manifest(e.to_string()))
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = crate::layout::read_limited_within(
        path,
        hallmark_model::limits::MAX_STORE_INDEX_BYTES,
        "index.json",
        None,
    )?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Manifest(format!("{}: {e}", path.display())))
}

/// Copies `path` into `store` as a blob, hashing while it streams (bounded memory); returns the
/// digest and size.
pub(super) fn stream_blob(store: &LayoutStore, path: &Path) -> Result<(String, u64)> {
    let dir: PathBuf = store.root().join("blobs/sha256");
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(Error::io(&dir))?;
    let file = File::open(path).map_err(Error::io(path))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut context = Context::new(&SHA256);
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(Error::io(path))?;
        if n == 0 {
            break;
        }
        context.update(&buffer[..n]);
        temp.write_all(&buffer[..n]).map_err(Error::io(path))?;
        size += n as u64;
    }
    let hex: String = context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dest = dir.join(&hex);
    temp.persist(&dest).map_err(|e| Error::io(&dest)(e.error))?;
    Ok((format!("sha256:{hex}"), size))
}
