//! A replica follows the tree another process writes to the bucket: it
//! reads the `checkpoint` and `witnessed-checkpoint` objects every
//! [`EVERY`], and moves its own committed and published checkpoints on
//! when they verify (the log's signature; the witness policy) and the
//! tiles in the bucket hash to their root. It never goes back: a newer
//! checkpoint must be larger (a sequencer that lost its lease may still
//! write an older one late).

use std::sync::{Arc, Weak};
use std::time::Duration;

use gazette_client::checkpoint::open_checkpoint;

use crate::checkpoints::{CommittedCheckpoint, WitnessedCheckpoint};
use crate::log::Log;
use crate::storage::{CHECKPOINT, WITNESSED_CHECKPOINT};
use crate::tree::Edge;

/// How often a replica looks for a newer checkpoint.
pub const EVERY: Duration = Duration::from_millis(250);

/// Follows on the current tokio runtime until `log` is dropped.
pub fn spawn(log: Weak<Log>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            let Some(log) = log.upgrade() else { return };
            let step = tokio::task::spawn_blocking(move || step(&log)).await;
            match step {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "following the bucket"),
                Err(e) => tracing::error!(error = %e, "following the bucket"),
            }
        }
    });
}

/// One look at the bucket.
fn step(log: &Arc<Log>) -> anyhow::Result<()> {
    let storage = log.storage.as_ref();
    let known = log.committed().size;
    if let Some(note) = storage.read(CHECKPOINT)? {
        let checkpoint = open_checkpoint(&note, &log.verifier)?.checkpoint;
        if checkpoint.size > known {
            Edge::load(storage, checkpoint.size, &checkpoint.root)?;
            // Its index's segments first: proofs against it are asked for
            // as soon as it is seen.
            if let Some(map) = &log.map {
                map.map.follow(storage, checkpoint.size)?;
            }
            let committed = CommittedCheckpoint {
                size: checkpoint.size,
                root: checkpoint.root,
                note,
            };
            if log.policy.witnesses().is_empty() {
                log.published
                    .send_replace(Arc::new(WitnessedCheckpoint::without_witnesses(&committed)));
            }
            log.committed.send_replace(Arc::new(committed));
        }
    }
    // The replica's own indexes, from the tiles (the lookup index may trail
    // the tree, as the sequencer's does; answers say what they cover).
    let size = log.committed().size;
    if let Some(index) = &log.index {
        index.catch_up(storage, size)?;
    }
    if let Some(lookup) = &log.lookup {
        lookup.catch_up(storage, size)?;
    }
    if log.policy.witnesses().is_empty() {
        return Ok(());
    }
    if let Some(note) = storage.read(WITNESSED_CHECKPOINT)? {
        let verified = log.policy.verify_checkpoint(&note)?;
        let size = verified.checkpoint.size;
        if size > log.published().size && size <= log.committed().size {
            Edge::load(storage, size, &verified.checkpoint.root)?;
            // The proofs readers ask for are against the published
            // checkpoint: its commitment's segments, kept as a snapshot.
            if let Some(map) = &log.map {
                map.map.follow(storage, size)?;
            }
            log.published.send_replace(Arc::new(WitnessedCheckpoint {
                size,
                root: verified.checkpoint.root,
                note,
            }));
        }
    }
    Ok(())
}
