//! The real `gazette-log` running out of what the system gives it: disk
//! space (a small tmpfs that fills up) and file descriptors (its limit
//! lowered while it runs). Each time the batch in the failing commit is
//! held, new writes get 507 or 503 with `Retry-After`, `/healthz` says
//! why; once the resource is back, the held batch is logged, writes go on
//! with no restart, and every acknowledged record is there. And a log
//! started on a read-only data directory (a read-only bind mount) serves
//! its tree, refuses writes with 503, and takes writes once the directory
//! is writable, with no restart. Mounting needs root (CAP_SYS_ADMIN):
//! where it is refused, those tests say so and pass without running.

use std::path::Path;
use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_client::registry::{Action, SignedRegistryEntry};
use gazette_tests::mount::{ReadOnlyView, Tmpfs};
use gazette_tests::process::{self, Server};

fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

const DEADLINE: Duration = Duration::from_secs(120);

fn agency() -> Signer {
    Signer::from_seed("registry.example.gov", KeyType::Ed25519, [5; 32]).unwrap()
}

fn records(from: u64, count: u64) -> Vec<String> {
    (from..from + count)
        .map(|n| {
            let mut digest = [0x33; 32];
            digest[..8].copy_from_slice(&n.to_be_bytes());
            let record = Record::new(
                agency().name(),
                "e-certificate",
                &format!("D-{n}"),
                digest,
                "2026-12-04T00:00:00Z",
            );
            String::from_utf8(record.sign(&agency()).unwrap().bytes).unwrap()
        })
        .collect()
}

async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    records: Vec<String>,
) -> reqwest::Response {
    client
        .post(format!("{url}/add-batch"))
        .json(&serde_json::json!({ "records": records }))
        .send()
        .await
        .expect("the log answers")
}

/// `/healthz` once its status is what `wanted` says (waited for, bounded).
async fn health_until(
    client: &reqwest::Client,
    url: &str,
    wanted: impl Fn(u16) -> bool,
) -> reqwest::Response {
    let start = Instant::now();
    loop {
        let health = client.get(format!("{url}/healthz")).send().await.unwrap();
        if wanted(health.status().as_u16()) {
            return health;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "/healthz never changed: {}",
            health.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Fills the filesystem of `dir` with one file until it is full.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.write_all(&chunk[..1024]);
    let _ = file.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_holds_writes_and_they_resume_once_there_is_room() {
    let base = tempfile::tempdir().unwrap();
    let mount = base.path().join("disk");
    let _tmpfs = match Tmpfs::mount(&mount, 48) {
        Ok(tmpfs) => tmpfs,
        Err(why) => {
            println!("SKIPPED: cannot mount a tmpfs here ({why}); this test needs root");
            return;
        }
    };
    let data = mount.join("log");
    let mut server = start_log(&data);
    let url = server.url.clone();
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();
    let mut acknowledged = 0u64;
    for round in 0..3 {
        let reply = post_batch(&client, &url, records(round * 100, 100)).await;
        assert_eq!(reply.status(), 200);
        acknowledged += 100;
    }

    // The indexes (fjall) have taken those records before the disk fills,
    // so that the full disk meets a commit.
    gazette_tests::wait_for_lookups(&url).await;

    // The disk fills up: the next batch's commit fails and is retried.
    let filler = fill(&mount);
    let held = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { post_batch(&client, &url, records(300, 100)).await }
    });
    let health = health_until(&client, &url, |status| status != 200).await;
    assert_eq!(health.status(), 507);
    assert!(health.headers().contains_key("retry-after"));
    let why = health.text().await.unwrap();
    println!("full disk: /healthz says {why}");
    let refused = post_batch(&client, &url, records(400, 10)).await;
    assert_eq!(refused.status(), 507);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(
        !held.is_finished(),
        "a batch was answered before it was durable"
    );

    // Room again: the held batch is logged, new writes go through.
    std::fs::remove_file(&filler).unwrap();
    let reply = held.await.unwrap();
    assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
    acknowledged += 100;
    health_until(&client, &url, |status| status == 200).await;
    let reply = post_batch(&client, &url, records(500, 100)).await;
    assert_eq!(reply.status(), 200);
    acknowledged += 100;

    // A restart: every acknowledged record is there.
    server.stop();
    let server = Server::start(gazette_log(), &data, "127.0.0.1:0");
    let samples: Vec<String> = [0, 299, 300, 399, 500, 599]
        .into_iter()
        .map(|n| records(n, 1).remove(0))
        .collect();
    assert!(all_found(&server.url, &samples).await);
    println!("full disk: {acknowledged} records acknowledged, all found after a restart");
}

/// A log in `dir` with the agency registered, served.
fn start_log(dir: &Path) -> Server {
    start_log_with(dir, |text| text.to_owned())
}

/// [`start_log`], its configuration edited by `edit` first.
fn start_log_with(dir: &Path, edit: impl Fn(&str) -> String) -> Server {
    let d = dir.to_str().unwrap();
    process::run(
        gazette_log(),
        &["init", "--origin", "limits.example/log", "--dir", d],
    );
    let vkey = agency().verifier().to_string();
    process::run(gazette_log(), &["agency", "add", &vkey, "--dir", d]);
    let config = dir.join("gazette-log.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, edit(&text)).unwrap();
    Server::start(gazette_log(), dir, "127.0.0.1:0")
}

/// Whether each of `records` is found by its digest.
async fn all_found(url: &str, records: &[String]) -> bool {
    for r in records {
        let digest = gazette_client::record::SignedRecord::parse(r.as_bytes())
            .unwrap()
            .record
            .digest;
        let hex = gazette_client::encoding::hex_encode(&digest);
        let found = gazette_tests::get_json(&format!("{url}/lookup?digest=sha256:{hex}")).await;
        if found["matches"].as_array().map(Vec::len) != Some(1) {
            return false;
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_file_descriptors_holds_writes_until_there_are_some() {
    use gazette_tests::attack::set_open_file_limit;
    let dir = tempfile::tempdir().unwrap();
    // Idle connections are kept long: while the log has no descriptor it
    // cannot accept a new one, so the test's requests go over connections
    // it opened before.
    let config = dir.path().join("gazette-log.toml");
    let mut server = start_log_with(dir.path(), |text| {
        text.replace("header_timeout_s = 10", "header_timeout_s = 3600")
    });
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("header_timeout_s = 3600")
    );
    let url = server.url.clone();
    // One client (one pool, one connection) for the held batch, one for
    // everything else: each connects now, while the log can accept.
    let connected = || async {
        let client = reqwest::Client::builder()
            .timeout(DEADLINE)
            .pool_idle_timeout(None)
            .build()
            .unwrap();
        let health = client.get(format!("{url}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        client
    };
    let (batches, client) = (connected().await, connected().await);
    for round in 0..3 {
        let reply = post_batch(&client, &url, records(round * 100, 100)).await;
        assert_eq!(reply.status(), 200);
    }
    gazette_tests::wait_for_lookups(&url).await;

    // No descriptor left: below the lowest number the log has open, every
    // open anywhere in it fails (EMFILE), whatever it closes meanwhile.
    const LIMIT: u64 = 3;
    let pid = server.pid();
    let had = set_open_file_limit(pid, LIMIT).expect("prlimit on the log (same user)");
    let held = tokio::spawn({
        let url = url.clone();
        async move { post_batch(&batches, &url, records(300, 100)).await }
    });
    let health = health_until(&client, &url, |status| status != 200).await;
    assert_eq!(health.status(), 503);
    assert!(health.headers().contains_key("retry-after"));
    let why = health.text().await.unwrap();
    println!("no file descriptors (limit {LIMIT}): /healthz says {why}");
    assert!(why.contains("open files"), "{why}");
    assert!(
        !held.is_finished(),
        "a batch was answered before it was durable"
    );

    // Descriptors again: the held batch is logged, new writes go through.
    set_open_file_limit(pid, had).unwrap();
    let reply = held.await.unwrap();
    assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
    health_until(&client, &url, |status| status == 200).await;
    let reply = post_batch(&client, &url, records(400, 100)).await;
    assert_eq!(reply.status(), 200);

    server.stop();
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let samples: Vec<String> = [0, 299, 300, 399, 400, 499]
        .into_iter()
        .map(|n| records(n, 1).remove(0))
        .collect();
    assert!(all_found(&server.url, &samples).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_directory_is_served_and_takes_writes_once_writable() {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("log");
    let mut server = start_log(&data);
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();
    // The log opens with the agency's registration (from the agencies
    // file, at its first start) and the commitment ending that batch.
    let opened = gazette_tests::checkpoint_size(&server.url).await;
    let opening = gazette_tests::read_entries(&server.url, opened).await;
    let registration = SignedRegistryEntry::parse(&opening[0]).expect("a registration first");
    assert_eq!(registration.entry.action, Action::Register);
    assert_eq!(registration.entry.key, agency().verifier());
    let logged = records(0, 300);
    let reply = post_batch(&client, &server.url, logged.clone()).await;
    assert_eq!(reply.status(), 200);
    server.stop();
    let view = match ReadOnlyView::mount(&data, &base.path().join("view")) {
        Ok(view) => view,
        Err(why) => {
            println!("SKIPPED: cannot bind-mount read-only here ({why}); this test needs root");
            return;
        }
    };

    // Read-only: the tree is served, writes and lookups are refused.
    let server = Server::start(gazette_log(), view.path(), "127.0.0.1:0");
    let url = server.url.clone();
    // The opening entries, the batch, and the verifiable index's
    // commitment after it.
    let size = gazette_tests::checkpoint_size(&url).await;
    assert_eq!(size, opened + 301);
    let entries = gazette_tests::read_entries(&url, size).await;
    assert_eq!(entries[..opening.len()], opening);
    assert!(
        entries[opened as usize..]
            .iter()
            .zip(&logged)
            .all(|(e, r)| e == r.as_bytes())
    );
    let proof = client
        .get(format!("{url}/proof/consistency?old=100&size=300"))
        .send()
        .await
        .unwrap();
    assert_eq!(proof.status(), 200);
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert!(health.headers().contains_key("retry-after"));
    let why = health.text().await.unwrap();
    println!("read-only: /healthz says {why}");
    assert!(why.contains("read-only"), "{why}");
    let refused = post_batch(&client, &url, records(300, 10)).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.text().await.unwrap().contains("read-only"));
    let lookup = client
        .get(format!(
            "{url}/lookup?id=D-1&issuer=registry.example.gov&kind=e-certificate"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), 503);

    // Writable again: the log opens in full by itself and takes writes.
    view.remount("rw").unwrap();
    health_until(&client, &url, |status| status == 200).await;
    let reply = post_batch(&client, &url, records(300, 100)).await;
    assert_eq!(reply.status(), 200, "{:?}", reply.text().await);
    gazette_tests::wait_for_lookups(&url).await;
    let samples: Vec<String> = [0, 299, 300, 399]
        .into_iter()
        .map(|n| records(n, 1).remove(0))
        .collect();
    assert!(all_found(&url, &samples).await);
}
