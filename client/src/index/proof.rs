//! A proof for one key of the map (`docs/INDEX.md`, section 3): the
//! subtree where the key's path ends (empty, the key's own leaf, or
//! another key's leaf) and the sibling hashes on the way down.
//!
//! Encoding: a terminal byte (0x00 empty, 0x01 this key, 0x02 another key,
//! followed by its key and value), the depth as a big-endian `u16`, a
//! bitmap of the non-empty siblings, then those siblings from the root
//! down. Every proof has exactly one encoding.

use crate::merkle::Hash;

use super::{EMPTY, ListValue};

/// Deepest a key's path goes: keys are 256 bits.
pub const MAX_DEPTH: usize = 256;
/// Longest encoded proof: 1 + 64 + 2 + 32 + 256 × 32 bytes.
pub const MAX_PROOF_SIZE: usize = 1 + 64 + 2 + MAX_DEPTH / 8 + MAX_DEPTH * 32;

/// Where a key's path ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminal {
    /// An empty subtree: the key is absent.
    Empty,
    /// The key's own leaf: it is present (its value comes with its list).
    Present,
    /// Another key's leaf, on the same path: the key is absent.
    Other {
        /// That key.
        key: Hash,
        /// Its value.
        value: ListValue,
    },
}

/// A proof for one key against a map root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapProof {
    /// Where the path ends.
    pub terminal: Terminal,
    /// The siblings from the root (depth 0) down; their number is the
    /// terminal's depth.
    pub siblings: Vec<Hash>,
}

/// Why a map proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapProofError {
    /// The bytes are not a proof in its one encoding.
    #[error("malformed map proof: {0}")]
    Malformed(&'static str),
    /// A presence proof was given where absence was claimed, or the reverse.
    #[error("the map proof shows the key {shows}, not {claimed}")]
    WrongKind {
        /// What the proof shows: "present" or "absent".
        shows: &'static str,
        /// What was claimed.
        claimed: &'static str,
    },
    /// The other leaf of an absence proof is the key itself, or is not on
    /// its path.
    #[error("the map proof's other leaf {other} is {why}")]
    BadOther {
        /// The other leaf's key.
        other: Hash,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The proof leads to another root.
    #[error("the map proof gives root {computed}, not {expected}")]
    RootMismatch {
        /// The root the proof computes.
        computed: Hash,
        /// The root it was checked against.
        expected: Hash,
    },
}

/// The first byte of a map leaf's hash input. Map hashes start with bytes
/// RFC 6962 never uses (0x00 leaves, 0x01 nodes), so no map hash is ever
/// a hash of the log's own tree.
pub const LEAF_PREFIX: u8 = 0x02;
/// The first byte of a map inner node's hash input.
pub const NODE_PREFIX: u8 = 0x03;

/// The hash of a leaf: `SHA-256(0x02 || key || value)`.
pub fn leaf_node_hash(key: &Hash, value: &ListValue) -> Hash {
    hash3(LEAF_PREFIX, key, &value.0)
}

/// The hash of an inner node: `SHA-256(0x03 || left || right)`.
pub fn inner_node_hash(left: &Hash, right: &Hash) -> Hash {
    hash3(NODE_PREFIX, left, right)
}

fn hash3(prefix: u8, a: &Hash, b: &Hash) -> Hash {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update([prefix]);
    h.update(a.0);
    h.update(b.0);
    Hash(h.finalize().into())
}

/// Bit `depth` of `key`, most significant bit of byte 0 first.
pub fn bit(key: &Hash, depth: usize) -> bool {
    key.0[depth / 8] & (0x80 >> (depth % 8)) != 0
}

/// Whether `a` and `b` agree on their first `bits` bits.
fn share_prefix(a: &Hash, b: &Hash, bits: usize) -> bool {
    (0..bits).all(|t| bit(a, t) == bit(b, t))
}

impl MapProof {
    /// Checks the proof for `key` against `root`: present with `value`
    /// when `value` is given, absent otherwise.
    pub fn verify(
        &self,
        key: &Hash,
        value: Option<&ListValue>,
        root: &Hash,
    ) -> Result<(), MapProofError> {
        let depth = self.siblings.len();
        let mut x = match (&self.terminal, value) {
            (Terminal::Present, Some(value)) => leaf_node_hash(key, value),
            (Terminal::Empty, None) => EMPTY,
            (Terminal::Other { key: other, value }, None) => {
                if other == key {
                    return Err(MapProofError::BadOther {
                        other: *other,
                        why: "the key itself",
                    });
                }
                if !share_prefix(other, key, depth) {
                    return Err(MapProofError::BadOther {
                        other: *other,
                        why: "not on the key's path",
                    });
                }
                leaf_node_hash(other, value)
            }
            (Terminal::Present, None) => {
                return Err(MapProofError::WrongKind {
                    shows: "present",
                    claimed: "absent",
                });
            }
            (_, Some(_)) => {
                return Err(MapProofError::WrongKind {
                    shows: "absent",
                    claimed: "present",
                });
            }
        };
        for t in (0..depth).rev() {
            let sibling = &self.siblings[t];
            x = if bit(key, t) {
                inner_node_hash(sibling, &x)
            } else {
                inner_node_hash(&x, sibling)
            };
        }
        if x != *root {
            return Err(MapProofError::RootMismatch {
                computed: x,
                expected: *root,
            });
        }
        Ok(())
    }

    /// The proof's one encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let depth = self.siblings.len();
        let mut out = Vec::with_capacity(67 + depth.div_ceil(8) + depth * 32);
        match &self.terminal {
            Terminal::Empty => out.push(0x00),
            Terminal::Present => out.push(0x01),
            Terminal::Other { key, value } => {
                out.push(0x02);
                out.extend_from_slice(&key.0);
                out.extend_from_slice(&value.0.0);
            }
        }
        out.extend_from_slice(&(depth as u16).to_be_bytes());
        let mut bitmap = vec![0u8; depth.div_ceil(8)];
        for (t, sibling) in self.siblings.iter().enumerate() {
            if *sibling != EMPTY {
                bitmap[t / 8] |= 0x80 >> (t % 8);
            }
        }
        out.extend_from_slice(&bitmap);
        for sibling in self.siblings.iter().filter(|s| **s != EMPTY) {
            out.extend_from_slice(&sibling.0);
        }
        out
    }

    /// Parses a proof; anything but its one encoding is refused.
    pub fn parse(bytes: &[u8]) -> Result<MapProof, MapProofError> {
        use MapProofError::Malformed;
        if bytes.len() > MAX_PROOF_SIZE {
            return Err(Malformed("longer than any proof"));
        }
        let mut r = Reader(bytes);
        let terminal = match r.take(1).ok_or(Malformed("empty"))?[0] {
            0x00 => Terminal::Empty,
            0x01 => Terminal::Present,
            0x02 => Terminal::Other {
                key: r.hash().ok_or(Malformed("truncated other leaf"))?,
                value: ListValue(r.hash().ok_or(Malformed("truncated other leaf"))?),
            },
            _ => return Err(Malformed("unknown terminal")),
        };
        let depth = r.take(2).ok_or(Malformed("truncated depth"))?;
        let depth = usize::from(u16::from_be_bytes([depth[0], depth[1]]));
        if depth > MAX_DEPTH {
            return Err(Malformed("deeper than 256"));
        }
        let bitmap = r
            .take(depth.div_ceil(8))
            .ok_or(Malformed("truncated bitmap"))?;
        if depth % 8 != 0 && bitmap[depth / 8] & (0xff >> (depth % 8)) != 0 {
            return Err(Malformed("bitmap bit set past the depth"));
        }
        let mut siblings = Vec::with_capacity(depth);
        for t in 0..depth {
            if bitmap[t / 8] & (0x80 >> (t % 8)) == 0 {
                siblings.push(EMPTY);
                continue;
            }
            let sibling = r.hash().ok_or(Malformed("truncated siblings"))?;
            if sibling == EMPTY {
                return Err(Malformed("an empty sibling written out"));
            }
            siblings.push(sibling);
        }
        if !r.0.is_empty() {
            return Err(Malformed("trailing bytes"));
        }
        Ok(MapProof { terminal, siblings })
    }
}

/// A cursor over the proof's bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn hash(&mut self) -> Option<Hash> {
        Hash::from_slice(self.take(32)?)
    }
}
