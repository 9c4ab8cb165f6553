//! The verifiable index's own work per record, on one thread, without the
//! HTTP server around it: each batch's segment built in memory (the
//! sequencer's share) and the merges the merger would do as the log grows
//! (by `merge::pick`, into files past `MEMORY_ENTRIES`, as the log does).
//!
//! `cargo bench -p gazette-log --bench map` (env `GAZETTE_BENCH_RECORDS`,
//! default 1 000 000, batches of 200 to 2 000; each record files a document key
//! and a name key, as an issued record does).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gazette_client::index::{Lists, document_key, name_key};
use gazette_client::merkle::leaf_hash;
use gazette_log::map::merge::{merge, pick};
use gazette_log::map::segment::Target;
use gazette_log::map::{Filed, MEMORY_ENTRIES, Segment};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("map: bench");
        return;
    }
    let total: u64 = std::env::var("GAZETTE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // Batches of 200 to 2 000 entries, varying as the sequencer's do.
    let batch_size = |n: u64| 200 + (n * 7_919) % 1_801;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut live: Vec<Arc<Segment>> = Vec::new();
    let (mut building, mut merging) = (Duration::ZERO, Duration::ZERO);
    let mut merged_entries = 0u64;
    let (mut first, mut batches) = (0, 0);
    while first < total {
        let end = (first + batch_size(batches)).min(total);
        batches += 1;
        let t = Instant::now();
        let mut lists = Lists::new();
        for index in first..end {
            let leaf = leaf_hash(&index.to_be_bytes());
            let id = format!("INV-{index:09}");
            for key in [
                document_key(&leaf.0),
                name_key("agency.example.gov", "e-invoice", &id),
            ] {
                lists.entry(key).or_default().push((index, leaf));
            }
        }
        let filed = lists.into_iter().map(|(k, l)| Ok(Filed::new(k, l)));
        let segment = Segment::build(first, end, filed, Target::Memory).expect("a batch's segment");
        live.push(Arc::new(segment));
        building += t.elapsed();
        while let Some(range) = pick(&live, &HashSet::new()) {
            let t = Instant::now();
            let run: Vec<&Segment> = live[range.clone()].iter().map(Arc::as_ref).collect();
            let (start, end) = (run[0].start, run[run.len() - 1].end);
            let target = if end - start < MEMORY_ENTRIES {
                Target::Memory
            } else {
                Target::Dir(dir.path())
            };
            let merged = merge(&run, target).expect("a merge");
            for s in &run {
                s.retire();
            }
            merged_entries += end - start;
            live.splice(range, [Arc::new(merged)]);
            merging += t.elapsed();
        }
        first = end;
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / total as f64;
    println!(
        "# verifiable index, {total} records in {batches} batches of 200 to 2 000, one thread\n\
         batch segments (sequencer): {:.2} µs/record\n\
         merges (merger): {:.2} µs/record; each record merged {:.1} times; {} live segments at the end",
        per(building),
        per(merging),
        merged_entries as f64 / total as f64,
        live.len()
    );
}
