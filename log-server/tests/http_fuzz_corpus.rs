//! Replays the committed corpus of the `http_log` fuzz target
//! (`log-server/fuzz/corpus/http_log/`) through its body on stable Rust:
//! each seed, its truncations and a few one-bit flips, as requests to the
//! log's whole router. None may panic, answer a server error other than
//! "retry later", or answer an error outside the one JSON shape. The same
//! for the `fast_lane_head` target's corpus, through the fast lane's head
//! parser. The
//! libFuzzer harness itself is `log-server/fuzz` (`cargo fuzz`).

#[path = "../fuzz/src/request.rs"]
mod request;

#[path = "../fuzz/src/log.rs"]
mod log_target;

#[path = "../fuzz/src/replay.rs"]
mod replay;

#[path = "../fuzz/src/lane.rs"]
mod lane;

#[test]
fn the_http_log_corpus_never_breaks_the_log() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/http_log");
    let tried = replay::replay(&dir, log_target::http_log);
    assert!(tried > 100, "only {tried} inputs");
}

#[test]
fn the_fast_lane_head_corpus_never_breaks_the_head_parser() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/fast_lane_head");
    let tried = replay::replay(&dir, lane::fast_lane_head);
    assert!(tried > 50, "only {tried} inputs");
}
