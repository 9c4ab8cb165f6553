//! The log's two checkpoints, as the rest of the log sees them.
//!
//! A [`CommittedCheckpoint`] is signed by the log and durable: the
//! committer publishes one after each commit, and tiles, entries, proofs
//! and lookups follow it. A [`WitnessedCheckpoint`] is the one `/checkpoint`
//! and receipts serve: a committed checkpoint with the cosignatures that
//! meet the witness policy. Each is kept in a [`Latest`] watch, which
//! readers read at once and may wait on; only one stage writes each.

use std::sync::Arc;

use gazette_client::merkle::Hash;
use tokio::sync::watch;

/// A checkpoint signed by the log whose tree is durable in storage, not
/// (yet) cosigned by witnesses.
#[derive(Debug)]
pub struct CommittedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: Hash,
    /// The signed checkpoint note (the log's signature only).
    pub note: Vec<u8>,
}

/// A committed checkpoint with the witnesses' cosignatures that meet the
/// policy: what the log publishes.
#[derive(Debug)]
pub struct WitnessedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Tree root.
    pub root: Hash,
    /// The signed checkpoint note, the log's signature first, then the
    /// cosignatures.
    pub note: Vec<u8>,
}

impl WitnessedCheckpoint {
    /// The committed checkpoint as it is published under a policy that
    /// requires no witness (`quorum none`): the log's signature meets it.
    pub fn without_witnesses(committed: &CommittedCheckpoint) -> WitnessedCheckpoint {
        WitnessedCheckpoint {
            size: committed.size,
            root: committed.root,
            note: committed.note.clone(),
        }
    }
}

/// The newest checkpoint of one kind, for readers to read at once or wait
/// on.
pub type Latest<T> = Arc<watch::Sender<Arc<T>>>;

/// The newest committed checkpoint; the committer writes it.
pub type Committed = Latest<CommittedCheckpoint>;

/// The newest witnessed checkpoint; the witnessing task writes it (the
/// committer, when the policy requires no witness).
pub type Witnessed = Latest<WitnessedCheckpoint>;

/// A new [`Latest`] holding `first`.
pub fn latest<T>(first: T) -> Latest<T> {
    Arc::new(watch::Sender::new(Arc::new(first)))
}
