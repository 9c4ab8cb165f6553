//! One segment of the verifiable index (`docs/INDEX.md`): the tree of the
//! keys filed by a range of entries, and each key's part of the list.
//!
//! Stored as two byte sequences, in memory (a batch's segment, small
//! merges) or in two files (large merges), read the same way:
//!
//! - **nodes**: the tree in post-order, fixed records of [`RECORD`] bytes:
//!   a tag (0 leaf, 1 inner), two hashes (key and value; left and right),
//!   two `u64` (the leaf's list start and length in the lists; the inner
//!   node's left and right subtree sizes, to walk down by offset);
//! - **lists**: each leaf's `(index u64, leaf hash)` pairs, leaves in key
//!   order, each list in index order.
//!
//! A file segment ends its nodes file with a footer (start, end, root,
//! counts), written last, and is renamed into place after an fsync; a
//! file whose footer does not match what it should hold is rebuilt.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use gazette_client::index::ListValue;
use gazette_client::index::proof::MapProof;
use gazette_client::index::tree::{
    BuildError, Built, StoredNode, TreeWalk, build_sorted_hashed, prove_at,
};
use gazette_client::merkle::Hash;

/// Bytes per node record.
pub const RECORD: usize = 1 + 32 + 32 + 8 + 8;
/// Bytes per list item.
pub const ITEM: usize = 8 + 32;
const FOOTER: usize = 8 + 8 + 32 + 8 + 8 + 8;
const MAGIC: &[u8; 8] = b"gzseg01\n";

/// One key's list in a segment: `(index, leaf hash)` in index order.
pub type List = Vec<(u64, Hash)>;

/// A key's filings as a segment is built from them: its list, and the
/// list's value when already known (a merge keeps the value of a key only
/// one of its inputs files, rather than hashing the list again).
#[derive(Debug)]
pub struct Filed {
    /// The key.
    pub key: Hash,
    /// Its list.
    pub list: List,
    /// `ListValue::of(list)`, if known.
    pub value: Option<ListValue>,
    /// The leaf's hash with that value, if known (a segment read back
    /// has it in the leaf's parent): a merge then need not hash it again.
    pub leaf_hash: Option<Hash>,
}

impl Filed {
    /// A key's list, its value to compute.
    pub fn new(key: Hash, list: List) -> Filed {
        Filed {
            key,
            list,
            value: None,
            leaf_hash: None,
        }
    }
}

/// List items from their stored bytes.
fn items(bytes: &[u8]) -> List {
    bytes
        .chunks_exact(ITEM)
        .map(|c| {
            (
                u64::from_be_bytes(c[..8].try_into().expect("8")),
                Hash(c[8..].try_into().expect("32")),
            )
        })
        .collect()
}

/// Where a segment's bytes are.
enum Bytes {
    Memory(Vec<u8>),
    File(File),
}

impl Bytes {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        match self {
            Bytes::Memory(v) => {
                let start = usize::try_from(offset).map_err(|_| short())?;
                let src = v.get(start..start + buf.len()).ok_or_else(short)?;
                buf.copy_from_slice(src);
                Ok(())
            }
            Bytes::File(f) => f.read_exact_at(buf, offset),
        }
    }
}

fn short() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "segment shorter than its footer says",
    )
}

/// A node record as read back (its position is not stored: a walk knows
/// where it is).
#[derive(Clone, Copy, Debug)]
pub struct Record {
    built: Built,
    /// A leaf's list: start and length, in items.
    list: (u64, u64),
}

fn encode(built: &Built, list: (u64, u64)) -> [u8; RECORD] {
    let mut out = [0u8; RECORD];
    let (tag, a, b, x, y) = match built.node {
        StoredNode::Leaf { key, value } => (0, key, value.0, list.0, list.1),
        StoredNode::Inner { left, right } => (1, left, right, built.left_nodes, built.right_nodes),
    };
    out[0] = tag;
    out[1..33].copy_from_slice(&a.0);
    out[33..65].copy_from_slice(&b.0);
    out[65..73].copy_from_slice(&x.to_be_bytes());
    out[73..81].copy_from_slice(&y.to_be_bytes());
    out
}

fn decode(bytes: &[u8; RECORD]) -> std::io::Result<Record> {
    let hash = |r: std::ops::Range<usize>| Hash(bytes[r].try_into().expect("32 bytes"));
    let num = |r: std::ops::Range<usize>| u64::from_be_bytes(bytes[r].try_into().expect("8 bytes"));
    let (a, b, x, y) = (hash(1..33), hash(33..65), num(65..73), num(73..81));
    let position = gazette_client::index::tree::Position::ROOT; // not stored
    Ok(match bytes[0] {
        0 => Record {
            built: Built {
                position,
                node: StoredNode::Leaf {
                    key: a,
                    value: ListValue(b),
                },
                left_nodes: 0,
                right_nodes: 0,
            },
            list: (x, y),
        },
        1 => Record {
            built: Built {
                position,
                node: StoredNode::Inner { left: a, right: b },
                left_nodes: x,
                right_nodes: y,
            },
            list: (0, 0),
        },
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "segment node record with an unknown tag",
            ));
        }
    })
}

/// A segment, in memory or on disk.
pub struct Segment {
    /// First entry covered.
    pub start: u64,
    /// One past the last.
    pub end: u64,
    /// Its root.
    pub root: Hash,
    /// How many merges made it: a batch's segment is level 0, a merge one
    /// more than its highest input; a segment read back or rebuilt at
    /// start gets the level its size suggests ([`level_of_size`]).
    pub level: u32,
    nodes: Bytes,
    node_count: u64,
    lists: Bytes,
    /// Its files, removed when the segment is dropped once it has been
    /// merged away (see [`Segment::retire`]).
    files: Option<(PathBuf, PathBuf)>,
    retired: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Segment({}..{}, {})", self.start, self.end, self.root)
    }
}

/// The level a segment of `entries` gets when its history is unknown:
/// eight merges of batches of about a thousand entries per level.
pub fn level_of_size(entries: u64) -> u32 {
    (entries.max(1).ilog2() / 3).saturating_sub(3)
}

/// Where a segment is written.
pub enum Target<'a> {
    /// In memory.
    Memory,
    /// As files in this directory.
    Dir(&'a Path),
}

/// The file names of the segment `start..end`.
fn file_names(dir: &Path, start: u64, end: u64) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{start}-{end}.nodes")),
        dir.join(format!("{start}-{end}.lists")),
    )
}

/// A byte sink: memory, or a buffered file.
enum Sink {
    Memory(Vec<u8>),
    File(BufWriter<File>, PathBuf),
}

impl Sink {
    /// A sink for `path`, or in memory with room for `capacity` bytes.
    fn new(target: &Target, path: PathBuf, capacity: usize) -> std::io::Result<Sink> {
        Ok(match target {
            Target::Memory => Sink::Memory(Vec::with_capacity(capacity)),
            Target::Dir(_) => {
                let tmp = tmp_name(&path);
                Sink::File(BufWriter::with_capacity(1 << 20, File::create(&tmp)?), path)
            }
        })
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Memory(v) => {
                v.extend_from_slice(bytes);
                Ok(())
            }
            Sink::File(w, _) => w.write_all(bytes),
        }
    }

    /// Makes the bytes durable and puts the file in place.
    fn finish(self) -> std::io::Result<Bytes> {
        match self {
            Sink::Memory(v) => Ok(Bytes::Memory(v)),
            Sink::File(w, path) => {
                let file = w.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                std::fs::rename(tmp_name(&path), &path)?;
                Ok(Bytes::File(File::open(&path)?))
            }
        }
    }
}

/// The temporary name a segment file is written under.
fn tmp_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

impl Segment {
    /// Builds the segment `start..end` from its keys' lists, in strictly
    /// increasing key order.
    pub fn build(
        start: u64,
        end: u64,
        lists: impl IntoIterator<Item = std::io::Result<Filed>>,
        target: Target,
    ) -> std::io::Result<Segment> {
        let (nodes_path, lists_path) = match target {
            Target::Memory => (PathBuf::new(), PathBuf::new()),
            Target::Dir(dir) => file_names(dir, start, end),
        };
        let lists = lists.into_iter();
        // In memory, room for the keys announced: 2k - 1 nodes, an item
        // each at least.
        let keys = lists.size_hint().0;
        let mut nodes = Sink::new(
            &target,
            nodes_path.clone(),
            (2 * keys).saturating_sub(1) * RECORD,
        )?;
        let mut list_sink = Sink::new(&target, lists_path.clone(), keys * ITEM)?;
        // The builder reads a key or two ahead of the leaves it hands over
        // (in key order): the lists wait here meanwhile.
        let waiting: RefCell<VecDeque<List>> = RefCell::new(VecDeque::new());
        let failure: RefCell<Option<std::io::Error>> = RefCell::new(None);
        let mut items = 0u64;
        let mut node_count = 0u64;
        let pairs = lists.into_iter().map_while(|item| match item {
            Ok(Filed {
                key,
                list,
                value,
                leaf_hash,
            }) => {
                let (value, leaf_hash) = match value {
                    Some(value) => (value, leaf_hash),
                    None => (ListValue::of(list.iter().map(|(i, h)| (*i, h))), None),
                };
                waiting.borrow_mut().push_back(list);
                Some((key, value, leaf_hash))
            }
            Err(e) => {
                failure.borrow_mut().get_or_insert(e);
                None
            }
        });
        let root = build_sorted_hashed(pairs, &mut |built: Built| {
            let mut list = (0, 0);
            if let StoredNode::Leaf { .. } = built.node {
                let items_of_leaf = waiting.borrow_mut().pop_front().unwrap_or_default();
                list = (items, items_of_leaf.len() as u64);
                for (index, leaf) in &items_of_leaf {
                    let mut b = [0u8; ITEM];
                    b[..8].copy_from_slice(&index.to_be_bytes());
                    b[8..].copy_from_slice(&leaf.0);
                    list_sink.write(&b)?;
                }
                items += list.1;
            }
            node_count += 1;
            nodes.write(&encode(&built, list))
        });
        let root = match root {
            Ok(root) => root,
            Err(BuildError::Sink(e)) => return Err(e),
            Err(BuildError::Unsorted { key }) => {
                return Err(std::io::Error::other(format!(
                    "segment {start}..{end}: key {key} out of order"
                )));
            }
        };
        if let Some(e) = failure.into_inner() {
            return Err(e);
        }
        let mut footer = Vec::with_capacity(FOOTER);
        footer.extend_from_slice(&start.to_be_bytes());
        footer.extend_from_slice(&end.to_be_bytes());
        footer.extend_from_slice(&root.0);
        footer.extend_from_slice(&node_count.to_be_bytes());
        footer.extend_from_slice(&items.to_be_bytes());
        footer.extend_from_slice(MAGIC);
        // The lists first: a nodes file in place means its lists are too.
        let lists = list_sink.finish()?;
        nodes.write(&footer)?;
        let nodes = nodes.finish()?;
        let files = match target {
            Target::Memory => None,
            Target::Dir(_) => Some((nodes_path, lists_path)),
        };
        Ok(Segment {
            start,
            end,
            root,
            nodes,
            node_count,
            lists,
            files,
            level: level_of_size(end - start),
            retired: Default::default(),
        })
    }

    /// Opens the segment `start..end` from its files in `dir`, if they are
    /// there, whole, and hold the tree of `root`.
    pub fn open(dir: &Path, start: u64, end: u64, root: &Hash) -> Option<Segment> {
        let (nodes_path, lists_path) = file_names(dir, start, end);
        let nodes = File::open(&nodes_path).ok()?;
        let lists = File::open(&lists_path).ok()?;
        let len = nodes.metadata().ok()?.len();
        let mut footer = [0u8; FOOTER];
        nodes
            .read_exact_at(&mut footer, len.checked_sub(FOOTER as u64)?)
            .ok()?;
        let num = |i: usize| u64::from_be_bytes(footer[i..i + 8].try_into().expect("8"));
        let node_count = num(48);
        let whole = footer[64..] == MAGIC[..]
            && num(0) == start
            && num(8) == end
            && footer[16..48] == root.0
            && node_count.checked_mul(RECORD as u64)? + FOOTER as u64 == len
            && lists.metadata().ok()?.len() == num(56).checked_mul(ITEM as u64)?;
        whole.then(|| Segment {
            start,
            end,
            root: *root,
            nodes: Bytes::File(nodes),
            node_count,
            lists: Bytes::File(lists),
            files: Some((nodes_path, lists_path)),
            level: level_of_size(end - start),
            retired: Default::default(),
        })
    }

    /// Whether it lives in files (else in memory).
    pub fn on_disk(&self) -> bool {
        self.files.is_some()
    }

    /// Its files, if any.
    pub fn files(&self) -> Option<&(PathBuf, PathBuf)> {
        self.files.as_ref()
    }

    /// Marks it merged away: its files go when the last reader drops it.
    pub fn retire(&self) {
        self.retired
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn record(&self, offset: u64) -> std::io::Result<Record> {
        let mut buf = [0u8; RECORD];
        self.nodes.read_at(offset * RECORD as u64, &mut buf)?;
        decode(&buf)
    }

    /// The list at `(start, len)` (as [`Segment::prove`] gives).
    pub fn list(&self, (start, len): (u64, u64)) -> std::io::Result<List> {
        let mut buf = vec![0u8; usize::try_from(len).map_err(|_| short())? * ITEM];
        self.lists.read_at(start * ITEM as u64, &mut buf)?;
        Ok(items(&buf))
    }

    /// The map proof of `key`, and where its list is (start and length,
    /// in items) when the segment files anything under it: one walk.
    pub fn prove(&self, key: &Hash) -> std::io::Result<(MapProof, Option<(u64, u64)>)> {
        let (proof, leaf) = prove_at(self, key)?;
        Ok((proof, leaf.map(|(_, record)| record.list)))
    }

    fn root_record(&self) -> std::io::Result<Option<(u64, Record)>> {
        match self.node_count.checked_sub(1) {
            Some(last) => Ok(Some((last, self.record(last)?))),
            None => Ok(None),
        }
    }

    fn child_record(
        &self,
        offset: u64,
        parent: &Record,
        right: bool,
    ) -> std::io::Result<Option<(u64, Record)>> {
        match parent.built.child_offset(offset, right) {
            Some(child) => Ok(Some((child, self.record(child)?))),
            None => Ok(None),
        }
    }

    /// Every key with its list's value, its leaf's hash and its list, in
    /// key order: two sequential reads, since the lists are stored in key
    /// order too. A leaf's hash is stored in its parent, which comes later
    /// in post-order: a leaf waits for it (rarely more than a few; past
    /// [`MAX_WAITING`] one goes without, and a merge hashes it again).
    pub fn leaves(&self) -> impl Iterator<Item = std::io::Result<Filed>> + '_ {
        let mut nodes = sequential(&self.nodes);
        let mut lists = sequential(&self.lists);
        let mut left = self.node_count;
        let mut next_item = 0u64;
        let mut hashes = LeafHashes::default();
        let root = self.root;
        let mut leaf = move || -> std::io::Result<Option<Filed>> {
            loop {
                if let Some(filed) = hashes.ready() {
                    return Ok(Some(filed));
                }
                if left == 0 {
                    return Ok(hashes.finish(root));
                }
                left -= 1;
                let mut buf = [0u8; RECORD];
                nodes.read_exact(&mut buf)?;
                let record = decode(&buf)?;
                let (key, value) = match record.built.node {
                    StoredNode::Leaf { key, value } => (key, value),
                    StoredNode::Inner { left, right } => {
                        let sides = (record.built.left_nodes, record.built.right_nodes);
                        hashes.parent(sides, (left, right))?;
                        continue;
                    }
                };
                let (start, len) = record.list;
                if start != next_item {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "segment lists out of key order",
                    ));
                }
                next_item += len;
                let mut bytes = vec![0u8; usize::try_from(len).map_err(|_| short())? * ITEM];
                lists.read_exact(&mut bytes)?;
                hashes.leaf(Filed {
                    key,
                    list: items(&bytes),
                    value: Some(value),
                    leaf_hash: None,
                });
            }
        };
        std::iter::from_fn(move || leaf().transpose())
    }
}

/// Leaves read in post-order but waiting for a hash past which a leaf is
/// handed over without its hash.
pub const MAX_WAITING: usize = 1024;

/// Leaves read from a post-order sequence, waiting for their hash (stored
/// in their parent), handed over in key order.
#[derive(Default)]
struct LeafHashes {
    /// In key order; the first is leaf number `handed`.
    waiting: VecDeque<Filed>,
    handed: u64,
    read: u64,
    /// The subtrees read whose parent is not yet: a leaf's number, or
    /// `None` for an inner node.
    roots: Vec<Option<u64>>,
}

impl LeafHashes {
    fn leaf(&mut self, filed: Filed) {
        self.waiting.push_back(filed);
        self.roots.push(Some(self.read));
        self.read += 1;
    }

    /// An inner node, with its sides' node counts and hashes: its children
    /// are the last subtrees read (the right one last).
    fn parent(&mut self, (left, right): (u64, u64), hashes: (Hash, Hash)) -> std::io::Result<()> {
        for (nodes, hash) in [(right, hashes.1), (left, hashes.0)] {
            if nodes == 0 {
                continue;
            }
            let child = self.roots.pop().ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "segment nodes out of post-order",
                )
            })?;
            if let Some(n) = child
                && let Some(filed) = n
                    .checked_sub(self.handed)
                    .and_then(|at| self.waiting.get_mut(at as usize))
            {
                filed.leaf_hash = Some(hash);
            }
        }
        self.roots.push(None);
        Ok(())
    }

    /// The next leaf, once its hash is known (or too many wait).
    fn ready(&mut self) -> Option<Filed> {
        let first = self.waiting.front()?;
        if first.leaf_hash.is_none() && self.waiting.len() <= MAX_WAITING {
            return None;
        }
        self.handed += 1;
        self.waiting.pop_front()
    }

    /// After the last node: a tree of one leaf has the root's hash.
    fn finish(&mut self, root: Hash) -> Option<Filed> {
        if self.read == 1
            && let Some(only) = self.waiting.front_mut()
        {
            only.leaf_hash.get_or_insert(root);
        }
        self.handed += 1;
        self.waiting.pop_front()
    }
}

/// A segment's bytes read from their start.
fn sequential(bytes: &Bytes) -> Box<dyn Read + '_> {
    match bytes {
        Bytes::Memory(v) => Box::new(&v[..]),
        Bytes::File(f) => Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            ReadAt { file: f, offset: 0 },
        )),
    }
}

/// A file read from its start without moving a shared cursor.
struct ReadAt<'a> {
    file: &'a File,
    offset: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

impl TreeWalk for Segment {
    type At = (u64, Record);
    type Error = std::io::Error;

    fn root(&self) -> std::io::Result<Option<((u64, Record), StoredNode)>> {
        Ok(self.root_record()?.map(|(o, r)| ((o, r), r.built.node)))
    }

    fn child(
        &self,
        (offset, parent): (u64, Record),
        right: bool,
    ) -> std::io::Result<Option<((u64, Record), StoredNode)>> {
        Ok(self
            .child_record(offset, &parent, right)?
            .map(|(o, r)| ((o, r), r.built.node)))
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.retired.load(std::sync::atomic::Ordering::SeqCst)
            && let Some((nodes, lists)) = &self.files
        {
            // Nodes first: a lists file alone is never opened.
            let _ = std::fs::remove_file(nodes);
            let _ = std::fs::remove_file(lists);
        }
    }
}
