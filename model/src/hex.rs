//! Lowercase hexadecimal, the one encoder and decoder every crate uses.

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The bytes of a hex string (either case); `None` for odd lengths or other characters.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    // from_str_radix alone would accept a leading '+'.
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_and_rejects_garbage() {
        assert_eq!(super::encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(super::decode("00ABff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(super::decode("abc"), None);
        assert_eq!(super::decode("zz"), None);
        assert_eq!(super::decode("+1"), None);
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{decode, encode};

        /// `text` with the case of each letter chosen by `upper`.
        fn recase(text: &str, upper: &[bool]) -> String {
            text.chars()
                .zip(upper.iter().cycle())
                .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn decode_inverts_encode(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
                let text = encode(&bytes);
                prop_assert_eq!(text.len(), bytes.len() * 2);
                prop_assert!(text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
                prop_assert_eq!(decode(&text), Some(bytes));
            }

            #[test]
            fn decode_ignores_case_and_encode_lowercases(
                bytes in prop::collection::vec(any::<u8>(), 1..64),
                upper in prop::collection::vec(any::<bool>(), 1..16),
            ) {
                let text = recase(&encode(&bytes), &upper);
                let decoded = decode(&text);
                prop_assert_eq!(decoded.as_deref(), Some(bytes.as_slice()));
                prop_assert_eq!(encode(&bytes), text.to_ascii_lowercase());
            }

            #[test]
            fn odd_lengths_are_rejected(bytes in prop::collection::vec(any::<u8>(), 0..64), cut in any::<bool>()) {
                let text = encode(&bytes);
                // One hex digit too many or too few.
                let odd = if cut && !text.is_empty() { text[1..].to_owned() } else { format!("{text}a") };
                prop_assert_eq!(decode(&odd), None);
            }

            #[test]
            fn any_non_hex_character_is_rejected(
                bytes in prop::collection::vec(any::<u8>(), 1..64),
                at in any::<prop::sample::Index>(),
                bad in any::<char>().prop_filter("not a hex digit", |c| !c.is_ascii_hexdigit()),
            ) {
                let mut chars: Vec<char> = encode(&bytes).chars().collect();
                let i = at.index(chars.len());
                chars[i] = bad;
                let text: String = chars.into_iter().collect();
                prop_assert_eq!(decode(&text), None);
                // A sign is the character `from_str_radix` alone would let through.
                prop_assert_eq!(decode(&format!("+{}", &encode(&bytes)[1..])), None);
            }
        }
    }
}
