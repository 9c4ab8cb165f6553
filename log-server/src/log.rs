//! Opening a log from its data directory: configuration, key, agencies,
//! recovery of the stored tree, index catch-up, and the sequencer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use gazette_client::checkpoint::{Checkpoint, open_checkpoint};
use gazette_client::merkle;
use gazette_client::note::{Signer, Verifier};
use gazette_client::tiles::{HEIGHT, Tile, TileLevel};

use crate::add_verifier::AddVerifier;
use crate::agencies::Agency;
use crate::checkpoints::{Committed, CommittedCheckpoint, Witnessed, WitnessedCheckpoint, latest};
use crate::config::Config;
use crate::index::{Digests, LookupIndex, RecordIndex};
use crate::indexer::Indexer;
use crate::map::{Map, MapHandle};
use crate::names;
use crate::rate::AgencyLimits;
use crate::registry::{RegistryJob, RegistryState};
use crate::reloaded::Reloaded;
use crate::sequencer::{Batching, Pruner, Sequencer, Writer};
use crate::storage::{CHECKPOINT, FsStorage, Storage};
use crate::tile_cache::TileCache;
use crate::tree::Edge;
use gazette_client::policy::Policy;
use tokio::sync::{Semaphore, watch};

/// The record index's database, under the data directory.
pub const RECORD_INDEX_DIR: &str = "index";
/// The lookup index's database, under the data directory.
pub const LOOKUP_INDEX_DIR: &str = "lookup";

/// A running log.
pub struct Log {
    /// Its configuration.
    pub config: Config,
    /// Its data directory.
    pub dir: PathBuf,
    /// The tree store.
    pub storage: Arc<dyn Storage>,
    /// The newest committed checkpoint (durable, signed by the log).
    pub committed: Committed,
    /// The newest published checkpoint: witnessed as the policy requires.
    pub published: Witnessed,
    /// The witness policy verifiers should use (the log's key first).
    pub policy: Policy,
    /// Its text, as `/info` serves it.
    pub policy_text: String,
    /// The writer.
    pub sequencer: Sequencer,
    /// The sequencer's duplicate check, also the lookups by name (not
    /// opened read-only; a replica keeps its own).
    pub index: Option<Arc<RecordIndex>>,
    /// The readers' lookup index (it may trail the tree by a few batches;
    /// not opened read-only).
    pub lookup: Option<Arc<LookupIndex>>,
    /// Why the log only serves reads, if it does: its data directory is
    /// read-only (see [`Log::open_read_only`]).
    pub read_only: Option<String>,
    /// The verifiable index, if batches end with its commitment.
    pub map: Option<MapHandle>,
    /// The log's public key.
    pub verifier: Verifier,
    /// Per-agency rate limits.
    pub limits: AgencyLimits,
    /// Tiles served lately, kept in memory (they never change).
    pub tiles: TileCache,
    /// Turns at the write routes, and places for `/add?wait=receipt` waiters.
    pub turns: WriteTurns,
    /// `/add` records' signatures, checked in batches.
    pub add_verifier: AddVerifier,
    /// The agency registry as of the newest durable change.
    registry: RegistrySource,
    names: Reloaded<String>,
    /// Held open, and so locked, while the log is (a read-only log
    /// locks nothing: nobody can write there).
    _dir_lock: Option<std::fs::File>,
}

/// The write routes' bounds, kept apart: `/add` and `/add-batch` requests
/// being handled (verified and sequenced; more wait their turn), and
/// `/add?wait=receipt` requests waiting for a witnessed checkpoint to carry
/// their receipt, which hold no turn, so that waiters (anyone can replay a
/// logged record with `wait=receipt`) never slow an agency's writes.
pub struct WriteTurns {
    /// `/add` requests handled at once (`limits.max_concurrent_adds`).
    pub adds: Arc<Semaphore>,
    /// `/add-batch` requests handled at once (`limits.max_concurrent_batches`).
    pub batches: Arc<Semaphore>,
    /// Requests waiting for a receipt at once (`limits.max_receipt_waiters`).
    pub receipt_waiters: Arc<Semaphore>,
}

impl WriteTurns {
    fn new(config: &Config) -> WriteTurns {
        let limits = &config.limits;
        WriteTurns {
            adds: Arc::new(Semaphore::new(limits.max_concurrent_adds)),
            batches: Arc::new(Semaphore::new(limits.max_concurrent_batches)),
            receipt_waiters: Arc::new(Semaphore::new(limits.max_receipt_waiters)),
        }
    }
}

/// The file a running log locks in its data directory.
pub const LOCK_FILE: &str = "gazette-log.lock";

/// Locks the data directory for this process (while the file is open):
/// two processes writing the same tiles would fork the log, and a second
/// one's crash recovery would remove the first one's files.
pub fn lock_data_dir(dir: &Path) -> std::io::Result<std::fs::File> {
    gazette_kit::durable::lock_data_dir(dir, LOCK_FILE, "gazette-log")
}

/// Reads the log's signer key file.
pub fn read_key(config: &Config, dir: &Path) -> anyhow::Result<Signer> {
    let path = dir.join(&config.key_file);
    let daemon = &crate::config::DAEMON;
    Ok(gazette_kit::key::read_signer(
        daemon,
        &path,
        &config.origin,
    )?)
}

impl Log {
    /// Opens the log in `dir` on the filesystem store `<dir>/`.
    pub fn open(dir: &Path) -> anyhow::Result<Log> {
        let config = Config::load(dir)?;
        let storage = Arc::new(FsStorage::open(dir)?);
        Log::open_with(dir, config, storage)
    }

    /// Opens the log with a given configuration and store.
    pub fn open_with(dir: &Path, config: Config, storage: Arc<dyn Storage>) -> anyhow::Result<Log> {
        crate::metrics::handle();
        let dir_lock = lock_data_dir(dir)?;
        let key = read_key(&config, dir)?;
        let verifier = key.verifier();
        let (edge, note) = recover(storage.as_ref(), &key)?;
        let index = Arc::new(
            RecordIndex::open_at(
                &dir.join(RECORD_INDEX_DIR),
                storage.as_ref(),
                edge.size(),
                (),
            )
            .context("bringing the record index up to the checkpoint")?,
        );
        let lookup = Arc::new(
            LookupIndex::open_at(
                &dir.join(LOOKUP_INDEX_DIR),
                storage.as_ref(),
                edge.size(),
                Digests::of(&config),
            )
            .context("bringing the lookup index up to the checkpoint")?,
        );
        let names = display_names(&config, dir)?;
        let registry = crate::registry::fold(&verifier, &index.registry_entries()?);
        let agencies_file = dir.join(&config.agencies_file);
        let migration = crate::registry::migration(&agencies_file, &key, &registry, edge.size())
            .context("logging the agencies file's keys in the registry")?;
        let (at_start, answers): (Vec<_>, Vec<_>) =
            migration.into_iter().map(RegistryJob::new).unzip();
        let state = Arc::new(RegistryState::new(registry.clone()));
        if at_start.is_empty()
            && let Err(e) = crate::registry::write_view(&agencies_file, &state)
        {
            tracing::warn!(file = %agencies_file.display(), error = %e, "could not rewrite the agencies file (a view of the registry)");
        }
        let (registry_view, registry_rx) = watch::channel(state);
        let committed = CommittedCheckpoint {
            size: edge.size(),
            root: edge.root(),
            note,
        };
        let (policy, policy_text) = load_policy(&config, dir, &verifier)?;
        // Without witnesses, every committed checkpoint is published at once
        // (by the committer); with them, the witnessing task publishes.
        let no_witnesses = policy.witnesses().is_empty();
        let published = latest(if no_witnesses {
            WitnessedCheckpoint::without_witnesses(&committed)
        } else {
            witnessed_at_start(storage.as_ref(), &policy, Some(&key), edge.size())?
        });
        let committed = latest(committed);
        let map = match config.sequencer.verifiable_index {
            true => Some(MapHandle::start(
                Map::open(dir, storage.as_ref(), edge.size(), published.clone())
                    .context("opening the verifiable index")?,
            )),
            false => None,
        };
        let batching = Batching {
            max_batch: config.sequencer.max_batch,
            interval: Duration::from_millis(config.sequencer.batch_interval_ms),
            queue_capacity: config.sequencer.queue_capacity,
            queue_budget_bytes: config.sequencer.queue_budget_mib << 20,
        };
        let sequencer = Sequencer::start(
            Writer {
                storage: storage.clone(),
                index: index.clone(),
                indexer: Indexer::start(lookup.clone(), storage.clone(), committed.clone()),
                map: map.as_ref().map(|m| m.map.clone()),
                key,
                edge,
                committed: committed.clone(),
                witnessed: no_witnesses.then(|| published.clone()),
                pruner: Pruner::start(
                    storage.clone(),
                    Duration::from_secs(config.storage.partial_tile_grace_s),
                ),
                registry,
                registry_view,
                agencies_file,
                at_start,
            },
            batching,
        );
        crate::registry::wait_at_start(answers)?;
        Ok(Log {
            _dir_lock: Some(dir_lock),
            registry: RegistrySource::Sequencer(registry_rx),
            names,
            limits: AgencyLimits::new(config.rate_limits.clone()),
            tiles: TileCache::new(config.limits.tile_cache_mib << 20),
            turns: WriteTurns::new(&config),
            add_verifier: AddVerifier::start(config.limits.max_concurrent_adds),
            config,
            dir: dir.to_owned(),
            storage,
            committed,
            published,
            policy,
            policy_text,
            sequencer,
            index: Some(index),
            lookup: Some(lookup),
            read_only: None,
            map,
            verifier,
        })
    }

    /// Opens the log in `dir`, which cannot be written (`why`), to serve
    /// what needs no index database: the checkpoint published when it
    /// stopped, tiles, entries, proofs and receipts, `/info` and the page.
    /// Writes and lookups are refused with 503 and `why`; nothing in the
    /// directory is touched (no crash recovery: files a crashed commit
    /// left beyond the checkpoint are not served, as no checkpoint covers
    /// them). The serving loop reopens the log in full once `dir` is
    /// writable again.
    pub fn open_read_only(dir: &Path, why: String) -> anyhow::Result<Log> {
        let config = Config::load(dir)?;
        let storage: Arc<dyn Storage> = Arc::new(FsStorage::open(dir)?);
        let key = read_key(&config, dir)?;
        let verifier = key.verifier();
        Log::reader(dir, config, storage, &verifier, Some(&key), why, false)
    }

    /// Opens a replica of the log whose tree is in `storage` (a bucket
    /// another process writes): it serves the read API from the bucket,
    /// follows its checkpoints ([`Log::start_following`]) and, with
    /// `lookups`, keeps its own lookup index in `dir`, built from the
    /// tiles. Writes are refused with 503 and `why`.
    pub fn open_replica(
        dir: &Path,
        config: Config,
        storage: Arc<dyn Storage>,
        why: String,
        lookups: bool,
    ) -> anyhow::Result<Log> {
        let key = read_key(&config, dir).ok();
        let verifier = match (&key, &config.log_vkey) {
            (Some(key), _) => key.verifier(),
            (None, Some(vkey)) => Verifier::parse(vkey)
                .with_context(|| format!("log_vkey {vkey:?} is not a verifier key"))?,
            (None, None) => bail!(
                "a replica needs the log's public key: set log_vkey in {} (the log's key file is not here)",
                dir.join(crate::config::CONFIG_FILE).display()
            ),
        };
        Log::reader(dir, config, storage, &verifier, key.as_ref(), why, lookups)
    }

    fn reader(
        dir: &Path,
        config: Config,
        storage: Arc<dyn Storage>,
        verifier: &Verifier,
        key: Option<&Signer>,
        why: String,
        lookups: bool,
    ) -> anyhow::Result<Log> {
        crate::metrics::handle();
        let Some(note) = storage.read(CHECKPOINT)? else {
            bail!("{why}, and the log has no checkpoint yet: there is nothing to serve");
        };
        let checkpoint = open_checkpoint(&note, verifier)
            .context("the stored checkpoint does not verify with the log key")?
            .checkpoint;
        Edge::load(storage.as_ref(), checkpoint.size, &checkpoint.root)
            .context("the stored tiles do not match the stored checkpoint")?;
        let committed = CommittedCheckpoint {
            size: checkpoint.size,
            root: checkpoint.root,
            note,
        };
        let (policy, policy_text) = load_policy(&config, dir, verifier)?;
        let published = latest(match policy.witnesses().is_empty() {
            true => WitnessedCheckpoint::without_witnesses(&committed),
            false => witnessed_at_start(storage.as_ref(), &policy, key, checkpoint.size)?,
        });
        let committed = latest(committed);
        // A replica's indexes catch up as it follows (`follower`).
        let (index, lookup) = match lookups {
            false => (None, None),
            true => {
                let size = committed.borrow().size;
                let index =
                    RecordIndex::open_at(&dir.join(RECORD_INDEX_DIR), storage.as_ref(), size, ())
                        .context("bringing the record index up to the checkpoint")?;
                let lookup = LookupIndex::open_at(
                    &dir.join(LOOKUP_INDEX_DIR),
                    storage.as_ref(),
                    size,
                    Digests::of(&config),
                )
                .context("bringing the lookup index up to the checkpoint")?;
                (Some(Arc::new(index)), Some(Arc::new(lookup)))
            }
        };
        // A replica's verifiable index follows the commitments too: the
        // page's verdicts and lookups' proofs come from it.
        let map = match lookups && config.sequencer.verifiable_index {
            false => None,
            true => {
                let map = Map::open(
                    dir,
                    storage.as_ref(),
                    committed.borrow().size,
                    published.clone(),
                )
                .context("opening the verifiable index")?;
                map.follow(storage.as_ref(), published.borrow().size)?;
                Some(MapHandle::following(map))
            }
        };
        let names = display_names(&config, dir)?;
        // A reader's registry: as its record index holds it (a replica's
        // follows the bucket), or none without one.
        let registry = match &index {
            Some(index) => RegistrySource::Index(Box::new(IndexedRegistry {
                index: index.clone(),
                log: verifier.clone(),
                seen: std::sync::RwLock::new((
                    u64::MAX,
                    Arc::new(RegistryState::new(gazette_client::registry::Registry::new(
                        verifier.clone(),
                    ))),
                )),
            })),
            None => RegistrySource::None(Arc::new(RegistryState::new(
                gazette_client::registry::Registry::new(verifier.clone()),
            ))),
        };
        Ok(Log {
            _dir_lock: None,
            registry,
            names,
            limits: AgencyLimits::new(config.rate_limits.clone()),
            tiles: TileCache::new(config.limits.tile_cache_mib << 20),
            turns: WriteTurns::new(&config),
            add_verifier: AddVerifier::start(config.limits.max_concurrent_adds),
            config,
            dir: dir.to_owned(),
            storage,
            committed,
            published,
            policy,
            policy_text,
            sequencer: Sequencer::read_only(why.clone()),
            index,
            lookup,
            read_only: Some(why),
            map,
            verifier: verifier.clone(),
        })
    }

    /// Follows the checkpoints another process writes to the store (a
    /// replica's), on the current tokio runtime, until the log is dropped.
    pub fn start_following(self: &Arc<Log>) {
        crate::follower::spawn(Arc::downgrade(self));
    }

    /// The newest published checkpoint.
    pub fn published(&self) -> Arc<WitnessedCheckpoint> {
        self.published.borrow().clone()
    }

    /// The newest committed checkpoint.
    pub fn committed(&self) -> Arc<CommittedCheckpoint> {
        self.committed.borrow().clone()
    }

    /// Starts sending checkpoints to the policy's witnesses (on the current
    /// tokio runtime). Without witnesses there is nothing to start.
    pub fn start_witnessing(&self) {
        if !self.policy.witnesses().is_empty() && self.read_only.is_none() {
            crate::witnessing::spawn(
                self.policy.clone(),
                self.storage.clone(),
                self.committed.clone(),
                self.published.clone(),
            );
        }
    }

    /// The agencies' current keys, as of the newest durable registry change.
    pub fn agencies(&self) -> Arc<Vec<Agency>> {
        self.registry().agencies.clone()
    }

    /// The agency registry, as of the newest durable change (a reader's:
    /// as its record index holds it).
    pub fn registry(&self) -> Arc<RegistryState> {
        match &self.registry {
            RegistrySource::Sequencer(rx) => rx.borrow().clone(),
            RegistrySource::None(state) => state.clone(),
            RegistrySource::Index(source) => {
                let IndexedRegistry { index, log, seen } = source.as_ref();
                let covered = index.covered().unwrap_or(0);
                let (at, state) = seen.read().expect("lock").clone();
                if at == covered {
                    return state;
                }
                match index.registry_entries() {
                    Ok(entries) => {
                        let fresh =
                            Arc::new(RegistryState::new(crate::registry::fold(log, &entries)));
                        *seen.write().expect("lock") = (covered, fresh.clone());
                        fresh
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the registry from the record index");
                        state
                    }
                }
            }
        }
    }

    /// The display names the log's own page shows, re-read when the file
    /// changed.
    pub fn names(&self) -> Arc<String> {
        self.names.get()
    }
}

/// Where a log's registry comes from.
enum RegistrySource {
    /// The sequencer's, published by the committer.
    Sequencer(watch::Receiver<Arc<RegistryState>>),
    /// A reader's record index (a replica's follows the bucket): folded
    /// again when the size it covers changed.
    Index(Box<IndexedRegistry>),
    /// None: a reader without a record index.
    None(Arc<RegistryState>),
}

/// A reader's registry, from its record index.
struct IndexedRegistry {
    index: Arc<RecordIndex>,
    log: Verifier,
    /// The covered size it was last folded at, and the result.
    seen: std::sync::RwLock<(u64, Arc<RegistryState>)>,
}

/// The display names, a file the operator edits while the log runs.
fn display_names(config: &Config, dir: &Path) -> anyhow::Result<Reloaded<String>> {
    Reloaded::open(dir.join(&config.names_file), "display names", names::load)
}

/// Reads the stored checkpoint, checks the tiles against it, and removes
/// whatever a crashed commit left beyond it. A store without a checkpoint
/// gets the signed empty tree.
fn recover(storage: &dyn Storage, key: &Signer) -> anyhow::Result<(Edge, Vec<u8>)> {
    let Some(note) = storage.read(CHECKPOINT)? else {
        let empty = Checkpoint {
            origin: key.name().to_owned(),
            size: 0,
            root: merkle::empty_root(),
            extensions: Vec::new(),
        };
        let note = empty.sign(key)?;
        storage.commit(&[], note.as_bytes())?;
        return Ok((Edge::empty(), note.into_bytes()));
    };
    let checkpoint = open_checkpoint(&note, &key.verifier())
        .context("the stored checkpoint does not verify with the log key")?
        .checkpoint;
    let edge = Edge::load(storage, checkpoint.size, &checkpoint.root)
        .context("the stored tiles do not match the stored checkpoint")?;
    // A copy taken while the log ran may hold the checkpoint's right edge
    // only inside the wider tiles after it, which go next: store it first.
    let mut missing = Vec::new();
    for (path, data) in edge.partial_tiles() {
        if storage.read(&path)?.is_none() {
            tracing::warn!(%path, "restoring a partial tile of the checkpoint from a wider one");
            missing.push((path, data));
        }
    }
    if !missing.is_empty() {
        storage.commit(&missing, &note)?;
    }
    discard_beyond(storage, checkpoint.size)?;
    storage.remove_temporaries("")?;
    Ok((edge, note))
}

/// The witness policy: the configured file with the log's own `log` line
/// first, or, without witnesses, the log alone (`quorum none`).
fn load_policy(config: &Config, dir: &Path, log: &Verifier) -> anyhow::Result<(Policy, String)> {
    let mut text = format!("log {log}\n");
    match &config.witness_policy_file {
        None => text.push_str("quorum none\n"),
        Some(file) => {
            let path = dir.join(file);
            let body = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the witness policy {}", path.display()))?;
            if body.lines().any(|l| l.trim_start().starts_with("log ")) {
                bail!(
                    "{}: leave the `log` line out; the log adds its own key",
                    path.display()
                );
            }
            text.push_str(&body);
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
    }
    let policy = Policy::parse(text.as_bytes())
        .with_context(|| format!("the witness policy (with the log line added):\n{text}"))?;
    if let Some(w) = policy.witnesses().iter().find(|w| w.url.is_none()) {
        bail!(
            "witness {} has no URL in the witness policy: the log cannot reach it",
            w.name
        );
    }
    Ok((policy, text))
}

/// The checkpoint published when the log starts with witnesses: the last
/// witnessed one it kept, if it still verifies and the tree holds it;
/// otherwise the empty tree until the witnesses have cosigned.
fn witnessed_at_start(
    storage: &dyn Storage,
    policy: &Policy,
    key: Option<&Signer>,
    size: u64,
) -> anyhow::Result<WitnessedCheckpoint> {
    let kept = storage.read_witnessed_checkpoint().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not read the kept witnessed checkpoint; ignoring it");
        None
    });
    if let Some(note) = kept {
        match policy.verify_checkpoint(&note) {
            Ok(verified) if verified.checkpoint.size <= size => {
                return Ok(WitnessedCheckpoint {
                    size: verified.checkpoint.size,
                    root: verified.checkpoint.root,
                    note,
                });
            }
            Ok(_) => {
                tracing::warn!("the kept witnessed checkpoint is beyond the tree; ignoring it")
            }
            Err(e) => {
                tracing::warn!(error = %e, "the kept witnessed checkpoint does not verify under the policy; ignoring it")
            }
        }
    }
    // A replica has no key to sign the empty tree with.
    let Some(key) = key else {
        bail!(
            "the store holds no witnessed checkpoint yet: start the replica once the log has published one"
        );
    };
    let empty = Checkpoint {
        origin: key.name().to_owned(),
        size: 0,
        root: merkle::empty_root(),
        extensions: Vec::new(),
    };
    Ok(WitnessedCheckpoint {
        size: 0,
        root: merkle::empty_root(),
        note: empty.sign(key)?.into_bytes(),
    })
}

/// Most level-0 tiles one commit can span: the largest batch the
/// configuration allows (`max_batch` plus one `/add-batch` request) is
/// 200 000 records, 782 tiles.
const MAX_TILES_PER_COMMIT: u64 = 1000;

/// Removes tiles and bundles no checkpoint up to `size` implies: the
/// leftovers of a commit that crashed before its checkpoint. They were never
/// acknowledged nor served.
fn discard_beyond(storage: &dyn Storage, size: u64) -> anyhow::Result<()> {
    let mut levels: Vec<TileLevel> = vec![TileLevel::Entries];
    levels.extend((0..8u8).map(TileLevel::Hashes));
    for level in levels {
        let shift = u32::from(HEIGHT)
            * u32::from(match level {
                TileLevel::Hashes(l) => l,
                TileLevel::Entries => 0,
            });
        let count = size.checked_shr(shift).unwrap_or(0);
        let mut index = count >> HEIGHT;
        let mut keep_width = (count & 255) as u32;
        // Temporaries of a crashed commit sit beside the tiles it wrote: in
        // the directory of the edge tile or the next one (a commit spans
        // fewer than 1000 tiles), and in the `.p/` directory of the partial
        // tile it ended on (at most MAX_TILES_PER_COMMIT tiles on).
        let full_dirs = [index, index + 1000].map(|n| Tile {
            height: HEIGHT,
            level,
            index: n,
            width: 256,
        });
        let partial_dirs = (index..index + MAX_TILES_PER_COMMIT).map(|n| Tile {
            height: HEIGHT,
            level,
            index: n,
            width: 1,
        });
        for tile in full_dirs.into_iter().chain(partial_dirs) {
            let path = tile.path();
            storage.remove_temporaries(path.rsplit_once('/').map_or("", |(dir, _)| dir))?;
        }
        // One look per position (its full tile, and the widths of its
        // partial tiles: one directory read, or one LIST on a bucket), not
        // one per width: a takeover on object storage probed 1 809 paths.
        loop {
            let full = Tile {
                height: HEIGHT,
                level,
                index,
                width: 256,
            }
            .path();
            let mut beyond: Vec<String> = storage
                .partial_widths(&full)?
                .into_iter()
                .filter(|&w| w > keep_width && w < 256)
                .map(|w| format!("{full}.p/{w}"))
                .collect();
            if storage.read(&full)?.is_some() {
                beyond.push(full);
            }
            if beyond.is_empty() {
                break;
            }
            for path in beyond {
                tracing::warn!(%path, "removing a tile beyond the checkpoint");
                storage.remove(&path)?;
            }
            index += 1;
            keep_width = 0;
        }
    }
    Ok(())
}
