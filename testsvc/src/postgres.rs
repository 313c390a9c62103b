//! A throw-away PostgreSQL for tests: Debian's `postgresql` binaries (`initdb`, `postgres`) on
//! a loopback port with a temporary data directory, trust authentication for 127.0.0.1 and the
//! local socket only, stopped on drop. `initdb` refuses to run as root, so as root the server
//! runs as the `postgres` user (`runuser`) in a directory handed to it.
//!
//! With `HALLMARK_TEST_POSTGRES=postgres://…` set, that server is used instead: each
//! [`Postgres::start`] creates a database of its own there and drops it on drop.
//!
//! `scripts/install-test-deps.sh` installs the package; without it the tests that use this
//! fail, they do not skip.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::registry::Error;

/// The environment variable naming an existing server to use instead of starting one.
pub const ENV: &str = "HALLMARK_TEST_POSTGRES";

/// How long the server may take to accept connections.
const READY: Duration = Duration::from_secs(60);

fn failed(message: impl Into<String>) -> Error {
    Error::Failed(message.into())
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        what: what.to_owned(),
        source,
    }
}

/// The newest installed server's `bin` directory.
fn bin_dir() -> Result<PathBuf, Error> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| failed("PostgreSQL is not installed (Debian package postgresql; scripts/install-test-deps.sh)"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        failed("no /usr/lib/postgresql/*/bin/initdb: install the postgresql package")
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn postgres_ids() -> Result<(u32, u32), Error> {
    let id = |flag: &str| -> Result<u32, Error> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(io("id postgres"))?;
        std::str::from_utf8(out.stdout.trim_ascii())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| failed("no postgres user (the postgresql package makes it)"))
    };
    Ok((id("-u")?, id("-g")?))
}

/// A command run as the server's user: `postgres` when we are root, else ourselves.
fn as_server_user(root: bool, program: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A running test server (or a database on the one [`ENV`] names); stops on drop.
#[derive(Debug)]
pub struct Postgres {
    url: String,
    own: Option<Own>,
    external: Option<External>,
}

#[derive(Debug)]
struct Own {
    child: Child,
    data: PathBuf,
    bin: PathBuf,
    root: bool,
    _dir: tempfile::TempDir,
}

#[derive(Debug)]
struct External {
    admin_url: String,
    database: String,
}

static SEQUENCE: AtomicU32 = AtomicU32::new(0);

impl Postgres {
    /// A fresh, empty database: on a server started for it, or on the server [`ENV`] names.
    pub fn start() -> Result<Postgres, Error> {
        match std::env::var(ENV) {
            Ok(url) if !url.is_empty() => Self::on_external(url),
            _ => Self::start_own(),
        }
    }

    /// The connection URL (no password: trust authentication on loopback).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn on_external(admin_url: String) -> Result<Postgres, Error> {
        let database = format!(
            "hallmark_test_{}_{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = ::postgres::Client::connect(&admin_url, ::postgres::NoTls)
            .map_err(|e| failed(format!("{ENV}: connecting: {e}")))?;
        client
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .map_err(|e| failed(format!("{ENV}: creating {database}: {e}")))?;
        let mut url = url::Url::parse(&admin_url).map_err(|e| failed(format!("{ENV}: {e}")))?;
        url.set_path(&database);
        Ok(Postgres {
            url: url.to_string(),
            own: None,
            external: Some(External {
                admin_url,
                database,
            }),
        })
    }

    fn start_own() -> Result<Postgres, Error> {
        let bin = bin_dir()?;
        let root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("hallmark-pg-")
            .tempdir()
            .map_err(io("making the data directory"))?;
        let data = dir.path().join("data");
        if root {
            // The server's user must own the directory it works in.
            let (uid, gid) = postgres_ids()?;
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(io("handing the data directory to postgres"))?;
        }
        let out = as_server_user(root, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .args(["--no-instructions", "--locale=C"])
            .stdin(Stdio::null())
            .output()
            .map_err(io("running initdb"))?;
        if !out.status.success() {
            return Err(failed(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        // Trust only the local socket and 127.0.0.1: nothing else may connect.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        )
        .map_err(io("writing pg_hba.conf"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(io("choosing a port"))?
            .port();
        let log = std::fs::File::create(dir.path().join("server.log"))
            .map_err(io("creating the server log"))?;
        let child = as_server_user(root, &bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            // Throw-away data: durability is not wanted, speed is.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(io("starting postgres"))?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let mut server = Postgres {
            url,
            own: Some(Own {
                child,
                data,
                bin,
                root,
                _dir: dir,
            }),
            external: None,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), Error> {
        let start = Instant::now();
        loop {
            if ::postgres::Client::connect(&self.url, ::postgres::NoTls).is_ok() {
                return Ok(());
            }
            if let Some(own) = &mut self.own
                && let Ok(Some(status)) = own.child.try_wait()
            {
                let log =
                    std::fs::read_to_string(own._dir.path().join("server.log")).unwrap_or_default();
                return Err(failed(format!("postgres exited ({status}): {log}")));
            }
            if start.elapsed() > READY {
                return Err(failed("postgres did not accept connections within 60 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(own) = &mut self.own {
            // `runuser` waits for the server; stop the server itself, then reap.
            let _ = as_server_user(own.root, &own.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&own.data)
                .args(["stop", "-m", "immediate", "-w"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = own.child.kill();
            let _ = own.child.wait();
        }
        if let Some(ext) = &self.external
            && let Ok(mut client) = ::postgres::Client::connect(&ext.admin_url, ::postgres::NoTls)
        {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                ext.database
            ));
        }
    }
}
