//! hallmark-remote's integration tests, in one binary so the suite links once: the TUF client
//! against mirrors on loopback.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tuf;
