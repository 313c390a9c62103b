//! A real OCI registry for tests: the CNCF distribution registry (Debian `docker-registry`) on a
//! loopback port with its own storage, and one-layer images copied into it with `skopeo`
//! (digests preserved). Both are installed by `scripts/install-test-deps.sh`; without them the
//! tests that use this fail, they do not skip.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What can go wrong starting a registry or pushing to it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or process could not be handled.
    #[error("{what}: {source}")]
    Io {
        /// What was done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A tool failed or the registry did not come up.
    #[error("{0}")]
    Failed(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// `sha256` of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A registry process on a fixed loopback port with its own storage; stops on drop.
#[derive(Debug)]
pub struct Registry {
    port: u16,
    dir: PathBuf,
    extra: String,
    child: Option<Child>,
}

impl Registry {
    /// Starts a plain-HTTP registry storing under `dir`.
    pub fn start(dir: &Path) -> Result<Registry, Error> {
        Self::start_with(dir, String::new())
    }

    /// A registry with extra YAML appended to its configuration (TLS under `http:`, then `auth:`).
    pub fn start_with(dir: &Path, extra: String) -> Result<Registry, Error> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("choosing a port"))?
            .port();
        let mut registry = Registry {
            port,
            dir: dir.to_path_buf(),
            extra,
            child: None,
        };
        registry.restart()?;
        Ok(registry)
    }

    /// Starts it again (after [`Self::stop`]) on the same port with the same storage.
    pub fn restart(&mut self) -> Result<(), Error> {
        let config = self.dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{}\n{}",
                self.dir.join("data").display(),
                self.port,
                self.extra
            ),
        )
        .map_err(io("writing the registry configuration"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io(
                "docker-registry is not installed: run scripts/install-test-deps.sh",
            ))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.") {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(Error::Failed(format!(
            "registry did not start on port {}",
            self.port
        )))
    }

    /// Stops the process (the storage stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Builds a one-layer OCI image layout holding `content` and copies it to `dest`
/// (`host/repo:tag`) with skopeo, preserving digests. Returns the manifest digest.
pub fn push_image(work: &Path, dest: &str, content: &str) -> Result<String, Error> {
    push_image_with(work, dest, content, &[])
}

/// [`push_image`] with extra skopeo arguments.
pub fn push_image_with(
    work: &Path,
    dest: &str,
    content: &str,
    skopeo_args: &[&str],
) -> Result<String, Error> {
    let layout = work.join(format!("layout-{}", sha256_hex(dest.as_bytes())));
    let blobs = layout.join("blobs/sha256");
    let src = layout.join("src");
    std::fs::create_dir_all(&blobs).map_err(io("creating the layout"))?;
    std::fs::create_dir_all(&src).map_err(io("creating the layout"))?;
    let write = |path: PathBuf, bytes: &[u8]| {
        std::fs::write(&path, bytes).map_err(io(format!("writing {}", path.display())))
    };
    write(src.join("hello.txt"), content.as_bytes())?;
    let tar = Command::new("tar")
        .args(["-cf", "-", "-C"])
        .arg(&src)
        .arg("hello.txt")
        .output()
        .map_err(io("running tar"))?;
    if !tar.status.success() {
        return Err(Error::Failed("tar failed".into()));
    }
    let layer = tar.stdout;
    let layer_hex = sha256_hex(&layer);
    write(blobs.join(&layer_hex), &layer)?;
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{layer_hex}"]}}}}"#
    );
    let config_hex = sha256_hex(config.as_bytes());
    write(blobs.join(&config_hex), config.as_bytes())?;
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config_hex}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{layer_hex}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let manifest_hex = sha256_hex(manifest.as_bytes());
    write(blobs.join(&manifest_hex), manifest.as_bytes())?;
    write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )?;
    write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_hex}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#,
            manifest.len()
        )
        .as_bytes(),
    )?;
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--preserve-digests",
        ])
        .args(skopeo_args)
        .arg(format!("oci:{}:v1", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .map_err(io(
            "skopeo is not installed: run scripts/install-test-deps.sh",
        ))?;
    if !out.status.success() {
        return Err(Error::Failed(format!(
            "skopeo: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(format!("sha256:{manifest_hex}"))
}
