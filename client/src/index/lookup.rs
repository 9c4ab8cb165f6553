//! Verifying a proven lookup (`docs/INDEX.md`, section 5): everything a
//! log of a trusted size holds under one key, or that it holds nothing.
//! The one verification path for the CLI, the page and the monitor.

use crate::merkle::{Hash, MerkleError, leaf_hash, verify_inclusion};
use crate::record::SignedRecord;
use crate::registry::SignedRegistryEntry;

use super::commitment::IndexCommitment;
use super::proof::{MapProof, MapProofError};
use super::{ListValue, agency_key, document_key, keys_of, name_key};

/// What is looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupKey {
    /// Every record of a document.
    Document([u8; 32]),
    /// A record name's history: its record and the revocations naming it.
    Name {
        /// The agency's key name.
        issuer: String,
        /// The record's kind.
        kind: String,
        /// The agency's identifier.
        id: String,
    },
    /// An agency's registry entries: its keys' history.
    Agency(String),
}

impl LookupKey {
    /// The map key.
    pub fn key(&self) -> Hash {
        match self {
            LookupKey::Document(digest) => document_key(digest),
            LookupKey::Name { issuer, kind, id } => name_key(issuer, kind, id),
            LookupKey::Agency(agency) => agency_key(agency),
        }
    }
}

/// One entry of the list, as the log sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedEntry {
    /// Its index.
    pub index: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its inclusion proof in the checkpoint's tree.
    pub inclusion: Vec<Hash>,
}

/// Everything the log sends for one lookup against a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupProof {
    /// The commitment: the checkpoint's last entry.
    pub commitment: ListedEntry,
    /// The key's whole list, in index order.
    pub entries: Vec<ListedEntry>,
    /// One map proof per segment of the commitment, in order.
    pub map_proofs: Vec<MapProof>,
}

/// A lookup the proofs establish: these are all the records the log of
/// `size` entries holds under the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenList {
    /// The tree size it holds for.
    pub size: u64,
    /// The records, with their indexes, in index order (a document's or a
    /// name's lookup).
    pub records: Vec<(u64, SignedRecord)>,
    /// The registry entries, with their indexes, in index order (an
    /// agency's lookup).
    pub registry: Vec<(u64, SignedRegistryEntry)>,
}

/// Why a lookup's proofs were refused: the log's answer is not evidence.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The checkpoint's last entry is not a commitment to its tree.
    #[error("entry {index} is not an index commitment of size {index}")]
    NoCommitment {
        /// The entry's index (the checkpoint's size minus one).
        index: u64,
    },
    /// An entry is not included in the checkpoint's tree at its index.
    #[error("entry {index} is not in the checkpoint's tree: {source}")]
    NotIncluded {
        /// The entry.
        index: u64,
        /// Why.
        source: MerkleError,
    },
    /// A listed entry is not filed under the key.
    #[error("entry {index} is not filed under the key looked up")]
    NotFiled {
        /// The entry.
        index: u64,
    },
    /// The list is not in strictly increasing index order, or reaches past
    /// the commitment.
    #[error("the list is out of order or past the commitment at entry {index}")]
    BadOrder {
        /// The entry out of place.
        index: u64,
    },
    /// Not one map proof per segment.
    #[error("{got} map proofs for {segments} segments")]
    ProofCount {
        /// Proofs given.
        got: usize,
        /// Segments in the commitment.
        segments: usize,
    },
    /// A segment's map proof failed: the list is incomplete or wrong.
    #[error("segment {start}..{end}: {source}")]
    Map {
        /// The segment's first entry.
        start: u64,
        /// One past its last.
        end: u64,
        /// Why.
        source: MapProofError,
    },
}

/// Checks `proof` for `key` against a trusted checkpoint of `size` and
/// `root`; returns the records the log holds under the key. The checkpoint
/// must already be verified under the verifier's own policy.
pub fn verify_lookup(
    key: &LookupKey,
    proof: &LookupProof,
    size: u64,
    root: &Hash,
) -> Result<ProvenList, LookupError> {
    let last = size.checked_sub(1);
    let commitment = last
        .filter(|&last| proof.commitment.index == last)
        .and_then(|last| {
            IndexCommitment::parse(&proof.commitment.bytes).filter(|c| c.size == last)
        });
    let Some(commitment) = commitment else {
        return Err(LookupError::NoCommitment {
            index: proof.commitment.index,
        });
    };
    included(&proof.commitment, size, root)?;
    if proof.map_proofs.len() != commitment.segments.len() {
        return Err(LookupError::ProofCount {
            got: proof.map_proofs.len(),
            segments: commitment.segments.len(),
        });
    }
    let map_key = key.key();
    let mut records = Vec::new();
    let mut registry = Vec::new();
    let mut leaves: Vec<(u64, Hash)> = Vec::with_capacity(proof.entries.len());
    for entry in &proof.entries {
        let in_order = leaves
            .last()
            .is_none_or(|(previous, _)| *previous < entry.index);
        if !in_order || entry.index >= commitment.size {
            return Err(LookupError::BadOrder { index: entry.index });
        }
        let not_filed = LookupError::NotFiled { index: entry.index };
        match key {
            LookupKey::Agency(agency) => {
                let signed = SignedRegistryEntry::parse(&entry.bytes)
                    .ok()
                    .filter(|signed| &signed.entry.agency == agency)
                    .ok_or(not_filed)?;
                registry.push((entry.index, signed));
            }
            LookupKey::Document(_) | LookupKey::Name { .. } => {
                let signed = SignedRecord::parse(&entry.bytes)
                    .ok()
                    .filter(|signed| keys_of(&signed.record).contains(&map_key))
                    .ok_or(not_filed)?;
                records.push((entry.index, signed));
            }
        }
        leaves.push((entry.index, included(entry, size, root)?));
    }
    for (segment, map_proof) in commitment.segments.iter().zip(&proof.map_proofs) {
        let part: Vec<(u64, &Hash)> = leaves
            .iter()
            .filter(|(index, _)| segment.covers(*index))
            .map(|(index, hash)| (*index, hash))
            .collect();
        let value = (!part.is_empty()).then(|| ListValue::of(part));
        map_proof
            .verify(&map_key, value.as_ref(), &segment.root)
            .map_err(|source| LookupError::Map {
                start: segment.start,
                end: segment.end,
                source,
            })?;
    }
    Ok(ProvenList {
        size,
        records,
        registry,
    })
}

/// The entry's leaf hash, once its inclusion is verified.
fn included(entry: &ListedEntry, size: u64, root: &Hash) -> Result<Hash, LookupError> {
    let leaf = leaf_hash(&entry.bytes);
    verify_inclusion(&leaf, entry.index, size, &entry.inclusion, root).map_err(|source| {
        LookupError::NotIncluded {
            index: entry.index,
            source,
        }
    })?;
    Ok(leaf)
}
