//! A state the witness cannot write (a full disk, no descriptors left; here
//! a directory standing where the state file goes): nothing is cosigned,
//! the caller gets 503 with `Retry-After`, `/healthz` names the log and
//! why; once the state can be read back, the witness cosigns again, with
//! no restart, from the state the disk holds.

mod common;

use axum::http::StatusCode;
use common::*;
use sha2::{Digest, Sha256};

/// Where the witness keeps the state of `origin`.
fn state_file(dir: &std::path::Path, origin: &str) -> std::path::PathBuf {
    let name: String = Sha256::digest(origin.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join("state").join(name)
}

#[tokio::test]
async fn a_state_that_cannot_be_written_is_503_and_passes_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    let witness = open(dir.path());
    let app = router(&witness);
    let tree = Tree::with_leaves(7, "log");

    // A non-empty directory where the state goes: the write's rename fails,
    // and so does reading it back.
    let blocker = state_file(dir.path(), ORIGIN);
    std::fs::create_dir_all(blocker.join("in-the-way")).unwrap();
    for _ in 0..2 {
        let reply = post(&app, &tree.request(0, 7, &log_key())).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert!(reply.body.contains("state"), "{}", reply.body);
    }
    let health = get(&app, "/healthz").await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(health.body.starts_with(ORIGIN), "{}", health.body);
    assert_eq!(
        get(&app, &format!("/checkpoint/{ORIGIN}")).await.status,
        StatusCode::NOT_FOUND
    );

    // The obstacle goes: the state is read back (none was ever written) and
    // the same request is cosigned.
    std::fs::remove_dir_all(&blocker).unwrap();
    let reply = post(&app, &tree.request(0, 7, &log_key())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
    assert!(std::fs::read_to_string(&blocker).unwrap().contains("\n7\n"));
}

/// The real witness started on a read-only data directory (a read-only
/// bind mount): monitors still get every log's cosigned checkpoint,
/// `add-checkpoint` gets 503 with `Retry-After`, `/healthz` names each log
/// and why; once the directory is writable, the witness opens in full by
/// itself and cosigns, from the state it had. Mounting needs root: where
/// it is refused, the test says so and passes without running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_directory_serves_checkpoints_and_cosigns_once_writable() {
    use gazette_tests::mount::ReadOnlyView;
    use gazette_tests::process::Server;
    let witness_bin = std::path::Path::new(env!("CARGO_BIN_EXE_gazette-witness"));
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("witness");
    std::fs::create_dir_all(&data).unwrap();
    init_witness(&data, &[log_key().verifier()]);
    let client = reqwest::Client::new();
    let mut tree = Tree::with_leaves(7, "log");
    let post = |url: String, body: String| {
        client
            .post(format!("{url}/add-checkpoint"))
            .body(body)
            .send()
    };
    let mut server = Server::start(witness_bin, &data, "127.0.0.1:0");
    let reply = post(server.url.clone(), tree.request(0, 7, &log_key()))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    server.stop();
    let view = match ReadOnlyView::mount(&data, &base.path().join("view")) {
        Ok(view) => view,
        Err(why) => {
            println!("SKIPPED: cannot bind-mount read-only here ({why}); this test needs root");
            return;
        }
    };

    let server = Server::start(witness_bin, view.path(), "127.0.0.1:0");
    let url = server.url.clone();
    let checkpoint = client
        .get(format!("{url}/checkpoint/{ORIGIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(checkpoint.status(), 200);
    assert!(checkpoint.text().await.unwrap().contains("\n7\n"));
    tree.grow(9, "log");
    let refused = post(url.clone(), tree.request(7, 9, &log_key()))
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.text().await.unwrap().contains("read-only"));
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let why = health.text().await.unwrap();
    assert!(
        why.starts_with(ORIGIN) && why.contains("read-only"),
        "{why}"
    );

    view.remount("rw").unwrap();
    let start = std::time::Instant::now();
    while client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .unwrap()
        .status()
        != 200
    {
        assert!(
            start.elapsed().as_secs() < 60,
            "the witness never took over"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let reply = post(url.clone(), tree.request(7, 9, &log_key()))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}
