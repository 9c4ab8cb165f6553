//! The one writer, as a pipeline of threads that hand work one way only:
//! sequencer → committer → record indexer → lookup indexer.
//!
//! The **sequencer** thread takes verified records from the HTTP handlers; a
//! batch closes when it holds `max_batch` records or `batch_interval` after
//! its first arrived. It gives new records consecutive indexes (duplicates
//! get the index they already have, conflicts a 409), appends them to the
//! in-memory right edge and signs the new checkpoint. The **committer**
//! thread (`committer.rs`) then writes the batch's tiles and
//! checkpoint durably, publishes the checkpoint and only then answers,
//! strictly in batch order, so a duplicate of a record still being
//! committed is answered after that commit. The batch's records then go to
//! the record index and the lookup index ([`crate::indexer`]).
//!
//! While the committer waits on fsync, the sequencer works on the next
//! batch. Records it sequenced stay in its `pending` map until the record
//! index covers them, which it learns from the size the record indexer
//! publishes: nothing comes back to this thread. Readers never wait on
//! any of this: they read the published checkpoint and the immutable tiles.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use gazette_client::checkpoint::Checkpoint;
use gazette_client::note::Signer;
use gazette_client::record::SignedRecord;
use gazette_client::registry::{KeyError, Registry, SignedRegistryEntry};
use tokio::sync::{Semaphore, oneshot, watch};

use crate::checkpoints::{Committed, Witnessed};
use crate::committer::Committer;
use crate::index::{IndexBatch, IndexError, RecordIndex, RecordSlot, record_key};
use crate::indexer::{Indexer, RecordIndexer};
use crate::map::{Filing, Map};
use crate::pipeline::{Commit, Failure, InFlight, Job, RegistryCommit, Write};
pub use crate::pipeline::{Outcome, StorageTrouble, SubmitError};
pub use crate::pruner::Pruner;
use crate::registry::{RegistryJob, RegistryOutcome, RegistryState, RegistryWatch};
use crate::storage::Storage;
use crate::tree::Edge;
use gazette_client::merkle::Hash;

/// How the sequencer batches.
#[derive(Clone, Copy, Debug)]
pub struct Batching {
    /// Most records per batch.
    pub max_batch: usize,
    /// Longest wait after a batch's first record.
    pub interval: Duration,
    /// Most records queued.
    pub queue_capacity: usize,
    /// Most bytes of record text queued.
    pub queue_budget_bytes: usize,
}

/// Everything the writer owns.
pub struct Writer {
    /// The tree store.
    pub storage: Arc<dyn Storage>,
    /// The duplicate check, covering the tree of the edge.
    pub index: Arc<RecordIndex>,
    /// The readers' lookup indexes, kept up behind the writer.
    pub indexer: Indexer,
    /// The verifiable index, when batches end with its commitment.
    pub map: Option<Arc<Map>>,
    /// The log's signing key.
    pub key: Signer,
    /// The right edge of the committed tree.
    pub edge: Edge,
    /// Where each newly committed checkpoint goes.
    pub committed: Committed,
    /// Where each newly committed checkpoint is published at once when the
    /// witness policy requires no witness; `None` when the witnessing task
    /// publishes.
    pub witnessed: Option<Witnessed>,
    /// Removes the partial tiles each commit supersedes.
    pub pruner: Pruner,
    /// The agency registry as of the edge: every new record's key is
    /// checked against it at the record's index.
    pub registry: Registry,
    /// Where each durable registry change is published.
    pub registry_view: RegistryWatch,
    /// The agencies file, rewritten as a view of each durable change.
    pub agencies_file: PathBuf,
    /// Registry changes logged before anything else (a migration).
    pub at_start: Vec<RegistryJob>,
}

/// What reaches the sequencer thread.
enum Input {
    /// Records from a handler.
    Job(Job),
    /// A registry change, logged in a batch of its own.
    Registry(Box<RegistryJob>),
    /// The log is being dropped: finish and stop.
    Stop,
}

/// Batches sequenced but not yet committed that the sequencer may run ahead.
const PIPELINE_DEPTH: usize = 2;

/// The handlers' side of the writer.
pub struct Sequencer {
    tx: mpsc::Sender<Input>,
    thread: Option<std::thread::JoinHandle<()>>,
    permits: Arc<Semaphore>,
    capacity: usize,
    /// The queue's budget of record text, one permit per KiB begun.
    kib: Arc<Semaphore>,
    failure: Failure,
    stopped: Arc<AtomicBool>,
    /// Whether batches file their records in the verifiable index.
    indexed: bool,
}

impl Sequencer {
    /// Starts the sequencer, committer and indexer threads.
    pub fn start(writer: Writer, batching: Batching) -> Sequencer {
        let (tx, rx) = mpsc::channel::<Input>();
        let indexed = writer.map.is_some();
        let failure = Failure::default();
        let stopped = Arc::new(AtomicBool::new(false));
        let (thread_failure, thread_stopped) = (failure.clone(), stopped.clone());
        let thread = std::thread::Builder::new()
            .name("sequencer".into())
            .spawn(move || {
                run(writer, batching, rx, thread_failure);
                thread_stopped.store(true, Ordering::SeqCst);
            })
            .expect("spawn the sequencer thread");
        Sequencer {
            tx,
            thread: Some(thread),
            permits: Arc::new(Semaphore::new(batching.queue_capacity)),
            capacity: batching.queue_capacity,
            kib: Arc::new(Semaphore::new(batching.queue_budget_bytes >> 10)),
            failure,
            stopped,
            indexed,
        }
    }

    /// A sequencer that takes nothing, for a log whose data directory is
    /// read-only: every submission is refused with `why` (503), as storage
    /// trouble, and no thread runs.
    pub fn read_only(why: String) -> Sequencer {
        let (tx, _) = mpsc::channel::<Input>();
        let failure = Failure::default();
        let trouble = StorageTrouble {
            message: why,
            disk_full: false,
        };
        failure.set_trouble("read-only", trouble);
        Sequencer {
            tx,
            thread: None,
            permits: Arc::new(Semaphore::new(0)),
            capacity: 0,
            kib: Arc::new(Semaphore::new(0)),
            failure,
            stopped: Arc::new(AtomicBool::new(true)),
            indexed: false,
        }
    }

    /// Why the log stopped accepting writes, if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure.reason()
    }

    /// Begins shutting down: a commit the storage keeps refusing is no
    /// longer retried (its jobs fail, nothing of it is acknowledged, and
    /// writes stop until a restart).
    pub fn shut_down(&self) {
        self.failure.shut_down();
    }

    /// The storage trouble the committer is retrying past, if any.
    pub fn storage_trouble(&self) -> Option<StorageTrouble> {
        self.failure.trouble()
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
        if let Some(trouble) = self.failure.trouble() {
            return Err(SubmitError::Storage(trouble));
        }
        let n = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let permit = self
            .permits
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| SubmitError::QueueFull {
                queued: self.capacity,
            })?;
        // Records are at most 16 KiB: the KiB they begin fit a u32.
        let kib: usize = records.iter().map(|r| r.bytes.len().div_ceil(1024)).sum();
        let kib_permit = self
            .kib
            .clone()
            .try_acquire_many_owned(u32::try_from(kib).unwrap_or(u32::MAX))
            .map_err(|_| SubmitError::QueueFull {
                queued: self.queue_depth(),
            })?;
        // The hashing the sequencer thread would otherwise do, on the
        // blocking pool: leaf hashes, and the index keys when there is one.
        let indexed = self.indexed;
        let (records, filed) = tokio::task::spawn_blocking(move || {
            let filed = records
                .iter()
                .map(|r| {
                    let keys = match indexed {
                        true => gazette_client::index::keys_of(&r.record),
                        false => Vec::new(),
                    };
                    (r.leaf_hash(), keys)
                })
                .collect();
            (records, filed)
        })
        .await
        .map_err(|e| SubmitError::Failed(format!("hashing the records: {e}")))?;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            filed,
            records,
            reply,
            permits: (permit, kib_permit),
        };
        let stopped = || SubmitError::Failed("the sequencer has stopped".into());
        if self.stopped.load(Ordering::SeqCst) || self.tx.send(Input::Job(job)).is_err() {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Logs a registry change, in a batch of its own, if it keeps the
    /// registry's rules at the index it gets; answers once it is durable
    /// (a refusal at once).
    pub async fn submit_registry(
        &self,
        entry: SignedRegistryEntry,
    ) -> Result<RegistryOutcome, SubmitError> {
        if let Some(reason) = self.failure() {
            return Err(SubmitError::Failed(reason));
        }
        if let Some(trouble) = self.failure.trouble() {
            return Err(SubmitError::Storage(trouble));
        }
        let (reply, answer) = oneshot::channel();
        let job = RegistryJob { entry, reply };
        let stopped = || SubmitError::Failed("the sequencer has stopped".into());
        if self.stopped.load(Ordering::SeqCst)
            || self.tx.send(Input::Registry(Box::new(job))).is_err()
        {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

impl Drop for Sequencer {
    /// Lets the writer finish what it holds and waits for it, so the store
    /// and the indexes are released when the log is dropped.
    fn drop(&mut self) {
        self.shut_down();
        let _ = self.tx.send(Input::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Records sequenced but not yet in the record index (being committed, or
/// committed and on their way to the index): the duplicate check looks
/// here before it looks in the index. A record leaves once the size the
/// record indexer publishes passes it; the index holds it by then.
struct Pending {
    slots: HashMap<Vec<u8>, RecordSlot>,
    indexed: watch::Receiver<u64>,
}

impl Pending {
    /// Forgets the records the record index now holds.
    fn prune(&mut self) {
        if self.indexed.has_changed().unwrap_or(false) {
            let indexed = *self.indexed.borrow_and_update();
            self.slots.retain(|_, slot| slot.index >= indexed);
        }
    }

    /// Where the record under `key` was logged: among the pending records
    /// first, then in the record index (in this order, as a record leaves
    /// `pending` only once the index holds it).
    fn find(&self, index: &RecordIndex, key: &[u8]) -> Result<Option<RecordSlot>, IndexError> {
        match self.slots.get(key) {
            Some(slot) => Ok(Some(*slot)),
            None => index.record(key),
        }
    }
}

fn run(writer: Writer, batching: Batching, rx: mpsc::Receiver<Input>, failure: Failure) {
    let Writer {
        storage,
        index,
        indexer,
        map,
        key,
        mut edge,
        committed,
        witnessed,
        pruner,
        mut registry,
        registry_view,
        agencies_file,
        at_start,
    } = writer;
    let (indexed, indexed_rx) = watch::channel(edge.size());
    let records = RecordIndexer::start(index.clone(), indexed, indexer, failure.clone());
    let in_flight = InFlight::default();
    let (to_commit, commits) = mpsc::sync_channel::<Commit>(PIPELINE_DEPTH);
    let committer = Committer {
        storage,
        committed,
        witnessed,
        records,
        failure: failure.clone(),
        in_flight: in_flight.clone(),
        pruner,
        registry_view,
        agencies_file,
    }
    .start(commits);
    let hand_on = HandOn {
        to_commit,
        in_flight,
        failure: failure.clone(),
    };
    // Logs registry changes in a batch of their own.
    let registry_batch = |edge: &mut Edge, registry: &mut Registry, jobs: Vec<RegistryJob>| {
        if let Some(reason) = failure.reason() {
            for job in jobs {
                let _ = job.reply.send(Err(SubmitError::Failed(reason.clone())));
            }
            return;
        }
        match sequence_registry(edge, map.as_deref(), &key, registry, jobs) {
            Ok(Some(commit)) => hand_on.send(commit),
            Ok(None) => {}
            Err(reason) => failure.set(&reason),
        }
    };
    let mut pending = Pending {
        slots: HashMap::new(),
        indexed: indexed_rx,
    };
    // A migration's registrations in one batch: all durable, or none.
    if !at_start.is_empty() {
        registry_batch(&mut edge, &mut registry, at_start);
    }
    let mut stopping = false;
    while !stopping {
        let first = match rx.recv() {
            Ok(Input::Job(job)) => job,
            Ok(Input::Registry(job)) => {
                registry_batch(&mut edge, &mut registry, vec![*job]);
                continue;
            }
            Ok(Input::Stop) | Err(_) => break,
        };
        // A registry change closes the batch: the records before it are
        // sequenced first, then it, in a batch of its own.
        let mut deferred = None;
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
            } else if hand_on.in_flight.any() {
                Duration::from_micros(500)
            } else {
                break;
            };
            match rx.recv_timeout(wait) {
                Ok(Input::Job(job)) => {
                    count += job.records.len();
                    jobs.push(job);
                }
                Ok(Input::Registry(job)) => {
                    deferred = Some(*job);
                    break;
                }
                Ok(Input::Stop) => {
                    stopping = true;
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Some(reason) = failure.reason() {
            Job::fail_all(jobs, &reason);
        } else {
            pending.prune();
            let sequenced = sequence(
                &mut edge,
                &index,
                map.as_deref(),
                &key,
                &registry,
                &mut pending,
                jobs,
            );
            match sequenced {
                Ok(commit) => hand_on.send(commit),
                Err((jobs, reason)) => {
                    failure.set(&reason);
                    Job::fail_all(jobs, &reason);
                }
            }
        }
        if let Some(job) = deferred {
            registry_batch(&mut edge, &mut registry, vec![job]);
        }
    }
    // Let the committer finish (and the indexers behind it).
    drop(hand_on);
    let _ = committer.join();
    let down = || SubmitError::Failed("the log is shutting down".into());
    while let Ok(input) = rx.try_recv() {
        match input {
            Input::Job(job) => job.answer(Err(down())),
            Input::Registry(job) => {
                let _ = job.reply.send(Err(down()));
            }
            Input::Stop => {}
        }
    }
}

/// The way to the committer.
struct HandOn {
    to_commit: mpsc::SyncSender<Commit>,
    in_flight: InFlight,
    failure: Failure,
}

impl HandOn {
    /// Hands a sequenced batch to the committer.
    fn send(&self, commit: Commit) {
        // Counted in before the send, so the committer can never count it
        // out first; a batch that never reached it is counted out here.
        self.in_flight.add();
        if let Err(mpsc::SendError(commit)) = self.to_commit.send(commit) {
            drop(self.in_flight.done_on_drop());
            let reason = "the committer has stopped";
            self.failure.set(reason);
            commit.fail(reason);
        }
    }
}

/// Prepares the commit of registry changes at the edge's end, in one
/// batch; a change the registry's rules refuse at the index it would get
/// is answered at once and left out (`Ok(None)` when none is left). On
/// error the edge and registry are unchanged and the replies told.
fn sequence_registry(
    edge: &mut Edge,
    map: Option<&Map>,
    key: &Signer,
    registry: &mut Registry,
    jobs: Vec<RegistryJob>,
) -> Result<Option<Commit>, String> {
    let first = edge.size();
    let mut changed = registry.clone();
    let mut entries = Vec::new();
    let mut leaf_hashes = Vec::new();
    let mut filings = Vec::new();
    let mut logged = Vec::new();
    let mut replies = Vec::new();
    for job in jobs {
        let index = first + entries.len() as u64;
        if let Err(why) = changed.apply(index, &job.entry) {
            let _ = job.reply.send(Ok(RegistryOutcome::Refused(why)));
            continue;
        }
        let e = &job.entry.entry;
        tracing::info!(index, agency = %e.agency, action = e.action.word(), key = %e.key, "sequenced a registry change");
        let leaf = gazette_client::merkle::leaf_hash(&job.entry.bytes);
        filings.push((gazette_client::index::agency_key(&e.agency), index, leaf));
        entries.push(job.entry.bytes.clone());
        leaf_hashes.push(leaf);
        logged.push((index, job.entry.bytes));
        replies.push((index, job.reply));
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let write = match seal(edge, map, key, first, (&mut entries, leaf_hashes), filings) {
        Ok(write) => write,
        Err(reason) => {
            for (_, reply) in replies {
                let _ = reply.send(Err(SubmitError::Failed(reason.clone())));
            }
            return Err(reason);
        }
    };
    *registry = changed;
    Ok(Some(Commit {
        jobs: Vec::new(),
        outcomes: Vec::new(),
        write,
        indexed: IndexBatch {
            first,
            count: entries.len() as u64,
            items: Vec::new(),
            revocations: Vec::new(),
            registry: logged,
        },
        registry: Some(RegistryCommit {
            state: Arc::new(RegistryState::new(registry.clone())),
            replies,
        }),
    }))
}

/// Assigns indexes to one batch and prepares its commit. On error the edge
/// is unchanged and the jobs come back to be answered.
fn sequence(
    edge: &mut Edge,
    index: &RecordIndex,
    map: Option<&Map>,
    key: &Signer,
    registry: &Registry,
    pending: &mut Pending,
    mut jobs: Vec<Job>,
) -> Result<Commit, (Vec<Job>, String)> {
    let started = Instant::now();
    let first = edge.size();
    // Sized for every record being new (the usual case), so that nothing
    // below grows (and copies, or rehashes) on the way.
    let offered: usize = jobs.iter().map(|job| job.records.len()).sum();
    let mut entries: Vec<Vec<u8>> = Vec::with_capacity(offered + 1);
    let mut leaf_hashes: Vec<Hash> = Vec::with_capacity(offered + 1);
    let mut batch: HashMap<Vec<u8>, RecordSlot> = HashMap::with_capacity(offered);
    let mut indexed = IndexBatch {
        first,
        count: 0,
        items: Vec::with_capacity(offered),
        revocations: Vec::new(),
        registry: Vec::new(),
    };
    // (key, index, leaf hash) of every new record, for the batch's segment.
    let filed: usize = match map {
        Some(_) => jobs
            .iter()
            .flat_map(|job| &job.filed)
            .map(|(_, keys)| keys.len())
            .sum(),
        None => 0,
    };
    let mut filings: Vec<Filing> = Vec::with_capacity(filed);
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in &mut jobs {
        let mut job_outcomes = Vec::with_capacity(job.records.len());
        for (signed, (leaf_hash, keys)) in job.records.iter_mut().zip(&job.filed) {
            let leaf_hash = *leaf_hash;
            let r = &signed.record;
            // One lookup decides: the same bytes have the same issuer, kind
            // and id, so the record key finds exact duplicates too.
            let key = record_key(&r.issuer, &r.kind, &r.id);
            let existing = match batch.get(&key) {
                Some(slot) => Some(*slot),
                None => match pending.find(index, &key) {
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
                    let key_id = signed.signature.key_id;
                    // Admitted under the keys of a moment ago: the key
                    // may have been cut off since.
                    match registry.key_for(&r.issuer, key_id, index) {
                        Ok(_) => {}
                        Err(KeyError::CutOff { cutoff, .. }) => {
                            job_outcomes.push(Outcome::KeyCutOff {
                                key_id,
                                at: cutoff.at,
                                from: cutoff.from,
                                compromised: cutoff.compromised,
                            });
                            continue;
                        }
                        Err(_) => {
                            job_outcomes.push(Outcome::KeyUnknown { key_id });
                            continue;
                        }
                    }
                    if map.is_some() {
                        filings.extend(keys.iter().map(|key| (*key, index, leaf_hash)));
                    }
                    let slot = RecordSlot {
                        index,
                        digest: r.digest,
                        leaf_hash,
                    };
                    indexed.push_keyed(signed, key.clone(), slot);
                    batch.insert(key, slot);
                    // Moved, not copied: a job's records are not read
                    // again (a job that fails is only answered).
                    entries.push(std::mem::take(&mut signed.bytes));
                    leaf_hashes.push(leaf_hash);
                    Outcome::Logged {
                        index,
                        leaf_hash,
                        new: true,
                    }
                }
            });
        }
        outcomes.push(job_outcomes);
        job.records = Vec::new();
    }
    let write = match seal(edge, map, key, first, (&mut entries, leaf_hashes), filings) {
        Ok(write) => write,
        Err(reason) => return Err((jobs, reason)),
    };
    let records = outcomes.iter().map(Vec::len).sum::<usize>();
    metrics::histogram!(crate::metrics::BATCH_RECORDS).record(records as f64);
    tracing::debug!(
        records,
        entries = entries.len(),
        sequence_us = started.elapsed().as_micros() as u64,
        "sequenced a batch"
    );
    pending.slots.reserve(batch.len());
    pending.slots.extend(batch);
    indexed.count = entries.len() as u64;
    Ok(Commit {
        jobs,
        outcomes,
        write,
        indexed,
        registry: None,
    })
}

/// Ends a batch of `entries` (the first at `first`, with their leaf
/// hashes) with the commitment to the index of everything before, appends
/// them to the edge and signs the new checkpoint: what the committer
/// writes (`None` for a batch that adds nothing). On error the edge is
/// unchanged.
fn seal(
    edge: &mut Edge,
    map: Option<&Map>,
    key: &Signer,
    first: u64,
    (entries, mut leaf_hashes): (&mut Vec<Vec<u8>>, Vec<Hash>),
    mut filings: Vec<Filing>,
) -> Result<Option<Write>, String> {
    if entries.is_empty() {
        return Ok(None);
    }
    if let Some(map) = map {
        let at = first + entries.len() as u64;
        filings.sort_unstable_by_key(|(key, index, _)| (*key, *index));
        let commitment = map.add_batch(at, &filings).map_err(|e| e.to_string())?;
        let entry = commitment.to_bytes();
        leaf_hashes.push(gazette_client::merkle::leaf_hash(&entry));
        entries.push(entry);
    }
    let mut grown = edge.clone();
    let objects = grown
        .append_hashed(entries, &leaf_hashes)
        .map_err(|e| e.to_string())?;
    let checkpoint = Checkpoint {
        origin: key.name().to_owned(),
        size: grown.size(),
        root: grown.root(),
        extensions: Vec::new(),
    };
    let note = checkpoint.sign(key).map_err(|e| e.to_string())?;
    let write = Write {
        objects,
        note: note.into_bytes(),
        size: grown.size(),
        root: grown.root(),
    };
    *edge = grown;
    Ok(Some(write))
}

#[cfg(test)]
mod tests {
    use gazette_client::merkle::Hash;

    use super::*;

    fn slot(index: u64) -> RecordSlot {
        RecordSlot {
            index,
            digest: [index as u8; 32],
            leaf_hash: Hash([index as u8; 32]),
        }
    }

    #[test]
    fn a_sequenced_record_stays_pending_until_the_published_index_size_passes_it() {
        let dir = tempfile::tempdir().unwrap();
        let index = RecordIndex::open(dir.path(), ()).unwrap();
        let (indexed, rx) = watch::channel(0);
        let mut pending = Pending {
            slots: HashMap::from([(b"a".to_vec(), slot(0)), (b"b".to_vec(), slot(1))]),
            indexed: rx,
        };
        // The record indexer wrote the batch of "a", but has not yet said so:
        // both stay pending.
        let batch = IndexBatch {
            first: 0,
            count: 1,
            items: vec![(b"a".to_vec(), slot(0))],
            revocations: Vec::new(),
            registry: Vec::new(),
        };
        index.add(&batch).unwrap();
        pending.prune();
        assert_eq!(pending.slots.len(), 2);
        // Once it has, "a" is found in the index, and "b" (not yet
        // indexed) still among the pending records.
        indexed.send_replace(1);
        pending.prune();
        assert!(!pending.slots.contains_key(&b"a"[..]));
        assert_eq!(pending.find(&index, b"a").unwrap(), Some(slot(0)));
        assert_eq!(index.record(b"b").unwrap(), None);
        assert_eq!(pending.find(&index, b"b").unwrap(), Some(slot(1)));
        assert_eq!(pending.find(&index, b"c").unwrap(), None);
    }
}
