//! The HTTP API through `api::router` with `tower::ServiceExt::oneshot`:
//! every status of the write path, the read path's headers and 4xx, that
//! what the API serves verifies with the client's proof code, and that a
//! restart keeps the tree and recognises duplicates.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use gazette_client::merkle::{self, Hash, leaf_hash};
use gazette_client::note;
use gazette_client::registry::Action;
use gazette_client::tiles::{
    HEIGHT, Tile, TileHashReader, TileLevel, check_bundle_against_tile, parse_entry_bundle,
};
use gazette_log::api::ADD_BODY_LIMIT;
use gazette_log::config::Config;
use gazette_log::log::Log;
use gazette_log::storage::{FsStorage, Storage};
use serde_json::json;

// ---------------------------------------------------------------- POST /add

#[tokio::test]
async fn add_answers_index_and_base64_leaf_hash_of_the_exact_body() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let record = body(1);
    let reply = add(&app, &record).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("content-type").starts_with("application/json"));
    let json = reply.json();
    // The first record comes after the log's opening entries.
    assert_eq!(json["index"], json!(FIRST));
    assert_eq!(json["leaf_hash"], json!(base64(&leaf_hash(&record).0)));
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
    // Acknowledged means published: the checkpoint already covers it, and
    // the commitment that ends its batch.
    assert_eq!(size(&app).await, FIRST + 2);
    let entries = served_entries(&app, FIRST + 2).await;
    assert_eq!(entries[FIRST as usize], record);
    check_commitment(&entries, FIRST + 1);
}

#[tokio::test]
async fn add_of_the_same_record_again_answers_the_same_index() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    add_ok(&app, &body(0)).await;
    let first = add(&app, &body(1)).await.json();
    let layout = Layout::opened(&[1, 1]);
    assert_eq!(size(&app).await, layout.size());
    let again = add(&app, &body(1)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), first);
    assert_eq!(first["index"], json!(layout.records[1]));
    assert_eq!(
        size(&app).await,
        layout.size(),
        "a retry must not log the record twice (nor a commitment)"
    );
}

#[tokio::test]
async fn add_of_the_same_document_re_signed_answers_the_existing_index() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let original = body(7);
    let first = add(&app, &original).await.json();
    // Same issuer, kind, id and digest; another issue time, so other bytes.
    let mut again = record(7);
    again.issued = "2026-11-25T10:00:00Z".to_owned();
    let again = again.sign(&agency()).unwrap().bytes;
    assert_ne!(again, original);
    let reply = add(&app, &again).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        first,
        "the index and leaf of the logged record"
    );
    assert_eq!(size(&app).await, Layout::opened(&[1]).size());
}

#[tokio::test]
async fn add_gives_consecutive_records_consecutive_indexes() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    // Each /add is a batch of its own: its record takes the next index,
    // right after the commitment that ended the batch before.
    let mut layout = Layout::opened(&[]);
    for n in 0..6 {
        layout.batch(1);
        assert_eq!(
            add_ok(&app, &body(100 + n)).await,
            layout.records[n as usize]
        );
    }
    // Within a batch, consecutive records get consecutive indexes.
    let records: Vec<Vec<u8>> = (106..112).map(body).collect();
    let first = layout.size();
    layout.batch(6);
    assert_eq!(
        indexes_of(&add_batch_ok(&app, &records).await),
        (first..first + 6).collect::<Vec<_>>()
    );
    assert_eq!(size(&app).await, layout.size());
    assert_eq!(layout.size(), FIRST + 2 * 6 + 7);
}

#[tokio::test]
async fn add_of_a_malformed_record_is_400_and_changes_nothing() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    add_ok(&app, &body(0)).await;
    let (before, _) = checkpoint(&app).await;

    let good = String::from_utf8(body(1)).unwrap();
    let text = record(1).to_text().unwrap();
    let two_signatures = note::sign(&text, &[&agency(), &impostor()]).unwrap();
    let not_a_record = note::sign("hello\n", &[&agency()]).unwrap();
    let bad_digest = good.replace("digest sha256:", "digest sha1:");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", Vec::new()),
        ("garbage", b"this is not a record".to_vec()),
        ("no signature", text.clone().into_bytes()),
        ("two signatures", two_signatures.into_bytes()),
        ("a note that is not a record", not_a_record.into_bytes()),
        ("a malformed digest line", bad_digest.into_bytes()),
        ("not UTF-8", vec![0xff, 0xfe, b'\n', b'\n']),
    ];
    for (what, case) in cases {
        let reply = add(&app, &case).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(reply.json()["status"], json!(400), "{what}");
        assert!(reply.json()["error"].is_string(), "{what}");
    }
    let (after, _) = checkpoint(&app).await;
    assert_eq!(after, before, "a rejected record must change nothing");
    assert_eq!(
        add_ok(&app, &body(1)).await,
        Layout::opened(&[1, 1]).records[1],
        "the next index is unused"
    );
}

#[tokio::test]
async fn add_signed_by_an_unregistered_key_is_403() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let unknown = record(1).sign(&impostor()).unwrap().bytes;
    let mut other = record(2);
    other.issuer = unregistered_agency().name().to_owned();
    let other = other.sign(&unregistered_agency()).unwrap().bytes;
    for (what, case) in [
        ("agency's name, unregistered key", unknown),
        ("unregistered agency", other),
    ] {
        let reply = add(&app, &case).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}");
        assert_eq!(reply.json()["status"], json!(403), "{what}");
    }
    assert_eq!(size(&app).await, FIRST);
}

#[tokio::test]
async fn add_with_a_tampered_signature_or_text_is_403() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let good = String::from_utf8(body(1)).unwrap();

    // Flip one base64 digit of the signature bytes, past the key ID.
    let (text, sig_line) = good.trim_end().rsplit_once('\n').unwrap();
    let (prefix, sig) = sig_line.rsplit_once(' ').unwrap();
    let mut sig: Vec<u8> = sig.bytes().collect();
    sig[40] = if sig[40] == b'A' { b'B' } else { b'A' };
    let bad_signature = format!("{text}\n{prefix} {}\n", String::from_utf8(sig).unwrap());

    // Change the record text under a valid signature of another text.
    let bad_text = good.replace("PR-2026-000001", "PR-2026-000999");
    assert_ne!(bad_text, good);

    // A record of the agency signed by another key under another name.
    let wrong_signer =
        note::sign(&record(1).to_text().unwrap(), &[&unregistered_agency()]).unwrap();

    for (what, case) in [
        ("tampered signature", bad_signature),
        ("tampered text", bad_text),
        ("signed by a key not named as the issuer", wrong_signer),
    ] {
        let reply = add(&app, case.as_bytes()).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{what}: {:?}",
            reply.json()
        );
    }
    assert_eq!(size(&app).await, FIRST);
}

#[tokio::test]
async fn add_of_the_same_issuer_kind_id_with_another_digest_is_409_naming_the_existing_index() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    add_ok(&app, &body(0)).await;
    let existing = add_ok(&app, &body(5)).await;
    let mut conflicting = record(5);
    conflicting.digest = digest(6);
    let reply = add(&app, &conflicting.sign(&agency()).unwrap().bytes).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let json = reply.json();
    assert_eq!(json["index"], json!(existing));
    assert_eq!(json["status"], json!(409));
    assert_eq!(size(&app).await, Layout::opened(&[1, 1]).size());
}

#[tokio::test]
async fn add_of_a_body_over_the_limit_is_413() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let reply = add(&app, &vec![b'a'; ADD_BODY_LIMIT + 1]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["status"], json!(413));

    // Under the body limit but over the largest record: a validly signed
    // record with many long fields.
    let mut big = record(1);
    big.fields = (0..24)
        .map(|i| (format!("note{i}"), "x".repeat(1000)))
        .collect();
    let big = note::sign(&big.to_text().unwrap(), &[&agency()]).unwrap();
    assert!(big.len() > gazette_client::record::MAX_RECORD_SIZE && big.len() < ADD_BODY_LIMIT);
    let reply = add(&app, big.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["status"], json!(413));
    assert_eq!(size(&app).await, FIRST);
}

/// Holds every commit of a storage until opened (or for at most the test
/// deadline), so the sequencer's queue can be filled deterministically.
struct Gate {
    closed: Mutex<bool>,
    opened: Condvar,
    entered: AtomicBool,
}

impl Gate {
    fn wait(&self) {
        let start = Instant::now();
        let mut closed = self.closed.lock().unwrap();
        while *closed {
            self.entered.store(true, Ordering::SeqCst);
            let left = DEADLINE.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            closed = self.opened.wait_timeout(closed, left).unwrap().0;
        }
    }

    fn set(&self, closed: bool) {
        *self.closed.lock().unwrap() = closed;
        self.opened.notify_all();
    }
}

/// A store whose every write first waits at a gate: a decorating
/// [`Storage`] over the filesystem store.
struct GatedStorage {
    inner: FsStorage,
    gate: Arc<Gate>,
}

impl Storage for GatedStorage {
    fn read(&self, path: &str) -> std::io::Result<Option<Vec<u8>>> {
        self.inner.read(path)
    }

    fn commit(&self, objects: &[(String, Vec<u8>)], checkpoint: &[u8]) -> std::io::Result<()> {
        self.gate.wait();
        self.inner.commit(objects, checkpoint)
    }

    fn remove_temporaries(&self, dir: &str) -> std::io::Result<usize> {
        self.inner.remove_temporaries(dir)
    }

    fn remove(&self, path: &str) -> std::io::Result<()> {
        self.inner.remove(path)
    }

    fn remove_partial_tiles(&self, full: &str) -> std::io::Result<usize> {
        self.inner.remove_partial_tiles(full)
    }

    fn partial_widths(&self, full: &str) -> std::io::Result<Vec<u32>> {
        self.inner.partial_widths(full)
    }

    fn superseded_partial_tiles(&self) -> std::io::Result<Vec<String>> {
        self.inner.superseded_partial_tiles()
    }

    fn read_witnessed_checkpoint(&self) -> std::io::Result<Option<Vec<u8>>> {
        self.inner.read_witnessed_checkpoint()
    }

    fn write_witnessed_checkpoint(&self, note: &[u8]) -> std::io::Result<()> {
        self.gate.wait();
        self.inner.write_witnessed_checkpoint(note)
    }
}

/// A log whose every storage write first waits at a gate (open at first).
fn gated_log(dir: &std::path::Path) -> (Arc<Log>, Arc<Gate>) {
    let gate = Arc::new(Gate {
        closed: Mutex::new(false),
        opened: Condvar::new(),
        entered: AtomicBool::new(false),
    });
    let storage = GatedStorage {
        inner: FsStorage::open(dir).unwrap(),
        gate: gate.clone(),
    };
    let config = Config::load(dir).unwrap();
    let log = Arc::new(Log::open_with(dir, config, Arc::new(storage)).unwrap());
    (log, gate)
}

/// Opens the gate even when the test fails, so the writer never hangs.
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_when_the_queue_is_full_is_503_with_retry_after() {
    let dir = new_log_dir();
    set_config(dir.path(), "max_batch_records", "5");
    set_config(dir.path(), "queue_capacity", "5");
    let (log, gate) = gated_log(dir.path());
    let app = api(&log);
    let _release = OpenOnDrop(gate.clone());

    // Five records take the whole queue and stay in it: their commit waits
    // at the gate.
    gate.set(true);
    let first: Vec<Vec<u8>> = (0..5).map(body).collect();
    let pending = {
        let app = app.clone();
        tokio::spawn(async move { post(&app, "/add-batch", batch_body(&first)).await })
    };
    let start = Instant::now();
    while log.sequencer.queue_depth() < 5 || !gate.entered.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < DEADLINE,
            "the batch never reached the commit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }

    let reply = add(&app, &body(10)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.json()["status"], json!(503));
    let retry: u64 = reply
        .header("retry-after")
        .parse()
        .expect("Retry-After seconds");
    assert!(retry >= 1);
    let reply = post(&app, "/add-batch", batch_body(&[body(11)])).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!reply.header("retry-after").is_empty());

    // Once the commit goes through, the queue drains and writes succeed.
    gate.set(false);
    let reply = pending.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    let indexes: Vec<u64> = reply.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    let mut layout = Layout::opened(&[5]);
    assert_eq!(indexes, layout.records);
    layout.batch(1);
    assert_eq!(
        add_ok(&app, &body(10)).await,
        layout.records[5],
        "the refused record was not logged"
    );
}

/// Signed record `n` with long fields: about 14 KiB.
fn long_record(n: u64) -> Vec<u8> {
    let mut long = record(n);
    long.fields = (0..14)
        .map(|i| (format!("note{i}"), "x".repeat(1000)))
        .collect();
    note::sign(&long.to_text().unwrap(), &[&agency()])
        .unwrap()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_beyond_the_queues_budget_of_record_text_is_503() {
    let dir = new_log_dir();
    set_config(dir.path(), "max_batch_records", "64");
    set_config(dir.path(), "queue_budget_mib", "1");
    let (log, gate) = gated_log(dir.path());
    let app = api(&log);
    let _release = OpenOnDrop(gate.clone());

    // As many long records as the budget of 1 024 KiB holds, counted in KiB
    // begun, wait at the gate: far fewer than the queue's 200 000 records.
    let kib = long_record(0).len().div_ceil(1024);
    let fits = 1024 / kib;
    assert!((1024 - fits * kib) < kib, "{kib} KiB each");
    gate.set(true);
    // In two requests: a batch of 64 is the most the budget allows.
    let first: Vec<Vec<u8>> = (0..fits as u64).map(long_record).collect();
    let halves: Vec<_> = first
        .chunks(fits.div_ceil(2))
        .map(|half| {
            let (app, body) = (app.clone(), batch_body(half));
            tokio::spawn(async move { post(&app, "/add-batch", body).await })
        })
        .collect();
    let start = Instant::now();
    while log.sequencer.queue_depth() < fits || !gate.entered.load(Ordering::SeqCst) {
        for half in &halves {
            assert!(!half.is_finished(), "a half was answered before the commit");
        }
        assert!(
            start.elapsed() < DEADLINE,
            "the batch never reached the commit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }

    // One more long record does not fit.
    let next = long_record(fits as u64);
    let reply = add(&app, &next).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json()
    );
    assert!(!reply.header("retry-after").is_empty());
    assert_eq!(
        log.sequencer.queue_depth(),
        fits,
        "nothing of it was queued"
    );

    // Once the commit goes through, the budget is free again.
    gate.set(false);
    for half in halves {
        let reply = half.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    }
    let reply = add(&app, &next).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
}

#[tokio::test]
async fn an_acknowledged_submission_no_longer_holds_queue_capacity() {
    let dir = new_log_dir();
    set_config(dir.path(), "max_batch_records", "1");
    set_config(dir.path(), "queue_capacity", "1");
    set_config(dir.path(), "batch_interval_ms", "1");
    let log = open(dir.path());
    // One writer, one record at a time, each sent only once the previous
    // one is acknowledged: the queue of one is always free again.
    for n in 0..200 {
        let outcome = log.sequencer.submit(vec![signed(n)]).await;
        assert!(
            outcome.is_ok(),
            "submission {n}, sent after {n} acknowledgements: {outcome:?}"
        );
    }
}

// ---------------------------------------------------------- POST /add-batch

#[tokio::test]
async fn add_batch_answers_each_record_in_order() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    // After the opening entries, two batches of one record, each ended by
    // its commitment (at FIRST + 1, FIRST + 3); then the batch below, with
    // two new records (FIRST + 4, FIRST + 5; commitment at FIRST + 6).
    let layout = Layout::opened(&[1, 1, 2]);
    assert_eq!(layout.records, [0, 2, 4, 5].map(|i| FIRST + i));
    let logged = body(0);
    assert_eq!(add_ok(&app, &logged).await, layout.records[0]);
    // (agency, kind, PR-2026-000001)
    assert_eq!(add_ok(&app, &body(1)).await, layout.records[1]);

    let mut conflicting = record(1);
    conflicting.digest = digest(99);
    let conflicting = conflicting.sign(&agency()).unwrap().bytes;
    let forbidden = record(3).sign(&impostor()).unwrap().bytes;
    let mut in_batch_conflict = record(4);
    in_batch_conflict.digest = digest(98);
    let in_batch_conflict = in_batch_conflict.sign(&agency()).unwrap().bytes;
    let records = vec![
        body(2),                  // new: FIRST + 4
        logged.clone(),           // duplicate of FIRST
        b"not a record".to_vec(), // 400
        forbidden,                // 403
        conflicting,              // 409 against FIRST + 2
        body(4),                  // new: FIRST + 5
        body(2),                  // duplicate within the batch: FIRST + 4
        in_batch_conflict,        // 409 against FIRST + 5, within the batch
    ];
    let results = add_batch_ok(&app, &records).await;
    assert_eq!(results.len(), records.len());
    let ok = |i: usize, index: u64| {
        assert_eq!(
            results[i],
            json!({ "index": index, "leaf_hash": base64(&leaf_hash(&records[i]).0) }),
            "result {i}"
        );
    };
    ok(0, layout.records[2]);
    ok(1, layout.records[0]);
    assert_eq!(results[2]["status"], json!(400), "{}", results[2]);
    assert!(results[2]["error"].is_string());
    assert_eq!(results[3]["status"], json!(403), "{}", results[3]);
    assert_eq!(results[4]["status"], json!(409), "{}", results[4]);
    assert_eq!(results[4]["index"], json!(layout.records[1]));
    ok(5, layout.records[3]);
    ok(6, layout.records[2]);
    assert_eq!(results[7]["status"], json!(409), "{}", results[7]);
    assert_eq!(results[7]["index"], json!(layout.records[3]));
    assert_eq!(size(&app).await, layout.size());
    // The entries are the opening ones, then the new records in order,
    // each batch ended by its commitment.
    let entries = served_entries(&app, layout.size()).await;
    let expected = expected_entries(
        &[
            std::slice::from_ref(&logged),
            &[body(1)],
            &[body(2), body(4)],
        ],
        &entries,
    );
    assert!(entries == expected);
}

#[tokio::test]
async fn add_batch_over_max_batch_records_is_413_and_changes_nothing() {
    let dir = new_log_dir();
    set_config(dir.path(), "max_batch_records", "3");
    let log = open(dir.path());
    let app = api(&log);
    let four: Vec<Vec<u8>> = (0..4).map(body).collect();
    let reply = post(&app, "/add-batch", batch_body(&four)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["status"], json!(413));
    assert_eq!(size(&app).await, FIRST);
    let results = add_batch_ok(&app, &four[..3]).await;
    assert_eq!(results.len(), 3);
    assert_eq!(size(&app).await, Layout::opened(&[3]).size());
}

#[tokio::test]
async fn add_batch_takes_bodies_beyond_the_single_add_limit() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..300).map(body).collect();
    let request = batch_body(&records);
    assert!(request.len() > ADD_BODY_LIMIT);
    let results = add_batch_ok(&app, &records).await;
    let indexes: Vec<u64> = results
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (FIRST..FIRST + 300).collect::<Vec<u64>>());
}

/// Every error answer has the one JSON shape, those the framework makes
/// included; an add-batch body must say it is JSON.
#[tokio::test]
async fn every_error_is_json_and_add_batch_must_be_typed_json() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let untyped = Request::builder()
        .method(Method::POST)
        .uri("/add-batch")
        .body(Body::from(batch_body(&[body(1)])))
        .unwrap();
    let reply = send(&app, untyped).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    assert_eq!(size(&app).await, FIRST);

    let wrong_method = Request::builder()
        .method(Method::GET)
        .uri("/add")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, wrong_method).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["status"], json!(405));
    assert!(
        reply.header("allow").contains("POST"),
        "{:?}",
        reply.headers
    );

    let nowhere = get(&app, "/no/such/route").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.json()["status"], json!(404));

    let declared_too_large = Request::builder()
        .method(Method::POST)
        .uri("/add-batch")
        .header("content-type", "application/json")
        .header("content-length", (64 << 20) + 1)
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, declared_too_large).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["status"], json!(413));
}

#[tokio::test]
async fn add_batch_with_malformed_json_is_400() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let record = String::from_utf8(body(0)).unwrap();
    let cases = [
        "not json".to_owned(),
        String::new(),
        "{}".to_owned(),
        json!({ "records": "one" }).to_string(),
        json!({ "records": [1, 2] }).to_string(),
        json!({ "records": [record], "extra": true }).to_string(),
        json!([record]).to_string(),
    ];
    for case in cases {
        let reply = post(&app, "/add-batch", case.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{case}");
        assert_eq!(reply.json()["status"], json!(400), "{case}");
    }
    assert_eq!(size(&app).await, FIRST);
    assert!(add_batch_ok(&app, &[]).await.is_empty());
}

// ---------------------------------------------------------- GET /checkpoint

#[tokio::test]
async fn checkpoint_is_uncached_text_signed_by_the_log_and_grows_with_adds() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let reply = get(&app, "/checkpoint").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), "no-cache");
    assert!(reply.header("content-type").starts_with("text/plain"));
    // A fresh log holds only its opening entries (the agency's
    // registration and its commitment).
    let (opened, note) = checkpoint(&app).await;
    assert_eq!(note, reply.body);
    assert_eq!(opened.origin, ORIGIN);
    assert_eq!(opened.size, FIRST);
    let opening = start_entries(&served_entries(&app, FIRST).await);
    assert_eq!(
        opened.root,
        Reference::of(opening.iter().map(Vec::as_slice)).root()
    );
    assert_ne!(opened.root, merkle::empty_root());

    let records: Vec<Vec<u8>> = (0..3).map(body).collect();
    let mut batches: Vec<&[Vec<u8>]> = Vec::new();
    for r in &records {
        add_ok(&app, r).await;
        batches.push(std::slice::from_ref(r));
        // Each add grows the tree by its record and its commitment.
        let (grown, _) = checkpoint(&app).await;
        assert_eq!(grown.size, Layout::opened(&vec![1; batches.len()]).size());
        let entries = served_entries(&app, grown.size).await;
        let expected = expected_entries(&batches, &entries);
        assert!(entries == expected);
        assert_eq!(
            grown.root,
            Reference::of(expected.iter().map(Vec::as_slice)).root()
        );
    }
}

// ----------------------------------------------------------- GET /tile/...

#[tokio::test]
async fn tiles_and_bundles_are_served_immutable_as_octet_streams() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..300).map(body).collect();
    add_batch_ok(&app, &records).await;
    // The opening entries, 300 records and the commitment ending their
    // batch: one full tile and a partial one of `size - 256`.
    let size = Layout::opened(&[300]).size();
    assert_eq!(size, FIRST + 301);
    let expected = expected_entries(&[&records], &served_entries(&app, size).await);
    let reference = Reference::of(expected.iter().map(Vec::as_slice));
    assert_eq!(checkpoint(&app).await.0.root, reference.root());
    let partial = size - 256;
    for path in [
        "/tile/0/000".to_owned(),
        format!("/tile/0/001.p/{partial}"),
        "/tile/1/000.p/1".to_owned(),
        "/tile/entries/000".to_owned(),
        format!("/tile/entries/001.p/{partial}"),
    ] {
        let path = path.as_str();
        let reply = get(&app, path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(
            reply.header("content-type"),
            "application/octet-stream",
            "{path}"
        );
        assert!(
            reply.header("cache-control").contains("immutable"),
            "{path}"
        );
        let tile = Tile::parse_path(&path[1..]).unwrap();
        match tile.level {
            TileLevel::Hashes(_) => assert!(reply.body == reference.tile(&tile), "{path}"),
            TileLevel::Entries => {
                let (start, _) = tile.leaf_range();
                let entries = parse_entry_bundle(&tile, &reply.body).unwrap();
                for (i, entry) in entries.iter().enumerate() {
                    assert_eq!(*entry, expected[start as usize + i], "{path} entry {i}");
                }
            }
        }
    }
}

#[tokio::test]
async fn malformed_tile_paths_are_400() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    add_batch_ok(&app, &(0..300).map(body).collect::<Vec<_>>()).await;
    for path in [
        "/tile/0/00",
        "/tile/x/000",
        "/tile/0/000.p/256",
        "/tile/0/000.p/0",
        "/tile/0/0000",
        "/tile/0/x000/001",
        "/tile/00/000",
        "/tile/64/000",
        "/tile/entries/00a",
        "/tile/0/000.p/01",
        "/tile/0/000/",
    ] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(reply.json()["status"], json!(400), "{path}");
    }
}

#[tokio::test]
async fn tiles_beyond_the_tree_are_404() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    add_batch_ok(&app, &(0..300).map(body).collect::<Vec<_>>()).await;
    // The opening entries, 300 records and their batch's commitment.
    let size = size(&app).await;
    assert_eq!(size, FIRST + 301);
    // One past the partial tile's width.
    let wider = size - 256 + 1;
    for path in [
        "/tile/0/001".to_owned(),
        "/tile/0/002".to_owned(),
        format!("/tile/0/001.p/{wider}"),
        "/tile/0/001.p/255".to_owned(),
        "/tile/1/000".to_owned(),
        "/tile/1/000.p/2".to_owned(),
        "/tile/2/000.p/1".to_owned(),
        "/tile/63/000.p/1".to_owned(),
        "/tile/entries/001".to_owned(),
        format!("/tile/entries/001.p/{wider}"),
        "/tile/entries/x999/x999/x999/x999/x999/999".to_owned(),
        "/tile/0/x018/x446/x744/x073/x709/x551/615".to_owned(),
    ] {
        let path = path.as_str();
        let reply = get(&app, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn odd_tile_paths_never_get_a_5xx() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    add_ok(&app, &body(0)).await;
    let long = format!("/tile/0/{}", "x001/".repeat(40) + "000");
    for path in [
        "/tile/",
        "/tile/0",
        "/tile/0/",
        "/tile//000",
        "/tile/0/000.p/",
        "/tile/0/000.p/1/2",
        "/tile/0/000.p/1x",
        "/tile/entries/000.p/1.p/1",
        "/tile/0/..%2F..%2Fcheckpoint",
        "/tile/../checkpoint",
        "/tile/0/-01",
        "/tile/0/%00",
        "/tile/18446744073709551616/000",
        "/tile/0/x018/x446/x744/x073/x709/x551/616",
        long.as_str(),
        "/tile/0/000.p/1",
        "/tile/entries/000.p/1",
    ] {
        let reply = get(&app, path).await;
        assert!(
            !reply.status.is_server_error(),
            "{path}: {} {:?}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
}

#[tokio::test]
async fn cross_origin_reads_and_writes_are_allowed() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let request = Request::builder()
        .uri("/checkpoint")
        .header("origin", "https://example.org")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.header("access-control-allow-origin").is_empty());

    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/add")
        .header("origin", "https://example.org")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, preflight).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert!(!reply.header("access-control-allow-origin").is_empty());
    assert!(
        reply
            .header("access-control-allow-methods")
            .contains("POST")
    );
}

// ------------------------------------------- what the API serves verifies

#[tokio::test]
async fn every_record_is_provably_included_under_the_served_checkpoint() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..600).map(body).collect();
    let mut acked: Vec<(u64, Hash)> = Vec::new();
    let mut batches: Vec<&[Vec<u8>]> = Vec::new();
    let mut next = 0;
    // Batches that end inside tiles and on both sides of tile boundaries.
    let lens = [1, 7, 248, 1, 300, 43];
    for len in lens {
        for result in add_batch_ok(&app, &records[next..next + len]).await {
            let index = result["index"].as_u64().unwrap();
            let hash = Hash::from_base64(result["leaf_hash"].as_str().unwrap()).unwrap();
            acked.push((index, hash));
        }
        batches.push(&records[next..next + len]);
        next += len;
    }
    assert_eq!(next, 600);
    // Each batch ended with its commitment.
    let layout = Layout::opened(&lens.map(|l| l as u64));
    let (checkpoint, _) = checkpoint(&app).await;
    assert_eq!(checkpoint.size, layout.size());
    assert_eq!(checkpoint.size, FIRST + 606);
    let size = checkpoint.size;
    let root = checkpoint.root;
    let fetched = fetch_tree(&app, size).await;

    for (i, record) in records.iter().enumerate() {
        let (index, hash) = acked[i];
        assert_eq!(index, layout.records[i]);
        assert_eq!(hash, leaf_hash(record));
        let reader = TileHashReader::new(size, root, &fetched);
        let proof = merkle::prove_inclusion(index, size, &reader)
            .unwrap_or_else(|e| panic!("proving {index}: {e}"));
        merkle::verify_inclusion(&hash, index, size, &proof, &root)
            .unwrap_or_else(|e| panic!("record {index} is not included: {e}"));
    }

    // The entries are the opening ones, the records where the log said,
    // and between the batches their commitments; every commitment (the
    // opening one too) is included.
    let served = served_entries(&app, size).await;
    let expected = expected_entries(&batches, &served);
    assert!(served == expected);
    for &index in &layout.commitments {
        let reader = TileHashReader::new(size, root, &fetched);
        let proof = merkle::prove_inclusion(index, size, &reader).unwrap();
        merkle::verify_inclusion(
            &leaf_hash(&expected[index as usize]),
            index,
            size,
            &proof,
            &root,
        )
        .unwrap_or_else(|e| panic!("commitment {index} is not included: {e}"));
    }
    for bundle in bundles_for_size(size) {
        let entries = parse_entry_bundle(&bundle, &fetched.0[&bundle]).unwrap();
        let tile = Tile {
            level: TileLevel::Hashes(0),
            ..bundle
        };
        check_bundle_against_tile(&bundle, &entries, &fetched.0[&tile]).unwrap();
        let (start, _) = bundle.leaf_range();
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(*entry, expected[start as usize + i]);
        }
    }

    // The check can fail: one flipped bit in a served tile is caught.
    let mut corrupted = FetchedTiles(fetched.0.clone());
    corrupted.0.get_mut(&Tile::full(HEIGHT, 0, 1)).unwrap()[5] ^= 1;
    let reader = TileHashReader::new(size, root, &corrupted);
    assert!(merkle::prove_inclusion(300, size, &reader).is_err());
}

// ------------------------------------------------------------------ restart

#[tokio::test]
async fn restart_keeps_the_checkpoint_and_catches_the_index_up_from_the_tiles() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..300).map(body).collect();
    let mut indexes = indexes_of(&add_batch_ok(&app, &records[..100]).await);
    let first_size = size(&app).await;
    drop(app);
    let dir_path = close(log);
    // Keep the index as it was after the first batch.
    let snapshot = tempfile::tempdir().unwrap();
    copy_dir(&dir_path.join("index"), snapshot.path());

    let log = open(&dir_path);
    let app = api(&log);
    indexes.extend(indexes_of(&add_batch_ok(&app, &records[100..290]).await));
    let (checkpoint_before, note) = checkpoint(&app).await;
    // Each batch ended with its commitment.
    let layout = Layout::opened(&[100, 190]);
    assert_eq!(indexes, layout.records);
    assert_eq!(
        (first_size, checkpoint_before.size),
        (FIRST + 101, layout.size())
    );
    drop(app);
    let dir_path = close(log);

    // Roll the index back: it lags the tiles by the whole second batch.
    std::fs::remove_dir_all(dir_path.join("index")).unwrap();
    copy_dir(snapshot.path(), &dir_path.join("index"));
    {
        let index = gazette_log::index::RecordIndex::open(&dir_path.join("index"), ()).unwrap();
        assert!(index.covered().unwrap() <= first_size);
    }

    let log = open(&dir_path);
    assert_eq!(
        log.index.as_ref().unwrap().covered().unwrap(),
        layout.size(),
        "the index caught up"
    );
    let app = api(&log);
    let (_, reopened) = checkpoint(&app).await;
    assert_eq!(reopened, note, "the same checkpoint after a restart");
    // Records on both sides of the batches' and the first tile's edges
    // (records 252 and 253 sit at 255 and 256, after the opening entries
    // and the commitment at FIRST + 100).
    assert_eq!((indexes[252], indexes[253]), (255, 256));
    for n in [0usize, 99, 100, 252, 253, 289] {
        assert_eq!(add_ok(&app, &records[n]).await, indexes[n], "duplicate {n}");
    }
    let mut conflicting = record(200);
    conflicting.digest = digest(1000);
    let reply = add(&app, &conflicting.sign(&agency()).unwrap().bytes).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.json()["index"], json!(indexes[200]));
    assert_eq!(size(&app).await, layout.size());
    assert_eq!(add_ok(&app, &records[290]).await, layout.size());
}

#[tokio::test]
async fn a_deleted_index_is_rebuilt_from_the_tiles() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..300).map(body).collect();
    let mut indexes = indexes_of(&add_batch_ok(&app, &records[..150]).await);
    indexes.extend(indexes_of(&add_batch_ok(&app, &records[150..270]).await));
    // Each batch ended with its commitment.
    let layout = Layout::opened(&[150, 120]);
    assert_eq!(indexes, layout.records);
    let (_, note) = checkpoint(&app).await;
    drop(app);
    let dir_path = close(log);
    std::fs::remove_dir_all(dir_path.join("index")).unwrap();

    let log = open(&dir_path);
    let app = api(&log);
    assert_eq!(checkpoint(&app).await.1, note);
    assert_eq!(
        log.index.as_ref().unwrap().covered().unwrap(),
        layout.size()
    );
    // Records on both sides of the batches' and the first tile's edges
    // (records 252 and 253 sit at 255 and 256, after the opening entries
    // and the commitment at FIRST + 150).
    assert_eq!((indexes[252], indexes[253]), (255, 256));
    for n in [0usize, 149, 150, 252, 253, 269] {
        assert_eq!(add_ok(&app, &records[n]).await, indexes[n], "duplicate {n}");
    }
    // A re-signed copy of a record in the partial bundle is found by key.
    let mut resigned = record(260);
    resigned.issued = "2027-01-01T00:00:00Z".to_owned();
    let reply = add(&app, &resigned.sign(&agency()).unwrap().bytes).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({ "index": indexes[260], "leaf_hash": base64(&leaf_hash(&records[260]).0) })
    );
    let mut conflicting = record(10);
    conflicting.digest = digest(1010);
    let reply = add(&app, &conflicting.sign(&agency()).unwrap().bytes).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.json()["index"], json!(indexes[10]));
    assert_eq!(size(&app).await, layout.size());
    assert_eq!(add_ok(&app, &records[270]).await, layout.size());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_is_not_answered_before_its_original_is_durable() {
    let dir = new_log_dir();
    let (log, gate) = gated_log(dir.path());
    let app = api(&log);
    let _release = OpenOnDrop(gate.clone());

    // The original's commit is held at the gate.
    gate.set(true);
    let original = {
        let app = app.clone();
        tokio::spawn(async move { add(&app, &body(1)).await })
    };
    let start = Instant::now();
    while !gate.entered.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < DEADLINE,
            "the original never reached its commit"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    // The same record again is sequenced as a duplicate of the original,
    // but it must not be acknowledged while the original is not durable.
    let duplicate = {
        let app = app.clone();
        tokio::spawn(async move { add(&app, &body(1)).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !duplicate.is_finished(),
        "a duplicate was acknowledged before its original was durable"
    );
    assert!(!original.is_finished());
    gate.set(false);
    let (original, duplicate) = (original.await.unwrap(), duplicate.await.unwrap());
    assert_eq!(original.status, StatusCode::OK);
    assert_eq!(duplicate.status, StatusCode::OK);
    assert_eq!(original.json()["index"], duplicate.json()["index"]);
}

#[tokio::test]
async fn an_agency_registered_through_post_registry_is_accepted_without_a_restart() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let newcomer = unregistered_agency();
    let mut first = record(1);
    first.issuer = newcomer.name().to_owned();
    let bytes = first.sign(&newcomer).unwrap().bytes;
    assert_eq!(add(&app, &bytes).await.status, StatusCode::FORBIDDEN);
    // A new agency (no current key): the log's signature suffices.
    let registered = registry_ok(
        &app,
        &registry_entry(Action::Register, &newcomer.verifier(), None, &[]),
    )
    .await;
    let reply = add(&app, &bytes).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the running log did not pick up the new agency: {:?}",
        reply.json()
    );
    assert!(reply.json()["index"].as_u64().unwrap() > registered);
}

#[tokio::test]
async fn the_page_is_served_at_the_root_with_its_security_headers_and_wasm_type() {
    let dir = new_log_dir();
    // The page in `outer/www`, a sentinel file beside it in `outer`.
    let outer = tempfile::tempdir().unwrap();
    let page = outer.path().join("www");
    std::fs::create_dir_all(page.join("pkg")).unwrap();
    std::fs::write(page.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(page.join("pkg/gazette_wasm_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let config_path = dir.path().join("gazette-log.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let commented = "# page_dir = \"/usr/share/gazette/www\"";
    assert!(config.contains(commented));
    let line = format!("page_dir = {:?}", page.to_str().unwrap());
    std::fs::write(&config_path, config.replace(commented, &line)).unwrap();
    let log = open(dir.path());
    let app = api(&log);

    let root = get(&app, "/").await;
    assert_eq!(root.status, StatusCode::OK);
    assert!(root.header("content-type").starts_with("text/html"));
    assert!(String::from_utf8_lossy(&root.body).contains("<title>t</title>"));
    let csp = root.header("content-security-policy");
    assert!(
        csp.contains("connect-src 'self'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert_eq!(root.header("cache-control"), "no-cache");

    let wasm = get(&app, "/pkg/gazette_wasm_bg.wasm").await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.header("content-type"), "application/wasm");

    // Neither an API route nor a page file: the API's JSON 404, for any
    // method; and nothing beside the page's folder is reachable.
    std::fs::write(outer.path().join("gazette-sentinel.txt"), "outside").unwrap();
    let outside = "/../www/../gazette-sentinel.txt";
    for path in [
        "/no-such-route",
        "/pkg/missing.js",
        "/../gazette-sentinel.txt",
        "/%2e%2e/gazette-sentinel.txt",
        "/pkg/%2e%2e/%2e%2e/gazette-sentinel.txt",
        outside,
    ] {
        let reply = get(&app, path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json()["status"], json!(404), "{path}");
    }
    let request = Request::builder()
        .method(Method::POST)
        .uri("/no-such-route")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["status"], json!(404));
}
