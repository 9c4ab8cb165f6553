//! Load generator (not a timed test): the verification page's WebAssembly
//! in headless Chromium (Debian's, through chromedriver), served by a real
//! log with three witnesses (2-of-3). Measures, in the browser:
//! - offline receipt verification (`LogVerifier.verifyReceipt`: checkpoint
//!   signature, two or three cosignatures, inclusion proof, the agency's
//!   record signature), per call;
//! - proven lookups: `provenDocument` on an `/index/lookup` answer for a
//!   logged document and for one never logged (JSON parse, the checkpoint,
//!   the commitment's and the records' inclusion, one map proof per
//!   segment), per call, with the answer's size;
//! - document hashing with `DocumentHasher` fed 4 MiB slices of a 100 MB
//!   Blob (the page's streaming path, used for files over 256 MiB or
//!   without WebCrypto), beside the browser's own
//!   WebCrypto SHA-256 of the same bytes in one call, as a ratio.
//!
//! The bundle must be built (`scripts/build-page` prints its size).
//!
//! `cargo bench -p gazette-tests --bench page` (env
//! `GAZETTE_BENCH_RECEIPTS`, default 500; `GAZETTE_BENCH_MB`, default 100;
//! `GAZETTE_BENCH_PAGE_RECORDS`, records logged first, default 5 000).

use std::time::Duration;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::{WitnessedLog, add_with_receipt, env_or};
use serde_json::json;

const ORIGIN: &str = "bench.example/page";

/// Runs in the page: `arguments = [policy, agencies, receipt, receipts, mb,
/// digests, done]`.
const SCRIPT: &str = r#"
const [policy, agencies, receipt, count, mb, digests, done] = arguments;
(async () => {
  const wasm = await import('/pkg/gazette_wasm.js');
  await wasm.default();
  const verifier = new wasm.LogVerifier(policy, agencies);
  const bytes = new TextEncoder().encode(receipt);
  for (let i = 0; i < 20; i++) verifier.verifyReceipt(bytes);
  const times = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    verifier.verifyReceipt(bytes);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  // Proven lookups: the answer fetched once, verified `count` times.
  const proven = {};
  for (const [name, digest] of Object.entries(digests)) {
    const response = await fetch(`/index/lookup?digest=${encodeURIComponent(digest)}`);
    const text = await response.text();
    const answer = JSON.parse(text);
    const found = verifier.provenDocument(answer, digest);
    const took = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      verifier.provenDocument(JSON.parse(text), digest);
      took.push(performance.now() - t);
    }
    took.sort((a, b) => a - b);
    proven[name] = {
      bytes: text.length, segments: answer.map_proofs.length, records: found.records.length,
      p50: took[Math.floor(count * 0.5)], p99: took[Math.floor(count * 0.99)],
    };
  }
  const data = new Uint8Array(mb * 1000 * 1000);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 255;
  const blob = new Blob([data]);
  const chunk = 4 * 1024 * 1024;
  let t = performance.now();
  const hasher = new wasm.DocumentHasher();
  for (let at = 0; at < blob.size; at += chunk) {
    hasher.update(new Uint8Array(await blob.slice(at, at + chunk).arrayBuffer()));
  }
  const digest = hasher.finish();
  const wasmMs = performance.now() - t;
  t = performance.now();
  const subtle = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  const subtleMs = performance.now() - t;
  const hex = Array.from(subtle, b => b.toString(16).padStart(2, '0')).join('');
  done({
    p50: times[Math.floor(count * 0.5)], p90: times[Math.floor(count * 0.9)],
    p99: times[Math.floor(count * 0.99)], max: times[count - 1],
    wasmMs, subtleMs, same: digest === 'sha256:' + hex, proven,
  });
})().catch(e => done({ error: String(e && e.stack || e) }));
"#;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("page: bench");
        return;
    }
    let receipts = env_or("GAZETTE_BENCH_RECEIPTS", 500).max(1);
    let mb = env_or("GAZETTE_BENCH_MB", 100).max(1);
    let agency = Signer::from_seed("bench.example.gov", KeyType::Ed25519, [5; 32]).unwrap();
    let setup = WitnessedLog::start(ORIGIN, &agency.verifier(), 3, 2);
    let log = setup.log.url.clone();
    // A tree of a few thousand entries, so the proof has a dozen hashes;
    // logged in batches of 1 000, so that the verifiable index has several
    // segments.
    let count = env_or("GAZETTE_BENCH_PAGE_RECORDS", 5000) as u64;
    let records: Vec<String> = (0..count)
        .map(|n| {
            let mut digest = [9u8; 32];
            digest[..8].copy_from_slice(&n.to_be_bytes());
            let record = Record::new(
                agency.name(),
                "e-invoice",
                &format!("I-{n}"),
                digest,
                "2026-11-24T10:00:00Z",
            );
            String::from_utf8(record.sign(&agency).unwrap().bytes).unwrap()
        })
        .collect();
    for batch in records.chunks(1000) {
        gazette_tests::add_batch(&log, batch.iter().map(|r| r.clone().into_bytes()).collect())
            .await;
    }
    let record = Record::new(
        agency.name(),
        "e-invoice",
        "I-last",
        [1; 32],
        "2026-11-24T10:00:00Z",
    );
    let receipt = add_with_receipt(&log, record.sign(&agency).unwrap().bytes).await;
    let info = gazette_tests::get_json(&format!("{log}/info")).await;
    let agencies: Vec<&str> = info["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["vkey"].as_str().unwrap())
        .collect();

    let browser = Browser::start().await;
    browser.client.goto(&format!("{log}/")).await.unwrap();
    browser
        .client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(300)),
            None,
            None,
        ))
        .await
        .unwrap();
    let result = browser
        .client
        .execute_async(
            SCRIPT,
            vec![
                json!(info["policy"]),
                json!(agencies),
                json!(receipt),
                json!(receipts),
                json!(mb),
                json!({
                    "logged": format!("sha256:{}", "01".repeat(32)),
                    "absent": format!("sha256:{}", "ee".repeat(32)),
                }),
            ],
        )
        .await
        .expect("the script ran");
    browser.close().await;
    if let Some(error) = result.get("error") {
        panic!("in the browser: {error}");
    }
    let f = |k: &str| result[k].as_f64().unwrap_or(f64::NAN);
    let chromium = std::process::Command::new("/usr/bin/chromium")
        .arg("--version")
        .output();
    println!(
        "# the page's wasm in headless {} ({} records logged, 3 witnesses 2-of-3)",
        chromium
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default(),
        count + 1
    );
    println!(
        "receipt verification ({receipts} calls): p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        f("p50"),
        f("p90"),
        f("p99"),
        f("max")
    );
    let (wasm_s, subtle_s) = (f("wasmMs") / 1000.0, f("subtleMs") / 1000.0);
    println!(
        "hashing {mb} MB: DocumentHasher over 4 MiB Blob slices {:.2} s ({:.0} MB/s); WebCrypto digest in one call {:.2} s ({:.0} MB/s); ratio {:.2}; same digest: {}",
        wasm_s,
        mb as f64 / wasm_s,
        subtle_s,
        mb as f64 / subtle_s,
        subtle_s / wasm_s,
        result["same"]
    );
    for (name, p) in result["proven"].as_object().into_iter().flatten() {
        println!(
            "proven document, {name} ({} record(s); {} map proofs; answer {} bytes), provenDocument incl. JSON.parse ({receipts} calls): p50 {:.1} ms, p99 {:.1} ms",
            p["records"],
            p["segments"],
            p["bytes"],
            p["p50"].as_f64().unwrap_or(f64::NAN),
            p["p99"].as_f64().unwrap_or(f64::NAN)
        );
    }
}
