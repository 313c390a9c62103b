//! From a token's key attributes to what the rest of Hallmark reads: a DER SubjectPublicKeyInfo
//! from CKA_EC_PARAMS and CKA_EC_POINT, and a DER ECDSA signature from the raw `r || s` that
//! CKM_ECDSA returns (the verifier, like cosign, reads ASN.1 DER ECDSA signatures).

use hallmark_model::keyid::KeyKind;

use super::error::Pkcs11Error;

/// CKA_EC_PARAMS of P-256: the DER OID prime256v1 (1.2.840.10045.3.1.7).
pub const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// CKA_EC_PARAMS of Ed25519: the DER OID id-Ed25519 (1.3.101.112).
pub const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// The other spelling PKCS#11 3.0 allows: PrintableString "edwards25519".
const ED25519_PARAMS_NAME: &[u8] = b"\x13\x0cedwards25519";

/// SPKI DER up to the P-256 point: id-ecPublicKey, prime256v1, BIT STRING of 66 bytes.
const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// SPKI DER up to the Ed25519 key: id-Ed25519, BIT STRING of 33 bytes.
const ED25519_SPKI_PREFIX: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The key kind CKA_EC_PARAMS names, if Hallmark signs with it.
pub fn kind_of(params: &[u8]) -> Result<KeyKind, Pkcs11Error> {
    match params {
        P256_PARAMS => Ok(KeyKind::EcdsaP256),
        ED25519_PARAMS | ED25519_PARAMS_NAME => Ok(KeyKind::Ed25519),
        _ => Err(Pkcs11Error::KeyType(
            "the key's curve is neither P-256 nor Ed25519 (CKA_EC_PARAMS not recognised)"
                .to_owned(),
        )),
    }
}

/// The raw public key (65-byte uncompressed P-256 point, or 32-byte Ed25519 key) from
/// CKA_EC_POINT, which the standard wraps in a DER OCTET STRING and some tokens leave bare.
pub fn raw_point(kind: KeyKind, ec_point: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
    let (len, wrapped_prefix): (usize, &[u8]) = match kind {
        KeyKind::EcdsaP256 => (65, &[0x04, 0x41]),
        KeyKind::Ed25519 => (32, &[0x04, 0x20]),
    };
    let raw = if ec_point.len() == len + 2 && ec_point.starts_with(wrapped_prefix) {
        &ec_point[2..]
    } else if ec_point.len() == len {
        ec_point
    } else {
        return Err(Pkcs11Error::KeyType(format!(
            "CKA_EC_POINT of {} bytes is not a {} public key",
            ec_point.len(),
            kind.name()
        )));
    };
    if kind == KeyKind::EcdsaP256 && raw[0] != 0x04 {
        return Err(Pkcs11Error::KeyType(
            "the P-256 point is not uncompressed".to_owned(),
        ));
    }
    Ok(raw.to_vec())
}

/// DER SubjectPublicKeyInfo of a raw public key.
pub fn spki_der(kind: KeyKind, raw: &[u8]) -> Vec<u8> {
    let prefix = match kind {
        KeyKind::EcdsaP256 => P256_SPKI_PREFIX,
        KeyKind::Ed25519 => ED25519_SPKI_PREFIX,
    };
    [prefix, raw].concat()
}

/// DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` of a raw P-256 `r || s`.
pub fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
    if raw.len() != 64 {
        return Err(Pkcs11Error::KeyType(format!(
            "the token returned a {}-byte ECDSA signature; P-256 gives 64",
            raw.len()
        )));
    }
    let (r, s) = raw.split_at(32);
    Ok(tlv(0x30, &[der_integer(r), der_integer(s)].concat()))
}

/// DER `rsaEncryption` SubjectPublicKeyInfo and the PKCS#1 `RSAPublicKey` inside it, from
/// CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian unsigned).
pub fn rsa_spki_der(modulus: &[u8], exponent: &[u8]) -> (Vec<u8>, Vec<u8>) {
    // 1.2.840.113549.1.1.1 with NULL parameters.
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let pkcs1 = tlv(
        0x30,
        &[der_integer(modulus), der_integer(exponent)].concat(),
    );
    let bits = tlv(0x03, &[&[0u8][..], &pkcs1].concat());
    (tlv(0x30, &[RSA_ALGORITHM, &bits].concat()), pkcs1)
}

/// A DER INTEGER of an unsigned big-endian number: leading zeros dropped, one zero put back
/// when the top bit would make it negative.
fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let start = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    let digits = bytes.get(start..).filter(|d| !d.is_empty()).unwrap_or(&[0]);
    let content = if digits[0] & 0x80 != 0 {
        [&[0u8][..], digits].concat()
    } else {
        digits.to_vec()
    };
    tlv(0x02, &content)
}

/// A DER tag-length-value, with the long length form past 127 bytes.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
        UnparsedPublicKey,
    };

    use super::*;

    #[test]
    fn raw_signatures_become_der_that_verifies() {
        let pkcs8 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .unwrap()
            .to_pkcs8v1()
            .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public);
        // Enough signatures that some r or s have a top bit set or a leading zero byte.
        for i in 0..64u8 {
            let message = [i; 40];
            let raw = pair.sign(&SystemRandom::new(), &message).unwrap();
            let der = ecdsa_der(raw.as_ref()).unwrap();
            key.verify(&message, &der).unwrap();
            assert!(key.verify(b"other message", &der).is_err());
        }
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(der_integer(&[0, 0, 0x7f]), vec![0x02, 1, 0x7f]);
        assert_eq!(der_integer(&[0, 0x80]), vec![0x02, 2, 0, 0x80]);
        assert_eq!(der_integer(&[0, 0, 0]), vec![0x02, 1, 0]);
        assert!(ecdsa_der(&[1; 63]).is_err());
        assert_eq!(tlv(0x04, &[7; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[7; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn rsa_keys_become_the_spki_aws_lc_writes() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::{KeyPair, KeySize};
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = aws_lc_rs::signature::KeyPair::public_key(&pair);
        let (spki, pkcs1) = rsa_spki_der(
            public.modulus().big_endian_without_leading_zero(),
            public.exponent().big_endian_without_leading_zero(),
        );
        assert_eq!(spki, public.as_der().unwrap().as_ref());
        assert_eq!(pkcs1, public.as_ref());
    }

    #[test]
    fn points_are_read_wrapped_or_bare_and_spki_matches_aws_lc() {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let raw = pair.public_key().as_ref().to_vec();
        let wrapped = [&[0x04, 0x41][..], &raw].concat();
        assert_eq!(raw_point(KeyKind::EcdsaP256, &wrapped).unwrap(), raw);
        assert_eq!(raw_point(KeyKind::EcdsaP256, &raw).unwrap(), raw);
        assert!(raw_point(KeyKind::EcdsaP256, &raw[1..]).is_err());
        use aws_lc_rs::encoding::AsDer;
        let expected = pair.public_key().as_der().unwrap();
        assert_eq!(spki_der(KeyKind::EcdsaP256, &raw), expected.as_ref());
        let ed = aws_lc_rs::signature::Ed25519KeyPair::generate().unwrap();
        let ed_raw = ed.public_key().as_ref();
        let ed_expected = ed.public_key().as_der().unwrap();
        assert_eq!(spki_der(KeyKind::Ed25519, ed_raw), ed_expected.as_ref());
        assert_eq!(
            raw_point(KeyKind::Ed25519, &[&[0x04, 0x20][..], ed_raw].concat()).unwrap(),
            ed_raw
        );
    }

    #[test]
    fn curves_are_recognised_by_their_params() {
        assert_eq!(kind_of(P256_PARAMS).unwrap(), KeyKind::EcdsaP256);
        assert_eq!(kind_of(ED25519_PARAMS).unwrap(), KeyKind::Ed25519);
        assert_eq!(kind_of(ED25519_PARAMS_NAME).unwrap(), KeyKind::Ed25519);
        // P-384 is not signed with.
        let p384 = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
        assert_eq!(kind_of(&p384).unwrap_err().code(), "pkcs11.key-type");
    }
}
