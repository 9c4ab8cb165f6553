//! What passes between the writer's stages, which all run on threads of
//! their own and hand work one way only: sequencer → committer → record
//! indexer → lookup indexer. Kept apart from the stages so that none of
//! them imports another's internals.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use gazette_client::merkle::Hash;
use gazette_client::record::SignedRecord;
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use crate::index::IndexBatch;

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

/// One submission: its records, where its answer goes, and the queue
/// capacity it holds until answered.
pub(crate) struct Job {
    pub(crate) records: Vec<SignedRecord>,
    /// Each record's leaf hash and the index keys it is filed under (none
    /// without the index), hashed before the sequencer gets the job.
    pub(crate) filed: Vec<(Hash, Vec<Hash>)>,
    pub(crate) reply: oneshot::Sender<Result<Vec<Outcome>, SubmitError>>,
    pub(crate) permit: OwnedSemaphorePermit,
}

impl Job {
    /// Frees the job's queue capacity, then answers: a submitter that
    /// waits for its answer before sending again always finds room.
    pub(crate) fn answer(self, result: Result<Vec<Outcome>, SubmitError>) {
        drop(self.permit);
        let _ = self.reply.send(result);
    }

    /// Answers every job of a batch that will not be sequenced or committed.
    pub(crate) fn fail_all(jobs: Vec<Job>, reason: &str) {
        for job in jobs {
            job.answer(Err(SubmitError::Failed(reason.to_owned())));
        }
    }
}

/// A sequenced batch on its way to durability (sequencer → committer).
pub(crate) struct Commit {
    pub(crate) jobs: Vec<Job>,
    pub(crate) outcomes: Vec<Vec<Outcome>>,
    /// `None` when the batch added nothing (only duplicates, conflicts).
    pub(crate) write: Option<Write>,
    /// Its new records, for the indexes once durable.
    pub(crate) indexed: IndexBatch,
}

/// What one batch writes.
pub(crate) struct Write {
    /// Tiles and bundles, by path.
    pub(crate) objects: Vec<(String, Vec<u8>)>,
    /// The signed checkpoint.
    pub(crate) note: Vec<u8>,
    /// Its tree size.
    pub(crate) size: u64,
    /// Its tree root.
    pub(crate) root: Hash,
}

/// Why the log stopped accepting writes, shared by every stage: the first
/// stage that fails sets it, and from then on every stage refuses.
#[derive(Clone, Default)]
pub(crate) struct Failure(Arc<RwLock<Option<String>>>);

impl Failure {
    /// Stops writes for `reason` (the first reason is kept).
    pub(crate) fn set(&self, reason: &str) {
        tracing::error!(%reason, "refusing further writes until restart");
        let mut slot = self.0.write().expect("lock");
        if slot.is_none() {
            *slot = Some(reason.to_owned());
        }
    }

    /// Why writes stopped, if they did.
    pub(crate) fn reason(&self) -> Option<String> {
        self.0.read().expect("lock").clone()
    }
}

/// Sequenced batches the committer has not finished with: while there are
/// any, the sequencer lets its next batch grow (group commit).
#[derive(Clone, Default)]
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Whether a batch is waiting for, or in, the committer.
    pub(crate) fn any(&self) -> bool {
        self.0.load(Ordering::SeqCst) > 0
    }

    /// Counts a batch in; it is counted out when the guard the committer
    /// takes for it ([`InFlight::done_on_drop`]) is dropped.
    pub(crate) fn add(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// A guard that counts one batch out when dropped, however the
    /// committer finishes with it.
    pub(crate) fn done_on_drop(&self) -> impl Drop + '_ {
        struct Done<'a>(&'a AtomicUsize);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Done(&self.0)
    }
}
