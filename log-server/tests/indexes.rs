//! The two indexes: the record index (the sequencer's duplicate check)
//! and the lookup index (leaf hash → index) kept up by the indexer thread
//! behind the writer. Both are rebuilt from the tiles when lost, and the
//! indexer reads back from the tiles whatever it was not handed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use gazette_client::merkle::leaf_hash;
use gazette_client::note::{KeyType, Verifier, key_id};
use gazette_log::agencies;
use gazette_log::checkpoints::{CommittedCheckpoint, latest};
use gazette_log::index::{Digests, IndexBatch, LookupIndex};
use gazette_log::indexer::Indexer;
use gazette_log::storage::FsStorage;

/// Waits, at most 10 s, until the lookup index covers `size`.
fn wait_for_lookup(log: &gazette_log::log::Log, size: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while log.lookup.as_ref().unwrap().covered().unwrap() < size {
        assert!(Instant::now() < deadline, "the lookup index stays behind");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test]
async fn the_lookup_index_follows_the_writer_and_is_rebuilt_when_lost() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..300).map(body).collect();
    let mut indexes = indexes_of(&add_batch_ok(&app, &records[..200]).await);
    indexes.extend(indexes_of(&add_batch_ok(&app, &records[200..]).await));
    // After the opening entries, each batch ended with its commitment (at
    // FIRST + 200 and FIRST + 301).
    let layout = Layout::opened(&[200, 100]);
    assert_eq!(indexes, layout.records);
    let size = layout.size();
    wait_for_lookup(&log, size);
    // Records 252 and 253 sit at 255 and 256, on both sides of a tile edge.
    assert_eq!((indexes[252], indexes[253]), (255, 256));
    for n in [0usize, 199, 200, 252, 253, 299] {
        assert_eq!(
            log.lookup
                .as_ref()
                .unwrap()
                .leaf(&leaf_hash(&records[n]))
                .unwrap(),
            Some(indexes[n])
        );
    }
    assert_eq!(
        log.lookup
            .as_ref()
            .unwrap()
            .leaf(&leaf_hash(b"not logged"))
            .unwrap(),
        None
    );
    // The commitments (the opening one too) are entries, not records: not
    // looked up.
    let entries = served_entries(&app, size).await;
    let commitments: Vec<Vec<u8>> = layout
        .commitments
        .iter()
        .map(|&c| check_commitment(&entries, c).to_bytes())
        .collect();
    for c in &commitments {
        assert_eq!(
            log.lookup.as_ref().unwrap().leaf(&leaf_hash(c)).unwrap(),
            None
        );
    }
    drop(app);
    let dir_path = close(log);

    std::fs::remove_dir_all(dir_path.join("lookup")).unwrap();
    let log = open(&dir_path);
    assert_eq!(
        log.lookup.as_ref().unwrap().covered().unwrap(),
        size,
        "rebuilt on open"
    );
    assert_eq!(
        log.lookup
            .as_ref()
            .unwrap()
            .leaf(&leaf_hash(&records[299]))
            .unwrap(),
        Some(indexes[299])
    );
    for c in &commitments {
        assert_eq!(
            log.lookup.as_ref().unwrap().leaf(&leaf_hash(c)).unwrap(),
            None
        );
    }
    close(log);
}

/// Puts in `dir` what sled 0.34 leaves in a database directory.
fn make_sled_directory(dir: &std::path::Path) {
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::create_dir_all(dir.join("blobs")).unwrap();
    std::fs::write(dir.join("conf"), b"segment_size: 524288\n").unwrap();
    std::fs::write(dir.join("db"), [0x5a; 4096]).unwrap();
}

#[tokio::test]
async fn an_index_left_in_sled_or_half_created_is_rebuilt() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let records: Vec<Vec<u8>> = (0..40).map(body).collect();
    let indexes = indexes_of(&add_batch_ok(&api(&log), &records).await);
    let dir_path = close(log);
    // The opening entries, 40 records and their batch's commitment.
    let size = Layout::opened(&[40]).size();

    make_sled_directory(&dir_path.join("index"));
    // A creation cut short: a journal but no `version` file yet.
    std::fs::remove_file(dir_path.join("lookup/version")).unwrap();
    let log = open(&dir_path);
    assert_eq!(log.index.as_ref().unwrap().covered().unwrap(), size);
    assert_eq!(log.lookup.as_ref().unwrap().covered().unwrap(), size);
    assert_eq!(
        log.lookup
            .as_ref()
            .unwrap()
            .leaf(&leaf_hash(&records[7]))
            .unwrap(),
        Some(indexes[7])
    );
    assert!(!dir_path.join("index/conf").exists());
    assert!(dir_path.join("lookup/version").exists());
    close(log);
}

#[tokio::test]
async fn an_index_ahead_of_a_tree_restored_from_backup_is_built_anew() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let records: Vec<Vec<u8>> = (0..40).map(body).collect();
    let indexes = indexes_of(&add_batch_ok(&api(&log), &records[..20]).await);
    let dir_path = close(log);
    // After the opening entries, each batch ends with its commitment:
    // FIRST + 21 entries, then FIRST + 42.
    let layout = Layout::opened(&[20, 20]);
    let backup = tempfile::tempdir().unwrap();
    copy_dir(&dir_path.join("tile"), &backup.path().join("tile"));
    std::fs::copy(
        dir_path.join("checkpoint"),
        backup.path().join("checkpoint"),
    )
    .unwrap();

    let log = open(&dir_path);
    add_batch_ok(&api(&log), &records[20..]).await;
    wait_for_lookup(&log, layout.size());
    let dir_path = close(log);
    // The tree goes back to the first batch; the indexes still cover both.
    std::fs::remove_dir_all(dir_path.join("tile")).unwrap();
    copy_dir(&backup.path().join("tile"), &dir_path.join("tile"));
    std::fs::copy(
        backup.path().join("checkpoint"),
        dir_path.join("checkpoint"),
    )
    .unwrap();

    let log = open(&dir_path);
    let restored = Layout::opened(&[20]).size();
    assert_eq!(log.index.as_ref().unwrap().covered().unwrap(), restored);
    assert_eq!(log.lookup.as_ref().unwrap().covered().unwrap(), restored);
    assert_eq!(
        log.lookup
            .as_ref()
            .unwrap()
            .leaf(&leaf_hash(&records[10]))
            .unwrap(),
        Some(indexes[10])
    );
    assert_eq!(
        log.lookup
            .as_ref()
            .unwrap()
            .leaf(&leaf_hash(&records[30]))
            .unwrap(),
        None
    );
    // Record 30 is new again to the duplicate check: it gets the next index.
    let results = add_batch_ok(&api(&log), &records[30..31]).await;
    assert_eq!(results[0]["index"], serde_json::json!(restored));
    close(log);
}

#[tokio::test]
async fn a_data_directory_in_use_is_refused_and_left_alone() {
    let dir = new_log_dir();
    let log = open(dir.path());
    add_batch_ok(&api(&log), &[body(0)]).await;

    // A second log on the same directory, in this or another process.
    let err = gazette_log::log::Log::open(dir.path())
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("in use by another process"),
        "{err:#}"
    );
    let dir_path = close(log);

    // An older server still running on its sled index (sled locks `db`).
    make_sled_directory(&dir_path.join("lookup"));
    let sled = std::fs::File::open(dir_path.join("lookup/db")).unwrap();
    sled.try_lock().unwrap();
    let err = gazette_log::log::Log::open(&dir_path)
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("older gazette-log still running"),
        "{err:#}"
    );
    assert!(
        dir_path.join("lookup/db").exists(),
        "the running server's index is kept"
    );
    drop(sled);
    close(open(&dir_path));
}

#[tokio::test]
async fn the_indexer_reads_back_from_the_tiles_what_it_was_not_handed() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..300).map(body).collect();
    let indexes = indexes_of(&add_batch_ok(&app, &records).await);
    let (root, note) = (log.published().root, log.published().note.clone());
    // The opening entries, the records, and the commitment that ends their
    // batch.
    let size = Layout::opened(&[300]).size();
    assert_eq!(log.published().size, size);
    drop(app);
    let dir_path = close(log);

    // A fresh lookup index, handed only the end of the tree (from record
    // 290's entry on: the last records and the commitment).
    let fresh = tempfile::tempdir().unwrap();
    let index = Arc::new(LookupIndex::open(fresh.path(), Digests::Kept).unwrap());
    let storage = Arc::new(FsStorage::open(&dir_path).unwrap());
    let committed = latest(CommittedCheckpoint { size, root, note });
    let indexer = Indexer::start(index.clone(), storage, committed);
    indexer.offer(IndexBatch {
        first: indexes[290],
        count: size - indexes[290],
        items: Vec::new(),
        revocations: Vec::new(),
        registry: Vec::new(),
    });
    drop(indexer); // waits for the thread
    assert_eq!(index.covered().unwrap(), size);
    for n in [0usize, 150, 289, 290, 299] {
        assert_eq!(
            index.leaf(&leaf_hash(&records[n])).unwrap(),
            Some(indexes[n]),
            "entry {n}"
        );
    }
}

#[test]
fn a_small_order_or_cosigner_key_cannot_be_registered_as_an_agency() {
    let name = "weak.example.gov";
    // The identity point: every signature by it is trivially forgeable.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut key = vec![0x01];
    key.extend_from_slice(&identity);
    let vkey = format!(
        "{name}+{:08x}+{}",
        key_id(name, KeyType::Ed25519, &identity),
        base64(&key)
    );
    let weak = Verifier::parse(&vkey).unwrap();
    assert!(weak.is_weak());
    let why = agencies::check_key(&weak).unwrap_err();
    assert!(why.contains("small-order"), "{why}");
    assert!(agencies::check_key(&agency().verifier()).is_ok());

    // A file holding such a key is refused with its line.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agencies.txt");
    std::fs::write(&path, format!("{vkey} 0\n")).unwrap();
    let err = agencies::load(&path).unwrap_err().to_string();
    assert!(err.contains("small-order"), "{err}");
}
