//! The lookup indexer: keeps the [`LookupIndex`] up with the committed
//! tree, on a thread of its own behind the sequencer, so readers' indexes
//! never slow appends. It is handed each durable batch; when it falls
//! behind, batches are dropped and it reads them back from the tiles.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::index::{IndexBatch, IndexError, LookupIndex};
use crate::sequencer::Checkpoints;
use crate::storage::Storage;

/// Durable batches the indexer may have waiting before new ones are
/// dropped (and read back from the tiles instead).
const QUEUE: usize = 256;
/// How often an idle indexer checks it covers the committed tree.
const CATCH_UP_EVERY: Duration = Duration::from_millis(500);

/// The handle on the indexer thread; dropping it flushes and stops it.
pub struct Indexer {
    tx: Option<SyncSender<IndexBatch>>,
    thread: Option<JoinHandle<()>>,
}

impl Indexer {
    /// Starts the indexer thread.
    pub fn start(
        index: Arc<LookupIndex>,
        storage: Arc<dyn Storage>,
        committed: Checkpoints,
    ) -> Indexer {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("indexer".into())
            .spawn(move || run(&index, storage.as_ref(), &committed, &rx))
            .expect("spawn the indexer thread");
        Indexer {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Hands over a durable batch. Never blocks the caller.
    pub fn offer(&self, batch: IndexBatch) {
        if let Some(tx) = &self.tx {
            match tx.try_send(batch) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => {}
                Err(TrySendError::Full(_)) => {
                    tracing::debug!("the lookup indexer is behind; it will read the tiles")
                }
            }
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    index: &LookupIndex,
    storage: &dyn Storage,
    committed: &Checkpoints,
    rx: &mpsc::Receiver<IndexBatch>,
) {
    loop {
        let step = match rx.recv_timeout(CATCH_UP_EVERY) {
            Ok(batch) => add(index, storage, &batch),
            Err(RecvTimeoutError::Timeout) => {
                let size = committed.borrow().size;
                index.catch_up(storage, size)
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Err(e) = step {
            // The tiles are the truth: the next catch-up retries.
            tracing::warn!(error = %e, "lookup index behind the tree");
        }
    }
    if let Err(e) = index.flush() {
        tracing::warn!(error = %e, "flushing the lookup index");
    }
}

/// Adds `batch`, first reading from the tiles whatever was dropped before it.
fn add(index: &LookupIndex, storage: &dyn Storage, batch: &IndexBatch) -> Result<(), IndexError> {
    let covered = index.covered()?;
    if batch.first + batch.count <= covered {
        return Ok(());
    }
    if batch.first != covered {
        return index.catch_up(storage, batch.first + batch.count);
    }
    index.add(batch)
}
