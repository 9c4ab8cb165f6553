//! Storage under a trickle: one record at a time, each its own commit, each
//! commit a new partial tile and bundle at the right edge. Once a wider or
//! full tile at a position is durable, the partial tiles it supersedes are
//! removed (here with `partial_tile_grace_s = 0`, so no clock is
//! involved), and every checkpoint the log published along the way still
//! verifies from what is stored: from the data directory (partial tiles
//! cut from wider ones where they are gone) and through the log's API,
//! which serves every tile its tree implies.

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
    assert!(left.is_empty(), "superseded partial tiles left: {left:?}");
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

    // Removed partial tiles are still served: one beside a full tile, cut
    // from it; one at the right edge, cut from the wider one there.
    let level_0_partial = |note: &str| {
        tiles_for_size(8, size_and_root(note).0)
            .into_iter()
            .find(|t| !t.is_full() && t.hash_level() == Some(0))
            .unwrap()
    };
    let newest = level_0_partial(&published[published.len() - 1]);
    for note in [&published[2], &published[published.len() - 2]] {
        let partial = level_0_partial(note);
        assert!(
            storage.read(&partial.path()).unwrap().is_none(),
            "{partial}"
        );
        let wider = match partial.index == newest.index {
            true => newest,
            false => partial.at_full_width(),
        };
        let served = app
            .get(format!("{}/{}", server.url, partial.path()))
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200, "{partial}");
        let stored = storage.read(&wider.path()).unwrap().unwrap();
        assert_eq!(
            served.bytes().await.unwrap(),
            stored[..32 * partial.width as usize],
            "{partial} from {wider}"
        );
    }
}

/// A copy taken while the log ran (README: the checkpoint first, then
/// `tile/`) may miss the checkpoint's partial tiles, superseded and removed
/// in between. Started on such a copy, the log restores them from the wider
/// tiles before it discards what lies beyond its checkpoint, and serves
/// that checkpoint's tree whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_whose_checkpoint_lost_its_partial_tiles_starts_and_serves_them() {
    let dir = new_log_dir();
    set_config(dir.path(), "partial_tile_grace_s", "0");
    let mut server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let client = reqwest::Client::new();
    let add = |n: u64| {
        let (client, url) = (client.clone(), server.url.clone());
        async move {
            let reply = client
                .post(format!("{url}/add"))
                .body(body(n))
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200, "record {n}");
        }
    };
    for n in 0..10 {
        add(n).await;
    }
    let copied = std::fs::read(dir.path().join("checkpoint")).unwrap();
    let (size, root) = size_and_root(std::str::from_utf8(&copied).unwrap());
    for n in 10..20 {
        add(n).await;
    }
    let storage = FsStorage::open(dir.path()).unwrap();
    // The copied checkpoint's right edge: its partial hash tile and bundle.
    assert!(size < 256, "{size}");
    let edge = tiles_for_size(8, size);
    assert_eq!(edge.len(), 1, "{edge:?}");
    let edge = [edge[0], edge[0].entries()];
    for _ in 0..600 {
        if edge
            .iter()
            .all(|t| storage.read(&t.path()).unwrap().is_none())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop();
    // The copy: the older checkpoint with the tiles as they are now.
    std::fs::write(dir.path().join("checkpoint"), &copied).unwrap();
    let server = Server::start(gazette_log(), dir.path(), "127.0.0.1:0");
    let note = reqwest::get(format!("{}/checkpoint", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(size_and_root(&note), (size, root));
    let tiles = StoredTiles(&storage);
    let reader = TileHashReader::new(size, root, &tiles);
    assert_eq!(tree_hash(size, &reader).unwrap(), root);
    // Its right edge is stored again, and nothing beyond it.
    for tile in edge {
        let full = tile.at_full_width().path();
        assert_eq!(
            storage.partial_widths(&full).unwrap(),
            [tile.width],
            "{tile}"
        );
    }
}
