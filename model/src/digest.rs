//! Digests and digest sets, validated as in-toto's own validators do: a digest of a known
//! algorithm must be hex of the right length; digests of other algorithms are carried through.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A DigestSet: algorithm name to lowercase-hex value, sorted for stable output.
pub type DigestSet = BTreeMap<String, String>;

/// The algorithms Hallmark computes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256, the default everywhere.
    Sha256,
    /// SHA-512, optional on subjects.
    Sha512,
    /// SHA-384: computed only to match subjects that name a file by it alone.
    Sha384,
}

impl DigestAlgorithm {
    /// The in-toto DigestSet key.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
            DigestAlgorithm::Sha384 => "sha384",
        }
    }

    /// Length of a digest in hex characters.
    pub fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 64,
            DigestAlgorithm::Sha512 => 128,
            DigestAlgorithm::Sha384 => 96,
        }
    }

    /// Parses an in-toto DigestSet key.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(DigestAlgorithm::Sha256),
            "sha512" => Some(DigestAlgorithm::Sha512),
            "sha384" => Some(DigestAlgorithm::Sha384),
            _ => None,
        }
    }
}

/// Byte lengths of the algorithms in-toto's validator knows; other names are custom and pass.
fn known_lengths(algorithm: &str) -> Option<&'static [usize]> {
    Some(match algorithm {
        "md5" => &[16],
        "sha1" => &[20],
        "sha224" | "sha512_224" | "sha3_224" => &[28],
        "sha256" | "sha512_256" | "sha3_256" | "dirHash" => &[32],
        "sha384" | "sha3_384" => &[48],
        "sha512" | "sha3_512" => &[64],
        // Git object ids are SHA-1 or, in SHA-256 repositories, SHA-256.
        "gitCommit" | "gitTree" | "gitBlob" | "gitTag" => &[20, 32],
        _ => return None,
    })
}

/// Validates one DigestSet entry.
pub fn validate_entry(algorithm: &str, value: &str) -> Result<()> {
    let Some(lengths) = known_lengths(algorithm) else {
        return Ok(());
    };
    if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::DigestEncoding {
            algorithm: algorithm.to_owned(),
            value: value.to_owned(),
        });
    }
    if !lengths.iter().any(|n| n * 2 == value.len()) {
        let expected = lengths
            .iter()
            .map(|n| (n * 2).to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(Error::DigestLength {
            algorithm: algorithm.to_owned(),
            expected,
            actual: value.len(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Validates every entry of a DigestSet.
pub fn validate_set(set: &DigestSet) -> Result<()> {
    set.iter()
        .try_for_each(|(alg, value)| validate_entry(alg, value))
}

/// One digest we computed or were given: an algorithm and its lowercase hex value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl Digest {
    /// Makes a digest from raw digest bytes.
    pub fn from_bytes(algorithm: DigestAlgorithm, bytes: &[u8]) -> Self {
        Digest {
            algorithm,
            hex: crate::hex::encode(bytes),
        }
    }

    /// The raw digest bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // The hex was validated on construction.
        crate::hex::decode(&self.hex).unwrap_or_default()
    }

    /// Makes a digest from hex, checking the length and normalising to lowercase.
    pub fn from_hex(algorithm: DigestAlgorithm, hex: &str) -> Result<Self> {
        validate_entry(algorithm.name(), hex)?;
        Ok(Digest {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// Lowercase hex.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// True when `set` holds this digest (hex compared case-insensitively).
    pub fn is_in(&self, set: &DigestSet) -> bool {
        set.get(self.algorithm.name())
            .is_some_and(|v| v.eq_ignore_ascii_case(&self.hex))
    }

    /// A single-entry DigestSet.
    pub fn to_set(&self) -> DigestSet {
        DigestSet::from([(self.algorithm.name().to_owned(), self.hex.clone())])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl FromStr for Digest {
    type Err = Error;

    /// Parses `sha256:HEX`, `sha512:HEX` or `sha384:HEX`.
    fn from_str(text: &str) -> Result<Self> {
        let (alg, hex) = text
            .split_once(':')
            .ok_or_else(|| Error::DigestSyntax(text.to_owned()))?;
        let algorithm =
            DigestAlgorithm::from_name(alg).ok_or_else(|| Error::DigestSyntax(text.to_owned()))?;
        Digest::from_hex(algorithm, hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let hex = "a".repeat(64);
        let d: Digest = format!("sha256:{}", hex.to_uppercase()).parse().unwrap();
        assert_eq!(d.to_string(), format!("sha256:{hex}"));
    }

    #[test]
    fn rejects_wrong_lengths_and_encodings() {
        assert!(matches!(
            "sha256:abc".parse::<Digest>(),
            Err(Error::DigestLength { actual: 3, .. })
        ));
        assert!(matches!(
            format!("sha256:{}", "g".repeat(64)).parse::<Digest>(),
            Err(Error::DigestEncoding { .. })
        ));
        assert!(matches!(
            "md5:00".parse::<Digest>(),
            Err(Error::DigestSyntax(_))
        ));
        assert!(matches!(
            "nocolon".parse::<Digest>(),
            Err(Error::DigestSyntax(_))
        ));
    }

    #[test]
    fn git_commit_accepts_sha1_and_sha256_lengths_only() {
        assert!(validate_entry("gitCommit", &"0".repeat(40)).is_ok());
        assert!(validate_entry("gitCommit", &"0".repeat(64)).is_ok());
        assert!(validate_entry("gitCommit", &"0".repeat(50)).is_err());
        assert!(validate_entry("custom", "anything goes").is_ok());
    }

    #[test]
    fn membership_ignores_case() {
        let d = Digest::from_hex(DigestAlgorithm::Sha256, &"b".repeat(64)).unwrap();
        let set = DigestSet::from([("sha256".to_owned(), "B".repeat(64))]);
        assert!(d.is_in(&set));
        assert!(!d.is_in(&DigestSet::new()));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        const ALGORITHMS: [DigestAlgorithm; 3] = [
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ];

        /// An algorithm and raw digest bytes of its length.
        fn algorithm_and_bytes() -> impl Strategy<Value = (DigestAlgorithm, Vec<u8>)> {
            prop::sample::select(ALGORITHMS.to_vec()).prop_flat_map(|alg| {
                (
                    Just(alg),
                    prop::collection::vec(any::<u8>(), alg.hex_len() / 2),
                )
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn parse_inverts_display((alg, bytes) in algorithm_and_bytes()) {
                let digest = Digest::from_bytes(alg, &bytes);
                let text = digest.to_string();
                prop_assert_eq!(&text, &format!("{}:{}", alg.name(), crate::hex::encode(&bytes)));
                let parsed: Digest = text.parse().unwrap();
                prop_assert_eq!(&parsed, &digest);
                prop_assert_eq!(parsed.to_bytes(), bytes);
                prop_assert_eq!(parsed.algorithm(), alg);
            }

            #[test]
            fn any_case_parses_to_the_lowercase_digest(
                (alg, bytes) in algorithm_and_bytes(),
                upper in prop::collection::vec(any::<bool>(), 1..16),
            ) {
                let hex: String = crate::hex::encode(&bytes)
                    .chars()
                    .zip(upper.iter().cycle())
                    .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
                    .collect();
                let parsed: Digest = format!("{}:{hex}", alg.name()).parse().unwrap();
                prop_assert_eq!(parsed.hex(), hex.to_ascii_lowercase());
                prop_assert_eq!(&parsed, &Digest::from_bytes(alg, &bytes));
                // DigestSet membership compares without case too.
                let set = DigestSet::from([(alg.name().to_owned(), hex)]);
                prop_assert!(parsed.is_in(&set));
            }

            #[test]
            fn wrong_lengths_are_rejected_with_the_length(
                alg in prop::sample::select(ALGORITHMS.to_vec()),
                len in 0usize..160,
            ) {
                prop_assume!(len != alg.hex_len());
                let hex = "a".repeat(len);
                let parsed = format!("{}:{hex}", alg.name()).parse::<Digest>();
                let is_length_error = matches!(parsed, Err(Error::DigestLength { actual, .. }) if actual == len);
                prop_assert!(is_length_error, "{:?}", parsed);
                prop_assert!(validate_entry(alg.name(), &hex).is_err());
            }

            #[test]
            fn non_hex_characters_are_rejected(
                (alg, bytes) in algorithm_and_bytes(),
                at in any::<prop::sample::Index>(),
                bad in any::<char>().prop_filter("not a hex digit", |c| !c.is_ascii_hexdigit()),
            ) {
                let mut chars: Vec<char> = crate::hex::encode(&bytes).chars().collect();
                let i = at.index(chars.len());
                chars[i] = bad;
                let hex: String = chars.into_iter().collect();
                // The encoding is checked before the length: a multi-byte character is still
                // named as an encoding error.
                let parsed = format!("{}:{hex}", alg.name()).parse::<Digest>();
                prop_assert!(matches!(parsed, Err(Error::DigestEncoding { .. })), "{:?}", parsed);
            }

            #[test]
            fn unknown_algorithms_and_missing_separators_are_syntax_errors(
                name in "[a-z0-9_]{0,12}",
                bytes in prop::collection::vec(any::<u8>(), 32),
            ) {
                prop_assume!(DigestAlgorithm::from_name(&name).is_none());
                let hex = crate::hex::encode(&bytes);
                let unknown = format!("{name}:{hex}").parse::<Digest>();
                prop_assert!(matches!(unknown, Err(Error::DigestSyntax(_))), "{:?}", unknown);
                let bare = hex.parse::<Digest>();
                prop_assert!(matches!(bare, Err(Error::DigestSyntax(_))), "{:?}", bare);
            }

            #[test]
            fn custom_algorithms_are_carried_through(
                name in "[a-zA-Z][a-zA-Z0-9_-]{0,15}",
                value in ".{0,40}",
            ) {
                prop_assume!(known_lengths(&name).is_none());
                prop_assert!(validate_entry(&name, &value).is_ok());
            }
        }
    }
}
