//! The **committer** thread: makes each sequenced batch durable (its tiles
//! and bundles, then its checkpoint, through [`Storage::commit`]), publishes
//! the new committed checkpoint, hands the batch's records on to the record
//! indexer and only then answers the batch's jobs, strictly in batch order.
//! So nothing is acknowledged before its checkpoint is durable, and a
//! duplicate of a record still being committed is answered after that
//! commit. Nothing goes back to the sequencer: it learns what the record
//! index holds from the size the record indexer publishes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

use crate::checkpoints::{Committed, CommittedCheckpoint, Witnessed, WitnessedCheckpoint};
use crate::indexer::RecordIndexer;
use crate::pipeline::{Commit, Failure, InFlight, Write};
use crate::pruner::Pruner;
use crate::registry::{self, RegistryOutcome, RegistryWatch};
use crate::storage::Storage;

/// What the committer works with.
pub(crate) struct Committer {
    /// The tree store.
    pub(crate) storage: Arc<dyn Storage>,
    /// Where each newly committed checkpoint goes.
    pub(crate) committed: Committed,
    /// Where it also goes, at once, when the policy requires no witness.
    pub(crate) witnessed: Option<Witnessed>,
    /// The next stage: the indexes.
    pub(crate) records: RecordIndexer,
    /// Shared with every stage.
    pub(crate) failure: Failure,
    /// Shared with the sequencer.
    pub(crate) in_flight: InFlight,
    /// Told of every full tile made durable: the partial tiles beside it
    /// are superseded.
    pub(crate) pruner: Pruner,
    /// Where each durable registry change is published.
    pub(crate) registry_view: RegistryWatch,
    /// The agencies file, rewritten as a view of each durable change.
    pub(crate) agencies_file: PathBuf,
}

impl Committer {
    /// Starts the committer thread on `commits`. It ends when the sender is
    /// dropped, after the record indexer behind it has ended.
    pub(crate) fn start(self, commits: mpsc::Receiver<Commit>) -> std::thread::JoinHandle<()> {
        std::thread::Builder::new()
            .name("committer".into())
            .spawn(move || self.run(commits))
            .expect("spawn the committer thread")
    }

    /// Makes each batch durable, publishes its checkpoint, hands its
    /// records to the indexes and answers its jobs, in order. A commit the
    /// storage refuses is retried until it goes through (see
    /// [`Committer::commit_retrying`]); a batch is never skipped, so the
    /// tree on disk is always the old one or the new one.
    fn run(self, commits: mpsc::Receiver<Commit>) {
        while let Ok(mut commit) = commits.recv() {
            // However this batch ends, it no longer holds the sequencer back.
            let _done = self.in_flight.done_on_drop();
            if let Some(reason) = self.failure.reason() {
                commit.fail(&reason);
                continue;
            }
            if let Some(write) = commit.write.take() {
                if let Err(reason) = self.commit_retrying(write) {
                    self.failure.set(&reason);
                    commit.fail(&reason);
                    continue;
                }
                self.records.send(commit.indexed);
            }
            if let Some(change) = commit.registry {
                if let Err(e) = registry::write_view(&self.agencies_file, &change.state) {
                    tracing::warn!(file = %self.agencies_file.display(), error = %e, "could not rewrite the agencies file (a view of the registry)");
                }
                self.registry_view.send_replace(change.state);
                for (index, reply) in change.replies {
                    let _ = reply.send(Ok(RegistryOutcome::Logged { index }));
                }
            }
            for (job, outcome) in commit.jobs.into_iter().zip(commit.outcomes) {
                job.answer(Ok(outcome));
            }
        }
        // Dropping `self` lets the record indexer finish and waits for it.
    }

    /// Commits `write`, retrying while the storage refuses: out of space
    /// or file descriptors, a failed write or fsync. Each attempt writes
    /// every file anew (new temporary files, new fsyncs: a failed fsync's
    /// pages are not trusted), so a retry that succeeds leaves exactly the
    /// new tree. Meanwhile new submissions are answered 503 (507 for a
    /// full disk) and `/healthz` says why; the batch's own jobs wait, and
    /// nothing is acknowledged before it is durable. Gives up only when the
    /// log shuts down meanwhile (the tree on disk is then the old one or
    /// the new one, as after a crash).
    fn commit_retrying(&self, write: Write) -> Result<(), String> {
        let what = format!("committing size {}", write.size);
        self.failure
            .retry("committer", &what, || self.commit(&write))
    }

    /// Writes one batch durably and publishes its checkpoint.
    fn commit(&self, write: &Write) -> std::io::Result<()> {
        let Write {
            objects,
            note,
            size,
            root,
        } = write;
        let (size, root) = (*size, *root);
        let started = Instant::now();
        self.storage.commit(objects, note)?;
        metrics::histogram!(crate::metrics::COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
        self.pruner.written(objects);
        tracing::debug!(
            size,
            objects = objects.len(),
            storage_us = started.elapsed().as_micros() as u64,
            "committed a batch"
        );
        let checkpoint = CommittedCheckpoint {
            size,
            root,
            note: note.clone(),
        };
        // Committed first: a published checkpoint is never ahead of the
        // committed tree that tiles and proofs are served from.
        let witnessed = self
            .witnessed
            .as_ref()
            .map(|w| (w, WitnessedCheckpoint::without_witnesses(&checkpoint)));
        self.committed.send_replace(Arc::new(checkpoint));
        if let Some((to, witnessed)) = witnessed {
            to.send_replace(Arc::new(witnessed));
        }
        Ok(())
    }
}
