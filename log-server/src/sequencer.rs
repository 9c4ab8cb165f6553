//! The one writer. Verified records arrive from the HTTP handlers; a batch
//! closes when it holds `max_batch` records or `batch_interval` after its
//! first arrived. Each batch gets consecutive indexes (duplicates get the
//! index they already have), its new tiles and a newly signed checkpoint are
//! committed durably in one step, the indexes are updated, the checkpoint is
//! published, and only then is anyone answered. Readers never wait on it:
//! they read the published checkpoint and the immutable tiles.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use gazette_client::checkpoint::Checkpoint;
use gazette_client::merkle::Hash;
use gazette_client::note::Signer;
use gazette_client::record::SignedRecord;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::index::{Index, RecordSlot, record_key};
use crate::storage::Storage;
use crate::tree::Edge;

/// What happened to one submitted record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Logged at `index` (now, or earlier when `new` is false).
    Logged {
        /// Its index.
        index: u64,
        /// Leaf hash of the logged entry.
        leaf_hash: Hash,
        /// Whether this submission added it.
        new: bool,
    },
    /// The same (issuer, kind, id) is logged with another document digest.
    Conflict {
        /// Index of the record already logged.
        existing: u64,
    },
}

/// Why a submission was not sequenced.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full; try again shortly.
    #[error("the log is busy: {queued} records are waiting")]
    QueueFull {
        /// Capacity of the queue, in records.
        queued: usize,
    },
    /// A commit failed; the log stopped accepting writes until restarted.
    #[error("the log stopped accepting writes after a storage failure: {0}")]
    Failed(String),
}

/// The checkpoint readers see.
#[derive(Debug)]
pub struct Published {
    /// Tree size.
    pub size: u64,
    /// The signed checkpoint note.
    pub note: Vec<u8>,
}

struct Job {
    records: Vec<SignedRecord>,
    reply: oneshot::Sender<Result<Vec<Outcome>, SubmitError>>,
    permit: OwnedSemaphorePermit,
}

impl Job {
    /// Frees the job's queue capacity, then answers: a submitter that
    /// waits for its answer before sending again always finds room.
    fn answer(self, result: Result<Vec<Outcome>, SubmitError>) {
        drop(self.permit);
        let _ = self.reply.send(result);
    }
}

/// How the sequencer batches.
#[derive(Clone, Copy, Debug)]
pub struct Batching {
    /// Most records per batch.
    pub max_batch: usize,
    /// Longest wait after a batch's first record.
    pub interval: Duration,
    /// Most records queued.
    pub queue_capacity: usize,
}

/// The handlers' side of the sequencer.
pub struct Sequencer {
    /// `None` only while dropping.
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    permits: Arc<Semaphore>,
    capacity: usize,
    failure: Arc<RwLock<Option<String>>>,
    stopped: Arc<AtomicBool>,
}

/// Everything the writer thread owns.
pub struct Writer {
    /// The tree store.
    pub storage: Arc<dyn Storage>,
    /// The lookup indexes.
    pub index: Arc<Index>,
    /// The log's signing key.
    pub key: Signer,
    /// The right edge of the committed tree.
    pub edge: Edge,
    /// Where the newest checkpoint is published.
    pub published: Arc<RwLock<Arc<Published>>>,
}

/// Entries committed but not yet in sled, by record key, so the duplicate
/// check sees them while the index thread catches up.
type Unindexed = Arc<Mutex<HashMap<Vec<u8>, RecordSlot>>>;

/// One committed batch for the index thread.
struct IndexJob {
    first: u64,
    count: u64,
    items: Vec<(Vec<u8>, RecordSlot)>,
}

/// Batches the index thread may lag behind before the writer waits for it.
const INDEX_LAG: usize = 16;

/// Writes committed batches into sled off the writer's path. sled is
/// rebuildable, so it may trail the tiles; [`Unindexed`] covers the gap.
fn index_thread(
    index: Arc<Index>,
    rx: mpsc::Receiver<IndexJob>,
    unindexed: Unindexed,
    failure: Arc<RwLock<Option<String>>>,
) {
    while let Ok(job) = rx.recv() {
        if let Err(e) = index.add_items(job.first, job.count, &job.items) {
            let reason = format!("indexing entries from {}: {e}", job.first);
            tracing::error!(%reason, "index failed; refusing further writes until restart");
            *failure.write().expect("lock") = Some(reason);
            // Keep the entries in `unindexed`: duplicates stay detected.
            continue;
        }
        let mut pending = unindexed.lock().expect("lock");
        for (key, slot) in &job.items {
            if pending.get(key) == Some(slot) {
                pending.remove(key);
            }
        }
    }
}

impl Sequencer {
    /// Starts the writer thread.
    pub fn start(writer: Writer, batching: Batching) -> Sequencer {
        let (tx, rx) = mpsc::channel::<Job>();
        let failure = Arc::new(RwLock::new(None));
        let stopped = Arc::new(AtomicBool::new(false));
        let thread_failure = failure.clone();
        let thread_stopped = stopped.clone();
        let thread = std::thread::Builder::new()
            .name("sequencer".into())
            .spawn(move || {
                run(writer, batching, rx, thread_failure);
                thread_stopped.store(true, Ordering::SeqCst);
            })
            .expect("spawn the sequencer thread");
        Sequencer {
            tx: Some(tx),
            thread: Some(thread),
            permits: Arc::new(Semaphore::new(batching.queue_capacity)),
            capacity: batching.queue_capacity,
            failure,
            stopped,
        }
    }

    /// Why the log stopped accepting writes, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.read().expect("lock").clone()
    }

    /// Records currently queued or being committed.
    pub fn queue_depth(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    /// Sequences verified records; answers once they are durable.
    pub async fn submit(&self, records: Vec<SignedRecord>) -> Result<Vec<Outcome>, SubmitError> {
        if let Some(reason) = self.failure.read().expect("lock").clone() {
            return Err(SubmitError::Failed(reason));
        }
        let n = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let permit = self
            .permits
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| SubmitError::QueueFull {
                queued: self.capacity,
            })?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            records,
            reply,
            permit,
        };
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if !sent || self.stopped.load(Ordering::SeqCst) {
            return Err(SubmitError::Failed("the sequencer has stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(SubmitError::Failed("the sequencer has stopped".into())))
    }
}

impl Drop for Sequencer {
    /// Lets the writer finish what it holds and waits for it, so the store
    /// and the index are released when the log is dropped.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    writer: Writer,
    batching: Batching,
    rx: mpsc::Receiver<Job>,
    failure: Arc<RwLock<Option<String>>>,
) {
    let unindexed: Unindexed = Arc::default();
    let (to_index, index_rx) = mpsc::sync_channel(INDEX_LAG);
    let indexer = {
        let (index, unindexed, failure) =
            (writer.index.clone(), unindexed.clone(), failure.clone());
        std::thread::Builder::new()
            .name("indexer".into())
            .spawn(move || index_thread(index, index_rx, unindexed, failure))
            .expect("spawn the index thread")
    };
    let mut writer = Sequencing {
        writer,
        unindexed,
        to_index,
        failure: failure.clone(),
    };
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + batching.interval;
        let mut count = first.records.len();
        let mut jobs = vec![first];
        while count < batching.max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(job) => {
                    count += job.records.len();
                    jobs.push(job);
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Some(reason) = failure.read().expect("lock").clone() {
            for job in jobs {
                job.answer(Err(SubmitError::Failed(reason.clone())));
            }
            continue;
        }
        match writer.sequence(&jobs) {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    job.answer(Ok(outcome));
                }
            }
            Err(reason) => {
                tracing::error!(%reason, "commit failed; refusing further writes until restart");
                *failure.write().expect("lock") = Some(reason.clone());
                for job in jobs {
                    job.answer(Err(SubmitError::Failed(reason.clone())));
                }
            }
        }
    }
    // Let the index thread finish what it was given, then release sled.
    drop(writer);
    let _ = indexer.join();
}

/// The writer with its link to the index thread.
struct Sequencing {
    writer: Writer,
    unindexed: Unindexed,
    to_index: mpsc::SyncSender<IndexJob>,
    failure: Arc<RwLock<Option<String>>>,
}

impl Sequencing {
    /// Assigns indexes to one batch, commits it and publishes the new
    /// checkpoint. On error nothing was acknowledged; the stored state is
    /// the old tree or the new one, and the caller stops writing.
    fn sequence(&mut self, jobs: &[Job]) -> Result<Vec<Vec<Outcome>>, String> {
        let started = Instant::now();
        let first = self.writer.edge.size();
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut batch: HashMap<Vec<u8>, RecordSlot> = HashMap::new();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut job_outcomes = Vec::with_capacity(job.records.len());
            for signed in &job.records {
                let leaf_hash = signed.leaf_hash();
                let r = &signed.record;
                // One lookup decides: the same bytes have the same issuer,
                // kind and id, so the record key finds exact duplicates too.
                let key = record_key(&r.issuer, &r.kind, &r.id);
                let unindexed = self.unindexed.lock().expect("lock").get(&key).copied();
                let existing = match batch.get(&key).copied().or(unindexed) {
                    Some(slot) => Some(slot),
                    None => self.writer.index.record(&key).map_err(|e| e.to_string())?,
                };
                job_outcomes.push(match existing {
                    // The same record, or the same document re-signed.
                    Some(slot) if slot.leaf_hash == leaf_hash || slot.digest == r.digest => {
                        Outcome::Logged {
                            index: slot.index,
                            leaf_hash: slot.leaf_hash,
                            new: false,
                        }
                    }
                    Some(slot) => Outcome::Conflict {
                        existing: slot.index,
                    },
                    None => {
                        let index = first + entries.len() as u64;
                        batch.insert(
                            key,
                            RecordSlot {
                                index,
                                digest: r.digest,
                                leaf_hash,
                            },
                        );
                        entries.push(signed.bytes.clone());
                        Outcome::Logged {
                            index,
                            leaf_hash,
                            new: true,
                        }
                    }
                });
            }
            outcomes.push(job_outcomes);
        }
        tracing::debug!(
            records = outcomes.iter().map(Vec::len).sum::<usize>(),
            dedup_us = started.elapsed().as_micros() as u64,
            "sequenced a batch"
        );
        if !entries.is_empty() {
            self.writer.commit(&entries)?;
            let items: Vec<(Vec<u8>, RecordSlot)> = batch.into_iter().collect();
            self.unindexed
                .lock()
                .expect("lock")
                .extend(items.iter().cloned());
            let job = IndexJob {
                first,
                count: entries.len() as u64,
                items,
            };
            if self.to_index.send(job).is_err() {
                // The records are durable: answer them. The entries stay in
                // `unindexed`, so duplicates are still caught; stop writing
                // so that map cannot grow without bound.
                *self.failure.write().expect("lock") = Some("the index thread has stopped".into());
            }
        }
        Ok(outcomes)
    }
}

impl Writer {
    fn commit(&mut self, entries: &[Vec<u8>]) -> Result<(), String> {
        let started = Instant::now();
        let first = self.edge.size();
        let mut edge = self.edge.clone();
        let objects = edge.append(entries).map_err(|e| e.to_string())?;
        let appended = started.elapsed();
        let checkpoint = Checkpoint {
            origin: self.key.name().to_owned(),
            size: edge.size(),
            root: edge.root(),
            extensions: Vec::new(),
        };
        let note = checkpoint.sign(&self.key).map_err(|e| e.to_string())?;
        self.storage
            .commit(&objects, note.as_bytes())
            .map_err(|e| format!("committing size {}: {e}", edge.size()))?;
        self.edge = edge;
        tracing::debug!(
            first,
            entries = entries.len(),
            objects = objects.len(),
            append_us = appended.as_micros() as u64,
            storage_us = (started.elapsed() - appended).as_micros() as u64,
            "committed a batch"
        );
        *self.published.write().expect("lock") = Arc::new(Published {
            size: self.edge.size(),
            note: note.into_bytes(),
        });
        Ok(())
    }
}
