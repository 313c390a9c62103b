//! Why an image or a review could not be decided. A denial is a result, not an error; an error
//! here means no verdict was reached, which the gate turns into a fail-closed denial (or a
//! warning in a `failOpen` namespace).

/// No decision could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The AdmissionReview could not be read.
    #[error("malformed admission review: {0}")]
    Review(String),
    /// The configuration file could not be used.
    #[error("configuration {path}: {message}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An image reference that cannot be parsed.
    #[error("image {image:?}: {message}")]
    Image {
        /// The image as the object names it.
        image: String,
        /// What is wrong.
        message: String,
    },
    /// The registry could not be asked (down, refused, an answer that cannot be read).
    #[error("registry unavailable for {image}: {message}")]
    Registry {
        /// The image.
        image: String,
        /// What happened (credentials never appear: the registry client leaves them out).
        message: String,
    },
    /// The request's deadline passed before a verdict was reached.
    #[error("deadline of {0:?} passed before a verdict was reached")]
    Deadline(std::time::Duration),
    /// The engine could not decide (no trust, a source that could not answer, …).
    #[error("{image}: {source}")]
    Engine {
        /// The image.
        image: String,
        /// The engine's error.
        #[source]
        source: hallmark_verifier::engine::Error,
    },
}

impl Error {
    /// The stable code of this error (docs/error-codes.md, "Admission").
    pub fn code(&self) -> &'static str {
        match self {
            Error::Review(_) => "admission.review",
            Error::Config { .. } => "admission.config",
            Error::Image { .. } => "admission.image",
            Error::Registry { .. } => "admission.registry",
            Error::Deadline(_) => "admission.deadline",
            Error::Engine { source, .. } => source.code(),
        }
    }
}

/// Every code this crate's errors return directly (the engine's are in
/// `hallmark_verifier::ALL_CODES`), plus the gate's own denial codes.
pub const ADMISSION_CODES: &[&str] = &[
    "admission.config",
    "admission.deadline",
    "admission.image",
    "admission.no-rule",
    "admission.registry",
    "admission.review",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_listed() {
        let errors = [
            Error::Review(String::new()),
            Error::Config {
                path: String::new(),
                message: String::new(),
            },
            Error::Image {
                image: String::new(),
                message: String::new(),
            },
            Error::Registry {
                image: String::new(),
                message: String::new(),
            },
            Error::Deadline(std::time::Duration::ZERO),
        ];
        for e in errors {
            assert!(ADMISSION_CODES.contains(&e.code()), "{}", e.code());
        }
        assert!(ADMISSION_CODES.is_sorted());
        for c in ADMISSION_CODES {
            assert!(
                hallmark_verifier::ALL_CODES.contains(c),
                "{c} is not in ALL_CODES"
            );
        }
    }
}
