//! What can go wrong with a key in a PKCS#11 token. No variant ever holds a PIN: messages name
//! the token, the object and the attribute, never a secret value.

/// A PKCS#11 failure, with a stable code (docs/error-codes.md, "Hardware keys").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The URI is not an RFC 7512 `pkcs11:` URI this reader accepts.
    #[error("invalid PKCS#11 URI: {0}")]
    Uri(String),
    /// No module could be found or loaded.
    #[error("PKCS#11 module: {0}")]
    Module(String),
    /// No initialized token matches the URI.
    #[error("no token matches {uri} (tokens present: {present})")]
    TokenNotFound {
        /// The URI, without any PIN.
        uri: String,
        /// The labels of the tokens the module shows.
        present: String,
    },
    /// More than one token, or more than one key object, matches.
    #[error("{count} {what} match {uri}; name one ({hint})")]
    Ambiguous {
        /// How many matched.
        count: usize,
        /// `tokens`, `private keys`, `public keys`.
        what: &'static str,
        /// The URI, without any PIN.
        uri: String,
        /// Which attributes would tell them apart.
        hint: &'static str,
    },
    /// No key object matches the URI on the token.
    #[error("no {class} matches {uri} on token {token:?}")]
    ObjectNotFound {
        /// `private key` or `public key`.
        class: &'static str,
        /// The URI, without any PIN.
        uri: String,
        /// The token's label.
        token: String,
    },
    /// The token refused the PIN.
    #[error("wrong PIN for token {token:?}: the token refused it ({tries})")]
    PinIncorrect {
        /// The token's label.
        token: String,
        /// What the token says about the attempts left.
        tries: &'static str,
    },
    /// The user PIN is locked or expired.
    #[error("the user PIN of token {token:?} is {state}; its security officer must reset it")]
    PinLocked {
        /// The token's label.
        token: String,
        /// `locked` or `expired`.
        state: &'static str,
    },
    /// The token needs a PIN and none was given.
    #[error(
        "token {token:?} needs its user PIN: set $HALLMARK_PKCS11_PIN, add \
         pin-source=file:/path/to/pin to the URI, or run on a terminal to be asked"
    )]
    PinMissing {
        /// The token's label.
        token: String,
    },
    /// The PIN named by `pin-source` could not be read.
    #[error("pin-source {path}: {message}")]
    PinSource {
        /// The file (or source) named.
        path: String,
        /// What is wrong (never the file's content).
        message: String,
    },
    /// The key is of a type, or the token lacks a mechanism, Hallmark does not sign with.
    #[error("{0}")]
    KeyType(String),
    /// Key generation would add a second key under a label or id already used.
    #[error(
        "token {token:?} already holds a key object matching {uri}; keys in a token are never \
         replaced: choose another object= (or delete the old key with the token's own tools)"
    )]
    ObjectExists {
        /// The token's label.
        token: String,
        /// The URI, without any PIN.
        uri: String,
    },
    /// The module or token failed an operation.
    #[error("token {token:?}: {operation}: {message}")]
    Device {
        /// The token's label (or the module's path before a token is chosen).
        token: String,
        /// The PKCS#11 operation.
        operation: &'static str,
        /// The module's answer.
        message: String,
    },
}

/// The attempts note of a wrong PIN when the token says nothing more.
pub(crate) const TRIES_COUNTED: &str = "it counts failed attempts and locks the PIN after too many";

impl Pkcs11Error {
    /// The stable code of this error (docs/error-codes.md).
    pub fn code(&self) -> &'static str {
        match self {
            Pkcs11Error::Uri(_) => "pkcs11.uri",
            Pkcs11Error::Module(_) => "pkcs11.module",
            Pkcs11Error::TokenNotFound { .. } => "pkcs11.token-not-found",
            Pkcs11Error::Ambiguous { .. } => "pkcs11.ambiguous",
            Pkcs11Error::ObjectNotFound { .. } => "pkcs11.object-not-found",
            Pkcs11Error::PinIncorrect { .. } => "pkcs11.pin-incorrect",
            Pkcs11Error::PinLocked { .. } => "pkcs11.pin-locked",
            Pkcs11Error::PinMissing { .. } => "pkcs11.pin-missing",
            Pkcs11Error::PinSource { .. } => "pkcs11.pin-source",
            Pkcs11Error::KeyType(_) => "pkcs11.key-type",
            Pkcs11Error::ObjectExists { .. } => "pkcs11.object-exists",
            Pkcs11Error::Device { .. } => "pkcs11.device",
        }
    }

    /// Maps a module's answer to a typed error: PIN answers get their own variants.
    pub(crate) fn from_module(
        token: &str,
        operation: &'static str,
        error: cryptoki::error::Error,
    ) -> Self {
        use cryptoki::error::{Error as E, RvError as Rv};
        let token = token.to_owned();
        match error {
            E::Pkcs11(Rv::PinIncorrect | Rv::PinInvalid | Rv::PinLenRange, _) => {
                Pkcs11Error::PinIncorrect {
                    token,
                    tries: TRIES_COUNTED,
                }
            }
            E::Pkcs11(Rv::PinLocked, _) => Pkcs11Error::PinLocked {
                token,
                state: "locked",
            },
            E::Pkcs11(Rv::PinExpired, _) => Pkcs11Error::PinLocked {
                token,
                state: "expired",
            },
            other => Pkcs11Error::Device {
                token,
                operation,
                message: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use cryptoki::context::Function;
    use cryptoki::error::{Error as E, RvError as Rv};

    use super::*;

    fn code_of(rv: Rv) -> &'static str {
        Pkcs11Error::from_module("plant", "C_Login", E::Pkcs11(rv, Function::Login)).code()
    }

    #[test]
    fn pin_answers_get_their_own_codes() {
        for rv in [Rv::PinIncorrect, Rv::PinInvalid, Rv::PinLenRange] {
            assert_eq!(code_of(rv), "pkcs11.pin-incorrect");
        }
        assert_eq!(code_of(Rv::PinLocked), "pkcs11.pin-locked");
        assert_eq!(code_of(Rv::PinExpired), "pkcs11.pin-locked");
        assert_eq!(code_of(Rv::TokenNotPresent), "pkcs11.device");
        let locked = Pkcs11Error::from_module(
            "plant",
            "C_Login",
            E::Pkcs11(Rv::PinLocked, Function::Login),
        );
        assert_eq!(
            locked.to_string(),
            "the user PIN of token \"plant\" is locked; its security officer must reset it"
        );
        let device = Pkcs11Error::from_module(
            "plant",
            "C_Sign",
            E::Pkcs11(Rv::DeviceRemoved, Function::Sign),
        );
        assert!(
            device.to_string().starts_with("token \"plant\": C_Sign: "),
            "{device}"
        );
    }
}
