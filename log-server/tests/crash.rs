//! Process-level crash test: the real `gazette-log` binary under concurrent
//! load from several submitters, killed with SIGKILL at random moments 20
//! times in a row and restarted each time. A round kills the log once a
//! random number of records was acknowledged in it (then after a random
//! pause), so every round has real load however slow the machine is.
//! After every restart: every acknowledged record is at its acknowledged
//! index, the checkpoint never went back (and the old one is a prefix of
//! the new), the whole tree re-verifies from the tiles served, and its last
//! entry commits to an index whose roots its entries give.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gazette_client::checkpoint::{Checkpoint, open_checkpoint};
use gazette_client::index::commitment::IndexCommitment;
use gazette_client::index::segment_root;
use gazette_client::merkle::{self, Hash, leaf_hash, stored_hashes_for_leaf};
use gazette_client::note::{KeyType, Signer, Verifier};
use gazette_client::record::Record;
use gazette_client::tiles::{HEIGHT, Tile, TileLevel, parse_entry_bundle};

use gazette_tests::process::{self, Server};

const ORIGIN: &str = "crash.example/log";
const AGENCY: &str = "agency.example.gov";
const ROUNDS: usize = 20;
/// Upper bound for anything the test waits on (against hanging only).
const DEADLINE: Duration = Duration::from_secs(300);

/// The binary under test, built by cargo for this package's tests.
fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

fn run(args: &[&str]) -> String {
    process::run(gazette_log(), args)
}

/// A small deterministic PRNG (xorshift64*), seeded per run and printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn record(agency: &Signer, n: u64) -> Vec<u8> {
    let digest = leaf_hash(&n.to_be_bytes()).0;
    Record::new(
        AGENCY,
        "evidence",
        &format!("E-{n}"),
        digest,
        "2026-11-24T09:00:00Z",
    )
    .sign(agency)
    .unwrap()
    .bytes
}

/// What submitters were told: index → exact record bytes.
type Acked = Arc<Mutex<HashMap<u64, Vec<u8>>>>;

async fn submitter(
    url: String,
    agency: Signer,
    next_id: Arc<AtomicU64>,
    acked: Acked,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();
    let mut rng = Rng(seed | 1);
    while !stop.load(Ordering::SeqCst) {
        let count = 1 + rng.below(20);
        let records: Vec<Vec<u8>> = (0..count)
            .map(|_| record(&agency, next_id.fetch_add(1, Ordering::SeqCst)))
            .collect();
        let answers: Vec<serde_json::Value> = if count == 1 {
            match client
                .post(format!("{url}/add"))
                .body(records[0].clone())
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => vec![r.json().await.unwrap_or_default()],
                _ => return, // the server was killed
            }
        } else {
            let texts: Vec<String> = records
                .iter()
                .map(|r| String::from_utf8(r.clone()).unwrap())
                .collect();
            let body = serde_json::json!({ "records": texts });
            match client
                .post(format!("{url}/add-batch"))
                .json(&body)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                    Ok(v) => v["results"].as_array().cloned().unwrap_or_default(),
                    Err(_) => return,
                },
                _ => return,
            }
        };
        let mut acked = acked.lock().unwrap();
        for (answer, bytes) in answers.iter().zip(&records) {
            if let Some(index) = answer["index"].as_u64() {
                assert_eq!(
                    answer["leaf_hash"].as_str().unwrap(),
                    leaf_hash(bytes).to_base64(),
                    "acknowledged leaf hash"
                );
                if let Some(previous) = acked.insert(index, bytes.clone()) {
                    assert_eq!(
                        previous, *bytes,
                        "two different records acknowledged at index {index}"
                    );
                }
            }
        }
    }
}

async fn get(client: &reqwest::Client, url: &str) -> Vec<u8> {
    let response = client.get(url).send().await.expect("GET");
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response.bytes().await.unwrap().to_vec()
}

/// Downloads the whole tree and checks it against the checkpoint, the
/// previous checkpoint and every acknowledgement.
async fn verify(
    url: &str,
    log_key: &Verifier,
    previous: Option<&Checkpoint>,
    acked: &Acked,
) -> Checkpoint {
    let client = reqwest::Client::new();
    let note = get(&client, &format!("{url}/checkpoint")).await;
    let checkpoint = open_checkpoint(&note, log_key)
        .expect("checkpoint verifies")
        .checkpoint;
    let size = checkpoint.size;
    let mut entries: Vec<Vec<u8>> = Vec::with_capacity(size as usize);
    let mut stored: Vec<Hash> = Vec::new();
    let mut bundle_index = 0;
    while (bundle_index << HEIGHT) < size {
        let width = (size - (bundle_index << HEIGHT)).min(1 << HEIGHT) as u32;
        let bundle = Tile {
            height: HEIGHT,
            level: TileLevel::Entries,
            index: bundle_index,
            width,
        };
        let data = get(&client, &format!("{url}/{}", bundle.path())).await;
        let tile = Tile {
            level: TileLevel::Hashes(0),
            ..bundle
        };
        let tile_data = get(&client, &format!("{url}/{}", tile.path())).await;
        let parsed = parse_entry_bundle(&bundle, &data).expect("bundle parses");
        gazette_client::tiles::check_bundle_against_tile(&bundle, &parsed, &tile_data)
            .expect("bundle matches its tile");
        for entry in parsed {
            let n = entries.len() as u64;
            let new = stored_hashes_for_leaf(n, leaf_hash(entry), &stored).unwrap();
            stored.extend(new);
            entries.push(entry.to_vec());
        }
        bundle_index += 1;
    }
    assert_eq!(
        merkle::tree_hash(size, &stored).unwrap(),
        checkpoint.root,
        "tree re-verifies from the tiles"
    );
    if let Some(previous) = previous {
        assert!(
            size >= previous.size,
            "checkpoint went back from {} to {size}",
            previous.size
        );
        assert_eq!(
            merkle::tree_hash(previous.size, &stored).unwrap(),
            previous.root,
            "the previous checkpoint is a prefix of the new one"
        );
    }
    for (index, bytes) in acked.lock().unwrap().iter() {
        assert!(
            *index < size,
            "acknowledged index {index} is beyond the recovered size {size}"
        );
        assert_eq!(
            &entries[*index as usize], bytes,
            "acknowledged record moved from index {index}"
        );
    }
    // The tree ends with the verifiable index's commitment, and the roots
    // it names are the entries' own (docs/INDEX.md, as a monitor checks).
    if let Some(last) = size.checked_sub(1) {
        let commitment = IndexCommitment::parse(&entries[last as usize])
            .filter(|c| c.size == last)
            .expect("the tree's last entry is its index commitment");
        for segment in &commitment.segments {
            let range = segment.start..segment.end;
            let rebuilt = segment_root(range.map(|i| (i, entries[i as usize].as_slice())));
            assert_eq!(
                rebuilt, segment.root,
                "index segment {}..{}",
                segment.start, segment.end
            );
        }
    }
    checkpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_moves_no_acknowledged_record() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("log");
    let d = data.to_str().unwrap();
    let init = run(&[
        "init",
        "--origin",
        ORIGIN,
        "--dir",
        d,
        "--listen",
        "127.0.0.1:0",
    ]);
    let log_key = Verifier::parse(
        init.lines()
            .find_map(|l| l.strip_prefix("log verifier key: "))
            .expect("init prints the vkey"),
    )
    .unwrap();
    let agency = Signer::from_seed(AGENCY, KeyType::Ed25519, [5; 32]).unwrap();
    run(&["agency", "add", &agency.verifier().to_string(), "--dir", d]);

    let acked: Acked = Arc::default();
    let next_id = Arc::new(AtomicU64::new(0));
    let mut previous: Option<Checkpoint> = None;
    let started = Instant::now();
    for round in 0..ROUNDS {
        let mut server = Server::start(gazette_log(), &data, "127.0.0.1:0");
        let url = server.url.clone();
        previous = Some(verify(&url, &log_key, previous.as_ref(), &acked).await);
        let stop = Arc::new(AtomicBool::new(false));
        let submitters: Vec<_> = (0..4)
            .map(|i| {
                tokio::spawn(submitter(
                    url.clone(),
                    agency.clone(),
                    next_id.clone(),
                    acked.clone(),
                    stop.clone(),
                    rng.next() ^ i,
                ))
            })
            .collect();
        // Counts, not time, decide when the load was enough; the pause
        // after it puts the kill anywhere in a request or a commit.
        let target = acked.lock().unwrap().len() + 10 + rng.below(200) as usize;
        let waiting = Instant::now();
        while acked.lock().unwrap().len() < target {
            assert!(
                !submitters.iter().all(|s| s.is_finished()),
                "round {round}: every submitter stopped before the kill"
            );
            assert!(
                waiting.elapsed() < DEADLINE,
                "round {round}: records are not being acknowledged"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.below(50))).await;
        server.stop();
        stop.store(true, Ordering::SeqCst);
        for s in submitters {
            s.await.unwrap();
        }
        eprintln!(
            "round {round}: killed at size ≥ {}, {} acknowledged",
            previous.as_ref().unwrap().size,
            acked.lock().unwrap().len()
        );
    }
    let server = Server::start(gazette_log(), &data, "127.0.0.1:0");
    let last = verify(&server.url, &log_key, previous.as_ref(), &acked).await;
    drop(server);
    eprintln!(
        "final size {}, {} acknowledged, {:?}",
        last.size,
        acked.lock().unwrap().len(),
        started.elapsed()
    );
}
