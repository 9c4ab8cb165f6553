//! Inclusion and consistency proofs (RFC 6962 §2.1.1–2.1.2, RFC 9162
//! §2.1.3–2.1.4): generation in two phases over stored hashes, and
//! verification.

use std::ops::Range;

use super::stored::{check_size, fold_sub_trees, read_exact, sub_tree_count, sub_tree_indexes};
use super::{Hash, HashReader, MerkleError, node_hash};

/// Largest power of two strictly less than `n` (`n >= 2`): the RFC's split.
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The leaf ranges whose hashes form `PATH(index, D[lo:hi])`, leaf's
/// sibling first.
fn inclusion_ranges(index: u64, lo: u64, hi: u64, out: &mut Vec<Range<u64>>) {
    if hi - lo <= 1 {
        return;
    }
    let mid = lo + split_point(hi - lo);
    if index < mid {
        inclusion_ranges(index, lo, mid, out);
        out.push(mid..hi);
    } else {
        inclusion_ranges(index, mid, hi, out);
        out.push(lo..mid);
    }
}

/// The leaf ranges whose hashes form `SUBPROOF(old, D[lo:hi], complete)`;
/// `old` is an absolute leaf count.
fn consistency_ranges(old: u64, lo: u64, hi: u64, complete: bool, out: &mut Vec<Range<u64>>) {
    if old == hi {
        if !complete {
            out.push(lo..hi);
        }
        return;
    }
    let mid = lo + split_point(hi - lo);
    if old <= mid {
        consistency_ranges(old, lo, mid, complete, out);
        out.push(mid..hi);
    } else {
        consistency_ranges(old, mid, hi, false, out);
        out.push(lo..mid);
    }
}

fn ranges_to_indexes(ranges: &[Range<u64>]) -> Vec<u64> {
    let mut indexes = Vec::new();
    for range in ranges {
        sub_tree_indexes(range.start, range.end, &mut indexes);
    }
    indexes
}

fn fold_ranges(ranges: &[Range<u64>], hashes: &[Hash]) -> Result<Vec<Hash>, MerkleError> {
    let expected: usize = ranges.iter().map(|r| sub_tree_count(r.start, r.end)).sum();
    if hashes.len() != expected {
        return Err(MerkleError::Read(super::ReadError::new(format!(
            "got {} stored hashes for a proof needing {expected}",
            hashes.len()
        ))));
    }
    let mut rest = hashes;
    let mut proof = Vec::with_capacity(ranges.len());
    for range in ranges {
        let (mine, tail) = rest.split_at(sub_tree_count(range.start, range.end));
        proof.push(fold_sub_trees(mine));
        rest = tail;
    }
    Ok(proof)
}

fn inclusion_plan(index: u64, size: u64) -> Result<Vec<Range<u64>>, MerkleError> {
    check_size(size)?;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut ranges = Vec::new();
    inclusion_ranges(index, 0, size, &mut ranges);
    Ok(ranges)
}

fn consistency_plan(old_size: u64, new_size: u64) -> Result<Vec<Range<u64>>, MerkleError> {
    check_size(new_size)?;
    if old_size == 0 || old_size > new_size {
        return Err(MerkleError::BadSizes { old_size, new_size });
    }
    let mut ranges = Vec::new();
    consistency_ranges(old_size, 0, new_size, true, &mut ranges);
    Ok(ranges)
}

/// Phase one of [`prove_inclusion`]: the stored hashes the proof needs.
pub fn inclusion_proof_indexes(index: u64, size: u64) -> Result<Vec<u64>, MerkleError> {
    Ok(ranges_to_indexes(&inclusion_plan(index, size)?))
}

/// Phase two of [`prove_inclusion`]: the proof from the hashes read at
/// [`inclusion_proof_indexes`], in that order.
pub fn inclusion_proof_from_hashes(
    index: u64,
    size: u64,
    hashes: &[Hash],
) -> Result<Vec<Hash>, MerkleError> {
    fold_ranges(&inclusion_plan(index, size)?, hashes)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves,
/// leaf's sibling first, reading all stored hashes in one batch.
pub fn prove_inclusion(
    index: u64,
    size: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    let hashes = read_exact(reader, &inclusion_proof_indexes(index, size)?)?;
    inclusion_proof_from_hashes(index, size, &hashes)
}

/// Phase one of [`prove_consistency`]: the stored hashes the proof needs.
/// `old_size == new_size` needs none; `old_size == 0` is undefined.
pub fn consistency_proof_indexes(old_size: u64, new_size: u64) -> Result<Vec<u64>, MerkleError> {
    Ok(ranges_to_indexes(&consistency_plan(old_size, new_size)?))
}

/// Phase two of [`prove_consistency`].
pub fn consistency_proof_from_hashes(
    old_size: u64,
    new_size: u64,
    hashes: &[Hash],
) -> Result<Vec<Hash>, MerkleError> {
    fold_ranges(&consistency_plan(old_size, new_size)?, hashes)
}

/// The consistency proof from the tree of `old_size` leaves to the tree of
/// `new_size` leaves (`0 < old_size <= new_size`).
pub fn prove_consistency(
    old_size: u64,
    new_size: u64,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    let hashes = read_exact(reader, &consistency_proof_indexes(old_size, new_size)?)?;
    consistency_proof_from_hashes(old_size, new_size, &hashes)
}

/// Splits a proof for leaf `index` of a tree whose last leaf is `last` into
/// the "inner" part (below the point where the paths to `index` and `last`
/// meet) and the "border" part (left siblings along the right edge).
fn decompose(index: u64, last: u64) -> (usize, usize) {
    let inner = (64 - (index ^ last).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    (inner, border)
}

fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, sibling) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, sibling)
        } else {
            node_hash(sibling, &seed)
        };
    }
    seed
}

fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, sibling) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(sibling, &seed);
        }
    }
    seed
}

fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for sibling in proof {
        seed = node_hash(sibling, &seed);
    }
    seed
}

fn expect_root(computed: Hash, expected: &Hash) -> Result<(), MerkleError> {
    if computed == *expected {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch {
            expected: *expected,
            computed,
        })
    }
}

/// Checks that `proof` proves the leaf with hash `leaf` at `index` in the
/// tree of `size` leaves with root `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size - 1);
    if proof.len() != inner + border {
        return Err(MerkleError::WrongProofLength {
            expected: inner + border,
            got: proof.len(),
        });
    }
    let computed = chain_border_right(chain_inner(*leaf, &proof[..inner], index), &proof[inner..]);
    expect_root(computed, root)
}

/// Checks that `proof` proves the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root
/// `new_root` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots. `old_size == 0` is
/// rejected, as Go's `tlog` and transparency-dev/merkle do: the empty tree is
/// a prefix of everything, so there is nothing to prove and a caller that
/// accepts it (a witness at size 0) decides that itself.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), MerkleError> {
    if old_size == 0 || old_size > new_size {
        return Err(MerkleError::BadSizes { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        return expect_root(*new_root, old_root);
    }
    let (inner, border) = decompose(old_size - 1, new_size - 1);
    // The old tree's rightmost perfect subtree of 2^shift leaves is the
    // seed; it is in the proof unless it is the whole old tree.
    let shift = old_size.trailing_zeros() as usize;
    let inner = inner - shift;
    let (seed, rest) = if old_size == 1 << shift {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(MerkleError::WrongProofLength {
                    expected: 1 + inner + border,
                    got: 0,
                });
            }
        }
    };
    if rest.len() != inner + border {
        return Err(MerkleError::WrongProofLength {
            expected: proof.len() - rest.len() + inner + border,
            got: proof.len(),
        });
    }
    let mask = (old_size - 1) >> shift;
    let old_computed = chain_border_right(
        chain_inner_right(seed, &rest[..inner], mask),
        &rest[inner..],
    );
    expect_root(old_computed, old_root)?;
    let new_computed = chain_border_right(chain_inner(seed, &rest[..inner], mask), &rest[inner..]);
    expect_root(new_computed, new_root)
}
