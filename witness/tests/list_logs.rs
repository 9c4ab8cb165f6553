//! `gazette-witness list-logs` beside a running witness: it reads the logs
//! and their states and leaves the witness's unfinished writes alone (its
//! own process, so the witness's metrics stay other tests' own).

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn list_logs_reads_without_touching_a_running_witness_unfinished_writes() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    {
        let witness = open(dir.path());
        let tree = Tree::with_leaves(7, "log");
        let reply = post(&router(&witness), &tree.request(0, 7, &log_key())).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    // A state write of the serving witness, caught half-way.
    let unfinished = dir.path().join("state/.0123.tmp-1");
    std::fs::write(&unfinished, "half a state").unwrap();
    let listed = gazette_tests::process::run(
        std::path::Path::new(env!("CARGO_BIN_EXE_gazette-witness")),
        &["list-logs", "--dir", dir.path().to_str().unwrap()],
    );
    assert_eq!(
        listed,
        format!("{ORIGIN}\t7\t{}\n", log_key().verifier()),
        "{listed}"
    );
    assert!(
        unfinished.exists(),
        "list-logs removed the witness's temporary file"
    );
    // The witness itself, when it starts, cleans up what no write finished.
    drop(open(dir.path()));
    assert!(!unfinished.exists());
}
