//! One witness per data directory: a second one on the same state would
//! hold its own idea of every log's tree. In a test binary of its own, as
//! the metrics it sets are process-wide.

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn a_second_witness_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    let witness = open(dir.path());
    let app = router(&witness);
    let tree = Tree::with_leaves(5, "log");
    assert_eq!(
        post(&app, &tree.request(0, 5, &log_key())).await.status,
        StatusCode::OK
    );
    // It would hold its own idea of the log's tree and could cosign another
    // tree of the same size.
    let err = gazette_witness::witness::Witness::open(dir.path())
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("in use by another process"), "{err}");
    drop(app);
    drop(witness);
    let again = gazette_witness::witness::Witness::open(dir.path()).expect("free once closed");
    assert_eq!(again.logs()[0].size, 5);
}
