//! Integration tests of hallmark-remote, one binary.

mod tuf;
