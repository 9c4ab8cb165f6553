//! Storage under a trickle (not a timed test): one client sends `/add` one
//! record at a time, each acknowledged before the next, so every record is
//! its own commit with new partial tiles at the right edge. Starts the real
//! `gazette-log` release binary on loopback, then reports the tile
//! directory's allocated bytes (`du`, what the disk holds) and apparent
//! bytes, per entry, beside the records' own size.
//!
//! `cargo bench -p gazette-log --bench trickle` (env `GAZETTE_BENCH_RECORDS`,
//! default 5000; `GAZETTE_BENCH_GRACE_S`, the `partial_tile_grace_s` set,
//! default 10; `GAZETTE_BENCH_INDEX=off` runs without the verifiable index).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::process::{self, Server};

fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Allocated bytes under `dir` (`du -s --block-size=1`).
fn du(dir: &Path, apparent: bool) -> u64 {
    let mut command = Command::new("du");
    command.args(["-s", "--block-size=1"]);
    if apparent {
        command.arg("--apparent-size");
    }
    let out = command.arg(dir).output().expect("du");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("du's total")
}

fn set(config: &Path, key: &str, value: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    let prefix = format!("{key} = ");
    let text: Vec<String> = text
        .lines()
        .map(|l| match l.starts_with(&prefix) {
            true => format!("{prefix}{value}"),
            false => l.to_owned(),
        })
        .collect();
    std::fs::write(config, text.join("\n") + "\n").unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let records = env_or("GAZETTE_BENCH_RECORDS", 5000) as u64;
    let grace = env_or("GAZETTE_BENCH_GRACE_S", 10);
    let indexed = std::env::var("GAZETTE_BENCH_INDEX").as_deref() != Ok("off");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    process::run(
        gazette_log(),
        &["init", "--origin", "trickle.example/log", "--dir", d],
    );
    let agency =
        Signer::from_seed("trickle-agency.example.gov", KeyType::Ed25519, [5; 32]).unwrap();
    process::run(
        gazette_log(),
        &["agency", "add", &agency.verifier().to_string(), "--dir", d],
    );
    let config = dir.path().join("gazette-log.toml");
    set(&config, "partial_tile_grace_s", &grace.to_string());
    set(&config, "verifiable_index", &indexed.to_string());
    set(&config, "records_per_second", "1000000");
    set(&config, "burst", "1000000");
    let bodies: Vec<Vec<u8>> = (0..records)
        .map(|n| {
            let mut digest = [0x3c; 32];
            digest[..8].copy_from_slice(&n.to_be_bytes());
            Record::new(
                agency.name(),
                "e-certificate",
                &format!("T-{n}"),
                digest,
                "2026-12-05T00:00:00Z",
            )
            .sign(&agency)
            .unwrap()
            .bytes
        })
        .collect();
    let record_bytes: usize = bodies.iter().map(Vec::len).sum();
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let client = reqwest::Client::new();
    let started = Instant::now();
    for body in bodies {
        let reply = client
            .post(format!("{}/add", server.url))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
    let elapsed = started.elapsed();
    let answer: serde_json::Value = client
        .get(format!("{}/info", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let size = answer["size"].as_u64().unwrap();
    let tiles = dir.path().join("tile");
    let measure = |when: &str| {
        let (allocated, apparent) = (du(&tiles, false), du(&tiles, true));
        println!(
            "{when}: tiles {allocated} B allocated ({:.0} B per entry, {:.2}x the records), {apparent} B apparent ({:.0} B per entry)",
            allocated as f64 / size as f64,
            allocated as f64 / record_bytes as f64,
            apparent as f64 / size as f64,
        );
    };
    println!(
        "{records} records one at a time in {:.1} s ({:.0} records/s), {size} entries (verifiable index {}), records average {:.0} B, partial_tile_grace_s = {grace}",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64(),
        if indexed { "on" } else { "off" },
        record_bytes as f64 / records as f64,
    );
    measure("at once");
    tokio::time::sleep(Duration::from_secs(grace as u64 + 2)).await;
    measure(&format!("after the grace period ({grace} s + 2 s)"));
    drop(server);
}
