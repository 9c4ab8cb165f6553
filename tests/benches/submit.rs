//! Load generator (not a timed test): records per second through
//! `gazette submit` end to end (reading a JSONL manifest, batches of 1 000,
//! 4 requests at once, resume file after every batch) against a local
//! release `gazette-log`, and, in the same run, the log's own rate for the
//! same records sent by a bare HTTP client with the same batches and
//! concurrency, so the ratio shows whether the client is the bottleneck.
//!
//! `cargo bench -p gazette-tests --bench submit` (env
//! `GAZETTE_BENCH_RECORDS`, default 200000).

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, run_status};

fn records(agency: &Signer, tag: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|n| {
            let mut digest = [0x55; 32];
            digest[..8].copy_from_slice(&(n as u64).to_be_bytes());
            let record = Record::new(
                agency.name(),
                "e-invoice",
                &format!("{tag}-{n:07}"),
                digest,
                "2026-11-24T10:00:00Z",
            )
            .sign(agency)
            .unwrap();
            String::from_utf8(record.bytes).unwrap()
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("submit: bench");
        return;
    }
    let count: usize = std::env::var("GAZETTE_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    println!(
        "# gazette submit vs bare /add-batch client: {count} records each; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let agency = Signer::from_seed("submit.example.gov", KeyType::Ed25519, [9; 32]).unwrap();
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("records.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&manifest).unwrap());
        for record in records(&agency, "S", count) {
            writeln!(out, "{}", serde_json::to_string(&record).unwrap()).unwrap();
        }
    }
    let bare = records(&agency, "B", count);
    let setup = WitnessedLog::start("submit.example/log", &agency.verifier(), 0, 0);

    // 1. gazette submit.
    let resume = work.path().join("resume");
    let t = Instant::now();
    let (code, _, err) = run_status(
        "gazette",
        &[
            "submit",
            "--quiet",
            "--log",
            &setup.log.url,
            "--resume",
            resume.to_str().unwrap(),
            manifest.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let submit = t.elapsed();

    // 2. A bare client: the same batches, 4 at once, no files.
    let bodies: Arc<Vec<String>> = Arc::new(
        bare.chunks(1000)
            .map(|c| serde_json::json!({ "records": c }).to_string())
            .collect(),
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let t = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, bodies, next) = (
                client.clone(),
                setup.log.url.clone(),
                bodies.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(body) = bodies.get(i) else { break };
                    let reply = client
                        .post(format!("{url}/add-batch"))
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert!(reply.status().is_success());
                    let _ = reply.bytes().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let direct = t.elapsed();
    let (a, b) = (
        count as f64 / submit.as_secs_f64(),
        count as f64 / direct.as_secs_f64(),
    );
    println!("gazette submit: {count} records in {submit:.2?} = {a:.0} records/s");
    println!("bare /add-batch client: {count} records in {direct:.2?} = {b:.0} records/s");
    println!("gazette submit / bare client: {:.2}", a / b);
    drop(setup);
}
