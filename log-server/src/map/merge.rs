//! Merging neighbouring segments: one sequential pass over their leaves in
//! key order, a key's lists joined in entry order. And the merger thread
//! that keeps the live list short, off the append path.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::Arc;
use std::thread::JoinHandle;

use gazette_client::merkle::Hash;

use super::segment::{Filed, Segment, Target};
use super::{MEMORY_ENTRIES, Map, MapError};

/// Merges `segments` (neighbours, in entry order) into one.
pub fn merge(segments: &[&Segment], target: Target) -> Result<Segment, MapError> {
    let start = segments.first().map_or(0, |s| s.start);
    let end = segments.last().map_or(0, |s| s.end);
    let mut merging = Merging {
        streams: segments
            .iter()
            .map(|s| Box::new(s.leaves()) as Leaves)
            .collect(),
        heads: BinaryHeap::new(),
        lists: (0..segments.len())
            .map(|_| Filed::new(Hash([0; 32]), Vec::new()))
            .collect(),
        failure: None,
    };
    for i in 0..segments.len() {
        merging.pull(i);
    }
    let mut merged = Segment::build(start, end, merging, target)?;
    merged.level = 1 + segments.iter().map(|s| s.level).max().unwrap_or(0);
    Ok(merged)
}

/// A segment's leaves in key order.
type Leaves<'a> = Box<dyn Iterator<Item = std::io::Result<Filed>> + 'a>;

/// The leaves of several neighbouring segments, in key order, a key's
/// lists joined in segment (so entry) order.
struct Merging<'a> {
    streams: Vec<Leaves<'a>>,
    /// The next key of each stream not yet taken; the smallest first, and
    /// among equal keys the earlier segment first.
    heads: BinaryHeap<Reverse<(Hash, usize)>>,
    /// Each stream's next key's filings.
    lists: Vec<Filed>,
    failure: Option<std::io::Error>,
}

impl Merging<'_> {
    fn pull(&mut self, i: usize) {
        match self.streams[i].next() {
            Some(Ok(filed)) => {
                self.heads.push(Reverse((filed.key, i)));
                self.lists[i] = filed;
            }
            Some(Err(e)) => {
                self.failure.get_or_insert(e);
            }
            None => {}
        }
    }
}

impl Iterator for Merging<'_> {
    type Item = std::io::Result<Filed>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failure.take() {
            return Some(Err(e));
        }
        let Reverse((key, i)) = self.heads.pop()?;
        let mut filed = std::mem::replace(&mut self.lists[i], Filed::new(key, Vec::new()));
        self.pull(i);
        while let Some(Reverse((next, j))) = self.heads.peek().copied() {
            if next != key {
                break;
            }
            self.heads.pop();
            filed.list.append(&mut self.lists[j].list);
            // A joined list has a new value, so its leaf a new hash.
            filed.value = None;
            filed.leaf_hash = None;
            self.pull(j);
        }
        match self.failure.take() {
            Some(e) => Some(Err(e)),
            None => Some(Ok(filed)),
        }
    }
}

/// How many neighbours of one level are merged together: each entry is
/// merged about log8 of the log's size (in batches) times.
const FANOUT: usize = 8;
/// Past this many live segments, the two smallest neighbours are merged
/// even when no level is full.
const SOFT_LIMIT: usize = 40;

/// Merger threads: merges running at once. A long merge of large segments
/// never holds up the small ones behind it, which keep the live list short
/// (the sequencer waits once it is too long).
const MERGERS: usize = 3;

/// The neighbours to merge next, as a range of the live list: the newest
/// [`FANOUT`] in a row of one level (the smallest, quickest merge first);
/// failing that, past [`SOFT_LIMIT`] segments, the smallest neighbouring
/// pair. Segments in `busy` (by their first entry: a merge has them) are
/// never picked. By level, not by size: the sequencer's batches vary in
/// size, and size classes would split runs of batches that straddle a
/// class's edge.
pub fn pick(live: &[Arc<Segment>], busy: &HashSet<u64>) -> Option<std::ops::Range<usize>> {
    let free = |i: usize| !busy.contains(&live[i].start);
    let mut run = 0;
    for i in (0..live.len()).rev() {
        run = if !free(i) {
            0
        } else if run > 0 && live[i].level == live[i + 1].level {
            run + 1
        } else {
            1
        };
        if run == FANOUT {
            return Some(i..i + FANOUT);
        }
    }
    if live.len() > SOFT_LIMIT {
        let pair = (0..live.len() - 1)
            .filter(|&i| free(i) && free(i + 1))
            .min_by_key(|&i| {
                (live[i].end - live[i].start) + (live[i + 1].end - live[i + 1].start)
            })?;
        return Some(pair..pair + 2);
    }
    None
}

/// Starts the [`MERGERS`] merger threads; they stop after [`Map::stop`]
/// is called, each once its merge is done.
pub fn start(map: Arc<Map>) -> Vec<JoinHandle<()>> {
    (0..MERGERS)
        .map(|_| {
            let map = map.clone();
            std::thread::Builder::new()
                .name("index-merger".into())
                .spawn(move || {
                    while let Some(run) = next_run(&map) {
                        merge_run(&map, &run);
                    }
                })
                .expect("spawn an index merger thread")
        })
        .collect()
}

/// Waits until there is something to merge, and marks its segments busy;
/// `None` once stopping.
fn next_run(map: &Map) -> Option<Vec<Arc<Segment>>> {
    let mut state = map.state.lock().expect("map lock");
    loop {
        if state.stopping {
            return None;
        }
        if let Some(range) = pick(&state.live, &state.busy) {
            let run = state.live[range].to_vec();
            state.busy.extend(run.iter().map(|s| s.start));
            return Some(run);
        }
        state = map.changed.wait(state).expect("map lock");
    }
}

/// Merges `run` and puts the result in its place in the live list. After
/// a failure the live list is unchanged (appends go on, with more
/// segments), and the run is retried a second later.
fn merge_run(map: &Map, run: &[Arc<Segment>]) {
    let (start, end) = (run[0].start, run[run.len() - 1].end);
    let target = if end - start < MEMORY_ENTRIES {
        Target::Memory
    } else {
        Target::Dir(map.dir())
    };
    let refs: Vec<&Segment> = run.iter().map(Arc::as_ref).collect();
    let merged = merge(&refs, target);
    if let Err(e) = &merged {
        tracing::error!(error = %e, start, end, "merging index segments");
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let mut state = map.state.lock().expect("map lock");
    if let Ok(merged) = merged {
        // Its segments are busy, so no other merge moved them: they are
        // still in a row, wherever the row now starts.
        let at = state
            .live
            .iter()
            .position(|s| Arc::ptr_eq(s, &run[0]))
            .expect("a run stays in the live list until merged");
        state.live.splice(at..at + run.len(), [Arc::new(merged)]);
        for s in run {
            s.retire();
        }
        tracing::debug!(
            start,
            end,
            segments = state.live.len(),
            "merged index segments"
        );
    }
    for s in run {
        state.busy.remove(&s.start);
    }
    map.changed.notify_all();
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::map::segment::List;

    /// A segment of entries `start..end` filing entry `i` under the keys
    /// `keys[i - start]` (a few keys, so that neighbours share some).
    fn segment(start: u64, keys: &[Vec<u8>], target: Target) -> Segment {
        let mut lists: BTreeMap<Hash, List> = BTreeMap::new();
        for (i, ks) in (start..).zip(keys) {
            for k in ks {
                lists
                    .entry(Hash([*k; 32]))
                    .or_default()
                    .push((i, Hash([i as u8; 32])));
            }
        }
        let end = start + keys.len() as u64;
        let filed = lists.into_iter().map(|(k, l)| Ok(Filed::new(k, l)));
        Segment::build(start, end, filed, target).unwrap()
    }

    fn leaves(s: &Segment) -> Vec<(Hash, List)> {
        s.leaves()
            .map(|f| f.map(|f| (f.key, f.list)))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Batches whose sizes straddle a power of eight still merge by eights:
    /// runs are by level, and a merge is one level up.
    #[test]
    fn batches_of_any_size_merge_by_eights() {
        let mut live = Vec::new();
        let mut start = 0;
        for n in 0..8 {
            let size = if n % 2 == 0 { 300 } else { 700 };
            let keys: Vec<Vec<u8>> = (0..size).map(|i| vec![(i % 12) as u8]).collect();
            let mut batch = segment(start, &keys, Target::Memory);
            batch.level = 0;
            start += size as u64;
            live.push(Arc::new(batch));
            let full = n == 7;
            let idle = HashSet::new();
            assert_eq!(
                pick(&live, &idle),
                full.then_some(0..8),
                "after {} batches",
                n + 1
            );
            // A segment a merge has breaks the run.
            let busy = HashSet::from([live[n / 2].start]);
            assert_eq!(pick(&live, &busy), None);
        }
        let run: Vec<&Segment> = live.iter().map(Arc::as_ref).collect();
        assert_eq!(merge(&run, Target::Memory).unwrap().level, 1);
    }

    /// Every leaf read back carries its hash (from its parent), so a merge
    /// need not hash it again: in a deep tree of random keys, and in a
    /// tree of one leaf.
    #[test]
    fn leaves_read_back_carry_their_hashes() {
        use gazette_client::index::proof::leaf_node_hash;
        let dir = tempfile::tempdir().unwrap();
        for count in [1u64, 2, 5000] {
            let keys = (0..count).map(|i| {
                let key = gazette_client::merkle::leaf_hash(&i.to_be_bytes());
                (key, vec![(i, Hash([7; 32]))])
            });
            let lists: BTreeMap<Hash, List> = keys.collect();
            let filed = lists.into_iter().map(|(k, l)| Ok(Filed::new(k, l)));
            let segment = Segment::build(0, count, filed, Target::Dir(dir.path())).unwrap();
            let mut read = 0;
            for filed in segment.leaves() {
                let filed = filed.unwrap();
                let value = filed.value.unwrap();
                assert_eq!(filed.leaf_hash, Some(leaf_node_hash(&filed.key, &value)));
                read += 1;
            }
            assert_eq!(read, count);
        }
    }

    proptest! {
        /// Merged neighbours, read from memory or from files, are the
        /// segment built from all their entries at once.
        #[test]
        fn a_merge_is_the_segment_of_all_its_entries(
            parts in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(0u8..12, 0..3), 0..6), 1..5),
            on_disk in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let target = || if on_disk { Target::Dir(dir.path()) } else { Target::Memory };
            let mut start = 0;
            let mut inputs = Vec::new();
            for keys in &parts {
                inputs.push(segment(start, keys, target()));
                start += keys.len() as u64;
            }
            let all: Vec<Vec<u8>> = parts.concat();
            let whole = segment(0, &all, Target::Memory);
            let refs: Vec<&Segment> = inputs.iter().collect();
            let merged = merge(&refs, Target::Memory).unwrap();
            prop_assert_eq!(merged.root, whole.root);
            prop_assert_eq!(leaves(&merged), leaves(&whole));
        }
    }
}
