//! `kill -9` of the real witness, 20 times at random moments, under
//! concurrent submissions from two forks of one log (same key, a shared
//! prefix of 100 leaves, then different leaves). After every restart the
//! witness has not gone back below any size it answered with a
//! cosignature, and no two roots were ever cosigned for one size. A round
//! kills the witness once a random number of cosignatures was answered in
//! it (then after a random pause), so every round has real load however
//! slow the machine is.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{ORIGIN, Tree, init_witness, log_key};
use gazette_client::checkpoint::Checkpoint;
use gazette_client::cosignature::Cosignature;
use gazette_client::note::Note;

use gazette_tests::process::Server;

const SHARED: u64 = 100;
const LEAVES: u64 = 3000;
/// Upper bound for anything the test waits on (against hanging only).
const DEADLINE: Duration = Duration::from_secs(300);

/// The binary under test, built by cargo for this package's tests.
fn gazette_witness() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-witness"))
}

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
        .timeout(DEADLINE)
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
        let mut server = Server::start(gazette_witness(), dir.path(), "127.0.0.1:0");
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
        // Counts, not time, decide when the load was enough; the pause
        // after it puts the kill anywhere in a request or a state write.
        let target = acked.lock().unwrap().len() + 2 + rng.below(20) as usize;
        let waiting = Instant::now();
        while acked.lock().unwrap().len() < target {
            assert!(
                !tasks.iter().all(|t| t.is_finished()),
                "round {round}: every submitter stopped before the kill"
            );
            assert!(
                waiting.elapsed() < DEADLINE,
                "round {round}: no cosignatures are being answered"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.below(50))).await;
        server.stop();
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.unwrap();
        }

        let mut server = Server::start(gazette_witness(), dir.path(), "127.0.0.1:0");
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
        server.stop();
    }
    assert!(
        floor > SHARED,
        "the submissions went beyond the shared prefix ({floor})"
    );
}
