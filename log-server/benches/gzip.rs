//! Entry bundles gzip-encoded (not a timed test): what compressing a full
//! bundle of typical records gives and costs, by gzip level, and what the
//! real binary serves.
//!
//! 1. In this process: 256 signed e-invoice records, made as the `append`
//!    and `read` benchmarks make them (three agencies, a SHA-256 digest, an
//!    amount; 327 bytes on average), encoded as the log's bundle; for each
//!    level, its compressed size and the median and p90 time of one
//!    compression over `GAZETTE_BENCH_ROUNDS` (default 300) rounds, the
//!    level the log uses ([`gazette_log::tile_cache::GZIP_LEVEL`]) marked.
//! 2. The release `gazette-log` on loopback, given 2 048 such records in one
//!    batch: bundles `000`–`007` are records only. Each bundle is fetched
//!    gzip-encoded once (a miss: read and compressed), then again, and as
//!    stored: request latencies from one client, one request at a time, and
//!    the sizes on the wire. The bundle served as stored must be the one
//!    encoded in step 1's way, and the gzip answer must decode to it.
//!
//! `cargo bench -p gazette-log --bench gzip`

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use gazette_client::merkle::leaf_hash;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_client::tiles::format_entry_bundle;
use gazette_log::tile_cache::{GZIP_LEVEL, gzip};
use gazette_tests::process::{self, Server};

fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

fn signed_record(agencies: &[Signer], n: u64) -> Vec<u8> {
    let agency = &agencies[(n % agencies.len() as u64) as usize];
    let mut record = Record::new(
        agency.name(),
        "e-invoice",
        &format!("INV-2026-{n:010}"),
        leaf_hash(&n.to_be_bytes()).0,
        "2026-11-24T09:00:00Z",
    );
    record
        .fields
        .push(("amount".into(), format!("{}.00 CNY", n % 100_000)));
    record.sign(agency).unwrap().bytes
}

fn compress(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(level));
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The median and the 90th percentile.
fn p50_p90(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() * 9 / 10])
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("gzip: bench");
        return;
    }
    let rounds = std::env::var("GAZETTE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300usize);
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
    let records: Vec<Vec<u8>> = (0..2048).map(|n| signed_record(&agencies, n)).collect();
    let bundle = format_entry_bundle(records[..256].iter().map(Vec::as_slice)).unwrap();
    println!(
        "# one full bundle: 256 records, {} bytes ({:.0} per record); {rounds} rounds per level",
        bundle.len(),
        bundle.len() as f64 / 256.0
    );
    println!("level | gzip bytes | ratio | one compression p50 / p90");
    for level in [1, 2, 3, 6, 9] {
        let out = compress(&bundle, level);
        assert!(gunzip(&out) == bundle);
        let times: Vec<Duration> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(compress(std::hint::black_box(&bundle), level));
                t.elapsed()
            })
            .collect();
        let (p50, p90) = p50_p90(times);
        let served = match level == GZIP_LEVEL {
            true => {
                assert_eq!(gzip(&bundle).len(), out.len());
                " (the log's)"
            }
            false => "",
        };
        println!(
            "{level}{served} | {} | {:.3} | {:.0} / {:.0} µs",
            out.len(),
            out.len() as f64 / bundle.len() as f64,
            micros(p50),
            micros(p90)
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log");
    let d = data.to_str().unwrap();
    let init = ["init", "--origin", "gzip.example/log", "--dir", d];
    process::run(
        gazette_log(),
        &[&init[..], &["--listen", "127.0.0.1:0"]].concat(),
    );
    for agency in &agencies {
        let key = agency.verifier().to_string();
        process::run(gazette_log(), &["agency", "add", &key, "--dir", d]);
    }
    let server = Server::start(gazette_log(), &data, "127.0.0.1:0");
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let texts: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8(r.clone()).unwrap())
        .collect();
    let reply = client
        .post(format!("{}/add-batch", server.url))
        .json(&serde_json::json!({ "records": texts }))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{}", reply.status());
    // Idle before timing: the indexes caught up, the connection open.
    gazette_tests::wait_for_lookups(&server.url).await;
    let get = |path: String, gzip: bool| {
        let mut request = client.get(format!("{}/{path}", server.url));
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        async move {
            let t = Instant::now();
            let reply = request.send().await.unwrap();
            assert!(reply.status().is_success(), "{path}: {}", reply.status());
            let encoded = reply.headers().get("content-encoding").is_some();
            assert_eq!(encoded, gzip, "{path}");
            let body = reply.bytes().await.unwrap().to_vec();
            (t.elapsed(), body)
        }
    };
    for _ in 0..20 {
        get("tile/0/000".into(), false).await;
    }
    let (mut first, mut again, mut stored) = (Vec::new(), Vec::new(), Vec::new());
    let (mut plain_bytes, mut gzip_bytes) = (0, 0);
    for b in 0..8usize {
        let path = format!("tile/entries/{b:03}");
        let expected =
            format_entry_bundle(records[b * 256..(b + 1) * 256].iter().map(Vec::as_slice)).unwrap();
        let (t, encoded) = get(path.clone(), true).await;
        first.push(t);
        for _ in 0..20 {
            let (t, body) = get(path.clone(), true).await;
            assert!(body == encoded);
            again.push(t);
        }
        for _ in 0..20 {
            let (t, body) = get(path.clone(), false).await;
            assert!(body == expected, "{path}: not the expected bundle");
            stored.push(t);
        }
        assert!(gunzip(&encoded) == expected);
        plain_bytes += expected.len();
        gzip_bytes += encoded.len();
    }
    println!("# served by gazette-log, bundles 000-007, one request at a time");
    println!(
        "on the wire: {plain_bytes} bytes as stored, {gzip_bytes} gzip-encoded ({:.3})",
        gzip_bytes as f64 / plain_bytes as f64
    );
    for (what, times) in [
        ("first gzip request (read, compressed)", first),
        ("gzip again (cached)", again),
        ("as stored, after (cached)", stored),
    ] {
        let n = times.len();
        let max = times.iter().max().copied().unwrap_or_default();
        let (p50, p90) = p50_p90(times);
        println!(
            "{what}: p50 {:.0} µs, p90 {:.0} µs, max {:.0} µs ({n} requests)",
            micros(p50),
            micros(p90),
            micros(max)
        );
    }
}
