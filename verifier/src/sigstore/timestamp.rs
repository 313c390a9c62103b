//! RFC 3161 signed timestamps from the trust root's timestamp authorities.
//!
//! A token counts only when, for one of the trust root's timestamp authorities: the TSTInfo's
//! message imprint is the digest of the stamped bytes; the CMS signed attributes carry the
//! TSTInfo's content type and digest; the signer certificate (embedded or the authority's own)
//! chains at genTime to that authority's root and has the critical timeStamping EKU; the
//! signature over the signed attributes verifies with its key; and genTime lies in the
//! authority's validity window. Certificates embedded in a token are path material only, never
//! trust anchors.

use std::fmt::Display;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{self, SHA256, SHA384, SHA512};
use const_oid::db::{rfc3161, rfc5280, rfc5911, rfc5912, rfc8410};
use der::asn1::{AnyRef, IntRef, ObjectIdentifier, OctetStringRef};
use der::{DateTime, Decode, Reader, Sequence, SliceReader, Tag, Tagged};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use spki::AlgorithmIdentifierRef;
use webpki::EndEntityCert;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::name::Name;

use crate::sigstore::certificate::chain_anchor;
use crate::sigstore::error::TimestampError;
use crate::sigstore::trust_root::{CertificateAuthority, valid_at};

/// Largest token accepted: 64 KiB.
const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// id-kp-timeStamping (1.3.6.1.5.5.7.3.8) as DER content octets, the form webpki takes.
const EKU_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

fn bad(detail: impl Display) -> TimestampError {
    TimestampError::Malformed(detail.to_string())
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimestampError {
    move |e| bad(format!("{what}: {e}"))
}

fn ensure(ok: bool, error: impl FnOnce() -> TimestampError) -> Result<(), TimestampError> {
    if ok { Ok(()) } else { Err(error()) }
}

fn show(time: SystemTime) -> String {
    humantime::format_rfc3339(time).to_string()
}

#[derive(Sequence)]
struct ContentInfo<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: AnyRef<'a>,
}

#[derive(Sequence)]
struct EncapContentInfo<'a> {
    e_content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    e_content: Option<&'a OctetStringRef>,
}

#[derive(Sequence)]
struct MessageImprint<'a> {
    hash_algorithm: AlgorithmIdentifierRef<'a>,
    hashed_message: &'a OctetStringRef,
}

#[derive(Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<u64>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<u16>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<u16>,
}

#[derive(Sequence)]
struct TstInfo<'a> {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint<'a>,
    serial_number: IntRef<'a>,
    /// Read by hand: `der`'s GeneralizedTime refuses the fractions RFC 3161 allows.
    gen_time: AnyRef<'a>,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<IntRef<'a>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<AnyRef<'a>>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

#[derive(Sequence)]
struct IssuerAndSerial<'a> {
    issuer: Name,
    serial_number: IntRef<'a>,
}

/// One SignerInfo (RFC 5652 5.3); `signed_attrs` is the whole `[0]` TLV as encoded.
struct SignerInfo<'a> {
    sid: &'a [u8],
    digest_algorithm: AlgorithmIdentifierRef<'a>,
    signed_attrs: Option<&'a [u8]>,
    signature_algorithm: AlgorithmIdentifierRef<'a>,
    signature: &'a [u8],
}

/// SignedData's encapsulated content, certificates (raw) and SignerInfos.
type SignedData<'a> = (EncapContentInfo<'a>, Vec<&'a [u8]>, Vec<SignerInfo<'a>>);

/// The elements of a constructed value, as raw TLVs.
fn elements(any: AnyRef<'_>) -> der::Result<Vec<&[u8]>> {
    let mut reader = SliceReader::new(any.value())?;
    let mut items = Vec::new();
    while !reader.is_finished() {
        items.push(reader.tlv_bytes()?);
    }
    Ok(items)
}

fn parse_signer_info<'a>(r: &mut SliceReader<'a>) -> der::Result<SignerInfo<'a>> {
    let _version: u8 = r.decode()?;
    let sid = r.tlv_bytes()?;
    let digest_algorithm = r.decode()?;
    let signed_attrs = (r.peek_byte() == Some(0xA0)).then(|| r.tlv_bytes());
    let signed_attrs = signed_attrs.transpose()?;
    let signature_algorithm = r.decode()?;
    let signature = r.decode::<&'a OctetStringRef>()?.as_bytes();
    while !r.is_finished() {
        r.tlv_bytes()?; // unsignedAttrs
    }
    Ok(SignerInfo {
        sid,
        digest_algorithm,
        signed_attrs,
        signature_algorithm,
        signature,
    })
}

fn parse_signed_data<'a>(r: &mut SliceReader<'a>) -> der::Result<SignedData<'a>> {
    let _version: u8 = r.decode()?;
    let _digest_algorithms: AnyRef<'a> = r.decode()?;
    let encap = r.decode()?;
    let mut certificates = Vec::new();
    if r.peek_byte() == Some(0xA0) {
        // Only plain certificates: other CertificateChoices cannot be a TSA's.
        certificates = elements(r.decode()?)?;
        certificates.retain(|c| c.first() == Some(&0x30));
    }
    if r.peek_byte() == Some(0xA1) {
        r.tlv_bytes()?; // crls
    }
    let infos: AnyRef<'a> = r.decode()?;
    infos.tag().assert_eq(Tag::Set)?;
    let mut reader = SliceReader::new(infos.value())?;
    let mut signer_infos = Vec::new();
    while !reader.is_finished() {
        signer_infos.push(reader.sequence(parse_signer_info)?);
    }
    Ok((encap, certificates, signer_infos))
}

/// Sigstore bundles hold the whole TimeStampResp (RFC 3161 2.4.2): take its token if granted.
fn token_of(der: &[u8]) -> Result<&[u8], TimestampError> {
    let parts = AnyRef::from_der(der).and_then(elements);
    let parts = parts.map_err(malformed("token"))?;
    // A ContentInfo starts with its content type OID, a TimeStampResp with its PKIStatusInfo.
    let Some(status) = parts.first().filter(|p| p.first() == Some(&0x30)) else {
        return Ok(der);
    };
    let status = AnyRef::from_der(status).and_then(elements);
    let code = status.and_then(|s| u8::from_der(s.first().copied().unwrap_or_default()));
    match (code, parts.as_slice()) {
        (Ok(0 | 1), [_, token]) => Ok(token),
        (code, _) => Err(bad(format!("TSA status {code:?}"))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: ObjectIdentifier) -> Result<Self, TimestampError> {
        match oid {
            rfc5912::ID_SHA_256 => Ok(Hash::Sha256),
            rfc5912::ID_SHA_384 => Ok(Hash::Sha384),
            rfc5912::ID_SHA_512 => Ok(Hash::Sha512),
            other => Err(TimestampError::UnsupportedAlgorithm(format!(
                "digest {other}"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Hash::Sha256 => &SHA256,
            Hash::Sha384 => &SHA384,
            Hash::Sha512 => &SHA512,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }
}

type Algorithms = Vec<&'static dyn SignatureVerificationAlgorithm>;

/// What a CMS signatureAlgorithm may mean, for any curve; the signer's key picks one.
fn signature_algorithms(oid: ObjectIdentifier, digest: Hash) -> Result<Algorithms, TimestampError> {
    use webpki::aws_lc_rs::*;
    let ecdsa = |hash| match hash {
        Hash::Sha256 => vec![ECDSA_P256_SHA256, ECDSA_P384_SHA256, ECDSA_P521_SHA256],
        Hash::Sha384 => vec![ECDSA_P256_SHA384, ECDSA_P384_SHA384, ECDSA_P521_SHA384],
        Hash::Sha512 => vec![ECDSA_P256_SHA512, ECDSA_P384_SHA512, ECDSA_P521_SHA512],
    };
    let rsa = |hash| match hash {
        Hash::Sha256 => vec![RSA_PKCS1_2048_8192_SHA256],
        Hash::Sha384 => vec![RSA_PKCS1_2048_8192_SHA384],
        Hash::Sha512 => vec![RSA_PKCS1_2048_8192_SHA512],
    };
    Ok(match oid {
        rfc5912::ECDSA_WITH_SHA_256 => ecdsa(Hash::Sha256),
        rfc5912::ECDSA_WITH_SHA_384 => ecdsa(Hash::Sha384),
        rfc5912::ECDSA_WITH_SHA_512 => ecdsa(Hash::Sha512),
        rfc5912::ID_EC_PUBLIC_KEY => ecdsa(digest),
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => rsa(Hash::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => rsa(Hash::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => rsa(Hash::Sha512),
        rfc5912::RSA_ENCRYPTION => rsa(digest),
        rfc8410::ID_ED_25519 => vec![ED25519],
        other => {
            let algorithm = format!("signature {other}");
            return Err(TimestampError::UnsupportedAlgorithm(algorithm));
        }
    })
}

/// Parses a GeneralizedTime `YYYYMMDDhhmmss[.f*]Z` (RFC 3161 2.4.2: UTC, no trailing zeros).
fn parse_gen_time(any: AnyRef<'_>) -> Result<SystemTime, TimestampError> {
    let text = any.value();
    let shown = String::from_utf8_lossy(text);
    let invalid = || bad(format!("genTime {shown:?}"));
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let body = text.strip_suffix(b"Z").unwrap_or_default();
    let shape = any.tag() == Tag::GeneralizedTime && body.len() >= 14;
    ensure(shape && digits(&body[..14]), invalid)?;
    let (whole, fraction) = body.split_at(14);
    let num = |s: &[u8]| s.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
    let two = |at: usize| u8::try_from(num(&whole[at..at + 2])).map_err(|_| invalid());
    let [month, day, hour, minute, second] = [4, 6, 8, 10, 12].map(two);
    let year = u16::try_from(num(&whole[..4])).map_err(|_| invalid())?;
    let date = DateTime::new(year, month?, day?, hour?, minute?, second?);
    let date = date.map_err(|_| invalid())?;
    let fine = |f: &[u8]| (1..=9).contains(&f.len()) && digits(f) && !f.ends_with(b"0");
    let nanos = match fraction.split_first() {
        None => 0,
        Some((b'.', f)) if fine(f) => num(f) * 10u64.pow(9 - f.len() as u32),
        Some(_) => return Err(invalid()),
    };
    Ok(date.to_system_time() + Duration::from_nanos(nanos))
}

/// A structurally sound token; its imprint, binding and trust are checked separately.
struct Token<'a> {
    tst_info: &'a [u8],
    tst: TstInfo<'a>,
    gen_time: SystemTime,
    certificates: Vec<&'a [u8]>,
    signer: SignerInfo<'a>,
    /// The signed attributes: (type, SET OF values).
    attributes: Vec<(ObjectIdentifier, AnyRef<'a>)>,
}

impl<'a> Token<'a> {
    fn parse(der: &'a [u8]) -> Result<Self, TimestampError> {
        let size = der.len();
        let limit = || {
            bad(format!(
                "{size} bytes is over the {MAX_TOKEN_BYTES}-byte limit"
            ))
        };
        ensure(size <= MAX_TOKEN_BYTES, limit)?;
        let info = ContentInfo::from_der(token_of(der)?).map_err(malformed("ContentInfo"))?;
        let kind = info.content_type;
        ensure(kind == rfc5911::ID_SIGNED_DATA, || {
            bad(format!("content {kind}"))
        })?;
        let data = info.content.sequence(parse_signed_data);
        let (encap, certificates, signer_infos) = data.map_err(malformed("SignedData"))?;
        let kind = encap.e_content_type;
        let is_tst = kind == rfc3161::ID_CT_TST_INFO;
        ensure(is_tst, || bad(format!("eContentType {kind}")))?;
        let tst_info = encap
            .e_content
            .map(OctetStringRef::as_bytes)
            .unwrap_or_default();
        let tst = TstInfo::from_der(tst_info).map_err(malformed("TSTInfo"))?;
        let version = tst.version;
        ensure(version == 1, || bad(format!("TSTInfo version {version}")))?;
        let mut extensions = tst.extensions.iter().flatten();
        if let Some(critical) = extensions.find(|e| e.critical) {
            return Err(bad(format!("critical extension {}", critical.extn_id)));
        }
        let gen_time = parse_gen_time(tst.gen_time)?;
        let count = signer_infos.len();
        let Ok([signer]) = <[SignerInfo<'a>; 1]>::try_from(signer_infos) else {
            return Err(bad(format!("{count} SignerInfos")));
        };
        ensure(signer.signed_attrs.is_some(), || {
            bad("no signed attributes")
        })?;
        let attrs = AnyRef::from_der(signer.signed_attrs.unwrap_or_default());
        let attrs = attrs.and_then(elements);
        let mut attributes = Vec::new();
        for attribute in attrs.map_err(malformed("signed attributes"))? {
            let mut r = SliceReader::new(attribute).map_err(malformed("signed attribute"))?;
            let pair = r.sequence(|r| Ok::<_, der::Error>((r.decode()?, r.decode()?)));
            attributes.push(pair.map_err(malformed("signed attribute"))?);
        }
        Ok(Token {
            tst_info,
            tst,
            gen_time,
            certificates,
            signer,
            attributes,
        })
    }

    /// The single value of the signed attribute `oid`; `None` when it is absent.
    fn attribute(&self, oid: ObjectIdentifier) -> Result<Option<AnyRef<'a>>, TimestampError> {
        let mut found = self.attributes.iter().filter(|(o, _)| *o == oid);
        let values = match (found.next(), found.next()) {
            (None, _) => return Ok(None),
            (Some((_, values)), None) if values.tag() == Tag::Set => elements(*values).ok(),
            _ => None,
        };
        match values.as_deref() {
            Some([value]) => Ok(Some(
                AnyRef::from_der(value).map_err(malformed("attribute"))?,
            )),
            _ => Err(bad(format!("attribute {oid} is not single-valued"))),
        }
    }

    /// RFC 5652 11: content-type names TSTInfo; message-digest is the TSTInfo's digest.
    fn check_signed_attributes(&self) -> Result<(), TimestampError> {
        let kind = self.attribute(rfc5911::ID_CONTENT_TYPE)?;
        let kind = kind.and_then(|k| k.decode_as::<ObjectIdentifier>().ok());
        let wrong = || bad("the content-type attribute is not TSTInfo");
        ensure(kind == Some(rfc3161::ID_CT_TST_INFO), wrong)?;
        let digest = self.attribute(rfc5911::ID_MESSAGE_DIGEST)?;
        let digest = digest.and_then(|d| d.decode_as::<&OctetStringRef>().ok());
        let expected = Hash::from_oid(self.signer.digest_algorithm.oid)?.digest(self.tst_info);
        let wrong = || TimestampError::Signature("message-digest is not the TSTInfo's");
        let matches = digest.map(OctetStringRef::as_bytes) == Some(&expected);
        ensure(matches, wrong)
    }

    /// True when `cert` is the certificate the SignerInfo's sid names.
    fn names_signer(&self, cert: &Certificate) -> bool {
        let tbs = cert.tbs_certificate();
        let sid = self.signer.sid;
        match sid.first() {
            Some(0x30) => IssuerAndSerial::from_der(sid).is_ok_and(|sid| {
                let serial = tbs.serial_number().as_bytes() == sid.serial_number.as_bytes();
                serial && tbs.issuer() == &sid.issuer
            }),
            Some(0x80) => {
                let key_id = AnyRef::from_der(sid).map(AnyRef::value);
                let ski = tbs.get_extension::<SubjectKeyIdentifier>();
                matches!((key_id, ski), (Ok(id), Ok(Some((_, ski)))) if ski.0.as_bytes() == id)
            }
            _ => false,
        }
    }
}

fn no_eku(detail: impl Display) -> TimestampError {
    TimestampError::Eku(detail.to_string())
}

/// RFC 3161 2.3: the TSA certificate has exactly one EKU, id-kp-timeStamping, marked critical.
fn check_eku(cert: &Certificate) -> Result<(), TimestampError> {
    match cert.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
        Ok(Some((true, eku))) if eku.0 == [rfc5280::ID_KP_TIME_STAMPING] => Ok(()),
        Ok(Some((false, _))) => Err(no_eku("extendedKeyUsage is not critical")),
        Ok(Some((true, eku))) => Err(no_eku(format!("extendedKeyUsage is {:?}", eku.0))),
        Ok(None) => Err(no_eku("no extendedKeyUsage")),
        Err(e) => Err(no_eku(format!("unreadable extendedKeyUsage: {e}"))),
    }
}

/// Validity at genTime to the instant (webpki compares whole seconds).
fn check_valid_at(cert: &Certificate, what: &str, time: SystemTime) -> Result<(), TimestampError> {
    let validity = cert.tbs_certificate().validity();
    let start = validity.not_before.to_system_time();
    let end = validity.not_after.to_system_time();
    let detail = |edge, at| format!("{what} {edge} {}, genTime {}", show(at), show(time));
    let not_yet = || TimestampError::CertificateNotYetValid(detail("starts", start));
    ensure(time >= start, not_yet)?;
    ensure(time <= end, || {
        TimestampError::CertificateExpired(detail("ended", end))
    })
}

fn path_error(error: webpki::Error, time: SystemTime) -> TimestampError {
    let detail = format!("genTime {}: {error:?}", show(time));
    match error {
        webpki::Error::CertExpired { .. } => TimestampError::CertificateExpired(detail),
        webpki::Error::CertNotValidYet { .. } => TimestampError::CertificateNotYetValid(detail),
        webpki::Error::RequiredEkuNotFoundContext(_) => TimestampError::Eku(detail),
        _ => TimestampError::Untrusted(format!("no path to the root: {detail}")),
    }
}

/// Checks `candidate` as the signer: EKU, path to `anchor` at genTime, validity, signature.
fn verify_signer(
    token: &Token<'_>,
    candidate: &[u8],
    anchor: &TrustAnchor<'_>,
    intermediates: &[CertificateDer<'_>],
    root: &Certificate,
) -> Result<(), TimestampError> {
    let cert = Certificate::from_der(candidate).map_err(malformed("signer certificate"))?;
    check_eku(&cert)?;
    let der = CertificateDer::from(candidate);
    let unusable =
        |e: webpki::Error| TimestampError::Untrusted(format!("signer certificate: {e:?}"));
    let leaf = EndEntityCert::try_from(&der).map_err(unusable)?;
    let since_epoch = token.gen_time.duration_since(UNIX_EPOCH);
    let time = UnixTime::since_unix_epoch(since_epoch.unwrap_or_default());
    let anchors = std::slice::from_ref(anchor);
    // check_eku holds the leaf to RFC 3161; a CA in the path may only not exclude timeStamping.
    let usage = webpki::KeyUsage::required_if_present(EKU_TIME_STAMPING);
    let algorithms = webpki::ALL_VERIFICATION_ALGS;
    let path = leaf.verify_for_usage(algorithms, anchors, intermediates, time, usage, None, None);
    path.map_err(|e| path_error(e, token.gen_time))?;
    check_valid_at(&cert, "the TSA certificate", token.gen_time)?;
    check_valid_at(root, "the TSA root", token.gen_time)?;
    let digest = Hash::from_oid(token.signer.digest_algorithm.oid)?;
    let algorithms = signature_algorithms(token.signer.signature_algorithm.oid, digest)?;
    // RFC 5652 5.4: the signature covers the attributes as a SET OF, not the [0] IMPLICIT tag.
    let mut message = token.signer.signed_attrs.unwrap_or_default().to_vec();
    if let Some(tag) = message.first_mut() {
        *tag = 0x31;
    }
    let signature = token.signer.signature;
    let verifies = |alg| leaf.verify_signature(alg, &message, signature).is_ok();
    let wrong = || TimestampError::Signature("SignerInfo signature does not verify");
    ensure(algorithms.into_iter().any(verifies), wrong)
}

fn verify_with(token: &Token<'_>, authority: &CertificateAuthority) -> Result<(), TimestampError> {
    let uri = &authority.uri;
    let untrusted =
        |detail: String| TimestampError::Untrusted(format!("authority {uri}: {detail}"));
    // The root is found by who issued whom, not by its place: chains come in either order.
    let Some(root_index) = chain_anchor(&authority.chain) else {
        return Err(untrusted("no certificate of its chain is a root".into()));
    };
    let root_der = &authority.chain[root_index];
    let root = Certificate::from_der(root_der).map_err(|e| untrusted(format!("root: {e}")))?;
    let root_cert = CertificateDer::from(root_der.as_slice());
    let anchor = webpki::anchor_from_trusted_cert(&root_cert);
    let anchor = anchor.map_err(|e| untrusted(format!("root: {e:?}")))?;
    let own = (authority.chain.iter().enumerate())
        .filter(|(i, _)| *i != root_index)
        .map(|(_, c)| c.as_slice());
    let embedded = token.certificates.iter().copied();
    let path_certs = own.clone().chain(embedded.clone());
    let intermediates: Vec<CertificateDer<'_>> = path_certs.map(Into::into).collect();
    let mut candidates: Vec<&[u8]> = Vec::new();
    for der in embedded.chain(own) {
        let names = Certificate::from_der(der).is_ok_and(|c| token.names_signer(&c));
        if names && !candidates.contains(&der) {
            candidates.push(der);
        }
    }
    let mut error = untrusted("no certificate matches the SignerInfo".into());
    for candidate in candidates {
        match verify_signer(token, candidate, &anchor, &intermediates, &root) {
            Ok(()) if valid_at(authority.validity.as_ref(), token.gen_time) => return Ok(()),
            Ok(()) => {
                let validity = authority.validity;
                return Err(TimestampError::AuthorityValidity {
                    authority: uri.clone(),
                    gen_time: token.gen_time,
                    start: validity.map(|v| show(v.start)).unwrap_or_default(),
                    end: validity
                        .and_then(|v| v.end)
                        .map_or("unbounded".into(), show),
                });
            }
            Err(e) => {
                error = TimestampError::Authority {
                    authority: uri.clone(),
                    error: Box::new(e),
                }
            }
        }
    }
    Err(error)
}

/// Verifies a DER RFC 3161 TimeStampToken (a CMS ContentInfo/SignedData over TSTInfo) that must
/// cover `signed_bytes` (the Sigstore signature bytes the TSA was asked to stamp), against the
/// trust root's timestamp authorities. Returns the attested genTime.
///
/// A whole TimeStampResp (what a bundle's `signedTimestamp` holds) is accepted too when its
/// status is granted. The input must be at most 64 KiB, the token must have exactly one
/// SignerInfo with signed attributes, and one authority must accept it (each is tried in turn).
/// The error names the check that failed (see [`TimestampError`]); with several authorities and
/// none accepting, each failure is listed.
pub fn verify_timestamp(
    token_der: &[u8],
    signed_bytes: &[u8],
    authorities: &[CertificateAuthority],
) -> Result<SystemTime, TimestampError> {
    let token = Token::parse(token_der)?;
    let imprint = &token.tst.message_imprint;
    let hash = Hash::from_oid(imprint.hash_algorithm.oid)?;
    let covers = imprint.hashed_message.as_bytes() == hash.digest(signed_bytes);
    let wrong = || TimestampError::ImprintMismatch(hash.name());
    ensure(covers, wrong)?;
    token.check_signed_attributes()?;
    let none = || TimestampError::Untrusted("the trust root has no timestamp authorities".into());
    ensure(!authorities.is_empty(), none)?;
    let mut errors = Vec::new();
    for authority in authorities {
        match verify_with(&token, authority) {
            Ok(()) => return Ok(token.gen_time),
            Err(e) => errors.push(e),
        }
    }
    match <[TimestampError; 1]>::try_from(errors) {
        Ok([only]) => Err(only),
        Err(all) => Err(TimestampError::NoAuthority(all)),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::sigstore::trust_root::{TrustRoot, parse_time};

    /// A conformance case's token, stamped signature and TSAs; panics when vectors are missing.
    fn case(name: &str) -> (Vec<u8>, Vec<u8>, Vec<CertificateAuthority>) {
        let fallback = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors");
        let vectors = std::env::var("HALLMARK_VECTORS").unwrap_or_else(|_| fallback.into());
        let dir = format!("{vectors}/sigstore-conformance/test/assets/bundle-verify/{name}");
        let read = |file| std::fs::read(format!("{dir}/{file}")).expect(&dir);
        let json = read("bundle.sigstore.json");
        let bundle: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let text = |at: &str| {
            bundle
                .pointer(at)
                .map(|v| v.as_str().unwrap().replace('\n', ""))
        };
        let b64 = |at: &str| text(at).map(|t| STANDARD.decode(t).unwrap());
        let stamps = "/verificationMaterial/timestampVerificationData/rfc3161Timestamps";
        let token = b64(&format!("{stamps}/0/signedTimestamp")).unwrap();
        let signature = b64("/messageSignature/signature");
        let signature = signature.or_else(|| b64("/dsseEnvelope/signatures/0/sig"));
        let root = TrustRoot::from_json(&read("trusted_root.json")).unwrap();
        (token, signature.unwrap(), root.timestamp_authorities)
    }

    fn check(name: &str) -> Result<SystemTime, TimestampError> {
        let (token, signature, authorities) = case(name);
        verify_timestamp(&token, &signature, &authorities)
    }

    fn at(text: &str) -> SystemTime {
        parse_time(text).unwrap()
    }

    const MALFORMED: &str = "sigstore.timestamp.malformed";
    const IMPRINT: &str = "sigstore.timestamp.imprint-mismatch";
    const UNTRUSTED: &str = "sigstore.timestamp.untrusted";
    const BAD_SIGNATURE: &str = "sigstore.timestamp.signature";
    const OUTSIDE: &str = "sigstore.timestamp.authority-validity";
    const EXPIRED: &str = "sigstore.timestamp.certificate-expired";

    #[track_caller]
    fn assert_rejected(result: Result<SystemTime, TimestampError>, code: &str) {
        let error = result.expect_err(code);
        assert_eq!(error.code(), code, "{error}");
    }

    #[test]
    fn accepts_the_conformance_timestamps() {
        // The two `_fail` cases fail on the signing certificate's lifetime, not on the timestamp.
        for line in [
            "rekor2-happy-path 2025-06-12T12:02:20Z",
            "rekor2-timestamp-with-embedded-cert 2025-08-06T18:51:36Z",
            "rekor2-timestamp-without-embedded-cert 2025-08-06T19:03:51Z",
            "rekor2-timestamp-with-expired-cert-chain 2025-08-07T15:32:26Z",
            "bundle-with-sct-with-extensions 2026-01-15T22:49:26Z",
            "trust-root-tsa-validity-end-inclusive 2025-06-12T12:02:20Z",
            "intoto-with-custom-trust-root 2023-02-01T00:00:00Z",
            "rekor2-timestamp-with-incorrect-time_fail 2025-07-15T10:33:31Z",
            "intoto-tsa-timestamp-outside-cert-validity_fail 2023-02-02T00:00:00Z",
        ] {
            let (name, gen_time) = line.split_once(' ').unwrap();
            assert_eq!(check(name), Ok(at(gen_time)), "{name}");
        }
    }

    #[test]
    fn rejects_the_conformance_timestamp_failures() {
        let rejected =
            |case, why| assert_rejected(check(&format!("rekor2-timestamp-{case}_fail")), why);
        rejected("outside-trust-root-tsa-validity", OUTSIDE);
        rejected("outside-tsa-cert-validity", EXPIRED);
        rejected("payload-mismatch", IMPRINT);
        rejected("untrusted-tsa-with-embedded-cert", UNTRUSTED);
        rejected("untrusted-tsa-without-embedded-cert", UNTRUSTED);
    }

    #[test]
    fn rejects_tampering_and_foreign_authorities() {
        let (token, signature, authorities) = case("rekor2-happy-path");
        let verify = |token: &[u8], signed: &[u8]| verify_timestamp(token, signed, &authorities);
        let mut flipped = token.clone();
        *flipped.last_mut().unwrap() ^= 1; // the token ends with the SignerInfo signature
        assert_rejected(verify(&flipped, &signature), BAD_SIGNATURE);
        let mut later = token.clone();
        let gen_time = later.windows(15).position(|w| w == b"20250612120220Z");
        later[gen_time.unwrap() + 3] = b'6'; // a year later: the message-digest no longer matches
        assert_rejected(verify(&later, &signature), BAD_SIGNATURE);
        assert_rejected(verify(&token, b"another signature"), IMPRINT);
        assert_rejected(verify_timestamp(&token, &signature, &[]), UNTRUSTED);
        // Each authority is tried in turn; another root does not trust the token.
        let (_, _, mut others) = case("rekor2-timestamp-with-expired-cert-chain");
        assert_rejected(verify_timestamp(&token, &signature, &others), UNTRUSTED);
        others.extend(authorities.iter().cloned());
        let result = verify_timestamp(&token, &signature, &others);
        assert_eq!(result, Ok(at("2025-06-12T12:02:20Z")));
    }

    #[test]
    fn embedded_certificates_are_not_trust_anchors() {
        let (token, signature, _) = case("rekor2-timestamp-with-embedded-cert");
        let (_, _, others) = case("rekor2-timestamp-with-expired-cert-chain");
        assert_rejected(verify_timestamp(&token, &signature, &others), UNTRUSTED);
    }

    #[test]
    fn reads_a_bare_token_and_refuses_a_rejected_response() {
        let (response, signature, authorities) = case("rekor2-happy-path");
        let verify = |token: &[u8]| verify_timestamp(token, &signature, &authorities);
        let token = token_of(&response).unwrap();
        assert_eq!(token[4], 0x06, "a ContentInfo starts with its content type");
        assert_eq!(verify(token), Ok(at("2025-06-12T12:02:20Z")));
        let mut refused = response.clone();
        assert_eq!(refused[4..9], [0x30, 0x03, 0x02, 0x01, 0x00]); // PKIStatusInfo { granted }
        refused[8] = 2; // rejection
        assert_rejected(verify(&refused), MALFORMED);
    }

    #[test]
    fn rejects_malformed_and_oversized_tokens() {
        let (token, signature, authorities) = case("rekor2-happy-path");
        let big = vec![0x30; MAX_TOKEN_BYTES + 1];
        let cut = &token[..token.len() - 10];
        let tokens: [&[u8]; 5] = [cut, b"\x30\x03\x02\x01\x00", b"\x04\x00", &[], &big];
        for token in tokens {
            assert_rejected(verify_timestamp(token, &signature, &authorities), MALFORMED);
        }
    }

    #[test]
    fn gen_time_allows_rfc3161_fractions_only() {
        fn time(text: &str) -> Result<SystemTime, TimestampError> {
            parse_gen_time(AnyRef::new(Tag::GeneralizedTime, text.as_bytes()).unwrap())
        }
        assert_eq!(time("20250612120220Z"), Ok(at("2025-06-12T12:02:20Z")));
        let quarter = at("2025-06-12T12:02:20.25Z");
        assert_eq!(time("20250612120220.25Z"), Ok(quarter));
        for text in ["20250612120220.50Z", "20250612120220.Z", "2025061212022Z"] {
            assert!(time(text).is_err(), "{text}");
        }
        for text in ["20251312120220Z", "20250612120220+0100", "20250612120220"] {
            assert!(time(text).is_err(), "{text}");
        }
    }
}
