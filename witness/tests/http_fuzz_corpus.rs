//! Replays the committed corpus of the `http_witness` fuzz target
//! (`log-server/fuzz/corpus/http_witness/`) through its body on stable
//! Rust: each seed, its truncations and a few one-bit flips, as requests
//! to the witness's whole router. None may panic or answer a server error
//! other than "retry later". The libFuzzer harness is `log-server/fuzz`.

#[path = "../../log-server/fuzz/src/request.rs"]
mod request;

#[path = "../../log-server/fuzz/src/witness.rs"]
mod witness_target;

#[path = "../../log-server/fuzz/src/replay.rs"]
mod replay;

#[test]
fn the_http_witness_corpus_never_breaks_the_witness() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../log-server/fuzz/corpus/http_witness");
    let tried = replay::replay(&dir, witness_target::http_witness);
    assert!(tried > 30, "only {tried} inputs");
}
