//! How TUF metadata and targets are fetched: `file://` for a local mirror (air-gapped sites),
//! `http(s)://` through Hallmark's one HTTP stack (ureq on rustls/aws-lc-rs).

use std::io::Read;

use tough::{Bytes, FilesystemTransport, Transport, TransportError, TransportErrorKind};
use tough::{TransportStream, async_trait};
use url::Url;

/// The most any one metadata file or target may be. tough applies the tighter limits the
/// metadata states; this bound holds even before those are known.
pub const MAX_FETCH_BYTES: u64 = 16 * 1024 * 1024;

/// A transport for `file://`, `http://` and `https://` URLs.
#[derive(Debug, Clone)]
pub struct MirrorTransport {
    agent: ureq::Agent,
}

impl MirrorTransport {
    /// A transport whose HTTP requests go through `agent`.
    pub fn new(agent: ureq::Agent) -> Self {
        MirrorTransport { agent }
    }

    fn get(&self, url: &Url) -> Result<Vec<u8>, TransportError> {
        let other = |e: Box<dyn std::error::Error + Send + Sync>| {
            TransportError::new_with_cause(TransportErrorKind::Other, url.as_str(), e)
        };
        let response = self
            .agent
            .get(url.as_str())
            .call()
            .map_err(|e| other(Box::new(e)))?;
        match response.status().as_u16() {
            200 => {}
            // A missing file is the normal end of the root-rotation walk (TUF 5.3.3).
            403 | 404 => {
                return Err(TransportError::new(
                    TransportErrorKind::FileNotFound,
                    url.as_str(),
                ));
            }
            status => return Err(other(format!("HTTP status {status}").into())),
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_FETCH_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| other(Box::new(e)))?;
        if body.len() as u64 > MAX_FETCH_BYTES {
            return Err(other(format!("more than {MAX_FETCH_BYTES} bytes").into()));
        }
        Ok(body)
    }
}

#[async_trait]
impl Transport for MirrorTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        match url.scheme() {
            "file" => FilesystemTransport.fetch(url).await,
            "http" | "https" => {
                // The refresh runs on a current-thread runtime with nothing else to do, so a
                // blocking request here holds up no other task.
                let body = self.get(&url)?;
                Ok(Box::pin(futures::stream::iter([Ok(Bytes::from(body))])))
            }
            _ => Err(TransportError::new(
                TransportErrorKind::UnsupportedUrlScheme,
                url.as_str(),
            )),
        }
    }
}
