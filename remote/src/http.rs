//! The one HTTP stack: ureq with rustls on aws-lc-rs (no ring), TLS verification always on.

use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

use crate::{Error, Result};

/// An agent that trusts the web PKI roots, or only the PEM certificates in `ca_pem`; HTTP status
/// codes are returned, not raised; every request has a deadline.
pub fn agent(ca_pem: Option<&[u8]>, timeout: Option<Duration>) -> Result<Agent> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider);
    if let Some(pem) = ca_pem {
        let certs: Vec<_> = ureq::tls::parse_pem(pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(Error::Registry {
                registry: String::new(),
                message: "the CA file holds no certificate".into(),
            });
        }
        tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    Ok(Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .timeout_global(Some(timeout.unwrap_or(Duration::from_secs(60))))
        .max_redirects(5)
        .build()
        .into())
}

/// True when a TLS handshake was answered by a server that does not speak TLS: rustls reads the
/// first bytes of a plain-HTTP answer (`HTTP/1.1 400 ...`) as a record of an unknown content
/// type. ureq reports it as a rustls error, or as an I/O error wrapping one.
pub fn answered_without_tls(error: &ureq::Error) -> bool {
    let tls = match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()),
        _ => None,
    };
    matches!(
        tls,
        Some(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType
        ))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_answer_to_a_tls_handshake_is_recognised() {
        let corrupt = || rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert!(answered_without_tls(&ureq::Error::Rustls(corrupt())));
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, corrupt());
        assert!(answered_without_tls(&ureq::Error::Io(io)));
        let other = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidCcs);
        assert!(!answered_without_tls(&ureq::Error::Rustls(other)));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!answered_without_tls(&ureq::Error::Io(refused)));
    }
}
