//! Load generator (not a timed test): a record submitted → its witnessed
//! receipt, with a log and three witnesses (policy 2-of-3) as real release
//! processes on loopback. Clients send signed records with
//! `POST /add?wait=receipt`, each waiting for its answer, and the latency
//! of each (durable commit, the witnessing round, the receipt) is recorded.
//!
//! `cargo bench -p gazette-tests --bench receipt` (env
//! `GAZETTE_BENCH_RECORDS`, default 2000; `GAZETTE_BENCH_CLIENTS`, default 4).

use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, env_or};

const ORIGIN: &str = "bench.example/witnessed";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("receipt: bench");
        return;
    }
    let records = env_or("GAZETTE_BENCH_RECORDS", 2000);
    let clients = env_or("GAZETTE_BENCH_CLIENTS", 4).max(1);
    println!(
        "# submitted → witnessed receipt: {records} records, {clients} clients, 3 witnesses (2-of-3); {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let agency = Signer::from_seed("bench.example.gov", KeyType::Ed25519, [5; 32]).unwrap();
    let bodies: Vec<Vec<u8>> = (0..records)
        .map(|n| {
            let mut digest = [7u8; 32];
            digest[..8].copy_from_slice(&(n as u64).to_be_bytes());
            Record::new(
                agency.name(),
                "e-invoice",
                &format!("R-{n}"),
                digest,
                "2026-11-24T10:00:00Z",
            )
            .sign(&agency)
            .unwrap()
            .bytes
        })
        .collect();

    let setup = WitnessedLog::start(ORIGIN, &agency.verifier(), 3, 2);
    let log = &setup.log;

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let bodies = std::sync::Arc::new(bodies);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (client, url, bodies) = (client.clone(), log.url.clone(), bodies.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for body in bodies.iter().skip(c).step_by(clients) {
                    let sent = Instant::now();
                    let reply = client
                        .post(format!("{url}/add?wait=receipt"))
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(reply.status(), 200);
                    let answer: serde_json::Value = reply.json().await.unwrap();
                    assert!(answer["receipt"].is_string(), "{answer}");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{} receipts in {elapsed:.2?} ({:.0}/s): p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        latencies[latencies.len() - 1]
    );
    drop(setup);
}
