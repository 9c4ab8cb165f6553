//! The **pruner** thread: removes superseded partial tiles. Every commit
//! that does not end on a tile boundary writes a new partial tile (and
//! bundle) at the right edge, so a log fed one record at a time would
//! otherwise keep up to 255 ever wider copies of every tile: measured, 139
//! times the records' own bytes. Once a wider or the full tile at a
//! position is durable, the narrower ones there are removed, after a grace
//! period (`[storage] partial_tile_grace_s`).
//!
//! Readers keep every tile a checkpoint they hold implies: this log's read
//! path cuts a removed partial tile from the wider one (`stored::read_tile`),
//! and c2sp.org/tlog-tiles clients fall back to the full tile. The grace
//! period serves readers of the files themselves (a file server or a
//! mirror of the `tile/` directory): a client that has just read a
//! checkpoint can still fetch its partial tiles there.
//!
//! Off the write path: the committer only hands over the paths it made
//! durable. A stop drops what was still waiting; the next start finds
//! those tiles again (`Storage::superseded_partial_tiles`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use gazette_client::tiles::{Tile, TileLevel};

use crate::storage::Storage;

/// The committer's side of the pruner thread.
#[derive(Clone)]
pub struct Pruner {
    tx: mpsc::Sender<(Instant, Vec<String>)>,
}

impl Pruner {
    /// Starts the pruner thread over `storage`, removing partial tiles
    /// `grace` after a wider or full tile at their position was written.
    /// It first looks for the superseded partial tiles an earlier run
    /// left, and ends when every [`Pruner`] handle is dropped.
    pub fn start(storage: Arc<dyn Storage>, grace: Duration) -> Pruner {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("pruner".into())
            .spawn(move || run(storage.as_ref(), grace, rx))
            .expect("spawn the pruner thread");
        Pruner { tx }
    }

    /// `objects` (tiles and bundles) were just made durable: the partial
    /// tiles they supersede are to be removed once the grace period has
    /// passed.
    pub fn written(&self, objects: &[(String, Vec<u8>)]) {
        let paths = objects.iter().map(|(path, _)| path.clone()).collect();
        // The thread is gone only at shutdown: nothing to remove then.
        let _ = self.tx.send((Instant::now(), paths));
    }
}

/// What to remove.
enum Removal {
    /// Every partial tile beside this full tile.
    Beside(String),
    /// This partial tile.
    Tile(String),
}

/// The newest partial tile written at each position of the right edge,
/// which the next wider or full tile there supersedes.
#[derive(Default)]
struct RightEdge(HashMap<(TileLevel, u64), String>);

impl RightEdge {
    /// What writing `paths` supersedes.
    fn superseded(&mut self, paths: Vec<String>) -> Vec<Removal> {
        let mut removals = Vec::new();
        for path in paths {
            let Ok(tile) = Tile::parse_path(&path) else {
                continue;
            };
            let position = (tile.level, tile.index);
            if tile.is_full() {
                self.0.remove(&position);
                removals.push(Removal::Beside(path));
            } else if let Some(older) = self.0.insert(position, path.clone())
                // The same tile written again is not superseded.
                && older != path
            {
                removals.push(Removal::Tile(older));
            }
        }
        removals
    }
}

fn run(storage: &dyn Storage, grace: Duration, rx: mpsc::Receiver<(Instant, Vec<String>)>) {
    let mut due: VecDeque<(Instant, Vec<Removal>)> = VecDeque::new();
    let mut edge = RightEdge::default();
    match storage.superseded_partial_tiles() {
        Ok(left) if !left.is_empty() => {
            tracing::info!(
                tiles = left.len(),
                "removing superseded partial tiles an earlier run left"
            );
            due.push_back((
                Instant::now(),
                left.into_iter().map(Removal::Tile).collect(),
            ));
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "looking for superseded partial tiles"),
    }
    loop {
        let now = Instant::now();
        while due
            .front()
            .is_some_and(|(written, _)| now >= *written + grace)
        {
            let (_, removals) = due.pop_front().expect("a front");
            remove(storage, &removals);
        }
        let next = match due.front() {
            Some((written, _)) => {
                rx.recv_timeout((*written + grace).saturating_duration_since(now))
            }
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok((written, paths)) => {
                let removals = edge.superseded(paths);
                if !removals.is_empty() {
                    due.push_back((written, removals));
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn remove(storage: &dyn Storage, removals: &[Removal]) {
    let mut removed = 0;
    for removal in removals {
        let (path, result) = match removal {
            Removal::Beside(full) => (full, storage.remove_partial_tiles(full)),
            Removal::Tile(path) => (path, storage.remove(path).map(|()| 1)),
        };
        match result {
            Ok(n) => removed += n,
            // Kept for the next start to find; serving is not affected.
            Err(e) => tracing::warn!(%path, error = %e, "removing superseded partial tiles"),
        }
    }
    if removed > 0 {
        metrics::counter!(crate::metrics::PARTIAL_TILES_REMOVED).increment(removed as u64);
        tracing::debug!(removed, "removed superseded partial tiles");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(removals: &[Removal]) -> Vec<String> {
        removals
            .iter()
            .map(|r| match r {
                Removal::Beside(full) => format!("beside {full}"),
                Removal::Tile(path) => path.clone(),
            })
            .collect()
    }

    #[test]
    fn each_tile_supersedes_the_narrower_one_before_it_at_its_position() {
        let mut edge = RightEdge::default();
        let batch = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            edge.superseded(batch(&["tile/0/000.p/2", "tile/entries/000.p/2"]))
                .is_empty()
        );
        assert_eq!(
            paths(&edge.superseded(batch(&["tile/0/000.p/5", "tile/entries/000.p/5"]))),
            ["tile/0/000.p/2", "tile/entries/000.p/2"]
        );
        assert_eq!(
            paths(&edge.superseded(batch(&[
                "tile/0/000",
                "tile/0/001.p/1",
                "tile/1/000.p/1",
                "tile/entries/000",
                "tile/entries/001.p/1",
            ]))),
            ["beside tile/0/000", "beside tile/entries/000"]
        );
        assert_eq!(
            paths(&edge.superseded(batch(&["tile/0/001.p/7", "tile/1/000.p/1"]))),
            ["tile/0/001.p/1"]
        );
    }
}
