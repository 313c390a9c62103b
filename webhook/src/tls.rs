//! The serving certificate, swapped in place when the files change (cert-manager rotates the
//! Secret behind them): new handshakes get the new certificate, open connections keep theirs.

use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result, bail};
use rustls::crypto::aws_lc_rs;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Largest certificate or key file read.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

fn read(path: &Path) -> Result<Vec<u8>> {
    Ok(hallmark_admission::config::read_limited(
        path,
        MAX_PEM_BYTES,
    )?)
}

/// Reads a certificate chain and its key, checking that they belong together.
pub fn certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey> {
    let cert_pem = read(cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading certificates from {}", cert.display()))?;
    if chain.is_empty() {
        bail!("{} holds no certificate", cert.display());
    }
    let key_pem = read(key)?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem)
        .with_context(|| format!("reading a private key from {}", key.display()))?;
    CertifiedKey::from_der(chain, private, &aws_lc_rs::default_provider()).with_context(|| {
        format!(
            "{} and {} do not make a certified key",
            cert.display(),
            key.display()
        )
    })
}

/// The current certificate.
#[derive(Debug)]
pub struct Certificates {
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Loads the certificate and key.
    pub fn load(cert: &Path, key: &Path) -> Result<Certificates> {
        Ok(Certificates {
            current: RwLock::new(Arc::new(certified_key(cert, key)?)),
        })
    }

    /// Serves `key` to new handshakes from now on.
    pub fn swap(&self, key: CertifiedKey) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(key);
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
    }
}

/// The TLS server configuration: aws-lc-rs, TLS 1.2 and 1.3, HTTP/1.1.
pub fn server_config(certificates: Arc<Certificates>) -> Result<rustls::ServerConfig> {
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(certificates);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
