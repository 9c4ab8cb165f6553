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
    /// The record's key may no longer sign: it was retired or declared
    /// compromised after the record was admitted, before its index.
    KeyCutOff {
        /// The signing key's ID.
        key_id: u32,
        /// The registry entry that cut it off.
        at: u64,
        /// The first index it may not sign at.
        from: u64,
        /// Declared compromised (else retired).
        compromised: bool,
    },
    /// The record's key is not registered to its issuer (a race with a
    /// registry change the handler could not see).
    KeyUnknown {
        /// The signing key's ID.
        key_id: u32,
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
    /// The storage is failing and the committer retries: nothing new is
    /// taken until a commit goes through again.
    #[error("the log cannot write to its storage at the moment ({}); nothing was logged, retry later", .0.message)]
    Storage(StorageTrouble),
}

/// The first pause before a refused write is retried; it doubles up to
/// [`RETRY_MAX`].
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(50);
/// The longest pause between retries.
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether `e`, or an error it wraps, is a full disk (or quota).
fn disk_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// Trouble a retry may get past: the storage refused a commit (out of
/// space or file descriptors, an I/O error), and the committer retries
/// the same commit until it goes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageTrouble {
    /// The last error.
    pub message: String,
    /// Whether it was a full disk (or quota).
    pub disk_full: bool,
}

/// One submission: its records, where its answer goes, and the queue
/// capacity it holds until answered.
pub(crate) struct Job {
    pub(crate) records: Vec<SignedRecord>,
    /// Each record's leaf hash and the index keys it is filed under (none
    /// without the index), hashed before the sequencer gets the job.
    pub(crate) filed: Vec<(Hash, Vec<Hash>)>,
    pub(crate) reply: oneshot::Sender<Result<Vec<Outcome>, SubmitError>>,
    /// Its place in the queue: one permit per record, and one per KiB of
    /// record text begun.
    pub(crate) permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Job {
    /// Frees the job's queue capacity, then answers: a submitter that
    /// waits for its answer before sending again always finds room.
    pub(crate) fn answer(self, result: Result<Vec<Outcome>, SubmitError>) {
        drop(self.permits);
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
    /// A registry change it logs: published, and its job answered, once
    /// durable.
    pub(crate) registry: Option<RegistryCommit>,
}

impl Commit {
    /// Answers everyone waiting on a batch that will not be committed.
    pub(crate) fn fail(self, reason: &str) {
        Job::fail_all(self.jobs, reason);
        for (_, reply) in self.registry.into_iter().flat_map(|change| change.replies) {
            let _ = reply.send(Err(SubmitError::Failed(reason.to_owned())));
        }
    }
}

/// The registry entries a batch logs.
pub(crate) struct RegistryCommit {
    /// The registry with the changes.
    pub(crate) state: Arc<crate::registry::RegistryState>,
    /// Each change's index, and who sent it.
    pub(crate) replies: Vec<(u64, RegistryReply)>,
}

/// Where a registry change's outcome goes.
pub(crate) type RegistryReply =
    oneshot::Sender<Result<crate::registry::RegistryOutcome, SubmitError>>;

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

/// Why the log does not take writes, shared by every stage: a failure
/// the first failing stage sets, after which every stage refuses until a
/// restart; or storage trouble the committer is retrying past, which it
/// clears once a commit goes through.
#[derive(Clone, Default)]
pub(crate) struct Failure {
    stopped: Arc<RwLock<Option<String>>>,
    /// Each stage's trouble (`committer`, `record-indexer`), apart, so one
    /// stage getting past its trouble does not clear another's.
    trouble: Arc<RwLock<std::collections::BTreeMap<&'static str, StorageTrouble>>>,
    /// Set when the log shuts down: a commit being retried gives up.
    shutting_down: Arc<std::sync::atomic::AtomicBool>,
}

impl Failure {
    /// Stops writes for `reason` (the first reason is kept).
    pub(crate) fn set(&self, reason: &str) {
        tracing::error!(%reason, "refusing further writes until restart");
        let mut slot = self.stopped.write().expect("lock");
        if slot.is_none() {
            *slot = Some(reason.to_owned());
        }
    }

    /// Why writes stopped, if they did.
    pub(crate) fn reason(&self) -> Option<String> {
        self.stopped.read().expect("lock").clone()
    }

    /// The storage trouble being retried, if any (a full disk first).
    pub(crate) fn trouble(&self) -> Option<StorageTrouble> {
        let troubles = self.trouble.read().expect("lock");
        let mut all: Vec<&StorageTrouble> = troubles.values().collect();
        all.sort_by_key(|t| !t.disk_full);
        all.first().map(|t| (*t).clone())
    }

    /// Records the storage trouble `stage` is retrying past.
    pub(crate) fn set_trouble(&self, stage: &'static str, trouble: StorageTrouble) {
        self.trouble.write().expect("lock").insert(stage, trouble);
    }

    /// Clears `stage`'s trouble; whether there was any.
    pub(crate) fn clear_trouble(&self, stage: &'static str) -> bool {
        self.trouble.write().expect("lock").remove(stage).is_some()
    }

    /// Runs `attempt` until it succeeds, as `stage`: after each failure the
    /// trouble is recorded (so new writes get 503 or 507 and `/healthz`
    /// says why) and the attempt is repeated after a pause, 50 ms doubling
    /// to 2 s; the first success clears it. Gives up, with the last error,
    /// only once the log is shutting down.
    pub(crate) fn retry<E: std::error::Error + 'static>(
        &self,
        stage: &'static str,
        what: &str,
        mut attempt: impl FnMut() -> Result<(), E>,
    ) -> Result<(), String> {
        let mut pause = RETRY_FIRST;
        loop {
            let Err(e) = attempt() else {
                if self.clear_trouble(stage) {
                    tracing::warn!(stage, "the storage works again: writes resumed");
                }
                return Ok(());
            };
            let message = format!("{what}: {e}");
            if self.shutting_down() {
                return Err(format!("shutting down with this unfinished: {message}"));
            }
            tracing::error!(stage, error = %message, retry_in = ?pause, "the storage refused a write; retrying");
            metrics::counter!(crate::metrics::STORAGE_RETRIES, "stage" => stage).increment(1);
            let disk_full = disk_full(&e);
            self.set_trouble(stage, StorageTrouble { message, disk_full });
            std::thread::sleep(pause);
            pause = (pause * 2).min(RETRY_MAX);
        }
    }

    /// The log is shutting down: stop retrying commits.
    pub(crate) fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether the log is shutting down.
    pub(crate) fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
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
