//! The page catches a log that hides a revocation from its index answers.
//! A proxy in front of a real log forwards everything, except that it
//! drops revocations from `/index/lookup` answers, as a log hiding a
//! revocation from a citizen would. Through the honest log the page says
//! "revoked"; through the liar the proofs no longer add up (the map proof
//! of the record's name commits to a list with the revocation in it), and
//! the page says the log is misbehaving instead of "verified".

use std::path::Path;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::{WitnessedLog, add_with_receipt_at};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const ORIGIN: &str = "liar.example/log";
const ISSUER: &str = "registry.example.gov";

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [43; 32]).unwrap()
}

/// Drops every revocation from an `/index/lookup` answer's entries.
fn hide_revocations(body: &[u8]) -> Vec<u8> {
    let mut answer: serde_json::Value = serde_json::from_slice(body).unwrap();
    if let Some(entries) = answer["entries"].as_array_mut() {
        entries.retain(|e| {
            !e["entry"]
                .as_str()
                .unwrap_or_default()
                .contains("\nkind revocation\n")
        });
    }
    answer.to_string().into_bytes()
}

/// A one-request-per-connection HTTP proxy on loopback in front of `log`,
/// lying in `/index/lookup` answers; returns its URL.
async fn lying_proxy(log: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = reqwest::Client::new();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (client, log) = (client.clone(), log.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let Some(path) = head.split_whitespace().nth(1) else {
                    return;
                };
                let Ok(reply) = client.get(format!("{log}{path}")).send().await else {
                    return;
                };
                let status = reply.status();
                let content_type = reply
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let mut body = reply.bytes().await.unwrap_or_default().to_vec();
                if path.starts_with("/index/lookup") && status.is_success() {
                    body = hide_revocations(&body);
                }
                let head = format!(
                    "HTTP/1.1 {} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or(""),
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    url
}

async fn check(browser: &Browser, url: &str, file: &Path) -> String {
    browser.open(&format!("{url}/")).await;
    browser.choose_file("#document-input", file).await;
    browser.verdict().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_catches_a_log_hiding_a_revocation_from_its_index_answers() {
    let setup = WitnessedLog::start(ORIGIN, &agency().verifier(), 0, 0);
    let log = setup.log.url.clone();
    let deed = b"Property registration: parcel 7-3, River District\n";
    let digest: [u8; 32] = Sha256::digest(deed).into();
    let issued = "2026-11-24T09:00:00Z";
    let sign = |r: Record| r.sign(&agency()).unwrap().bytes;
    add_with_receipt_at(
        &log,
        sign(Record::new(
            ISSUER,
            "property-registration",
            "D-9",
            digest,
            issued,
        )),
    )
    .await;
    add_with_receipt_at(
        &log,
        sign(Record::revocation(
            ISSUER,
            "R-9",
            digest,
            "2026-11-25T09:00:00Z",
            "property-registration",
            "D-9",
        )),
    )
    .await;
    let files = tempfile::tempdir().unwrap();
    let deed_file = files.path().join("deed.txt");
    std::fs::write(&deed_file, deed).unwrap();

    let browser = Browser::start().await;
    let verdict = check(&browser, &log, &deed_file).await;
    assert_eq!(verdict, "revoked", "{}", browser.text("#verdict").await);

    let liar = lying_proxy(log.clone()).await;
    let verdict = check(&browser, &liar, &deed_file).await;
    let reason = browser.text("#verdict-reason").await;
    assert_eq!(verdict, "invalid", "{reason}");
    assert!(reason.contains("misbehaving"), "{reason}");
    println!("{}", browser.screenshot("page-index-liar").await.display());
    browser.close().await;
}
