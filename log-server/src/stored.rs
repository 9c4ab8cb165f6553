//! Reading the committed tree back from storage: tiles for proofs, entries
//! from their bundles, and receipts. Everything is read relative to a
//! checkpoint (entries and proofs to a [`CommittedCheckpoint`], receipts to
//! a [`WitnessedCheckpoint`]), so readers never see more than was
//! acknowledged, and every tile read is authenticated against that
//! checkpoint's root (a damaged file is an error, never a wrong proof).

use gazette_client::merkle::{self, Hash, MerkleError, ReadError};
use gazette_client::tiles::{
    HEIGHT, Tile, TileHashReader, TileLevel, TileReader, parse_entry_bundle, partial_from_wider,
};
use gazette_client::tlog_proof::TlogProof;

use crate::checkpoints::{CommittedCheckpoint, WitnessedCheckpoint};
use crate::storage::Storage;

/// Why the stored tree could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    /// The request is outside the published tree (a 4xx).
    #[error("{0}")]
    OutOfRange(String),
    /// Storage failed or holds something that does not match the checkpoint.
    #[error("{0}")]
    Storage(String),
}

/// Reads `tile` from the store. A partial tile removed once a full or
/// wider tile at its position was written (`crate::pruner`) is cut from
/// that one (its data is a prefix of it), so every tile a published
/// checkpoint implies stays readable.
pub fn read_tile(storage: &dyn Storage, tile: &Tile) -> std::io::Result<Option<Vec<u8>>> {
    if let Some(data) = storage.read(&tile.path())? {
        return Ok(Some(data));
    }
    if tile.is_full() {
        return Ok(None);
    }
    let full = tile.at_full_width();
    // The wider tile was durable before the narrower one was removed.
    let mut wider = storage.partial_widths(&full.path())?;
    wider.retain(|&w| w > tile.width);
    wider.sort_unstable();
    for width in std::iter::once(full.width).chain(wider) {
        if let Some(data) = storage.read(&Tile { width, ..full }.path())? {
            return partial_from_wider(tile, &Tile { width, ..full }, &data)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()));
        }
    }
    Ok(None)
}

/// The store's tiles as a [`TileReader`].
pub struct StoredTiles<'a>(pub &'a dyn Storage);

impl TileReader for StoredTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, ReadError> {
        tiles
            .iter()
            .map(|tile| {
                read_tile(self.0, tile)
                    .map_err(|e| ReadError::new(format!("reading {tile}: {e}")))?
                    .ok_or_else(|| ReadError::new(format!("{tile} is missing")))
            })
            .collect()
    }
}

fn proof_error(err: MerkleError) -> StoredError {
    match err {
        MerkleError::IndexOutOfRange { .. } | MerkleError::BadSizes { .. } => {
            StoredError::OutOfRange(err.to_string())
        }
        other => StoredError::Storage(other.to_string()),
    }
}

/// The tree a read is authenticated against: a checkpoint's size and root.
#[derive(Clone, Copy)]
struct Tree {
    size: u64,
    root: Hash,
}

impl From<&CommittedCheckpoint> for Tree {
    fn from(c: &CommittedCheckpoint) -> Tree {
        Tree {
            size: c.size,
            root: c.root,
        }
    }
}

impl From<&WitnessedCheckpoint> for Tree {
    fn from(c: &WitnessedCheckpoint) -> Tree {
        Tree {
            size: c.size,
            root: c.root,
        }
    }
}

// The messages say "published tree" whichever checkpoint a read is made
// against: they are served as they always were.
fn within(tree: Tree, size: u64) -> Result<(), StoredError> {
    if size > tree.size {
        return Err(StoredError::OutOfRange(format!(
            "size {size} is beyond the published tree of size {}",
            tree.size
        )));
    }
    Ok(())
}

/// The inclusion proof of leaf `index` in the tree of `size` ≤ the
/// committed size, from O(log n) tile reads.
pub fn inclusion_proof(
    storage: &dyn Storage,
    committed: &CommittedCheckpoint,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, StoredError> {
    prove_inclusion(storage, committed.into(), index, size)
}

fn prove_inclusion(
    storage: &dyn Storage,
    tree: Tree,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, StoredError> {
    within(tree, size)?;
    let tiles = StoredTiles(storage);
    let reader = TileHashReader::new(tree.size, tree.root, &tiles);
    merkle::prove_inclusion(index, size, &reader).map_err(proof_error)
}

/// The consistency proof from `old` to `size` ≤ the committed size.
pub fn consistency_proof(
    storage: &dyn Storage,
    committed: &CommittedCheckpoint,
    old: u64,
    size: u64,
) -> Result<Vec<Hash>, StoredError> {
    let tree = Tree::from(committed);
    within(tree, size)?;
    if old == size {
        return Ok(Vec::new());
    }
    let tiles = StoredTiles(storage);
    let reader = TileHashReader::new(tree.size, tree.root, &tiles);
    merkle::prove_consistency(old, size, &reader).map_err(proof_error)
}

/// The exact bytes of entry `index` of the committed tree.
pub fn entry(
    storage: &dyn Storage,
    committed: &CommittedCheckpoint,
    index: u64,
) -> Result<Vec<u8>, StoredError> {
    Ok(entry_and_proof(storage, committed.into(), index)?.0)
}

/// Entry `index` of the witnessed tree, with its inclusion proof in that
/// tree's prefix of `size` entries (`size` ≤ the witnessed size: a
/// verifier may hold an older checkpoint). The entry is checked against
/// the witnessed tree, and the proof comes from tiles authenticated
/// against it.
pub fn witnessed_entry(
    storage: &dyn Storage,
    witnessed: &WitnessedCheckpoint,
    index: u64,
    size: u64,
) -> Result<(Vec<u8>, Vec<Hash>), StoredError> {
    let tree = Tree::from(witnessed);
    if index >= size {
        return Err(StoredError::OutOfRange(format!(
            "index {index} is beyond the tree of size {size}"
        )));
    }
    let (entry, proof) = entry_and_proof(storage, tree, index)?;
    if size == tree.size {
        return Ok((entry, proof));
    }
    Ok((entry, prove_inclusion(storage, tree, index, size)?))
}

/// Hands entries `from..to` of the tree of `size` to `f`, one entry bundle
/// read at a time. Not authenticated against a root: for rebuilding what
/// is derived from the tiles.
pub fn for_each_entry(
    storage: &dyn Storage,
    size: u64,
    from: u64,
    to: u64,
    mut f: impl FnMut(u64, &[u8]),
) -> Result<(), StoredError> {
    let mut next = from;
    while next < to.min(size) {
        let (start, entries) = bundle_entries(storage, size, next >> HEIGHT)?;
        for (i, entry) in entries.iter().enumerate() {
            let index = start + i as u64;
            if (next..to).contains(&index) {
                f(index, entry);
            }
        }
        next = start + entries.len() as u64;
    }
    Ok(())
}

/// The entries of bundle `bundle_index` of the tree of `size`, and the
/// index of its first.
pub fn bundle_entries(
    storage: &dyn Storage,
    size: u64,
    bundle_index: u64,
) -> Result<(u64, Vec<Vec<u8>>), StoredError> {
    let start = bundle_index << HEIGHT;
    let bundle = Tile {
        height: HEIGHT,
        level: TileLevel::Entries,
        index: bundle_index,
        width: (size - start).min(1 << HEIGHT) as u32,
    };
    let path = bundle.path();
    let data = read_tile(storage, &bundle)
        .map_err(|e| StoredError::Storage(format!("reading {path}: {e}")))?
        .ok_or_else(|| StoredError::Storage(format!("{path} is missing")))?;
    let entries = parse_entry_bundle(&bundle, &data)
        .map_err(|e| StoredError::Storage(format!("{path}: {e}")))?;
    Ok((start, entries.iter().map(|e| e.to_vec()).collect()))
}

/// A c2sp.org/tlog-proof@v1 receipt for entry `index` against the witnessed
/// checkpoint, with the entry itself (the signed record) as `extra`.
pub fn receipt(
    storage: &dyn Storage,
    witnessed: &WitnessedCheckpoint,
    index: u64,
) -> Result<TlogProof, StoredError> {
    let (record, proof) = entry_and_proof(storage, witnessed.into(), index)?;
    let checkpoint = String::from_utf8(witnessed.note.clone())
        .map_err(|_| StoredError::Storage("the published checkpoint is not UTF-8".into()))?;
    Ok(TlogProof {
        extra: Some(record),
        index,
        proof,
        checkpoint,
    })
}

/// Entry `index` and its inclusion proof in the tree. Entry bundles are
/// not covered by the hash tiles, so the entry is checked against the tree
/// before it is handed out.
fn entry_and_proof(
    storage: &dyn Storage,
    tree: Tree,
    index: u64,
) -> Result<(Vec<u8>, Vec<Hash>), StoredError> {
    if index >= tree.size {
        return Err(StoredError::OutOfRange(format!(
            "index {index} is beyond the published tree of size {}",
            tree.size
        )));
    }
    let (start, mut entries) = bundle_entries(storage, tree.size, index >> HEIGHT)?;
    let entry = entries.swap_remove((index - start) as usize);
    let proof = prove_inclusion(storage, tree, index, tree.size)?;
    merkle::verify_inclusion(
        &merkle::leaf_hash(&entry),
        index,
        tree.size,
        &proof,
        &tree.root,
    )
    .map_err(|e| StoredError::Storage(format!("entry {index} does not match the tree: {e}")))?;
    Ok((entry, proof))
}
