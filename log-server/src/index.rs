//! The indexes: rebuildable from the tiles, never the source of truth.
//! Each index is its own fjall database (an LSM tree: random-key writes are
//! sequential on disk, and its memory is bounded by its block cache and
//! memtables whatever the number of entries) and records, in the same atomic
//! write as each batch, the tree size it covers; so on start it catches up
//! from the entry bundles. Its journal is not fsynced per batch: a crash may
//! lose its latest writes, never the tiles.
//!
//! - [`RecordIndex`] (`<data>/index`): issuer, kind, id → index, document
//!   digest and leaf hash. The sequencer's duplicate check, written by the
//!   record indexer thread alone (`indexer.rs`), with each batch once
//!   it is durable.
//! - [`LookupIndex`] (`<data>/lookup`): leaf hash → index, and with the
//!   verifiable index off (which files the same, `map`), document digest
//!   → indexes and revoked record → revocation indexes (every revocation
//!   naming the record, wherever it sits in the log), for readers.
//!   Written by the lookup indexer thread behind it, in a database of its
//!   own so that its random-key writes never slow the sequencer's lookups
//!   (measured in docs/BENCHMARKS.md).

use std::path::Path;
use std::sync::Arc;

use gazette_client::merkle::Hash;
use gazette_client::record::SignedRecord;
use gazette_client::registry::SignedRegistryEntry;
use gazette_client::tiles::HEIGHT;

use fjall::compaction::Leveled;
use fjall::{
    Database, Keyspace, KeyspaceCreateOptions, OwnedWriteBatch as WriteBatch, PersistMode,
};

use crate::storage::Storage;

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The database failed.
    #[error("index database: {0}")]
    Store(#[from] fjall::Error),
    /// An older server still has its sled database open.
    #[error(
        "the index in {0} is in use by another process: is an older gazette-log still running on this data directory?"
    )]
    InUse(String),
    /// Asked for documents or revocations the verifiable index keeps.
    #[error("documents and revocations are looked up in the verifiable index")]
    InMap,
    /// An entry bundle needed to catch up is missing or malformed.
    #[error("catching up the index: {0}")]
    Bundle(#[from] crate::stored::StoredError),
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
    /// Its revocations: the key of the record each revokes (with the
    /// revocation's issuer, so only an issuer revokes its own records), and
    /// the revocation's index. The revoked record need not be logged yet.
    pub revocations: Vec<(Vec<u8>, u64)>,
    /// Its registry entries (`gazette.agency/v1`), with their indexes.
    pub registry: Vec<(u64, Vec<u8>)>,
}

impl IndexBatch {
    /// The batch of raw entries `first..`: every logged entry was a valid
    /// record when accepted; anything else (a log shared with other
    /// writers) is simply not indexed.
    pub fn from_entries(first: u64, entries: &[&[u8]]) -> IndexBatch {
        let mut batch = IndexBatch {
            first,
            count: entries.len() as u64,
            items: Vec::with_capacity(entries.len()),
            revocations: Vec::new(),
            registry: Vec::new(),
        };
        for (i, entry) in entries.iter().enumerate() {
            let index = first + i as u64;
            match SignedRecord::parse(entry) {
                Ok(signed) => batch.push(&signed, index, signed.leaf_hash()),
                Err(_) if SignedRegistryEntry::parse(entry).is_ok() => {
                    batch.registry.push((index, entry.to_vec()))
                }
                Err(_) => {}
            }
        }
        batch
    }

    /// Adds a newly sequenced record at `index`, with its leaf hash.
    pub fn push(&mut self, signed: &SignedRecord, index: u64, leaf_hash: Hash) {
        let r = &signed.record;
        let slot = RecordSlot {
            index,
            digest: r.digest,
            leaf_hash,
        };
        self.push_keyed(signed, record_key(&r.issuer, &r.kind, &r.id), slot);
    }

    /// [`IndexBatch::push`] for a caller that has the record's key
    /// ([`record_key`]) and slot already: the sequencer, which looked the
    /// key up to find duplicates.
    pub fn push_keyed(&mut self, signed: &SignedRecord, key: Vec<u8>, slot: RecordSlot) {
        let r = &signed.record;
        if let Some((kind, id)) = &r.revokes {
            self.revocations
                .push((record_key(&r.issuer, kind, id), slot.index));
        }
        self.items.push((key, slot));
    }
}

/// What an index keeps, written batch by batch.
pub trait Trees: Sized {
    /// What it is told when opened.
    type Options: Copy;
    /// Opens (creating) its keyspaces in `db`.
    fn open(db: &Database, options: Self::Options) -> Result<Self, IndexError>;
    /// Names what it keeps, stored with the covered size: a database
    /// written with another layout is rebuilt. Empty for the first one.
    fn layout(&self) -> &'static [u8];
    /// Adds one batch of records to `write`, each tree's keys in order:
    /// fjall inserts a batch into its memtables (skip lists of up to
    /// [`MEMTABLE_BYTES`]) in the order written, and in key order each
    /// search walks down the path the one before it took, still in the
    /// CPU's cache, where random keys each take a fresh path of misses.
    fn write(&self, batch: &IndexBatch, write: &mut WriteBatch);
}

/// One database of indexes and the tree size they cover.
pub struct Index<T> {
    db: Database,
    /// `covered-size` → the tree size the trees cover; `layout` → what
    /// they keep ([`Trees::layout`]).
    meta: Keyspace,
    trees: T,
}

/// The sequencer's duplicate check: issuer, kind, id → [`RecordSlot`].
pub type RecordIndex = Index<Records>;
/// The readers' lookups: leaf hash → index, and unless the verifiable
/// index answers them, document digest → indexes and record → revocations.
pub type LookupIndex = Index<Lookups>;

/// The trees of [`RecordIndex`].
pub struct Records {
    record: Keyspace,
    /// index → a registry entry's bytes: the log's registry, folded at start.
    registry: Keyspace,
}

impl Trees for Records {
    type Options = ();

    fn open(db: &Database, (): ()) -> Result<Self, IndexError> {
        Ok(Records {
            record: keyspace(db, "record")?,
            registry: keyspace(db, "registry")?,
        })
    }

    fn layout(&self) -> &'static [u8] {
        // Indexes from before the registry are rebuilt, to hold it.
        b"registry"
    }

    fn write(&self, batch: &IndexBatch, write: &mut WriteBatch) {
        let mut records: Vec<&(Vec<u8>, RecordSlot)> = batch.items.iter().collect();
        // Stable: of two items with one key, the later is written last.
        records.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, slot) in records {
            write.insert(&self.record, key.as_slice(), slot.to_bytes());
        }
        for (index, bytes) in &batch.registry {
            write.insert(&self.registry, index.to_be_bytes(), bytes.as_slice());
        }
    }
}

/// The trees of [`LookupIndex`].
pub struct Lookups {
    /// leaf hash → index.
    leaf: Keyspace,
    /// The two the verifiable index makes redundant, when it is off.
    by_digest: Option<ByDigest>,
}

/// Lookups by document and revocations, kept by the lookup index only when
/// the verifiable index (`map`), which files the same, is off: writing
/// them twice would cost the append path for nothing.
struct ByDigest {
    /// document digest ‖ index → nothing (a document may be logged often).
    digest: Keyspace,
    /// revoked record's key ‖ 0 ‖ revocation index → nothing.
    revoked: Keyspace,
}

/// Whether the lookup index keeps documents and revocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digests {
    /// It does: the verifiable index is off.
    Kept,
    /// The verifiable index answers for them.
    InMap,
}

impl Digests {
    /// As the configuration has it.
    pub fn of(config: &crate::config::Config) -> Digests {
        match config.sequencer.verifiable_index {
            true => Digests::InMap,
            false => Digests::Kept,
        }
    }
}

/// `prefix ‖ index` (big-endian, so a prefix scan runs in index order).
fn with_index(prefix: &[u8], index: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// The `revoked` tree's prefix for a record key: NUL-terminated, so one
/// id is never a prefix of another (ids hold no NUL).
fn revoked_prefix(record_key: &[u8]) -> Vec<u8> {
    let mut prefix = record_key.to_vec();
    prefix.push(0);
    prefix
}

/// The indexes under `prefix` in a `prefix ‖ index` tree, in order.
fn indexes_under(tree: &Keyspace, prefix: &[u8]) -> impl Iterator<Item = Result<u64, IndexError>> {
    let len = prefix.len();
    tree.prefix(prefix)
        .filter_map(move |item| match item.key() {
            Ok(key) => Some(Ok(u64::from_be_bytes(key.get(len..)?.try_into().ok()?))),
            Err(e) => Some(Err(IndexError::Store(e))),
        })
}

impl Trees for Lookups {
    type Options = Digests;

    fn open(db: &Database, digests: Digests) -> Result<Self, IndexError> {
        let by_digest = match digests {
            Digests::Kept => Some(ByDigest {
                digest: keyspace(db, "digest")?,
                revoked: keyspace(db, "revoked")?,
            }),
            Digests::InMap => None,
        };
        Ok(Lookups {
            leaf: keyspace(db, "leaf")?,
            by_digest,
        })
    }

    fn layout(&self) -> &'static [u8] {
        match self.by_digest {
            Some(_) => b"",
            None => b"leaf",
        }
    }

    fn write(&self, batch: &IndexBatch, write: &mut WriteBatch) {
        let mut leaves: Vec<([u8; 32], u64)> = batch
            .items
            .iter()
            .map(|(_, slot)| (slot.leaf_hash.0, slot.index))
            .collect();
        leaves.sort_unstable();
        for (leaf_hash, index) in leaves {
            write.insert(&self.leaf, leaf_hash, index.to_be_bytes());
        }
        let Some(by) = &self.by_digest else {
            return;
        };
        let mut digests: Vec<Vec<u8>> = batch
            .items
            .iter()
            .map(|(_, slot)| with_index(&slot.digest, slot.index))
            .collect();
        digests.sort_unstable();
        for key in digests {
            write.insert(&by.digest, key, []);
        }
        let mut revoked: Vec<Vec<u8>> = batch
            .revocations
            .iter()
            .map(|(key, index)| with_index(&revoked_prefix(key), *index))
            .collect();
        revoked.sort_unstable();
        for key in revoked {
            write.insert(&by.revoked, key, []);
        }
    }
}

const COVERED: &[u8] = b"covered-size";
/// The meta key of [`Trees::layout`] (absent: the first layout).
const LAYOUT: &[u8] = b"layout";

/// The block cache of each index database. With the memtables below, this
/// is what bounds the index's memory: fjall keeps in memory only the index
/// blocks of its two newest levels and the filter blocks of the newest;
/// the older levels' go through this cache (the OS page cache serves the
/// rest of the working set).
const CACHE_BYTES: u64 = 32 << 20;

/// The most a keyspace buffers in memory before writing a table (fjall's
/// default, 64 MiB, is made for one keyspace per database). fjall keeps up
/// to four more sealed ones per keyspace while they are being written.
/// Stored with each keyspace when it is created: a change here applies to
/// indexes built afterwards. Leaf hashes are random keys, so every table
/// written overlaps the whole next level: larger tables mean fewer
/// rewrites of it. At 3·10^6 appended records, 32 MiB (with
/// [`L0_TABLES`]) took fjall's background work from 9.1 to 3.5 µs per
/// record against 8 MiB (docs/BENCHMARKS.md).
const MEMTABLE_BYTES: u64 = 32 << 20;

/// How many tables the newest level gathers before they are merged into
/// the next (fjall's default is 4): each merge rewrites the overlapping
/// part of that level once for twice as many new keys.
const L0_TABLES: u8 = 8;

/// The journal kept per database, on disk (fjall's default is 512 MiB; its
/// least, 64 MiB): past it, fjall flushes memtables so it can drop journals.
const JOURNAL_BYTES: u64 = 64 << 20;

/// Table files kept open per database (fjall's default, 900, would exceed a
/// common limit of 1 024 descriptors with two databases and the sockets).
const OPEN_FILES: usize = 256;

/// Opens (creating) a keyspace with the index's memory bound.
fn keyspace(db: &Database, name: &str) -> Result<Keyspace, IndexError> {
    Ok(db.keyspace(name, || {
        KeyspaceCreateOptions::default()
            .max_memtable_size(MEMTABLE_BYTES)
            .compaction_strategy(Arc::new(Leveled::default().with_l0_threshold(L0_TABLES)))
    })?)
}

/// The `record` index key: the three fields, NUL-separated (none may hold NUL).
pub fn record_key(issuer: &str, kind: &str, id: &str) -> Vec<u8> {
    [issuer.as_bytes(), kind.as_bytes(), id.as_bytes()].join(&0u8)
}

impl Index<Records> {
    /// Every registry entry it covers, `(index, bytes)` in index order.
    pub fn registry_entries(&self) -> Result<Vec<(u64, Vec<u8>)>, IndexError> {
        self.trees
            .registry
            .iter()
            .map(|item| {
                let (key, value) = item.into_inner()?;
                let index = <[u8; 8]>::try_from(key.as_ref()).map_or(u64::MAX, u64::from_be_bytes);
                Ok((index, value.to_vec()))
            })
            .collect()
    }

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
    fn by_digest(&self) -> Result<&ByDigest, IndexError> {
        self.trees.by_digest.as_ref().ok_or(IndexError::InMap)
    }

    /// The index of the leaf with this hash, if logged and indexed.
    pub fn leaf(&self, hash: &Hash) -> Result<Option<u64>, IndexError> {
        Ok(self
            .trees
            .leaf
            .get(hash.0)?
            .and_then(|v| Some(u64::from_be_bytes(v.as_ref().try_into().ok()?))))
    }

    /// The indexes of records of the document with this digest, in order,
    /// at most `limit` of them.
    pub fn digest(&self, digest: &[u8; 32], limit: usize) -> Result<Vec<u64>, IndexError> {
        indexes_under(&self.by_digest()?.digest, digest)
            .take(limit)
            .collect()
    }

    /// The lowest index of a revocation of the record under `record_key`
    /// (issuer, kind, id), wherever it sits in the log: before the record,
    /// after it, or in the same batch. A record's status depends on which
    /// entries the log holds, not on their order, and the log holds at most
    /// one record per key, so any revocation by its issuer that names it
    /// revokes it, including one logged before it ("born revoked").
    pub fn revoked_by(&self, record_key: &[u8]) -> Result<Option<u64>, IndexError> {
        indexes_under(&self.by_digest()?.revoked, &revoked_prefix(record_key))
            .next()
            .transpose()
    }
}

impl<T: Trees> Index<T> {
    /// Opens (creating) the index database in `dir`.
    pub fn open(dir: &Path, options: T::Options) -> Result<Index<T>, IndexError> {
        discard_unusable(dir)?;
        // Two of our processes never reach here at once: the data
        // directory's lock comes first (`log::lock_data_dir`).
        let db = Database::builder(dir)
            .cache_size(CACHE_BYTES)
            .max_journaling_size(JOURNAL_BYTES)
            .max_cached_files(Some(OPEN_FILES))
            .open()?;
        Ok(Index {
            meta: keyspace(&db, "meta")?,
            trees: T::open(&db, options)?,
            db,
        })
    }

    /// The tree size the index covers.
    pub fn covered(&self) -> Result<u64, IndexError> {
        Ok(self
            .meta
            .get(COVERED)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Adds a batch of entries and moves the covered size to its end, in
    /// one atomic write.
    pub fn add(&self, batch: &IndexBatch) -> Result<(), IndexError> {
        let mut write = self.db.batch();
        self.trees.write(batch, &mut write);
        write.insert(
            &self.meta,
            COVERED,
            (batch.first + batch.count).to_be_bytes(),
        );
        write.insert(&self.meta, LAYOUT, self.trees.layout());
        write.commit()?;
        Ok(())
    }

    /// Opens the index in `dir` and brings it to the tree of `size`: caught
    /// up from the entry bundles, or built anew if it claims more than the
    /// tree holds (the tree was restored from an older backup).
    pub fn open_at(
        dir: &Path,
        storage: &dyn Storage,
        size: u64,
        options: T::Options,
    ) -> Result<Index<T>, IndexError> {
        let index = Index::<T>::open(dir, options)?;
        let covered = index.covered()?;
        let layout = index.meta.get(LAYOUT)?;
        let same_layout =
            covered == 0 || layout.as_deref().unwrap_or_default() == index.trees.layout();
        if covered <= size && same_layout {
            index.catch_up(storage, size)?;
            return Ok(index);
        }
        drop(index);
        Index::rebuild(dir, storage, size, options)
    }

    /// Builds the index in `dir` anew, in a fresh directory (so a damaged
    /// one is no obstacle), up to `size`, and writes it to disk.
    pub fn rebuild(
        dir: &Path,
        storage: &dyn Storage,
        size: u64,
        options: T::Options,
    ) -> Result<Index<T>, IndexError> {
        remove_database(dir)?;
        let index = Index::open(dir, options)?;
        index.catch_up(storage, size)?;
        index.flush()?;
        Ok(index)
    }

    /// Brings the index up to `size` from the entry bundles (nothing to do
    /// if it covers that much already).
    pub fn catch_up(&self, storage: &dyn Storage, size: u64) -> Result<(), IndexError> {
        let mut covered = self.covered()?;
        while covered < size {
            let (start, entries) = crate::stored::bundle_entries(storage, size, covered >> HEIGHT)?;
            let skip = (covered - start) as usize;
            let entries: Vec<&[u8]> = entries[skip..].iter().map(Vec::as_slice).collect();
            self.add(&IndexBatch::from_entries(covered, &entries))?;
            covered += entries.len() as u64;
        }
        Ok(())
    }

    /// Writes the journal to disk (best effort; durability comes from the
    /// tiles).
    pub fn flush(&self) -> Result<(), IndexError> {
        self.db.persist(PersistMode::SyncAll)?;
        Ok(())
    }
}

/// Removes the index database in `dir`, if any. It is renamed aside first,
/// so that a crash half-way leaves nothing that looks like an index.
fn remove_database(dir: &Path) -> Result<(), IndexError> {
    let aside = remove_aside(dir)?;
    match std::fs::rename(dir, &aside) {
        Ok(()) => Ok(std::fs::remove_dir_all(&aside)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Removes what a [`remove_database`] cut short left where it moves `dir`
/// before removing it; returns that place.
fn remove_aside(dir: &Path) -> Result<std::path::PathBuf, IndexError> {
    let mut name = dir.file_name().unwrap_or_default().to_owned();
    name.push(".removing");
    let aside = dir.with_file_name(name);
    if aside.exists() {
        std::fs::remove_dir_all(&aside)?;
    }
    Ok(aside)
}

/// Removes what is in `dir` if it is not a complete fjall database (fjall
/// writes `version` last when it creates one): a creation a crash cut
/// short, or the sled database of an older version (whose memory grew with
/// the number of entries). The index is rebuilt from the tiles. A sled
/// database still open by an older server (sled locks its `db` file) is
/// left alone.
fn discard_unusable(dir: &Path) -> Result<(), IndexError> {
    remove_aside(dir)?;
    if !dir.exists() || dir.join("version").is_file() {
        return Ok(());
    }
    if let Ok(sled) = std::fs::File::open(dir.join("db"))
        && let Err(std::fs::TryLockError::WouldBlock) = sled.try_lock()
    {
        return Err(IndexError::InUse(dir.display().to_string()));
    }
    tracing::info!(dir = %dir.display(), "removing an unusable or older index; it is rebuilt from the tiles");
    remove_database(dir)
}
