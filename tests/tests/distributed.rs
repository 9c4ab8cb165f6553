//! The log on real distributed engines (3 Garage nodes, 3 etcd members,
//! `gazette_tests::distributed`), as processes: a standby takes over from
//! a killed sequencer and nothing acknowledged is lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gazette_client::merkle::leaf_hash;
use gazette_tests::distributed::{Cluster, checkpoint_history, record, wait_sequencing};
use gazette_tests::{checkpoint_size, read_entries};

/// Upper bound for anything a test waits on.
const DEADLINE: Duration = Duration::from_secs(60);

/// What the log acknowledged: index → record bytes.
type Acked = Arc<Mutex<HashMap<u64, Vec<u8>>>>;

/// Sends batches of 1–16 fresh records to whichever of `urls` answers,
/// until `stop`; records every acknowledgement (a batch whose answer was
/// lost is sent again: the log answers for records it holds with their
/// index).
fn submitter(urls: Vec<String>, next: Arc<AtomicU64>, acked: Acked, stop: Arc<AtomicBool>) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut at = 0;
    let mut pending: Vec<Vec<u8>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        if pending.is_empty() {
            let count = 1 + next.load(Ordering::SeqCst) % 16;
            pending = (0..count)
                .map(|_| record(next.fetch_add(1, Ordering::SeqCst)))
                .collect();
        }
        let texts: Vec<String> = pending
            .iter()
            .map(|r| String::from_utf8(r.clone()).unwrap())
            .collect();
        let reply = client
            .post(format!("{}/add-batch", urls[at]))
            .json(&serde_json::json!({ "records": texts }))
            .send();
        let answer: serde_json::Value = match reply {
            Ok(r) if r.status().is_success() => r.json().unwrap(),
            _ => {
                // Killed, or a standby (503): try the other one.
                at = (at + 1) % urls.len();
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let results = answer["results"].as_array().unwrap();
        let mut acked = acked.lock().unwrap();
        for (result, bytes) in results.iter().zip(&pending) {
            let index = result["index"]
                .as_u64()
                .unwrap_or_else(|| panic!("not logged: {result}"));
            assert_eq!(
                result["leaf_hash"].as_str().unwrap(),
                leaf_hash(bytes).to_base64()
            );
            if let Some(before) = acked.insert(index, bytes.clone()) {
                assert_eq!(before, *bytes, "two records acknowledged at index {index}");
            }
        }
        pending.clear();
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_standby_takes_over_from_a_killed_sequencer_and_loses_no_acknowledged_record() {
    let cluster = Cluster::start();
    let mut active = cluster.serve(&cluster.node_dir("a", true), &[]);
    assert!(
        wait_sequencing(&active.url, DEADLINE),
        "the first log sequences"
    );
    let standby = cluster.serve(&cluster.node_dir("b", true), &[]);

    let acked: Acked = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let load = {
        let (urls, next) = (vec![active.url.clone(), standby.url.clone()], next.clone());
        let (acked, stop) = (acked.clone(), stop.clone());
        std::thread::spawn(move || submitter(urls, next, acked, stop))
    };
    let count = || acked.lock().unwrap().len();
    wait_for("records logged by the first sequencer", || count() >= 300);
    // The standby serves reads meanwhile, and refuses writes.
    let reply = reqwest::blocking::get(format!("{}/healthz", standby.url)).unwrap();
    assert_eq!(reply.status(), 503, "{}", reply.text().unwrap());
    active.stop(); // kill -9, mid-load
    let before = count();
    wait_for("the standby to take over and log more", || {
        count() >= before + 300
    });
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let size = runtime.block_on(checkpoint_size(&standby.url));
    let entries = runtime.block_on(read_entries(&standby.url, size));
    for (index, bytes) in acked.lock().unwrap().iter() {
        assert!(
            *index < size,
            "acknowledged {index} beyond the tree ({size})"
        );
        assert_eq!(&entries[*index as usize], bytes, "record at {index}");
    }
}

/// A checkpoint note's size and root, its signature checked.
fn size_and_root(note: &[u8], log_vkey: &str) -> (u64, String) {
    let key = gazette_client::note::Verifier::parse(log_vkey).unwrap();
    let checkpoint = gazette_client::checkpoint::open_checkpoint(note, &key)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(note)))
        .checkpoint;
    (checkpoint.size, checkpoint.root.to_base64())
}

/// The URL of whichever of `servers` sequences now.
fn sequencing(urls: &[&str]) -> usize {
    let client = reqwest::blocking::Client::new();
    let mut found = None;
    wait_for("one log to sequence", || {
        found = urls.iter().position(|url| {
            client
                .get(format!("{url}/healthz"))
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        found.is_some()
    });
    found.unwrap()
}

#[test]
fn two_sequencers_started_at_once_never_give_two_checkpoints_of_one_size() {
    let cluster = Cluster::start();
    let (a_dir, b_dir) = (cluster.node_dir("a", true), cluster.node_dir("b", true));
    let mut logs = [cluster.serve(&a_dir, &[]), cluster.serve(&b_dir, &[])];
    let urls = [logs[0].url.clone(), logs[1].url.clone()];

    let acked: Acked = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (urls, acked, stop) = (urls.to_vec(), acked.clone(), stop.clone());
        std::thread::spawn(move || submitter(urls, Arc::default(), acked, stop))
    };
    // Every checkpoint either log serves, and the bucket's, while it runs.
    let seen: Arc<Mutex<Vec<Vec<u8>>>> = Default::default();
    let watch = {
        let (urls, seen, stop) = (urls.to_vec(), seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let client = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            while !stop.load(Ordering::SeqCst) {
                for url in &urls {
                    if let Ok(r) = client.get(format!("{url}/checkpoint")).send()
                        && r.status().is_success()
                    {
                        seen.lock().unwrap().push(r.bytes().unwrap().to_vec());
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let count = || acked.lock().unwrap().len();
    wait_for("records logged", || count() >= 300);
    // The one sequencing is killed; the other takes over.
    let first = sequencing(&[&urls[0], &urls[1]]);
    logs[first].stop();
    let before = count();
    wait_for("the other log to take over", || count() >= before + 300);
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();
    watch.join().unwrap();

    let mut notes = checkpoint_history(&cluster.etcd);
    let history = notes.len();
    notes.extend(seen.lock().unwrap().iter().cloned());
    for node in 0..3 {
        if let Ok(note) = cluster.garage.get_object(node, "checkpoint") {
            notes.push(note);
        }
    }
    let mut roots: HashMap<u64, String> = HashMap::new();
    for note in &notes {
        let (size, root) = size_and_root(note, &cluster.log_vkey);
        if let Some(other) = roots.insert(size, root.clone()) {
            assert_eq!(other, root, "two checkpoints of size {size}");
        }
    }
    assert!(history > 10, "etcd kept {history} checkpoint versions");
    // Sizes only grow along the history (newest first).
    let sizes: Vec<u64> = checkpoint_history(&cluster.etcd)
        .iter()
        .map(|n| size_and_root(n, &cluster.log_vkey).0)
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] > w[1]), "{sizes:?}");

    let url = &urls[1 - first];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let size = runtime.block_on(checkpoint_size(url));
    let entries = runtime.block_on(read_entries(url, size));
    for (index, bytes) in acked.lock().unwrap().iter() {
        assert_eq!(&entries[*index as usize], bytes, "record at {index}");
    }
}

#[test]
fn writes_go_on_when_a_garage_node_and_an_etcd_member_die_under_load() {
    // A lease long enough to ride out an etcd leader election under load.
    let mut cluster = Cluster::start_with(10);
    let log = cluster.serve(&cluster.node_dir("a", true), &[]);
    assert!(wait_sequencing(&log.url, DEADLINE), "the log sequences");
    let acked: Acked = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (urls, acked, stop) = (vec![log.url.clone()], acked.clone(), stop.clone());
        std::thread::spawn(move || submitter(urls, Arc::default(), acked, stop))
    };
    let count = || acked.lock().unwrap().len();
    wait_for("records logged", || count() >= 300);
    // The first S3 endpoint the log tries, and etcd's leader.
    cluster.garage.kill(0);
    let leader = cluster.etcd.leader().unwrap_or(0);
    cluster.etcd.kill(leader);
    let before = count();
    wait_for("writes to go on", || count() >= before + 300);
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let size = runtime.block_on(checkpoint_size(&log.url));
    let entries = runtime.block_on(read_entries(&log.url, size));
    for (index, bytes) in acked.lock().unwrap().iter() {
        assert_eq!(&entries[*index as usize], bytes, "record at {index}");
    }
    let healthy = reqwest::blocking::get(format!("{}/healthz", log.url)).unwrap();
    assert!(healthy.status().is_success(), "{}", healthy.text().unwrap());
}

/// GETs `url`: status and body.
fn fetch(client: &reqwest::blocking::Client, url: &str) -> (u16, Vec<u8>) {
    let reply = client.get(url).send().unwrap();
    (reply.status().as_u16(), reply.bytes().unwrap().to_vec())
}

#[test]
fn read_replicas_keep_up_and_give_the_same_answers() {
    let cluster = Cluster::start();
    let log = cluster.serve(&cluster.node_dir("writer", true), &[]);
    assert!(wait_sequencing(&log.url, DEADLINE), "the log sequences");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Replicas need something to serve: the first batch.
    runtime.block_on(gazette_tests::add_batch(
        &log.url,
        (0..10).map(record).collect(),
    ));
    let replicas = [
        cluster.serve(&cluster.node_dir("r1", false), &["--replica"]),
        cluster.serve(&cluster.node_dir("r2", false), &["--replica"]),
    ];
    let acked: Acked = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(10));
    let load = {
        let (urls, acked, stop) = (vec![log.url.clone()], acked.clone(), stop.clone());
        std::thread::spawn(move || submitter(urls, next, acked, stop))
    };
    let client = reqwest::blocking::Client::new();
    // Writes go to the sequencer only.
    let refused = client
        .post(format!("{}/add", replicas[0].url))
        .body(record(1_000_000))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 503);
    wait_for("records logged", || acked.lock().unwrap().len() >= 500);
    stop.store(true, Ordering::SeqCst);
    load.join().unwrap();

    // They catch up with the writer...
    let (_, writer_note) = fetch(&client, &format!("{}/checkpoint", log.url));
    for replica in &replicas {
        wait_for("a replica to catch up", || {
            fetch(&client, &format!("{}/checkpoint", replica.url)).1 == writer_note
        });
    }
    let size = size_of(&writer_note, &cluster.log_vkey);
    // ...and give the writer's answers: tiles, entries, proofs, receipts.
    let mut paths = vec![
        "/checkpoint".to_owned(),
        "/info".to_owned(),
        format!("/proof/consistency?old=5&size={size}"),
    ];
    for index in [0, 1, size / 2, size - 2] {
        paths.push(format!("/entry/{index}"));
        paths.push(format!("/proof/inclusion?index={index}&size={size}"));
        paths.push(format!("/receipt/{index}"));
    }
    for tile in gazette_client::tiles::tiles_for_size(gazette_client::tiles::HEIGHT, size) {
        paths.push(format!("/{}", tile.path()));
    }
    for path in &paths {
        let expected = fetch(&client, &format!("{}{path}", log.url));
        assert_eq!(expected.0, 200, "{path}");
        for replica in &replicas {
            let got = fetch(&client, &format!("{}{path}", replica.url));
            assert!(got == expected, "{path} differs on {}", replica.url);
        }
    }
    // Proven lookups (the page's verdicts) come from each replica's own
    // copy of the verifiable index, rebuilt from the entries as it follows.
    for n in [0u64, 5, 9] {
        let record = gazette_client::record::SignedRecord::parse(&record(n))
            .unwrap()
            .record;
        let digest: String = record.digest.iter().map(|b| format!("{b:02x}")).collect();
        for path in [
            format!("/index/lookup?digest=sha256:{digest}"),
            format!("/index/lookup?issuer={}&kind=permit&id={}", record.issuer, record.id),
            "/index/lookup?digest=sha256:0000000000000000000000000000000000000000000000000000000000000000".to_owned(),
        ] {
            let expected = fetch(&client, &format!("{}{path}", log.url));
            assert_eq!(expected.0, 200, "{path}: {}", String::from_utf8_lossy(&expected.1));
            for replica in &replicas {
                let got = fetch(&client, &format!("{}{path}", replica.url));
                assert!(
                    got == expected,
                    "{path} differs on {}: {}",
                    replica.url,
                    String::from_utf8_lossy(&got.1)
                );
            }
        }
    }
    // Lookups come from each replica's own index, built from the tiles.
    let (index, bytes) = acked
        .lock()
        .unwrap()
        .iter()
        .map(|(i, b)| (*i, b.clone()))
        .max()
        .unwrap();
    let record = gazette_client::record::SignedRecord::parse(&bytes)
        .unwrap()
        .record;
    let query = format!(
        "/lookup?issuer={}&kind=permit&id={}",
        record.issuer, record.id
    );
    for replica in &replicas {
        wait_for("a replica's lookup index", || {
            let (status, body) = fetch(&client, &format!("{}{query}", replica.url));
            status == 200
                && serde_json::from_slice::<serde_json::Value>(&body).unwrap()["matches"][0]["index"]
                    == index
        });
    }
}

fn size_of(note: &[u8], log_vkey: &str) -> u64 {
    size_and_root(note, log_vkey).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_served_by_a_replica_gives_proven_verdicts() {
    use gazette_client::record::Record;
    use gazette_tests::browser::Browser;
    let cluster = tokio::task::spawn_blocking(Cluster::start).await.unwrap();
    let log = cluster.serve(&cluster.node_dir("writer", true), &[]);
    let url = log.url.clone();
    let sequencing = tokio::task::spawn_blocking(move || wait_sequencing(&url, DEADLINE));
    assert!(sequencing.await.unwrap(), "the log sequences");
    let files = tempfile::tempdir().unwrap();
    let document = b"Building permit BP-2026-0311: parcel 7-12, River Quarter\n";
    let signed = Record::new(
        gazette_tests::distributed::agency().name(),
        "permit",
        "BP-2026-0311",
        gazette_tests::document_digest(document),
        "2026-12-05T09:00:00Z",
    )
    .sign(&gazette_tests::distributed::agency())
    .unwrap();
    gazette_tests::add_batch(&log.url, vec![signed.bytes]).await;
    let replica = cluster.serve(&cluster.node_dir("replica", false), &["--replica"]);
    let size = checkpoint_size(&log.url).await;
    while checkpoint_size(&replica.url).await < size {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let browser = Browser::start().await;
    for (name, bytes, expected) in [
        ("permit.txt", &document[..], "verified"),
        (
            "altered.txt",
            &b"Building permit BP-2026-0311: parcel 7-13\n"[..],
            "not-found",
        ),
    ] {
        let file = files.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        browser.open(&format!("{}/", replica.url)).await;
        browser.choose_file("#document-input", &file).await;
        let verdict = browser.verdict().await;
        assert_eq!(
            verdict,
            expected,
            "{name}: {}",
            browser.text("#verdict").await
        );
    }
    browser.close().await;
}
