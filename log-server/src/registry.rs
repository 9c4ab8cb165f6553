//! The agency registry as the log keeps it (`gazette_client::registry`):
//! folded at start from the registry entries the record index holds,
//! then changed only by the sequencer, which logs each change as an entry
//! and checks every new record's key against it at the record's index.
//! What the HTTP handlers admit records with (the current keys) is
//! published by the committer once a change is durable, and the
//! agencies file is rewritten then as a view of it: the log, not the
//! file, is the source of truth.
//!
//! A log from before the registry has only its agencies file: at its
//! first start with the registry, each listed key is logged as a
//! registration (from the size it was registered at), once.

use std::path::Path;
use std::sync::Arc;

use gazette_client::note::{Signer, Verifier};
use gazette_client::registry::{
    Action, Registry, RegistryEntry, RegistryError, SignedRegistryEntry,
};
use tokio::sync::{oneshot, watch};

use crate::agencies::{self, Agency};
use crate::pipeline::SubmitError;

/// The registry as of the newest durable change, with its current keys in
/// the shape the handlers check signatures with.
#[derive(Debug)]
pub struct RegistryState {
    /// Every agency's history.
    pub registry: Registry,
    /// The keys that may sign new records, with where their window opens.
    pub agencies: Arc<Vec<Agency>>,
}

impl RegistryState {
    /// The state of `registry`.
    pub fn new(registry: Registry) -> RegistryState {
        let agencies = registry
            .agencies
            .values()
            .flat_map(|history| history.current())
            .map(|k| Agency {
                key: k.key.clone(),
                since: k.valid_from,
            })
            .collect();
        RegistryState {
            registry,
            agencies: Arc::new(agencies),
        }
    }
}

/// Where the committer publishes each durable registry change.
pub type RegistryWatch = watch::Sender<Arc<RegistryState>>;

/// The registry of the log whose key is `log`, from its registry entries
/// `(index, bytes)` in index order. An entry breaking a rule (which this
/// log never logs) is left out with a warning.
pub fn fold(log: &Verifier, entries: &[(u64, Vec<u8>)]) -> Registry {
    let entries = entries.iter().map(|(i, bytes)| (*i, bytes.as_slice()));
    let (registry, left_out) = Registry::fold(log, entries);
    for (index, why) in left_out {
        tracing::warn!(index, %why, "a registry entry the registry leaves out");
    }
    registry
}

/// The registrations a log from before the registry logs at start: every
/// key its agencies file lists, from the size it was registered at (at
/// most `size`). None once the registry holds anything.
pub fn migration(
    agencies_file: &Path,
    key: &Signer,
    registry: &Registry,
    size: u64,
) -> anyhow::Result<Vec<SignedRegistryEntry>> {
    if !registry.agencies.is_empty() {
        return Ok(Vec::new());
    }
    let time = gazette_kit::now_rfc3339();
    agencies::load(agencies_file)?
        .into_iter()
        .map(|agency| {
            let entry = RegistryEntry {
                log: key.name().to_owned(),
                agency: agency.key.name().to_owned(),
                action: Action::Register,
                key: agency.key,
                from: Some(agency.since.min(size)),
                time: time.clone(),
            };
            Ok(entry.sign(&[key])?)
        })
        .collect()
}

/// Rewrites the agencies file as a view of `state`: the current keys.
pub fn write_view(path: &Path, state: &RegistryState) -> std::io::Result<()> {
    let mut text = String::from(VIEW_HEADER);
    for agency in state.agencies.iter() {
        text.push_str(&format!("{} {}\n", agency.key, agency.since));
    }
    gazette_kit::durable::write_file(path, text.as_bytes(), None)
}

const VIEW_HEADER: &str = "# The agencies' current keys, `<vkey> <first index>` per line: a view of\n# the registry the log holds (its gazette.agency/v1 entries), rewritten by\n# the log. Edits here change nothing; use `gazette-log agency add|retire|compromised`.\n";

/// What became of a registry entry sent to the sequencer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryOutcome {
    /// Logged (durably) at this index.
    Logged {
        /// Its index.
        index: u64,
    },
    /// Refused: it breaks a rule as of the index it would have had.
    Refused(RegistryError),
}

/// A registry entry on its way through the sequencer.
pub struct RegistryJob {
    pub(crate) entry: SignedRegistryEntry,
    pub(crate) reply: crate::pipeline::RegistryReply,
}

impl RegistryJob {
    /// The job of logging `entry`, and where its answer comes.
    pub fn new(
        entry: SignedRegistryEntry,
    ) -> (
        RegistryJob,
        oneshot::Receiver<Result<RegistryOutcome, SubmitError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        (RegistryJob { entry, reply }, answer)
    }
}

/// Waits, from any thread (a tokio runtime's too), for the answers of the
/// changes a log logs at start; they come within a commit or two.
pub fn wait_at_start(
    answers: Vec<oneshot::Receiver<Result<RegistryOutcome, SubmitError>>>,
) -> anyhow::Result<()> {
    for mut answer in answers {
        let outcome = loop {
            match answer.try_recv() {
                Ok(outcome) => break outcome,
                Err(oneshot::error::TryRecvError::Empty) => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                Err(oneshot::error::TryRecvError::Closed) => {
                    anyhow::bail!("the sequencer stopped while logging the agencies file's keys")
                }
            }
        };
        match outcome? {
            RegistryOutcome::Logged { index } => {
                tracing::info!(index, "logged a key of the agencies file in the registry")
            }
            RegistryOutcome::Refused(why) => {
                tracing::warn!(%why, "a key of the agencies file was not registered")
            }
        }
    }
    Ok(())
}
