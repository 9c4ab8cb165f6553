//! Operations: `/metrics` in Prometheus text, request ids, per-agency rate
//! limits (429 with Retry-After for the agency over its quota while others
//! go on), and bounded memory under a flood from the real binary.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use gazette_client::record::Record;
use serde_json::json;

/// A record of the second agency.
fn other_body(n: u64) -> Vec<u8> {
    Record::new(
        unregistered_agency().name(),
        "e-invoice",
        &format!("INV-{n}"),
        digest(n),
        "2026-11-24T09:00:00Z",
    )
    .sign(&unregistered_agency())
    .unwrap()
    .bytes
}

/// A log where the first agency may send 10 records/s with bursts of 50,
/// and a second agency is registered with the default quota.
fn limited_log() -> (tempfile::TempDir, Arc<gazette_log::log::Log>) {
    let dir = new_log_dir();
    register(dir.path(), &unregistered_agency().verifier());
    let path = dir.path().join(gazette_log::config::CONFIG_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[rate_limits.agency.\"{AGENCY}\"]\nrecords_per_second = 10\nburst = 50\n"
    ));
    std::fs::write(&path, text).unwrap();
    let log = open(dir.path());
    (dir, log)
}

#[tokio::test]
async fn an_agency_over_its_quota_gets_429_with_retry_after_while_another_goes_on() {
    let (_dir, log) = limited_log();
    let app = api(&log);
    // More than the burst at once never fits.
    let reply = post(
        &app,
        "/add-batch",
        batch_body(&(0..60).map(body).collect::<Vec<_>>()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert!(
        results.iter().all(|r| r["status"] == json!(429)),
        "{results:?}"
    );
    assert!(results[0]["error"].as_str().unwrap().contains("burst 50"));
    assert!(!reply.header("retry-after").is_empty());
    assert_eq!(size(&app).await, 0, "refused records change nothing");

    // 40 fit; then 20 more do not, all or none; a single one still fits.
    assert_eq!(
        add_batch_ok(&app, &(0..40).map(body).collect::<Vec<_>>())
            .await
            .len(),
        40
    );
    let reply = post(
        &app,
        "/add-batch",
        batch_body(&(40..60).map(body).collect::<Vec<_>>()),
    )
    .await;
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert!(results.iter().all(|r| r["status"] == json!(429)));
    let wait: u64 = reply.header("retry-after").parse().unwrap();
    assert!((1..=3).contains(&wait), "Retry-After {wait}");
    assert_eq!(add_ok(&app, &body(40)).await, 40);

    // The other agency is not held back, also in a mixed request.
    let others: Vec<Vec<u8>> = (0..100).map(other_body).collect();
    assert_eq!(add_batch_ok(&app, &others).await.len(), 100);
    let mut mixed: Vec<Vec<u8>> = (41..61).map(body).collect();
    mixed.push(other_body(100));
    let reply = post(&app, "/add-batch", batch_body(&mixed)).await;
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert!(results[..20].iter().all(|r| r["status"] == json!(429)));
    assert_eq!(results[20]["index"], json!(141));
    assert!(!reply.header("retry-after").is_empty());

    // /add of the limited agency, once its bucket is empty.
    for n in 61..80 {
        let reply = add(&app, &body(n)).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(!reply.header("retry-after").is_empty());
            assert_eq!(reply.json()["status"], json!(429));
            return;
        }
    }
    panic!("the agency's bucket never ran dry");
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_requests_carry_an_id() {
    let (_dir, log) = limited_log();
    let app = api(&log);
    add_batch_ok(&app, &(0..5).map(body).collect::<Vec<_>>()).await;
    let _ = post(
        &app,
        "/add-batch",
        batch_body(&(5..100).map(body).collect::<Vec<_>>()),
    )
    .await;
    assert_eq!(get(&app, "/entry/99").await.status, StatusCode::NOT_FOUND);

    let reply = get(&app, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("content-type").starts_with("text/plain"));
    let text = String::from_utf8(reply.body.clone()).unwrap();
    for needle in [
        "gazette_http_requests_total{route=\"/add-batch\",status=\"200\"}",
        "gazette_http_requests_total{route=\"/entry/{index}\",status=\"404\"}",
        "gazette_http_request_seconds_bucket{route=\"/add-batch\",le=\"0.005\"}",
        "gazette_batch_records_bucket{le=\"10\"}",
        "gazette_commit_seconds_bucket{le=\"0.1\"}",
        "gazette_rate_limited_records_total{agency=\"land-registry.example.gov\"}",
        "gazette_tree_size 5",
        "gazette_queue_depth 0",
        "gazette_lookup_index_covered_size",
    ] {
        assert!(text.contains(needle), "no {needle:?} in\n{text}");
    }

    let reply = get(&app, "/checkpoint").await;
    assert_eq!(reply.header("x-request-id").len(), 36, "a UUID");
    let request = Request::get("/checkpoint")
        .header("x-request-id", "agency-trace-42")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&app, request).await.header("x-request-id"),
        "agency-trace-42"
    );
}

#[allow(dead_code)] // this file starts servers but runs no other command
#[path = "support/process.rs"]
mod process;

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_agency_is_refused_in_bounded_memory_while_another_gets_through() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log");
    init_log(&data);
    register(&data, &unregistered_agency().verifier());
    let path = data.join(gazette_log::config::CONFIG_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[rate_limits.agency.\"{AGENCY}\"]\nrecords_per_second = 1000\nburst = 2000\n"
    ));
    std::fs::write(&path, text).unwrap();
    let (child, url) = process::start(&data, "warn");
    let pid = child.id();
    let _server = process::Server(child);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // 32 flooders, each sending 2 000-record batches (about 1.3 MB) for 3 s.
    let batch: Arc<Vec<u8>> = Arc::new(batch_body(&(0..2000).map(body).collect::<Vec<_>>()));
    let stop = Instant::now() + Duration::from_secs(3);
    let flooders: Vec<_> = (0..32)
        .map(|_| {
            let (client, url, batch) = (client.clone(), url.clone(), batch.clone());
            tokio::spawn(async move {
                let (mut ok, mut limited) = (0u64, 0u64);
                while Instant::now() < stop {
                    let reply = client
                        .post(format!("{url}/add-batch"))
                        .header("content-type", "application/json")
                        .body(batch.as_ref().clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(reply.status(), 200);
                    let v: serde_json::Value = reply.json().await.unwrap();
                    for r in v["results"].as_array().unwrap() {
                        match r["status"].as_u64() {
                            Some(429) => limited += 1,
                            _ => ok += 1,
                        }
                    }
                }
                (ok, limited)
            })
        })
        .collect();
    // Meanwhile the other agency adds one record every 50 ms.
    let mut n = 0;
    while Instant::now() < stop {
        let reply = client
            .post(format!("{url}/add"))
            .body(other_body(n))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());
        n += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (mut ok, mut limited) = (0, 0);
    for f in flooders {
        let (o, l) = f.await.unwrap();
        ok += o;
        limited += l;
    }
    assert!(n >= 20, "the other agency got {n} records through");
    assert!(
        limited > 0 && ok <= 2000 + 4000,
        "flood: {ok} accepted, {limited} refused"
    );
    let peak = peak_rss_kib(pid);
    eprintln!(
        "flood: {ok} accepted, {limited} refused; other agency {n} accepted; peak RSS {peak} KiB"
    );
    assert!(peak < 400 * 1024, "peak RSS {peak} KiB under the flood");
}
