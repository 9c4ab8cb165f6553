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

use crate::merkle::Hash;

use super::proof::{MAX_DEPTH, MapProof, Terminal, bit, inner_node_hash, leaf_node_hash};
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
        // By 64-bit words: a build asks this at every node it visits.
        let depth = usize::from(self.depth);
        for word in 0..4 {
            let bits = depth.saturating_sub(word * 64).min(64);
            if bits == 0 {
                break;
            }
            let at = word * 8..word * 8 + 8;
            let k = u64::from_be_bytes(key.0[at.clone()].try_into().expect("8 bytes"));
            let p = u64::from_be_bytes(self.prefix[at].try_into().expect("8 bytes"));
            if (k ^ p) >> (64 - bits) != 0 {
                return false;
            }
        }
        true
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
            StoredNode::Inner { left, right } => inner_node_hash(left, right),
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

/// A node as a one-pass build hands it over: children come before their
/// parent (post-order), so a parent's right child, if any, is the node
/// just before it, and its left child, if any, the one before the right
/// subtree's `right_nodes` nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Built {
    /// Where it sits.
    pub position: Position,
    /// The node.
    pub node: StoredNode,
    /// Nodes in its left subtree (0 for a leaf, or an empty half).
    pub left_nodes: u64,
    /// Nodes in its right subtree.
    pub right_nodes: u64,
}

impl Built {
    /// Where the child on `right`'s side sits in a post-order sequence in
    /// which this node sits at `offset`; `None` for an empty half (or a
    /// leaf).
    pub fn child_offset(&self, offset: u64, right: bool) -> Option<u64> {
        match (right, self.left_nodes, self.right_nodes) {
            (true, _, 0) | (false, 0, _) => None,
            (true, _, _) => offset.checked_sub(1),
            (false, _, r) => offset.checked_sub(1 + r),
        }
    }
}

/// A tree held in memory as its nodes in post-order, as [`build_sorted`]
/// hands them over: a batch's own segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostOrderTree(pub Vec<Built>);

impl PostOrderTree {
    /// Builds the tree of `pairs` (strictly increasing keys) in memory.
    pub fn build(
        pairs: impl IntoIterator<Item = (Hash, ListValue)>,
    ) -> Result<(Hash, PostOrderTree), BuildError<Infallible>> {
        let mut nodes = Vec::new();
        let root = build_sorted(pairs, &mut |built| {
            nodes.push(built);
            Ok(())
        })?;
        Ok((root, PostOrderTree(nodes)))
    }

    /// The root (`EMPTY` for an empty tree).
    pub fn root(&self) -> Hash {
        self.0.last().map_or(EMPTY, |b| b.node.hash())
    }
}

impl TreeWalk for PostOrderTree {
    type At = usize;
    type Error = Infallible;

    fn root(&self) -> Result<Option<(usize, StoredNode)>, Infallible> {
        Ok(self
            .0
            .len()
            .checked_sub(1)
            .map(|last| (last, self.0[last].node)))
    }

    fn child(&self, parent: usize, right: bool) -> Result<Option<(usize, StoredNode)>, Infallible> {
        let child = self.0[parent].child_offset(parent as u64, right);
        Ok(child.map(|c| (c as usize, self.0[c as usize].node)))
    }
}

/// Builds a tree in one pass from `pairs` in strictly increasing key
/// order, handing each node to `sink` in post-order and returning the
/// root. Memory is bounded by the depth, whatever the number of keys: a
/// segment merge streams through it.
pub fn build_sorted<E>(
    pairs: impl IntoIterator<Item = (Hash, ListValue)>,
    sink: &mut impl FnMut(Built) -> Result<(), E>,
) -> Result<Hash, BuildError<E>> {
    build_sorted_hashed(
        pairs.into_iter().map(|(key, value)| (key, value, None)),
        sink,
    )
}

/// [`build_sorted`], given with each pair its leaf's hash when already
/// known (`leaf_node_hash(key, value)`, as another tree stored it): a
/// merge rehashes only the leaves whose value changed.
pub fn build_sorted_hashed<E>(
    leaves: impl IntoIterator<Item = (Hash, ListValue, Option<Hash>)>,
    sink: &mut impl FnMut(Built) -> Result<(), E>,
) -> Result<Hash, BuildError<E>> {
    let mut keys = Lookahead {
        iter: leaves.into_iter(),
        ahead: Vec::with_capacity(2),
        last: None,
    };
    Ok(build_from(Position::ROOT, &mut keys, sink)?.0)
}

/// Up to two leaves read ahead, checked for order as they are read.
struct Lookahead<I> {
    iter: I,
    ahead: Vec<(Hash, ListValue, Option<Hash>)>,
    last: Option<Hash>,
}

impl<I: Iterator<Item = (Hash, ListValue, Option<Hash>)>> Lookahead<I> {
    /// The `n`-th key ahead (0 or 1), if any.
    fn peek(&mut self, n: usize) -> Result<Option<Hash>, Hash> {
        while self.ahead.len() <= n {
            let Some(leaf) = self.iter.next() else {
                return Ok(None);
            };
            if self.last.is_some_and(|last| last >= leaf.0) {
                return Err(leaf.0);
            }
            self.last = Some(leaf.0);
            self.ahead.push(leaf);
        }
        Ok(Some(self.ahead[n].0))
    }
}

/// The subtree at `at` from the keys ahead: its hash and its node count.
fn build_from<I: Iterator<Item = (Hash, ListValue, Option<Hash>)>, E>(
    at: Position,
    keys: &mut Lookahead<I>,
    sink: &mut impl FnMut(Built) -> Result<(), E>,
) -> Result<(Hash, u64), BuildError<E>> {
    let unsorted = |key| BuildError::Unsorted { key };
    match keys.peek(0).map_err(unsorted)? {
        Some(first) if at.contains(&first) => {}
        _ => return Ok((EMPTY, 0)),
    }
    let (built, known) = match keys.peek(1).map_err(unsorted)? {
        Some(second) if at.contains(&second) => {
            let (left, left_nodes) = build_from(at.child(false), keys, sink)?;
            let (right, right_nodes) = build_from(at.child(true), keys, sink)?;
            let built = Built {
                position: at,
                node: StoredNode::Inner { left, right },
                left_nodes,
                right_nodes,
            };
            (built, None)
        }
        _ => {
            let (key, value, known) = keys.ahead.remove(0);
            let built = Built {
                position: at,
                node: StoredNode::Leaf { key, value },
                left_nodes: 0,
                right_nodes: 0,
            };
            (built, known)
        }
    };
    let hash = match known {
        Some(hash) => {
            debug_assert_eq!(hash, built.node.hash(), "a known leaf hash is wrong");
            hash
        }
        None => built.node.hash(),
    };
    let count = 1 + built.left_nodes + built.right_nodes;
    sink(built).map_err(BuildError::Sink)?;
    Ok((hash, count))
}

/// A tree a proof can walk down: from the root, to either child.
pub trait TreeWalk {
    /// Where a node sits, in the walker's own terms.
    type At: Copy;
    /// Why a read failed.
    type Error;
    /// The root node, if the tree is not empty.
    fn root(&self) -> Result<Option<(Self::At, StoredNode)>, Self::Error>;
    /// The child on `right`'s side of the inner node at `parent`, if that
    /// half is not empty.
    fn child(
        &self,
        parent: Self::At,
        right: bool,
    ) -> Result<Option<(Self::At, StoredNode)>, Self::Error>;
}

impl<R: NodeReader> TreeWalk for R {
    type At = Position;
    type Error = R::Error;

    fn root(&self) -> Result<Option<(Position, StoredNode)>, R::Error> {
        Ok(self
            .node(&Position::ROOT)?
            .map(|node| (Position::ROOT, node)))
    }

    fn child(
        &self,
        parent: Position,
        right: bool,
    ) -> Result<Option<(Position, StoredNode)>, R::Error> {
        let at = parent.child(right);
        Ok(self.node(&at)?.map(|node| (at, node)))
    }
}

/// The proof for `key` in `tree`.
pub fn prove<W: TreeWalk>(tree: &W, key: &Hash) -> Result<MapProof, W::Error> {
    Ok(prove_at(tree, key)?.0)
}

/// The proof for `key` in `tree`, and where its own leaf is when present
/// (so a store can read what it keeps beside the leaf in the same walk).
pub fn prove_at<W: TreeWalk>(tree: &W, key: &Hash) -> Result<(MapProof, Option<W::At>), W::Error> {
    let mut siblings = Vec::new();
    let mut next = tree.root()?;
    let mut found = None;
    let terminal = loop {
        let Some((at, node)) = next else {
            break Terminal::Empty;
        };
        match node {
            StoredNode::Leaf { key: k, .. } if k == *key => {
                found = Some(at);
                break Terminal::Present;
            }
            StoredNode::Leaf { key, value } => break Terminal::Other { key, value },
            StoredNode::Inner { left, right } => {
                let right_side = bit(key, siblings.len());
                siblings.push(if right_side { left } else { right });
                next = tree.child(at, right_side)?;
            }
        }
    };
    Ok((MapProof { terminal, siblings }, found))
}

/// The value of `key` in `tree`, if present.
pub fn value<W: TreeWalk>(tree: &W, key: &Hash) -> Result<Option<ListValue>, W::Error> {
    let mut next = tree.root()?;
    let mut depth = 0;
    while let Some((at, node)) = next {
        match node {
            StoredNode::Leaf { key: k, value } => return Ok((k == *key).then_some(value)),
            StoredNode::Inner { .. } => {
                next = tree.child(at, bit(key, depth))?;
                depth += 1;
            }
        }
    }
    Ok(None)
}
