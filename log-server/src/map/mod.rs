//! The verifiable index (`docs/INDEX.md`): the map of every key to the
//! entries filed under it, cut into segments of consecutive entries.
//!
//! - The **sequencer** builds each batch's segment in memory from its own
//!   records ([`Map::add_batch`]), adds it to the live list and writes the
//!   list as the batch's last entry, the commitment. No read, no disk.
//! - The **merger** thread merges neighbouring segments in the background
//!   ([`merge`]), so the list stays short: eight of one level at a time,
//!   up to three merges side by side (so a long one never holds up the
//!   small ones); small merges in memory, large ones into files under
//!   `<data>/map/`, written once and fsynced.
//! - **Readers** prove a key against the segments of the commitment that
//!   ends the published checkpoint, or a recent one a verifier holds: the
//!   map keeps the list each of the last [`SNAPSHOTS`] commitments named
//!   (a snapshot), and the published one's until a newer is published.
//!
//! Nothing here is the source of truth. On start the map takes the
//! segments the tree's last commitment lists, opening the files it has
//! and rebuilding the rest from the entry bundles; each rebuilt root must
//! equal the committed one.

pub mod merge;
pub mod segment;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use gazette_client::index::commitment::{IndexCommitment, MAX_SEGMENTS, Segment as Listed};
use gazette_client::index::proof::MapProof;
use gazette_client::index::{Lists, file_entry};
use gazette_client::merkle::Hash;

use crate::checkpoints::Witnessed;
use crate::storage::Storage;
use crate::stored;
pub use segment::{Filed, List, Segment};

/// The map's directory, under the data directory.
pub const MAP_DIR: &str = "map";
/// Segments of fewer entries than this are kept in memory.
pub const MEMORY_ENTRIES: u64 = 4096;
/// Live segments past which the sequencer waits for the merger: a
/// commitment may list [`MAX_SEGMENTS`].
const BACKPRESSURE: usize = MAX_SEGMENTS - 8;
/// Snapshots kept for readers: the newest commitments (and always the
/// published one), so a verifier holding a recent checkpoint can ask for
/// proofs against it.
pub const SNAPSHOTS: usize = 64;

/// Why the map failed.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// Storage or a segment file failed.
    #[error("verifiable index: {0}")]
    Io(#[from] std::io::Error),
    /// The entries could not be read.
    #[error("verifiable index: {0}")]
    Stored(#[from] stored::StoredError),
    /// More entries are filed under a key than one answer proves.
    #[error(
        "{count} entries are filed under this key; one answer proves at most {most} (each with its inclusion proof)"
    )]
    TooLong {
        /// Entries filed under the key.
        count: u64,
        /// The most one answer carries.
        most: u64,
    },
    /// A rebuilt segment does not match the log's own commitment.
    #[error(
        "verifiable index: entries {start}..{end} give root {rebuilt}, but the commitment at {at} says {committed}"
    )]
    Mismatch {
        /// The segment's first entry.
        start: u64,
        /// One past its last.
        end: u64,
        /// What the entries give.
        rebuilt: Hash,
        /// What the commitment says.
        committed: Hash,
        /// The commitment's index.
        at: u64,
    },
}

/// A segment's part of a key's list: where it is (start and length, in
/// items).
type Part<'a> = (&'a Segment, (u64, u64));

struct State {
    /// The live segments, in entry order, covering `0 .. end`.
    live: Vec<Arc<Segment>>,
    /// The segments each recent commitment listed, by its index.
    snapshots: BTreeMap<u64, Arc<Vec<Arc<Segment>>>>,
    /// The first entries of the live segments a merge has.
    busy: HashSet<u64>,
    stopping: bool,
}

/// The live map and its recent snapshots; shared by the sequencer, the
/// merger and readers.
pub struct Map {
    dir: PathBuf,
    /// The published checkpoint: its snapshot is always kept.
    published: Witnessed,
    state: Mutex<State>,
    /// Signalled when the live list changes.
    changed: Condvar,
}

impl Map {
    /// Opens the map in `<data>/map` for the tree of `size` in `storage`.
    pub fn open(
        data_dir: &Path,
        storage: &dyn Storage,
        size: u64,
        published: Witnessed,
    ) -> Result<Arc<Map>, MapError> {
        let dir = data_dir.join(MAP_DIR);
        std::fs::create_dir_all(&dir)?;
        let last = match size.checked_sub(1) {
            Some(last) => Some((last, stored_entry(storage, size, last)?)),
            None => None,
        };
        let commitment = last.and_then(|(at, entry)| {
            IndexCommitment::parse(&entry)
                .filter(|c| c.size == at)
                .map(|c| (at, c))
        });
        let live = match &commitment {
            Some((at, c)) => c
                .segments
                .iter()
                .map(|listed| open_or_rebuild(&dir, storage, size, listed, *at))
                .collect::<Result<Vec<_>, _>>()?,
            // A log that never committed an index: all of it, as one segment.
            None if size > 0 => vec![Arc::new(build_range(&dir, storage, size, 0, size)?)],
            None => Vec::new(),
        };
        remove_strays(&dir, &live)?;
        let mut snapshots = BTreeMap::new();
        if let Some((at, _)) = commitment {
            snapshots.insert(at, Arc::new(live.clone()));
        }
        tracing::info!(segments = live.len(), "verifiable index open");
        Ok(Arc::new(Map {
            dir,
            published,
            state: Mutex::new(State {
                live,
                snapshots,
                busy: HashSet::new(),
                stopping: false,
            }),
            changed: Condvar::new(),
        }))
    }

    /// Adds a batch's segment, starting where the live segments end and
    /// ending before `commitment_index`, from its filings `(key, index,
    /// leaf hash)` sorted by key then index, and returns the commitment
    /// that ends the batch. Waits while the merger is too far behind.
    pub fn add_batch(
        &self,
        commitment_index: u64,
        filings: &[Filing],
    ) -> Result<IndexCommitment, MapError> {
        let mut state = self.state.lock().expect("map lock");
        while state.live.len() >= BACKPRESSURE && !state.stopping {
            state = self.changed.wait(state).expect("map lock");
        }
        let start = state.live.last().map_or(0, |s| s.end);
        let mut segment = Segment::build(
            start,
            commitment_index,
            ByKey::new(filings).map(|(key, list)| Ok(Filed::new(key, list))),
            segment::Target::Memory,
        )?;
        segment.level = 0;
        state.live.push(Arc::new(segment));
        let commitment = IndexCommitment {
            size: commitment_index,
            segments: state
                .live
                .iter()
                .map(|s| Listed {
                    start: s.start,
                    end: s.end,
                    root: s.root,
                })
                .collect(),
        };
        let snapshot = Arc::new(state.live.clone());
        self.keep_snapshot(&mut state, commitment_index, snapshot);
        self.changed.notify_all();
        Ok(commitment)
    }

    /// Keeps `snapshot` as the commitment at `at`'s. Readers prove against
    /// the published checkpoint by default, or against a recent one they
    /// hold: the newest SNAPSHOTS are kept, and the published one however
    /// old it is (witnessing may lag).
    fn keep_snapshot(&self, state: &mut State, at: u64, snapshot: Arc<Vec<Arc<Segment>>>) {
        state.snapshots.insert(at, snapshot);
        let published = self.published.borrow().size.checked_sub(1);
        while state.snapshots.len() > SNAPSHOTS {
            let oldest = state
                .snapshots
                .keys()
                .copied()
                .find(|&at| Some(at) != published)
                .expect("more than one snapshot");
            state.snapshots.remove(&oldest);
        }
    }

    /// A replica's map follows the tree another process writes: the
    /// segments the commitment ending the tree of `size` lists become that
    /// commitment's snapshot (and the live list, if it is the newest),
    /// those the map has reused, the others opened from their files or
    /// rebuilt from the entries, each checked against the committed root.
    /// Segments dropped from the live list are retired: their files go
    /// once no snapshot or reader holds them.
    pub fn follow(&self, storage: &dyn Storage, size: u64) -> Result<(), MapError> {
        let Some(at) = size.checked_sub(1) else {
            return Ok(());
        };
        let known: Vec<Arc<Segment>> = {
            let state = self.state.lock().expect("map lock");
            if state.snapshots.contains_key(&at) {
                return Ok(());
            }
            let snapshots = state.snapshots.values().flat_map(|s| s.iter());
            state.live.iter().chain(snapshots).cloned().collect()
        };
        let Some(commitment) =
            IndexCommitment::parse(&stored_entry(storage, size, at)?).filter(|c| c.size == at)
        else {
            return Ok(()); // a tree that does not end with a commitment
        };
        let segments = commitment
            .segments
            .iter()
            .map(|listed| {
                let same = known
                    .iter()
                    .find(|s| (s.start, s.end, s.root) == (listed.start, listed.end, listed.root));
                match same {
                    Some(segment) => Ok(segment.clone()),
                    None => open_or_rebuild(&self.dir, storage, size, listed, at),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut state = self.state.lock().expect("map lock");
        if segments.last().map_or(0, |s| s.end) >= state.live.last().map_or(0, |s| s.end) {
            for old in &state.live {
                if !segments.iter().any(|s| Arc::ptr_eq(s, old)) {
                    old.retire();
                }
            }
            state.live = segments.clone();
        }
        self.keep_snapshot(&mut state, at, Arc::new(segments));
        Ok(())
    }

    /// The segments the commitment at `index` listed, if still kept.
    pub fn snapshot(&self, index: u64) -> Option<Arc<Vec<Arc<Segment>>>> {
        let state = self.state.lock().expect("map lock");
        state.snapshots.get(&index).cloned()
    }

    /// Everything a segment list holds under `key`: the whole list, and one
    /// map proof per segment. A list longer than `most` is not read (a
    /// proof cannot leave part of it out).
    pub fn prove(
        segments: &[Arc<Segment>],
        key: &Hash,
        most: u64,
    ) -> Result<(List, Vec<MapProof>), MapError> {
        let (proofs, parts) = Self::walk(segments, key)?;
        let count: u64 = parts.iter().map(|(_, (_, len))| len).sum();
        if count > most {
            return Err(MapError::TooLong { count, most });
        }
        Ok((Self::read(&parts, count)?, proofs))
    }

    /// The first `limit` items filed under `key` in the live segments (all
    /// the sequencer has filed, committed or not), in index order.
    pub fn first(&self, key: &Hash, limit: usize) -> Result<List, MapError> {
        let live = self.state.lock().expect("map lock").live.clone();
        let (_, parts) = Self::walk(&live, key)?;
        Ok(Self::read(&parts, limit as u64)?)
    }

    /// Each segment's map proof of `key`, and where its part of the list
    /// is in the segments that file something under it.
    fn walk<'a>(
        segments: &'a [Arc<Segment>],
        key: &Hash,
    ) -> std::io::Result<(Vec<MapProof>, Vec<Part<'a>>)> {
        let mut proofs = Vec::with_capacity(segments.len());
        let mut parts = Vec::new();
        for segment in segments {
            let (proof, part) = segment.prove(key)?;
            proofs.push(proof);
            if let Some(part) = part {
                parts.push((segment.as_ref(), part));
            }
        }
        Ok((proofs, parts))
    }

    /// The first `most` items of the parts [`Map::walk`] found, in order.
    fn read(parts: &[Part], most: u64) -> std::io::Result<List> {
        let mut list = List::new();
        for (segment, (start, len)) in parts {
            let left = most - list.len() as u64;
            if left == 0 {
                break;
            }
            list.extend(segment.list((*start, (*len).min(left)))?);
        }
        Ok(list)
    }

    /// The live segments: range, root, and whether in files.
    pub fn segments(&self) -> Vec<(std::ops::Range<u64>, Hash, bool)> {
        let state = self.state.lock().expect("map lock");
        state
            .live
            .iter()
            .map(|s| (s.start..s.end, s.root, s.on_disk()))
            .collect()
    }

    /// Whether the merger has nothing left to merge.
    pub fn settled(&self) -> bool {
        let state = self.state.lock().expect("map lock");
        state.busy.is_empty() && merge::pick(&state.live, &state.busy).is_none()
    }

    /// Lets a waiting sequencer and the merger go: the log is closing.
    pub fn stop(&self) {
        self.state.lock().expect("map lock").stopping = true;
        self.changed.notify_all();
    }

    /// The directory of the map's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The map with its merger threads running; dropping it stops them.
pub struct MapHandle {
    /// The map.
    pub map: Arc<Map>,
    mergers: Vec<std::thread::JoinHandle<()>>,
}

impl MapHandle {
    /// `map` without mergers: a replica's, which follows the segments the
    /// sequencer's commitments list ([`Map::follow`]).
    pub fn following(map: Arc<Map>) -> MapHandle {
        MapHandle {
            mergers: Vec::new(),
            map,
        }
    }

    /// Starts the mergers over `map`.
    pub fn start(map: Arc<Map>) -> MapHandle {
        MapHandle {
            mergers: merge::start(map.clone()),
            map,
        }
    }
}

impl Drop for MapHandle {
    fn drop(&mut self) {
        self.map.stop();
        for merger in self.mergers.drain(..) {
            let _ = merger.join();
        }
    }
}

/// Entry `index` of the tree of `size`.
fn stored_entry(storage: &dyn Storage, size: u64, index: u64) -> Result<Vec<u8>, MapError> {
    let mut found = None;
    stored::for_each_entry(storage, size, index, index + 1, |_, e| {
        found = Some(e.to_vec())
    })?;
    found.ok_or_else(|| MapError::Io(std::io::Error::other(format!("entry {index} missing"))))
}

/// The segment a commitment listed: its files if whole, else rebuilt from
/// the entries, and then it must have the committed root.
fn open_or_rebuild(
    dir: &Path,
    storage: &dyn Storage,
    size: u64,
    listed: &Listed,
    at: u64,
) -> Result<Arc<Segment>, MapError> {
    if let Some(segment) = Segment::open(dir, listed.start, listed.end, &listed.root) {
        return Ok(Arc::new(segment));
    }
    let segment = build_range(dir, storage, size, listed.start, listed.end)?;
    if segment.root != listed.root {
        return Err(MapError::Mismatch {
            start: listed.start,
            end: listed.end,
            rebuilt: segment.root,
            committed: listed.root,
            at,
        });
    }
    Ok(Arc::new(segment))
}

/// Entries per piece when a long range is rebuilt: each piece's filings
/// are sorted in memory, then the pieces are merged, streaming.
const PIECE: u64 = 1 << 16;

/// Builds the segment `start..end` from the entry bundles, in memory if
/// small, else in files, with memory bounded by [`PIECE`].
pub fn build_range(
    dir: &Path,
    storage: &dyn Storage,
    size: u64,
    start: u64,
    end: u64,
) -> Result<Segment, MapError> {
    let target = |s: u64, e: u64| {
        if e - s < MEMORY_ENTRIES {
            segment::Target::Memory
        } else {
            segment::Target::Dir(dir)
        }
    };
    let piece = |s: u64, e: u64| -> Result<Segment, MapError> {
        let mut filings = Lists::new();
        stored::for_each_entry(storage, size, s, e, |index, entry| {
            file_entry(&mut filings, index, entry)
        })?;
        Ok(Segment::build(
            s,
            e,
            filings
                .into_iter()
                .map(|(key, list)| Ok(Filed::new(key, list))),
            target(s, e),
        )?)
    };
    if end - start <= PIECE {
        return piece(start, end);
    }
    let mut pieces = Vec::new();
    let mut s = start;
    while s < end {
        let e = (s + PIECE).min(end);
        pieces.push(piece(s, e)?);
        s = e;
    }
    let mut merged = merge::merge(&pieces.iter().collect::<Vec<_>>(), target(start, end))?;
    merged.level = segment::level_of_size(end - start);
    for p in &pieces {
        p.retire();
    }
    Ok(merged)
}

/// Removes the files in `dir` no live segment uses (merges a crash cut
/// short, segments merged away).
fn remove_strays(dir: &Path, live: &[Arc<Segment>]) -> std::io::Result<()> {
    let keep: HashSet<&PathBuf> = live
        .iter()
        .filter_map(|s| s.files())
        .flat_map(|(n, l)| [n, l])
        .collect();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !keep.contains(&path) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// A filing: a key, the index of an entry filed under it, that entry's
/// leaf hash.
pub type Filing = (Hash, u64, Hash);

/// Sorted filings as each key's list, in key order, with the number of
/// keys left told: a segment built in memory sizes its buffers once from
/// it (grown by doubling, they were copied and faulted in afresh: a
/// quarter of the sequencer's time).
struct ByKey<'a> {
    runs: std::slice::ChunkBy<'a, Filing, fn(&Filing, &Filing) -> bool>,
    keys: usize,
}

impl<'a> ByKey<'a> {
    fn new(filings: &'a [Filing]) -> ByKey<'a> {
        let same_key: fn(&Filing, &Filing) -> bool = |a, b| a.0 == b.0;
        ByKey {
            runs: filings.chunk_by(same_key),
            keys: filings.chunk_by(same_key).count(),
        }
    }
}

impl Iterator for ByKey<'_> {
    type Item = (Hash, List);

    fn next(&mut self) -> Option<(Hash, List)> {
        let run = self.runs.next()?;
        self.keys -= 1;
        Some((
            run[0].0,
            run.iter().map(|(_, index, leaf)| (*index, *leaf)).collect(),
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.keys, Some(self.keys))
    }
}
