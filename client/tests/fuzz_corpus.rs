//! Replays the committed fuzz corpora (`client/fuzz/corpus/<target>/`) through
//! the fuzz target bodies on stable Rust, so every `cargo test` checks that no
//! seed (or a cheap mutation of one) makes a target panic. The libFuzzer
//! harness itself lives in `client/fuzz` and needs `cargo fuzz`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

// The same bodies the libFuzzer binaries run (no libfuzzer needed here).
#[path = "../fuzz/src/targets.rs"]
mod fuzz_targets;

use fuzz_targets::{FuzzTarget, TARGETS};

/// Every target needs at least this many seed files.
const MIN_SEEDS: usize = 5;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target)
}

fn corpus_files(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    assert!(
        dir.is_dir(),
        "corpus directory {} is missing",
        dir.display()
    );
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= MIN_SEEDS,
        "{} holds {} files, expected at least {MIN_SEEDS}",
        dir.display(),
        files.len()
    );
    files
}

/// The seed itself, its truncations at every 7th byte, and one-bit flips at
/// a few spread-out offsets (first, last, and the quarter points).
fn mutations(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("as is".to_owned(), data.to_vec())];
    for len in (0..data.len()).step_by(7) {
        out.push((format!("truncated to {len}"), data[..len].to_vec()));
    }
    if !data.is_empty() {
        let last = data.len() - 1;
        let mut offsets = vec![0, last / 4, last / 2, 3 * last / 4, last];
        offsets.dedup();
        for offset in offsets {
            let bit = offset % 8;
            let mut flipped = data.to_vec();
            flipped[offset] ^= 1 << bit;
            out.push((format!("bit {bit} of byte {offset} flipped"), flipped));
        }
    }
    out
}

fn replay(name: &str, target: FuzzTarget) -> usize {
    let mut failures = Vec::new();
    let mut runs = 0;
    for (file, data) in corpus_files(name) {
        for (how, input) in mutations(&data) {
            runs += 1;
            if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
                failures.push(format!("{name}/{file} ({how})"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz target {name} panicked on:\n  {}",
        failures.join("\n  ")
    );
    runs
}

#[test]
fn every_target_has_a_corpus_and_survives_it() {
    let mut total = 0;
    for (name, target) in TARGETS {
        total += replay(name, *target);
    }
    assert!(total > 0);
}

#[test]
fn corpus_has_no_directory_without_a_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            TARGETS.iter().any(|(t, _)| *t == name),
            "fuzz/corpus/{name} matches no fuzz target"
        );
    }
}

/// The `registry_entry` seeds are what their names say: every `hand-valid-*`
/// parses (so the target's round trip and fold run on it) and no
/// `hand-bad-*` does. They were written once by a throwaway program with
/// the keys of `client/tests/registry.rs` (the log's is the one the target
/// folds under).
#[test]
fn registry_entry_seeds_parse_as_their_names_say() {
    use gazette_client::registry::SignedRegistryEntry;
    let files = corpus_files("registry_entry");
    let (mut valid, mut bad) = (0, 0);
    for (name, data) in &files {
        let parsed = SignedRegistryEntry::parse(data);
        if name.starts_with("hand-valid-") {
            assert!(parsed.is_ok(), "{name}: {parsed:?}");
            valid += 1;
        } else if name.starts_with("hand-bad-") {
            assert!(parsed.is_err(), "{name} parses");
            bad += 1;
        }
    }
    assert!(valid >= 5 && bad >= 5, "{valid} valid, {bad} bad seeds");
}
