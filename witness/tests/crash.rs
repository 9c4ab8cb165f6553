//! `kill -9` of the real witness, 20 times at random moments, under
//! concurrent submissions from two forks of one log (same key, a shared
//! prefix of 100 leaves, then different leaves). After every restart the
//! witness has not gone back below any size it answered with a
//! cosignature, and no two roots were ever cosigned for one size.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ORIGIN, Tree, init_witness, log_key};
use gazette_client::checkpoint::Checkpoint;
use gazette_client::cosignature::Cosignature;
use gazette_client::note::Note;

#[path = "support/process.rs"]
mod process;
use process::Server;

const SHARED: u64 = 100;
const LEAVES: u64 = 3000;

/// Cosignatures answered: (size, root) per branch.
type Acked = Arc<Mutex<Vec<(u64, String)>>>;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn submitter(url: String, tree: Arc<Tree>, acked: Acked, stop: Arc<AtomicBool>, seed: u64) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut rng = Rng(seed | 1);
    let mut known = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let size = (known + 1 + rng.below(40)).min(LEAVES);
        let body = tree.request(known, size, &log_key());
        let Ok(reply) = client
            .post(format!("{url}/add-checkpoint"))
            .body(body.clone())
            .send()
            .await
        else {
            return; // killed
        };
        let status = reply.status().as_u16();
        let Ok(text) = reply.text().await else { return };
        match status {
            200 => {
                let cosignature = Cosignature::parse_line(&text).unwrap();
                let note = &body[body.find("\n\n").unwrap() + 2..];
                assert!(cosignature.name == common::WITNESS);
                assert!(!Note::parse(note.as_bytes()).unwrap().text.is_empty());
                acked
                    .lock()
                    .unwrap()
                    .push((size, tree.root(size).to_base64()));
                known = size;
            }
            409 => known = text.trim().parse().unwrap(),
            // The witness follows the other fork: this one cannot go on.
            422 => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("unexpected {other}: {text}"),
        }
        if known >= LEAVES {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_never_makes_the_witness_go_back_or_cosign_two_roots_for_one_size() {
    let dir = tempfile::tempdir().unwrap();
    init_witness(dir.path(), &[log_key().verifier()]);
    let mut a = Tree::with_leaves(SHARED, "shared");
    let mut b = a.clone();
    a.grow(LEAVES, "fork a");
    b.grow(LEAVES, "fork b");
    let forks = [Arc::new(a), Arc::new(b)];
    let acked: Acked = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::new();
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut floor = 0;
    for round in 0..20 {
        let server = Server::start(dir.path());
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let tree = forks[i % 2].clone();
                tokio::spawn(submitter(
                    server.url.clone(),
                    tree,
                    acked.clone(),
                    stop.clone(),
                    round * 8 + i as u64 + 1,
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50 + rng.below(250))).await;
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.unwrap();
        }

        let server = Server::start(dir.path());
        let reply = client
            .get(format!("{}/checkpoint/{ORIGIN}", server.url))
            .send()
            .await
            .unwrap();
        let acked = acked.lock().unwrap().clone();
        let highest = acked.iter().map(|(s, _)| *s).max().unwrap_or(0);
        if reply.status() == 404 {
            assert_eq!(highest, 0, "round {round}: state lost");
            continue;
        }
        let note = reply.text().await.unwrap();
        let state = Checkpoint::parse(&Note::parse(note.as_bytes()).unwrap().text).unwrap();
        assert!(
            state.size >= highest,
            "round {round}: went back to {} below {highest}",
            state.size
        );
        assert!(
            state.size >= floor,
            "round {round}: went back from {floor} to {}",
            state.size
        );
        floor = state.size;
        let mut roots: HashMap<u64, &str> = HashMap::new();
        for (size, root) in &acked {
            let earlier = roots.insert(*size, root);
            assert!(
                earlier.is_none_or(|r| r == root),
                "two roots cosigned for size {size}"
            );
        }
        // Everything cosigned lies on the fork the witness now follows.
        let fork = forks
            .iter()
            .find(|f| f.root(state.size) == state.root)
            .expect("state on a fork");
        for (size, root) in &acked {
            assert_eq!(
                fork.root(*size).to_base64(),
                *root,
                "cosigned size {size} off the followed fork"
            );
        }
        server.kill();
    }
    assert!(
        floor > SHARED,
        "the submissions went beyond the shared prefix ({floor})"
    );
}
