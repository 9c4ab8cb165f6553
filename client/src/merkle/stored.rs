//! The stored-hash layout of Go's `sumdb/tlog`: every hash of every complete
//! subtree gets one position in a single append-only sequence, in the order
//! the hashes become known. Leaf `n` is followed by the roots of the perfect
//! subtrees it completes, so level `L` hash `n` sits right after level `L-1`
//! hash `2n+1`. Tiles, the on-disk layout and the proof readers all address
//! hashes by this index.

use super::{Hash, HashReader, MerkleError, ReadError, node_hash};

/// Largest tree size the index arithmetic supports without overflow.
pub(crate) const MAX_TREE_SIZE: u64 = 1 << 62;

/// Position of the level-`level` hash number `n` in the stored sequence.
///
/// ```
/// use gazette_client::merkle::stored_hash_index;
/// // leaf 0, leaf 1, node(0..2), leaf 2, leaf 3, node(2..4), node(0..4), ...
/// assert_eq!(stored_hash_index(0, 1), 1);
/// assert_eq!(stored_hash_index(1, 0), 2);
/// assert_eq!(stored_hash_index(2, 0), 6);
/// ```
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // Map down to the last leaf of the subtree; that leaf's own index plus the
    // `level` subtree roots it completes gives the answer.
    let last_leaf = ((n + 1) << level) - 1;
    leaf_position(last_leaf) + u64::from(level)
}

/// Position of leaf `n`: `n + n/2 + n/4 + …`, one slot per hash already stored.
fn leaf_position(n: u64) -> u64 {
    let mut total = 0;
    let mut rest = n;
    while rest > 0 {
        total += rest;
        rest >>= 1;
    }
    total
}

/// Inverse of [`stored_hash_index`]: `(level, n)` of a stored position.
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // leaf_position(n) < 2n, so the leaf that opened this run of hashes is at
    // least index/2 and at most a few dozen further.
    let mut n = index / 2;
    let mut start = leaf_position(n);
    debug_assert!(start <= index);
    loop {
        let next = start + 1 + u64::from((n + 1).trailing_zeros());
        if next > index {
            break;
        }
        n += 1;
        start = next;
    }
    let level = u32::try_from(index - start).unwrap_or(u32::MAX);
    (level, n >> level)
}

/// How many hashes are stored for a tree of `size` leaves.
pub fn stored_hash_count(size: u64) -> u64 {
    if size == 0 {
        return 0;
    }
    let last = size - 1;
    leaf_position(last) + 1 + u64::from(size.trailing_zeros())
}

/// Stored indexes [`stored_hashes_for_leaf`] needs to append leaf `n`: the
/// left siblings of every subtree the new leaf completes.
pub fn stored_hashes_for_leaf_indexes(n: u64) -> Vec<u64> {
    let completed = (n + 1).trailing_zeros();
    (0..completed)
        .rev()
        .map(|level| stored_hash_index(level, (n >> level) - 1))
        .collect()
}

/// The hashes to append to the stored sequence when leaf `n` (the `n+1`-th
/// leaf) with hash `leaf` is added: the leaf hash, then the roots of the
/// subtrees it completes.
pub fn stored_hashes_for_leaf(
    n: u64,
    leaf: Hash,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    let indexes = stored_hashes_for_leaf_indexes(n);
    let siblings = read_exact(reader, &indexes)?;
    let mut hashes = Vec::with_capacity(siblings.len() + 1);
    let mut hash = leaf;
    hashes.push(hash);
    for sibling in siblings.iter().rev() {
        hash = node_hash(sibling, &hash);
        hashes.push(hash);
    }
    Ok(hashes)
}

/// The maximal perfect subtrees covering leaves `[lo, hi)`, left to right, as
/// stored indexes. Ranges met in RFC 6962 proofs are always aligned so that
/// this greedy split equals the RFC's recursive one.
pub(crate) fn sub_tree_indexes(mut lo: u64, hi: u64, out: &mut Vec<u64>) {
    while lo < hi {
        let level = 63 - (hi - lo).leading_zeros();
        let width = 1u64 << level;
        debug_assert_eq!(lo & (width - 1), 0, "unaligned range {lo}..{hi}");
        out.push(stored_hash_index(level, lo >> level));
        lo += width;
    }
}

/// How many perfect subtrees [`sub_tree_indexes`] yields for `[lo, hi)`.
pub(crate) fn sub_tree_count(lo: u64, hi: u64) -> usize {
    let mut count = 0;
    let mut lo = lo;
    while lo < hi {
        lo += 1 << (63 - (hi - lo).leading_zeros());
        count += 1;
    }
    count
}

/// Folds the hashes of a range's perfect subtrees (left to right) into the
/// range's hash, right to left as RFC 6962 does.
pub(crate) fn fold_sub_trees(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    let mut acc = *iter
        .next()
        .expect("a non-empty range has at least one subtree");
    for left in iter {
        acc = node_hash(left, &acc);
    }
    acc
}

/// Stored indexes [`tree_hash_from_hashes`] needs for the root of `size`.
pub fn tree_hash_indexes(size: u64) -> Result<Vec<u64>, MerkleError> {
    check_size(size)?;
    let mut out = Vec::new();
    sub_tree_indexes(0, size, &mut out);
    Ok(out)
}

/// The root of the tree of `size` leaves from the hashes at
/// [`tree_hash_indexes`]`(size)`.
pub fn tree_hash_from_hashes(size: u64, hashes: &[Hash]) -> Result<Hash, MerkleError> {
    let expected = tree_hash_indexes(size)?.len();
    if hashes.len() != expected {
        return Err(wrong_count(expected, hashes.len()));
    }
    Ok(if size == 0 {
        super::empty_root()
    } else {
        fold_sub_trees(hashes)
    })
}

/// The root of the tree of `size` leaves, read from stored hashes.
pub fn tree_hash(size: u64, reader: &(impl HashReader + ?Sized)) -> Result<Hash, MerkleError> {
    let indexes = tree_hash_indexes(size)?;
    let hashes = read_exact(reader, &indexes)?;
    tree_hash_from_hashes(size, &hashes)
}

pub(crate) fn check_size(size: u64) -> Result<(), MerkleError> {
    if size > MAX_TREE_SIZE {
        return Err(MerkleError::TreeTooLarge { size });
    }
    Ok(())
}

pub(crate) fn read_exact(
    reader: &(impl HashReader + ?Sized),
    indexes: &[u64],
) -> Result<Vec<Hash>, MerkleError> {
    let hashes = reader.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(wrong_count(indexes.len(), hashes.len()));
    }
    Ok(hashes)
}

fn wrong_count(expected: usize, got: usize) -> MerkleError {
    MerkleError::Read(ReadError::new(format!(
        "reader returned {got} hashes for {expected} indexes"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_index_round_trips_through_split() {
        for index in 0..5000 {
            let (level, n) = split_stored_hash_index(index);
            assert_eq!(stored_hash_index(level, n), index, "index {index}");
        }
    }

    #[test]
    fn stored_count_matches_appended_hashes() {
        let mut stored: Vec<Hash> = Vec::new();
        for n in 0..600u64 {
            assert_eq!(stored_hash_count(n), stored.len() as u64);
            let new = stored_hashes_for_leaf(n, super::super::leaf_hash(&n.to_be_bytes()), &stored)
                .unwrap();
            stored.extend(new);
        }
    }
}
