//! Property tests of the verifiable index's tree (`index::tree`) against a
//! naive map written straight from `docs/INDEX.md` section 2 (a recursive
//! hash over the sorted keys): batch after batch of updates, with the
//! nodes kept only in their stored byte form between batches (as a
//! database keeps them across reopenings), the root, every value and
//! every proof — presence and absence — agree with the naive map.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;

use gazette_client::Hash;
use gazette_client::index::proof::{MapProof, Terminal, bit};
use gazette_client::index::tree::{
    BuildError, Built, NodeReader, Position, PostOrderTree, StoredNode, build_sorted, prove, root,
    update, value,
};
use gazette_client::index::{EMPTY, ListValue};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// The naive root over sorted `(key, value)` pairs at `depth`.
fn naive_root(pairs: &[(Hash, ListValue)], depth: usize) -> Hash {
    match pairs {
        [] => EMPTY,
        [(k, v)] => {
            let mut h = Sha256::new();
            h.update([0x02u8]);
            h.update(k.0);
            h.update(v.0.0);
            Hash(h.finalize().into())
        }
        _ => {
            let left: Vec<_> = pairs
                .iter()
                .filter(|(k, _)| !bit(k, depth))
                .copied()
                .collect();
            let right: Vec<_> = pairs
                .iter()
                .filter(|(k, _)| bit(k, depth))
                .copied()
                .collect();
            let mut h = Sha256::new();
            h.update([0x03u8]);
            h.update(naive_root(&left, depth + 1).0);
            h.update(naive_root(&right, depth + 1).0);
            Hash(h.finalize().into())
        }
    }
}

/// Nodes kept as bytes only, as a database keeps them.
#[derive(Default)]
struct ByteStore(HashMap<Vec<u8>, Vec<u8>>);

impl NodeReader for ByteStore {
    type Error = Infallible;
    fn node(&self, position: &Position) -> Result<Option<StoredNode>, Infallible> {
        Ok(self
            .0
            .get(&position.to_bytes())
            .map(|b| StoredNode::from_bytes(b).expect("a stored node reads back")))
    }
}

/// A pool of keys with long shared prefixes as well as random ones: keys
/// `0..8` differ only in their last byte's low bits, `8..16` share 12 bits.
fn pool() -> Vec<Hash> {
    let mut keys = Vec::new();
    for i in 0..8u8 {
        let mut k = [0x5a; 32];
        k[31] = i;
        keys.push(Hash(k));
    }
    for i in 0..8u8 {
        let mut k: [u8; 32] = Sha256::digest([i]).into();
        k[0] = 0xc3;
        k[1] = (k[1] & 0x0f) | 0x70;
        keys.push(Hash(k));
    }
    for i in 0..16u8 {
        keys.push(Hash(Sha256::digest([0xee, i]).into()));
    }
    keys
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn batches_of_updates_agree_with_the_naive_map(
        batches in prop::collection::vec(prop::collection::vec(0usize..32, 0..12), 1..10)
    ) {
        let keys = pool();
        let mut lists: BTreeMap<Hash, Vec<(u64, Hash)>> = BTreeMap::new();
        let mut naive: BTreeMap<Hash, ListValue> = BTreeMap::new();
        let mut store = ByteStore::default();
        let mut next_index = 0u64;
        for batch in batches {
            let mut changes = Vec::new();
            for k in batch {
                let key = keys[k];
                let leaf = Hash(Sha256::digest(next_index.to_be_bytes()).into());
                let list = lists.entry(key).or_default();
                list.push((next_index, leaf));
                let value = ListValue::of(list.iter().map(|(i, h)| (*i, h)));
                naive.insert(key, value);
                changes.push((key, value));
                next_index += 1;
            }
            let (new_root, writes) = update(&store, &mut changes).unwrap();
            for (position, node) in writes {
                store.0.insert(position.to_bytes(), node.to_bytes().to_vec());
            }
            let pairs: Vec<_> = naive.iter().map(|(k, v)| (*k, *v)).collect();
            let expected = naive_root(&pairs, 0);
            prop_assert_eq!(new_root, expected);
            prop_assert_eq!(root(&store).unwrap(), expected);
            for key in &keys {
                let proof = prove(&store, key).unwrap();
                let encoded = proof.to_bytes();
                prop_assert_eq!(&MapProof::parse(&encoded).unwrap(), &proof);
                let known = naive.get(key);
                prop_assert_eq!(value(&store, key).unwrap(), known.copied());
                prop_assert_eq!(proof.terminal == Terminal::Present, known.is_some());
                prop_assert!(proof.verify(key, known, &expected).is_ok());
                // The opposite claim never verifies.
                let opposite = match known {
                    Some(_) => None,
                    None => Some(ListValue(Hash([7; 32]))),
                };
                prop_assert!(proof.verify(key, opposite.as_ref(), &expected).is_err());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// A segment built in one pass is the tree updates build: same root,
    /// same nodes at the same positions.
    #[test]
    fn a_one_pass_build_gives_the_tree_updates_give(picked in prop::collection::btree_set(0usize..32, 0..32)) {
        let keys = pool();
        let mut pairs: Vec<(Hash, ListValue)> =
            picked.iter().map(|&k| (keys[k], ListValue(Hash([k as u8; 32])))).collect();
        pairs.sort_by_key(|p| p.0);
        let mut nodes = HashMap::new();
        let built = build_sorted(pairs.clone(), &mut |b: Built| {
            nodes.insert(b.position, b.node);
            Ok::<(), Infallible>(())
        })
        .unwrap();
        prop_assert_eq!(built, naive_root(&pairs, 0));
        let (updated, writes) = update(&HashMap::new(), &mut pairs.clone()).unwrap();
        prop_assert_eq!(built, updated);
        let store: HashMap<Position, StoredNode> = writes.into_iter().collect();
        prop_assert_eq!(&nodes, &store);
        // Walked in post-order by the children's counts, the same proofs.
        let (root, tree) = PostOrderTree::build(pairs.clone()).unwrap();
        prop_assert_eq!(root, built);
        prop_assert_eq!(tree.root(), built);
        for key in &keys {
            prop_assert_eq!(prove(&tree, key).unwrap(), prove(&store, key).unwrap());
            prop_assert_eq!(value(&tree, key).unwrap(), value(&store, key).unwrap());
        }
    }
}

#[test]
fn a_one_pass_build_refuses_keys_out_of_order() {
    let keys = pool();
    let (a, b) = (keys[3], keys[1]);
    let pairs = vec![(a, ListValue(a)), (b, ListValue(b))];
    let result = build_sorted(pairs, &mut |_| Ok::<(), Infallible>(()));
    assert_eq!(result, Err(BuildError::Unsorted { key: b }));
    let twice = vec![(a, ListValue(a)), (a, ListValue(b))];
    let result = build_sorted(twice, &mut |_| Ok::<(), Infallible>(()));
    assert_eq!(result, Err(BuildError::Unsorted { key: a }));
}

#[test]
fn an_update_rewrites_only_the_paths_it_changes() {
    let keys = pool();
    let mut store = ByteStore::default();
    let mut all: Vec<(Hash, ListValue)> = keys.iter().map(|k| (*k, ListValue(*k))).collect();
    let (_, writes) = update(&store, &mut all).unwrap();
    for (position, node) in writes {
        store
            .0
            .insert(position.to_bytes(), node.to_bytes().to_vec());
    }
    let nodes = store.0.len();
    // One key's new value rewrites its path: at most its depth + 1 nodes.
    let key = keys[20];
    let depth = prove(&store, &key).unwrap().siblings.len();
    let (_, writes) = update(&store, &mut vec![(key, ListValue(Hash([1; 32])))]).unwrap();
    assert_eq!(writes.len(), depth + 1);
    for (position, node) in writes {
        store
            .0
            .insert(position.to_bytes(), node.to_bytes().to_vec());
    }
    assert_eq!(
        store.0.len(),
        nodes,
        "no node was added for an existing key"
    );
}

proptest! {
    /// `Position::contains`, by 64-bit words, is the bit-by-bit definition:
    /// the key's first `depth` bits are the position's.
    #[test]
    fn a_position_contains_the_keys_that_share_its_path(
        key in prop::array::uniform32(any::<u8>()),
        flip in 0usize..256,
        depth in 0u16..=256,
    ) {
        let mut position = Position::ROOT;
        for d in 0..usize::from(depth) {
            position = position.child(bit(&Hash(key), d));
        }
        let mut other = key;
        other[flip / 8] ^= 0x80 >> (flip % 8);
        prop_assert!(position.contains(&Hash(key)));
        prop_assert_eq!(position.contains(&Hash(other)), flip >= usize::from(depth));
    }
}
