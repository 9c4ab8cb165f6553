//! The witness's promises, in process: malformed requests are 400; a fork
//! (a second root for a cosigned size, or an extension that is not one) is
//! refused and changes nothing; concurrent requests never get two roots
//! cosigned for one size; the state survives a restart and never goes
//! back; a log once followed cannot be dropped silently.

mod common;

use std::collections::HashMap;

use axum::http::StatusCode;
use common::*;
use gazette_client::checkpoint::Checkpoint;
use gazette_client::cosignature::Cosignature;
use gazette_client::note::{KeyType, Note, Signer};
use gazette_client::policy::Policy;

fn text_of(body: &str) -> String {
    let note = &body[body.find("\n\n").unwrap() + 2..];
    Note::parse(note.as_bytes()).unwrap().text
}

/// The lowercase hex SHA-256 of `origin`, computed here.
fn origin_hash(origin: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(origin.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The log's latest cosigned checkpoint, as `/checkpoint/<origin>` and
/// the monitoring path `/<hex SHA-256 of the origin>/checkpoint` (checked
/// to agree) serve it.
async fn cosigned_size(app: &axum::Router) -> Option<(u64, String)> {
    let reply = get(app, &format!("/checkpoint/{ORIGIN}")).await;
    let monitored = get(app, &format!("/{}/checkpoint", origin_hash(ORIGIN))).await;
    assert_eq!(
        (monitored.status, &monitored.body),
        (reply.status, &reply.body)
    );
    if reply.status == StatusCode::NOT_FOUND {
        return None;
    }
    let checkpoint = Checkpoint::parse(&Note::parse(reply.body.as_bytes()).unwrap().text).unwrap();
    Some((checkpoint.size, reply.body))
}

#[tokio::test]
async fn malformed_requests_are_400_and_unknown_logs_404() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    let witness = open(dir.path());
    let app = router(&witness);
    let tree = Tree::with_leaves(10, "a");
    let good = tree.request(0, 10, &log_key());
    for bad in [
        String::new(),
        "old 0\n".to_owned(),
        good.replacen("old 0", "old 00", 1),
        good.replacen("old 0", "old -1", 1),
        good.replacen("\n\n", "\nnot base64\n\n", 1),
        good.replacen(ORIGIN, "", 1),
        tree.request(0, 10, &log_key())
            .replacen("old 0", "old 11", 1),
    ] {
        let reply = post(&app, &bad).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad:?}: {}",
            reply.body
        );
    }
    let stranger = Signer::from_seed("other.example/log", KeyType::Ed25519, [7; 32]).unwrap();
    let reply = post(&app, &tree.request(0, 10, &stranger)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let impostor = Signer::from_seed(ORIGIN, KeyType::Ed25519, [8; 32]).unwrap();
    let reply = post(&app, &tree.request(0, 10, &impostor)).await;
    assert!(reply.status == StatusCode::FORBIDDEN || reply.status == StatusCode::NOT_FOUND);
    assert!(cosigned_size(&app).await.is_none(), "nothing was cosigned");
    assert_eq!(post(&app, &good).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_forking_log_is_refused_and_the_state_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    let witness = open(dir.path());
    let app = router(&witness);
    let honest = Tree::with_leaves(100, "honest");
    let reply = post(&app, &honest.request(0, 50, &log_key())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let (size, before) = cosigned_size(&app).await.unwrap();
    assert_eq!(size, 50);

    // The log key signs a second tree of size 50: same size, other root.
    let mut fork = Tree::with_leaves(49, "honest");
    fork.grow(50, "forged");
    assert_ne!(fork.root(50), honest.root(50));
    let reply = post(&app, &fork.request(50, 50, &log_key())).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    // And an extension that does not extend: the forked tree grown to 80,
    // with its own (valid for it) consistency proof from 50.
    fork.grow(80, "forged");
    let reply = post(&app, &fork.request(50, 80, &log_key())).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    // A proof that is simply wrong for the honest extension.
    let mut broken = honest.request(50, 80, &log_key());
    let first_proof_line = broken.lines().nth(1).unwrap().to_owned();
    broken = broken.replacen(&first_proof_line, &honest.root(3).to_base64(), 1);
    let reply = post(&app, &broken).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(cosigned_size(&app).await.unwrap(), (50, before.clone()));
    drop(app);
    drop(witness);
    let witness = open(dir.path());
    let app = router(&witness);
    assert_eq!(
        cosigned_size(&app).await.unwrap(),
        (50, before),
        "and on disk"
    );
    // The honest log goes on.
    assert_eq!(
        post(&app, &honest.request(50, 100, &log_key()))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_never_get_two_roots_cosigned_for_one_size() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    let witness = open(dir.path());
    let app = router(&witness);
    let base = Tree::with_leaves(20, "base");
    assert_eq!(
        post(&app, &base.request(0, 20, &log_key())).await.status,
        StatusCode::OK
    );
    // 16 branches from size 20, each claiming sizes 21..=30 with its own leaves.
    let branches: Vec<Tree> = (0..16)
        .map(|b| {
            let mut t = base.clone();
            t.grow(30, &format!("branch {b}"));
            t
        })
        .collect();
    let mut tasks = Vec::new();
    for (b, branch) in branches.iter().enumerate() {
        for size in 21..=30u64 {
            let (app, body) = (app.clone(), branch.request(20, size, &log_key()));
            tasks.push(tokio::spawn(async move {
                let reply = post(&app, &body).await;
                (b, size, reply.status, body)
            }));
        }
    }
    let mut cosigned: HashMap<u64, String> = HashMap::new();
    let mut accepted = 0;
    for task in tasks {
        let (b, size, status, body) = task.await.unwrap();
        match status {
            StatusCode::OK => {
                accepted += 1;
                let root = branches[b].root(size).to_base64();
                let earlier = cosigned.insert(size, root.clone());
                assert!(
                    earlier.is_none_or(|r| r == root),
                    "two roots cosigned for size {size}"
                );
                assert!(text_of(&body).contains(&root));
            }
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {}
            other => panic!("unexpected {other}"),
        }
    }
    // Every request claimed old 20: exactly the first to be checked moved it.
    assert_eq!(accepted, 1, "{cosigned:?}");
}

#[tokio::test]
async fn the_state_survives_a_restart_and_never_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    let tree = Tree::with_leaves(300, "log");
    let witness = open(dir.path());
    let app = router(&witness);
    let mut old = 0;
    for size in [1u64, 7, 8, 100, 255, 256, 257] {
        let reply = post(&app, &tree.request(old, size, &log_key())).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{old} → {size}: {}",
            reply.body
        );
        let cosignature = Cosignature::parse_line(&reply.body).unwrap();
        cosignature
            .verify(
                &witness.verifier,
                &text_of(&tree.request(old, size, &log_key())),
            )
            .unwrap();
        old = size;
    }
    drop(app);
    drop(witness);

    let witness = open(dir.path());
    let app = router(&witness);
    let (size, note) = cosigned_size(&app).await.unwrap();
    assert_eq!(size, 257);
    // The served checkpoint verifies under a policy naming log and witness.
    let policy = format!(
        "log {}\nwitness w {}\nquorum w\n",
        log_key().verifier(),
        witness.verifier
    );
    Policy::parse(policy.as_bytes())
        .unwrap()
        .verify_checkpoint(note.as_bytes())
        .unwrap();
    // Going back: a stale old size is a 409 naming 257; an older checkpoint too.
    for (from, to) in [(100, 200), (0, 100), (257, 100)] {
        let body = if from > to {
            // No proof can go backwards: old beyond the checkpoint is a 400.
            format!("old {from}\n\n{}", tree.signed(to, &log_key()))
        } else {
            tree.request(from, to, &log_key())
        };
        let reply = post(&app, &body).await;
        let expected = if from == 257 {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::CONFLICT
        };
        assert_eq!(reply.status, expected, "{from} → {to}");
        if expected == StatusCode::CONFLICT {
            assert_eq!(reply.body, "257\n");
            assert_eq!(reply.content_type, "text/x.tlog.size");
        }
    }
    // The same checkpoint again is fine (idempotent), and forward goes on.
    assert_eq!(
        post(&app, &tree.request(257, 257, &log_key())).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post(&app, &tree.request(257, 300, &log_key())).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_followed_log_cannot_be_dropped_silently() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    {
        let witness = open(dir.path());
        let app = router(&witness);
        let tree = Tree::with_leaves(5, "log");
        assert_eq!(
            post(&app, &tree.request(0, 5, &log_key())).await.status,
            StatusCode::OK
        );
    }
    // Removing the log from logs.txt by hand stops the witness from starting.
    std::fs::write(dir.path().join("logs.txt"), "# nothing\n").unwrap();
    let err = gazette_witness::witness::Witness::open(dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(ORIGIN) && err.contains("no longer lists"),
        "{err}"
    );
    // A different key for the same origin is refused by add-log.
    gazette_witness::logs::add(&dir.path().join("logs.txt"), &log_key().verifier()).unwrap();
    let other = Signer::from_seed(ORIGIN, KeyType::Ed25519, [99; 32]).unwrap();
    let err =
        gazette_witness::logs::add(&dir.path().join("logs.txt"), &other.verifier()).unwrap_err();
    assert!(err.to_string().contains("already followed"), "{err}");
    assert!(gazette_witness::witness::Witness::open(dir.path()).is_ok());
}

#[tokio::test]
async fn monitors_see_each_log_and_operators_see_metrics() {
    // A log no other test here uses: the size gauge is process-wide.
    const METRICS_ORIGIN: &str = "metrics.test.example/log";
    let log = Signer::from_seed(METRICS_ORIGIN, KeyType::Ed25519, [43; 32]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log.verifier()]);
    let witness = open(dir.path());
    let app = router(&witness);
    let tree = Tree::with_leaves(12, "log");
    assert_eq!(
        post(&app, &tree.request(0, 12, &log)).await.status,
        StatusCode::OK
    );
    let reply = get(&app, "/logs").await;
    assert_eq!(reply.status, StatusCode::OK);
    let logs: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(logs["witness"], witness.verifier.to_string());
    assert_eq!(logs["logs"][0]["origin"], METRICS_ORIGIN);
    assert_eq!(logs["logs"][0]["size"], 12);
    assert_eq!(
        get(&app, "/checkpoint/unknown.example/log").await.status,
        StatusCode::NOT_FOUND
    );
    // The monitoring path: the hash of no followed origin, and a followed
    // one's in capitals (the path is lowercase hex).
    let hash = origin_hash(METRICS_ORIGIN);
    assert_eq!(
        get(&app, &format!("/{hash}/checkpoint")).await.status,
        StatusCode::OK
    );
    for other in [hash.to_uppercase(), "00".repeat(32)] {
        assert_eq!(
            get(&app, &format!("/{other}/checkpoint")).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let metrics = get(&app, "/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .body
            .contains("gazette_witness_add_checkpoint_total{status=\"200\"}"),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains(&format!(
            "gazette_witness_log_size{{origin=\"{METRICS_ORIGIN}\"}} 12"
        )),
        "{}",
        metrics.body
    );
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
}
