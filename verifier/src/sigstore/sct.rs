//! Signed certificate timestamps (RFC 6962) embedded in Fulcio certificates.
//!
//! Fulcio submits a precertificate to a CT log before issuing, and embeds the log's promise (the
//! SCT) in the final certificate. To check it, the precertificate entry the log signed is rebuilt
//! (RFC 6962 §3.2): the leaf's TBSCertificate without the SCT list extension, bound to the issuer's
//! key hash. Every other byte of the TBSCertificate is kept as it was.

use hallmark_model::hex::encode as hex;
use std::time::{Duration, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use const_oid::db::rfc6962::CT_PRECERT_SCTS;
use der::asn1::{AnyRef, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::ext::Extension;

use crate::keys::Algorithm;
use crate::sigstore::error::SctError;
use crate::sigstore::trust_root::{TransparencyLog, valid_at};

fn malformed<T>(message: impl Into<String>) -> Result<T, SctError> {
    Err(SctError::Malformed(message.into()))
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
        let Some((head, rest)) = self.0.split_at_checked(n) else {
            return malformed(format!("{what} is cut short"));
        };
        self.0 = rest;
        Ok(head)
    }

    fn int<const N: usize>(&mut self, what: &str) -> Result<u64, SctError> {
        let bytes = self.take(N, what)?;
        Ok(bytes.iter().fold(0, |n, &b| n << 8 | u64::from(b)))
    }

    /// An `opaque<0..2^16-1>`: a u16 length, then that many bytes.
    fn vec16(&mut self, what: &str) -> Result<&'a [u8], SctError> {
        let n = self.int::<2>(what)?;
        self.take(n as usize, what)
    }

    fn finish(&self, what: &str) -> Result<(), SctError> {
        match self.0.len() {
            0 => Ok(()),
            n => malformed(format!("{n} bytes after {what}")),
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
        match r.int::<1>("the version")? {
            0 => {}
            v => return malformed(format!("unsupported SCT version {v}")),
        }
        let sct = Sct {
            log_id: r.take(32, "the log id")?,
            timestamp: r.int::<8>("the timestamp")?,
            extensions: r.vec16("the extensions")?,
            hash: r.take(1, "the hash algorithm")?[0],
            signature_algorithm: r.take(1, "the signature algorithm")?[0],
            signature: r.vec16("the signature")?,
        };
        r.finish("an SCT")?;
        scts.push(sct);
    }
    if scts.is_empty() {
        return malformed("the list is empty");
    }
    Ok(scts)
}

/// Parses a TLS-encoded `SignedCertificateTimestampList` and returns how many SCTs it holds.
/// Exposed for the fuzz targets only.
#[doc(hidden)]
pub fn parse_sct_list(bytes: &[u8]) -> Result<usize, SctError> {
    parse_list(bytes).map(|list| list.len())
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
    let bad = SctError::Certificate;
    let cert = AnyRef::from_der(leaf_der).map_err(bad)?;
    let cert_items = elements(cert.value()).map_err(bad)?;
    let is_sequence = |item: &&AnyRef<'_>| item.tag() == Tag::Sequence;
    let Some(tbs) = cert_items
        .first()
        .filter(is_sequence)
        .filter(|_| cert.tag() == Tag::Sequence)
    else {
        return Err(SctError::Certificate(
            der::Tag::Sequence.value_error().into(),
        ));
    };
    let extensions_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let mut tbs_items = elements(tbs.value()).map_err(bad)?;
    let Some(at) = tbs_items
        .iter()
        .position(|item| item.tag() == extensions_tag)
    else {
        return Err(SctError::Missing);
    };
    let extensions = AnyRef::from_der(tbs_items[at].value()).map_err(bad)?;
    let (mut kept, mut lists) = (Vec::new(), Vec::new());
    for raw in elements(extensions.value()).map_err(bad)? {
        let extension: Extension = raw.decode_as().map_err(bad)?;
        if extension.extn_id == CT_PRECERT_SCTS {
            lists.push(extension.extn_value);
        } else {
            kept.push(raw);
        }
    }
    let list = match lists.as_slice() {
        [] => return Err(SctError::Missing),
        [one] => OctetString::from_der(one.as_bytes())
            .map_err(|e| SctError::Malformed(format!("not an OCTET STRING: {e}")))?,
        _ => return malformed("more than one SCT extension"),
    };
    // With no other extension left, the optional [3] field disappears altogether.
    let kept_der = kept.to_der().map_err(bad)?;
    if kept.is_empty() {
        tbs_items.remove(at);
    } else {
        tbs_items[at] = AnyRef::new(extensions_tag, &kept_der).map_err(bad)?;
    }
    let precert_tbs = tbs_items.to_der().map_err(bad)?;
    Ok((precert_tbs, list.as_bytes().to_vec()))
}

/// The bytes the log signed for a precert entry (RFC 6962 §3.2, `digitally-signed struct`).
fn signed_data(sct: &Sct<'_>, issuer_key_hash: &[u8], tbs: &[u8]) -> Result<Vec<u8>, SctError> {
    let Some(tbs_len) = u32::try_from(tbs.len()).ok().filter(|&n| n < 1 << 24) else {
        return malformed(format!("TBSCertificate of {} bytes is too long", tbs.len()));
    };
    let Ok(ext_len) = u16::try_from(sct.extensions.len()) else {
        return malformed("SCT extensions are too long");
    };
    let mut out = Vec::with_capacity(tbs.len() + sct.extensions.len() + 50);
    out.extend_from_slice(&[0, 0]); // version v1, signature_type certificate_timestamp
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    out.extend_from_slice(tbs);
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

/// Verifies the SCTs embedded in `leaf_der` (extension 1.3.6.1.4.1.11129.2.4.2) as precertificate
/// SCTs issued for `issuer_spki_der` (the DER SubjectPublicKeyInfo of the certificate that signed
/// the leaf). At least one SCT must verify with a CT log of `ctlogs` whose validity window contains
/// the SCT's timestamp; SCTs from unknown logs are skipped. Returns the number that verified.
///
/// An SCT that names a log of `ctlogs` but does not verify (bad signature, algorithm other than the
/// log key's, time outside the log's validity) rejects the certificate, even if another verifies.
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
        let logs = ctlogs.iter().filter(|log| log.log_id == sct.log_id);
        if logs.clone().next().is_none() {
            continue;
        }
        let id = hex(sct.log_id);
        let Some(time) = UNIX_EPOCH.checked_add(Duration::from_millis(sct.timestamp)) else {
            return malformed(format!("SCT from log {id} has an impossible timestamp"));
        };
        let current: Vec<_> = logs
            .filter(|log| valid_at(log.validity.as_ref(), time))
            .collect();
        let Some(first) = current.first() else {
            return Err(SctError::LogValidity { log_id: id, time });
        };
        let message = signed_data(sct, issuer_key_hash.as_ref(), &precert_tbs)?;
        let (hash, algorithm) = (sct.hash, sct.signature_algorithm);
        let good = current.iter().any(|log| {
            algorithm_matches(log.key.algorithm(), hash, algorithm)
                && log.key.verify(&message, sct.signature)
        });
        if !good {
            return Err(SctError::Signature {
                log_id: id,
                url: first.base_url.clone(),
                hash,
                algorithm,
            });
        }
        verified += 1;
    }
    if verified == 0 {
        return Err(SctError::Untrusted(
            scts.iter().map(|s| hex(s.log_id)).collect(),
        ));
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::Value;
    use x509_cert::Certificate;

    use super::*;
    use crate::keys::PublicKey;
    use crate::sigstore::trust_root::{Validity, parse_time};

    fn vectors() -> PathBuf {
        let fallback = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors");
        let dir = PathBuf::from(std::env::var("HALLMARK_VECTORS").unwrap_or(fallback.into()));
        assert!(dir.is_dir(), "no test vectors at {dir:?}");
        dir
    }

    fn json(path: PathBuf) -> Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn tbs(der: &[u8]) -> x509_cert::TbsCertificate {
        let cert = Certificate::from_der(der).unwrap();
        cert.tbs_certificate().clone()
    }

    fn b64(value: &Value) -> Vec<u8> {
        STANDARD.decode(value.as_str().unwrap()).unwrap()
    }

    /// A CT log entry of a trusted_root.json, read here so these tests do not depend on
    /// `TrustRoot` accepting every entry; `None` for keys `PublicKey` cannot read.
    fn ctlog(log: &Value) -> Option<TransparencyLog> {
        let (key, window) = (&log["publicKey"], &log["publicKey"]["validFor"]);
        let details = key["keyDetails"].as_str().unwrap_or_default();
        let time = |t: &Value| t.as_str().map(|t| parse_time(t).unwrap());
        let end = time(&window["end"]);
        Some(TransparencyLog {
            base_url: log["baseUrl"].as_str().unwrap_or_default().into(),
            key: PublicKey::from_spki_with_details(&b64(&key["rawBytes"]), details).ok()?,
            log_id: b64(&log["logId"]["keyId"]),
            validity: time(&window["start"]).map(|start| Validity { start, end }),
        })
    }

    /// A case's leaf, its issuer's SPKI (the trust root's CA certificate named as the leaf's
    /// issuer), the root's CT logs, and all its CA certificates.
    fn case(name: &str) -> (Vec<u8>, Vec<u8>, Vec<TransparencyLog>, Vec<Vec<u8>>) {
        let dir = vectors().join("sigstore-conformance/test/assets/bundle-verify");
        let dir = dir.join(name);
        let material = &json(dir.join("bundle.sigstore.json"))["verificationMaterial"];
        let leaf = match &material["certificate"]["rawBytes"] {
            Value::Null => b64(&material["x509CertificateChain"]["certificates"][0]["rawBytes"]),
            raw => b64(raw),
        };
        let own = dir.join("trusted_root.json");
        let production = vectors().join("trust-roots/production/trusted_root.json");
        let root = json(if own.exists() { own } else { production });
        let logs = root["ctlogs"].as_array().unwrap().iter();
        let ctlogs = logs.filter_map(ctlog).collect();
        let chains = root["certificateAuthorities"].as_array().unwrap().iter();
        let certs = chains.flat_map(|ca| ca["certChain"]["certificates"].as_array().unwrap());
        let cas: Vec<Vec<u8>> = certs.map(|c| b64(&c["rawBytes"])).collect();
        let issuer_name = tbs(&leaf).issuer().clone();
        let mut issuers = cas.iter().map(|der| tbs(der));
        let issuer = issuers.find(|ca| *ca.subject() == issuer_name).unwrap();
        let spki = issuer.subject_public_key_info().to_der().unwrap();
        (leaf, spki, ctlogs, cas)
    }

    /// Where `needle` starts in `haystack`.
    fn find(haystack: &[u8], needle: &[u8]) -> usize {
        let mut windows = haystack.windows(needle.len());
        windows.position(|w| w == needle).unwrap()
    }

    fn first_sct<R>(leaf: &[u8], pick: impl Fn(&Sct<'_>) -> R) -> R {
        let (_, list) = precert_parts(leaf).unwrap();
        pick(&parse_list(&list).unwrap()[0])
    }

    #[track_caller]
    fn rejected(leaf: &[u8], issuer: &[u8], ctlogs: &[TransparencyLog], code: &str) {
        let e = verify_embedded_scts(leaf, issuer, ctlogs).unwrap_err();
        assert_eq!(e.code(), code, "{e}");
    }

    #[test]
    fn real_scts_verify() {
        for name in [
            "happy-path-v0.3",
            "happy-path-v0.2",
            "bundle-with-sct-with-extensions",
            "rekor2-happy-path",
        ] {
            let (leaf, issuer, ctlogs, _) = case(name);
            let verified = verify_embedded_scts(&leaf, &issuer, &ctlogs);
            assert_eq!(verified, Ok(1), "{name}");
        }
    }

    #[test]
    fn sct_from_a_log_the_root_does_not_hold_is_rejected() {
        let (leaf, issuer, ctlogs, _) = case("invalid-ct-key_fail");
        assert!(!ctlogs.is_empty());
        rejected(&leaf, &issuer, &ctlogs, "sigstore.sct.untrusted-log");
        let (leaf, issuer, _, _) = case("happy-path-v0.3");
        rejected(&leaf, &issuer, &[], "sigstore.sct.untrusted-log");
    }

    #[test]
    fn flipped_signature_or_sct_extensions_are_rejected() {
        let (mut leaf, issuer, ctlogs, _) = case("happy-path-v0.3");
        let signature = first_sct(&leaf, |sct| sct.signature.to_vec());
        let at = find(&leaf, &signature) + signature.len() - 1;
        leaf[at] ^= 1;
        rejected(&leaf, &issuer, &ctlogs, "sigstore.sct.signature");
        // The extensions are part of what the log signed.
        let (mut leaf, issuer, ctlogs, _) = case("bundle-with-sct-with-extensions");
        let extensions = first_sct(&leaf, |sct| sct.extensions.to_vec());
        assert!(!extensions.is_empty());
        let at = find(&leaf, &extensions);
        leaf[at] ^= 1;
        rejected(&leaf, &issuer, &ctlogs, "sigstore.sct.signature");
    }

    #[test]
    fn wrong_issuer_key_or_tampered_leaf_is_rejected() {
        let (mut leaf, issuer, ctlogs, _) = case("happy-path-v0.3");
        let (_, other_issuer, _, _) = case("bundle-with-sct-with-extensions");
        rejected(&leaf, &other_issuer, &ctlogs, "sigstore.sct.signature");
        let serial = tbs(&leaf).serial_number().as_bytes().to_vec();
        let at = find(&leaf, &serial) + 1;
        leaf[at] ^= 1;
        rejected(&leaf, &issuer, &ctlogs, "sigstore.sct.signature");
    }

    #[test]
    fn sct_outside_the_log_validity_is_rejected() {
        let (leaf, issuer, mut ctlogs, _) = case("happy-path-v0.3");
        let window = |start, end| Some(Validity { start, end });
        let later = parse_time("2025-01-01T00:00:00Z").unwrap();
        ctlogs
            .iter_mut()
            .for_each(|log| log.validity = window(later, None));
        rejected(&leaf, &issuer, &ctlogs, "sigstore.sct.log-validity");
        // Ends are inclusive: a window of exactly the SCT's millisecond holds it.
        let at = UNIX_EPOCH + Duration::from_millis(first_sct(&leaf, |sct| sct.timestamp));
        ctlogs
            .iter_mut()
            .for_each(|log| log.validity = window(at, Some(at)));
        assert_eq!(verify_embedded_scts(&leaf, &issuer, &ctlogs), Ok(1));
    }

    #[test]
    fn truncated_or_padded_lists_are_malformed() {
        let (leaf, _, _, _) = case("bundle-with-sct-with-extensions");
        let (_, list) = precert_parts(&leaf).unwrap();
        for n in 0..list.len() {
            let e = parse_list(&list[..n]).unwrap_err();
            assert!(matches!(e, SctError::Malformed(_)), "{n}: {e}");
        }
        let padded = parse_list(&[list.as_slice(), &[0]].concat()).unwrap_err();
        assert_eq!(padded, SctError::Malformed("1 bytes after the list".into()));
        let empty = parse_list(&[0, 0]).unwrap_err();
        assert_eq!(empty, SctError::Malformed("the list is empty".into()));
        // Through the public API: the list claims one byte more than the extension holds.
        let (mut leaf, issuer, ctlogs, _) = case("happy-path-v0.3");
        let (_, list) = precert_parts(&leaf).unwrap();
        let at = find(&leaf, &list) + 1;
        leaf[at] = leaf[at].wrapping_add(1);
        rejected(&leaf, &issuer, &ctlogs, "sigstore.sct.malformed");
    }

    #[test]
    fn the_sct_extension_is_cut_out_and_an_empty_extensions_field_dropped() {
        // Certificate { TBS { INTEGER 1, [3] { Extensions { SCT list extension: 00 00 } } } }
        let leaf = b"\x30\x1d\x30\x1b\x02\x01\x01\xa3\x16\x30\x14\x30\x12\x06\x0a\x2b\x06\x01\x04\x01\xd6\x79\x02\x04\x02\x04\x04\x04\x02\x00\x00";
        let (tbs, list) = precert_parts(leaf).unwrap();
        assert_eq!(tbs, b"\x30\x03\x02\x01\x01");
        assert_eq!(list, [0, 0]);
    }

    #[test]
    fn certificates_without_scts_corrupted_leaves_and_garbage_are_rejected() {
        let (leaf, issuer, ctlogs, cas) = case("bundle-with-sct-with-extensions");
        rejected(&cas[0], &issuer, &ctlogs, "sigstore.sct.missing");
        for junk in [&b""[..], b"\x30\x03\x02\x01", b"\x30\x00", b"not der"] {
            rejected(junk, &issuer, &ctlogs, "sigstore.sct.malformed");
        }
        for n in 0..leaf.len() {
            rejected(&leaf[..n], &issuer, &ctlogs, "sigstore.sct.malformed");
            let mut corrupted = leaf.clone();
            corrupted[n] ^= 0x80;
            let _ = verify_embedded_scts(&corrupted, &issuer, &ctlogs); // must not panic
        }
    }
}
