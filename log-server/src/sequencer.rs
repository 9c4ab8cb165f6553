//! The one writer, as a two-stage pipeline.
//!
//! The **sequencer** thread takes verified records from the HTTP handlers; a
//! batch closes when it holds `max_batch` records or `batch_interval` after
//! its first arrived. It gives new records consecutive indexes (duplicates
//! get the index they already have, conflicts a 409), appends them to the
//! in-memory right edge and signs the new checkpoint. The **committer**
//! thread then writes the batch's tiles and checkpoint durably, publishes the
//! checkpoint and only then answers, strictly in batch order, so a duplicate
//! of a record still being committed is answered after that commit.
//!
//! While the committer waits on fsync, the sequencer works on the next batch.
//! It also writes the record index for each batch once the committer
//! reports it durable: that database is written by one thread only, and
//! never holds an entry the tiles do not. Readers never wait on either:
//! they read the published checkpoint and the immutable tiles.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use gazette_client::checkpoint::Checkpoint;
use gazette_client::merkle::Hash;
use gazette_client::note::Signer;
use gazette_client::record::SignedRecord;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use crate::index::{IndexBatch, RecordIndex, RecordSlot, record_key};
use crate::indexer::Indexer;
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

/// A signed checkpoint of the tree: the newest committed one (signed by
/// the log) or the newest published one (with its witnesses' cosignatures).
#[derive(Debug)]
pub struct Published {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: Hash,
    /// The signed checkpoint note.
    pub note: Vec<u8>,
}

/// Where a checkpoint is kept for readers, who read the newest at once and
/// may wait for the next.
pub type Checkpoints = Arc<tokio::sync::watch::Sender<Arc<Published>>>;

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

/// Everything the writer owns.
pub struct Writer {
    /// The tree store.
    pub storage: Arc<dyn Storage>,
    /// The duplicate check.
    pub index: Arc<RecordIndex>,
    /// The readers' lookup indexes, kept up behind the writer.
    pub indexer: Indexer,
    /// The log's signing key.
    pub key: Signer,
    /// The right edge of the committed tree.
    pub edge: Edge,
    /// Where each newly committed checkpoint goes.
    pub committed: Checkpoints,
}

/// What reaches the sequencer thread.
enum Input {
    /// Records from a handler.
    Job(Job),
    /// The committer made a batch durable: index it.
    Committed(IndexBatch),
    /// The log is being dropped: finish and stop.
    Stop,
}

/// A sequenced batch on its way to durability.
struct Commit {
    jobs: Vec<Job>,
    outcomes: Vec<Vec<Outcome>>,
    /// `None` when the batch added nothing (only duplicates, conflicts).
    write: Option<Write>,
    indexed: IndexBatch,
}

/// What one batch writes.
struct Write {
    /// Tiles and bundles, by path.
    objects: Vec<(String, Vec<u8>)>,
    /// The signed checkpoint.
    note: Vec<u8>,
    /// Its tree size.
    size: u64,
    /// Its tree root.
    root: Hash,
}

/// Batches sequenced but not yet committed that the sequencer may run ahead.
const PIPELINE_DEPTH: usize = 2;

type Failure = Arc<RwLock<Option<String>>>;

/// The handlers' side of the writer.
pub struct Sequencer {
    tx: mpsc::Sender<Input>,
    thread: Option<std::thread::JoinHandle<()>>,
    permits: Arc<Semaphore>,
    capacity: usize,
    failure: Failure,
    stopped: Arc<AtomicBool>,
}

impl Sequencer {
    /// Starts the sequencer and committer threads.
    pub fn start(writer: Writer, batching: Batching) -> Sequencer {
        let (tx, rx) = mpsc::channel::<Input>();
        let failure: Failure = Arc::new(RwLock::new(None));
        let stopped = Arc::new(AtomicBool::new(false));
        let (thread_failure, thread_stopped, committed) =
            (failure.clone(), stopped.clone(), tx.clone());
        let thread = std::thread::Builder::new()
            .name("sequencer".into())
            .spawn(move || {
                run(writer, batching, rx, committed, thread_failure);
                thread_stopped.store(true, Ordering::SeqCst);
            })
            .expect("spawn the sequencer thread");
        Sequencer {
            tx,
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
        if let Some(reason) = self.failure() {
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
        let stopped = || SubmitError::Failed("the sequencer has stopped".into());
        if self.stopped.load(Ordering::SeqCst) || self.tx.send(Input::Job(job)).is_err() {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

impl Drop for Sequencer {
    /// Lets the writer finish what it holds and waits for it, so the store
    /// and the index are released when the log is dropped.
    fn drop(&mut self) {
        let _ = self.tx.send(Input::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn fail(failure: &Failure, reason: &str) {
    tracing::error!(%reason, "refusing further writes until restart");
    let mut slot = failure.write().expect("lock");
    if slot.is_none() {
        *slot = Some(reason.to_owned());
    }
}

fn run(
    writer: Writer,
    batching: Batching,
    rx: mpsc::Receiver<Input>,
    committed: mpsc::Sender<Input>,
    failure: Failure,
) {
    let Writer {
        storage,
        index,
        indexer,
        key,
        mut edge,
        committed: checkpoints,
    } = writer;
    let (to_commit, commits) = mpsc::sync_channel::<Commit>(PIPELINE_DEPTH);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let committer = {
        let (failure, in_flight) = (failure.clone(), in_flight.clone());
        std::thread::Builder::new()
            .name("committer".into())
            .spawn(move || {
                commit_loop(storage, checkpoints, commits, committed, failure, in_flight)
            })
            .expect("spawn the committer thread")
    };
    // Records sequenced but not yet indexed (in flight or just committed).
    let mut pending: HashMap<Vec<u8>, RecordSlot> = HashMap::new();
    let index_input = |done: IndexBatch, pending: &mut HashMap<Vec<u8>, RecordSlot>| {
        if let Err(e) = index.add(&done) {
            // Keep them pending: duplicates stay detected.
            fail(
                &failure,
                &format!("indexing entries from {}: {e}", done.first),
            );
            return;
        }
        for (key, slot) in &done.items {
            if pending.get(key) == Some(slot) {
                pending.remove(key);
            }
        }
        indexer.offer(done);
    };
    let mut stopping = false;
    while !stopping {
        let first = match rx.recv() {
            Ok(Input::Job(job)) => job,
            Ok(Input::Committed(done)) => {
                index_input(done, &mut pending);
                continue;
            }
            Ok(Input::Stop) | Err(_) => break,
        };
        // Group commit: the batch closes when full, or once its interval has
        // passed and the committer is free; while the committer is busy the
        // batch keeps growing, so a loaded log writes fewer, larger batches.
        let deadline = Instant::now() + batching.interval;
        let mut count = first.records.len();
        let mut jobs = vec![first];
        while count < batching.max_batch {
            let now = Instant::now();
            let wait = if now < deadline {
                deadline - now
            } else if in_flight.load(Ordering::SeqCst) > 0 {
                Duration::from_micros(500)
            } else {
                break;
            };
            match rx.recv_timeout(wait) {
                Ok(Input::Job(job)) => {
                    count += job.records.len();
                    jobs.push(job);
                }
                Ok(Input::Committed(done)) => index_input(done, &mut pending),
                Ok(Input::Stop) => {
                    stopping = true;
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Some(reason) = failure.read().expect("lock").clone() {
            for job in jobs {
                job.answer(Err(SubmitError::Failed(reason.clone())));
            }
            continue;
        }
        let commit = match sequence(&mut edge, &index, &key, &mut pending, jobs) {
            Ok(commit) => commit,
            Err((jobs, reason)) => {
                fail(&failure, &reason);
                for job in jobs {
                    job.answer(Err(SubmitError::Failed(reason.clone())));
                }
                continue;
            }
        };
        in_flight.fetch_add(1, Ordering::SeqCst);
        if to_commit.send(commit).is_err() {
            fail(&failure, "the committer has stopped");
        }
    }
    // Let the committer finish, then index what it made durable.
    drop(to_commit);
    let _ = committer.join();
    while let Ok(input) = rx.try_recv() {
        match input {
            Input::Committed(done) => index_input(done, &mut pending),
            Input::Job(job) => {
                job.answer(Err(SubmitError::Failed("the log is shutting down".into())))
            }
            Input::Stop => {}
        }
    }
}

/// Assigns indexes to one batch and prepares its commit. On error the edge
/// is unchanged and the jobs come back to be answered.
fn sequence(
    edge: &mut Edge,
    index: &RecordIndex,
    key: &Signer,
    pending: &mut HashMap<Vec<u8>, RecordSlot>,
    jobs: Vec<Job>,
) -> Result<Commit, (Vec<Job>, String)> {
    let started = Instant::now();
    let first = edge.size();
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut batch: HashMap<Vec<u8>, RecordSlot> = HashMap::new();
    let mut indexed = IndexBatch {
        first,
        count: 0,
        items: Vec::new(),
        revocations: Vec::new(),
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in &jobs {
        let mut job_outcomes = Vec::with_capacity(job.records.len());
        for signed in &job.records {
            let leaf_hash = signed.leaf_hash();
            let r = &signed.record;
            // One lookup decides: the same bytes have the same issuer, kind
            // and id, so the record key finds exact duplicates too.
            let key = record_key(&r.issuer, &r.kind, &r.id);
            let existing = match batch.get(&key).or_else(|| pending.get(&key)) {
                Some(slot) => Some(*slot),
                None => match index.record(&key) {
                    Ok(slot) => slot,
                    Err(e) => return Err((jobs, e.to_string())),
                },
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
                    indexed.push(signed, index);
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
    let mut write = None;
    if !entries.is_empty() {
        let mut grown = edge.clone();
        let objects = match grown.append(&entries) {
            Ok(objects) => objects,
            Err(e) => return Err((jobs, e.to_string())),
        };
        let checkpoint = Checkpoint {
            origin: key.name().to_owned(),
            size: grown.size(),
            root: grown.root(),
            extensions: Vec::new(),
        };
        let note = match checkpoint.sign(key) {
            Ok(note) => note,
            Err(e) => return Err((jobs, e.to_string())),
        };
        write = Some(Write {
            objects,
            note: note.into_bytes(),
            size: grown.size(),
            root: grown.root(),
        });
        *edge = grown;
    }
    let records = outcomes.iter().map(Vec::len).sum::<usize>();
    metrics::histogram!(crate::metrics::BATCH_RECORDS).record(records as f64);
    tracing::debug!(
        records,
        entries = entries.len(),
        sequence_us = started.elapsed().as_micros() as u64,
        "sequenced a batch"
    );
    pending.extend(batch);
    indexed.count = entries.len() as u64;
    Ok(Commit {
        jobs,
        outcomes,
        write,
        indexed,
    })
}

/// Counts a batch out of the pipeline when dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Makes each batch durable, publishes its checkpoint, answers its jobs and
/// hands its records to the index, in order. After a failure every later
/// batch is refused: the tree on disk is the old one or the failed one, and
/// only a restart tells which.
fn commit_loop(
    storage: Arc<dyn Storage>,
    checkpoints: Checkpoints,
    commits: mpsc::Receiver<Commit>,
    committed: mpsc::Sender<Input>,
    failure: Failure,
    in_flight: Arc<AtomicUsize>,
) {
    while let Ok(commit) = commits.recv() {
        // However this batch ends, it no longer holds the sequencer back.
        let _done = InFlight(&in_flight);
        if let Some(reason) = failure.read().expect("lock").clone() {
            for job in commit.jobs {
                job.answer(Err(SubmitError::Failed(reason.clone())));
            }
            continue;
        }
        if let Some(Write {
            objects,
            note,
            size,
            root,
        }) = commit.write
        {
            let started = Instant::now();
            if let Err(e) = storage.commit(&objects, &note) {
                let reason = format!("committing size {size}: {e}");
                fail(&failure, &reason);
                for job in commit.jobs {
                    job.answer(Err(SubmitError::Failed(reason.clone())));
                }
                continue;
            }
            metrics::histogram!(crate::metrics::COMMIT_SECONDS)
                .record(started.elapsed().as_secs_f64());
            tracing::debug!(
                size,
                objects = objects.len(),
                storage_us = started.elapsed().as_micros() as u64,
                "committed a batch"
            );
            checkpoints.send_replace(Arc::new(Published { size, root, note }));
            let _ = committed.send(Input::Committed(commit.indexed));
        }
        for (job, outcome) in commit.jobs.into_iter().zip(commit.outcomes) {
            job.answer(Ok(outcome));
        }
    }
}
