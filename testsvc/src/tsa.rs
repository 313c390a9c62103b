//! A test RFC 3161 time-stamping authority: signs TSTInfo for the message imprints it is sent,
//! as a CMS SignedData with the TSA certificate embedded (ECDSA P-256, SHA-256).

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use der::{Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SigningKey,
};

use crate::log::LogError;

fn crypto<E: std::fmt::Display>(e: E) -> LogError {
    LogError::Crypto(e.to_string())
}

use hallmark_model::asn1::tlv;

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(text: &str) -> Result<Vec<u8>, LogError> {
    der::asn1::ObjectIdentifier::new(text)
        .map_err(crypto)?
        .to_der()
        .map_err(crypto)
}

/// A DER INTEGER of the unsigned big-endian `bytes`: minimal, so leading zero bytes go (a random
/// serial that starts with one would otherwise be non-canonical, and rightly refused), and a
/// zero byte is put back in front of a set high bit.
fn integer(bytes: &[u8]) -> Vec<u8> {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    let mut content = bytes[start..].to_vec();
    if content.is_empty() {
        content.push(0);
    }
    if content.first().is_some_and(|b| b & 0x80 != 0) {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

const SHA256_OID: &str = "2.16.840.1.101.3.4.2.1";
const TST_INFO_OID: &str = "1.2.840.113549.1.9.16.1.4";
const SIGNED_DATA_OID: &str = "1.2.840.113549.1.7.2";
const CONTENT_TYPE_OID: &str = "1.2.840.113549.1.9.3";
const MESSAGE_DIGEST_OID: &str = "1.2.840.113549.1.9.4";
const ECDSA_SHA256_OID: &str = "1.2.840.10045.4.3.2";

/// The TSA.
pub struct TestTsa {
    key: KeyPair,
    cert_der: Vec<u8>,
    root_der: Vec<u8>,
}

impl TestTsa {
    /// A TSA with its own root and a leaf certificate (critical EKU timeStamping only).
    pub fn new() -> Result<Self, LogError> {
        let now = time::OffsetDateTime::now_utc();
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto)?;
        let mut root = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "hallmark test TSA root");
        root.distinguished_name = name;
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        root.not_before = now - time::Duration::days(1);
        root.not_after = now + time::Duration::days(365);
        let root_der = root.self_signed(&root_key).map_err(crypto)?.der().to_vec();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto)?;
        let mut leaf = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "hallmark test TSA");
        leaf.distinguished_name = name;
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf.not_before = now - time::Duration::days(1);
        leaf.not_after = now + time::Duration::days(365);
        // RFC 3161 §2.3: exactly one extended key usage, timeStamping, critical.
        let eku = seq(&[oid("1.3.6.1.5.5.7.3.8")?]);
        let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], eku);
        ext.set_criticality(true);
        leaf.custom_extensions.push(ext);
        let issuer = Issuer::from_params(&root, &root_key);
        let cert_der = leaf
            .signed_by(&key, &issuer)
            .map_err(crypto)?
            .der()
            .to_vec();
        Ok(TestTsa {
            key,
            cert_der,
            root_der,
        })
    }

    /// The TSA chain for a trust root: leaf, then root.
    pub fn chain(&self) -> Vec<Vec<u8>> {
        vec![self.cert_der.clone(), self.root_der.clone()]
    }

    /// Answers a DER TimeStampReq with a DER TimeStampResp (status granted).
    pub fn respond(&self, request: &[u8]) -> Result<Vec<u8>, LogError> {
        // TimeStampReq ::= SEQUENCE { version, messageImprint SEQUENCE { alg, OCTET STRING }, ... }
        let (imprint_alg, hashed) = parse_request(request)?;
        if imprint_alg != SHA256_OID {
            return Err(LogError::Entry("only SHA-256 message imprints".into()));
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(crypto)?
            .as_secs();
        let gen_time =
            der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
                .map_err(crypto)?
                .to_der()
                .map_err(crypto)?;
        let mut serial = [0u8; 16];
        SystemRandom::new().fill(&mut serial).map_err(crypto)?;
        let sha256_alg = seq(&[oid(SHA256_OID)?, vec![0x05, 0x00]]);
        let tst_info = seq(&[
            integer(&[1]),
            oid("1.3.6.1.4.1.57264.2")?,
            seq(&[sha256_alg.clone(), tlv(0x04, &hashed)]),
            integer(&serial),
            gen_time,
        ]);
        let tst_digest = digest(&SHA256, &tst_info);
        let attributes = [
            seq(&[oid(CONTENT_TYPE_OID)?, tlv(0x31, &oid(TST_INFO_OID)?)]),
            seq(&[
                oid(MESSAGE_DIGEST_OID)?,
                tlv(0x31, &tlv(0x04, tst_digest.as_ref())),
            ]),
        ];
        let signed_attrs_set = tlv(0x31, &attributes.concat());
        let signature = self.key.sign(&signed_attrs_set).map_err(crypto)?;
        let cert = x509_cert::Certificate::from_der(&self.cert_der).map_err(crypto)?;
        let issuer_name = cert.tbs_certificate().issuer().to_der().map_err(crypto)?;
        let serial_der = cert
            .tbs_certificate()
            .serial_number()
            .to_der()
            .map_err(crypto)?;
        let signer_info = seq(&[
            integer(&[1]),
            seq(&[issuer_name, serial_der]),
            sha256_alg.clone(),
            tlv(0xa0, &attributes.concat()),
            seq(&[oid(ECDSA_SHA256_OID)?]),
            tlv(0x04, &signature),
        ]);
        let signed_data = seq(&[
            integer(&[3]),
            tlv(0x31, &sha256_alg),
            seq(&[oid(TST_INFO_OID)?, tlv(0xa0, &tlv(0x04, &tst_info))]),
            tlv(0xa0, &self.cert_der),
            tlv(0x31, &signer_info),
        ]);
        let content_info = seq(&[oid(SIGNED_DATA_OID)?, tlv(0xa0, &signed_data)]);
        Ok(seq(&[seq(&[integer(&[0])]), content_info]))
    }
}

/// The message imprint of a TimeStampReq: (hash algorithm OID, hashed message).
fn parse_request(request: &[u8]) -> Result<(String, Vec<u8>), LogError> {
    let bad = |m: &str| LogError::Entry(format!("timestamp request: {m}"));
    let outer = der::asn1::AnyRef::from_der(request).map_err(|_| bad("not DER"))?;
    let mut reader = der::SliceReader::new(outer.value()).map_err(|_| bad("not DER"))?;
    let _version: der::asn1::AnyRef<'_> =
        der::Decode::decode(&mut reader).map_err(|_| bad("no version"))?;
    let imprint: der::asn1::AnyRef<'_> =
        der::Decode::decode(&mut reader).map_err(|_| bad("no messageImprint"))?;
    let mut inner =
        der::SliceReader::new(imprint.value()).map_err(|_| bad("bad messageImprint"))?;
    let alg: der::asn1::AnyRef<'_> =
        der::Decode::decode(&mut inner).map_err(|_| bad("no algorithm"))?;
    let hashed: der::asn1::OctetString =
        der::Decode::decode(&mut inner).map_err(|_| bad("no hashedMessage"))?;
    let mut alg_reader = der::SliceReader::new(alg.value()).map_err(|_| bad("bad algorithm"))?;
    let alg_oid: der::asn1::ObjectIdentifier =
        der::Decode::decode(&mut alg_reader).map_err(|_| bad("bad algorithm OID"))?;
    Ok((alg_oid.to_string(), hashed.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_der() {
        assert_eq!(integer(&[0, 0x12, 0x34]), vec![0x02, 2, 0x12, 0x34]);
        assert_eq!(integer(&[0, 0x80]), vec![0x02, 2, 0, 0x80]);
        assert_eq!(integer(&[0x80]), vec![0x02, 2, 0, 0x80]);
        assert_eq!(integer(&[0, 0]), vec![0x02, 1, 0]);
        assert_eq!(integer(&[1]), vec![0x02, 1, 1]);
    }
}
