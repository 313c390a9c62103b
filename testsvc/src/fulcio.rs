//! A test Fulcio: a certificate authority that issues short-lived code-signing certificates for
//! OIDC identities, with Fulcio's extensions and an embedded SCT from its own CT log.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use der::{Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    PublicKeyData, SanType, SerialNumber, SignatureAlgorithm,
};

use crate::log::LogError;

/// Fulcio's OID arc 1.3.6.1.4.1.57264.1.
const FULCIO_ARC: [u64; 9] = [1, 3, 6, 1, 4, 1, 57264, 1, 0];
/// The embedded SCT list extension.
const SCT_LIST_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// Who a certificate is for.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The SAN: an e-mail address or a URI (workflow identities).
    pub san: String,
    /// The OIDC issuer.
    pub issuer: String,
    /// Further Fulcio extensions: arc (9 = build signer URI, ...) and value.
    pub extensions: Vec<(u64, String)>,
}

/// An uncompressed P-256 public key to certify.
struct RequestedKey(Vec<u8>);

impl PublicKeyData for RequestedKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

fn crypto<E: std::fmt::Display>(e: E) -> LogError {
    LogError::Crypto(e.to_string())
}

fn utf8_der(value: &str) -> Result<Vec<u8>, LogError> {
    der::asn1::Utf8StringRef::new(value)
        .and_then(|s| s.to_der())
        .map_err(crypto)
}

/// The CA with its CT log.
pub struct TestFulcio {
    root_key: KeyPair,
    root_params: CertificateParams,
    root_der: Vec<u8>,
    ct_key: EcdsaKeyPair,
    ct_spki: Vec<u8>,
}

impl TestFulcio {
    /// A fresh CA (self-signed P-256 root, valid a year) and CT log key.
    pub fn new() -> Result<Self, LogError> {
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(crypto)?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "hallmark-test");
        name.push(DnType::CommonName, "hallmark test fulcio root");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        let root_der = params
            .self_signed(&root_key)
            .map_err(crypto)?
            .der()
            .to_vec();
        let pkcs8 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map_err(crypto)?;
        let ct_key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
            .map_err(crypto)?;
        let ct_spki = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(
            ct_key.public_key(),
        )
        .map_err(crypto)?
        .as_ref()
        .to_vec();
        Ok(TestFulcio {
            root_key,
            root_params: params,
            root_der,
            ct_key,
            ct_spki,
        })
    }

    /// DER of the root certificate (the trust root's CA chain).
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// DER SPKI of the CT log key (the trust root's ctlog).
    pub fn ct_public_key_der(&self) -> &[u8] {
        &self.ct_spki
    }

    /// Issues a 10-minute certificate for the uncompressed P-256 point `public_key`, with an
    /// embedded SCT.
    pub fn issue(
        &self,
        public_key: &[u8],
        identity: &Identity,
        now: SystemTime,
    ) -> Result<Vec<u8>, LogError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        let san = rcgen::string::Ia5String::try_from(identity.san.as_str()).map_err(crypto)?;
        params.subject_alt_names = vec![if identity.san.contains("://") {
            SanType::URI(san)
        } else {
            SanType::Rfc822Name(san)
        }];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        params.use_authority_key_identifier_extension = true;
        let mut serial = [0u8; 16];
        SystemRandom::new().fill(&mut serial).map_err(crypto)?;
        // Positive, and minimal DER whatever the random bytes: no leading zero byte.
        serial[0] = (serial[0] & 0x7f).max(1);
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let start = time::OffsetDateTime::from_unix_timestamp(
            now.duration_since(UNIX_EPOCH).map_err(crypto)?.as_secs() as i64,
        )
        .map_err(crypto)?;
        params.not_before = start;
        params.not_after = start + time::Duration::minutes(10);
        let arc = |n: u64| {
            let mut oid = FULCIO_ARC.to_vec();
            oid[8] = n;
            oid
        };
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &arc(1),
                identity.issuer.as_bytes().to_vec(),
            ));
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &arc(8),
                utf8_der(&identity.issuer)?,
            ));
        for (n, value) in &identity.extensions {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &arc(*n),
                    utf8_der(value)?,
                ));
        }
        let issuer = Issuer::from_params(&self.root_params, &self.root_key);
        let key = RequestedKey(public_key.to_vec());
        // The precertificate's TBS is the final TBS without the SCT extension (RFC 6962 §3.2).
        let precert = params.signed_by(&key, &issuer).map_err(crypto)?;
        let tbs = x509_cert::Certificate::from_der(precert.der())
            .and_then(|c| c.tbs_certificate().to_der())
            .map_err(crypto)?;
        let sct = self.sct(&tbs, now)?;
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &SCT_LIST_OID,
                der::asn1::OctetString::new(sct)
                    .and_then(|o| o.to_der())
                    .map_err(crypto)?,
            ));
        Ok(params
            .signed_by(&key, &issuer)
            .map_err(crypto)?
            .der()
            .to_vec())
    }

    /// A TLS-encoded SignedCertificateTimestampList with one SCT for `tbs`.
    fn sct(&self, tbs: &[u8], now: SystemTime) -> Result<Vec<u8>, LogError> {
        let millis =
            (now.duration_since(UNIX_EPOCH).map_err(crypto)? + Duration::ZERO).as_millis() as u64;
        let root_spki = x509_cert::Certificate::from_der(&self.root_der)
            .and_then(|c| c.tbs_certificate().subject_public_key_info().to_der())
            .map_err(crypto)?;
        let issuer_key_hash = digest(&SHA256, &root_spki);
        let mut signed = vec![0u8, 0u8];
        signed.extend(millis.to_be_bytes());
        signed.extend([0u8, 1u8]);
        signed.extend(issuer_key_hash.as_ref());
        let len = u32::try_from(tbs.len()).map_err(crypto)?.to_be_bytes();
        signed.extend(&len[1..]);
        signed.extend(tbs);
        signed.extend([0u8, 0u8]);
        let signature = self
            .ct_key
            .sign(&SystemRandom::new(), &signed)
            .map_err(crypto)?;
        let log_id = digest(&SHA256, &self.ct_spki);
        let mut sct = vec![0u8];
        sct.extend(log_id.as_ref());
        sct.extend(millis.to_be_bytes());
        sct.extend([0u8, 0u8, 4u8, 3u8]);
        sct.extend(
            u16::try_from(signature.as_ref().len())
                .map_err(crypto)?
                .to_be_bytes(),
        );
        sct.extend(signature.as_ref());
        let mut list = u16::try_from(sct.len() + 2)
            .map_err(crypto)?
            .to_be_bytes()
            .to_vec();
        list.extend(u16::try_from(sct.len()).map_err(crypto)?.to_be_bytes());
        list.extend(sct);
        Ok(list)
    }
}
