//! The lookup indexes in sled: rebuildable from the tiles, never the source
//! of truth. Each write also records the tree size the indexes cover, so on
//! start they catch up from the entry bundles (sled's own flush is not
//! durable, sled issue #1452: a crash may lose its latest writes, never the
//! tiles).
//!
//! - `leaf`: leaf hash → index (the same record sent again).
//! - `record`: issuer, kind, id → index, document digest and leaf hash (one
//!   id per issuer and kind; the sequencer's duplicate check).

use std::path::Path;

use gazette_client::merkle::Hash;
use gazette_client::record::SignedRecord;
use gazette_client::tiles::{HEIGHT, Tile, TileLevel, parse_entry_bundle};

use crate::storage::Storage;

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// sled failed.
    #[error("index database: {0}")]
    Sled(#[from] sled::Error),
    /// An entry bundle needed to catch up is missing or malformed.
    #[error("catching up the index from {path}: {reason}")]
    Bundle {
        /// The bundle's path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Storage failed.
    #[error("storage: {0}")]
    Io(#[from] std::io::Error),
}

/// Where an earlier record with the same (issuer, kind, id) sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSlot {
    /// Its index.
    pub index: u64,
    /// Its document digest.
    pub digest: [u8; 32],
    /// Its leaf hash.
    pub leaf_hash: Hash,
}

impl RecordSlot {
    fn to_bytes(self) -> Vec<u8> {
        let mut value = self.index.to_be_bytes().to_vec();
        value.extend_from_slice(&self.digest);
        value.extend_from_slice(&self.leaf_hash.0);
        value
    }

    fn from_bytes(value: &[u8]) -> Option<RecordSlot> {
        let (index, rest) = value.split_at_checked(8)?;
        let (digest, leaf_hash) = rest.split_at_checked(32)?;
        Some(RecordSlot {
            index: u64::from_be_bytes(index.try_into().ok()?),
            digest: digest.try_into().ok()?,
            leaf_hash: Hash::from_slice(leaf_hash)?,
        })
    }
}

/// The sled indexes.
pub struct Index {
    db: sled::Db,
    leaf: sled::Tree,
    record: sled::Tree,
}

const COVERED: &[u8] = b"covered-size";

/// The `record` index key: the three fields, NUL-separated (none may hold NUL).
pub fn record_key(issuer: &str, kind: &str, id: &str) -> Vec<u8> {
    [issuer.as_bytes(), kind.as_bytes(), id.as_bytes()].join(&0u8)
}

impl Index {
    /// Opens (creating) the indexes in `dir`.
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        // Throughput mode: the index is rebuilt from the tiles after a crash,
        // so sled may trade space for write speed.
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        Ok(Index {
            leaf: db.open_tree("leaf")?,
            record: db.open_tree("record")?,
            db,
        })
    }

    /// The tree size the indexes cover.
    pub fn covered(&self) -> Result<u64, IndexError> {
        Ok(self
            .db
            .get(COVERED)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// The index of the leaf with this hash, if logged.
    pub fn leaf(&self, hash: &Hash) -> Result<Option<u64>, IndexError> {
        Ok(self
            .leaf
            .get(hash.0)?
            .and_then(|v| Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))))
    }

    /// The record logged under this key, if any.
    pub fn record(&self, key: &[u8]) -> Result<Option<RecordSlot>, IndexError> {
        Ok(self
            .record
            .get(key)?
            .and_then(|v| RecordSlot::from_bytes(&v)))
    }

    /// Adds already-parsed entries `first..first+count` (`items` are the
    /// ones that are records) and moves the covered size to their end.
    pub fn add_items(
        &self,
        first: u64,
        count: u64,
        items: &[(Vec<u8>, RecordSlot)],
    ) -> Result<(), IndexError> {
        let mut leaves = sled::Batch::default();
        let mut records = sled::Batch::default();
        for (key, slot) in items {
            leaves.insert(&slot.leaf_hash.0, &slot.index.to_be_bytes());
            records.insert(key.as_slice(), slot.to_bytes());
        }
        self.leaf.apply_batch(leaves)?;
        self.record.apply_batch(records)?;
        self.db.insert(COVERED, &(first + count).to_be_bytes())?;
        Ok(())
    }

    /// Adds the raw entries at `first..first+entries.len()`.
    pub fn add(&self, first: u64, entries: &[Vec<u8>]) -> Result<(), IndexError> {
        // Every logged entry was a valid record when accepted; anything else
        // (a log shared with other writers) is simply not indexed.
        let items: Vec<(Vec<u8>, RecordSlot)> = entries
            .iter()
            .enumerate()
            .filter_map(|(i, entry)| {
                let signed = SignedRecord::parse(entry).ok()?;
                let r = &signed.record;
                let slot = RecordSlot {
                    index: first + i as u64,
                    digest: r.digest,
                    leaf_hash: signed.leaf_hash(),
                };
                Some((record_key(&r.issuer, &r.kind, &r.id), slot))
            })
            .collect();
        self.add_items(first, entries.len() as u64, &items)
    }

    /// Brings the indexes up to `size` from the entry bundles.
    pub fn catch_up(&self, storage: &dyn Storage, size: u64) -> Result<(), IndexError> {
        let mut covered = self.covered()?;
        if covered > size {
            // The tree on disk is older than the index (restored from a
            // backup): start again.
            self.clear()?;
            covered = 0;
        }
        while covered < size {
            let bundle_index = covered >> HEIGHT;
            let start = bundle_index << HEIGHT;
            let width = (size - start).min(1 << HEIGHT) as u32;
            let bundle = Tile {
                height: HEIGHT,
                level: TileLevel::Entries,
                index: bundle_index,
                width,
            };
            let path = bundle.path();
            let data = storage.read(&path)?.ok_or_else(|| IndexError::Bundle {
                path: path.clone(),
                reason: "missing".to_owned(),
            })?;
            let entries = parse_entry_bundle(&bundle, &data).map_err(|e| IndexError::Bundle {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let skip = (covered - start) as usize;
            let entries: Vec<Vec<u8>> = entries[skip..].iter().map(|e| e.to_vec()).collect();
            self.add(covered, &entries)?;
            covered = start + u64::from(width);
        }
        Ok(())
    }

    /// Empties every index (for `reindex`).
    pub fn clear(&self) -> Result<(), IndexError> {
        self.leaf.clear()?;
        self.record.clear()?;
        self.db.remove(COVERED)?;
        Ok(())
    }

    /// Flushes sled (best effort; durability comes from the tiles).
    pub fn flush(&self) -> Result<(), IndexError> {
        self.db.flush()?;
        Ok(())
    }
}
