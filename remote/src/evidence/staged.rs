//! Import: an unpacked bundle in a staging directory, read only as far as the importer's
//! checks need, then committed to a store or pushed to a registry when everything passed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hallmark_model::bundle::BUNDLE_V0_3;
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES, MAX_PREDICATE_BYTES};

use super::archive::Unpacked;
use super::error::Error;
use super::manifest::{
    ANNOTATION_EVIDENCE, ArtifactKind, BUNDLE_ARTIFACT_TYPE, EvidenceManifest, MANIFEST_MEDIA_TYPE,
    MANIFEST_SCHEMA, Role,
};
use crate::layout::LayoutStore;
use crate::oci::{
    ANNOTATION_CONTENT, ANNOTATION_SUBJECT, Descriptor, FILE_MEDIA_TYPE, Index, Manifest,
};
use crate::registry::attestations::{RegistryAttestations, Resolved};
use crate::registry::client::RegistryClient;
use crate::registry::reference::Reference;

type Result<T, E = Error> = std::result::Result<T, E>;

/// An unpacked bundle, its signed manifest located but not yet trusted.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    unpacked: Unpacked,
    wrapper_digest: String,
    config_digest: String,
    /// Digest of the manifest document (what the exporter's statement names first).
    pub manifest_digest: String,
    manifest_bytes: Vec<u8>,
    /// The exporter's signed statement (a Sigstore bundle).
    pub signed: Vec<u8>,
}

fn read_blob(dir: &Path, digest: &str, limit: u64) -> Result<Vec<u8>> {
    // Digests also come from inside blobs (a manifest's layers, an index's children): only a
    // well-formed sha256 digest names a file, never a path of the attacker's choosing.
    let hex = digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or_else(|| Error::Manifest(format!("{digest:?} is not a sha256 blob digest")))?;
    let path = dir.join("blobs/sha256").join(hex);
    // Every blob was checked against its name while it was unpacked.
    Ok(crate::layout::read_limited_within(
        &path,
        limit,
        "bundle blob",
        None,
    )?)
}

impl Staged {
    /// Finds the signed manifest through `index.json` (the one entry marked as the evidence
    /// bundle) in the layout unpacked at `dir`.
    pub fn open(dir: &Path, unpacked: Unpacked) -> Result<Self> {
        let index_path = dir.join("index.json");
        if !index_path.exists() {
            return Err(Error::Manifest("the bundle has no index.json".to_owned()));
        }
        let index: Index = super::stage::read_json(&index_path)?;
        let marked: Vec<&Descriptor> = index
            .manifests
            .iter()
            .filter(|d| {
                d.annotations.contains_key(ANNOTATION_EVIDENCE)
                    || d.artifact_type.as_deref() == Some(BUNDLE_ARTIFACT_TYPE)
            })
            .collect();
        let [wrapper] = marked.as_slice() else {
            return Err(Error::Manifest(format!(
                "index.json marks {} evidence manifests; a bundle has exactly one",
                marked.len()
            )));
        };
        let wrapper_digest = wrapper.digest.clone();
        if !unpacked.blobs.contains_key(&wrapper_digest) {
            return Err(Error::Manifest(format!(
                "the evidence manifest {wrapper_digest} is not in the bundle"
            )));
        }
        let manifest: Manifest =
            serde_json::from_slice(&read_blob(dir, &wrapper_digest, MAX_MANIFEST_BYTES)?)
                .map_err(|e| Error::Manifest(format!("{wrapper_digest}: {e}")))?;
        let layer = |media: &str| {
            manifest
                .layers
                .iter()
                .find(|l| l.media_type == media)
                .map(|l| l.digest.clone())
                .ok_or_else(|| Error::Manifest(format!("{wrapper_digest} has no {media} layer")))
        };
        // The wrapper is not signed: its config may only be the empty one (two bytes), and it
        // holds nothing but the two layers, so no unsigned blob rides into the store with it.
        if manifest.config.digest != crate::oci::sha256_digest(crate::oci::EMPTY_CONFIG) {
            return Err(Error::Manifest(format!(
                "{wrapper_digest}: its config {} is not the empty config",
                manifest.config.digest
            )));
        }
        if manifest.layers.len() != 2 {
            return Err(Error::Manifest(format!(
                "{wrapper_digest} has {} layers; the evidence manifest has exactly two",
                manifest.layers.len()
            )));
        }
        let manifest_digest = layer(MANIFEST_MEDIA_TYPE)?;
        let signed_digest = layer(BUNDLE_V0_3)?;
        for d in [&manifest_digest, &signed_digest] {
            if !unpacked.blobs.contains_key(d) {
                return Err(Error::Missing {
                    digest: d.clone(),
                    role: "evidence manifest".to_owned(),
                });
            }
        }
        Ok(Staged {
            manifest_bytes: read_blob(dir, &manifest_digest, MAX_PREDICATE_BYTES)?,
            signed: read_blob(dir, &signed_digest, MAX_BUNDLE_BYTES)?,
            dir: dir.to_path_buf(),
            unpacked,
            wrapper_digest,
            config_digest: manifest.config.digest,
            manifest_digest,
        })
    }

    /// The archive's digest and size.
    pub fn archive(&self) -> (&str, u64) {
        (&self.unpacked.digest, self.unpacked.bytes)
    }

    /// The manifest document. Trust it only after the exporter's signature over
    /// [`Self::manifest_digest`] verified.
    pub fn manifest(&self) -> Result<EvidenceManifest> {
        let manifest: EvidenceManifest = serde_json::from_slice(&self.manifest_bytes)
            .map_err(|e| Error::Manifest(format!("{}: {e}", self.manifest_digest)))?;
        if manifest.schema_version != MANIFEST_SCHEMA {
            return Err(Error::Manifest(format!(
                "unknown schemaVersion {:?}",
                hallmark_model::text::printable(&manifest.schema_version)
            )));
        }
        Ok(manifest)
    }

    /// Every blob the manifest lists is present with its size, and nothing else is (besides the
    /// signed manifest itself).
    pub fn check_listing(&self, manifest: &EvidenceManifest) -> Result<()> {
        let mut listed = BTreeMap::new();
        for blob in &manifest.blobs {
            match self.unpacked.blobs.get(&blob.digest) {
                Some(size) if *size == blob.size => {}
                _ => {
                    return Err(Error::Missing {
                        digest: blob.digest.clone(),
                        role: blob.role.name().to_owned(),
                    });
                }
            }
            listed.insert(blob.digest.as_str(), ());
        }
        let own = [
            &self.wrapper_digest,
            &self.manifest_digest,
            &self.config_digest,
        ];
        let signed_digest = crate::oci::sha256_digest(&self.signed);
        for digest in self.unpacked.blobs.keys() {
            if !listed.contains_key(digest.as_str())
                && !own.contains(&digest)
                && *digest != signed_digest
            {
                return Err(Error::Unlisted(digest.clone()));
            }
        }
        for artifact in &manifest.artifacts {
            if !listed.contains_key(artifact.digest.as_str()) {
                return Err(Error::Missing {
                    digest: artifact.digest.clone(),
                    role: "artifact".to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The index entries the manifest implies: each image under its name, each attestation
    /// manifest once per subject. The carried `index.json` is not trusted.
    fn entries(&self, manifest: &EvidenceManifest) -> (Vec<(Descriptor, String)>, Vec<Descriptor>) {
        let size_of = |d: &str| self.unpacked.blobs.get(d).copied().unwrap_or_default();
        let images = manifest
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Image)
            .map(|a| {
                let descriptor = Descriptor::plain(
                    a.media_type
                        .as_deref()
                        .unwrap_or(crate::oci::MANIFEST_MEDIA_TYPE),
                    a.digest.clone(),
                    size_of(&a.digest),
                );
                (
                    descriptor,
                    a.ref_name.clone().unwrap_or_else(|| a.digest.clone()),
                )
            })
            .collect();
        let mut attestations = Vec::new();
        for blob in manifest.blobs_of(Role::AttestationManifest) {
            for subject in &blob.subjects {
                let mut d = Descriptor::plain(
                    crate::oci::MANIFEST_MEDIA_TYPE,
                    blob.digest.clone(),
                    blob.size,
                );
                d.artifact_type = Some(BUNDLE_V0_3.to_owned());
                d.annotations
                    .insert(ANNOTATION_SUBJECT.to_owned(), subject.clone());
                attestations.push(d);
            }
        }
        (images, attestations)
    }

    /// Replaces the staging `index.json` with the one the signed manifest implies and opens the
    /// staging layout as a store (the attestation source the importer verifies from).
    pub fn staging_store(&self, manifest: &EvidenceManifest) -> Result<LayoutStore> {
        let (images, attestations) = self.entries(manifest);
        let mut index = Index::empty();
        for (mut d, name) in images {
            d.annotations
                .insert(crate::layout::ANNOTATION_REF_NAME.to_owned(), name);
            index.manifests.push(d);
        }
        index.manifests.extend(attestations);
        let bytes = serde_json::to_vec(&index).map_err(|e| Error::Manifest(e.to_string()))?;
        let path = self.dir.join("index.json");
        std::fs::write(&path, bytes).map_err(Error::io(&path))?;
        let layout = self.dir.join("oci-layout");
        std::fs::write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(Error::io(&layout))?;
        Ok(LayoutStore::open(&self.dir)?)
    }

    /// Moves every blob into `dest` and lists the images and attestations in its index.
    /// Returns how many blobs were moved. Call only after every check passed.
    pub fn commit_to_store(
        &self,
        manifest: &EvidenceManifest,
        dest: &LayoutStore,
    ) -> Result<usize> {
        let blobs = self.dir.join("blobs/sha256");
        let mut moved = 0;
        for digest in self.unpacked.blobs.keys() {
            let path = blobs.join(digest.trim_start_matches("sha256:"));
            dest.adopt_blob(&path, digest)?;
            moved += 1;
        }
        let (images, attestations) = self.entries(manifest);
        dest.add_index_entries(attestations)?;
        for (descriptor, name) in images {
            dest.tag_image(descriptor, &name)?;
        }
        Ok(moved)
    }

    /// Pushes the images (every platform, blobs streamed from disk) and every attestation, as
    /// a referrer of its subject, to `reference`'s repository. Files are not pushed.
    pub fn push_to_registry(
        &self,
        manifest: &EvidenceManifest,
        client: &RegistryClient,
        reference: &Reference,
    ) -> Result<usize> {
        let mut pushed = 0;
        let images: Vec<_> = manifest
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Image)
            .collect();
        if images.len() > 1 && reference.tag.is_some() {
            return Err(Error::Manifest(
                "the bundle holds several images: name a repository without a tag".to_owned(),
            ));
        }
        for blob in manifest.blobs_of(Role::ImageBlob) {
            let path = self
                .dir
                .join("blobs/sha256")
                .join(blob.digest.trim_start_matches("sha256:"));
            client.put_blob_file(reference, &path, &blob.digest)?;
            pushed += 1;
        }
        let media: BTreeMap<&str, &str> = manifest
            .blobs_of(Role::ImageManifest)
            .map(|b| (b.digest.as_str(), b.media_type.as_str()))
            .collect();
        for image in &images {
            let mut order = Vec::new();
            self.manifest_order(&image.digest, &mut order, 0)?;
            for digest in order {
                let bytes = read_blob(&self.dir, &digest, MAX_MANIFEST_BYTES)?;
                let media_type = media
                    .get(digest.as_str())
                    .copied()
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .unwrap_or_else(|| media_type_of(&bytes));
                let tag = match &reference.tag {
                    Some(tag) if digest == image.digest => tag.clone(),
                    _ => digest.clone(),
                };
                client.put_manifest(reference, &tag, &bytes, &media_type)?;
                pushed += 1;
            }
        }
        let registry = RegistryAttestations::new(client);
        for blob in manifest.blobs_of(Role::AttestationManifest) {
            let bytes = read_blob(&self.dir, &blob.digest, MAX_MANIFEST_BYTES)?;
            let attestation: Manifest = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Manifest(format!("{}: {e}", blob.digest)))?;
            let Some(layer) = attestation.layers.iter().find(|l| {
                l.media_type
                    .starts_with("application/vnd.dev.sigstore.bundle")
            }) else {
                continue;
            };
            let bundle = read_blob(&self.dir, &layer.digest, MAX_BUNDLE_BYTES)?;
            let annotations: BTreeMap<String, String> = attestation
                .annotations
                .into_iter()
                .filter(|(k, _)| k != ANNOTATION_CONTENT)
                .collect();
            for subject in &blob.subjects {
                let media_type = media
                    .get(subject.as_str())
                    .map_or(FILE_MEDIA_TYPE, |m| m)
                    .to_owned();
                let resolved = Resolved {
                    reference: reference.with_digest(subject),
                    digest: subject.clone(),
                    media_type,
                    size: self
                        .unpacked
                        .blobs
                        .get(subject)
                        .copied()
                        .unwrap_or_default(),
                    index: None,
                };
                registry.push(&resolved, &bundle, &annotations)?;
                pushed += 1;
            }
        }
        Ok(pushed)
    }

    /// The manifests below `digest`, children first.
    fn manifest_order(&self, digest: &str, out: &mut Vec<String>, depth: u32) -> Result<()> {
        if depth > 4 || out.iter().any(|d| d == digest) {
            return Ok(());
        }
        let bytes = read_blob(&self.dir, digest, MAX_MANIFEST_BYTES)?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Manifest(format!("{digest}: {e}")))?;
        for child in value["manifests"].as_array().into_iter().flatten() {
            if let Some(d) = child["digest"].as_str() {
                self.manifest_order(d, out, depth + 1)?;
            }
        }
        out.push(digest.to_owned());
        Ok(())
    }
}

fn media_type_of(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| crate::oci::MANIFEST_MEDIA_TYPE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_read_from_a_blob_never_names_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let good = crate::oci::sha256_digest(b"{}");
        std::fs::write(blobs.join(good.trim_start_matches("sha256:")), b"{}").unwrap();
        std::fs::write(dir.path().join("secret"), b"plant secret").unwrap();
        assert_eq!(read_blob(dir.path(), &good, 16).unwrap(), b"{}");
        for bad in [
            "sha256:../../secret",
            "../../secret",
            "/etc/passwd",
            "sha256:/etc/passwd",
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha512:{}", "a".repeat(128)),
        ] {
            assert!(read_blob(dir.path(), bad, 1024).is_err(), "{bad}");
        }
    }
}
