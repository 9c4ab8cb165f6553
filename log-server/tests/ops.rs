//! Operations: `/metrics` in Prometheus text, request ids, per-agency rate
//! limits (429 with Retry-After for the agency over its quota while others
//! go on), and bounded memory under a flood from the real binary.
//!
//! The in-process logs' rate limits run on a manual clock and the flood's
//! quota never refills within a test, so every outcome here follows from
//! counts alone, however busy the machine is.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use gazette_client::record::Record;
use gazette_log::log::Log;
use gazette_log::rate::{AgencyLimits, ManualClock, RateClock};
use gazette_tests::process::Server;
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
/// and a second agency is registered with the default quota; its buckets
/// run on `clock`.
fn limited_log(clock: &ManualClock) -> (tempfile::TempDir, Arc<Log>) {
    let dir = new_log_dir();
    register(dir.path(), &unregistered_agency().verifier());
    let path = dir.path().join(gazette_log::config::CONFIG_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[rate_limits.agency.\"{AGENCY}\"]\nrecords_per_second = 10\nburst = 50\n"
    ));
    std::fs::write(&path, text).unwrap();
    let mut log = Log::open(dir.path()).expect("open the log");
    // Buckets are made on an agency's first request, so nothing has used
    // the real clock's limits yet.
    log.limits = AgencyLimits::with_clock(
        log.config.rate_limits.clone(),
        RateClock::Manual(clock.clone()),
    );
    (dir, Arc::new(log))
}

/// The layout of the log behind `app` before its first record: it opens
/// with the registrations of the keys of its agencies file, both agencies'
/// here, in one batch (a migration is all durable or none) ended by its
/// commitment.
async fn opening_layout(app: &axum::Router) -> Layout {
    let layout = Layout {
        records: Vec::new(),
        commitments: vec![FIRST],
    };
    assert_eq!(
        size(app).await,
        layout.size(),
        "two registrations, then their commitment"
    );
    layout
}

/// The statuses of an `/add-batch` answer's results.
fn statuses(reply: &Reply) -> Vec<u64> {
    reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap_or(200))
        .collect()
}

#[tokio::test]
async fn an_agency_over_its_quota_gets_429_with_retry_after_while_another_goes_on() {
    let clock = ManualClock::default();
    let (_dir, log) = limited_log(&clock);
    let app = api(&log);
    let mut layout = opening_layout(&app).await;
    // More than the burst at once never fits; a full bucket takes 5 s.
    let reply = post(
        &app,
        "/add-batch",
        batch_body(&(0..60).map(body).collect::<Vec<_>>()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(statuses(&reply), vec![429; 60]);
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert!(results[0]["error"].as_str().unwrap().contains("burst 50"));
    assert_eq!(reply.header("retry-after"), "5");
    assert_eq!(
        size(&app).await,
        layout.size(),
        "refused records change nothing"
    );

    // 40 fit; then 20 more do not, all or none (10 are missing: 1 s); a
    // single one still fits. Every batch of new records ends with the
    // index's commitment, which counts against no quota.
    assert_eq!(
        add_batch_ok(&app, &(0..40).map(body).collect::<Vec<_>>())
            .await
            .len(),
        40
    );
    layout.batch(40);
    let reply = post(
        &app,
        "/add-batch",
        batch_body(&(40..60).map(body).collect::<Vec<_>>()),
    )
    .await;
    assert_eq!(statuses(&reply), vec![429; 20]);
    assert_eq!(reply.header("retry-after"), "1");
    layout.batch(1);
    assert_eq!(add_ok(&app, &body(40)).await, layout.records[40]);

    // The other agency is not held back, also in a mixed request.
    let others: Vec<Vec<u8>> = (0..100).map(other_body).collect();
    layout.batch(100);
    assert_eq!(
        indexes_of(&add_batch_ok(&app, &others).await),
        layout.records[41..]
    );
    let mut mixed: Vec<Vec<u8>> = (41..61).map(body).collect();
    mixed.push(other_body(100));
    let reply = post(&app, "/add-batch", batch_body(&mixed)).await;
    let results = reply.json()["results"].as_array().unwrap().clone();
    assert!(results[..20].iter().all(|r| r["status"] == json!(429)));
    layout.batch(1);
    assert_eq!(results[20]["index"], json!(layout.records[141]));
    // 9 left, 20 wanted: 11 more take 1.1 s, rounded up.
    assert_eq!(reply.header("retry-after"), "2");

    // /add of the limited agency: the 9 records left in its bucket fit,
    // the 10th does not.
    for n in 61..70 {
        assert_eq!(add(&app, &body(n)).await.status, StatusCode::OK, "{n}");
        layout.batch(1);
    }
    let reply = add(&app, &body(70)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.json()["status"], json!(429));
    assert_eq!(reply.header("retry-after"), "1");

    // One second later exactly records_per_second more fit.
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        add_batch_ok(&app, &(70..80).map(body).collect::<Vec<_>>())
            .await
            .len(),
        10
    );
    layout.batch(10);
    let reply = add(&app, &body(80)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // After the opening entries, 161 records in 14 batches, each ended by
    // its commitment.
    assert_eq!(layout.records.len(), 161);
    assert_eq!(size(&app).await, FIRST + 1 + 161 + 14);
    assert_eq!(size(&app).await, layout.size());
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_requests_carry_an_id() {
    let (_dir, log) = limited_log(&ManualClock::default());
    let app = api(&log);
    let mut layout = opening_layout(&app).await;
    add_batch_ok(&app, &(0..5).map(body).collect::<Vec<_>>()).await;
    // The tree holds the opening entries, the five records and their
    // batch's commitment.
    layout.batch(5);
    let tree_size = format!("gazette_tree_size {}", layout.size());
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
        &tree_size,
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

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Batches each flooder sends at the least (it goes on until the other
/// agency is done, so the flood lasts through all of its requests).
const FLOOD_BATCHES: usize = 3;
/// Records of the flooding agency per batch: its whole burst.
const FLOOD_BATCH: u64 = 2000;
/// Batches' worth of records the flooding agency may send at once (its
/// burst): as many new records reach the log, so the flood also exercises
/// the append path, not only refusals.
const FLOOD_BURST_BATCHES: u64 = 10;
/// Records the other agency sends during the flood, one `/add` at a time.
const OTHER_RECORDS: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_agency_is_refused_in_bounded_memory_while_another_gets_through() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log");
    init_log(&data);
    register(&data, &unregistered_agency().verifier());
    // The first ten batches take the whole burst; refilling a batch's worth
    // would take over half an hour, far longer than any run of this test,
    // so exactly ten batches are accepted however slow the machine is.
    let path = data.join(gazette_log::config::CONFIG_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[rate_limits.agency.\"{AGENCY}\"]\nrecords_per_second = 1\nburst = {}\n",
        FLOOD_BURST_BATCHES * FLOOD_BATCH
    ));
    std::fs::write(&path, text).unwrap();
    let server = Server::start(
        Path::new(env!("CARGO_BIN_EXE_gazette-log")),
        &data,
        "127.0.0.1:0",
    );
    let (url, pid) = (server.url.clone(), server.pid());
    // A bound against hanging only: a busy machine may take long.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();

    // 32 flooders, each sending its own 2 000-record batch (about 1.3 MB),
    // so each accepted one is appended, not answered as a duplicate.
    let batches: Vec<Arc<Vec<u8>>> = (0..32u64)
        .map(|f| {
            let records = (f * FLOOD_BATCH..(f + 1) * FLOOD_BATCH).map(body);
            Arc::new(batch_body(&records.collect::<Vec<_>>()))
        })
        .collect();
    let other_done = Arc::new(AtomicBool::new(false));
    let flood_answered = Arc::new(tokio::sync::Notify::new());
    let flooders: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let (client, url) = (client.clone(), url.clone());
            let (other_done, flood_answered) = (other_done.clone(), flood_answered.clone());
            tokio::spawn(async move {
                let (mut sent, mut ok, mut limited) = (0, 0u64, 0u64);
                while sent < FLOOD_BATCHES || !other_done.load(Ordering::SeqCst) {
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
                    sent += 1;
                    flood_answered.notify_one();
                }
                (sent as u64, ok, limited)
            })
        })
        .collect();
    // Once the flood is under way, the other agency's records all get in.
    flood_answered.notified().await;
    for n in 0..OTHER_RECORDS {
        let reply = client
            .post(format!("{url}/add"))
            .body(other_body(n))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{}", reply.text().await.unwrap());
    }
    other_done.store(true, Ordering::SeqCst);
    let (mut sent, mut ok, mut limited) = (0, 0, 0);
    for f in flooders {
        let (s, o, l) = f.await.unwrap();
        sent += s;
        ok += o;
        limited += l;
    }
    let peak = peak_rss_kib(pid);
    eprintln!(
        "flood: {sent} batches, {ok} records accepted, {limited} refused; \
         other agency {OTHER_RECORDS} accepted; peak RSS {peak} KiB"
    );
    assert_eq!(
        ok,
        FLOOD_BURST_BATCHES * FLOOD_BATCH,
        "the flood got exactly its burst through"
    );
    assert_eq!(limited, sent * FLOOD_BATCH - ok);
    assert!(peak < 400 * 1024, "peak RSS {peak} KiB under the flood");
}
