//! The sled indexes: rebuildable from the tiles, never the source of truth.
//! Each index is its own sled database and records the tree size it covers,
//! so on start it catches up from the entry bundles (sled's own flush is not
//! durable, sled issue #1452: a crash may lose its latest writes, never the
//! tiles).
//!
//! - [`RecordIndex`] (`<data>/index`): issuer, kind, id → index, document
//!   digest and leaf hash. The sequencer's duplicate check, written by the
//!   sequencer thread alone before the next batch is sequenced.
//! - [`LookupIndex`] (`<data>/lookup`): leaf hash → index, for readers.
//!   Written by the [`crate::indexer`] thread behind the sequencer, in a
//!   database of its own so that its random-key writes never slow the
//!   sequencer's lookups (measured in docs/BENCHMARKS.md).

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

/// One durable batch's records, for the indexes.
#[derive(Clone, Debug)]
pub struct IndexBatch {
    /// The batch's first entry index.
    pub first: u64,
    /// How many entries it added.
    pub count: u64,
    /// Its records' keys and slots.
    pub items: Vec<(Vec<u8>, RecordSlot)>,
}

/// What an index keeps, written batch by batch.
pub trait Trees: Sized {
    /// Opens (creating) its trees in `db`.
    fn open(db: &sled::Db) -> Result<Self, IndexError>;
    /// Writes the slots of one batch of records.
    fn write(&self, items: &[(Vec<u8>, RecordSlot)]) -> Result<(), IndexError>;
    /// Empties every tree.
    fn clear(&self) -> Result<(), IndexError>;
}

/// One sled database of indexes and the tree size they cover.
pub struct Index<T> {
    db: sled::Db,
    trees: T,
}

/// The sequencer's duplicate check: issuer, kind, id → [`RecordSlot`].
pub type RecordIndex = Index<Records>;
/// The readers' lookups: leaf hash → index.
pub type LookupIndex = Index<Lookups>;

/// The trees of [`RecordIndex`].
pub struct Records {
    record: sled::Tree,
}

impl Trees for Records {
    fn open(db: &sled::Db) -> Result<Self, IndexError> {
        // Older data directories kept the leaf hashes here too.
        db.drop_tree("leaf")?;
        Ok(Records {
            record: db.open_tree("record")?,
        })
    }

    fn write(&self, items: &[(Vec<u8>, RecordSlot)]) -> Result<(), IndexError> {
        let mut records = sled::Batch::default();
        for (key, slot) in items {
            records.insert(key.as_slice(), slot.to_bytes());
        }
        self.record.apply_batch(records)?;
        Ok(())
    }

    fn clear(&self) -> Result<(), IndexError> {
        self.record.clear()?;
        Ok(())
    }
}

/// The trees of [`LookupIndex`].
pub struct Lookups {
    leaf: sled::Tree,
}

impl Trees for Lookups {
    fn open(db: &sled::Db) -> Result<Self, IndexError> {
        Ok(Lookups {
            leaf: db.open_tree("leaf")?,
        })
    }

    fn write(&self, items: &[(Vec<u8>, RecordSlot)]) -> Result<(), IndexError> {
        let mut leaves = sled::Batch::default();
        for (_, slot) in items {
            leaves.insert(&slot.leaf_hash.0, &slot.index.to_be_bytes());
        }
        self.leaf.apply_batch(leaves)?;
        Ok(())
    }

    fn clear(&self) -> Result<(), IndexError> {
        self.leaf.clear()?;
        Ok(())
    }
}

const COVERED: &[u8] = b"covered-size";

/// The `record` index key: the three fields, NUL-separated (none may hold NUL).
pub fn record_key(issuer: &str, kind: &str, id: &str) -> Vec<u8> {
    [issuer.as_bytes(), kind.as_bytes(), id.as_bytes()].join(&0u8)
}

/// The index slots of raw entries `first..`: every logged entry was a valid
/// record when accepted; anything else (a log shared with other writers)
/// is simply not indexed.
pub fn slots(first: u64, entries: &[&[u8]]) -> Vec<(Vec<u8>, RecordSlot)> {
    entries
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
        .collect()
}

impl Index<Records> {
    /// The record logged under this key, if any.
    pub fn record(&self, key: &[u8]) -> Result<Option<RecordSlot>, IndexError> {
        Ok(self
            .trees
            .record
            .get(key)?
            .and_then(|v| RecordSlot::from_bytes(&v)))
    }
}

impl Index<Lookups> {
    /// The index of the leaf with this hash, if logged and indexed.
    pub fn leaf(&self, hash: &Hash) -> Result<Option<u64>, IndexError> {
        Ok(self
            .trees
            .leaf
            .get(hash.0)?
            .and_then(|v| Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))))
    }
}

impl<T: Trees> Index<T> {
    /// Opens (creating) the index database in `dir`.
    pub fn open(dir: &Path) -> Result<Index<T>, IndexError> {
        // Throughput mode: the index is rebuilt from the tiles after a crash,
        // so sled may trade space for write speed.
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        Ok(Index {
            trees: T::open(&db)?,
            db,
        })
    }

    /// The tree size the index covers.
    pub fn covered(&self) -> Result<u64, IndexError> {
        Ok(self
            .db
            .get(COVERED)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Adds a batch of entries and moves the covered size to its end.
    pub fn add(&self, batch: &IndexBatch) -> Result<(), IndexError> {
        self.trees.write(&batch.items)?;
        self.db
            .insert(COVERED, &(batch.first + batch.count).to_be_bytes())?;
        Ok(())
    }

    /// Brings the index up to `size` from the entry bundles.
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
            let end = start + u64::from(width);
            self.add(&IndexBatch {
                first: covered,
                count: end - covered,
                items: slots(covered, &entries[skip..]),
            })?;
            covered = end;
        }
        Ok(())
    }

    /// Empties the index (for `reindex`).
    pub fn clear(&self) -> Result<(), IndexError> {
        self.trees.clear()?;
        self.db.remove(COVERED)?;
        Ok(())
    }

    /// Flushes sled (best effort; durability comes from the tiles).
    pub fn flush(&self) -> Result<(), IndexError> {
        self.db.flush()?;
        Ok(())
    }
}
