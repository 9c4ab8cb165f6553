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
use std::sync::{Arc, RwLock};
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
    _permit: OwnedSemaphorePermit,
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
    tx: mpsc::Sender<Job>,
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

impl Sequencer {
    /// Starts the writer thread.
    pub fn start(writer: Writer, batching: Batching) -> Sequencer {
        let (tx, rx) = mpsc::channel::<Job>();
        let failure = Arc::new(RwLock::new(None));
        let stopped = Arc::new(AtomicBool::new(false));
        let thread_failure = failure.clone();
        let thread_stopped = stopped.clone();
        std::thread::Builder::new()
            .name("sequencer".into())
            .spawn(move || {
                run(writer, batching, rx, thread_failure);
                thread_stopped.store(true, Ordering::SeqCst);
            })
            .expect("spawn the sequencer thread");
        Sequencer {
            tx,
            permits: Arc::new(Semaphore::new(batching.queue_capacity)),
            capacity: batching.queue_capacity,
            failure,
            stopped,
        }
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
            _permit: permit,
        };
        if self.tx.send(job).is_err() || self.stopped.load(Ordering::SeqCst) {
            return Err(SubmitError::Failed("the sequencer has stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(SubmitError::Failed("the sequencer has stopped".into())))
    }
}

fn run(
    mut writer: Writer,
    batching: Batching,
    rx: mpsc::Receiver<Job>,
    failure: Arc<RwLock<Option<String>>>,
) {
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
                let _ = job.reply.send(Err(SubmitError::Failed(reason.clone())));
            }
            continue;
        }
        match writer.sequence(&jobs) {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(reason) => {
                tracing::error!(%reason, "commit failed; refusing further writes until restart");
                *failure.write().expect("lock") = Some(reason.clone());
                for job in jobs {
                    let _ = job.reply.send(Err(SubmitError::Failed(reason.clone())));
                }
            }
        }
    }
}

impl Writer {
    /// Assigns indexes to one batch, commits it and publishes the new
    /// checkpoint. On error nothing was acknowledged; the stored state is
    /// the old tree or the new one, and the caller stops writing.
    fn sequence(&mut self, jobs: &[Job]) -> Result<Vec<Vec<Outcome>>, String> {
        let first = self.edge.size();
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut batch_leaves: HashMap<Hash, u64> = HashMap::new();
        let mut batch_records: HashMap<Vec<u8>, (RecordSlot, Hash)> = HashMap::new();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            let mut job_outcomes = Vec::with_capacity(job.records.len());
            for signed in &job.records {
                let leaf_hash = signed.leaf_hash();
                let existing_leaf = match batch_leaves.get(&leaf_hash) {
                    Some(&index) => Some(index),
                    None => self.index.leaf(&leaf_hash).map_err(|e| e.to_string())?,
                };
                if let Some(index) = existing_leaf {
                    job_outcomes.push(Outcome::Logged {
                        index,
                        leaf_hash,
                        new: false,
                    });
                    continue;
                }
                let r = &signed.record;
                let key = record_key(&r.issuer, &r.kind, &r.id);
                let existing_record = match batch_records.get(&key) {
                    Some(&(slot, hash)) => Some((slot, Some(hash))),
                    None => self
                        .index
                        .record(&key)
                        .map_err(|e| e.to_string())?
                        .map(|slot| (slot, None)),
                };
                if let Some((slot, hash)) = existing_record {
                    job_outcomes.push(if slot.digest == r.digest {
                        // The same document re-signed: it is already logged.
                        let leaf_hash = match hash {
                            Some(hash) => hash,
                            None => self.leaf_hash_at(slot.index)?,
                        };
                        Outcome::Logged {
                            index: slot.index,
                            leaf_hash,
                            new: false,
                        }
                    } else {
                        Outcome::Conflict {
                            existing: slot.index,
                        }
                    });
                    continue;
                }
                let index = first + entries.len() as u64;
                batch_leaves.insert(leaf_hash, index);
                batch_records.insert(
                    key,
                    (
                        RecordSlot {
                            index,
                            digest: r.digest,
                        },
                        leaf_hash,
                    ),
                );
                entries.push(signed.bytes.clone());
                job_outcomes.push(Outcome::Logged {
                    index,
                    leaf_hash,
                    new: true,
                });
            }
            outcomes.push(job_outcomes);
        }
        if !entries.is_empty() {
            self.commit(&entries)?;
        }
        Ok(outcomes)
    }

    fn commit(&mut self, entries: &[Vec<u8>]) -> Result<(), String> {
        let first = self.edge.size();
        let mut edge = self.edge.clone();
        let objects = edge.append(entries).map_err(|e| e.to_string())?;
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
        self.index
            .add(first, entries)
            .map_err(|e| format!("indexing entries from {first}: {e}"))?;
        *self.published.write().expect("lock") = Arc::new(Published {
            size: self.edge.size(),
            note: note.into_bytes(),
        });
        Ok(())
    }

    /// Leaf hash of a committed entry, from its level-0 tile.
    fn leaf_hash_at(&self, index: u64) -> Result<Hash, String> {
        let size = self.edge.size();
        let tile_index = index >> 8;
        let width = (size - (tile_index << 8)).min(256) as u32;
        let tile = gazette_client::tiles::Tile {
            height: 8,
            level: gazette_client::tiles::TileLevel::Hashes(0),
            index: tile_index,
            width,
        };
        let data = self
            .storage
            .read(&tile.path())
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("tile {} missing", tile.path()))?;
        let offset = ((index & 255) as usize) * Hash::LEN;
        data.get(offset..offset + Hash::LEN)
            .and_then(Hash::from_slice)
            .ok_or_else(|| format!("tile {} too short", tile.path()))
    }
}
