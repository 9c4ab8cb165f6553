//! Load generator (not a timed test): the log on local disk beside the log
//! on the distributed engines (3 Garage nodes, replication factor 3; 3
//! etcd members holding the lease and the checkpoint), as release
//! processes on loopback, in one run:
//!
//! 1. durable append through `/add-batch`, fresh records, local disk vs
//!    object store, with 4 and with 16 requests in flight;
//! 2. `/add` latency at a fixed offered rate, open loop, each request's
//!    latency counted from its scheduled send time (no coordinated
//!    omission), local disk vs object store;
//! 3. reads (inclusion proofs and tiles at random) from one read replica
//!    and from two, the client spreading its requests over them,
//!    alternating 1, 2, 1, 2 once both are warm.
//!
//! `cargo bench -p gazette-tests --bench distributed` (env
//! `GAZETTE_BENCH_RECORDS`, default 100000 per append run;
//! `GAZETTE_BENCH_RATE`, default 1000 `/add` per second, 5 s;
//! `GAZETTE_BENCH_READ_SECONDS`, default 5; `GAZETTE_BENCH_CONNECTIONS`,
//! default 32 for reads).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gazette_tests::distributed::{Cluster, agency, record, wait_sequencing};
use gazette_tests::{Server, binary, env_or, init_log};

/// Records per `/add-batch` request.
const BATCH: usize = 1000;
/// Requests in flight in each append round: a commit to the object store
/// takes several round trips whatever its size, so its rate grows with the
/// records waiting to be committed together.
const SENDERS: [usize; 2] = [4, 16];

/// Sends `records` through `/add-batch`, `senders` requests at a time;
/// records per second.
async fn append(url: &str, records: Arc<Vec<String>>, senders: usize) -> f64 {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let (client, url, records, next) = (
                client.clone(),
                url.to_owned(),
                records.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let start = next.fetch_add(BATCH as u64, Ordering::SeqCst) as usize;
                    if start >= records.len() {
                        return;
                    }
                    let chunk = &records[start..(start + BATCH).min(records.len())];
                    let reply = client
                        .post(format!("{url}/add-batch"))
                        .json(&serde_json::json!({ "records": chunk }))
                        .send()
                        .await
                        .unwrap();
                    assert!(reply.status().is_success(), "{}", reply.status());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    records.len() as f64 / started.elapsed().as_secs_f64()
}

/// `/add` at `rate` per second for `seconds`, open loop; latencies (ms)
/// from each request's scheduled send time, sorted.
async fn add_latency(url: &str, records: Vec<Vec<u8>>, rate: usize) -> Vec<f64> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let start = Instant::now() + Duration::from_millis(100);
    let tasks: Vec<_> = records
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let (client, url) = (client.clone(), url.to_owned());
            let scheduled = start + Duration::from_secs_f64(i as f64 / rate as f64);
            tokio::spawn(async move {
                tokio::time::sleep_until(scheduled.into()).await;
                let reply = client.post(format!("{url}/add")).body(body).send().await;
                assert!(reply.unwrap().status().is_success());
                scheduled.elapsed().as_secs_f64() * 1000.0
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Requests per second of inclusion proofs and tiles at random, spread
/// over `urls`, for `seconds`.
async fn reads(urls: &[String], size: u64, connections: usize, seconds: u64) -> f64 {
    let client = reqwest::Client::new();
    let done = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let (client, url, done) = (client.clone(), urls[c % urls.len()].clone(), done.clone());
            tokio::spawn(async move {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ c as u64;
                while Instant::now() < end {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let index = x % size;
                    let path = match x % 2 {
                        0 => format!("/proof/inclusion?index={index}&size={size}"),
                        _ => format!(
                            "/tile/0/{:03}",
                            (index >> 8).min((size >> 8).saturating_sub(1))
                        ),
                    };
                    let reply = client.get(format!("{url}{path}")).send().await.unwrap();
                    assert!(reply.status().is_success(), "{path}: {}", reply.status());
                    reply.bytes().await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / seconds as f64
}

/// CPU seconds so far of every process named `garage`, and of every one
/// named `etcd` (the engines of this run: no others run here).
fn engines_cpu() -> (f64, f64) {
    let (mut garage, mut etcd) = (0.0, 0.0);
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let (name, cpu) = gazette_tests::process::stat_cpu(&entry.path().join("stat"));
        match name.as_str() {
            "garage" => garage += cpu,
            "etcd" => etcd += cpu,
            _ => {}
        }
    }
    (garage, etcd)
}

/// Appends `records` to the log `server`; the rate, and the CPU
/// microseconds per record of the log, of Garage and of etcd.
async fn measured_append(
    server: &Server,
    records: Arc<Vec<String>>,
    senders: usize,
) -> (f64, [f64; 3]) {
    let n = records.len() as f64;
    let log_before = gazette_tests::process::cpu_seconds(server.pid());
    let (garage_before, etcd_before) = engines_cpu();
    let rate = append(&server.url, records, senders).await;
    let (garage, etcd) = engines_cpu();
    let per_record = |seconds: f64| seconds * 1e6 / n;
    let log = gazette_tests::process::cpu_seconds(server.pid()) - log_before;
    (
        rate,
        [
            per_record(log),
            per_record(garage - garage_before),
            per_record(etcd - etcd_before),
        ],
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("distributed: bench");
        return;
    }
    let per_round = env_or("GAZETTE_BENCH_RECORDS", 100_000);
    let rate = env_or("GAZETTE_BENCH_RATE", 1000);
    let read_seconds = env_or("GAZETTE_BENCH_READ_SECONDS", 5) as u64;
    let connections = env_or("GAZETTE_BENCH_CONNECTIONS", 32);
    println!(
        "# local disk vs Garage x3 (RF 3) + etcd x3, release processes on loopback; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let cluster = tokio::task::spawn_blocking(|| Cluster::start_with(10))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local_dir = dir.path().join("local");
    init_log(
        &local_dir,
        gazette_tests::distributed::ORIGIN,
        &agency().verifier(),
    );
    let writer_dir = cluster.node_dir("writer", true);
    // Every request comes from 127.0.0.1: the default cap per address
    // would close connections rather than measure latency.
    for config in [
        local_dir.join("gazette-log.toml"),
        writer_dir.join("gazette-log.toml"),
    ] {
        let text = std::fs::read_to_string(&config).unwrap();
        let text = text
            .replace("max_per_address = 128", "max_per_address = 8192")
            .replace("max = 1024", "max = 8192");
        std::fs::write(&config, text).unwrap();
    }
    let local = Server::start(&binary("gazette-log"), &local_dir, "127.0.0.1:0");
    let distributed = cluster.serve(&writer_dir, &[]);
    assert!(wait_sequencing(&distributed.url, Duration::from_secs(60)));

    // Fresh records for every figure: never sent twice, to either log
    // (each log gets its own, so each writes every tile).
    let total = 2 * SENDERS.len() * per_round + 2 * rate * 5;
    println!("signing {total} fresh records...");
    let signed: Vec<Vec<u8>> =
        tokio::task::spawn_blocking(move || (0..total as u64).map(record).collect())
            .await
            .unwrap();
    let mut fresh = signed.into_iter();
    let mut take = |n: usize| -> Vec<Vec<u8>> { fresh.by_ref().take(n).collect() };
    let texts = |records: Vec<Vec<u8>>| -> Arc<Vec<String>> {
        Arc::new(
            records
                .into_iter()
                .map(|r| String::from_utf8(r).unwrap())
                .collect(),
        )
    };

    println!(
        "\n## Durable append through /add-batch ({per_round} fresh records per run, requests of {BATCH})"
    );
    println!(
        "| requests in flight | local disk (rec/s) | object store (rec/s) | object / local | CPU µs/record, local: gazette-log | object store: gazette-log / Garage / etcd | load average |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for senders in SENDERS {
        let (l, l_cpu) = measured_append(&local, texts(take(per_round)), senders).await;
        let (o, o_cpu) = measured_append(&distributed, texts(take(per_round)), senders).await;
        println!(
            "| {senders} | {l:.0} | {o:.0} | {:.2} | {:.1} | {:.1} / {:.1} / {:.1} | {} |",
            o / l,
            l_cpu[0],
            o_cpu[0],
            o_cpu[1],
            o_cpu[2],
            load_average()
        );
    }

    println!(
        "\n## /add latency at {rate}/s offered for 5 s (open loop, from the scheduled send time)"
    );
    println!("| store | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | load average |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, url) in [
        ("local disk", &local.url),
        ("object store", &distributed.url),
    ] {
        let latencies = add_latency(url, take(rate * 5), rate).await;
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.9),
            percentile(&latencies, 0.99),
            latencies.last().unwrap(),
            load_average()
        );
    }

    let replica_dirs = [cluster.node_dir("r1", false), cluster.node_dir("r2", false)];
    let replicas: Vec<Server> = replica_dirs
        .iter()
        .map(|d| cluster.serve(d, &["--replica"]))
        .collect();
    let size = gazette_tests::checkpoint_size(&distributed.url).await;
    for replica in &replicas {
        let deadline = Instant::now() + Duration::from_secs(120);
        while gazette_tests::checkpoint_size(&replica.url).await < size {
            assert!(Instant::now() < deadline, "a replica did not catch up");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    println!(
        "\n## Reads from read replicas ({size} entries; inclusion proofs and level-0 tiles at random, {connections} connections, {read_seconds} s)"
    );
    println!("| replicas | requests/s | vs one | load average |");
    println!("| --- | --- | --- | --- |");
    // Each replica reads every tile from the bucket once, then from memory:
    // warm both (twice: the first pass is mostly misses), then alternate.
    for _ in 0..2 {
        for replica in &replicas {
            reads(
                std::slice::from_ref(&replica.url),
                size,
                connections,
                read_seconds,
            )
            .await;
        }
    }
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let mut one = 0.0;
    for (label, set) in [
        ("1", &urls[..1]),
        ("2", &urls[..]),
        ("1", &urls[1..]),
        ("2", &urls[..]),
    ] {
        let rate = reads(set, size, connections, read_seconds).await;
        if one == 0.0 {
            one = rate;
        }
        println!(
            "| {label} | {rate:.0} | {:.2} | {} |",
            rate / one,
            load_average()
        );
    }
}
