//! The shared add-checkpoint session vectors (a Sigsum-style log, steps in
//! order, each with the status c2sp.org/tlog-witness gives it) replayed
//! through the witness's HTTP API: every status, and a cosignature that
//! verifies on every 200.

mod common;

use axum::http::StatusCode;
use common::*;
use gazette_client::cosignature::Cosignature;
use gazette_client::note::{Note, Verifier};
use serde_json::Value;

const SESSION: &str =
    include_str!("../../client/tests/vectors/witness_add_checkpoint_session.json");

#[tokio::test]
async fn every_step_of_the_session_gets_the_spec_status() {
    let session: Value = serde_json::from_str(SESSION).unwrap();
    let log = Verifier::parse(session["log_vkey"].as_str().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), std::slice::from_ref(&log));
    let witness = open(dir.path());
    let app = router(&witness);
    let steps = session["steps"].as_array().unwrap();
    assert!(steps.len() >= 5);
    let mut seen = std::collections::BTreeSet::new();
    for step in steps {
        let body = step["request_body"].as_str().unwrap();
        let expected = step["expect_status_c2sp"].as_u64().unwrap() as u16;
        let reply = post(&app, body).await;
        assert_eq!(
            reply.status.as_u16(),
            expected,
            "step {}: {}: {}",
            step["step"],
            step["why"],
            reply.body
        );
        seen.insert(expected);
        match reply.status {
            StatusCode::OK => {
                let note_start = body.find("\n\n").unwrap() + 2;
                let text = Note::parse(&body.as_bytes()[note_start..]).unwrap().text;
                let cosignature = Cosignature::parse_line(&reply.body).unwrap();
                cosignature.verify(&witness.verifier, &text).unwrap();
            }
            StatusCode::CONFLICT => {
                assert_eq!(reply.content_type, "text/x.tlog.size");
                let size: u64 = reply.body.strip_suffix('\n').unwrap().parse().unwrap();
                assert_eq!(witness.logs()[0].size, size);
            }
            _ => {}
        }
    }
    // The session exercises each status but 400 (tests/witness.rs has those).
    for status in [200, 403, 404, 409, 422] {
        assert!(seen.contains(&status), "no step with {status}: {seen:?}");
    }
}
