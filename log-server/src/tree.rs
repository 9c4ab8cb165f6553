//! The right edge of the tree, in memory: the current partial tile of each
//! level and the current partial entry bundle. That is all the sequencer
//! needs to append leaves, write the changed tiles and compute the new root,
//! so its memory stays bounded however large the log grows.

use std::collections::HashMap;

use gazette_client::merkle::{self, Hash, leaf_hash, tree_hash_indexes};
use gazette_client::tiles::{
    self, HEIGHT, Tile, TileLevel, format_entry_bundle, hash_from_tile, new_tiles,
    parse_entry_bundle, subtree_root, tile_for_index,
};

use crate::storage::Storage;

const FULL: usize = 1 << HEIGHT;

/// Why the stored tree could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// A tile the checkpoint implies is missing.
    #[error("tile {path} implied by the checkpoint of size {size} is missing")]
    MissingTile {
        /// The tile's path.
        path: String,
        /// The checkpoint size.
        size: u64,
    },
    /// A stored tile or bundle is malformed.
    #[error("stored {path} is malformed: {reason}")]
    BadTile {
        /// The object's path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The tiles do not hash to the checkpoint's root.
    #[error("stored tiles hash to {computed}, the checkpoint of size {size} says {expected}")]
    RootMismatch {
        /// The checkpoint size.
        size: u64,
        /// Root in the checkpoint.
        expected: Hash,
        /// Root of the stored tiles.
        computed: Hash,
    },
    /// An entry exceeds what an entry bundle can hold.
    #[error("entry of {len} bytes does not fit an entry bundle")]
    EntryTooLarge {
        /// Its length.
        len: usize,
    },
    /// The storage failed.
    #[error("storage: {0}")]
    Io(#[from] std::io::Error),
}

/// The right edge of a tree of `size` leaves.
#[derive(Clone, Debug)]
pub struct Edge {
    size: u64,
    /// `levels[L]`: the hashes (32 bytes each) of the partial tile at level L.
    levels: Vec<Vec<u8>>,
    /// The partial entry bundle, as stored (each entry after its length),
    /// so that no entry is copied twice; `bundled` entries.
    bundle: Vec<u8>,
    bundled: usize,
}

fn tile_at(level: usize, index: u64, width: usize) -> Tile {
    Tile {
        height: HEIGHT,
        level: TileLevel::Hashes(level as u8),
        index,
        width: width as u32,
    }
}

/// Hashes at tree level `8·level` in a tree of `size` leaves.
fn count_at(size: u64, level: usize) -> u64 {
    let shift = HEIGHT as usize * level;
    if shift >= 64 { 0 } else { size >> shift }
}

impl Edge {
    /// The empty tree.
    pub fn empty() -> Edge {
        Edge {
            size: 0,
            levels: Vec::new(),
            bundle: Vec::new(),
            bundled: 0,
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right edge's partial tiles and bundle as objects to store, with
    /// their paths: what [`Edge::load`] reads.
    pub fn partial_tiles(&self) -> Vec<(String, Vec<u8>)> {
        let mut objects = Vec::new();
        for (level, data) in self.levels.iter().enumerate() {
            let count = count_at(self.size, level);
            let width = (count % FULL as u64) as usize;
            if width > 0 {
                objects.push((
                    tile_at(level, count / FULL as u64, width).path(),
                    data.clone(),
                ));
            }
        }
        let width = (self.size % FULL as u64) as usize;
        if width > 0 {
            let bundle = tile_at(0, self.size / FULL as u64, width).entries();
            objects.push((bundle.path(), self.bundle.clone()));
        }
        objects
    }

    /// Loads the right edge of the stored tree of `size` leaves and checks
    /// it hashes to `root`.
    pub fn load(storage: &dyn Storage, size: u64, root: &Hash) -> Result<Edge, TreeError> {
        let mut edge = Edge {
            size,
            levels: Vec::new(),
            bundle: Vec::new(),
            bundled: 0,
        };
        let mut level = 0;
        while count_at(size, level) > 0 {
            let count = count_at(size, level);
            let width = (count % FULL as u64) as usize;
            let mut data = Vec::new();
            if width > 0 {
                let tile = tile_at(level, count / FULL as u64, width);
                data = read_object(storage, &tile, size)?;
                if data.len() != width * Hash::LEN {
                    return Err(bad(
                        &tile.path(),
                        format!("{} bytes for width {width}", data.len()),
                    ));
                }
            }
            edge.levels.push(data);
            level += 1;
        }
        let width = (size % FULL as u64) as usize;
        if width > 0 {
            let bundle = tile_at(0, size / FULL as u64, width).entries();
            let data = read_object(storage, &bundle, size)?;
            let entries = parse_entry_bundle(&bundle, &data)
                .map_err(|e| bad(&bundle.path(), e.to_string()))?;
            let tile = tile_at(0, bundle.index, width);
            tiles::check_bundle_against_tile(&bundle, &entries, &edge.levels[0])
                .map_err(|e| bad(&tile.path(), e.to_string()))?;
            edge.bundled = entries.len();
            edge.bundle = format_entry_bundle(entries).expect("entries read from a bundle fit");
        }
        let computed = edge.root();
        if computed != *root {
            return Err(TreeError::RootMismatch {
                size,
                expected: *root,
                computed,
            });
        }
        Ok(edge)
    }

    /// The root of the tree, from the edge alone.
    pub fn root(&self) -> Hash {
        let indexes = tree_hash_indexes(self.size).expect("sizes stay below 2^62");
        let parts: Vec<Hash> = indexes
            .iter()
            .map(|&index| {
                let (tile, _) = tile_for_index(HEIGHT, index);
                let level = tile.hash_level().expect("hash tile") as usize;
                let data = &self.levels[level];
                let edge_tile = tile_at(level, tile.index, data.len() / Hash::LEN);
                hash_from_tile(&edge_tile, data, index).expect("root parts lie in the edge tiles")
            })
            .collect();
        merkle::tree_hash_from_hashes(self.size, &parts).expect("one part per index")
    }

    /// Appends `entries`, returning the objects to write (every tile and
    /// bundle that changed, as `(path, bytes)`). On error nothing changed.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<Vec<(String, Vec<u8>)>, TreeError> {
        let hashes: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        self.append_hashed(entries, &hashes)
    }

    /// [`Edge::append`] for entries whose leaf hashes the caller has
    /// (`leaf_hashes[i]` of `entries[i]`: not checked).
    pub fn append_hashed(
        &mut self,
        entries: &[Vec<u8>],
        leaf_hashes: &[Hash],
    ) -> Result<Vec<(String, Vec<u8>)>, TreeError> {
        if let Some(big) = entries.iter().find(|e| e.len() > usize::from(u16::MAX)) {
            return Err(TreeError::EntryTooLarge { len: big.len() });
        }
        assert_eq!(entries.len(), leaf_hashes.len(), "one leaf hash per entry");
        let old_size = self.size;
        let mut completed: HashMap<Tile, Vec<u8>> = HashMap::new();
        for (entry, &leaf) in entries.iter().zip(leaf_hashes) {
            let len = u16::try_from(entry.len()).expect("checked above");
            self.bundle.extend_from_slice(&len.to_be_bytes());
            self.bundle.extend_from_slice(entry);
            self.bundled += 1;
            let size = self.size + 1;
            if self.bundled == FULL {
                let bundle = tile_at(0, size / FULL as u64 - 1, FULL).entries();
                completed.insert(bundle, std::mem::take(&mut self.bundle));
                self.bundled = 0;
            }
            let mut hash = leaf;
            let mut level = 0;
            loop {
                if self.levels.len() == level {
                    self.levels.push(Vec::new());
                }
                self.levels[level].extend_from_slice(&hash.0);
                if self.levels[level].len() < FULL * Hash::LEN {
                    break;
                }
                // A full tile: write it whole, and carry its root up a level.
                let index = count_at(size, level) / FULL as u64 - 1;
                let tile = tile_at(level, index, FULL);
                let data = std::mem::take(&mut self.levels[level]);
                hash = subtree_root(&data).expect("a full tile has 256 hashes");
                completed.insert(tile, data);
                level += 1;
            }
            self.size = size;
        }
        let mut objects = Vec::new();
        for tile in new_tiles(HEIGHT, old_size, self.size) {
            let level = tile.hash_level().expect("hash tile") as usize;
            let (data, bundle) = match completed.remove(&tile) {
                Some(data) => (data, completed.remove(&tile.entries())),
                None => (
                    self.levels[level].clone(),
                    (level == 0).then(|| self.bundle.clone()),
                ),
            };
            objects.push((tile.path(), data));
            if let Some(bundle) = bundle {
                objects.push((tile.entries().path(), bundle));
            }
        }
        Ok(objects)
    }
}

fn bad(path: &str, reason: String) -> TreeError {
    TreeError::BadTile {
        path: path.to_owned(),
        reason,
    }
}

/// A right-edge tile: as stored, or cut from a wider tile at its position
/// (`stored::read_tile`: a copy taken while the log ran may hold only a
/// wider one).
fn read_object(storage: &dyn Storage, tile: &Tile, size: u64) -> Result<Vec<u8>, TreeError> {
    crate::stored::read_tile(storage, tile)?.ok_or_else(|| TreeError::MissingTile {
        path: tile.path(),
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::FsStorage;

    fn entry(i: u64) -> Vec<u8> {
        format!("entry {i}").into_bytes()
    }

    #[test]
    fn appended_tiles_match_the_reference_tree_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let storage = FsStorage::open(dir.path()).unwrap();
        let mut edge = Edge::empty();
        let mut stored: Vec<Hash> = Vec::new();
        let mut next = 0u64;
        for batch in [1usize, 7, 248, 1, 300, 65_000, 900] {
            let entries: Vec<Vec<u8>> = (next..next + batch as u64).map(entry).collect();
            for (i, e) in entries.iter().enumerate() {
                let new =
                    merkle::stored_hashes_for_leaf(next + i as u64, leaf_hash(e), &stored).unwrap();
                stored.extend(new);
            }
            next += batch as u64;
            let objects = edge.append(&entries).unwrap();
            for (path, data) in &objects {
                let tile = Tile::parse_path(path).unwrap();
                if tile.level == TileLevel::Entries {
                    continue;
                }
                assert_eq!(
                    *data,
                    tiles::read_tile_data(&tile, &stored).unwrap(),
                    "{path}"
                );
            }
            let root = merkle::tree_hash(next, &stored).unwrap();
            assert_eq!(edge.root(), root);
            storage.commit(&objects, b"unused").unwrap();
            let reloaded = Edge::load(&storage, next, &root).unwrap();
            assert_eq!(reloaded.root(), root);
            assert_eq!(reloaded.bundle, edge.bundle);
            assert_eq!(reloaded.bundled, edge.bundled);
        }
    }
}
