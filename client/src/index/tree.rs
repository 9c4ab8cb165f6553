//! A segment's sparse Merkle tree (`docs/INDEX.md`, section 2). A subtree
//! with one key is a leaf wherever it sits, so the tree is only as deep as
//! its keys need.
//!
//! Two ways to make one: [`build_sorted`] in one pass from sorted keys,
//! handing each node to a sink (a segment is written once); and [`update`]
//! over a node store the caller keeps ([`NodeReader`]), which returns the
//! nodes to write. Keys are never removed, so a stored position only ever
//! changes from a leaf to an inner node, or gets new hashes. [`prove`]
//! reads a proof from any store.
//!
//! ```
//! use std::collections::HashMap;
//! use gazette_client::index::{ListValue, document_key};
//! use gazette_client::index::tree::{Position, StoredNode, update, prove};
//! use gazette_client::Hash;
//!
//! let mut store: HashMap<Position, StoredNode> = HashMap::new();
//! let key = document_key(&[1; 32]);
//! let value = ListValue::of([(0, &Hash([2; 32]))]);
//! let (root, writes) = update(&store, &mut vec![(key, value)]).unwrap();
//! store.extend(writes);
//! let proof = prove(&store, &key).unwrap();
//! proof.verify(&key, Some(&value), &root).unwrap();
//! let absent = document_key(&[3; 32]);
//! prove(&store, &absent).unwrap().verify(&absent, None, &root).unwrap();
//! ```

use std::collections::HashMap;
use std::convert::Infallible;

use crate::merkle::{Hash, node_hash};

use super::proof::{MAX_DEPTH, MapProof, Terminal, bit, leaf_node_hash};
use super::{EMPTY, ListValue};

/// A subtree's place: its depth and the first `depth` bits of its keys
/// (the bits after them zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// 0 (the root) ..= 256.
    pub depth: u16,
    /// The path's bits, zero past `depth`.
    pub prefix: [u8; 32],
}

impl Position {
    /// The whole tree.
    pub const ROOT: Position = Position {
        depth: 0,
        prefix: [0; 32],
    };

    /// The half of this subtree whose next bit is `right`.
    pub fn child(&self, right: bool) -> Position {
        let mut prefix = self.prefix;
        let d = usize::from(self.depth);
        if right {
            prefix[d / 8] |= 0x80 >> (d % 8);
        }
        Position {
            depth: self.depth + 1,
            prefix,
        }
    }

    /// Whether `key`'s path passes through this position.
    pub fn contains(&self, key: &Hash) -> bool {
        let d = usize::from(self.depth);
        let (full, rest) = (d / 8, d % 8);
        key.0[..full] == self.prefix[..full]
            && (rest == 0 || (key.0[full] ^ self.prefix[full]) & (0xff << (8 - rest)) == 0)
    }

    /// A compact byte form for a store's key: the depth (2 bytes) and the
    /// prefix's bytes that hold path bits.
    pub fn to_bytes(&self) -> Vec<u8> {
        let used = usize::from(self.depth).div_ceil(8);
        let mut out = Vec::with_capacity(2 + used);
        out.extend_from_slice(&self.depth.to_be_bytes());
        out.extend_from_slice(&self.prefix[..used]);
        out
    }
}

/// What a store keeps at a position that is not empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredNode {
    /// The subtree holds one key.
    Leaf {
        /// The key.
        key: Hash,
        /// Its value.
        value: ListValue,
    },
    /// The subtree holds two keys or more; its halves' hashes (`EMPTY`
    /// for an empty half).
    Inner {
        /// The half whose next bit is 0.
        left: Hash,
        /// The half whose next bit is 1.
        right: Hash,
    },
}

impl StoredNode {
    /// The subtree's hash.
    pub fn hash(&self) -> Hash {
        match self {
            StoredNode::Leaf { key, value } => leaf_node_hash(key, value),
            StoredNode::Inner { left, right } => node_hash(left, right),
        }
    }

    /// The byte form for a store's value: 0x00, key, value for a leaf;
    /// 0x01, left, right for an inner node.
    pub fn to_bytes(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        let (tag, a, b) = match self {
            StoredNode::Leaf { key, value } => (0x00, key, &value.0),
            StoredNode::Inner { left, right } => (0x01, left, right),
        };
        out[0] = tag;
        out[1..33].copy_from_slice(&a.0);
        out[33..].copy_from_slice(&b.0);
        out
    }

    /// Reads [`StoredNode::to_bytes`]'s form back.
    pub fn from_bytes(bytes: &[u8]) -> Option<StoredNode> {
        let (tag, rest) = bytes.split_first()?;
        let (a, b) = rest.split_at_checked(32)?;
        let (a, b) = (Hash::from_slice(a)?, Hash::from_slice(b)?);
        match tag {
            0x00 => Some(StoredNode::Leaf {
                key: a,
                value: ListValue(b),
            }),
            0x01 => Some(StoredNode::Inner { left: a, right: b }),
            _ => None,
        }
    }
}

/// Reads the nodes a store keeps; `None` is an empty subtree.
pub trait NodeReader {
    /// Why a read failed.
    type Error;
    /// The node at `position`.
    fn node(&self, position: &Position) -> Result<Option<StoredNode>, Self::Error>;
}

impl NodeReader for HashMap<Position, StoredNode> {
    type Error = Infallible;
    fn node(&self, position: &Position) -> Result<Option<StoredNode>, Infallible> {
        Ok(self.get(position).copied())
    }
}

/// Keys with their values, sorted by key.
type Pairs = [(Hash, ListValue)];

/// The nodes an update writes, and the new root.
pub type Update = (Hash, Vec<(Position, StoredNode)>);

/// Sets the values of `changes` (keys new or already present) and returns
/// the new root and the nodes to write. `changes` is sorted by key and
/// each key kept once (its last value). Reads only the paths it changes.
pub fn update<R: NodeReader>(
    store: &R,
    changes: &mut Vec<(Hash, ListValue)>,
) -> Result<Update, R::Error> {
    changes.sort_by_key(|change| change.0);
    // Keep the last value of each key.
    changes.reverse();
    changes.dedup_by(|later, earlier| later.0 == earlier.0);
    changes.reverse();
    let mut writes = Vec::new();
    let root = update_at(store, Position::ROOT, changes, &mut writes)?;
    Ok((root, writes))
}

/// The root of the tree in `store` (`EMPTY` when nothing is stored).
pub fn root<R: NodeReader>(store: &R) -> Result<Hash, R::Error> {
    Ok(store
        .node(&Position::ROOT)?
        .map_or(EMPTY, |node| node.hash()))
}

fn update_at<R: NodeReader>(
    store: &R,
    at: Position,
    changes: &Pairs,
    writes: &mut Vec<(Position, StoredNode)>,
) -> Result<Hash, R::Error> {
    match store.node(&at)? {
        None => Ok(build(at, changes, writes)),
        Some(StoredNode::Leaf { key, value }) => {
            if changes.iter().any(|(k, _)| *k == key) {
                return Ok(build(at, changes, writes));
            }
            let mut merged = changes.to_vec();
            let place = merged.partition_point(|(k, _)| *k < key);
            merged.insert(place, (key, value));
            Ok(build(at, &merged, writes))
        }
        Some(StoredNode::Inner { left, right }) => {
            let (l, r) = split(at, changes);
            let left = if l.is_empty() {
                left
            } else {
                update_at(store, at.child(false), l, writes)?
            };
            let right = if r.is_empty() {
                right
            } else {
                update_at(store, at.child(true), r, writes)?
            };
            let node = StoredNode::Inner { left, right };
            writes.push((at, node));
            Ok(node.hash())
        }
    }
}

/// Builds the subtree at `at` holding exactly `keys` (sorted, distinct).
fn build(at: Position, keys: &Pairs, writes: &mut Vec<(Position, StoredNode)>) -> Hash {
    let node = match keys {
        [] => return EMPTY,
        [(key, value)] => StoredNode::Leaf {
            key: *key,
            value: *value,
        },
        _ => {
            // Two distinct keys part before depth 256.
            debug_assert!(usize::from(at.depth) < MAX_DEPTH);
            let (l, r) = split(at, keys);
            StoredNode::Inner {
                left: build(at.child(false), l, writes),
                right: build(at.child(true), r, writes),
            }
        }
    };
    writes.push((at, node));
    node.hash()
}

/// The keys under `at` whose next bit is 0, and those whose next bit is 1.
fn split(at: Position, keys: &Pairs) -> (&Pairs, &Pairs) {
    let d = usize::from(at.depth);
    keys.split_at(keys.partition_point(|(k, _)| !bit(k, d)))
}

/// Why a one-pass build failed.
#[derive(Debug, PartialEq, Eq)]
pub enum BuildError<E> {
    /// The keys did not come in strictly increasing order.
    Unsorted {
        /// The key out of order.
        key: Hash,
    },
    /// The sink failed.
    Sink(E),
}

/// Builds a tree in one pass from `pairs` in strictly increasing key
/// order, handing each node to `sink` (children before their parent) and
/// returning the root. Memory is bounded by the depth, whatever the number
/// of keys: a segment merge streams through it.
pub fn build_sorted<E>(
    pairs: impl IntoIterator<Item = (Hash, ListValue)>,
    sink: &mut impl FnMut(Position, StoredNode) -> Result<(), E>,
) -> Result<Hash, BuildError<E>> {
    let mut keys = Lookahead {
        iter: pairs.into_iter(),
        ahead: Vec::with_capacity(2),
        last: None,
    };
    build_from(Position::ROOT, &mut keys, sink)
}

/// Up to two pairs read ahead, checked for order as they are read.
struct Lookahead<I> {
    iter: I,
    ahead: Vec<(Hash, ListValue)>,
    last: Option<Hash>,
}

impl<I: Iterator<Item = (Hash, ListValue)>> Lookahead<I> {
    /// The `n`-th pair ahead (0 or 1), if any.
    fn peek(&mut self, n: usize) -> Result<Option<Hash>, Hash> {
        while self.ahead.len() <= n {
            let Some(pair) = self.iter.next() else {
                return Ok(None);
            };
            if self.last.is_some_and(|last| last >= pair.0) {
                return Err(pair.0);
            }
            self.last = Some(pair.0);
            self.ahead.push(pair);
        }
        Ok(Some(self.ahead[n].0))
    }
}

fn build_from<I: Iterator<Item = (Hash, ListValue)>, E>(
    at: Position,
    keys: &mut Lookahead<I>,
    sink: &mut impl FnMut(Position, StoredNode) -> Result<(), E>,
) -> Result<Hash, BuildError<E>> {
    let unsorted = |key| BuildError::Unsorted { key };
    match keys.peek(0).map_err(unsorted)? {
        Some(first) if at.contains(&first) => {}
        _ => return Ok(EMPTY),
    }
    let node = match keys.peek(1).map_err(unsorted)? {
        Some(second) if at.contains(&second) => StoredNode::Inner {
            left: build_from(at.child(false), keys, sink)?,
            right: build_from(at.child(true), keys, sink)?,
        },
        _ => {
            let (key, value) = keys.ahead.remove(0);
            StoredNode::Leaf { key, value }
        }
    };
    sink(at, node).map_err(BuildError::Sink)?;
    Ok(node.hash())
}

/// The proof for `key` in the tree in `store`.
pub fn prove<R: NodeReader>(store: &R, key: &Hash) -> Result<MapProof, R::Error> {
    let mut siblings = Vec::new();
    let mut at = Position::ROOT;
    let terminal = loop {
        match store.node(&at)? {
            None => break Terminal::Empty,
            Some(StoredNode::Leaf { key: k, .. }) if k == *key => break Terminal::Present,
            Some(StoredNode::Leaf { key, value }) => break Terminal::Other { key, value },
            Some(StoredNode::Inner { left, right }) => {
                let right_side = bit(key, usize::from(at.depth));
                let (next, sibling) = if right_side {
                    (right, left)
                } else {
                    (left, right)
                };
                siblings.push(sibling);
                if next == EMPTY {
                    break Terminal::Empty;
                }
                at = at.child(right_side);
            }
        }
    };
    Ok(MapProof { terminal, siblings })
}

/// The value of `key` in the tree in `store`, if present.
pub fn value<R: NodeReader>(store: &R, key: &Hash) -> Result<Option<ListValue>, R::Error> {
    let mut at = Position::ROOT;
    loop {
        match store.node(&at)? {
            None => return Ok(None),
            Some(StoredNode::Leaf { key: k, value }) => {
                return Ok((k == *key).then_some(value));
            }
            Some(StoredNode::Inner { left, right }) => {
                let right_side = bit(key, usize::from(at.depth));
                if (if right_side { right } else { left }) == EMPTY {
                    return Ok(None);
                }
                at = at.child(right_side);
            }
        }
    }
}
