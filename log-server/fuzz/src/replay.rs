//! Replaying a committed corpus through a target body on stable Rust (the
//! replay tests include this file): each seed, its truncations at every
//! 11th byte, and one-bit flips at a few spread-out offsets.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Feeds every seed in `dir` and its mutations to `target`; panics naming
/// the seed and the mutation that broke it. Returns how many inputs ran.
pub fn replay(dir: &Path, target: fn(&[u8])) -> usize {
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    seeds.sort();
    assert!(
        seeds.len() >= 5,
        "{} holds {} seeds",
        dir.display(),
        seeds.len()
    );
    let mut tried = 0;
    for seed in &seeds {
        let data = std::fs::read(seed).unwrap();
        let mut inputs = vec![("as is".to_owned(), data.clone())];
        for len in (0..data.len()).step_by(11) {
            inputs.push((format!("truncated to {len}"), data[..len].to_vec()));
        }
        if !data.is_empty() {
            let last = data.len() - 1;
            for at in [0, last / 4, last / 2, 3 * last / 4, last] {
                let mut flipped = data.clone();
                flipped[at] ^= 0x04;
                inputs.push((format!("bit 2 of byte {at} flipped"), flipped));
            }
        }
        for (how, input) in inputs {
            tried += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(&input))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                panic!("{} ({how}): {message}", seed.display());
            }
        }
    }
    tried
}
