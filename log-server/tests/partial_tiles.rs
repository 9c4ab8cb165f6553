//! Storage under a trickle: one record at a time, each its own commit, each
//! commit a new partial tile and bundle at the right edge. Once the full
//! tile at a position is durable, the partial tiles beside it are removed
//! (here with `partial_tile_grace_s = 0`, so no clock is involved), and
//! every checkpoint the log published along the way still verifies from
//! what is stored: from the data directory (partial tiles cut from full
//! ones where they are gone) and through the log's API, which serves every
//! tile its tree implies.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use gazette_client::checkpoint::Checkpoint;
use gazette_client::merkle::{Hash, tree_hash, verify_consistency};
use gazette_client::note::Note;
use gazette_client::tiles::{Tile, TileHashReader, tiles_for_size};
use gazette_log::storage::{FsStorage, Storage};
use gazette_log::stored::StoredTiles;
use gazette_tests::process::Server;

fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

/// How many records are added one at a time: each batch is the record and
/// its index commitment, so the tree crosses two full tiles.
const RECORDS: u64 = 300;

fn size_and_root(note: &str) -> (u64, Hash) {
    let checkpoint = Checkpoint::parse(&Note::parse(note.as_bytes()).unwrap().text).unwrap();
    (checkpoint.size, checkpoint.root)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_record_commits_leave_no_superseded_partial_tiles_and_every_checkpoint_verifies() {
    let dir = new_log_dir();
    set_config(dir.path(), "partial_tile_grace_s", "0");
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let client = reqwest::Client::new();
    let mut published = Vec::new();
    for n in 0..RECORDS {
        let reply = client
            .post(format!("{}/add", server.url))
            .body(body(n))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "record {n}");
        let note = client
            .get(format!("{}/checkpoint", server.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        published.push(note);
    }
    let (size, root) = size_and_root(published.last().unwrap());
    assert!(size >= 2 * 256, "the tree crossed two full tiles: {size}");

    // The pruner works behind the committer: wait (bounded) until it has
    // removed the partial tiles beside every full tile.
    let storage = FsStorage::open(dir.path()).unwrap();
    let mut left = storage.superseded_partial_tiles().unwrap();
    for _ in 0..600 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = storage.superseded_partial_tiles().unwrap();
    }
    assert!(
        left.is_empty(),
        "partial tiles still beside full ones: {left:?}"
    );
    let full: Vec<Tile> = tiles_for_size(8, size)
        .into_iter()
        .filter(Tile::is_full)
        .collect();
    assert_eq!(full.len(), 2, "{full:?}");
    for tile in full.iter().flat_map(|t| [*t, t.entries()]) {
        let beside = dir.path().join(format!("{}.p", tile.path()));
        assert!(!beside.exists(), "{}", beside.display());
    }
    // The right edge keeps its partial tiles: the newest checkpoint needs them.
    for tile in tiles_for_size(8, size).iter().filter(|t| !t.is_full()) {
        assert!(storage.read(&tile.path()).unwrap().is_some(), "{tile}");
    }

    // Every published checkpoint, from the stored tiles (authenticated
    // against its root) and through the API (a consistency proof to the
    // newest, from tiles the log cuts from full ones where needed).
    let app = reqwest::Client::new();
    for note in &published {
        let (old, old_root) = size_and_root(note);
        let tiles = StoredTiles(&storage);
        let reader = TileHashReader::new(old, old_root, &tiles);
        assert_eq!(tree_hash(old, &reader).unwrap(), old_root, "size {old}");
        let answer: serde_json::Value = app
            .get(format!(
                "{}/proof/consistency?old={old}&size={size}",
                server.url
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let proof: Vec<Hash> = answer["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
            .collect();
        verify_consistency(old, size, &old_root, &root, &proof)
            .unwrap_or_else(|e| panic!("size {old} to {size}: {e}"));
    }

    // A removed partial tile is still served, cut from the full tile.
    let (old, _) = size_and_root(&published[2]);
    let partial = tiles_for_size(8, old)
        .into_iter()
        .find(|t| !t.is_full() && t.hash_level() == Some(0))
        .unwrap();
    assert!(storage.read(&partial.path()).unwrap().is_none());
    let served = app
        .get(format!("{}/{}", server.url, partial.path()))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let full = storage
        .read(&partial.at_full_width().path())
        .unwrap()
        .unwrap();
    assert_eq!(
        served.bytes().await.unwrap(),
        full[..32 * partial.width as usize]
    );
}
