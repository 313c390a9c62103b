//! Verifies a Sigstore bundle end to end: content signature, signer (certificate chain and
//! identity, or a trusted key), transparency-log evidence, timestamps, and the time rules.

use std::collections::BTreeMap;
use std::time::SystemTime;

use hallmark_model::bundle::Bundle;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::dsse::Envelope;
use hallmark_model::statement::{PAYLOAD_TYPE, Statement};

use super::certificate::{LeafCertificate, is_self_issued, verify_chain};
use super::identity::IdentityPolicy;
use super::sct::verify_embedded_scts;
use super::timestamp::verify_timestamp;
use super::tlog::body::{SignedContent, SignerMaterial};
use super::tlog::{ProofRequirement, verify_entry};
use super::trust_root::{TrustRoot, valid_at};
use crate::keys::PublicKey;

/// Most transparency-log entries one bundle may carry.
pub const MAX_TLOG_ENTRIES: usize = 8;

/// Most RFC 3161 timestamps one bundle may carry.
pub const MAX_TIMESTAMPS: usize = 32;

/// Who the bundle must have been signed by.
#[derive(Debug, Clone, Copy)]
pub enum SignerTrust<'a> {
    /// A Fulcio certificate for this identity.
    Identity(&'a IdentityPolicy),
    /// This public key (a "managed key").
    Key(&'a PublicKey),
}

/// The artifact being verified.
#[derive(Debug, Clone, Copy)]
pub struct Artifact<'a> {
    /// Its SHA-256.
    pub sha256: &'a Digest,
    /// Its bytes, when available (needed only for Ed25519 message signatures).
    pub bytes: Option<&'a [u8]>,
}

/// A bundle that passed every check.
#[derive(Debug, Clone)]
pub struct SigstoreVerified {
    /// The signer identity (certificate SAN), for keyless bundles.
    pub identity: Option<String>,
    /// The OIDC issuer, for keyless bundles.
    pub issuer: Option<String>,
    /// Verified times of signing (SET integrated times and RFC 3161 times).
    pub times: Vec<SystemTime>,
    /// The in-toto statement, for DSSE bundles.
    pub statement: Option<Statement>,
    /// How many transparency-log entries verified.
    pub tlog_entries: usize,
    /// The leaf certificate's Fulcio extensions by name (`sourceRepositoryURI`, ...), for
    /// keyless bundles.
    pub extensions: BTreeMap<String, String>,
}

/// Names of the Fulcio extensions (OID 1.3.6.1.4.1.57264.1.N) by their last arc.
const EXTENSION_NAMES: &[(u32, &str)] = &[
    (9, "buildSignerURI"),
    (10, "buildSignerDigest"),
    (11, "runnerEnvironment"),
    (12, "sourceRepositoryURI"),
    (13, "sourceRepositoryDigest"),
    (14, "sourceRepositoryRef"),
    (15, "sourceRepositoryIdentifier"),
    (16, "sourceRepositoryOwnerURI"),
    (17, "sourceRepositoryOwnerIdentifier"),
    (18, "buildConfigURI"),
    (19, "buildConfigDigest"),
    (20, "buildTrigger"),
    (21, "runInvocationURI"),
    (22, "sourceRepositoryVisibilityAtSigning"),
];

/// Why a bundle was rejected: the check that failed, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{check}: {message}")]
pub struct SigstoreError {
    /// The check (`bundle`, `certificate`, `identity`, `signature`, `tlog`, `timestamp`, `time`, `subject`, `sct`).
    pub check: &'static str,
    /// What was wrong.
    pub message: String,
}

fn fail(check: &'static str) -> impl Fn(String) -> SigstoreError {
    move |message| SigstoreError { check, message }
}

fn err<T>(check: &'static str, message: impl Into<String>) -> Result<T, SigstoreError> {
    Err(SigstoreError {
        check,
        message: message.into(),
    })
}

/// Verifies `bundle_bytes` for `artifact` against `trust`, at `now`.
pub fn verify_bundle(
    bundle_bytes: &[u8],
    artifact: Artifact<'_>,
    trust: &TrustRoot,
    signer: SignerTrust<'_>,
    now: SystemTime,
) -> Result<SigstoreVerified, SigstoreError> {
    let bundle = Bundle::from_slice(bundle_bytes).map_err(|e| fail("bundle")(e.to_string()))?;
    verify_parsed(&bundle, Some(artifact), trust, signer, now)
}

/// Verifies a parsed bundle. Without an `artifact`, a DSSE bundle's statement is returned
/// unmatched (the caller matches its subjects, so one bundle listed for many digests is verified
/// once), and a message signature is refused.
pub fn verify_parsed(
    bundle: &Bundle,
    artifact: Option<Artifact<'_>>,
    trust: &TrustRoot,
    signer: SignerTrust<'_>,
    now: SystemTime,
) -> Result<SigstoreVerified, SigstoreError> {
    let requirement = if bundle.media_type.ends_with("version=0.1") {
        ProofRequirement::SetOrProof
    } else {
        ProofRequirement::InclusionProof
    };
    let vm = &bundle.verification_material;

    // Who signed.
    let leaf = match (&vm.certificate, &vm.x509_certificate_chain, &vm.public_key) {
        (Some(cert), _, _) => {
            Some(LeafCertificate::parse(&cert.raw_bytes).map_err(fail("certificate"))?)
        }
        (None, Some(chain), _) => {
            let (first, rest) = chain.certificates.split_first().ok_or_else(|| {
                fail("certificate")("the bundle's certificate chain is empty".into())
            })?;
            for extra in rest {
                let trusted_root = trust
                    .certificate_authorities
                    .iter()
                    .any(|ca| ca.chain.last() == Some(&extra.raw_bytes));
                if is_self_issued(&extra.raw_bytes) && !trusted_root {
                    return err(
                        "certificate",
                        "the bundle carries a root certificate that is not the trust root's",
                    );
                }
            }
            Some(LeafCertificate::parse(&first.raw_bytes).map_err(fail("certificate"))?)
        }
        (None, None, Some(_)) => None,
        (None, None, None) => return err("bundle", "the bundle has no certificate or public key"),
    };
    let key = match (&leaf, signer) {
        (Some(leaf), SignerTrust::Identity(_)) => &leaf.key,
        (None, SignerTrust::Key(key)) => key,
        (Some(_), SignerTrust::Key(_)) => {
            return err(
                "signature",
                "the bundle is signed with a certificate, not with the given key",
            );
        }
        (None, SignerTrust::Identity(_)) => {
            return err(
                "signature",
                "the bundle is signed with a key, not a certificate",
            );
        }
    };
    let signer_material = match &leaf {
        Some(leaf) => SignerMaterial::Certificate(&leaf.der),
        None => SignerMaterial::PublicKey(key.spki_der()),
    };

    // What was signed, and the signature over it.
    let artifact_digest = artifact.map(|a| sha256_bytes(a.sha256));
    let (content, signature, statement) = match (&bundle.dsse_envelope, &bundle.message_signature) {
        (Some(envelope), _) => {
            let statement = verify_dsse(envelope, key, artifact.map(|a| a.sha256))?;
            let sig = envelope
                .signatures
                .first()
                .map(|s| s.sig.as_slice())
                .unwrap_or_default();
            (SignedContent::Dsse(envelope), sig, Some(statement))
        }
        (None, Some(message)) => {
            let Some(digest) = &artifact_digest else {
                return err(
                    "bundle",
                    "a message signature is verified against its artifact",
                );
            };
            let digest = digest.as_ref().map_err(Clone::clone)?;
            if let Some(stated) = &message.message_digest
                && (stated.algorithm != "SHA2_256" || &stated.digest != digest)
            {
                return err(
                    "signature",
                    "the bundle's message digest is not the artifact's digest",
                );
            }
            let ok = match (key.algorithm().digest(), artifact.and_then(|a| a.bytes)) {
                (Some(_), _) => key.verify_prehashed_sha256(digest, &message.signature),
                (None, Some(bytes)) => key.verify(bytes, &message.signature),
                (None, None) => {
                    return err(
                        "signature",
                        "an Ed25519 message signature needs the artifact itself, not its digest",
                    );
                }
            };
            if !ok {
                return err(
                    "signature",
                    "the signature does not match the artifact and the signing key",
                );
            }
            let content = SignedContent::Message {
                digest,
                signature: &message.signature,
            };
            (content, message.signature.as_slice(), None)
        }
        (None, None) => return err("bundle", "the bundle has no content"),
    };

    // Transparency log.
    let mut times = Vec::new();
    let mut unanchored_logs = Vec::new();
    if vm.tlog_entries.len() > MAX_TLOG_ENTRIES {
        return err(
            "tlog",
            format!(
                "{} log entries; at most {MAX_TLOG_ENTRIES} are accepted",
                vm.tlog_entries.len()
            ),
        );
    }
    for (i, entry) in vm.tlog_entries.iter().enumerate() {
        if vm.tlog_entries[..i].contains(entry) {
            return err("tlog", "the bundle carries the same log entry twice");
        }
        let verified = verify_entry(entry, trust, content, signer_material, requirement, now)
            .map_err(fail("tlog"))?;
        match verified.integrated_time {
            Some(time) => times.push(time),
            None => unanchored_logs.push(verified),
        }
    }
    if leaf.is_some() && vm.tlog_entries.is_empty() {
        return err("tlog", "the bundle has no transparency-log entry");
    }

    // Timestamps: at most MAX_TIMESTAMPS, no duplicates (each costs a chain verification).
    let stamps = &vm.timestamp_verification_data.rfc3161_timestamps;
    if stamps.len() > MAX_TIMESTAMPS {
        return err(
            "timestamp",
            format!(
                "{} RFC 3161 timestamps; at most {MAX_TIMESTAMPS} are accepted",
                stamps.len()
            ),
        );
    }
    for (i, ts) in stamps.iter().enumerate() {
        if stamps[..i]
            .iter()
            .any(|earlier| earlier.signed_timestamp == ts.signed_timestamp)
        {
            return err(
                "timestamp",
                "the bundle carries the same RFC 3161 timestamp twice",
            );
        }
    }
    // A token over other bytes is set aside (it proves nothing about this signature, as
    // sigstore-python and sigstore-go treat it); any other failure rejects the bundle.
    for ts in stamps {
        let time = match verify_timestamp(
            &ts.signed_timestamp,
            signature,
            &trust.timestamp_authorities,
        ) {
            Ok(time) => time,
            Err(e) if e.is_imprint_mismatch() => continue,
            Err(e) => return err("timestamp", e.to_string()),
        };
        if time > now {
            return err("timestamp", "the RFC 3161 timestamp is in the future");
        }
        times.push(time);
    }

    // Entries without a SET (Rekor v2) are dated by the timestamps: the log's key must have been
    // valid at one of them.
    for entry in &unanchored_logs {
        // With no verified time at all (a key-signed bundle), the log must be valid now.
        let valid = if times.is_empty() {
            valid_at(entry.validity.as_ref(), now)
        } else {
            times.iter().any(|&t| valid_at(entry.validity.as_ref(), t))
        };
        if !valid {
            return err(
                "tlog",
                format!(
                    "log {} was not valid at any verified time of signing",
                    entry.log
                ),
            );
        }
    }

    let (identity, issuer, extensions) = match &leaf {
        Some(leaf) => {
            let Some(&first) = times.iter().min() else {
                return err(
                    "time",
                    "no verified time of signing: the bundle needs a signed entry timestamp or an RFC 3161 timestamp",
                );
            };
            for &time in &times {
                if !leaf.valid_at(time) {
                    return err(
                        "time",
                        format!(
                            "the signing certificate was not valid at {} (valid {} to {})",
                            humantime::format_rfc3339(time),
                            humantime::format_rfc3339(leaf.not_before),
                            humantime::format_rfc3339(leaf.not_after)
                        ),
                    );
                }
            }
            let (_, issuer_spki) = verify_chain(leaf, &trust.certificate_authorities, first)
                .map_err(fail("certificate"))?;
            if !trust.ctlogs.is_empty() {
                verify_embedded_scts(&leaf.der, &issuer_spki, &trust.ctlogs)
                    .map_err(|e| fail("sct")(e.to_string()))?;
            }
            // Report the identity the policy matched, not merely the first SAN.
            let identity = match signer {
                SignerTrust::Identity(policy) => {
                    Some(policy.check(leaf).map_err(fail("identity"))?)
                }
                SignerTrust::Key(_) => leaf.identities.first().cloned(),
            };
            let extensions = EXTENSION_NAMES
                .iter()
                .filter_map(|(arc, name)| Some(((*name).to_owned(), leaf.fulcio.get(arc)?.clone())))
                .collect();
            (identity, leaf.issuer().map(str::to_owned), extensions)
        }
        None => (None, None, BTreeMap::new()),
    };
    Ok(SigstoreVerified {
        identity,
        issuer,
        extensions,
        times,
        statement,
        tlog_entries: vm.tlog_entries.len(),
    })
}

fn sha256_bytes(digest: &Digest) -> Result<Vec<u8>, SigstoreError> {
    if digest.algorithm() != DigestAlgorithm::Sha256 {
        return err(
            "bundle",
            "Sigstore verification needs the artifact's SHA-256",
        );
    }
    Ok(digest.to_bytes())
}

fn verify_dsse(
    envelope: &Envelope,
    key: &PublicKey,
    artifact: Option<&Digest>,
) -> Result<Statement, SigstoreError> {
    if envelope.signatures.len() != 1 {
        return err(
            "signature",
            format!(
                "the DSSE envelope carries {} signatures; exactly 1 required",
                envelope.signatures.len()
            ),
        );
    }
    if !key.verify(&envelope.signed_bytes(), &envelope.signatures[0].sig) {
        return err(
            "signature",
            "the DSSE signature does not match the signing key",
        );
    }
    if envelope.payload_type != PAYLOAD_TYPE {
        return err(
            "signature",
            format!(
                "the DSSE payloadType is {:?}, not {PAYLOAD_TYPE}",
                envelope.payload_type
            ),
        );
    }
    let statement =
        Statement::from_slice(&envelope.payload).map_err(|e| fail("subject")(e.to_string()))?;
    if let Some(artifact) = artifact
        && statement.subjects_matching(artifact).next().is_none()
    {
        return err(
            "subject",
            format!("no subject of the statement has digest {artifact}"),
        );
    }
    Ok(statement)
}
