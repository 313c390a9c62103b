//! Signing certificates: parsing the leaf, its identity and Fulcio extensions, and building the
//! chain to a trust-root certificate authority (webpki, code-signing EKU, valid at signing time).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode, Reader, SliceReader};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::time::Validity;

use super::error::{CertificateError, ChainError};
use super::trust_root::{CertificateAuthority, valid_at};
use crate::keys::PublicKey;

/// DER of the OID 1.3.6.1.5.5.7.3.3 (id-kp-codeSigning).
const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// DER content of the arc under which Fulcio's extensions live, 1.3.6.1.4.1.57264.1 (compared
/// as bytes: formatting every extension's OID as text cost more than the rest of the parse).
const FULCIO_ARC: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01];

/// OID of Fulcio's username otherName SAN.
const FULCIO_USERNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");

/// The last arc of a Fulcio extension OID (1.3.6.1.4.1.57264.1.N), base-128 encoded in DER.
fn fulcio_arc(oid: &ObjectIdentifier) -> Option<u32> {
    let rest = oid.as_bytes().strip_prefix(FULCIO_ARC)?;
    let (last, more) = rest.split_last()?;
    // Every byte but the last has the continuation bit; four bytes hold any u32 we need.
    let continued = more.iter().all(|b| b & 0x80 != 0) && last & 0x80 == 0;
    if !continued || rest.len() > 4 {
        return None;
    }
    Some(rest.iter().fold(0, |n, b| n << 7 | u32::from(b & 0x7f)))
}

/// What Hallmark reads from a signing certificate.
#[derive(Debug, Clone)]
pub struct LeafCertificate {
    /// The DER bytes.
    pub der: Vec<u8>,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
    /// The certified key.
    pub key: PublicKey,
    /// Subject alternative names: e-mail addresses and URIs (the signer identity).
    pub identities: Vec<String>,
    /// Fulcio extensions by their last arc (1 = legacy issuer, 8 = issuer, 9 = build signer URI, ...).
    pub fulcio: BTreeMap<u32, String>,
}

impl LeafCertificate {
    /// Parses a DER certificate.
    pub fn parse(der: &[u8]) -> Result<Self, CertificateError> {
        let cert = Certificate::from_der(der).map_err(CertificateError::Malformed)?;
        let tbs = cert.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(CertificateError::Malformed)?;
        let key = PublicKey::from_spki_der(&spki).map_err(CertificateError::Key)?;
        let mut identities = Vec::new();
        if let Ok(Some(san)) = tbs.get_extension::<SubjectAltName>() {
            for name in &san.1.0 {
                match name {
                    GeneralName::Rfc822Name(n) => identities.push(n.to_string()),
                    GeneralName::UniformResourceIdentifier(u) => identities.push(u.to_string()),
                    // Fulcio's username SAN: otherName 1.3.6.1.4.1.57264.1.7 holding a UTF8String.
                    GeneralName::OtherName(other) if other.type_id == FULCIO_USERNAME => {
                        if let Ok(value) = other.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                            identities.push(value.as_str().to_owned());
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut fulcio = BTreeMap::new();
        for ext in tbs.extensions().into_iter().flatten() {
            let Some(arc) = fulcio_arc(&ext.extn_id) else {
                continue;
            };
            let raw = ext.extn_value.as_bytes();
            // Arc 1 (and 2-6) hold raw strings; arcs 8 and later a DER UTF8String.
            let value = if arc >= 8 {
                der::asn1::Utf8StringRef::from_der(raw)
                    .map(|s| s.as_str().to_owned())
                    .map_err(|_| CertificateError::Extension(ext.extn_id))?
            } else {
                String::from_utf8_lossy(raw).into_owned()
            };
            fulcio.insert(arc, value);
        }
        Ok(LeafCertificate {
            der: der.to_vec(),
            not_before: tbs.validity().not_before.to_system_time(),
            not_after: tbs.validity().not_after.to_system_time(),
            key,
            identities,
            fulcio,
        })
    }

    /// The OIDC issuer (Fulcio extension .8, else the legacy .1).
    pub fn issuer(&self) -> Option<&str> {
        self.fulcio
            .get(&8)
            .or_else(|| self.fulcio.get(&1))
            .map(String::as_str)
    }

    /// True when `time` lies within the certificate's validity.
    pub fn valid_at(&self, time: SystemTime) -> bool {
        time >= self.not_before && time <= self.not_after
    }
}

/// True when the DER certificate is self-signed by its name (a root).
pub fn is_self_issued(der: &[u8]) -> bool {
    Certificate::from_der(der)
        .map(|c| c.tbs_certificate().issuer() == c.tbs_certificate().subject())
        .unwrap_or(false)
}

fn unix(time: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(time.duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// Verifies the leaf chains, with the code-signing EKU, to one of `authorities` whose validity
/// contains `time`, using only the authority's own certificates (never the bundle's). Returns that
/// authority and the DER SPKI of the certificate that issued the leaf (needed for SCTs).
///
/// Every certificate of a trust-root chain is trusted material, so each serves as a trust anchor
/// for the leaf, provided it and every certificate above it are valid at `time`. "Above" follows
/// who issued whom, by name, whatever order the trust root lists the chain in. Anchoring at the
/// issuing intermediate costs one signature check per bundle instead of re-verifying the
/// intermediate against its root every time (a P-384 verification, half the cost of a bundle).
pub fn verify_chain<'a>(
    leaf: &LeafCertificate,
    authorities: &'a [CertificateAuthority],
    time: SystemTime,
) -> Result<(&'a CertificateAuthority, Vec<u8>), ChainError> {
    let leaf_der = CertificateDer::from(leaf.der.as_slice());
    let end_entity = webpki::EndEntityCert::try_from(&leaf_der).map_err(ChainError::Unusable)?;
    let mut last_error = ChainError::NoAuthority;
    for authority in authorities {
        if !valid_at(authority.validity.as_ref(), time) {
            last_error = ChainError::AuthorityNotValid(authority.uri.clone());
            continue;
        }
        let read: Result<Vec<AuthorityCertificate<'_>>, _> = authority
            .chain
            .iter()
            .map(|c| AuthorityCertificate::read(c))
            .collect();
        let parsed = match read {
            Ok(p) => p,
            Err(error) => {
                let uri = authority.uri.clone();
                last_error = ChainError::AuthorityUnreadable { uri, error };
                continue;
            }
        };
        for (index, (der, cert)) in authority.chain.iter().zip(&parsed).enumerate() {
            let above_valid = cert.valid_at(time)
                && ancestors(&parsed, index)
                    .into_iter()
                    .all(|i| parsed[i].valid_at(time));
            if !above_valid {
                last_error = ChainError::AuthorityCertificateNotValid(authority.uri.clone());
                continue;
            }
            let anchor_der = CertificateDer::from(der.as_slice());
            let Ok(anchor) = webpki::anchor_from_trusted_cert(&anchor_der) else {
                continue;
            };
            match end_entity.verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &[anchor],
                &[],
                unix(time),
                webpki::KeyUsage::required(EKU_CODE_SIGNING),
                None,
                None,
            ) {
                Ok(_) => return Ok((authority, cert.spki.to_vec())),
                Err(error) => {
                    let uri = authority.uri.clone();
                    last_error = ChainError::NotChained { uri, error };
                }
            }
        }
    }
    Err(last_error)
}

/// The certificates of a trust-root chain above `index`: its issuer within the chain, that one's
/// issuer, and so on, matched by name (issuer to subject) until a self-issued root or a name the
/// chain does not hold. Never by position: trust roots list their chains leaf-most first or root
/// first. Every certificate with the issuer's name counts, so none is left unchecked.
fn ancestors(chain: &[AuthorityCertificate<'_>], index: usize) -> Vec<usize> {
    let mut found = vec![index];
    let mut next = 0;
    while let Some(&current) = found.get(next) {
        next += 1;
        let cert = &chain[current];
        if cert.is_self_issued() {
            continue;
        }
        for (i, candidate) in chain.iter().enumerate() {
            if candidate.subject == cert.issuer && !found.contains(&i) {
                found.push(i);
            }
        }
    }
    found.remove(0);
    found
}

/// The trust anchor of a trust-root chain, found by relation, never by position: its self-issued
/// certificate, else the one whose issuer the chain does not hold (a chain that ends at an
/// intermediate). `None` when a certificate cannot be read or no certificate qualifies.
pub(crate) fn chain_anchor(chain: &[Vec<u8>]) -> Option<usize> {
    let parsed: Vec<AuthorityCertificate<'_>> = chain
        .iter()
        .map(|c| AuthorityCertificate::read(c))
        .collect::<Result<_, _>>()
        .ok()?;
    parsed.iter().position(|c| c.is_self_issued()).or_else(|| {
        parsed
            .iter()
            .position(|c| !parsed.iter().any(|other| other.subject == c.issuer))
    })
}

/// What the chain check reads from a trust root's certificate: its validity, its names and its
/// key. Found by walking the DER (webpki parses the certificate itself as the trust anchor): a
/// full X.509 decode of every authority's chain cost more than the rest of the check.
struct AuthorityCertificate<'a> {
    not_before: SystemTime,
    not_after: SystemTime,
    /// The DER issuer Name, as encoded.
    issuer: &'a [u8],
    /// The DER subject Name, as encoded.
    subject: &'a [u8],
    /// The DER SubjectPublicKeyInfo, as encoded.
    spki: &'a [u8],
}

impl<'a> AuthorityCertificate<'a> {
    fn read(der: &'a [u8]) -> der::Result<Self> {
        let mut reader = SliceReader::new(der)?;
        let tbs = reader.sequence(|certificate| {
            let tbs = certificate.decode::<AnyRef<'a>>()?;
            certificate.tlv_bytes()?; // signatureAlgorithm
            certificate.tlv_bytes()?; // signatureValue
            Ok::<_, der::Error>(tbs)
        })?;
        reader.finish()?;
        tbs.sequence(|r| {
            if r.peek_byte() == Some(0xa0) {
                r.tlv_bytes()?; // [0] version
            }
            r.tlv_bytes()?; // serialNumber
            r.tlv_bytes()?; // signature
            let issuer = r.tlv_bytes()?;
            let validity: Validity = r.decode()?;
            let subject = r.tlv_bytes()?;
            let spki = r.tlv_bytes()?;
            while !r.is_finished() {
                r.tlv_bytes()?; // unique ids, extensions
            }
            Ok::<_, der::Error>(AuthorityCertificate {
                not_before: validity.not_before.to_system_time(),
                not_after: validity.not_after.to_system_time(),
                issuer,
                subject,
                spki,
            })
        })
    }

    fn valid_at(&self, time: SystemTime) -> bool {
        time >= self.not_before && time <= self.not_after
    }

    fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_certificates_are_read_as_x509_cert_reads_them() {
        let root = crate::sigstore::embedded::production().unwrap();
        let cas = root
            .certificate_authorities
            .iter()
            .chain(&root.timestamp_authorities);
        for der in cas.flat_map(|ca| &ca.chain) {
            let full = Certificate::from_der(der).unwrap();
            let tbs = full.tbs_certificate();
            let read = AuthorityCertificate::read(der).unwrap();
            assert_eq!(read.not_before, tbs.validity().not_before.to_system_time());
            assert_eq!(read.not_after, tbs.validity().not_after.to_system_time());
            assert_eq!(read.spki, tbs.subject_public_key_info().to_der().unwrap());
            assert_eq!(read.issuer, tbs.issuer().to_der().unwrap());
            assert_eq!(read.subject, tbs.subject().to_der().unwrap());
        }
        for n in 0..40 {
            let der = &root.certificate_authorities[0].chain[0];
            assert!(AuthorityCertificate::read(&der[..n]).is_err(), "{n}");
        }
        let mut trailing = root.certificate_authorities[0].chain[0].clone();
        trailing.push(0);
        assert!(AuthorityCertificate::read(&trailing).is_err());
    }

    #[test]
    fn chains_are_ordered_by_who_issued_whom_not_by_position() {
        let root = crate::sigstore::embedded::production().unwrap();
        let authorities = root
            .certificate_authorities
            .iter()
            .chain(&root.timestamp_authorities);
        let mut multi = 0;
        for ca in authorities {
            let mut reversed = ca.chain.clone();
            reversed.reverse();
            // The anchor is the same certificate in either order.
            let forward = chain_anchor(&ca.chain).unwrap();
            let backward = chain_anchor(&reversed).unwrap();
            assert_eq!(ca.chain[forward], reversed[backward], "{}", ca.uri);
            assert!(is_self_issued(&ca.chain[forward]), "{}", ca.uri);
            for chain in [&ca.chain, &reversed] {
                let parsed: Vec<_> = chain
                    .iter()
                    .map(|c| AuthorityCertificate::read(c).unwrap())
                    .collect();
                // The leaf-most certificate has every other one above it; the anchor none.
                let issues_another = |i: usize| {
                    (parsed.iter().enumerate())
                        .any(|(j, p)| j != i && p.issuer == parsed[i].subject)
                };
                let leaf_most = (0..chain.len()).find(|&i| !issues_another(i)).unwrap();
                let mut above = ancestors(&parsed, leaf_most);
                above.sort_unstable();
                let others: Vec<usize> = (0..chain.len()).filter(|&i| i != leaf_most).collect();
                assert_eq!(above, others, "{}", ca.uri);
                let anchor = chain_anchor(chain).unwrap();
                assert!(ancestors(&parsed, anchor).is_empty());
            }
            multi += usize::from(ca.chain.len() > 1);
        }
        assert!(
            multi >= 2,
            "the production root has chains of several certificates"
        );
    }

    #[test]
    fn fulcio_arcs_are_read_from_the_oid_bytes() {
        let arc = |text: &str| fulcio_arc(&ObjectIdentifier::new_unwrap(text));
        assert_eq!(arc("1.3.6.1.4.1.57264.1.1"), Some(1));
        assert_eq!(arc("1.3.6.1.4.1.57264.1.24"), Some(24));
        assert_eq!(arc("1.3.6.1.4.1.57264.1.200"), Some(200));
        assert_eq!(
            arc("1.3.6.1.4.1.57264.1.8.1"),
            None,
            "a sub-arc is not an extension"
        );
        assert_eq!(arc("1.3.6.1.4.1.57264.2.8"), None);
        assert_eq!(arc("1.3.6.1.4.1.57264.1"), None);
        assert_eq!(arc("2.5.29.17"), None);
    }
}
