//! The commitment entry that ends every batch (`docs/INDEX.md`, section 4):
//!
//! ```text
//! gazette.index/v1
//! size <N>
//! root <map root, padded base64>
//! ```
//!
//! `N` is the entry's own index: the map covers entries `0 .. N-1`, and so
//! the whole tree of a checkpoint whose last entry it is.
//!
//! ```
//! use gazette_client::index::commitment::IndexCommitment;
//! use gazette_client::Hash;
//! let c = IndexCommitment { size: 41, root: Hash([7; 32]) };
//! assert_eq!(IndexCommitment::parse(&c.to_bytes()), Some(c));
//! assert_eq!(IndexCommitment::parse(b"gazette.index/v1\nsize 041\nroot x\n"), None);
//! ```

use crate::encoding::parse_decimal;
use crate::merkle::Hash;

/// First line of a commitment entry.
pub const HEADER: &str = "gazette.index/v1";
/// Longest commitment entry (the canonical form is at most 91 bytes).
pub const MAX_COMMITMENT_SIZE: usize = 128;

/// A map root and the number of entries it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexCommitment {
    /// Entries covered: `0 .. size-1` (the commitment's own index).
    pub size: u64,
    /// The map root of those entries.
    pub root: Hash,
}

impl IndexCommitment {
    /// The entry's exact bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "{HEADER}\nsize {}\nroot {}\n",
            self.size,
            self.root.to_base64()
        )
        .into_bytes()
    }

    /// Parses a commitment entry in its one canonical form; `None` for any
    /// other entry (a record, or anything else).
    pub fn parse(entry: &[u8]) -> Option<IndexCommitment> {
        if entry.len() > MAX_COMMITMENT_SIZE {
            return None;
        }
        let text = std::str::from_utf8(entry).ok()?;
        let rest = text.strip_prefix(HEADER)?.strip_prefix('\n')?;
        let (size, rest) = rest.strip_prefix("size ")?.split_once('\n')?;
        let (root, rest) = rest.strip_prefix("root ")?.split_once('\n')?;
        if !rest.is_empty() {
            return None;
        }
        let commitment = IndexCommitment {
            size: parse_decimal(size)?,
            root: Hash::from_base64(root)?,
        };
        // Base64 decoding may tolerate a form we would not write.
        (commitment.to_bytes() == entry).then_some(commitment)
    }
}
