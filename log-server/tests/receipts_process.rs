//! Receipts and lookups from the real `gazette-log` binary verify offline
//! with `gazette-client`, before and after a restart and after
//! `gazette-log reindex` rebuilt both indexes from the tiles.

use std::path::Path;
use std::time::Duration;

use gazette_client::merkle::leaf_hash;
use gazette_client::note::{KeyType, Signer};
use gazette_client::policy::Policy;
use gazette_client::record::{Record, SignedRecord};
use gazette_client::tlog_proof::TlogProof;

use gazette_tests::process::{self, Server};

/// The binary under test, built by cargo for this package's tests.
fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

/// Runs a `gazette-log` command that must succeed; returns its stdout.
fn run(args: &[&str]) -> String {
    process::run(gazette_log(), args)
}

const COUNT: u64 = 300;

fn agency() -> Signer {
    Signer::from_seed("registry.example.gov", KeyType::Ed25519, [5; 32]).unwrap()
}

fn record(n: u64) -> Vec<u8> {
    let mut digest = [0x11; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    Record::new(
        agency().name(),
        "e-certificate",
        &format!("C-{n}"),
        digest,
        "2026-11-24T00:00:00Z",
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

/// Fetches every record's receipt (record `n` at `indexes[n]`) and checks
/// it offline, and looks records up.
async fn check_all(client: &reqwest::Client, url: &str, policy: &Policy, indexes: &[u64]) {
    for n in 0..COUNT {
        let index = indexes[n as usize];
        let reply = client
            .get(format!("{url}/receipt/{index}"))
            .send()
            .await
            .unwrap();
        assert!(
            reply.status().is_success(),
            "receipt {n}: {}",
            reply.status()
        );
        let receipt = TlogProof::parse(&reply.bytes().await.unwrap()).unwrap();
        assert_eq!(receipt.index, index);
        let record = receipt.extra.clone().unwrap();
        assert_eq!(record, self::record(n));
        let signed = SignedRecord::verify(&record, &[agency().verifier()]).unwrap();
        receipt.verify(&signed.leaf_hash(), policy).unwrap();
    }
    // The lookup index may trail the tree by a few batches: wait, bounded.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for n in [0, COUNT / 2, COUNT - 1] {
        let leaf = leaf_hash(&record(n)).to_base64();
        let escaped = leaf
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        loop {
            let found: serde_json::Value = client
                .get(format!("{url}/lookup?leaf_hash={escaped}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if found["matches"][0]["index"] == serde_json::json!(indexes[n as usize]) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "lookup of {n}: {found}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn receipts_verify_offline_after_a_restart_and_after_reindex() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log");
    let d = data.to_str().unwrap();
    run(&[
        "init",
        "--origin",
        "receipts.example/log",
        "--dir",
        d,
        "--listen",
        "127.0.0.1:0",
    ]);
    run(&[
        "agency",
        "add",
        &agency().verifier().to_string(),
        "--dir",
        d,
    ]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    let server = Server::start(gazette_log(), &data, "127.0.0.1:0");
    let url = server.url.clone();
    // Where the log put each record: after its opening entries (the
    // agency's registration, logged from the agencies file at the first
    // start, and the commitment ending that batch), every batch of new
    // records ends with the verifiable index's commitment, so a batch
    // starts one entry after the last one's records.
    let mut indexes = Vec::new();
    let mut size = gazette_tests::checkpoint_size(&url).await;
    assert_eq!(size, 2, "the registration and its commitment");
    for chunk in (0..COUNT).collect::<Vec<_>>().chunks(70) {
        let records: Vec<String> = chunk
            .iter()
            .map(|&n| String::from_utf8(record(n)).unwrap())
            .collect();
        let reply = client
            .post(format!("{url}/add-batch"))
            .json(&serde_json::json!({ "records": records }))
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success());
        let answer: serde_json::Value = reply.json().await.unwrap();
        let chunk_indexes: Vec<u64> = answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect();
        let len = chunk.len() as u64;
        assert_eq!(chunk_indexes, (size..size + len).collect::<Vec<_>>());
        indexes.extend(chunk_indexes);
        size += len + 1;
    }
    let info: serde_json::Value = client
        .get(format!("{url}/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["size"], serde_json::json!(size));
    let policy = Policy::parse(info["policy"].as_str().unwrap().as_bytes()).unwrap();
    check_all(&client, &url, &policy, &indexes).await;

    // Beside the running log, reindex refuses and changes nothing.
    let err = run_failing(&["reindex", "--dir", d]);
    assert!(err.contains("in use by another process"), "{err}");
    check_all(&client, &url, &policy, &indexes).await;
    drop(server);

    // After a SIGKILL and a restart.
    let server = Server::start(gazette_log(), &data, "127.0.0.1:0");
    let url = server.url.clone();
    check_all(&client, &url, &policy, &indexes).await;
    drop(server);

    // After reindex: both indexes rebuilt from nothing, even a damaged one.
    std::fs::write(data.join("lookup/version"), b"damaged").unwrap();
    let out = run(&["reindex", "--dir", d]);
    // Every entry: the opening ones, the records and their batches'
    // commitments.
    assert!(out.contains(&format!("reindexed {size} entries")), "{out}");
    let server = Server::start(gazette_log(), &data, "127.0.0.1:0");
    let url = server.url.clone();
    check_all(&client, &url, &policy, &indexes).await;
    drop(server);
}

/// Runs a `gazette-log` command that must fail; returns its stderr.
fn run_failing(args: &[&str]) -> String {
    let (code, _, err) = process::run_status(gazette_log(), args);
    assert!(code != 0, "gazette-log {args:?} succeeded");
    err
}
