//! Property tests of proof generation and verification against a naive
//! reference written straight from RFC 6962 §2.1 (recursive MTH, PATH and
//! PROOF over the leaf list), for random trees of up to a few thousand
//! leaves; and of proofs computed from tiles alone against direct ones.

use std::collections::HashMap;

use gazette_client::merkle::{
    self, Hash, HashReader, ReadError, leaf_hash, node_hash, prove_consistency, prove_inclusion,
    stored_hashes_for_leaf, verify_consistency, verify_inclusion,
};
use gazette_client::tiles::{
    Tile, TileHashReader, TileProof, TileReader, read_tile_data, tiles_for_size,
};
use proptest::prelude::*;

const MAX_LEAVES: u64 = 3000;

fn leaf(i: u64) -> Hash {
    leaf_hash(format!("gazette leaf {i}").as_bytes())
}

/// RFC 6962 reference over leaves `[lo, hi)`, memoising only perfect
/// subtrees so thousands of roots stay cheap.
struct Naive {
    memo: HashMap<(u64, u64), Hash>,
}

impl Naive {
    fn new() -> Naive {
        Naive {
            memo: HashMap::new(),
        }
    }

    fn split(n: u64) -> u64 {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn mth(&mut self, lo: u64, hi: u64) -> Hash {
        let n = hi - lo;
        if n == 0 {
            return merkle::empty_root();
        }
        if n == 1 {
            return leaf(lo);
        }
        let perfect = n.is_power_of_two();
        if perfect && let Some(h) = self.memo.get(&(lo, hi)) {
            return *h;
        }
        let k = Naive::split(n);
        let left = self.mth(lo, lo + k);
        let right = self.mth(lo + k, hi);
        let h = node_hash(&left, &right);
        if perfect {
            self.memo.insert((lo, hi), h);
        }
        h
    }

    fn path(&mut self, i: u64, lo: u64, hi: u64) -> Vec<Hash> {
        let n = hi - lo;
        if n <= 1 {
            return Vec::new();
        }
        let k = Naive::split(n);
        if i < k {
            let mut p = self.path(i, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(i - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    fn subproof(&mut self, m: u64, lo: u64, hi: u64, complete: bool) -> Vec<Hash> {
        let n = hi - lo;
        if m == n {
            return if complete {
                Vec::new()
            } else {
                vec![self.mth(lo, hi)]
            };
        }
        let k = Naive::split(n);
        if m <= k {
            let mut p = self.subproof(m, lo, lo + k, complete);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.subproof(m - k, lo + k, hi, false);
            p.push(self.mth(lo, lo + k));
            p
        }
    }
}

fn stored_hashes(size: u64) -> Vec<Hash> {
    let mut stored = Vec::new();
    for i in 0..size {
        let new = stored_hashes_for_leaf(i, leaf(i), &stored).unwrap();
        stored.extend(new);
    }
    stored
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut h = *hash;
    h.0[bit / 8] ^= 1 << (bit % 8);
    h
}

/// Every way of damaging a proof by one bit or one hash.
fn proof_mutations(proof: &[Hash], extra: Hash) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    for i in 0..proof.len() {
        for bit in 0..256 {
            let mut p = proof.to_vec();
            p[i] = flip(&p[i], bit);
            out.push(p);
        }
        let mut removed = proof.to_vec();
        removed.remove(i);
        out.push(removed);
        let mut replaced = proof.to_vec();
        replaced[i] = extra;
        out.push(replaced);
    }
    let mut appended = proof.to_vec();
    appended.push(extra);
    out.push(appended);
    let mut prepended = vec![extra];
    prepended.extend_from_slice(proof);
    out.push(prepended);
    out
}

/// Sizes one bit away from `n`, and the classic wrong sizes, within bounds.
fn size_mutations(n: u64, bound: u64) -> Vec<u64> {
    let mut sizes: Vec<u64> = (0..14).map(|b| n ^ (1 << b)).collect();
    sizes.extend([n + 1, n.saturating_sub(1), n * 2, n / 2]);
    sizes.retain(|&s| s != n && s <= bound);
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn inclusion_proofs_match_reference_verify_and_resist_every_mutation(
        size in 1..=MAX_LEAVES,
        seed in any::<u64>(),
    ) {
        let index = seed % size;
        let stored = stored_hashes(size);
        let mut naive = Naive::new();
        let root = naive.mth(0, size);
        prop_assert_eq!(merkle::tree_hash(size, &stored).unwrap(), root);

        let proof = prove_inclusion(index, size, &stored).unwrap();
        prop_assert_eq!(&proof, &naive.path(index, 0, size));
        verify_inclusion(&leaf(index), index, size, &proof, &root).unwrap();

        let extra = leaf(u64::MAX);
        for bad in proof_mutations(&proof, extra) {
            prop_assert!(verify_inclusion(&leaf(index), index, size, &bad, &root).is_err());
        }
        for bit in 0..256 {
            prop_assert!(verify_inclusion(&leaf(index), index, size, &proof, &flip(&root, bit)).is_err());
            prop_assert!(verify_inclusion(&flip(&leaf(index), bit), index, size, &proof, &root).is_err());
        }
        for other in [index ^ 1, index ^ 2, index + 1, index.wrapping_sub(1), size] {
            if other != index {
                prop_assert!(verify_inclusion(&leaf(index), other, size, &proof, &root).is_err());
            }
        }
        // A proof for one tree never verifies against another genuine tree.
        for other in size_mutations(size, 2 * MAX_LEAVES + 16384) {
            let other_root = naive.mth(0, other);
            prop_assert!(verify_inclusion(&leaf(index), index, other, &proof, &other_root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_match_reference_verify_and_resist_every_mutation(
        new_size in 1..=MAX_LEAVES,
        seed in any::<u64>(),
    ) {
        let old_size = 1 + seed % new_size;
        let stored = stored_hashes(new_size);
        let mut naive = Naive::new();
        let (old_root, new_root) = (naive.mth(0, old_size), naive.mth(0, new_size));

        let proof = prove_consistency(old_size, new_size, &stored).unwrap();
        prop_assert_eq!(&proof, &naive.subproof(old_size, 0, new_size, true));
        verify_consistency(old_size, new_size, &old_root, &new_root, &proof).unwrap();

        let extra = leaf(u64::MAX);
        for bad in proof_mutations(&proof, extra) {
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &bad).is_err());
        }
        for bit in 0..256 {
            prop_assert!(verify_consistency(old_size, new_size, &flip(&old_root, bit), &new_root, &proof).is_err());
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &flip(&new_root, bit), &proof).is_err());
        }
        if old_root != new_root {
            prop_assert!(verify_consistency(old_size, new_size, &new_root, &old_root, &proof).is_err());
        }
        for other in size_mutations(old_size, new_size) {
            let other_root = naive.mth(0, other);
            prop_assert!(verify_consistency(other, new_size, &other_root, &new_root, &proof).is_err());
        }
        for other in size_mutations(new_size, 2 * MAX_LEAVES + 16384) {
            let other_root = naive.mth(0, other);
            prop_assert!(verify_consistency(old_size, other, &old_root, &other_root, &proof).is_err());
        }
    }

    #[test]
    fn tile_based_proofs_equal_direct_proofs(
        size in 1..=MAX_LEAVES,
        a in any::<u64>(),
        b in any::<u64>(),
    ) {
        let stored = stored_hashes(size);
        let tiles = TileStore::new(size, &stored);
        let root = merkle::tree_hash(size, &stored).unwrap();
        let reader = TileHashReader::new(size, root, &tiles);
        let index = a % size;
        prop_assert_eq!(
            prove_inclusion(index, size, &reader).unwrap(),
            prove_inclusion(index, size, &stored).unwrap()
        );
        let old_size = 1 + b % size;
        prop_assert_eq!(
            prove_consistency(old_size, size, &reader).unwrap(),
            prove_consistency(old_size, size, &stored).unwrap()
        );
        prop_assert_eq!(merkle::tree_hash(old_size, &reader).unwrap(), merkle::tree_hash(old_size, &stored).unwrap());
        // The two-phase form the browser uses gives the same proofs.
        let two_phase = |plan: TileProof| {
            let data = tiles.read_tiles(plan.tiles()).unwrap();
            plan.proof(&root, &data).unwrap()
        };
        prop_assert_eq!(
            two_phase(TileProof::inclusion(index, size).unwrap()),
            prove_inclusion(index, size, &stored).unwrap()
        );
        prop_assert_eq!(
            two_phase(TileProof::consistency(old_size, size).unwrap()),
            prove_consistency(old_size, size, &stored).unwrap()
        );
        // Tiles that do not hash to the root are refused.
        let plan = TileProof::inclusion(index, size).unwrap();
        let mut data = tiles.read_tiles(plan.tiles()).unwrap();
        data[0][0] ^= 1;
        prop_assert!(plan.proof(&root, &data).is_err());
    }
}

/// The static read path of a tree, in memory: every tile of `size`.
struct TileStore {
    tiles: HashMap<Tile, Vec<u8>>,
}

impl TileStore {
    fn new(size: u64, stored: &[Hash]) -> TileStore {
        let tiles = tiles_for_size(8, size)
            .into_iter()
            .map(|t| (t, read_tile_data(&t, stored).unwrap()))
            .collect();
        TileStore { tiles }
    }
}

impl TileReader for TileStore {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, ReadError> {
        self.tiles.read_tiles(tiles)
    }
}

/// Counts batches, to show a proof reads its hashes in one call.
struct CountingReader<'a> {
    stored: &'a [Hash],
    calls: std::cell::Cell<usize>,
}

impl HashReader for CountingReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError> {
        self.calls.set(self.calls.get() + 1);
        self.stored.read_hashes(indexes)
    }
}

#[test]
fn proofs_read_stored_hashes_in_one_batch() {
    let stored = stored_hashes(1000);
    let reader = CountingReader {
        stored: &stored,
        calls: std::cell::Cell::new(0),
    };
    prove_inclusion(123, 1000, &reader).unwrap();
    assert_eq!(reader.calls.get(), 1);
    prove_consistency(77, 1000, &reader).unwrap();
    assert_eq!(reader.calls.get(), 2);
}

#[test]
fn tile_proofs_cross_three_tile_levels() {
    // 70 000 leaves: full and partial tiles on levels 0 and 1, and level 2.
    let size = 70_000;
    let stored = stored_hashes(size);
    let tiles = TileStore::new(size, &stored);
    let root = merkle::tree_hash(size, &stored).unwrap();
    let reader = TileHashReader::new(size, root, &tiles);
    for (index, old) in [
        (0, 1),
        (65_535, 65_536),
        (65_536, 65_537),
        (69_999, 256),
        (12_345, 69_999),
    ] {
        let proof = prove_inclusion(index, size, &reader).unwrap();
        assert_eq!(proof, prove_inclusion(index, size, &stored).unwrap());
        verify_inclusion(&leaf(index), index, size, &proof, &root).unwrap();
        let proof = prove_consistency(old, size, &reader).unwrap();
        assert_eq!(proof, prove_consistency(old, size, &stored).unwrap());
    }
}

#[test]
fn tile_reader_rejects_tiles_that_do_not_match_the_root() {
    let size = 70_000;
    let stored = stored_hashes(size);
    let root = merkle::tree_hash(size, &stored).unwrap();
    for victim in [
        "tile/0/000",
        "tile/1/000",
        "tile/0/273.p/112",
        "tile/2/000.p/1",
    ] {
        let mut tiles = TileStore::new(size, &stored);
        let tile = Tile::parse_path(victim).unwrap();
        tiles.tiles.get_mut(&tile).unwrap()[5] ^= 1;
        let reader = TileHashReader::new(size, root, &tiles);
        assert!(
            prove_inclusion(3, size, &reader).is_err(),
            "tampered {victim} accepted"
        );
    }
}
