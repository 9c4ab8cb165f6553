//! The commitment entry that ends every batch (`docs/INDEX.md`, section 4):
//!
//! ```text
//! gazette.index/v1
//! size <N>
//! <end_1> <root_1>
//! ...
//! <end_m> <root_m>
//! ```
//!
//! `N` is the entry's own index: the map covers entries `0 .. N-1`, cut
//! into segments, segment `j` covering `end_{j-1} .. end_j - 1`.
//!
//! ```
//! use gazette_client::index::commitment::{IndexCommitment, Segment};
//! use gazette_client::Hash;
//! let c = IndexCommitment {
//!     size: 41,
//!     segments: vec![Segment { start: 0, end: 40, root: Hash([7; 32]) },
//!                    Segment { start: 40, end: 41, root: Hash([8; 32]) }],
//! };
//! assert_eq!(IndexCommitment::parse(&c.to_bytes()), Some(c));
//! assert_eq!(IndexCommitment::parse(b"gazette.index/v1\nsize 041\n"), None);
//! ```

use crate::encoding::parse_decimal;
use crate::merkle::Hash;

/// First line of a commitment entry.
pub const HEADER: &str = "gazette.index/v1";
/// Most segments one commitment lists.
pub const MAX_SEGMENTS: usize = 64;
/// Longest commitment entry.
pub const MAX_COMMITMENT_SIZE: usize = 8192;

/// One segment: a range of entries and the root of the keys they file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First entry covered.
    pub start: u64,
    /// One past the last entry covered.
    pub end: u64,
    /// The segment root.
    pub root: Hash,
}

impl Segment {
    /// Whether entry `index` is in this segment's range.
    pub fn covers(&self, index: u64) -> bool {
        (self.start..self.end).contains(&index)
    }
}

/// The map of entries `0 .. size-1`, as its segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexCommitment {
    /// Entries covered: `0 .. size-1` (the commitment's own index).
    pub size: u64,
    /// The segments, in order, covering `0 .. size-1` exactly.
    pub segments: Vec<Segment>,
}

impl IndexCommitment {
    /// The entry's exact bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = format!("{HEADER}\nsize {}\n", self.size);
        for s in &self.segments {
            text.push_str(&format!("{} {}\n", s.end, s.root.to_base64()));
        }
        text.into_bytes()
    }

    /// Parses a commitment entry in its one canonical form; `None` for any
    /// other entry (a record, or anything else).
    pub fn parse(entry: &[u8]) -> Option<IndexCommitment> {
        if entry.len() > MAX_COMMITMENT_SIZE {
            return None;
        }
        let text = std::str::from_utf8(entry).ok()?.strip_suffix('\n')?;
        let mut lines = text.split('\n');
        if lines.next()? != HEADER {
            return None;
        }
        let size = parse_decimal(lines.next()?.strip_prefix("size ")?)?;
        let mut segments = Vec::new();
        let mut start = 0;
        for line in lines {
            if segments.len() == MAX_SEGMENTS {
                return None;
            }
            let (end, root) = line.split_once(' ')?;
            let end = parse_decimal(end)?;
            if end <= start {
                return None;
            }
            segments.push(Segment {
                start,
                end,
                root: Hash::from_base64(root)?,
            });
            start = end;
        }
        if start != size {
            return None;
        }
        let commitment = IndexCommitment { size, segments };
        // Base64 decoding may tolerate a form we would not write.
        (commitment.to_bytes() == entry).then_some(commitment)
    }
}
