//! The **pruner** thread: removes partial tiles once the full tile at their
//! position is durable. Every commit that does not end on a tile boundary
//! writes a new partial tile (and bundle) at the right edge, so a log fed
//! one record at a time would otherwise keep up to 255 superseded copies of
//! every tile. c2sp.org/tlog-tiles lets a log remove a partial tile once
//! the full one exists: a reader holding an older checkpoint falls back to
//! the full tile (and this log's own read path cuts the partial tile from
//! it, `stored::read_tile`). The removal waits a grace period
//! (`[storage] partial_tile_grace_s`), so that a client that has just read
//! a checkpoint can still fetch its partial tiles from a plain file server
//! or a CDN in front of the log.
//!
//! Off the write path: the committer only hands over the paths of the full
//! tiles it made durable. A stop drops what was still waiting; the next
//! start finds those tiles again (`Storage::superseded_partial_tiles`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::storage::Storage;

/// The committer's side of the pruner thread.
#[derive(Clone)]
pub struct Pruner {
    tx: mpsc::Sender<(Instant, Vec<String>)>,
}

impl Pruner {
    /// Starts the pruner thread over `storage`, removing partial tiles
    /// `grace` after their full tile was written. It first looks for the
    /// partial tiles an earlier run left, and ends when every [`Pruner`]
    /// handle is dropped.
    pub fn start(storage: Arc<dyn Storage>, grace: Duration) -> Pruner {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("pruner".into())
            .spawn(move || run(storage.as_ref(), grace, rx))
            .expect("spawn the pruner thread");
        Pruner { tx }
    }

    /// The partial tiles beside `objects` that are full tiles (paths
    /// without `.p/`), just made durable, are to be removed once the grace
    /// period has passed.
    pub fn written(&self, objects: &[(String, Vec<u8>)]) {
        let full: Vec<String> = objects
            .iter()
            .map(|(path, _)| path)
            .filter(|path| !path.contains(".p/"))
            .cloned()
            .collect();
        if !full.is_empty() {
            // The thread is gone only at shutdown: nothing to remove then.
            let _ = self.tx.send((Instant::now(), full));
        }
    }
}

fn run(storage: &dyn Storage, grace: Duration, rx: mpsc::Receiver<(Instant, Vec<String>)>) {
    let mut due: VecDeque<(Instant, Vec<String>)> = VecDeque::new();
    match storage.superseded_partial_tiles() {
        Ok(left) if !left.is_empty() => {
            tracing::info!(
                tiles = left.len(),
                "removing partial tiles an earlier run left beside full tiles"
            );
            due.push_back((Instant::now(), left));
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "looking for superseded partial tiles"),
    }
    loop {
        let now = Instant::now();
        while let Some((written, _)) = due.front() {
            if now < *written + grace {
                break;
            }
            let (_, full) = due.pop_front().expect("a front");
            remove(storage, &full);
        }
        let next = match due.front() {
            Some((written, _)) => {
                rx.recv_timeout((*written + grace).saturating_duration_since(now))
            }
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(written) => due.push_back(written),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn remove(storage: &dyn Storage, full: &[String]) {
    let mut removed = 0;
    for path in full {
        match storage.remove_partial_tiles(path) {
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
