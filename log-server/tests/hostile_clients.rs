//! The real `gazette-log`, under a low open-file limit, against clients
//! that hold connections without finishing their headers (slowloris) and
//! clients that send their bodies a byte at a time. An honest agency's
//! `/add-batch` keeps succeeding throughout; the server closes the
//! attackers' connections itself (408 for the slow bodies); it never runs
//! out of descriptors. The attackers come from other loopback addresses
//! (127.0.0.2 and up) than the agency (127.0.0.1), as they would from
//! other hosts. A flood of `/add?wait=receipt` leaves `/add` alone; four
//! big batches at once are logged within a memory bound. Latencies and
//! memory are printed for docs/BENCHMARKS.md; only outcomes (and the
//! memory bound) are asserted.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::attack::{
    attacker, connect_from, idle_connections, raise_open_file_limit, read_until_closed, still_open,
};
use gazette_tests::process::{self, Options, Server};
use tokio::io::AsyncWriteExt;

fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

/// The log's open-file limit: at most half of it go to connections.
const OPEN_FILES: u64 = 512;
/// Connections from one address at once.
const PER_ADDRESS: usize = 32;
/// Idle connections tried, spread over four attacking addresses.
const IDLE: usize = 2000;
/// Slow bodies, from one attacking address.
const SLOW_BODIES: usize = 8;
/// What no step may take longer than (a bound against hanging, far above
/// the timeouts configured here).
const DEADLINE: Duration = Duration::from_secs(90);

fn agency() -> Signer {
    Signer::from_seed("registry.example.gov", KeyType::Ed25519, [5; 32]).unwrap()
}

fn records(from: u64, count: u64) -> Vec<String> {
    (from..from + count)
        .map(|n| {
            let mut digest = [0x22; 32];
            digest[..8].copy_from_slice(&n.to_be_bytes());
            let record = Record::new(
                agency().name(),
                "e-certificate",
                &format!("H-{n}"),
                digest,
                "2026-12-04T00:00:00Z",
            );
            String::from_utf8(record.sign(&agency()).unwrap().bytes).unwrap()
        })
        .collect()
}

/// An initialised log with the agency registered and short timeouts.
fn log_dir(dir: &Path) {
    let d = dir.to_str().unwrap();
    let origin = ["--origin", "hostile.example/log", "--dir", d];
    process::run(gazette_log(), &[&["init"][..], &origin[..]].concat());
    let vkey = agency().verifier().to_string();
    process::run(gazette_log(), &["agency", "add", &vkey, "--dir", d]);
    let config = dir.join("gazette-log.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = [
        (
            "max_per_address = 128",
            format!("max_per_address = {PER_ADDRESS}"),
        ),
        ("header_timeout_s = 10", "header_timeout_s = 2".to_owned()),
        ("body_timeout_s = 60", "body_timeout_s = 3".to_owned()),
    ]
    .iter()
    .fold(text, |text, (from, to)| {
        assert!(text.contains(from), "the template sets {from}");
        text.replace(from, to)
    });
    std::fs::write(&config, text).unwrap();
}

/// The honest agency: one `/add-batch` of `count` records from `from`,
/// which must succeed; returns how long it took.
async fn honest_batch(client: &reqwest::Client, url: &str, from: u64, count: u64) -> Duration {
    let start = Instant::now();
    let reply = client
        .post(format!("{url}/add-batch"))
        .json(&serde_json::json!({ "records": records(from, count) }))
        .send()
        .await
        .expect("the honest agency's batch is answered");
    assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
    let answer: serde_json::Value = reply.json().await.unwrap();
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len() as u64, count);
    assert!(results.iter().all(|r| r["index"].is_u64()), "{answer}");
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_never_stop_an_honest_agency() {
    let files = raise_open_file_limit();
    let idle = IDLE.min(usize::try_from(files.saturating_sub(200)).unwrap_or(IDLE));
    if idle < IDLE {
        println!("this process may open {files} files: {idle} idle connections, not {IDLE}");
    }
    let dir = tempfile::tempdir().unwrap();
    log_dir(dir.path());
    let server = Server::start_with(
        gazette_log(),
        dir.path(),
        &Options {
            open_files: Some(OPEN_FILES),
            ..Options::default()
        },
    );
    let url = server.url.clone();
    let addr: SocketAddr = server.addr().parse().unwrap();
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();
    honest_batch(&client, &url, 0, 10).await;

    // Slowloris: idle connections with half a request's headers, from
    // four addresses. Beyond each address's cap, the server closes them at
    // once; the rest, once the header timeout passes.
    let held = idle_connections(addr, 4, idle, b"POST /add-batch HTTP/1.1\r\nHost: log\r\n").await;
    println!(
        "slowloris: {} of {idle} connections made; the log holds {} file descriptors (limit {OPEN_FILES})",
        held.len(),
        process::open_files(server.pid())
    );
    let mut latencies = Vec::new();
    for round in 0..5 {
        latencies.push(honest_batch(&client, &url, 100 + round * 100, 100).await);
    }
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "{:?}", health.text().await);
    let count = held.len();
    let start = Instant::now();
    assert_eq!(
        still_open(held, DEADLINE).await,
        0,
        "idle connections the server never closed"
    );
    println!(
        "slowloris: honest /add-batch of 100 records took {latencies:?}; all {count} idle connections closed by the server within {:?} of the last batch",
        start.elapsed()
    );

    // Slow bodies: a megabyte announced, a byte sent every 100 ms. They
    // hold no write slot (four by default): the agency's batches pass; the
    // server answers them 408 once the body timeout passes.
    let mut slow = Vec::new();
    for _ in 0..SLOW_BODIES {
        let mut stream = connect_from(attacker(0), addr).await.unwrap();
        stream
            .write_all(
                b"POST /add-batch HTTP/1.1\r\nHost: log\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{",
            )
            .await
            .unwrap();
        slow.push(stream);
    }
    let trickle = async {
        for _ in 0..20 {
            for stream in slow.iter_mut() {
                let _ = stream.write_all(b" ").await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let honest = async {
        let mut latencies = Vec::new();
        for round in 0..3 {
            latencies.push(honest_batch(&client, &url, 1000 + round * 100, 100).await);
        }
        latencies
    };
    let ((), latencies) = tokio::join!(trickle, honest);
    let answers = futures_util::future::join_all(
        slow.iter_mut()
            .map(|stream| read_until_closed(stream, DEADLINE)),
    )
    .await;
    for answer in &answers {
        let answer = answer.as_ref().expect("the server closes a slow body");
        let text = String::from_utf8_lossy(answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("\"status\":408"), "{text}");
    }
    println!(
        "slow bodies: honest /add-batch of 100 records took {latencies:?} while {SLOW_BODIES} bodies trickled; each got 408"
    );
    honest_batch(&client, &url, 2000, 10).await;
    println!(
        "peak resident memory of the log: {} MiB",
        process::peak_rss_kib(server.pid()) / 1024
    );
}

/// An operator's mistake (here, a data directory that is not there) is one
/// line naming the file, exit 1: never a stack backtrace, even when
/// `RUST_BACKTRACE` asks for one.
#[test]
fn an_operators_mistake_is_one_line_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-log");
    let out = std::process::Command::new(gazette_log())
        .args(["serve", "--dir", missing.to_str().unwrap()])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("gazette-log: error: ") && err.contains("gazette-log.toml"),
        "{err}"
    );
    assert!(!err.contains("acktrace"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Anyone can replay a logged record with `/add?wait=receipt`. With a
/// witness that never answers, no receipt ever comes, so every such
/// request waits its whole `receipt_wait_s`. A flood of them fills the
/// waiters' places (the rest are answered 202 at once), and an agency's
/// `/add` goes on, as it holds no turn of theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_receipt_waiters_leaves_add_alone() {
    const WAITERS: usize = 64;
    const FLOOD: usize = 600;
    raise_open_file_limit();
    let dir = tempfile::tempdir().unwrap();
    log_dir(dir.path());
    // A witness the quorum needs, at a port where nothing listens.
    let witness = Signer::from_seed("mute.example.org", KeyType::Cosignature, [9; 32]).unwrap();
    std::fs::write(
        dir.path().join("policy.txt"),
        format!(
            "witness mute {} http://127.0.0.1:1\nquorum mute\n",
            witness.verifier()
        ),
    )
    .unwrap();
    let config = dir.path().join("gazette-log.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "# witness_policy_file = \"policy.txt\"",
            "witness_policy_file = \"policy.txt\"",
        )
        .replace(
            "max_receipt_waiters = 1024",
            &format!("max_receipt_waiters = {WAITERS}"),
        )
        .replace("receipt_wait_s = 10", "receipt_wait_s = 300")
        // The flood comes from the agency's own address here.
        .replace(
            &format!("max_per_address = {PER_ADDRESS}"),
            "max_per_address = 1000",
        );
    std::fs::write(&config, text).unwrap();
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let url = server.url.clone();
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();
    let logged = records(0, 1).remove(0);
    let add = |path: &str, record: &str| {
        client
            .post(format!("{url}{path}"))
            .body(record.to_owned())
            .send()
    };
    assert_eq!(add("/add", &logged).await.unwrap().status(), 200);

    // The flood: the same logged record, each waiting for its receipt.
    let (done, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..FLOOD {
        let request = add("/add?wait=receipt", &logged);
        let done = done.clone();
        flood.spawn(async move {
            let answer = match request.await {
                Ok(reply) => (
                    reply.status().as_u16(),
                    reply.text().await.unwrap_or_default(),
                ),
                Err(e) => (0, e.to_string()),
            };
            let _ = done.send(answer);
        });
    }
    // All but the waiters' places are answered at once, 202 and why.
    for _ in 0..FLOOD - WAITERS {
        let (status, body) = tokio::time::timeout(DEADLINE, answers.recv())
            .await
            .expect("answered")
            .unwrap();
        assert_eq!(status, 202, "{body}");
        assert!(
            body.contains(&format!("{WAITERS} requests already wait")),
            "{body}"
        );
    }
    // An agency's records go on being logged meanwhile...
    let mut took = Vec::new();
    for n in 1..=20 {
        let start = Instant::now();
        let reply = add("/add", &records(n, 1)[0]).await.unwrap();
        assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
        took.push(start.elapsed());
    }
    // ...while the waiters still wait: none of them has been answered.
    assert!(answers.try_recv().is_err(), "a waiter was answered");
    took.sort();
    println!(
        "receipt flood: {} answered 202 at once, {WAITERS} waiting; 20 honest /add took {:?} to {:?} (median {:?}); peak RSS of the log {} MiB",
        FLOOD - WAITERS,
        took[0],
        took[19],
        took[10],
        process::peak_rss_kib(server.pid()) >> 10
    );
    flood.abort_all();
}

/// A record of about 5.5 KB (five 1 000-byte fields beside its own), the
/// largest kind an agency would send in bulk.
fn big_record(n: u64) -> String {
    let mut digest = [0x44; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    let mut record = Record::new(
        agency().name(),
        "e-certificate",
        &format!("B-{n}"),
        digest,
        "2026-12-04T00:00:00Z",
    );
    for field in ["a", "b", "c", "d", "e"] {
        record
            .fields
            .push((format!("note-{field}"), "x".repeat(1000)));
    }
    String::from_utf8(record.sign(&agency()).unwrap().bytes).unwrap()
}

/// Four batches of big records sent at once (every `/add-batch` turn
/// taken): all are logged, and the log's resident memory is printed at
/// its peak and once the batches are done, for docs/BENCHMARKS.md
/// (`GAZETTE_BIG_BATCH_RECORDS`, 2 000 here, sets the records per batch:
/// 10 000, the most a batch may hold, makes each body 55 MiB). A batch is
/// held decoded once (its body is dropped once decoded, its records kept
/// rather than copied), so the peak stays within a few times the bodies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_batches_at_once_are_logged_within_bounded_memory() {
    const BATCHES: u64 = 4;
    let per_batch = gazette_tests::env_or("GAZETTE_BIG_BATCH_RECORDS", 2_000) as u64;
    let dir = tempfile::tempdir().unwrap();
    log_dir(dir.path());
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let pid = server.pid();
    let url = server.url.clone();
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();
    let bodies: Vec<Vec<u8>> = (0..BATCHES)
        .map(|b| {
            let records: Vec<String> = (b * per_batch..(b + 1) * per_batch)
                .map(big_record)
                .collect();
            serde_json::to_vec(&serde_json::json!({ "records": records })).unwrap()
        })
        .collect();
    let body_bytes: usize = bodies.iter().map(Vec::len).sum();
    let at_start = process::rss_kib(pid);
    let sends = bodies.into_iter().map(|body| {
        client
            .post(format!("{url}/add-batch"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    });
    for reply in futures_util::future::join_all(sends).await {
        let reply = reply.expect("answered");
        assert_eq!(reply.status(), 200);
        let answer: serde_json::Value = reply.json().await.unwrap();
        let results = answer["results"].as_array().unwrap();
        assert_eq!(results.len() as u64, per_batch);
        assert!(results.iter().all(|r| r["index"].is_u64()));
    }
    let peak = process::peak_rss_kib(pid);
    let answered = process::rss_kib(pid);
    // Freed memory goes back to the system in the allocator's own time
    // (mimalloc purges a thread's free pages when that thread next runs,
    // or exits: tokio's idle blocking threads do after 10 s).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let soon = process::rss_kib(pid);
    tokio::time::sleep(Duration::from_secs(13)).await;
    let later = process::rss_kib(pid);
    println!(
        "{BATCHES} batches of {per_batch} records, {} MiB of bodies in all: log RSS {} MiB at start, peak {} MiB, {} MiB when answered, {} MiB 2 s later, {} MiB 15 s later",
        body_bytes >> 20,
        at_start >> 10,
        peak >> 10,
        answered >> 10,
        soon >> 10,
        later >> 10
    );
    // Each batch is held about three times over at most (its body, its
    // records decoded, its entry bundle being written), beside the index
    // databases' caches and memtables (about 130 MiB once written to).
    let bound = at_start + 160 * 1024 + 4 * (body_bytes as u64 >> 10);
    assert!(
        peak <= bound,
        "peak RSS {peak} KiB over {bound} KiB for {body_bytes} bytes of bodies"
    );
}
