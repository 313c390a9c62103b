//! Minimal DER writing, for the few structures Hallmark builds by hand (PKCS#10 requests,
//! RFC 3161 requests). Parsing goes through the `der` crate in the crates that need it.

/// A DER TLV with a definite length (short or long form).
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend(content);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_and_long_lengths() {
        assert_eq!(super::tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = super::tlv(0x30, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x2c]);
    }
}
