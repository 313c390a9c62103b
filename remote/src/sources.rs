//! The places a decision reads attestations from, as [`AttestationSource`]s: the local store
//! ([`StoreSource`]), a registry repository ([`RegistrySource`]) and bundle files given by hand
//! ([`BundleFiles`]). Each bounds its own reading and spends from the decision's budget; none
//! is trusted (the verifier checks every candidate).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hallmark_model::budget::Budget;
use hallmark_model::bundle::Bundle;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::dsse::Envelope;
use hallmark_model::limits::MAX_BUNDLE_BYTES;
use hallmark_model::text::printable;
use hallmark_verifier::chain;
use hallmark_verifier::source::{AttestationSource, Found, Lookup, SourceError};
use hallmark_verifier::verdict::Candidate;

use crate::layout::{Skipped, StoreReader, read_limited_within};
use crate::registry::attestations::{RegistryAttestations, Resolved};
use crate::registry::client::RegistryClient;
use crate::registry::cosign;
use crate::{Error, Result};

/// `sha256:0123456789ab`: a digest shortened for origins and display (whole when shorter, or
/// when the cut would split a character of attacker-supplied text).
pub fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

fn notes(where_: &str, skipped: Vec<Skipped>) -> Vec<String> {
    skipped
        .into_iter()
        .map(|s| {
            format!(
                "{where_}: skipped {}: {}",
                printable(&s.manifest_digest),
                printable(&s.error.to_string())
            )
        })
        .collect()
}

fn source_error(source: &dyn AttestationSource, error: Error) -> SourceError {
    SourceError {
        source_name: source.name(),
        error: Box::new(error),
    }
}

/// The local store (an OCI image layout), its index read once for the whole decision.
#[derive(Debug)]
pub struct StoreSource {
    reader: StoreReader,
}

impl StoreSource {
    /// Reads the store's index.
    pub fn new(reader: StoreReader) -> Self {
        StoreSource { reader }
    }
}

impl AttestationSource for StoreSource {
    fn name(&self) -> String {
        format!("store {}", self.reader.store().root().display())
    }

    fn lookup(&self, digest: &Digest, _: Lookup, budget: &Budget) -> Result<Found, SourceError> {
        let candidates = self
            .reader
            .referrers(digest, budget)
            .into_iter()
            .map(|r| {
                Candidate::with_checked_digest(
                    format!("store {}", short(&r.manifest_digest)),
                    r.bundle,
                    r.bundle_digest,
                )
            })
            .collect();
        Ok(Found::complete(
            candidates,
            notes(&self.name(), self.reader.take_skipped()),
        ))
    }
}

/// Most subjects of one bundle file routed to chain lookups.
const MAX_ROUTED_SUBJECTS: usize = 100_000;

/// Bundle files named by the user (Sigstore bundles, or bare DSSE envelopes wrapped into one).
/// For the artifact every file is a candidate, so one that does not name it is reported as
/// rejected rather than ignored; for a material, the files whose statement claims its digest.
#[derive(Debug, Default)]
pub struct BundleFiles {
    files: Vec<Candidate>,
    /// Indexes into `files` by the subjects each claims (unverified: routing only).
    by_subject: BTreeMap<Digest, Vec<usize>>,
}

impl BundleFiles {
    /// Reads `paths`, spending from `budget`.
    pub fn read(paths: &[impl AsRef<Path>], budget: &Budget) -> Result<Self> {
        let mut files = BundleFiles::default();
        for path in paths {
            let path = path.as_ref();
            let bytes = read_limited_within(path, MAX_BUNDLE_BYTES, "bundle", Some(budget))?;
            files.add(path.display().to_string(), bytes)?;
        }
        Ok(files)
    }

    /// Adds one file's bytes, read from `origin`.
    pub fn add(&mut self, origin: String, bytes: Vec<u8>) -> Result<()> {
        let bytes = if is_bare_dsse(&bytes) {
            Bundle::for_key_signed(Envelope::from_slice(&bytes)?, "").to_json()
        } else {
            bytes
        };
        let index = self.files.len();
        for subject in claimed_subjects(&bytes) {
            self.by_subject.entry(subject).or_default().push(index);
        }
        self.files.push(Candidate::new(origin, bytes));
        Ok(())
    }
}

/// True for a bare DSSE envelope, judged by its top-level keys only (no document tree of a
/// large file).
fn is_bare_dsse(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        payload_type: Option<serde::de::IgnoredAny>,
        media_type: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Shape>(bytes)
        .map(|v| v.payload_type.is_some() && v.media_type.is_none())
        .unwrap_or(false)
}

/// The distinct subject digests a bundle's statement claims, unverified: only to route files to
/// the lookups that may use them (every use verifies them).
fn claimed_subjects(bytes: &[u8]) -> BTreeSet<Digest> {
    chain::claim(bytes)
        .map(|c| {
            c.statement
                .subject
                .iter()
                .flat_map(|d| d.digest.iter())
                // Digests of the algorithms Hallmark computes; a malformed one names no
                // artifact: nothing is routed to it.
                .filter_map(|(alg, hex)| {
                    Digest::from_hex(DigestAlgorithm::from_name(alg)?, hex).ok()
                })
                .take(MAX_ROUTED_SUBJECTS)
                .collect()
        })
        .unwrap_or_default()
}

impl AttestationSource for BundleFiles {
    fn name(&self) -> String {
        "bundle files".to_owned()
    }

    fn lookup(&self, digest: &Digest, why: Lookup, _: &Budget) -> Result<Found, SourceError> {
        let candidates = match why {
            Lookup::Artifact => self.files.clone(),
            Lookup::Material => self
                .by_subject
                .get(digest)
                .into_iter()
                .flatten()
                .filter_map(|i| self.files.get(*i).cloned())
                .collect(),
        };
        Ok(Found::complete(candidates, Vec::new()))
    }
}

/// Most material digests one decision looks up in a registry (each costs requests).
pub const MAX_REGISTRY_LOOKUPS: usize = 512;

/// A registry repository: the attestations referring to a digest (the referrers API or its
/// tag-schema fallback, and cosign's legacy `.att` tags), for the artifact and for each material
/// of its chain, so chains verify against a registry without `hallmark pull` first.
#[derive(Debug)]
pub struct RegistrySource {
    client: RegistryClient,
    subject: Resolved,
    lookups: Cell<usize>,
}

impl RegistrySource {
    /// The repository of `subject` (the artifact, its tag already resolved to a digest).
    pub fn new(client: RegistryClient, subject: Resolved) -> Self {
        RegistrySource {
            client,
            subject,
            lookups: Cell::new(0),
        }
    }

    /// The artifact, resolved.
    pub fn subject(&self) -> &Resolved {
        &self.subject
    }

    /// The attestations referring to `subject` in this repository.
    fn discover(&self, subject: &Resolved, budget: &Budget) -> Result<Found> {
        let where_ = self.name();
        let attestations = RegistryAttestations::new(&self.client);
        let referrers = attestations.discover(subject, budget)?;
        let legacy = cosign::discover(&self.client, subject, budget)?;
        let mut notes = notes(&where_, referrers.skipped);
        notes.extend(self::notes(&where_, legacy.skipped));
        let candidates = referrers
            .attestations
            .into_iter()
            .map(|a| Candidate::new(format!("{where_} {}", short(&a.manifest_digest)), a.bundle))
            .chain(legacy.attestations.into_iter().map(|a| {
                Candidate::new(
                    format!("{where_} cosign .att {}", short(&a.manifest_digest)),
                    a.bundle,
                )
            }))
            .collect();
        Ok(Found::complete(candidates, notes))
    }
}

impl AttestationSource for RegistrySource {
    fn name(&self) -> String {
        let r = &self.subject.reference;
        format!("registry {}/{}", r.registry, r.repository)
    }

    fn lookup(&self, digest: &Digest, why: Lookup, budget: &Budget) -> Result<Found, SourceError> {
        let wanted = digest.to_string();
        let subject = if wanted == self.subject.digest {
            self.subject.clone()
        } else if why == Lookup::Artifact {
            // The artifact is the resolved subject; anything else is a caller's mistake.
            return Err(source_error(
                self,
                Error::Registry {
                    registry: self.subject.reference.registry.clone(),
                    message: format!(
                        "{wanted} is not the resolved artifact {}",
                        self.subject.digest
                    ),
                },
            ));
        } else {
            let used = self.lookups.get() + 1;
            self.lookups.set(used);
            if used > MAX_REGISTRY_LOOKUPS {
                let note = format!(
                    "{}: more than {MAX_REGISTRY_LOOKUPS} materials looked up; the rest of the chain was not read",
                    self.name()
                );
                return Ok(Found {
                    candidates: Vec::new(),
                    notes: (used == MAX_REGISTRY_LOOKUPS + 1)
                        .then_some(note)
                        .into_iter()
                        .collect(),
                    complete: false,
                });
            }
            // A material (a file, a layer) is looked up as a subject digest in the same
            // repository; it need not be a manifest there.
            Resolved {
                reference: self.subject.reference.with_digest(&wanted),
                digest: wanted,
                media_type: String::new(),
                size: 0,
                index: None,
            }
        };
        self.discover(&subject, budget)
            .map_err(|e| source_error(self, e))
    }
}
