//! Attestations in a registry: pushed as OCI 1.1 artifact manifests whose `subject` is the
//! attested manifest, discovered through the referrers API or, where a registry lacks it, the
//! referrers tag schema (`sha256-<hex>` image index), which Hallmark maintains itself.
//!
//! Registries have no conditional PUT, so concurrent writers of the tag-schema index can
//! overwrite each other. On such registries each attestation manifest is also tagged
//! `sha256-<subject hex>.<12 hex of its own digest>`: creating a tag is atomic, so discovery
//! (the index plus those tags) never misses an attestation, and every writer folds the tags it
//! finds back into the index, repairing what a race dropped.

use std::collections::BTreeMap;

use hallmark_model::bundle::BUNDLE_V0_3;
use hallmark_model::limits::{MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES};

use super::client::RegistryClient;
use super::reference::Reference;
use crate::layout::{EntryRead, Skipped, StoredAttestation};
use crate::oci::{
    ANNOTATION_CONTENT, Descriptor, EMPTY_CONFIG, EMPTY_MEDIA_TYPE, INDEX_MEDIA_TYPE, Index,
    MANIFEST_MEDIA_TYPE, Manifest,
};
use crate::{Error, Result};
use hallmark_model::budget::{Budget, Work};

/// Most attestations read for one subject (the rest are skipped with a note).
pub const MAX_ATTESTATIONS: usize = 256;

/// What discovery found: the attestations it could read, and the referrers it skipped.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Attestations, digest-checked.
    pub attestations: Vec<StoredAttestation>,
    /// Referrers that could not be used (missing, oversize, not a manifest), with the reason.
    pub skipped: Vec<Skipped>,
}

/// Rounds of read-modify-write-reread on the tag-schema index before giving up.
const TAG_SCHEMA_ROUNDS: u32 = 8;

/// A subject resolved to its manifest digest: everything after works on the digest only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The reference, with the digest filled in.
    pub reference: Reference,
    /// The manifest's digest.
    pub digest: String,
    /// The manifest's media type.
    pub media_type: String,
    /// The manifest's size.
    pub size: u64,
    /// When the reference named an image index and a platform was picked: the index digest.
    pub index: Option<String>,
}

impl Resolved {
    /// True when this is an image index (a multi-platform image) rather than one manifest.
    pub fn is_index(&self) -> bool {
        self.media_type.contains("index") || self.media_type.contains("manifest.list")
    }

    /// What was resolved, in words: `sha256:…`, `image index sha256:…`, or
    /// `linux/arm64 manifest sha256:… of image index sha256:…`.
    pub fn describe(&self, platform: Option<&str>) -> String {
        match (&self.index, platform) {
            (Some(index), Some(p)) => {
                format!("{p} manifest {} of image index {index}", self.digest)
            }
            _ if self.is_index() => format!("image index {}", self.digest),
            _ => self.digest.clone(),
        }
    }
}

/// Attestations in one registry.
#[derive(Debug)]
pub struct RegistryAttestations<'a> {
    client: &'a RegistryClient,
}

fn corrupt(reference: &Reference, message: impl Into<String>) -> Error {
    Error::Registry {
        registry: reference.registry.clone(),
        message: message.into(),
    }
}

/// The tag of one attestation manifest on registries without the referrers API.
pub fn attestation_tag(subject_digest: &str, manifest_digest: &str) -> String {
    let short: String = manifest_digest
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect();
    format!("{}.{short}", tag_schema_tag(subject_digest))
}

/// The tag-schema tag for a digest: `sha256:abc` → `sha256-abc`.
pub fn tag_schema_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

impl<'a> RegistryAttestations<'a> {
    /// Wraps a client.
    pub fn new(client: &'a RegistryClient) -> Self {
        RegistryAttestations { client }
    }

    /// Resolves a tag (once) to the manifest digest; a digest reference is checked to exist.
    pub fn resolve(&self, reference: &Reference) -> Result<Resolved> {
        let manifest = self
            .client
            .get_manifest(reference, MAX_MANIFEST_BYTES)?
            .ok_or_else(|| corrupt(reference, format!("{reference} does not exist")))?;
        Ok(Resolved {
            reference: reference.with_digest(&manifest.digest),
            digest: manifest.digest.clone(),
            media_type: manifest.media_type,
            size: manifest.bytes.len() as u64,
            index: None,
        })
    }

    /// Resolves like [`Self::resolve`]; when the reference names an image index and `platform`
    /// (`os/arch[/variant]`) is given, descends to that platform's manifest. Without a platform an
    /// index stays an index: attesting an index and attesting one platform are different claims.
    pub fn resolve_platform(
        &self,
        reference: &Reference,
        platform: Option<&str>,
    ) -> Result<Resolved> {
        let top = self.resolve(reference)?;
        let Some(platform) = platform else {
            return Ok(top);
        };
        if !top.is_index() {
            return Err(Error::NotAnIndex {
                reference: reference.to_string(),
                digest: top.digest,
            });
        }
        let fetched = self
            .client
            .get_manifest(&top.reference, MAX_MANIFEST_BYTES)?
            .ok_or_else(|| corrupt(reference, format!("{reference} vanished")))?;
        let index: serde_json::Value = serde_json::from_slice(&fetched.bytes)
            .map_err(|e| corrupt(reference, format!("image index: {e}")))?;
        let mut parts = platform.split('/');
        let (os, arch, variant) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next(),
        );
        let entries = index["manifests"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let chosen = entries.iter().find(|m| {
            let p = &m["platform"];
            p["os"] == os && p["architecture"] == arch && variant.is_none_or(|v| p["variant"] == v)
        });
        let Some(chosen) = chosen else {
            let available: Vec<String> = entries
                .iter()
                .filter_map(|m| {
                    Some(format!(
                        "{}/{}",
                        m["platform"]["os"].as_str()?,
                        m["platform"]["architecture"].as_str()?
                    ))
                })
                .collect();
            return Err(corrupt(
                reference,
                format!(
                    "image index {} has no {platform} manifest (it has: {})",
                    top.digest,
                    available.join(", ")
                ),
            ));
        };
        let digest = chosen["digest"]
            .as_str()
            .ok_or_else(|| corrupt(reference, "index entry without a digest"))?;
        let mut resolved = self.resolve(&top.reference.with_digest(digest))?;
        resolved.index = Some(top.digest);
        Ok(resolved)
    }

    /// Pushes one bundle as a referrer of `subject`. Idempotent: the same bundle yields the same
    /// manifest, and the tag-schema index never lists it twice. Returns the manifest digest.
    pub fn push(
        &self,
        subject: &Resolved,
        bundle: &[u8],
        annotations: &BTreeMap<String, String>,
    ) -> Result<String> {
        let target = &subject.reference;
        let config = self.client.put_blob(target, EMPTY_CONFIG)?;
        let layer = self.client.put_blob(target, bundle)?;
        let manifest = Manifest::attestation(
            config,
            layer,
            bundle.len() as u64,
            Descriptor::plain(
                &subject.media_type.clone(),
                subject.digest.clone(),
                subject.size,
            ),
            annotations,
        );
        let bytes = serde_json::to_vec(&manifest).map_err(|e| corrupt(target, e.to_string()))?;
        let digest = crate::oci::sha256_digest(&bytes);
        if self
            .client
            .referrers(target, &subject.digest, MAX_MANIFEST_BYTES)?
            .is_some()
        {
            self.client
                .put_manifest(target, &digest, &bytes, MANIFEST_MEDIA_TYPE)?;
            return Ok(digest);
        }
        self.client.put_manifest(
            target,
            &attestation_tag(&subject.digest, &digest),
            &bytes,
            MANIFEST_MEDIA_TYPE,
        )?;
        let descriptor = Descriptor {
            media_type: MANIFEST_MEDIA_TYPE.to_owned(),
            digest: digest.clone(),
            size: bytes.len() as u64,
            artifact_type: Some(BUNDLE_V0_3.to_owned()),
            annotations: annotations.clone(),
        };
        self.add_to_tag_schema(subject, descriptor)?;
        Ok(digest)
    }

    /// Read, modify, write, re-read: the registry has no conditional PUT, so a concurrent writer
    /// may overwrite the index; the re-read catches that and the loop adds the entry again.
    fn add_to_tag_schema(&self, subject: &Resolved, descriptor: Descriptor) -> Result<()> {
        let tag = tag_schema_tag(&subject.digest);
        let tag_ref = Reference {
            tag: Some(tag.clone()),
            digest: None,
            ..subject.reference.clone()
        };
        for round in 0..TAG_SCHEMA_ROUNDS {
            let mut index = self.tag_schema_index(&tag_ref)?;
            let mut wanted = vec![descriptor.clone()];
            wanted.extend(self.tagged_attestations(subject, &index)?);
            let mut missing: Vec<Descriptor> = Vec::new();
            for w in wanted {
                let listed = index
                    .manifests
                    .iter()
                    .chain(&missing)
                    .any(|d| d.digest == w.digest);
                if !listed {
                    missing.push(w);
                }
            }
            if missing.is_empty() {
                return Ok(());
            }
            index.manifests.extend(missing);
            let bytes = serde_json::to_vec(&index).map_err(|e| corrupt(&tag_ref, e.to_string()))?;
            self.client
                .put_manifest(&tag_ref, &tag, &bytes, INDEX_MEDIA_TYPE)?;
            if self
                .tag_schema_index(&tag_ref)?
                .manifests
                .iter()
                .any(|d| d.digest == descriptor.digest)
            {
                return Ok(());
            }
            // Lost a race: back off a little, differently per round, and merge again.
            std::thread::sleep(std::time::Duration::from_millis(20 * u64::from(round + 1)));
        }
        Err(corrupt(
            &tag_ref,
            format!(
                "could not add the attestation to the referrers index {tag} after {TAG_SCHEMA_ROUNDS} rounds"
            ),
        ))
    }

    /// Descriptors of the attestations tagged for `subject` that `index` does not list yet.
    fn tagged_attestations(&self, subject: &Resolved, index: &Index) -> Result<Vec<Descriptor>> {
        let prefix = format!("{}.", tag_schema_tag(&subject.digest));
        let mut found = Vec::new();
        for tag in self
            .client
            .tags_with_prefix(&subject.reference, &prefix)?
            .into_iter()
            .take(MAX_ATTESTATIONS)
        {
            let tagged = Reference {
                tag: Some(tag),
                digest: None,
                ..subject.reference.clone()
            };
            let Some(m) = self.client.get_manifest(&tagged, MAX_MANIFEST_BYTES)? else {
                continue;
            };
            if index.manifests.iter().any(|d| d.digest == m.digest) {
                continue;
            }
            let Ok(parsed) = serde_json::from_slice::<Manifest>(&m.bytes) else {
                continue;
            };
            if parsed.subject.as_ref().map(|s| s.digest.as_str()) != Some(subject.digest.as_str()) {
                continue;
            }
            found.push(Descriptor {
                media_type: MANIFEST_MEDIA_TYPE.to_owned(),
                digest: m.digest,
                size: m.bytes.len() as u64,
                artifact_type: parsed.artifact_type,
                annotations: parsed
                    .annotations
                    .into_iter()
                    .filter(|(k, _)| k != ANNOTATION_CONTENT)
                    .collect(),
            });
        }
        Ok(found)
    }

    fn tag_schema_index(&self, tag_ref: &Reference) -> Result<Index> {
        match self.client.get_manifest(tag_ref, MAX_MANIFEST_BYTES)? {
            None => Ok(Index::empty()),
            Some(m) => serde_json::from_slice(&m.bytes).map_err(|e| {
                corrupt(
                    tag_ref,
                    format!("referrers index {}: {e}", tag_ref.manifest_reference()),
                )
            }),
        }
    }

    /// The attestations (Sigstore bundles) referring to `subject`, digest-checked. Anyone who
    /// can push to the repository can add referrers, so one that cannot be used (gone, claiming
    /// an oversize layer, not a manifest of this subject) is skipped with its reason rather than
    /// failing discovery; reading stops when `budget` is spent.
    pub fn discover(&self, subject: &Resolved, budget: &Budget) -> Result<Discovered> {
        let target = &subject.reference;
        let index: Index =
            match self
                .client
                .referrers(target, &subject.digest, MAX_MANIFEST_BYTES)?
            {
                Some(bytes) => serde_json::from_slice(&bytes)
                    .map_err(|e| corrupt(target, format!("referrers response: {e}")))?,
                None => {
                    let tag = tag_schema_tag(&subject.digest);
                    let mut index = self.tag_schema_index(&Reference {
                        tag: Some(tag),
                        digest: None,
                        ..target.clone()
                    })?;
                    let tagged = self.tagged_attestations(subject, &index)?;
                    index.manifests.extend(tagged);
                    index
                }
            };
        let mut found = Discovered::default();
        let mut seen = std::collections::HashSet::new();
        let candidates = index.manifests.iter().filter(|d| {
            d.artifact_type
                .as_deref()
                .is_some_and(|t| t.starts_with("application/vnd.dev.sigstore.bundle"))
        });
        for entry in candidates {
            if !seen.insert(entry.digest.clone()) {
                continue;
            }
            if seen.len() > MAX_ATTESTATIONS {
                found.skipped.push(Skipped {
                    manifest_digest: entry.digest.clone(),
                    error: corrupt(
                        target,
                        format!(
                            "more than {MAX_ATTESTATIONS} attestations refer to {}; the rest were not read",
                            subject.digest
                        ),
                    ),
                });
                break;
            }
            match EntryRead::from(self.referrer(subject, &entry.digest, budget)) {
                EntryRead::Found(a) => found.attestations.extend(a),
                EntryRead::OutOfBudget => break,
                EntryRead::Skipped(error) => found.skipped.push(Skipped {
                    manifest_digest: entry.digest.clone(),
                    error,
                }),
            }
        }
        Ok(found)
    }

    /// One referrer's bundle; `Ok(None)` when it is not an attestation of `subject`.
    fn referrer(
        &self,
        subject: &Resolved,
        digest: &str,
        budget: &Budget,
    ) -> Result<Option<StoredAttestation>> {
        let target = &subject.reference;
        budget.spend(Work::Attestations, 1).map_err(Error::budget)?;
        let Some(manifest) = self
            .client
            .get_manifest(&target.with_digest(digest), MAX_MANIFEST_BYTES)?
        else {
            return Err(corrupt(
                target,
                format!("manifest {digest} is listed but missing"),
            ));
        };
        budget
            .spend(Work::Bytes, manifest.bytes.len() as u64)
            .map_err(Error::budget)?;
        let parsed: Manifest = serde_json::from_slice(&manifest.bytes)
            .map_err(|e| corrupt(target, format!("manifest {digest}: {e}")))?;
        if parsed.subject.as_ref().map(|s| s.digest.as_str()) != Some(subject.digest.as_str()) {
            return Ok(None);
        }
        let Some(layer) = parsed.layers.iter().find(|l| {
            l.media_type
                .starts_with("application/vnd.dev.sigstore.bundle")
        }) else {
            return Ok(None);
        };
        // Refused by what it claims, before a byte of it is fetched.
        if layer.size > MAX_BUNDLE_BYTES {
            return Err(corrupt(
                target,
                format!(
                    "manifest {digest} claims a {}-byte bundle, over the limit of {MAX_BUNDLE_BYTES} bytes",
                    layer.size
                ),
            ));
        }
        budget
            .spend(Work::Bytes, layer.size)
            .map_err(Error::budget)?;
        let bundle = self
            .client
            .get_blob(target, &layer.digest, MAX_BUNDLE_BYTES)?;
        // A layer larger than it claimed is charged for what was read.
        budget
            .spend(
                Work::Bytes,
                (bundle.len() as u64).saturating_sub(layer.size),
            )
            .map_err(Error::budget)?;
        Ok(Some(StoredAttestation {
            manifest_digest: digest.to_owned(),
            bundle,
            annotations: parsed.annotations,
        }))
    }
}

/// Default artifactType of files pushed with `hallmark push-artifact`.
pub const FILE_ARTIFACT_TYPE: &str = "application/vnd.dev.hallmark.file.v1";

impl RegistryAttestations<'_> {
    /// Pushes a file as an OCI artifact (ORAS-style: empty config, one layer titled with the file
    /// name) under `reference`'s tag. Returns the manifest digest.
    pub fn push_file(
        &self,
        reference: &Reference,
        name: &str,
        bytes: &[u8],
        artifact_type: &str,
        media_type: &str,
    ) -> Result<String> {
        let config = self.client.put_blob(reference, EMPTY_CONFIG)?;
        let layer = self.client.put_blob(reference, bytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: MANIFEST_MEDIA_TYPE.to_owned(),
            artifact_type: Some(artifact_type.to_owned()),
            config: Descriptor {
                media_type: EMPTY_MEDIA_TYPE.to_owned(),
                digest: config,
                size: EMPTY_CONFIG.len() as u64,
                artifact_type: None,
                annotations: BTreeMap::new(),
            },
            layers: vec![Descriptor {
                media_type: media_type.to_owned(),
                digest: layer,
                size: bytes.len() as u64,
                artifact_type: None,
                annotations: BTreeMap::from([(
                    "org.opencontainers.image.title".to_owned(),
                    name.to_owned(),
                )]),
            }],
            subject: None,
            annotations: BTreeMap::new(),
        };
        let body = serde_json::to_vec(&manifest).map_err(|e| corrupt(reference, e.to_string()))?;
        let tag = reference.tag.as_deref().ok_or_else(|| {
            corrupt(
                reference,
                "push-artifact needs a tag (oci://REGISTRY/REPO:TAG)",
            )
        })?;
        self.client
            .put_manifest(reference, tag, &body, MANIFEST_MEDIA_TYPE)
    }
}
