//! Load generator for the write path (not a timed test): starts the real
//! `gazette-log` release binary on loopback, sends pre-signed records, and
//! reports, in one run:
//!
//! 1. ed25519-dalek single and batch verification rates on this machine;
//! 2. durable append throughput through `/add-batch`;
//! 3. `/add` latency at fixed offered rates (open loop, each request's
//!    latency counted from the time it was scheduled to be sent, so a
//!    stalled server or generator cannot hide its delay: no coordinated
//!    omission);
//! 4. storage bytes per entry beside the record size;
//! 5. where the CPU goes, per record: the server's threads, the load
//!    generator, and each stage of the server's work measured on one core.
//!
//! Every record sent is fresh (its own id and digest, signed once, never
//! sent twice), so every figure includes writing its tiles and indexes.
//!
//! `cargo bench -p gazette-log --bench append` (env `GAZETTE_BENCH_RECORDS`,
//! default 1000000, about 15 s of appending here, so the index's flushes
//! and compactions fall inside the run; `GAZETTE_BENCH_RATES`, default
//! `5000,20000` records/s offered to `/add`, 5 s each;
//! `GAZETTE_BENCH_CONNECTIONS`, default 4; `GAZETTE_BENCH_INDEX=off` runs
//! the log without its verifiable index, for a side-by-side comparison).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use gazette_client::merkle::leaf_hash;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::{Record, SignedRecord};

use gazette_tests::process::{self, Options, Server, cpu_seconds, peak_rss_kib, stat_cpu};

/// The binary measured, built by cargo for this package's benches.
fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

fn run(args: &[&str]) -> String {
    process::run(gazette_log(), args)
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds of a process's threads, grouped by what they do.
fn thread_cpu(pid: u32) -> std::collections::BTreeMap<String, f64> {
    let mut groups = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return groups;
    };
    for task in tasks.flatten() {
        let (name, cpu) = stat_cpu(&task.path().join("stat"));
        let group = match name.as_str() {
            "sequencer" | "committer" | "record-indexer" | "indexer" | "index-merger"
            | "add-verifier" | "pruner" => name,
            n if n.starts_with("tokio") => "HTTP workers (JSON, parse, verify)".into(),
            n if n.starts_with("fjall") => "index background (fjall flush, compaction)".into(),
            _ => "other".into(),
        };
        *groups.entry(group).or_insert(0.0) += cpu;
    }
    groups
}

/// Bytes allocated on disk under `path` (what `du` counts: whole blocks,
/// not the files' apparent lengths).
fn dir_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let meta = entry.metadata().unwrap();
            total += if meta.is_dir() {
                dir_bytes(&entry.path())
            } else {
                meta.blocks() * 512
            };
        }
    }
    total
}

/// `/index/lookup` by digest for 1 000 logged documents, one at a time:
/// served latency, answer size, and the client's verification time (the
/// checkpoint is opened with the log key alone; no witnesses here).
async fn proven_lookups(client: &reqwest::Client, url: &str, total: usize) {
    use gazette_client::index::lookup::{LookupKey, verify_lookup};
    let (mut served, mut bytes, mut verified, mut segments) =
        (Vec::new(), Vec::new(), Vec::new(), 0);
    for k in 0..1000usize {
        let n = (k * 7919) % total;
        let digest = leaf_hash(&n.to_be_bytes()).0;
        let hex = gazette_client::encoding::hex_encode(&digest);
        let t = Instant::now();
        let body = client
            .get(format!("{url}/index/lookup?digest=sha256:{hex}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        served.push(t.elapsed());
        bytes.push(body.len());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let t = Instant::now();
        let note = v["checkpoint"].as_str().unwrap();
        let text = gazette_client::note::Note::parse(note.as_bytes())
            .unwrap()
            .text;
        let checkpoint = gazette_client::checkpoint::Checkpoint::parse(&text).unwrap();
        let proof = gazette_tests::lookup_proof(&v);
        segments = proof.map_proofs.len();
        let found = verify_lookup(
            &LookupKey::Document(digest),
            &proof,
            checkpoint.size,
            &checkpoint.root,
        )
        .unwrap();
        assert_eq!(found.records.len(), 1);
        verified.push(t.elapsed());
    }
    served.sort();
    bytes.sort();
    verified.sort();
    println!(
        "/index/lookup by digest, 1000 documents one at a time ({segments} segments): served p50 {:.1?}, p99 {:.1?}; answer p50 {} bytes, max {}; verified natively (JSON decode + verify_lookup) p50 {:.1?}, p99 {:.1?}",
        served[500], served[990], bytes[500], bytes[999], verified[500], verified[990]
    );
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn verification_rates() -> (f64, f64) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let messages: Vec<Vec<u8>> = (0..4096u32)
        .map(|i| format!("message {i}").into_bytes())
        .collect();
    let signatures: Vec<Signature> = messages.iter().map(|m| key.sign(m)).collect();
    let vk: VerifyingKey = key.verifying_key();
    let start = Instant::now();
    for (m, s) in messages.iter().zip(&signatures) {
        vk.verify(m, s).unwrap();
    }
    let single = per_second(messages.len(), start.elapsed());
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let keys = vec![vk; messages.len()];
    let start = Instant::now();
    for chunk in 0..messages.len() / 256 {
        let r = chunk * 256..(chunk + 1) * 256;
        ed25519_dalek::verify_batch(&refs[r.clone()], &signatures[r.clone()], &keys[r]).unwrap();
    }
    (single, per_second(messages.len(), start.elapsed()))
}

/// Per-record cost, on one core, of each stage the server runs.
fn stage_costs(
    records: &[Vec<u8>],
    agencies: &[gazette_client::note::Verifier],
) -> Vec<(&'static str, f64)> {
    let sample = &records[..records.len().min(20_000)];
    let json = serde_json::json!({ "records": sample.iter().map(|r| String::from_utf8(r.clone()).unwrap()).collect::<Vec<_>>() })
        .to_string();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / sample.len() as f64;
    let t = Instant::now();
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let json_us = per(t.elapsed());
    assert!(parsed["records"].is_array());
    let t = Instant::now();
    for r in sample {
        SignedRecord::parse(r).unwrap();
    }
    let parse_us = per(t.elapsed());
    let t = Instant::now();
    for r in sample {
        SignedRecord::verify(r, agencies).unwrap();
    }
    let verify_us = per(t.elapsed()) - parse_us;
    let t = Instant::now();
    for chunk in sample.chunks(1000) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        assert!(
            SignedRecord::verify_many(&refs, agencies)
                .iter()
                .all(Result::is_ok)
        );
    }
    let verify_many_us = per(t.elapsed()) - parse_us;
    let t = Instant::now();
    for r in sample {
        std::hint::black_box(leaf_hash(r));
    }
    let hash_us = per(t.elapsed());
    vec![
        ("JSON decode of the batch", json_us),
        ("record parse", parse_us),
        ("signature verification, one at a time (ZIP-215)", verify_us),
        (
            "signature verification, batches of 1000 as the server does",
            verify_many_us,
        ),
        ("leaf hash", hash_us),
    ]
}

/// `/add` closed loop: 64 clients each sending its next fresh record as
/// soon as the last is answered, for 5 s (or until `records` run out):
/// how many single-record requests per second the log completes, the
/// capacity the open-loop rates below are measured against. Returns how
/// many records it used.
async fn add_capacity(client: &reqwest::Client, url: &str, records: &[Vec<u8>], pid: u32) -> usize {
    let records = Arc::new(records.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = cpu_seconds(pid);
    let threads = thread_cpu(pid);
    let t = Instant::now();
    let stop = t + Duration::from_secs(5);
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let (client, url, records, next) = (
                client.clone(),
                url.to_owned(),
                records.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut done = 0usize;
                while Instant::now() < stop {
                    let Some(body) = records.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let r = client
                        .post(format!("{url}/add"))
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success(), "{}", r.status());
                    let _ = r.bytes().await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for c in clients {
        done += c.await.unwrap();
    }
    let elapsed = t.elapsed();
    println!(
        "/add closed loop, 64 clients, one fresh record per request: {:.0} records/s ({done} in {elapsed:.1?}); server CPU {:.1} µs/record",
        per_second(done, elapsed),
        (cpu_seconds(pid) - cpu) * 1e6 / done.max(1) as f64
    );
    for (group, cpu) in thread_cpu(pid) {
        let before = threads.get(&group).copied().unwrap_or(0.0);
        println!(
            "  server thread {group}: {:.1} µs/record",
            (cpu - before) * 1e6 / done.max(1) as f64
        );
    }
    next.load(Ordering::Relaxed).min(records.len())
}

/// `/add` of each of `records` at `rate` per second, open loop: request
/// `i` is due at `start + i / rate` and sent then (or at once, if the
/// generator is behind); its latency runs from when it was due, not from
/// when it went out, so time the generator or the server lost is counted
/// against the server, as a client arriving on schedule would see it.
async fn add_latency(client: &reqwest::Client, url: &str, records: &[Vec<u8>], rate: usize) {
    let failed = Arc::new(AtomicUsize::new(0));
    let late = Arc::new(AtomicUsize::new(0));
    let start = tokio::time::Instant::now() + Duration::from_millis(10);
    let mut tasks = Vec::with_capacity(records.len());
    for (i, body) in records.iter().enumerate() {
        let due = start + Duration::from_nanos((i as u64) * 1_000_000_000 / rate as u64);
        tokio::time::sleep_until(due).await;
        if tokio::time::Instant::now() > due + Duration::from_millis(2) {
            late.fetch_add(1, Ordering::Relaxed);
        }
        let (client, url, body, failed) =
            (client.clone(), url.to_owned(), body.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            // A request that cannot even connect (the generator out of
            // sockets while the server stalls) is counted, not fatal.
            let Ok(r) = client.post(format!("{url}/add")).body(body).send().await else {
                failed.fetch_add(1, Ordering::SeqCst);
                return None;
            };
            assert!(r.status().is_success(), "{}", r.status());
            let _ = r.bytes().await;
            Some(due.elapsed())
        }));
    }
    let mut l = Vec::with_capacity(tasks.len());
    for task in tasks {
        l.extend(task.await.unwrap());
    }
    let elapsed = start.elapsed();
    l.sort();
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    println!(
        "/add latency at {rate} records/s offered, from each request's scheduled time ({} requests over {elapsed:.1?}, {} sent more than 2 ms late by the generator (counted in their latency), {} could not connect): p50 {:.1?}, p90 {:.1?}, p99 {:.1?}, p99.9 {:.1?}, max {:.1?}",
        l.len(),
        late.load(Ordering::Relaxed),
        failed.load(Ordering::SeqCst),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(0.999),
        l[l.len() - 1]
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("append: bench");
        return;
    }
    let total = env_or("GAZETTE_BENCH_RECORDS", 1_000_000);
    let rates: Vec<usize> = std::env::var("GAZETTE_BENCH_RATES")
        .ok()
        .map(|v| v.split(',').filter_map(|r| r.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![5_000, 20_000]);
    // The closed-loop /add phase sends at most this many records.
    let closed_loop_records = 150_000;
    let latency_records: usize = rates.iter().map(|r| r * 5).sum::<usize>() + closed_loop_records;
    let batch = 1_000;
    let connections = env_or("GAZETTE_BENCH_CONNECTIONS", 4);
    println!(
        "# gazette-log append benchmark: {total} records, batches of {batch}, {connections} connections; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let (single, batched) = verification_rates();
    println!("ed25519-dalek verify, one core: single {single:.0}/s, batch {batched:.0}/s");

    let agencies: Vec<Signer> = (0..3)
        .map(|i| {
            Signer::from_seed(
                &format!("agency{i}.example.gov"),
                KeyType::Ed25519,
                [i as u8 + 1; 32],
            )
            .unwrap()
        })
        .collect();
    let t = Instant::now();
    let records: Vec<Vec<u8>> = (0..total + latency_records)
        .map(|n| {
            let agency = &agencies[n % agencies.len()];
            let mut record = Record::new(
                agency.name(),
                "e-invoice",
                &format!("INV-2026-{n:09}"),
                leaf_hash(&n.to_be_bytes()).0,
                "2026-11-24T09:00:00Z",
            );
            record
                .fields
                .push(("amount".into(), format!("{}.00 CNY", n % 100_000)));
            record.sign(agency).unwrap().bytes
        })
        .collect();
    let mean_len = records.iter().map(Vec::len).sum::<usize>() as f64 / records.len() as f64;
    println!(
        "pre-signed {} records (mean {mean_len:.0} bytes) in {:?}",
        records.len(),
        t.elapsed()
    );

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log");
    let d = data.to_str().unwrap();
    run(&[
        "init",
        "--origin",
        "bench.example/log",
        "--dir",
        d,
        "--listen",
        "127.0.0.1:0",
    ]);
    for agency in &agencies {
        run(&["agency", "add", &agency.verifier().to_string(), "--dir", d]);
    }
    // The generator is one address standing in for many clients: the
    // per-address cap (128) would turn its open-loop bursts into refused
    // connections rather than latency.
    let config = data.join("gazette-log.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("max = 1024", "max = 8192")
            .replace("max_per_address = 128", "max_per_address = 8192"),
    )
    .unwrap();
    let index = std::env::var("GAZETTE_BENCH_INDEX").unwrap_or_else(|_| "on".into());
    println!("verifiable index: {index}");
    if index == "off" {
        let config = data.join("gazette-log.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(
            &config,
            text.replace("verifiable_index = true", "verifiable_index = false"),
        )
        .unwrap();
    }
    let bench_log = std::env::var("GAZETTE_BENCH_LOG").unwrap_or_else(|_| "warn".into());
    let mut server = Server::start_with(
        gazette_log(),
        &data,
        &Options {
            rust_log: &bench_log,
            ..Options::default()
        },
    );
    let (url, pid) = (server.url.clone(), server.pid());
    let client = reqwest::Client::new();

    // 1. Throughput: `connections` clients sending /add-batch until all are durable.
    let bodies: Arc<Vec<String>> = Arc::new(
        records[..total]
            .chunks(batch)
            .map(|c| serde_json::json!({ "records": c.iter().map(|r| String::from_utf8(r.clone()).unwrap()).collect::<Vec<_>>() }).to_string())
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    // When one and nine tenths of the batches were answered: the last
    // tenth's rate is the rate into a log already nine tenths of the run's
    // size; between the two marks, as many requests are in flight at both
    // ends, so the rate there is the steady one, without the start's ramp
    // and the end's drain.
    let answered = Arc::new(AtomicUsize::new(0));
    let one_tenth = bodies.len() / 10;
    let nine_tenths = bodies.len() - bodies.len() / 10;
    let marks: Arc<[std::sync::OnceLock<Instant>; 2]> = Arc::default();
    let cpu_before = cpu_seconds(pid);
    let threads_before = thread_cpu(pid);
    let generator_before = cpu_seconds(std::process::id());
    let t = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, bodies, next) =
                (client.clone(), url.clone(), bodies.clone(), next.clone());
            let (answered, marks) = (answered.clone(), marks.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(body) = bodies.get(i) else { break };
                    loop {
                        let r = client
                            .post(format!("{url}/add-batch"))
                            .header("content-type", "application/json")
                            .body(body.clone())
                            .send()
                            .await
                            .unwrap();
                        if r.status().as_u16() == 503 {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                        assert!(r.status().is_success(), "{}", r.status());
                        let v: serde_json::Value = r.json().await.unwrap();
                        assert!(
                            v["results"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .all(|x| x["index"].is_u64())
                        );
                        let now_answered = answered.fetch_add(1, Ordering::SeqCst) + 1;
                        if now_answered == one_tenth {
                            let _ = marks[0].set(Instant::now());
                        }
                        if now_answered == nine_tenths {
                            let _ = marks[1].set(Instant::now());
                        }
                        break;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let elapsed = t.elapsed();
    let server_cpu = cpu_seconds(pid) - cpu_before;
    let generator_cpu = cpu_seconds(std::process::id()) - generator_before;
    println!(
        "durable append via /add-batch: {:.0} records/s ({total} in {elapsed:.2?}); server CPU {server_cpu:.1} s = {:.1} µs/record ({:.0}% of 2 cores); load generator {:.1} µs/record ({:.0}% of 2 cores)",
        per_second(total, elapsed),
        server_cpu * 1e6 / total as f64,
        100.0 * server_cpu / elapsed.as_secs_f64() / 2.0,
        generator_cpu * 1e6 / total as f64,
        100.0 * generator_cpu / elapsed.as_secs_f64() / 2.0,
    );
    if let (Some(from), Some(to)) = (marks[0].get(), marks[1].get()) {
        println!(
            "  steady, from the first tenth answered to the ninth: {:.0} records/s",
            per_second((nine_tenths - one_tenth) * batch, to.duration_since(*from)),
        );
    }
    if let Some(at) = marks[1].get() {
        let last = total - nine_tenths * batch;
        println!(
            "  the last tenth, into a log of {} entries: {:.0} records/s",
            nine_tenths * batch,
            per_second(last, (t + elapsed).duration_since(*at)),
        );
    }
    println!(
        "  server memory: peak resident {} MiB",
        peak_rss_kib(pid) >> 10
    );
    for (group, cpu) in thread_cpu(pid) {
        let before = threads_before.get(&group).copied().unwrap_or(0.0);
        println!(
            "  server thread {group}: {:.1} µs/record",
            (cpu - before) * 1e6 / total as f64
        );
    }

    // The sequencer's batches: with the index on, each ends with its
    // commitment entry, so the tree holds one entry per batch beyond the
    // records (the merges per record grow with the number of batches).
    if index == "on" {
        let size = gazette_tests::checkpoint_size(&url).await as usize;
        let batches = size.saturating_sub(total).max(1);
        println!(
            "sequencer batches: {batches} (mean {:.0} records)",
            total as f64 / batches as f64
        );
    }

    // 2. Latency of /add at a fixed offered rate, open loop, 5 s, once the
    // server has finished the bulk phase's background work (the lookup
    // indexer catching up, the index flushing): at most 30 s.
    let settle = Instant::now();
    loop {
        let before = cpu_seconds(pid);
        tokio::time::sleep(Duration::from_millis(250)).await;
        if cpu_seconds(pid) - before < 0.025 || settle.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    println!("settled after the bulk phase in {:.1?}", settle.elapsed());
    if index == "on" {
        proven_lookups(&client, &url, total).await;
    }
    let mut sent = total;
    sent += add_capacity(
        &client,
        &url,
        &records[sent..sent + closed_loop_records],
        pid,
    )
    .await;
    for &rate in &rates {
        let count = rate * 5;
        add_latency(&client, &url, &records[sent..sent + count], rate).await;
        sent += count;
    }

    // SIGTERM: the log stops cleanly, so the lookup index is complete.
    if !server.terminate(Duration::from_secs(600)) {
        eprintln!("gazette-log ignored SIGTERM for 10 minutes: killed");
    }

    // 3. Storage.
    let entries = sent;
    let tiles = dir_bytes(&data.join("tile"));
    let index = dir_bytes(&data.join("index"));
    let lookup = dir_bytes(&data.join("lookup"));
    let map = dir_bytes(&data.join("map"));
    println!(
        "verifiable index files: {:.1} bytes/record (segments under 4096 entries stay in memory)",
        map as f64 / entries as f64
    );
    println!(
        "storage, allocated on disk (du): tiles {:.1} bytes/entry (records average {mean_len:.0} bytes, so {:.1} bytes of overhead); record index {:.1}, lookup index {:.1} bytes/entry",
        tiles as f64 / entries as f64,
        tiles as f64 / entries as f64 - mean_len,
        index as f64 / entries as f64,
        lookup as f64 / entries as f64
    );

    // 4. Where the CPU goes, per record on one core.
    let keys: Vec<_> = agencies.iter().map(Signer::verifier).collect();
    for (stage, us) in stage_costs(&records, &keys) {
        println!("  {stage}: {us:.2} µs/record");
    }
}
