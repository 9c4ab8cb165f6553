//! The fuzz target bodies, as a library for the `fuzz_targets/` binaries.
//! The same file is compiled into `client/tests/fuzz_corpus.rs`, which
//! replays the corpora on stable Rust.

#[path = "targets.rs"]
mod targets;

pub use targets::*;
