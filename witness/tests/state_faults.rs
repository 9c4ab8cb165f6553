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
