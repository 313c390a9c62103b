//! Where the index is: a SQLite file, or a PostgreSQL URL whose password never reaches a message.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::Error;

/// A parsed index location. Displays without any password.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file (created when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres {
        /// The URL as given (it may hold a password: never print it).
        url: String,
        /// The URL without password, for messages.
        redacted: String,
        /// True when the server is on this machine (loopback address or Unix socket).
        local: bool,
        /// True when the URL asks for `sslmode=disable`.
        tls_disabled: bool,
    },
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres { redacted, .. } => f.write_str(redacted),
        }
    }
}

/// `url` without its password (in the user info or a `password=` parameter); an unparseable
/// URL is replaced by its scheme alone, since where the password sits is then unknown.
pub fn redact(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        let scheme = url.split_once("://").map_or("postgres", |(s, _)| s);
        return format!("{scheme}://(unparseable URL)");
    };
    if parsed.password().is_some() {
        // Setting a password can only fail for URLs that cannot have one.
        let _ = parsed.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let secret =
                k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("sslpassword");
            (
                k.into_owned(),
                if secret {
                    "***".to_owned()
                } else {
                    v.into_owned()
                },
            )
        })
        .collect();
    if !pairs.is_empty() {
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

impl Location {
    /// `postgres://…` or `postgresql://…` is a server; anything else a SQLite file path.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
            if text.is_empty() {
                return Err(Error::Open {
                    location: String::new(),
                    message: "an empty database path".to_owned(),
                });
            }
            return Ok(Location::Sqlite(PathBuf::from(text)));
        }
        let redacted = redact(text);
        let parsed = url::Url::parse(text).map_err(|e| Error::Open {
            location: redacted.clone(),
            message: format!("not a URL: {e}"),
        })?;
        let query = |key: &str| {
            parsed
                .query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        // libpq's `host=` parameter may name a socket directory (a path) instead.
        let host_param = query("host");
        let local = match (parsed.host(), host_param.as_deref()) {
            (_, Some(h)) if h.starts_with('/') => true,
            (_, Some(h)) => is_loopback(h),
            // An empty host is the client's default too: a Unix socket on this machine.
            (Some(url::Host::Domain(d)), None) => d.is_empty() || is_loopback(d),
            (Some(url::Host::Ipv4(a)), None) => a.is_loopback(),
            (Some(url::Host::Ipv6(a)), None) => a.is_loopback(),
            // No host: the client's default, a Unix socket on this machine.
            (None, None) => true,
        };
        Ok(Location::Postgres {
            url: text.to_owned(),
            redacted,
            local,
            tls_disabled: query("sslmode").as_deref() == Some("disable"),
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        for url in [
            "postgres://hallmark:s3cret@db.example:5432/index",
            "postgresql://hallmark@db.example/index?password=s3cret&sslmode=disable",
        ] {
            let l = Location::parse(url).unwrap();
            let shown = format!("{l} {l:?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("db.example"), "{shown}");
        }
        assert!(!redact("postgres://u:s3cret@[::1").contains("s3cret"));
    }

    #[test]
    fn tells_local_servers_and_files_apart() {
        let local = |u: &str| match Location::parse(u).unwrap() {
            Location::Postgres { local, .. } => local,
            Location::Sqlite(_) => panic!("{u} is a server"),
        };
        assert!(local("postgres://u@127.0.0.1:5433/db"));
        assert!(local("postgres://u@localhost/db"));
        assert!(local("postgres://u@[::1]:5432/db"));
        assert!(local("postgres:///db?host=/run/postgresql"));
        assert!(local("postgres:///db"));
        assert!(!local("postgres://u@db.example/db"));
        assert!(!local("postgres://u@10.0.0.5/db"));
        assert_eq!(
            Location::parse("index.sqlite").unwrap(),
            Location::Sqlite("index.sqlite".into())
        );
        assert!(Location::parse("").is_err());
    }
}
