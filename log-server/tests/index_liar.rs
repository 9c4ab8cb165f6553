//! A log that lies about its verifiable index is caught by a monitor, with
//! the evidence. The liar is built as an honest log's tree with its last
//! commitment replaced by one whose root leaves a revocation out (so
//! "not revoked" would verify), signed with the log's own key, and served
//! by a plain static file server as a c2sp.org/tlog-tiles log (the real
//! `gazette-log` refuses to start on it: its commitment does not match its
//! entries). `gazette monitor` reads both trees from the static server: the
//! honest one passes; the liar exits 10 with the commitment, its index,
//! the committed root and the root the entries give.

mod common;

use std::path::Path;

use common::*;
use gazette_client::checkpoint::Checkpoint;
use gazette_client::index::commitment::IndexCommitment;
use gazette_client::index::segment_root;
use gazette_client::record::Record;
use gazette_log::storage::{FsStorage, Storage};
use gazette_log::stored::for_each_entry;
use gazette_log::tree::Edge;

/// Writes `entries` as a static c2sp.org/tlog-tiles log in `dir`: tiles,
/// entry bundles and a checkpoint signed with the log's key, and the
/// `info` the monitor reads the agency keys from.
fn write_static_log(dir: &Path, entries: &[Vec<u8>]) {
    std::fs::create_dir_all(dir).unwrap();
    let storage = FsStorage::open(dir).unwrap();
    let mut edge = Edge::empty();
    let objects = edge.append(entries).unwrap();
    let note = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: edge.size(),
        root: edge.root(),
        extensions: Vec::new(),
    }
    .sign(&log_signer())
    .unwrap();
    storage.commit(&objects, note.as_bytes()).unwrap();
    let info = serde_json::json!({
        "origin": ORIGIN,
        "agencies": [{ "name": AGENCY, "vkey": agency().verifier().to_string(), "since": 0 }],
    });
    std::fs::write(dir.join("info"), info.to_string()).unwrap();
}

/// Runs `gazette monitor --once` against `url`; its exit code and stderr.
fn monitor(url: &str, work: &Path) -> (i32, String) {
    let policy = work.join("policy.txt");
    std::fs::write(
        &policy,
        format!("log {}\nquorum none\n", log_signer().verifier()),
    )
    .unwrap();
    let (code, _, err) = gazette_tests::run_status(
        "gazette",
        &[
            "monitor",
            "--log",
            url,
            "--policy",
            policy.to_str().unwrap(),
            // A static log signed by the test, with no witnesses.
            "--no-witnesses",
            "--state",
            work.join("trusted").to_str().unwrap(),
            "--progress",
            work.join("monitor.json").to_str().unwrap(),
            "--once",
        ],
    );
    (code, err)
}

#[tokio::test]
async fn a_monitor_catches_a_commitment_that_leaves_a_revocation_out() {
    // The honest log: after its opening entries (the agency's registration
    // and its commitment), a record, then its revocation, each in its own
    // batch (entries: record FIRST, commitment FIRST + 1, revocation
    // FIRST + 2, commitment FIRST + 3).
    let (logged, commitment_at) = (FIRST, FIRST + 3);
    let revoked_at = FIRST + 2;
    let size = FIRST + 4;
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    assert_eq!(add_ok(&app, &body(0)).await, logged);
    let r0 = record(0);
    let revocation = Record::revocation(
        AGENCY,
        "REV-0",
        r0.digest,
        "2026-11-25T00:00:00Z",
        &r0.kind,
        &r0.id,
    )
    .sign(&agency())
    .unwrap()
    .bytes;
    assert_eq!(add_ok(&app, &revocation).await, revoked_at);
    assert_eq!(common::size(&app).await, size);
    drop(app);
    let data = close(log);
    let storage = FsStorage::open(&data).unwrap();
    let mut entries = Vec::new();
    for_each_entry(&storage, size, 0, size, |_, e| entries.push(e.to_vec())).unwrap();
    let honest = IndexCommitment::parse(&entries[commitment_at as usize])
        .expect("the last entry is the commitment");
    assert_eq!(honest.size, commitment_at);

    // The lie: the segment holding the revocation, rooted as if it were not
    // there. A lookup of record 0's name against it proves "not revoked".
    let mut forged = honest.clone();
    let segment = forged
        .segments
        .iter_mut()
        .find(|s| s.covers(revoked_at))
        .expect("a segment covers the revocation");
    let without: Vec<(u64, &[u8])> = (segment.start..segment.end)
        .filter(|&i| i != revoked_at)
        .map(|i| (i, entries[i as usize].as_slice()))
        .collect();
    segment.root = segment_root(without);
    assert_ne!(forged, honest);
    let mut lying = entries.clone();
    lying[commitment_at as usize] = forged.to_bytes();

    let root = tempfile::tempdir().unwrap();
    for (name, entries, lies) in [("honest", &entries, false), ("liar", &lying, true)] {
        let served = root.path().join(name);
        write_static_log(&served, entries);
        let server = gazette_tests::process::StaticServer::start(&served);
        let work = root.path().join(format!("{name}-monitor"));
        std::fs::create_dir_all(&work).unwrap();
        let (code, err) = monitor(&server.url, &work);
        if !lies {
            assert_eq!(code, 0, "the honest log: {err}");
            let progress: serde_json::Value =
                serde_json::from_slice(&std::fs::read(work.join("monitor.json")).unwrap()).unwrap();
            assert_eq!(
                progress["index_segments"].as_array().unwrap().len(),
                honest.segments.len(),
                "the monitor checked the honest commitment's segments"
            );
            continue;
        }
        assert_eq!(code, 10, "the liar: {err}");
        assert!(err.contains("lied about its index"), "{err}");
        let evidence: serde_json::Value = serde_json::from_slice(
            &std::fs::read(work.join("monitor.index-evidence.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(evidence["commitment_index"], commitment_at);
        assert_eq!(
            evidence["commitment"],
            String::from_utf8(forged.to_bytes()).unwrap()
        );
        let committed = evidence["committed_root"].as_str().unwrap();
        let rebuilt = evidence["root_from_entries"].as_str().unwrap();
        assert_eq!(committed, segment_root_of(&forged, revoked_at).to_base64());
        assert_eq!(rebuilt, segment_root_of(&honest, revoked_at).to_base64());
        // The log's own server refuses to run on such a tree.
        for file in ["gazette-log.toml", "log.key", "agencies.txt"] {
            std::fs::copy(data.join(file), served.join(file)).unwrap();
        }
        let refused = gazette_log::log::Log::open(&served)
            .err()
            .expect("the liar's tree is refused");
        assert!(
            format!("{refused:#}").contains(&format!("but the commitment at {commitment_at} says")),
            "{refused:#}"
        );
    }
}

fn segment_root_of(c: &IndexCommitment, index: u64) -> gazette_client::merkle::Hash {
    c.segments.iter().find(|s| s.covers(index)).unwrap().root
}
