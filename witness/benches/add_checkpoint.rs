//! Load generator for the witness (not a timed test): starts the real
//! `gazette-witness` release binary on loopback following `LOGS` logs,
//! then, one client per log, sends pre-built add-checkpoint requests (each
//! a checkpoint a few leaves larger, with its consistency proof) as fast as
//! answers come, and reports durable requests/s, p50/p99 latency and the
//! server's CPU per request. Every request is answered 200 only after the
//! log's new state is fsynced.
//!
//! `cargo bench -p gazette-witness --bench add_checkpoint` (env
//! `GAZETTE_BENCH_LOGS`, default 9: one alone, then 8 at once; `GAZETTE_BENCH_REQUESTS` per log,
//! default 1000).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gazette_client::checkpoint::Checkpoint;
use gazette_client::merkle::{self, Hash, leaf_hash, stored_hashes_for_leaf};
use gazette_client::note::{KeyType, Signer};
use gazette_client::witness_protocol::AddCheckpointRequest;

use gazette_tests::env_or;
use gazette_tests::process::{self, Server, cpu_seconds};

/// The binary measured, built by cargo for this package's benches.
fn gazette_witness() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-witness"))
}

fn run(args: &[&str]) -> String {
    process::run(gazette_witness(), args)
}

/// The requests taking a witness from 0 through `count` growing sizes.
fn requests(key: &Signer, count: usize) -> Vec<String> {
    let mut stored: Vec<Hash> = Vec::new();
    let mut size = 0u64;
    let mut old = 0u64;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let target = old + 1 + (i as u64 * 7) % 10;
        while size < target {
            let leaf = leaf_hash(format!("{} {size}", key.name()).as_bytes());
            stored.extend(stored_hashes_for_leaf(size, leaf, stored.as_slice()).unwrap());
            size += 1;
        }
        let checkpoint = Checkpoint {
            origin: key.name().to_owned(),
            size: target,
            root: merkle::tree_hash(target, stored.as_slice()).unwrap(),
            extensions: Vec::new(),
        };
        let proof = if old == 0 {
            Vec::new()
        } else {
            merkle::prove_consistency(old, target, stored.as_slice()).unwrap()
        };
        out.push(
            AddCheckpointRequest {
                old_size: old,
                proof,
                note: checkpoint.sign(key).unwrap(),
                checkpoint,
            }
            .to_body(),
        );
        old = target;
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("add_checkpoint: bench");
        return;
    }
    let logs = env_or("GAZETTE_BENCH_LOGS", 9).max(2);
    let per_log = env_or("GAZETTE_BENCH_REQUESTS", 1000);
    println!(
        "# gazette-witness add-checkpoint benchmark: {logs} logs, {per_log} requests each, one client per log; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let keys: Vec<Signer> = (0..logs)
        .map(|i| {
            Signer::from_seed(
                &format!("bench{i}.example/log"),
                KeyType::Ed25519,
                [i as u8 + 1; 32],
            )
            .unwrap()
        })
        .collect();
    let t = Instant::now();
    let bodies: Vec<Arc<Vec<String>>> = keys
        .iter()
        .map(|k| Arc::new(requests(k, per_log)))
        .collect();
    println!("built {} requests in {:.1?}", logs * per_log, t.elapsed());

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("witness");
    let d = data.to_str().unwrap();
    run(&["init", "--name", "bench.example/witness", "--dir", d]);
    for key in &keys {
        run(&[
            "add-log",
            "--origin",
            key.name(),
            "--vkey",
            &key.verifier().to_string(),
            "--dir",
            d,
        ]);
    }
    let server = Server::start(gazette_witness(), &data, "127.0.0.1:0");
    let pid = server.pid();
    let client = reqwest::Client::new();

    // Each log's requests are used once: the first log alone, then the
    // others at once.
    let together = format!("{} logs at once, one client each", logs - 1);
    for (phase, range) in [("one log, one client", 0..1), (together.as_str(), 1..logs)] {
        let cpu = cpu_seconds(pid);
        let t = Instant::now();
        let tasks: Vec<_> = bodies
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|bodies| {
                let (client, url, bodies) = (client.clone(), server.url.clone(), bodies.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(bodies.len());
                    for body in bodies.iter() {
                        let sent = Instant::now();
                        let reply = client
                            .post(format!("{url}/add-checkpoint"))
                            .body(body.clone())
                            .send()
                            .await
                            .unwrap();
                        let status = reply.status();
                        let text = reply.text().await.unwrap();
                        assert_eq!(status, 200, "{text}");
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies: Vec<Duration> = Vec::new();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        let elapsed = t.elapsed();
        let cpu = cpu_seconds(pid) - cpu;
        latencies.sort();
        let pct =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "{phase}: {} requests in {elapsed:.2?} = {:.0} requests/s; p50 {:.2?}, p99 {:.2?}, max {:.2?}; server CPU {:.0} µs/request",
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            pct(0.5),
            pct(0.99),
            latencies[latencies.len() - 1],
            cpu * 1e6 / latencies.len() as f64
        );
    }
    drop(server);
}
