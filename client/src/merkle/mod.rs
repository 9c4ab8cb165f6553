//! RFC 6962 / RFC 9162 Merkle trees over SHA-256.
//!
//! Hashing ([`leaf_hash`], [`node_hash`]), the stored-hash layout used by Go's
//! `sumdb/tlog` ([`stored_hash_index`]), proof generation over a
//! [`HashReader`] and proof verification.
//!
//! Generation runs in two phases so that a reader backed by disk, tiles or
//! the network is asked once per proof: first compute which stored hashes a
//! proof needs (for example [`inclusion_proof_indexes`]), then read them in
//! one batch and fold them ([`inclusion_proof_from_hashes`]). The
//! one-call forms ([`prove_inclusion`], [`prove_consistency`], [`tree_hash`])
//! do both for a synchronous reader.
//!
//! ```
//! use gazette_client::merkle::{leaf_hash, node_hash, verify_inclusion};
//! let a = leaf_hash(b"a");
//! let b = leaf_hash(b"b");
//! let root = node_hash(&a, &b);
//! verify_inclusion(&b, 1, 2, &[a], &root).unwrap();
//! ```

mod proof;
mod stored;

pub use proof::{
    consistency_proof_from_hashes, consistency_proof_indexes, inclusion_proof_from_hashes,
    inclusion_proof_indexes, prove_consistency, prove_inclusion, verify_consistency,
    verify_inclusion,
};
pub use stored::{
    split_stored_hash_index, stored_hash_count, stored_hash_index, stored_hashes_for_leaf,
    stored_hashes_for_leaf_indexes, tree_hash, tree_hash_from_hashes, tree_hash_indexes,
};

use sha2::{Digest, Sha256};

use crate::encoding::{b64_decode, b64_encode, hex_encode};

/// A SHA-256 hash: a leaf hash, an interior node or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Size of a hash in bytes.
    pub const LEN: usize = 32;

    /// Decodes standard padded base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Option<Hash> {
        Hash::from_slice(&b64_decode(text)?)
    }

    /// Copies exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        Some(Hash(bytes.try_into().ok()?))
    }

    /// Standard padded base64, as in checkpoints and proofs.
    pub fn to_base64(&self) -> String {
        b64_encode(&self.0)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

/// `MTH([]) = SHA-256("")`, the root of the empty tree.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(entry);
    Hash(hasher.finalize().into())
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// Reads stored hashes by their [`stored_hash_index`].
///
/// Implementations answer a whole batch at once, in the order asked; the
/// proof functions ask exactly once per proof.
pub trait HashReader {
    /// Returns the hashes at `indexes`, in the same order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError>;
}

impl HashReader for [Hash] {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.get(i).copied())
                    .ok_or_else(|| ReadError::new(format!("stored hash {i} not present")))
            })
            .collect()
    }
}

impl HashReader for Vec<Hash> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError> {
        self.as_slice().read_hashes(indexes)
    }
}

/// The failure of a [`HashReader`], carrying the reader's own error.
#[derive(Debug, thiserror::Error)]
#[error("reading stored hashes: {0}")]
pub struct ReadError(pub Box<dyn std::error::Error + Send + Sync>);

impl ReadError {
    /// Wraps any error (or message) from a reader.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ReadError {
        ReadError(err.into())
    }
}

/// Why a proof could not be generated or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof between these sizes is undefined.
    #[error("no consistency proof from size {old_size} to size {new_size}")]
    BadSizes {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
    },
    /// The tree is larger than the stored-hash arithmetic supports (2^62).
    #[error("tree size {size} exceeds the supported maximum of 2^62")]
    TreeTooLarge {
        /// The tree size asked for.
        size: u64,
    },
    /// The proof has the wrong number of hashes for its index and sizes.
    #[error("proof has {got} hashes, expected {expected}")]
    WrongProofLength {
        /// Hashes the index and sizes call for.
        expected: usize,
        /// Hashes the proof has.
        got: usize,
    },
    /// The proof recomputes a different root than the one claimed.
    #[error("proof computes root {computed}, expected {expected}")]
    RootMismatch {
        /// The claimed root.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
    /// The stored-hash reader failed or answered with the wrong count.
    #[error(transparent)]
    Read(#[from] ReadError),
}
