//! RFC 3161 signed timestamps from the trust root's timestamp authorities.
//!
//! A token counts only when, for one of the trust root's timestamp authorities: the TSTInfo's
//! message imprint is the digest of the stamped bytes; the CMS signed attributes carry the
//! TSTInfo's content type and digest; the signer certificate (embedded or the authority's own)
//! chains at genTime to that authority's root and carries the critical timeStamping EKU; the
//! signature over the signed attributes verifies with its key; and genTime lies in the authority's
//! validity window. Certificates embedded in a token are path material, never trust anchors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{self, SHA1_FOR_LEGACY_USE_ONLY, SHA256, SHA384, SHA512};
use const_oid::db::{rfc3161, rfc5280, rfc5911, rfc5912, rfc8410};
use der::asn1::{AnyRef, IntRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Reader, Sequence, SliceReader, Tag, Tagged};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use spki::AlgorithmIdentifierRef;
use webpki::aws_lc_rs as algs;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::name::Name;

use crate::sigstore::trust_root::{CertificateAuthority, valid_at};

/// Largest token accepted: 64 KiB.
const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// id-kp-timeStamping (1.3.6.1.5.5.7.3.8) as DER content octets, the form webpki takes.
const EKU_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// Why a timestamp was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RFC 3161 timestamp: {0}")]
pub struct TimestampError(pub String);

fn fail(check: &str, detail: impl std::fmt::Display) -> TimestampError {
    TimestampError(format!("{check}: {detail}"))
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimestampError {
    move |e| fail("malformed token", format!("{what}: {e}"))
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
    /// Parsed by hand: DER GeneralizedTime in `der` refuses the fractions RFC 3161 allows.
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

struct SignedData<'a> {
    encap: EncapContentInfo<'a>,
    certificates: Vec<&'a [u8]>,
    signer_infos: Vec<SignerInfo<'a>>,
}

fn skip_rest(r: &mut SliceReader<'_>) -> der::Result<()> {
    while !r.is_finished() {
        r.tlv_bytes()?;
    }
    Ok(())
}

fn parse_signer_info<'a>(r: &mut SliceReader<'a>) -> der::Result<SignerInfo<'a>> {
    let _version: u8 = r.decode()?;
    let sid = r.tlv_bytes()?;
    let digest_algorithm = r.decode()?;
    let signed_attrs = if r.peek_byte() == Some(0xA0) {
        Some(r.tlv_bytes()?)
    } else {
        None
    };
    let signature_algorithm = r.decode()?;
    let signature: &'a OctetStringRef = r.decode()?;
    skip_rest(r)?; // unsignedAttrs [1]
    Ok(SignerInfo {
        sid,
        digest_algorithm,
        signed_attrs,
        signature_algorithm,
        signature: signature.as_bytes(),
    })
}

fn parse_signed_data<'a>(r: &mut SliceReader<'a>) -> der::Result<SignedData<'a>> {
    let _version: u8 = r.decode()?;
    let _digest_algorithms: AnyRef<'a> = r.decode()?;
    let encap = r.decode()?;
    let mut certificates = Vec::new();
    if r.peek_byte() == Some(0xA0) {
        let set: AnyRef<'a> = r.decode()?;
        let mut certs = SliceReader::new(set.value())?;
        while !certs.is_finished() {
            let tlv = certs.tlv_bytes()?;
            // Only plain certificates; other CertificateChoices cannot be a TSA's.
            if tlv.first() == Some(&0x30) {
                certificates.push(tlv);
            }
        }
    }
    if r.peek_byte() == Some(0xA1) {
        let _crls: AnyRef<'a> = r.decode()?;
    }
    let infos: AnyRef<'a> = r.decode()?;
    infos.tag().assert_eq(Tag::Set)?;
    let mut reader = SliceReader::new(infos.value())?;
    let mut signer_infos = Vec::new();
    while !reader.is_finished() {
        signer_infos.push(reader.sequence(parse_signer_info)?);
    }
    Ok(SignedData {
        encap,
        certificates,
        signer_infos,
    })
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
            other => Err(fail(
                "unsupported algorithm",
                format!("digest algorithm {other}"),
            )),
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

/// The verification algorithms a CMS signatureAlgorithm may mean, for any curve or key size.
fn signature_algorithms(
    oid: ObjectIdentifier,
    digest: Hash,
) -> Result<Vec<&'static dyn SignatureVerificationAlgorithm>, TimestampError> {
    let ecdsa = |hash| match hash {
        Hash::Sha256 => vec![
            algs::ECDSA_P256_SHA256,
            algs::ECDSA_P384_SHA256,
            algs::ECDSA_P521_SHA256,
        ],
        Hash::Sha384 => vec![
            algs::ECDSA_P256_SHA384,
            algs::ECDSA_P384_SHA384,
            algs::ECDSA_P521_SHA384,
        ],
        Hash::Sha512 => vec![
            algs::ECDSA_P256_SHA512,
            algs::ECDSA_P384_SHA512,
            algs::ECDSA_P521_SHA512,
        ],
    };
    let rsa = |hash| match hash {
        Hash::Sha256 => vec![algs::RSA_PKCS1_2048_8192_SHA256],
        Hash::Sha384 => vec![algs::RSA_PKCS1_2048_8192_SHA384],
        Hash::Sha512 => vec![algs::RSA_PKCS1_2048_8192_SHA512],
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
        rfc8410::ID_ED_25519 => vec![algs::ED25519],
        other => {
            return Err(fail(
                "unsupported algorithm",
                format!("signature algorithm {other}"),
            ));
        }
    })
}

/// Parses a GeneralizedTime `YYYYMMDDhhmmss[.f*]Z` (RFC 3161 2.4.2: UTC, no trailing zeros).
fn parse_gen_time(any: AnyRef<'_>) -> Result<SystemTime, TimestampError> {
    let bad = || {
        fail(
            "malformed token",
            format!("genTime {:?}", String::from_utf8_lossy(any.value())),
        )
    };
    if any.tag() != Tag::GeneralizedTime {
        return Err(bad());
    }
    let text = any.value();
    let (Some((b'Z', body)), true) = (text.split_last(), text.len() >= 15) else {
        return Err(bad());
    };
    let (whole, fraction) = body.split_at(14);
    if !whole.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let num = |at: usize, len: usize| {
        whole[at..at + len]
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
    };
    let field = |at| u8::try_from(num(at, 2)).map_err(|_| bad());
    let date = der::DateTime::new(
        num(0, 4),
        field(4)?,
        field(6)?,
        field(8)?,
        field(10)?,
        field(12)?,
    )
    .map_err(|_| bad())?;
    let mut time = date.to_system_time();
    if let Some((b'.', digits)) = fraction.split_first() {
        let plain =
            !digits.is_empty() && digits.len() <= 9 && digits.iter().all(u8::is_ascii_digit);
        if !plain || digits.last() == Some(&b'0') {
            return Err(bad());
        }
        let nanos = digits
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        time += Duration::from_nanos(nanos);
    } else if !fraction.is_empty() {
        return Err(bad());
    }
    Ok(time)
}

/// A parsed token whose structure, imprint and signed-attribute binding are still unchecked.
struct Token<'a> {
    tst_info: &'a [u8],
    tst: TstInfo<'a>,
    gen_time: SystemTime,
    certificates: Vec<&'a [u8]>,
    signer: SignerInfo<'a>,
}

impl<'a> Token<'a> {
    fn parse(der: &'a [u8]) -> Result<Self, TimestampError> {
        if der.len() > MAX_TOKEN_BYTES {
            return Err(fail(
                "malformed token",
                format!(
                    "{} bytes is over the {MAX_TOKEN_BYTES}-byte limit",
                    der.len()
                ),
            ));
        }
        let info = ContentInfo::from_der(der).map_err(malformed("ContentInfo"))?;
        if info.content_type != rfc5911::ID_SIGNED_DATA {
            return Err(fail(
                "malformed token",
                format!("content type {} is not signedData", info.content_type),
            ));
        }
        let mut reader = SliceReader::new(info.content.value()).map_err(malformed("SignedData"))?;
        let data = reader
            .sequence(parse_signed_data)
            .map_err(malformed("SignedData"))?;
        reader.finish().map_err(malformed("SignedData"))?;
        if data.encap.e_content_type != rfc3161::ID_CT_TST_INFO {
            let found = data.encap.e_content_type;
            return Err(fail(
                "malformed token",
                format!("eContentType {found} is not id-ct-TSTInfo"),
            ));
        }
        let tst_info = data
            .encap
            .e_content
            .ok_or_else(|| fail("malformed token", "no TSTInfo content"))?
            .as_bytes();
        let tst = TstInfo::from_der(tst_info).map_err(malformed("TSTInfo"))?;
        if tst.version != 1 {
            return Err(fail(
                "malformed token",
                format!("TSTInfo version {}", tst.version),
            ));
        }
        if let Some(critical) = tst.extensions.iter().flatten().find(|e| e.critical) {
            return Err(fail(
                "malformed token",
                format!(
                    "unsupported critical TSTInfo extension {}",
                    critical.extn_id
                ),
            ));
        }
        let gen_time = parse_gen_time(tst.gen_time)?;
        let count = data.signer_infos.len();
        let Ok::<[SignerInfo<'a>; 1], _>([signer]) = data.signer_infos.try_into() else {
            return Err(fail(
                "malformed token",
                format!("{count} SignerInfos, expected exactly one"),
            ));
        };
        Ok(Token {
            tst_info,
            tst,
            gen_time,
            certificates: data.certificates,
            signer,
        })
    }

    /// The signed attributes as (type, SET OF values) pairs.
    fn attributes(&self) -> Result<Vec<(ObjectIdentifier, AnyRef<'a>)>, TimestampError> {
        let raw = self
            .signer
            .signed_attrs
            .ok_or_else(|| fail("malformed token", "SignerInfo has no signed attributes"))?;
        let set = AnyRef::from_der(raw).map_err(malformed("signed attributes"))?;
        let mut reader = SliceReader::new(set.value()).map_err(malformed("signed attributes"))?;
        let mut attributes = Vec::new();
        while !reader.is_finished() {
            let attribute = reader
                .sequence(|r| {
                    Ok::<_, der::Error>((
                        r.decode::<ObjectIdentifier>()?,
                        r.decode::<AnyRef<'a>>()?,
                    ))
                })
                .map_err(malformed("signed attribute"))?;
            attributes.push(attribute);
        }
        Ok(attributes)
    }

    /// The single value of the attribute `oid` that must occur exactly once.
    fn single(
        attributes: &[(ObjectIdentifier, AnyRef<'a>)],
        oid: ObjectIdentifier,
        name: &str,
    ) -> Result<AnyRef<'a>, TimestampError> {
        let mut found = attributes.iter().filter(|(o, _)| *o == oid);
        let (Some((_, values)), None) = (found.next(), found.next()) else {
            return Err(fail(
                "malformed token",
                format!("signed attributes must hold exactly one {name}"),
            ));
        };
        let mut reader = SliceReader::new(values.value()).map_err(malformed("attribute values"))?;
        let value = reader
            .decode::<AnyRef<'a>>()
            .map_err(malformed("attribute value"))?;
        match (values.tag(), reader.is_finished()) {
            (Tag::Set, true) => Ok(value),
            _ => Err(fail(
                "malformed token",
                format!("{name} must have exactly one value"),
            )),
        }
    }

    /// RFC 5652 5.4 / 11: content-type names TSTInfo and message-digest is the TSTInfo's digest.
    fn check_signed_attributes(&self) -> Result<(), TimestampError> {
        let attributes = self.attributes()?;
        let content_type = Self::single(&attributes, rfc5911::ID_CONTENT_TYPE, "content-type")?;
        if content_type.decode_as::<ObjectIdentifier>().ok() != Some(rfc3161::ID_CT_TST_INFO) {
            return Err(fail(
                "malformed token",
                "the content-type attribute is not id-ct-TSTInfo",
            ));
        }
        let digest = Self::single(&attributes, rfc5911::ID_MESSAGE_DIGEST, "message-digest")?;
        let hash = Hash::from_oid(self.signer.digest_algorithm.oid)?;
        if digest.tag() != Tag::OctetString || digest.value() != hash.digest(self.tst_info) {
            return Err(fail(
                "bad signature",
                "the message-digest attribute is not the digest of the TSTInfo",
            ));
        }
        Ok(())
    }

    /// RFC 2634 / 5035: when an ESS signing-certificate attribute names the signer, it must be `cert`.
    fn check_ess_cert_id(&self, cert: &[u8]) -> Result<(), TimestampError> {
        let attributes = self.attributes()?;
        for (oid, v2) in [
            (rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, true),
            (rfc5911::ID_AA_SIGNING_CERTIFICATE, false),
        ] {
            if !attributes.iter().any(|(o, _)| *o == oid) {
                continue;
            }
            let value = Self::single(&attributes, oid, "signing-certificate")?;
            let (algorithm, hash) = value
                .sequence(|r| {
                    let first = r.sequence(|certs| {
                        let first = certs.sequence(|id| {
                            let alg = match v2 && id.peek_byte() == Some(0x30) {
                                true => Some(id.decode::<AlgorithmIdentifierRef<'a>>()?.oid),
                                false => None,
                            };
                            let hash = id.decode::<&'a OctetStringRef>()?.as_bytes();
                            skip_rest(id)?;
                            Ok::<_, der::Error>((alg, hash))
                        })?;
                        skip_rest(certs)?;
                        Ok::<_, der::Error>(first)
                    })?;
                    skip_rest(r)?;
                    Ok::<_, der::Error>(first)
                })
                .map_err(malformed("signing-certificate attribute"))?;
            let expected = match (v2, algorithm) {
                (false, _) => digest::digest(&SHA1_FOR_LEGACY_USE_ONLY, cert)
                    .as_ref()
                    .to_vec(),
                (true, None) => Hash::Sha256.digest(cert),
                (true, Some(oid)) => Hash::from_oid(oid)?.digest(cert),
            };
            if hash != expected {
                return Err(fail(
                    "untrusted TSA",
                    "the ESS signing-certificate attribute names another certificate",
                ));
            }
        }
        Ok(())
    }

    /// True when `cert` is the one the SignerInfo's sid names.
    fn names_signer(&self, cert: &Certificate) -> bool {
        let tbs = cert.tbs_certificate();
        match self.signer.sid.first() {
            Some(0x30) => IssuerAndSerial::from_der(self.signer.sid).is_ok_and(|sid| {
                tbs.issuer() == &sid.issuer
                    && tbs.serial_number().as_bytes() == sid.serial_number.as_bytes()
            }),
            Some(0x80) => {
                let key_id = AnyRef::from_der(self.signer.sid)
                    .map(AnyRef::value)
                    .unwrap_or_default();
                matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, ski))) if ski.0.as_bytes() == key_id)
            }
            _ => false,
        }
    }
}

/// RFC 3161 2.3: the TSA certificate has exactly one, critical, EKU: id-kp-timeStamping.
fn check_eku(cert: &Certificate) -> Result<(), TimestampError> {
    let check = "TSA certificate lacks the timeStamping EKU";
    match cert.tbs_certificate().get_extension::<ExtendedKeyUsage>() {
        Ok(Some((true, eku))) if eku.0 == [rfc5280::ID_KP_TIME_STAMPING] => Ok(()),
        Ok(Some((false, _))) => Err(fail(
            check,
            "the extendedKeyUsage extension is not critical",
        )),
        Ok(Some((true, eku))) => Err(fail(
            check,
            format!("extendedKeyUsage is {:?}, not only timeStamping", eku.0),
        )),
        Ok(None) => Err(fail(check, "no extendedKeyUsage extension")),
        Err(e) => Err(fail(check, format!("unreadable extendedKeyUsage: {e}"))),
    }
}

/// Validity at genTime to the instant (webpki compares whole seconds).
fn check_valid_at(cert: &Certificate, what: &str, time: SystemTime) -> Result<(), TimestampError> {
    let validity = cert.tbs_certificate().validity();
    let (start, end) = (
        validity.not_before.to_system_time(),
        validity.not_after.to_system_time(),
    );
    if time < start {
        return Err(fail(
            "TSA certificate not yet valid at genTime",
            format!("{what} starts {}, genTime {}", show(start), show(time)),
        ));
    }
    if time > end {
        return Err(fail(
            "TSA certificate expired at genTime",
            format!("{what} ended {}, genTime {}", show(end), show(time)),
        ));
    }
    Ok(())
}

fn path_error(error: webpki::Error, time: SystemTime) -> TimestampError {
    let detail = format!("genTime {}: {error:?}", show(time));
    match error {
        webpki::Error::CertExpired { .. } => fail("TSA certificate expired at genTime", detail),
        webpki::Error::CertNotValidYet { .. } => {
            fail("TSA certificate not yet valid at genTime", detail)
        }
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            fail("TSA certificate lacks the timeStamping EKU", detail)
        }
        _ => fail(
            "untrusted TSA",
            format!("no certificate path to the authority's root: {detail}"),
        ),
    }
}

/// Checks `candidate` as the signer: path to `anchor`, validity, EKU, ESS binding and signature.
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
    let end_entity = webpki::EndEntityCert::try_from(&der).map_err(|e| {
        fail(
            "untrusted TSA",
            format!("unusable signer certificate: {e:?}"),
        )
    })?;
    let since_epoch = token
        .gen_time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            std::slice::from_ref(anchor),
            intermediates,
            UnixTime::since_unix_epoch(since_epoch),
            webpki::KeyUsage::required(EKU_TIME_STAMPING),
            None,
            None,
        )
        .map_err(|e| path_error(e, token.gen_time))?;
    check_valid_at(&cert, "the TSA certificate", token.gen_time)?;
    check_valid_at(root, "the TSA root certificate", token.gen_time)?;
    token.check_ess_cert_id(candidate)?;
    let digest = Hash::from_oid(token.signer.digest_algorithm.oid)?;
    let mut message = token.signer.signed_attrs.unwrap_or_default().to_vec();
    if let Some(tag) = message.first_mut() {
        *tag = 0x31; // RFC 5652 5.4: signed as an explicit SET OF, not the [0] IMPLICIT tag
    }
    let signature = token.signer.signature;
    let algorithms = signature_algorithms(token.signer.signature_algorithm.oid, digest)?;
    if !algorithms.iter().any(|alg| {
        end_entity
            .verify_signature(*alg, &message, signature)
            .is_ok()
    }) {
        return Err(fail(
            "bad signature",
            "the SignerInfo signature does not verify with the TSA certificate's key",
        ));
    }
    Ok(())
}

fn verify_with_authority(
    token: &Token<'_>,
    authority: &CertificateAuthority,
) -> Result<(), TimestampError> {
    let uri = &authority.uri;
    let Some((root_der, rest)) = authority.chain.split_last() else {
        return Err(fail(
            "untrusted TSA",
            format!("authority {uri} has no certificates"),
        ));
    };
    let root = Certificate::from_der(root_der)
        .map_err(|e| fail("untrusted TSA", format!("authority {uri}: root: {e}")))?;
    let root_cert = CertificateDer::from(root_der.as_slice());
    let anchor = webpki::anchor_from_trusted_cert(&root_cert).map_err(|e| {
        fail(
            "untrusted TSA",
            format!("authority {uri}: unusable root: {e:?}"),
        )
    })?;
    let own = rest.iter().map(Vec::as_slice);
    let intermediates: Vec<CertificateDer<'_>> = own
        .clone()
        .chain(token.certificates.iter().copied())
        .map(CertificateDer::from)
        .collect();
    let mut candidates: Vec<&[u8]> = Vec::new();
    for der in token.certificates.iter().copied().chain(own) {
        let names = Certificate::from_der(der).is_ok_and(|cert| token.names_signer(&cert));
        if names && !candidates.contains(&der) {
            candidates.push(der);
        }
    }
    let mut error = fail(
        "untrusted TSA",
        format!("no certificate in the token or in authority {uri} matches the signer"),
    );
    for candidate in candidates {
        match verify_signer(token, candidate, &anchor, &intermediates, &root) {
            Ok(()) => {
                if !valid_at(authority.validity.as_ref(), token.gen_time) {
                    let window = authority.validity.map(|v| (show(v.start), v.end.map(show)));
                    return Err(fail(
                        "time outside TSA validity",
                        format!(
                            "genTime {} is outside authority {uri}'s window {window:?}",
                            show(token.gen_time)
                        ),
                    ));
                }
                return Ok(());
            }
            Err(e) => error = TimestampError(format!("{} (authority {uri})", e.0)),
        }
    }
    Err(error)
}

/// Verifies a DER RFC 3161 TimeStampToken (a CMS ContentInfo/SignedData over TSTInfo) that must
/// cover `signed_bytes` (the Sigstore signature bytes the TSA was asked to stamp), against the
/// trust root's timestamp authorities. Returns the attested genTime.
///
/// The token must be at most 64 KiB, have exactly one SignerInfo with signed attributes, and
/// verify against at least one authority (each is tried in turn). Every error names the check
/// that failed: `malformed token`, `imprint mismatch`, `untrusted TSA`, `bad signature`,
/// `time outside TSA validity`, `TSA certificate expired at genTime`, ...
pub fn verify_timestamp(
    token_der: &[u8],
    signed_bytes: &[u8],
    authorities: &[CertificateAuthority],
) -> Result<SystemTime, TimestampError> {
    let token = Token::parse(token_der)?;
    let imprint = &token.tst.message_imprint;
    let hash = Hash::from_oid(imprint.hash_algorithm.oid)?;
    if imprint.hashed_message.as_bytes() != hash.digest(signed_bytes) {
        return Err(fail(
            "imprint mismatch",
            format!("the TSTInfo messageImprint is not the {hash:?} digest of the signature"),
        ));
    }
    token.check_signed_attributes()?;
    if authorities.is_empty() {
        return Err(fail(
            "untrusted TSA",
            "the trust root has no timestamp authorities",
        ));
    }
    let mut errors = Vec::new();
    for authority in authorities {
        match verify_with_authority(&token, authority) {
            Ok(()) => return Ok(token.gen_time),
            Err(e) => errors.push(e.0),
        }
    }
    match <[String; 1]>::try_from(errors) {
        Ok([only]) => Err(TimestampError(only)),
        Err(all) => Err(TimestampError(format!(
            "no timestamp authority accepted the token: {}",
            all.join("; ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::sigstore::trust_root::{TrustRoot, parse_time};

    struct Case {
        token: Vec<u8>,
        signature: Vec<u8>,
        authorities: Vec<CertificateAuthority>,
    }

    fn case(name: &str) -> Case {
        let vectors = std::env::var("HALLMARK_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
            });
        let dir = vectors
            .join("sigstore-conformance/test/assets/bundle-verify")
            .join(name);
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read(&path).unwrap_or_else(|e| {
                panic!(
                    "vector {} is missing (set HALLMARK_VECTORS): {e}",
                    path.display()
                )
            })
        };
        let bundle: serde_json::Value =
            serde_json::from_slice(&read("bundle.sigstore.json")).unwrap();
        let b64 = |v: &serde_json::Value| STANDARD.decode(v.as_str().unwrap()).unwrap();
        let token = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            [0]["signedTimestamp"];
        let signature = bundle
            .pointer("/messageSignature/signature")
            .or_else(|| bundle.pointer("/dsseEnvelope/signatures/0/sig"))
            .unwrap();
        let root = TrustRoot::from_json(&read("trusted_root.json")).unwrap();
        Case {
            token: b64(token),
            signature: b64(signature),
            authorities: root.timestamp_authorities,
        }
    }

    fn verify(case: &Case) -> Result<SystemTime, TimestampError> {
        verify_timestamp(&case.token, &case.signature, &case.authorities)
    }

    fn assert_rejected(result: Result<SystemTime, TimestampError>, check: &str) {
        let error = result.expect_err("the timestamp was accepted");
        assert!(error.0.contains(check), "expected {check:?}, got: {error}");
    }

    #[test]
    fn accepts_the_conformance_timestamps() {
        // The two `_fail` cases fail on the signing certificate, not on the timestamp.
        for (name, gen_time) in [
            ("rekor2-happy-path", "2025-06-12T12:02:20Z"),
            (
                "rekor2-timestamp-with-embedded-cert",
                "2025-08-06T18:51:36Z",
            ),
            (
                "rekor2-timestamp-without-embedded-cert",
                "2025-08-06T19:03:51Z",
            ),
            (
                "rekor2-timestamp-with-expired-cert-chain",
                "2025-08-07T15:32:26Z",
            ),
            ("bundle-with-sct-with-extensions", "2026-01-15T22:49:26Z"),
            (
                "trust-root-tsa-validity-end-inclusive",
                "2025-06-12T12:02:20Z",
            ),
            ("intoto-with-custom-trust-root", "2023-02-01T00:00:00Z"),
            (
                "rekor2-timestamp-with-incorrect-time_fail",
                "2025-07-15T10:33:31Z",
            ),
            (
                "intoto-tsa-timestamp-outside-cert-validity_fail",
                "2023-02-02T00:00:00Z",
            ),
        ] {
            let result = verify(&case(name));
            assert_eq!(result, Ok(parse_time(gen_time).unwrap()), "{name}");
        }
    }

    #[test]
    fn rejects_the_conformance_timestamp_failures() {
        for (name, check) in [
            (
                "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
                "time outside TSA validity",
            ),
            (
                "rekor2-timestamp-outside-tsa-cert-validity_fail",
                "TSA certificate expired at genTime",
            ),
            ("rekor2-timestamp-payload-mismatch_fail", "imprint mismatch"),
            (
                "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
                "untrusted TSA",
            ),
            (
                "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
                "untrusted TSA",
            ),
        ] {
            let error = verify(&case(name)).expect_err(name);
            assert!(
                error.0.contains(check),
                "{name}: expected {check:?}, got: {error}"
            );
        }
    }

    #[test]
    fn rejects_a_flipped_signature_byte() {
        let mut case = case("rekor2-happy-path");
        let last = case.token.len() - 1; // the token ends with the SignerInfo signature
        case.token[last] ^= 0x01;
        assert_rejected(verify(&case), "bad signature");
    }

    #[test]
    fn rejects_a_tampered_tst_info() {
        let mut case = case("rekor2-happy-path");
        let at = case
            .token
            .windows(15)
            .position(|w| w == b"20250612120220Z")
            .unwrap();
        case.token[at + 3] = b'6'; // genTime moves a year on; the message-digest no longer matches
        assert_rejected(verify(&case), "bad signature");
    }

    #[test]
    fn rejects_an_imprint_over_other_bytes() {
        let case = case("rekor2-happy-path");
        assert_rejected(
            verify_timestamp(&case.token, b"other signature", &case.authorities),
            "imprint mismatch",
        );
    }

    #[test]
    fn rejects_an_empty_authority_list() {
        let case = case("rekor2-happy-path");
        assert_rejected(
            verify_timestamp(&case.token, &case.signature, &[]),
            "untrusted TSA",
        );
    }

    #[test]
    fn embedded_certificates_are_not_trust_anchors() {
        // A token that embeds its signer, checked against an authority with another root.
        let case = case("rekor2-timestamp-with-embedded-cert");
        let other = case_authorities("rekor2-timestamp-with-expired-cert-chain");
        assert_rejected(
            verify_timestamp(&case.token, &case.signature, &other),
            "untrusted TSA",
        );
    }

    fn case_authorities(name: &str) -> Vec<CertificateAuthority> {
        case(name).authorities
    }

    #[test]
    fn tries_each_authority_in_turn() {
        let case = case("rekor2-happy-path");
        let mut authorities = case_authorities("rekor2-timestamp-with-expired-cert-chain");
        authorities.extend(case.authorities.iter().cloned());
        let result = verify_timestamp(&case.token, &case.signature, &authorities);
        assert_eq!(result, Ok(parse_time("2025-06-12T12:02:20Z").unwrap()));
    }

    #[test]
    fn rejects_malformed_and_oversized_tokens() {
        let case = case("rekor2-happy-path");
        for token in [
            &case.token[..case.token.len() - 10],
            b"\x30\x03\x02\x01\x00",
            &[],
        ] {
            assert_rejected(
                verify_timestamp(token, &case.signature, &case.authorities),
                "malformed token",
            );
        }
        let big = vec![0u8; MAX_TOKEN_BYTES + 1];
        assert_rejected(
            verify_timestamp(&big, &case.signature, &case.authorities),
            "malformed token",
        );
    }

    #[test]
    fn gen_time_allows_rfc3161_fractions_only() {
        let time = |text: &[u8]| parse_gen_time(AnyRef::new(Tag::GeneralizedTime, text).unwrap());
        let base = parse_time("2025-06-12T12:02:20Z").unwrap();
        assert_eq!(time(b"20250612120220Z"), Ok(base));
        assert_eq!(
            time(b"20250612120220.25Z"),
            Ok(base + Duration::from_millis(250))
        );
        for bad in [
            &b"20250612120220.50Z"[..],
            b"20250612120220.Z",
            b"2025061212022Z",
            b"20250612120220+0100",
            b"20251312120220Z",
        ] {
            assert!(time(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
