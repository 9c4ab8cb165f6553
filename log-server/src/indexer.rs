//! The indexes' stage, behind the committer, in two threads, so that
//! indexing never slows appends:
//!
//! - the **record indexer** (`RecordIndexer`) writes every durable batch
//!   to the [`RecordIndex`] (the sequencer's duplicate check), publishes the
//!   tree size that index now covers, and hands the batch on. It is the
//!   only writer of that database, and it is handed only durable batches,
//!   so the index never holds an entry the tiles lack. The sequencer keeps
//!   the records it sequenced until that size passes them.
//! - the **lookup indexer** ([`Indexer`]) keeps the [`LookupIndex`] up with
//!   the committed tree. When it falls behind, batches are dropped and it
//!   reads them back from the tiles.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::checkpoints::Committed;
use crate::index::{IndexBatch, IndexError, LookupIndex, RecordIndex};
use crate::pipeline::Failure;
use crate::storage::Storage;

/// Durable batches the indexer may have waiting before new ones are
/// dropped (and read back from the tiles instead).
const QUEUE: usize = 256;
/// Durable batches the record indexer may have waiting before the
/// committer waits for it. None may be dropped (the sequencer holds each
/// batch's records in memory until this index has them), so a record index
/// that falls behind slows the commits down, and the queue of records
/// waiting to be sequenced fills up (503), instead of memory growing.
const RECORD_QUEUE: usize = 16;
/// How often an idle indexer checks it covers the committed tree.
const CATCH_UP_EVERY: Duration = Duration::from_millis(500);

/// The handle on the record indexer thread; dropping it lets the thread
/// write what it was handed, and waits for it (and the lookup indexer).
pub(crate) struct RecordIndexer {
    tx: Option<SyncSender<IndexBatch>>,
    thread: Option<JoinHandle<()>>,
}

impl RecordIndexer {
    /// Starts the record indexer thread over `index`, which covers the
    /// tree up to `indexed`'s value; each batch it adds moves `indexed` to
    /// the batch's end. A write the index refuses is retried (as a commit
    /// is, see `Failure::retry`); only a stop meanwhile ends it: it then
    /// sets `failure` and writes no more, the index stays behind the tree,
    /// and `indexed` with it.
    pub(crate) fn start(
        index: Arc<RecordIndex>,
        indexed: watch::Sender<u64>,
        lookup: Indexer,
        failure: Failure,
    ) -> RecordIndexer {
        let (tx, rx) = mpsc::sync_channel::<IndexBatch>(RECORD_QUEUE);
        let thread = std::thread::Builder::new()
            .name("record-indexer".into())
            .spawn(move || {
                let mut failed = false;
                while let Ok(batch) = rx.recv() {
                    if failed {
                        continue;
                    }
                    let what = format!("indexing entries from {}", batch.first);
                    if let Err(reason) =
                        failure.retry("record-indexer", &what, || index.add(&batch))
                    {
                        failure.set(&reason);
                        failed = true;
                        continue;
                    }
                    indexed.send_replace(batch.first + batch.count);
                    lookup.offer(batch);
                }
                // Dropping `lookup` flushes and stops the lookup indexer.
            })
            .expect("spawn the record indexer thread");
        RecordIndexer {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Hands over a durable batch; waits while [`RECORD_QUEUE`] batches
    /// are waiting already.
    pub(crate) fn send(&self, batch: IndexBatch) {
        if let Some(tx) = &self.tx {
            // Only refused if the thread is gone (it panicked): the
            // sequencer then keeps the records, and duplicates stay found.
            let _ = tx.send(batch);
        }
    }
}

impl Drop for RecordIndexer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The handle on the lookup indexer thread; dropping it flushes and stops it.
pub struct Indexer {
    tx: Option<SyncSender<IndexBatch>>,
    thread: Option<JoinHandle<()>>,
}

impl Indexer {
    /// Starts the lookup indexer thread; when idle, it catches up to the
    /// newest `committed` checkpoint.
    pub fn start(
        index: Arc<LookupIndex>,
        storage: Arc<dyn Storage>,
        committed: Committed,
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
    committed: &Committed,
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
