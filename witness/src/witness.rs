//! The witness: for each log one writer thread owns the state, so the
//! check against it, the durable update and the cosignature happen as one
//! step, never interleaved. Requests that arrive together are checked one
//! after another against the state as it moves, then the final state is
//! written once (one fsync for the group) before any of their cosignatures
//! leave.

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use gazette_client::cosignature::Cosignature;
use gazette_client::note::{Note, Signer, Verifier};
use gazette_client::witness_protocol::{AddCheckpointError, AddCheckpointRequest, WitnessState};
use gazette_kit::durable;
use tokio::sync::oneshot;

use crate::config::{Config, DAEMON};
use crate::metrics::LOG_SIZE;
use crate::state::{StateDir, Stored};

/// Requests one log may have waiting; beyond it the witness answers 503.
const QUEUE: usize = 1024;
/// Most requests checked and written as one group.
const GROUP: usize = 256;

/// Why the witness did not cosign.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The request fails a check of c2sp.org/tlog-witness (its status).
    #[error(transparent)]
    Refused(#[from] AddCheckpointError),
    /// Too many requests for this log are waiting.
    #[error("too many add-checkpoint requests for {0} are waiting")]
    Busy(String),
    /// The state could not be written: nothing was cosigned.
    #[error("{0}")]
    Failed(String),
    /// The state could not be written or read back just now (a full disk,
    /// no file descriptors): nothing was cosigned; retry shortly.
    #[error("{0}")]
    Unavailable(String),
}

/// What a monitor sees of one log.
#[derive(Clone, Debug)]
pub struct LogView {
    /// The log's origin.
    pub origin: String,
    /// The log's verifier key.
    pub vkey: String,
    /// Size last cosigned (0: never).
    pub size: u64,
    /// The cosigned checkpoint, if any.
    pub note: Option<String>,
    /// Why it cannot cosign at the moment (its state could not be
    /// written), if so; cleared once its state is read back.
    pub trouble: Option<String>,
}

struct Pending {
    request: AddCheckpointRequest,
    reply: oneshot::Sender<Result<String, AddError>>,
}

struct LogHandle {
    keys: Vec<Verifier>,
    view: Arc<RwLock<LogView>>,
    tx: Option<SyncSender<Pending>>,
    thread: Option<JoinHandle<()>>,
}

/// A running witness.
pub struct Witness {
    /// Its configuration.
    pub config: Config,
    /// Its cosigner public key.
    pub verifier: Verifier,
    logs: HashMap<String, LogHandle>,
    /// Each log's origin by its hash ([`crate::state::origin_hash`]).
    origins: HashMap<String, String>,
    /// Why it only serves reads, if it does: its data directory is
    /// read-only (see [`Witness::open_read_only`]).
    pub read_only: Option<String>,
    /// Held open, and so locked, while the witness is (a read-only one
    /// locks nothing: nobody can write there).
    _dir_lock: Option<std::fs::File>,
}

impl LogView {
    /// What monitors see of `log`, with its stored state if any.
    fn of(log: &Verifier, held: Option<&Stored>, trouble: Option<String>) -> LogView {
        LogView {
            origin: log.name().to_owned(),
            vkey: log.to_string(),
            size: held.map_or(0, |s| s.state.size),
            note: held.map(|s| s.note.clone()),
            trouble,
        }
    }
}

/// Every log's stored state, by origin.
fn stored_by_origin(
    states: &StateDir,
    logs: &[Verifier],
) -> anyhow::Result<HashMap<String, Stored>> {
    Ok(states
        .load_all(logs)?
        .into_iter()
        .map(|s| (s.origin.clone(), s))
        .collect())
}

fn origins_by_hash(logs: &HashMap<String, LogHandle>) -> HashMap<String, String> {
    logs.keys()
        .map(|origin| (crate::state::origin_hash(origin), origin.clone()))
        .collect()
}

/// The file a running witness locks in its data directory: two witnesses
/// on one state directory would each hold their own idea of every log's
/// tree and could cosign two different trees of the same size.
pub const LOCK_FILE: &str = "gazette-witness.lock";

/// Reads the witness's cosigner key file.
pub fn read_key(config: &Config, dir: &Path) -> anyhow::Result<Signer> {
    let path = dir.join(&config.key_file);
    Ok(gazette_kit::key::read_signer(&DAEMON, &path, &config.name)?)
}

impl Witness {
    /// Opens the witness in `dir`: key, logs, and every log's stored state.
    pub fn open(dir: &Path) -> anyhow::Result<Witness> {
        // Before the first gauge is set, so none is lost.
        crate::metrics::handle();
        let config = Config::load(dir)?;
        let dir_lock = durable::lock_data_dir(dir, LOCK_FILE, "gazette-witness")?;
        let key = Arc::new(read_key(&config, dir)?);
        let logs = crate::logs::load(&dir.join(&config.logs_file))?;
        let states = StateDir::open(dir).context("opening the state directory")?;
        states
            .remove_temporaries()
            .context("removing unfinished state writes")?;
        let mut stored = stored_by_origin(&states, &logs)?;
        let states = Arc::new(states);
        let mut handles = HashMap::new();
        for log in logs {
            let origin = log.name().to_owned();
            let held = stored.remove(&origin);
            let view = Arc::new(RwLock::new(LogView::of(&log, held.as_ref(), None)));
            let state = held.map_or(WitnessState::empty(), |s| s.state);
            let (tx, rx) = mpsc::sync_channel(QUEUE);
            let (key, states, thread_view) = (key.clone(), states.clone(), view.clone());
            let thread = std::thread::Builder::new()
                .name(format!("log {origin}"))
                .spawn(move || run(state, &rx, &key, &states, &thread_view))
                .context("spawning a log thread")?;
            metrics::gauge!(LOG_SIZE, "origin" => origin.clone()).set(state.size as f64);
            handles.insert(
                origin,
                LogHandle {
                    keys: vec![log],
                    view,
                    tx: Some(tx),
                    thread: Some(thread),
                },
            );
        }
        Ok(Witness {
            _dir_lock: Some(dir_lock),
            read_only: None,
            verifier: key.verifier(),
            config,
            origins: origins_by_hash(&handles),
            logs: handles,
        })
    }

    /// Opens the witness in `dir`, which cannot be written (`why`), to
    /// serve what monitors read: every log's last cosigned checkpoint.
    /// `add-checkpoint` answers 503 with `why`, and `/healthz` names every
    /// log with it; nothing in the directory is touched. The serving loop
    /// reopens the witness in full once `dir` is writable again.
    pub fn open_read_only(dir: &Path, why: String) -> anyhow::Result<Witness> {
        crate::metrics::handle();
        let config = Config::load(dir)?;
        let key = read_key(&config, dir)?;
        let logs = crate::logs::load(&dir.join(&config.logs_file))?;
        let states = StateDir::open(dir).context("opening the state directory")?;
        let mut stored = stored_by_origin(&states, &logs)?;
        let handles = logs
            .into_iter()
            .map(|log| {
                let origin = log.name().to_owned();
                let held = stored.remove(&origin);
                let view = LogView::of(&log, held.as_ref(), Some(why.clone()));
                let handle = LogHandle {
                    keys: vec![log],
                    view: Arc::new(RwLock::new(view)),
                    tx: None,
                    thread: None,
                };
                (origin, handle)
            })
            .collect();
        Ok(Witness {
            _dir_lock: None,
            read_only: Some(why),
            verifier: key.verifier(),
            config,
            origins: origins_by_hash(&handles),
            logs: handles,
        })
    }

    /// Handles one `add-checkpoint` body: on success the cosignature line.
    pub async fn add_checkpoint(&self, body: &[u8]) -> Result<String, AddError> {
        let request = AddCheckpointRequest::parse(body)?;
        let log = self.logs.get(&request.checkpoint.origin);
        request.authenticate(log.map(|l| l.keys.as_slice()))?;
        let log = log.expect("authenticate refuses unknown origins");
        let (reply, answer) = oneshot::channel();
        let origin = request.checkpoint.origin.clone();
        let Some(tx) = log.tx.as_ref() else {
            let why = self
                .read_only
                .as_deref()
                .unwrap_or("the witness only serves reads");
            return Err(AddError::Unavailable(why.to_owned()));
        };
        match tx.try_send(Pending { request, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(AddError::Busy(origin)),
            Err(TrySendError::Disconnected(_)) => {
                return Err(AddError::Failed("the witness is stopping".into()));
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err(AddError::Failed("the log's writer stopped".into())))
    }

    /// Every followed log, as monitors see it.
    pub fn logs(&self) -> Vec<LogView> {
        let mut logs: Vec<LogView> = self
            .logs
            .values()
            .map(|l| l.view.read().expect("lock").clone())
            .collect();
        logs.sort_by(|a, b| a.origin.cmp(&b.origin));
        logs
    }

    /// One followed log, as monitors see it.
    pub fn log(&self, origin: &str) -> Option<LogView> {
        self.logs
            .get(origin)
            .map(|l| l.view.read().expect("lock").clone())
    }

    /// One followed log by the hash of its origin
    /// ([`crate::state::origin_hash`]), as monitors see it.
    pub fn log_by_hash(&self, hash: &str) -> Option<LogView> {
        self.log(self.origins.get(hash)?)
    }
}

impl Drop for Witness {
    /// Lets every log thread finish its group and stop.
    fn drop(&mut self) {
        for log in self.logs.values_mut() {
            drop(log.tx.take());
            if let Some(thread) = log.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_secs().max(1))
}

/// One log's writer: groups waiting requests, checks each against the
/// state as it moves, writes the final state, then releases the
/// cosignatures. After a failed write the state on disk may be the old one
/// or the new one: before cosigning again it reads back which (refusing
/// with 503 while it cannot), so a full disk or a lack of descriptors
/// passes without a restart, and it never cosigns from a state it is not
/// sure the disk holds.
fn run(
    mut state: WitnessState,
    rx: &Receiver<Pending>,
    key: &Signer,
    states: &StateDir,
    view: &RwLock<LogView>,
) {
    let origin = view.read().expect("lock").origin.clone();
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match rx.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        // (Bound first: the read guard must be gone before the view is written.)
        let trouble = view.read().expect("lock").trouble.clone();
        if let Some(trouble) = trouble {
            match states.reread(&origin) {
                Ok(stored) => {
                    state = stored.as_ref().map_or(WitnessState::empty(), |s| s.state);
                    let mut view = view.write().expect("lock");
                    view.size = state.size;
                    view.note = stored.map(|s| s.note);
                    view.trouble = None;
                    tracing::warn!(%origin, size = state.size, "state read back after a failed write: cosigning again");
                }
                Err(e) => {
                    let reason = format!("{trouble}; reading it back: {e}");
                    view.write().expect("lock").trouble = Some(reason.clone());
                    for p in group {
                        let _ = p.reply.send(Err(AddError::Unavailable(reason.clone())));
                    }
                    continue;
                }
            }
        }
        let mut next = state;
        let mut accepted: Vec<(Pending, Cosignature)> = Vec::new();
        let timestamp = now();
        for p in group {
            let checked = p
                .request
                .check_against(&next)
                .map_err(AddError::from)
                .and_then(|moved| {
                    let text = Note::parse(p.request.note.as_bytes())
                        .map_err(|e| AddError::Failed(e.to_string()))?
                        .text;
                    let cosignature = Cosignature::sign(key, &text, timestamp)
                        .map_err(|e| AddError::Failed(e.to_string()))?;
                    Ok((moved, cosignature))
                });
            match checked {
                Ok((moved, cosignature)) => {
                    next = moved;
                    accepted.push((p, cosignature));
                }
                Err(e) => {
                    let _ = p.reply.send(Err(e));
                }
            }
        }
        // The state kept (and served to monitors) is the last one cosigned.
        let Some((last, cosignature)) = accepted.last() else {
            continue;
        };
        let cosigned = format!("{}{}", last.request.note, cosignature.to_line());
        let origin = last.request.checkpoint.origin.clone();
        if let Err(e) = states.save(&origin, &cosigned) {
            let reason = format!("writing the state of {origin}: {e}");
            tracing::error!(%reason, "nothing cosigned; the state is read back before the next");
            for (p, _) in accepted {
                let _ = p.reply.send(Err(AddError::Unavailable(reason.clone())));
            }
            view.write().expect("lock").trouble = Some(reason);
            continue;
        }
        state = next;
        {
            let mut view = view.write().expect("lock");
            view.size = state.size;
            view.note = Some(cosigned);
        }
        metrics::gauge!(LOG_SIZE, "origin" => origin).set(state.size as f64);
        for (p, cosignature) in accepted {
            let _ = p.reply.send(Ok(cosignature.to_line()));
        }
    }
}
