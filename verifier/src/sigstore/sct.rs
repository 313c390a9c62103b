//! Signed certificate timestamps (RFC 6962) embedded in Fulcio certificates.
//!
//! Fulcio submits a precertificate to a CT log before issuing, and embeds the log's promise (the
//! SCT) in the final certificate. To check it, the precertificate entry the log signed is rebuilt
//! (RFC 6962 §3.2): the leaf's TBSCertificate without the SCT list extension, bound to the issuer's
//! key hash. Every other byte of the TBSCertificate is kept as it was.

use std::time::{Duration, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use const_oid::db::rfc6962::CT_PRECERT_SCTS;
use der::asn1::{AnyRef, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::ext::Extension;

use crate::keys::Algorithm;
use crate::sigstore::trust_root::{TransparencyLog, valid_at};

/// Why the certificate's SCTs were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate transparency: {0}")]
pub struct SctError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, SctError> {
    Err(SctError(message.into()))
}

/// One parsed SCT (RFC 6962 §3.2, version 1), borrowing from the list.
#[derive(Debug)]
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp: u64,
    extensions: &'a [u8],
    hash: u8,
    signature_algorithm: u8,
    signature: &'a [u8],
}

/// A cursor over TLS presentation-language bytes; every read checks the remaining length.
struct TlsReader<'a>(&'a [u8]);

impl<'a> TlsReader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], SctError> {
        if self.0.len() < n {
            return err(format!(
                "malformed SCT list: {what} needs {n} bytes, {} left",
                self.0.len()
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &str) -> Result<u8, SctError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<usize, SctError> {
        let b = self.take(2, what)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn u64(&mut self, what: &str) -> Result<u64, SctError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8, what)?);
        Ok(u64::from_be_bytes(b))
    }

    /// A `opaque<0..2^16-1>`: u16 length, then that many bytes.
    fn vec16(&mut self, what: &str) -> Result<&'a [u8], SctError> {
        let n = self.u16(what)?;
        self.take(n, what)
    }

    fn finish(&self, what: &str) -> Result<(), SctError> {
        match self.0.len() {
            0 => Ok(()),
            n => err(format!(
                "malformed SCT list: {n} trailing bytes after {what}"
            )),
        }
    }
}

/// Parses a TLS-encoded `SignedCertificateTimestampList`.
fn parse_list(bytes: &[u8]) -> Result<Vec<Sct<'_>>, SctError> {
    let mut outer = TlsReader(bytes);
    let mut list = TlsReader(outer.vec16("the list")?);
    outer.finish("the list")?;
    let mut scts = Vec::new();
    while !list.0.is_empty() {
        let mut r = TlsReader(list.vec16("an SCT")?);
        let version = r.u8("the version")?;
        if version != 0 {
            return err(format!(
                "malformed SCT list: unsupported SCT version {version}"
            ));
        }
        let sct = Sct {
            log_id: r.take(32, "the log id")?,
            timestamp: r.u64("the timestamp")?,
            extensions: r.vec16("the extensions")?,
            hash: r.u8("the hash algorithm")?,
            signature_algorithm: r.u8("the signature algorithm")?,
            signature: r.vec16("the signature")?,
        };
        r.finish("an SCT")?;
        scts.push(sct);
    }
    if scts.is_empty() {
        return err("malformed SCT list: the list is empty");
    }
    Ok(scts)
}

/// The DER elements inside a constructed value, each kept byte for byte.
fn elements(content: &[u8]) -> der::Result<Vec<AnyRef<'_>>> {
    let mut reader = SliceReader::new(content)?;
    let mut items = Vec::new();
    while !reader.is_finished() {
        items.push(reader.decode::<AnyRef<'_>>()?);
    }
    Ok(items)
}

/// Splits the leaf into the precertificate TBSCertificate (the leaf's TBSCertificate without the
/// SCT list extension, everything else byte-identical) and the TLS-encoded SCT list.
fn precert_parts(leaf_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), SctError> {
    let bad = |e: der::Error| SctError(format!("leaf is not a well-formed certificate: {e}"));
    let cert = AnyRef::from_der(leaf_der).map_err(bad)?;
    let cert_items = elements(cert.value()).map_err(bad)?;
    let Some(tbs) = cert_items
        .first()
        .filter(|tbs| cert.tag() == Tag::Sequence && tbs.tag() == Tag::Sequence)
    else {
        return err("leaf is not a well-formed certificate: no TBSCertificate");
    };
    let extensions_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let mut tbs_items = elements(tbs.value()).map_err(bad)?;
    let Some(position) = tbs_items
        .iter()
        .position(|item| item.tag() == extensions_tag)
    else {
        return err("no SCT extension: the leaf has no extensions");
    };
    let extensions = AnyRef::from_der(tbs_items[position].value()).map_err(bad)?;
    let mut kept = Vec::new();
    let mut lists = Vec::new();
    for raw in elements(extensions.value()).map_err(bad)? {
        let extension = Extension::from_der(&raw.to_der().map_err(bad)?).map_err(bad)?;
        if extension.extn_id == CT_PRECERT_SCTS {
            lists.push(extension.extn_value);
        } else {
            kept.push(raw);
        }
    }
    let list = match lists.as_slice() {
        [] => return err(format!("no SCT extension ({CT_PRECERT_SCTS}) in the leaf")),
        [one] => OctetString::from_der(one.as_bytes()).map_err(|e| {
            SctError(format!(
                "malformed SCT list: the extension is not an OCTET STRING: {e}"
            ))
        })?,
        _ => return err("malformed SCT list: the leaf has more than one SCT extension"),
    };
    // With no other extension left, the optional [3] field disappears altogether.
    let kept_der = kept.to_der().map_err(bad)?;
    if kept.is_empty() {
        tbs_items.remove(position);
    } else {
        tbs_items[position] = AnyRef::new(extensions_tag, &kept_der).map_err(bad)?;
    }
    let precert_tbs = tbs_items.to_der().map_err(bad)?;
    Ok((precert_tbs, list.as_bytes().to_vec()))
}

/// The bytes the log signed for a precert entry (RFC 6962 §3.2, `digitally-signed struct`).
fn signed_data(
    sct: &Sct<'_>,
    issuer_key_hash: &[u8],
    precert_tbs: &[u8],
) -> Result<Vec<u8>, SctError> {
    let tbs_len = u32::try_from(precert_tbs.len())
        .ok()
        .filter(|&n| n < 1 << 24)
        .ok_or_else(|| {
            SctError(format!(
                "TBSCertificate of {} bytes is too long",
                precert_tbs.len()
            ))
        })?;
    let ext_len = u16::try_from(sct.extensions.len())
        .map_err(|_| SctError("SCT extensions are too long".into()))?;
    let mut out = Vec::with_capacity(precert_tbs.len() + sct.extensions.len() + 50);
    out.push(0); // version: v1
    out.push(0); // signature_type: certificate_timestamp
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type: precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(precert_tbs);
    out.extend_from_slice(&ext_len.to_be_bytes());
    out.extend_from_slice(sct.extensions);
    Ok(out)
}

/// True when the SCT's declared TLS algorithms (RFC 5246 §7.4.1.4.1) are those of the log's key.
fn algorithm_matches(key: Algorithm, hash: u8, signature: u8) -> bool {
    matches!(
        (key, hash, signature),
        (Algorithm::EcdsaP256Sha256, 4, 3)
            | (Algorithm::EcdsaP384Sha384, 5, 3)
            | (Algorithm::RsaPkcs1Sha256, 4, 1)
            | (Algorithm::Ed25519, 8, 7)
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Verifies the SCTs embedded in `leaf_der` (extension 1.3.6.1.4.1.11129.2.4.2) as precertificate
/// SCTs issued for `issuer_spki_der` (the DER SubjectPublicKeyInfo of the certificate that signed
/// the leaf). At least one SCT must verify with a CT log of `ctlogs` whose validity window contains
/// the SCT's timestamp; SCTs from unknown logs are skipped. Returns the number that verified.
///
/// An SCT that names a log of `ctlogs` but does not verify (bad signature, wrong algorithm, time
/// outside the log's validity) rejects the certificate, even when another SCT verifies.
pub fn verify_embedded_scts(
    leaf_der: &[u8],
    issuer_spki_der: &[u8],
    ctlogs: &[TransparencyLog],
) -> Result<usize, SctError> {
    let (precert_tbs, list) = precert_parts(leaf_der)?;
    let scts = parse_list(&list)?;
    let issuer_key_hash = digest(&SHA256, issuer_spki_der);
    let mut verified = 0;
    for sct in &scts {
        let logs: Vec<&TransparencyLog> = ctlogs
            .iter()
            .filter(|log| log.log_id == sct.log_id)
            .collect();
        if logs.is_empty() {
            continue;
        }
        let id = hex(sct.log_id);
        let time = UNIX_EPOCH
            .checked_add(Duration::from_millis(sct.timestamp))
            .ok_or_else(|| {
                SctError(format!(
                    "SCT from log {id} has an impossible timestamp {}",
                    sct.timestamp
                ))
            })?;
        let current: Vec<&TransparencyLog> = logs
            .into_iter()
            .filter(|log| valid_at(log.validity.as_ref(), time))
            .collect();
        if current.is_empty() {
            return err(format!(
                "SCT time {} is outside the validity of log {id}",
                humantime::format_rfc3339_millis(time)
            ));
        }
        let message = signed_data(sct, issuer_key_hash.as_ref(), &precert_tbs)?;
        let good = current.iter().any(|log| {
            algorithm_matches(log.key.algorithm(), sct.hash, sct.signature_algorithm)
                && log.key.verify(&message, sct.signature)
        });
        if !good {
            let log = current.first().map_or("", |l| l.base_url.as_str());
            return err(format!(
                "SCT signature invalid for log {id} ({log}; hash {}, signature algorithm {})",
                sct.hash, sct.signature_algorithm
            ));
        }
        verified += 1;
    }
    if verified == 0 {
        let ids: Vec<String> = scts.iter().map(|s| hex(s.log_id)).collect();
        return err(format!(
            "no SCT from a trusted log (SCT log ids: {})",
            ids.join(", ")
        ));
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use x509_cert::Certificate;

    use super::*;
    use crate::sigstore::trust_root::{TrustRoot, Validity, parse_time};

    fn vectors() -> PathBuf {
        let dir = std::env::var("HALLMARK_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
            });
        assert!(
            dir.is_dir(),
            "test vectors missing at {} (set HALLMARK_VECTORS)",
            dir.display()
        );
        dir
    }

    /// The leaf, its issuer's SPKI (from the case's trust root) and that trust root.
    fn case(name: &str) -> (Vec<u8>, Vec<u8>, TrustRoot) {
        let dir = vectors()
            .join("sigstore-conformance/test/assets/bundle-verify")
            .join(name);
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("bundle.sigstore.json")).unwrap())
                .unwrap();
        let material = &bundle["verificationMaterial"];
        let raw = material["certificate"]["rawBytes"]
            .as_str()
            .or_else(|| material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
            .unwrap();
        let leaf = STANDARD.decode(raw).unwrap();
        let own = dir.join("trusted_root.json");
        let root_path = if own.exists() {
            own
        } else {
            vectors().join("trust-roots/production/trusted_root.json")
        };
        let root = TrustRoot::from_json(&std::fs::read(root_path).unwrap()).unwrap();
        let issuer_name = Certificate::from_der(&leaf)
            .unwrap()
            .tbs_certificate()
            .issuer()
            .clone();
        let issuer = root
            .certificate_authorities
            .iter()
            .flat_map(|ca| ca.chain.iter())
            .map(|der| Certificate::from_der(der).unwrap())
            .find(|ca| *ca.tbs_certificate().subject() == issuer_name)
            .unwrap_or_else(|| panic!("{name}: no issuer in the trust root"));
        let spki = issuer
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        (leaf, spki, root)
    }

    fn position(haystack: &[u8], needle: &[u8]) -> usize {
        haystack
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    }

    #[test]
    fn real_scts_verify() {
        for name in [
            "happy-path-v0.3",
            "happy-path-v0.2",
            "bundle-with-sct-with-extensions",
            "rekor2-happy-path",
        ] {
            let (leaf, issuer, root) = case(name);
            assert_eq!(
                verify_embedded_scts(&leaf, &issuer, &root.ctlogs),
                Ok(1),
                "{name}"
            );
        }
    }

    #[test]
    fn sct_from_a_log_the_root_does_not_hold_is_rejected() {
        let (leaf, issuer, root) = case("invalid-ct-key_fail");
        let e = verify_embedded_scts(&leaf, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("no SCT from a trusted log"), "{e}");
        let (leaf, issuer, _) = case("happy-path-v0.3");
        let e = verify_embedded_scts(&leaf, &issuer, &[]).unwrap_err();
        assert!(e.0.contains("no SCT from a trusted log"), "{e}");
    }

    #[test]
    fn flipped_signature_is_rejected() {
        let (mut leaf, issuer, root) = case("happy-path-v0.3");
        let (_, list) = precert_parts(&leaf).unwrap();
        let signature = parse_list(&list).unwrap()[0].signature.to_vec();
        let at = position(&leaf, &signature) + signature.len() - 1;
        leaf[at] ^= 0x01;
        let e = verify_embedded_scts(&leaf, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("signature invalid"), "{e}");
    }

    #[test]
    fn sct_extensions_are_signed() {
        let (mut leaf, issuer, root) = case("bundle-with-sct-with-extensions");
        let (_, list) = precert_parts(&leaf).unwrap();
        let extensions = parse_list(&list).unwrap()[0].extensions.to_vec();
        assert!(!extensions.is_empty());
        let at = position(&leaf, &extensions) + extensions.len() - 1;
        leaf[at] ^= 0x01;
        let e = verify_embedded_scts(&leaf, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("signature invalid"), "{e}");
    }

    #[test]
    fn wrong_issuer_key_or_tampered_leaf_is_rejected() {
        let (leaf, _, root) = case("happy-path-v0.3");
        let (_, other_issuer, _) = case("bundle-with-sct-with-extensions");
        let e = verify_embedded_scts(&leaf, &other_issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("signature invalid"), "{e}");
        let (mut leaf, issuer, root) = case("happy-path-v0.3");
        let cert = Certificate::from_der(&leaf).unwrap();
        let serial = cert.tbs_certificate().serial_number().as_bytes().to_vec();
        let at = position(&leaf, &serial);
        leaf[at + 1] ^= 0x01;
        let e = verify_embedded_scts(&leaf, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("signature invalid"), "{e}");
    }

    #[test]
    fn sct_outside_the_log_validity_is_rejected() {
        let (leaf, issuer, mut root) = case("happy-path-v0.3");
        for log in &mut root.ctlogs {
            log.validity = Some(Validity {
                start: parse_time("2025-01-01T00:00:00Z").unwrap(),
                end: None,
            });
        }
        let e = verify_embedded_scts(&leaf, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("outside the validity"), "{e}");
        // Ends are inclusive: a window ending exactly at the SCT's millisecond still holds it.
        let (_, list) = precert_parts(&leaf).unwrap();
        let at = UNIX_EPOCH + Duration::from_millis(parse_list(&list).unwrap()[0].timestamp);
        for log in &mut root.ctlogs {
            log.validity = Some(Validity {
                start: at,
                end: Some(at),
            });
        }
        assert_eq!(verify_embedded_scts(&leaf, &issuer, &root.ctlogs), Ok(1));
    }

    #[test]
    fn truncated_or_padded_lists_are_malformed() {
        let (leaf, _, _) = case("bundle-with-sct-with-extensions");
        let (_, list) = precert_parts(&leaf).unwrap();
        for n in 0..list.len() {
            let e = parse_list(&list[..n]).unwrap_err();
            assert!(e.0.contains("malformed SCT list"), "{n}: {e}");
        }
        let mut padded = list.clone();
        padded.push(0);
        assert!(parse_list(&padded).is_err());
        assert!(parse_list(&[0, 0]).unwrap_err().0.contains("empty"));
        // Through the public API: the list claims one byte more than the extension holds.
        let (mut leaf, issuer, root) = case("happy-path-v0.3");
        let (_, list) = precert_parts(&leaf).unwrap();
        let at = position(&leaf, &list);
        leaf[at + 1] = leaf[at + 1].wrapping_add(1);
        let e = verify_embedded_scts(&leaf, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("malformed SCT list"), "{e}");
    }

    #[test]
    fn certificates_without_scts_and_garbage_are_rejected() {
        let (_, issuer, root) = case("happy-path-v0.3");
        let ca = &root.certificate_authorities[1].chain[0];
        let e = verify_embedded_scts(ca, &issuer, &root.ctlogs).unwrap_err();
        assert!(e.0.contains("no SCT extension"), "{e}");
        for junk in [&b""[..], b"\x30\x03\x02\x01", b"\x30\x00", b"not der"] {
            assert!(verify_embedded_scts(junk, &issuer, &root.ctlogs).is_err());
        }
    }
}
