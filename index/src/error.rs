//! The index's one error type.

/// What went wrong opening, migrating, writing or querying the index. Messages never carry a
/// database password: locations are printed with it removed ([`crate::Location`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The location could not be used (bad URL, unreachable server, unreadable file).
    #[error("index {location}: {message}")]
    Open {
        /// The location, without its password.
        location: String,
        /// Why.
        message: String,
    },
    /// A PostgreSQL server that is not on this machine, reached without TLS, which is not
    /// supported yet (docs/index.md): refused unless the URL says `sslmode=disable`.
    #[error(
        "index {location}: the connection would not be encrypted (TLS to PostgreSQL is not \
         supported yet); use a server on loopback or a Unix socket, or add sslmode=disable to \
         the URL to accept an unencrypted connection"
    )]
    Unencrypted {
        /// The location, without its password.
        location: String,
    },
    /// The database refused a statement.
    #[error("index database: {0}")]
    Database(String),
    /// The database was written by a newer Hallmark.
    #[error(
        "index schema version {found} is newer than this hallmark knows ({known}): upgrade hallmark"
    )]
    NewerSchema {
        /// The version the database records.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A migration failed (and was rolled back).
    #[error("index migration {version} ({name}): {message}")]
    Migration {
        /// Its version.
        version: i64,
        /// Its name.
        name: &'static str,
        /// Why.
        message: String,
    },
    /// The bundle bytes handed to ingest are not those the attestation was verified from.
    #[error("the bundle does not hold the verified attestation: {0}")]
    Mismatch(String),
    /// A query argument is malformed.
    #[error("{what} {value:?}: {problem}")]
    Query {
        /// The argument.
        what: &'static str,
        /// Its value (printable).
        value: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A stored row does not read back (written by something else, or damaged).
    #[error("index row: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Database(e.to_string())
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        // The server's message when there is one (the client's own Display says only "db error").
        match e.as_db_error() {
            Some(db) => Error::Database(format!("{}: {}", db.code().code(), db.message())),
            None => Error::Database(e.to_string()),
        }
    }
}
