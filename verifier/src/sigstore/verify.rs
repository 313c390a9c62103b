//! Verifies a Sigstore bundle end to end: content signature, signer (certificate chain and
//! identity, or a trusted key), transparency-log evidence, timestamps, and the time rules.

use std::collections::BTreeMap;
use std::time::SystemTime;

use hallmark_model::bundle::Bundle;
use hallmark_model::digest::{Digest, DigestAlgorithm};
use hallmark_model::dsse::Envelope;
use hallmark_model::statement::{PAYLOAD_TYPE, Statement};

use super::certificate::{LeafCertificate, is_self_issued, verify_chain};
use super::error::{
    BundleError, CertificateError, Error, SignatureError, SignerKind, SubjectError, TimeError,
    TimestampError, TlogError,
};
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

/// What signed the bundle must be, before anyone asks who: a certificate (matched against
/// trusted identities afterwards), or this public key (a "managed key").
#[derive(Debug, Clone, Copy)]
pub enum ExpectedSigner<'a> {
    /// A certificate that chains to a trust-root certificate authority.
    Certificate,
    /// This public key.
    Key(&'a PublicKey),
}

impl ExpectedSigner<'_> {
    fn kind(&self) -> SignerKind {
        match self {
            ExpectedSigner::Certificate => SignerKind::Certificate,
            ExpectedSigner::Key(_) => SignerKind::Key,
        }
    }
}

impl<'a> From<SignerTrust<'a>> for ExpectedSigner<'a> {
    fn from(trust: SignerTrust<'a>) -> Self {
        match trust {
            SignerTrust::Identity(_) => ExpectedSigner::Certificate,
            SignerTrust::Key(key) => ExpectedSigner::Key(key),
        }
    }
}

/// A bundle whose signature and evidence verified once: the signing certificate chains to the
/// trust root at every verified time of signing and carries a trusted SCT, every log entry and
/// timestamp verified. What is left is cheap: matching the certificate against trusted
/// identities ([`Self::identity`]) and reading the statement ([`statement_of`]). Only
/// [`verify_parsed`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedBundle<'b> {
    leaf: Option<LeafCertificate>,
    envelope: Option<&'b Envelope>,
    times: Vec<SystemTime>,
    tlog_entries: usize,
}

impl<'b> VerifiedBundle<'b> {
    /// The verified signing certificate; `None` for a key-signed bundle.
    pub fn certificate(&self) -> Option<&LeafCertificate> {
        self.leaf.as_ref()
    }

    /// The DSSE envelope whose signature verified; `None` for a message signature.
    pub fn envelope(&self) -> Option<&'b Envelope> {
        self.envelope
    }

    /// Verified times of signing (SET integrated times and RFC 3161 times).
    pub fn times(&self) -> &[SystemTime] {
        &self.times
    }

    /// How many transparency-log entries verified.
    pub fn tlog_entries(&self) -> usize {
        self.tlog_entries
    }

    /// The certificate's Fulcio extensions by name (`sourceRepositoryURI`, ...).
    pub fn extensions(&self) -> BTreeMap<String, String> {
        let Some(leaf) = &self.leaf else {
            return BTreeMap::new();
        };
        EXTENSION_NAMES
            .iter()
            .filter_map(|(arc, name)| Some(((*name).to_owned(), leaf.fulcio.get(arc)?.clone())))
            .collect()
    }

    /// The identity of the first of `policies` the certificate matches (see
    /// [`IdentityPolicy::check_any`]).
    pub fn identity(&self, policies: &[IdentityPolicy]) -> Result<String, Error> {
        let Some(leaf) = &self.leaf else {
            let (found, expected) = (SignerKind::Key, SignerKind::Certificate);
            return Err(BundleError::SignerKind { found, expected }.into());
        };
        Ok(IdentityPolicy::check_any(policies, leaf)?)
    }
}

/// Verifies `bundle_bytes` for `artifact` against `trust`, at `now`: the evidence, then who
/// signed, then (for DSSE) the statement and its subject.
pub fn verify_bundle(
    bundle_bytes: &[u8],
    artifact: Artifact<'_>,
    trust: &TrustRoot,
    signer: SignerTrust<'_>,
    now: SystemTime,
) -> Result<SigstoreVerified, Error> {
    let bundle = Bundle::from_slice(bundle_bytes).map_err(|e| BundleError::Parse(e.to_string()))?;
    let verified = verify_parsed(&bundle, Some(artifact), trust, signer.into(), now)?;
    // Report the identity the policy matched, not merely the first SAN.
    let identity = match signer {
        SignerTrust::Identity(policy) => Some(verified.identity(std::slice::from_ref(policy))?),
        SignerTrust::Key(_) => None,
    };
    let statement = match verified.envelope {
        Some(envelope) => {
            let statement = statement_of(envelope)?;
            if statement
                .subjects_matching(artifact.sha256)
                .next()
                .is_none()
            {
                return Err(SubjectError::NotNamed(artifact.sha256.to_string()).into());
            }
            Some(statement)
        }
        None => None,
    };
    Ok(SigstoreVerified {
        issuer: verified
            .leaf
            .as_ref()
            .and_then(|l| l.issuer().map(str::to_owned)),
        extensions: verified.extensions(),
        identity,
        statement,
        tlog_entries: verified.tlog_entries,
        times: verified.times,
    })
}

/// The in-toto statement of a DSSE envelope, whose payloadType must say so. The same check for
/// key-signed and certificate-signed bundles.
pub fn statement_of(envelope: &Envelope) -> Result<Statement, SubjectError> {
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(SubjectError::PayloadType(envelope.payload_type.clone()));
    }
    Statement::from_slice(&envelope.payload).map_err(|e| SubjectError::Statement(e.to_string()))
}

/// Verifies a parsed bundle's signature and evidence, once, whoever is trusted to have signed
/// it. Without an `artifact`, a message signature is refused (it is verified against its
/// artifact), and a DSSE envelope is returned with its signature verified and its payload
/// unread.
pub fn verify_parsed<'b>(
    bundle: &'b Bundle,
    artifact: Option<Artifact<'_>>,
    trust: &TrustRoot,
    expected: ExpectedSigner<'_>,
    now: SystemTime,
) -> Result<VerifiedBundle<'b>, Error> {
    let requirement = if bundle.media_type.ends_with("version=0.1") {
        ProofRequirement::SetOrProof
    } else {
        ProofRequirement::InclusionProof
    };
    let vm = &bundle.verification_material;

    // Who signed.
    let leaf = match (&vm.certificate, &vm.x509_certificate_chain, &vm.public_key) {
        (Some(cert), _, _) => Some(LeafCertificate::parse(&cert.raw_bytes)?),
        (None, Some(chain), _) => {
            let (first, rest) = chain
                .certificates
                .split_first()
                .ok_or(CertificateError::EmptyChain)?;
            for extra in rest {
                // By content, wherever the trust root lists it (chains come in either order).
                let trusted_root = trust
                    .certificate_authorities
                    .iter()
                    .any(|ca| ca.chain.contains(&extra.raw_bytes));
                if is_self_issued(&extra.raw_bytes) && !trusted_root {
                    return Err(CertificateError::BundledRoot.into());
                }
            }
            Some(LeafCertificate::parse(&first.raw_bytes)?)
        }
        (None, None, Some(_)) => None,
        (None, None, None) => return Err(BundleError::NoSigner.into()),
    };
    let key = match (&leaf, expected) {
        (Some(leaf), ExpectedSigner::Certificate) => &leaf.key,
        (None, ExpectedSigner::Key(key)) => key,
        (Some(_), _) | (None, ExpectedSigner::Certificate) => {
            let found = match leaf {
                Some(_) => SignerKind::Certificate,
                None => SignerKind::Key,
            };
            let expected = expected.kind();
            return Err(BundleError::SignerKind { found, expected }.into());
        }
    };
    let signer_material = match &leaf {
        Some(leaf) => SignerMaterial::Certificate(&leaf.der),
        None => SignerMaterial::PublicKey(key.spki_der()),
    };

    // What was signed, and the signature over it. A message signature signs the artifact's
    // SHA-256.
    let message_digest = match (&bundle.dsse_envelope, artifact) {
        (None, Some(artifact)) => Some(sha256_bytes(artifact.sha256)?),
        _ => None,
    };
    let (content, signature, envelope) = match (&bundle.dsse_envelope, &bundle.message_signature) {
        (Some(envelope), _) => {
            let [only] = envelope.signatures.as_slice() else {
                return Err(SignatureError::DsseCount(envelope.signatures.len()).into());
            };
            if !key.verify(&envelope.signed_bytes(), &only.sig) {
                return Err(SignatureError::Dsse.into());
            }
            (
                SignedContent::Dsse(envelope),
                only.sig.as_slice(),
                Some(envelope),
            )
        }
        (None, Some(message)) => {
            let (Some(artifact), Some(digest)) = (artifact, message_digest.as_deref()) else {
                return Err(BundleError::NotDsse.into());
            };
            if let Some(stated) = &message.message_digest
                && (stated.algorithm != "SHA2_256" || stated.digest != digest)
            {
                return Err(SubjectError::MessageDigest.into());
            }
            let ok = match (key.algorithm().digest(), artifact.bytes) {
                (Some(_), _) => key.verify_prehashed_sha256(digest, &message.signature),
                (None, Some(bytes)) => key.verify(bytes, &message.signature),
                (None, None) => return Err(SignatureError::NeedsArtifact.into()),
            };
            if !ok {
                return Err(SignatureError::Message.into());
            }
            let content = SignedContent::Message {
                digest,
                signature: &message.signature,
            };
            (content, message.signature.as_slice(), None)
        }
        (None, None) => return Err(BundleError::NoContent.into()),
    };

    // Transparency log.
    let mut times = Vec::new();
    let mut unanchored_logs = Vec::new();
    if vm.tlog_entries.len() > MAX_TLOG_ENTRIES {
        let (found, limit) = (vm.tlog_entries.len(), MAX_TLOG_ENTRIES);
        return Err(TlogError::TooManyEntries { found, limit }.into());
    }
    for (i, entry) in vm.tlog_entries.iter().enumerate() {
        if vm.tlog_entries[..i].contains(entry) {
            return Err(TlogError::DuplicateEntry.into());
        }
        let verified = verify_entry(entry, trust, content, signer_material, requirement, now)?;
        match verified.integrated_time {
            Some(time) => times.push(time),
            None => unanchored_logs.push(verified),
        }
    }
    if leaf.is_some() && vm.tlog_entries.is_empty() {
        return Err(TlogError::Missing.into());
    }

    // Timestamps: at most MAX_TIMESTAMPS, no duplicates (each costs a chain verification).
    let stamps = &vm.timestamp_verification_data.rfc3161_timestamps;
    if stamps.len() > MAX_TIMESTAMPS {
        let (found, limit) = (stamps.len(), MAX_TIMESTAMPS);
        return Err(TimestampError::TooMany { found, limit }.into());
    }
    for (i, ts) in stamps.iter().enumerate() {
        if stamps[..i]
            .iter()
            .any(|earlier| earlier.signed_timestamp == ts.signed_timestamp)
        {
            return Err(TimestampError::Duplicate.into());
        }
    }
    // A token over other bytes is set aside (it proves nothing about this signature, as
    // sigstore-python and sigstore-go treat it); any other failure rejects the bundle.
    let mut set_aside = None;
    for ts in stamps {
        let time = match verify_timestamp(
            &ts.signed_timestamp,
            signature,
            &trust.timestamp_authorities,
        ) {
            Ok(time) => time,
            Err(e) if e.is_imprint_mismatch() => {
                set_aside.get_or_insert(e);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if time > now {
            return Err(TimestampError::InFuture(time).into());
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
            return Err(TlogError::LogValidity(entry.log.clone()).into());
        }
    }

    if let Some(leaf) = &leaf {
        let Some(&first) = times.iter().min() else {
            // When the only timestamps stamp other bytes, say so: that is why nothing dates it.
            return Err(match set_aside {
                Some(e) => e.into(),
                None => TimeError::NoVerifiedTime.into(),
            });
        };
        for &time in &times {
            let (not_before, not_after) = (leaf.not_before, leaf.not_after);
            if time < not_before {
                return Err(CertificateError::NotYetValid {
                    time,
                    not_before,
                    not_after,
                }
                .into());
            }
            if time > not_after {
                return Err(CertificateError::Expired {
                    time,
                    not_before,
                    not_after,
                }
                .into());
            }
        }
        let (_, issuer_spki) = verify_chain(leaf, &trust.certificate_authorities, first)
            .map_err(CertificateError::Chain)?;
        if !trust.ctlogs.is_empty() {
            verify_embedded_scts(&leaf.der, &issuer_spki, &trust.ctlogs)?;
        }
    }
    Ok(VerifiedBundle {
        leaf,
        envelope,
        times,
        tlog_entries: vm.tlog_entries.len(),
    })
}

fn sha256_bytes(digest: &Digest) -> Result<Vec<u8>, SubjectError> {
    if digest.algorithm() != DigestAlgorithm::Sha256 {
        return Err(SubjectError::DigestAlgorithm(digest.algorithm().name()));
    }
    Ok(digest.to_bytes())
}
