//! HTTP fuzz targets for the log and the witness (see README.md): bytes →
//! request → each server's whole router through `oneshot`; and bytes → the
//! fast lane's head parser. The bodies are
//! shared with the stable tests that replay the corpora
//! (`log-server/tests/http_fuzz_corpus.rs`, `witness/tests/http_fuzz_corpus.rs`).

pub mod lane;
pub mod log;
pub mod replay;
pub mod request;
pub mod witness;
