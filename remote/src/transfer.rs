//! Copying an artifact and its attestations between registries and OCI image layout directories
//! (the first step of an air-gapped transfer).

use std::collections::BTreeMap;

use hallmark_model::budget::Budget;
use hallmark_model::digest::Digest;
use hallmark_model::limits::MAX_MANIFEST_BYTES;

use crate::layout::{LayoutStore, StoredAttestation, Subject};
use crate::oci::{Descriptor, sha256_digest};
use crate::registry::attestations::{RegistryAttestations, Resolved};
use crate::registry::client::RegistryClient;
use crate::registry::reference::Reference;
use crate::{Error, Result};

/// Largest blob copied between two registries or two layouts (through memory, one at a time).
pub const MAX_BLOB_BYTES: u64 = 1024 * 1024 * 1024;

/// Largest blob streamed between a registry and a layout (through a file, not memory).
pub const MAX_STREAMED_BLOB_BYTES: u64 = 64 << 30;

/// Most manifests copied for one artifact (an index and its platform manifests).
const MAX_NODES: usize = 256;

/// One end of a copy.
pub enum End<'a> {
    /// A registry repository, with its client.
    Registry(&'a RegistryClient, Reference),
    /// An OCI image layout directory (Hallmark's store format) and the image's ref name.
    Layout(&'a LayoutStore, Option<String>),
}

/// One manifest of the artifact's graph.
struct Node {
    digest: String,
    media_type: String,
    bytes: Vec<u8>,
    blobs: Vec<String>,
}

/// What was copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The top manifest's digest (the same on both ends).
    pub digest: String,
    /// Manifests copied (an index and its platform manifests count separately).
    pub manifests: usize,
    /// Blobs copied.
    pub blobs: usize,
    /// Attestations copied.
    pub attestations: usize,
}

fn err(message: impl Into<String>) -> Error {
    Error::Registry {
        registry: "copy".to_owned(),
        message: message.into(),
    }
}

fn fetch_manifest(end: &End<'_>, digest: Option<&str>) -> Result<(String, String, Vec<u8>)> {
    match end {
        End::Registry(client, reference) => {
            let r = match digest {
                Some(d) => reference.with_digest(d),
                None => reference.clone(),
            };
            let m = client
                .get_manifest(&r, MAX_MANIFEST_BYTES)?
                .ok_or_else(|| err(format!("{r} does not exist")))?;
            Ok((m.digest, m.media_type, m.bytes))
        }
        End::Layout(store, tag) => {
            let (digest, media_type) = match digest {
                Some(d) => (d.to_owned(), String::new()),
                None => {
                    let d = store.image(tag.as_deref())?;
                    (d.digest, d.media_type)
                }
            };
            let bytes = store.read_blob(&digest, MAX_MANIFEST_BYTES)?;
            let media_type = if media_type.is_empty() {
                media_type_of(&bytes)
            } else {
                media_type
            };
            Ok((digest, media_type, bytes))
        }
    }
}

fn media_type_of(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| crate::oci::MANIFEST_MEDIA_TYPE.to_owned())
}

/// The manifest graph below `digest` (children first), with each manifest's blobs.
fn graph(end: &End<'_>, digest: Option<&str>, out: &mut Vec<Node>, depth: u32) -> Result<String> {
    if depth > 4 {
        return Err(err("manifest graph nests too deeply"));
    }
    // Each manifest once, and a bounded graph whatever the source lists.
    if let Some(d) = digest
        && out.iter().any(|n| n.digest == d)
    {
        return Ok(d.to_owned());
    }
    if out.len() >= MAX_NODES {
        return Err(err(format!(
            "more than {MAX_NODES} manifests below one artifact"
        )));
    }
    let (digest, media_type, bytes) = fetch_manifest(end, digest)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| err(format!("manifest {digest}: {e}")))?;
    let mut blobs = Vec::new();
    if let Some(children) = value["manifests"].as_array() {
        for child in children {
            let d = child["digest"]
                .as_str()
                .ok_or_else(|| err("index entry without a digest"))?;
            graph(end, Some(d), out, depth + 1)?;
        }
    } else {
        let config = value["config"]["digest"]
            .as_str()
            .ok_or_else(|| err(format!("manifest {digest} has no config")))?;
        blobs.push(config.to_owned());
        for layer in value["layers"].as_array().into_iter().flatten() {
            blobs.push(
                layer["digest"]
                    .as_str()
                    .ok_or_else(|| err("layer without a digest"))?
                    .to_owned(),
            );
        }
    }
    out.push(Node {
        digest: digest.clone(),
        media_type,
        bytes,
        blobs,
    });
    Ok(digest)
}

fn read_blob(end: &End<'_>, digest: &str) -> Result<Vec<u8>> {
    match end {
        End::Registry(client, reference) => client.get_blob(reference, digest, MAX_BLOB_BYTES),
        End::Layout(store, _) => store.read_blob(digest, MAX_BLOB_BYTES),
    }
}

fn attestations(end: &End<'_>, top: &Node) -> Result<Vec<StoredAttestation>> {
    match end {
        End::Registry(client, reference) => {
            let subject = resolved(reference, top);
            // Copying is strict: a referrer that cannot be read is an error, not a skip.
            let budget = Budget::default();
            let mut found = RegistryAttestations::new(client).discover(&subject, &budget)?;
            let legacy = crate::registry::cosign::discover(client, &subject, &budget)?;
            found.attestations.extend(legacy.attestations);
            found.skipped.extend(legacy.skipped);
            if let Some(skipped) = found.skipped.into_iter().next() {
                return Err(skipped.error);
            }
            if let Some(e) = budget.exhausted() {
                return Err(Error::budget(e));
            }
            Ok(found.attestations)
        }
        End::Layout(store, _) => store.referrers(&top.digest.parse::<Digest>()?),
    }
}

fn resolved(reference: &Reference, top: &Node) -> Resolved {
    Resolved {
        reference: reference.with_digest(&top.digest),
        digest: top.digest.clone(),
        media_type: top.media_type.clone(),
        size: top.bytes.len() as u64,
        index: None,
    }
}

/// Copies the artifact at `from` (with every platform manifest and blob) and its attestations to
/// `to`. Digests are preserved, so attestations stay valid.
pub fn copy(from: &End<'_>, to: &End<'_>) -> Result<Copied> {
    let mut nodes = Vec::new();
    let top_digest = graph(from, None, &mut nodes, 0)?;
    let mut blobs = 0;
    for node in &nodes {
        for digest in &node.blobs {
            // Between a registry and a layout, blobs stream through files (bounded memory).
            match (from, to) {
                (End::Registry(client, reference), End::Layout(store, _)) => store
                    .write_blob_streamed(digest, |file| {
                        client
                            .get_blob_into(reference, digest, MAX_STREAMED_BLOB_BYTES, file)
                            .map(|_| ())
                    })?,
                (End::Layout(store, _), End::Registry(client, reference)) => {
                    // The registry checks the content against the digest it is pushed as.
                    client.put_blob_file(reference, &store.blob_path(digest)?, digest)?
                }
                _ => {
                    let bytes = read_blob(from, digest)?;
                    match to {
                        End::Registry(client, reference) => client.put_blob(reference, &bytes)?,
                        End::Layout(store, _) => store.write_blob(&bytes)?,
                    };
                }
            }
            blobs += 1;
        }
        if sha256_digest(&node.bytes) != node.digest {
            return Err(err(format!(
                "manifest {} does not match its digest",
                node.digest
            )));
        }
        let is_top = node.digest == top_digest;
        match to {
            End::Registry(client, reference) => {
                let tag = if is_top { reference.tag.clone() } else { None };
                client.put_manifest(
                    reference,
                    tag.as_deref().unwrap_or(&node.digest),
                    &node.bytes,
                    &node.media_type,
                )?;
            }
            End::Layout(store, tag) => {
                store.write_blob(&node.bytes)?;
                if is_top {
                    let name = tag.clone().or_else(|| match from {
                        End::Registry(_, r) => r.tag.clone(),
                        End::Layout(_, t) => t.clone(),
                    });
                    let descriptor = Descriptor {
                        media_type: node.media_type.clone(),
                        digest: node.digest.clone(),
                        size: node.bytes.len() as u64,
                        artifact_type: None,
                        annotations: BTreeMap::new(),
                    };
                    store.tag_image(descriptor, name.as_deref().unwrap_or(&node.digest))?;
                }
            }
        }
    }
    // Attestations of the top manifest and of every platform manifest below it.
    let mut copied_attestations = 0;
    for node in &nodes {
        let found = attestations(from, node)?;
        for attestation in &found {
            match to {
                End::Registry(client, reference) => {
                    let annotations: BTreeMap<String, String> = attestation
                        .annotations
                        .iter()
                        .filter(|(k, _)| {
                            !k.starts_with("dev.sigstore.cosign")
                                && k.as_str() != crate::oci::ANNOTATION_CONTENT
                        })
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    RegistryAttestations::new(client).push(
                        &resolved(reference, node),
                        &attestation.bundle,
                        &annotations,
                    )?;
                }
                End::Layout(store, _) => {
                    let subject = Subject {
                        digest: node.digest.parse()?,
                        size: node.bytes.len() as u64,
                        media_type: node.media_type.clone(),
                    };
                    store.put(
                        &attestation.bundle,
                        std::slice::from_ref(&subject),
                        &attestation.annotations,
                    )?;
                }
            }
        }
        copied_attestations += found.len();
    }
    Ok(Copied {
        digest: top_digest,
        manifests: nodes.len(),
        blobs,
        attestations: copied_attestations,
    })
}

/// What [`push_chain`] pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainPushed {
    /// Attestations pushed (each once per subject digest).
    pub attestations: usize,
    /// Digests (the artifact and upstream materials) with at least one attestation.
    pub digests: usize,
}

/// Pushes what the store holds for `subject` and, walking back through the materials each
/// statement claims, for every upstream digest: each attestation as a referrer of its own
/// subject digest in `subject`'s repository, so that `hallmark verify` walks the whole chain
/// from the registry. Claims only route the copy; the verifier checks everything it reads.
pub fn push_chain(
    store: &LayoutStore,
    registry: &RegistryAttestations<'_>,
    subject: &Resolved,
) -> Result<ChainPushed> {
    let mut pushed = ChainPushed::default();
    let mut seen = std::collections::BTreeSet::from([subject.digest.clone()]);
    let mut queue = std::collections::VecDeque::from([subject.clone()]);
    while let Some(target) = queue.pop_front() {
        let digest: Digest = target.digest.parse()?;
        let found = store.referrers(&digest)?;
        if !found.is_empty() {
            pushed.digests += 1;
        }
        for attestation in found {
            let annotations: BTreeMap<String, String> = attestation
                .annotations
                .into_iter()
                .filter(|(k, _)| k != crate::oci::ANNOTATION_CONTENT)
                .collect();
            registry.push(&target, &attestation.bundle, &annotations)?;
            pushed.attestations += 1;
            let Some(claim) = hallmark_verifier::chain::claim(&attestation.bundle) else {
                continue;
            };
            for material in hallmark_verifier::chain::claimed_materials(&claim) {
                if seen.len() >= hallmark_verifier::chain::MAX_CHAIN_LOOKUPS {
                    return Err(err("the chain names more digests than a verifier looks up"));
                }
                if material.starts_with("sha256:") && seen.insert(material.clone()) {
                    // A file is not a manifest in the registry: it is named by digest only.
                    queue.push_back(Resolved {
                        reference: subject.reference.with_digest(&material),
                        digest: material,
                        media_type: "application/octet-stream".to_owned(),
                        size: 0,
                        index: None,
                    });
                }
            }
        }
    }
    Ok(pushed)
}
