//! c2sp.org/tlog-tiles: tile coordinates and paths, the tiles of a tree,
//! entry bundles, and proofs computed from tiles alone.
//!
//! A hash tile `(L, N)` of height `H` holds up to `2^H` consecutive hashes of
//! tree level `L·H`, starting at hash number `N·2^H`. A full tile has width
//! `2^H`; the right edge of a tree is served as partial tiles of width `W`.
//! C2SP fixes `H = 8` ([`HEIGHT`]); Go's sumdb puts the height in the path
//! (`tile/H/L/N`), which [`Tile::parse_sumdb_path`] reads too.
//!
//! ```
//! use gazette_client::tiles::{Tile, tiles_for_size};
//! let tiles: Vec<String> = tiles_for_size(8, 257).iter().map(Tile::path).collect();
//! assert_eq!(tiles, ["tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1"]);
//! assert_eq!(Tile::parse_path("tile/1/x001/x234/067").unwrap().index, 1_234_067);
//! ```

use std::collections::HashMap;

use crate::encoding::parse_decimal;
use crate::merkle::{
    Hash, HashReader, ReadError, leaf_hash, node_hash, split_stored_hash_index, stored_hash_index,
};

/// Tile height of c2sp.org/tlog-tiles: 256 hashes per full tile.
pub const HEIGHT: u8 = 8;

/// Longest tile path we parse (the longest valid one is ~45 bytes).
pub const MAX_PATH_LEN: usize = 128;

/// What a tile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileLevel {
    /// Hashes of tree level `level · height`.
    Hashes(u8),
    /// The log entries themselves (`tile/entries/…`, sumdb `tile/H/data/…`).
    Entries,
}

/// One tile: height, level, index and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile height `H` (8 in C2SP).
    pub height: u8,
    /// Hash level or entries.
    pub level: TileLevel,
    /// Tile number `N` within its level.
    pub index: u64,
    /// Number of hashes (or entries), `1..=2^H`.
    pub width: u32,
}

/// Why a tile, path or bundle was rejected.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// The path is not a canonical tile path.
    #[error("invalid tile path {path:?}: {reason}")]
    InvalidPath {
        /// The path, truncated to [`MAX_PATH_LEN`].
        path: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The tile's data does not have `32 · width` bytes.
    #[error("tile {tile} has {got} bytes, expected {expected}")]
    WrongLength {
        /// Path of the tile.
        tile: String,
        /// Bytes the width calls for.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// The tile's hashes do not match the tree root or the parent tile.
    #[error("tile {tile} is inconsistent with the trusted tree of size {size}")]
    Inconsistent {
        /// Path of the tile that failed authentication.
        tile: String,
        /// Size of the trusted tree.
        size: u64,
    },
    /// A stored hash outside the tree was asked for.
    #[error("stored hash {index} is outside the tree of size {size}")]
    OutsideTree {
        /// The stored-hash index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A stored hash was looked up in a tile that does not hold it.
    #[error("stored hash {index} is not in tile {tile}")]
    NotInTile {
        /// The stored-hash index.
        index: u64,
        /// Path of the tile.
        tile: String,
    },
    /// An entry bundle does not parse or does not match its tile.
    #[error("entry bundle {bundle}: {reason}")]
    BadBundle {
        /// Path of the bundle.
        bundle: String,
        /// What is wrong.
        reason: String,
    },
    /// The tile reader failed or answered with the wrong number of tiles.
    #[error(transparent)]
    Read(#[from] ReadError),
}

impl std::fmt::Display for Tile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.height == HEIGHT {
            f.write_str(&self.path())
        } else {
            f.write_str(&self.sumdb_path())
        }
    }
}

impl Tile {
    /// A full-width hash tile.
    pub fn full(height: u8, level: u8, index: u64) -> Tile {
        Tile {
            height,
            level: TileLevel::Hashes(level),
            index,
            width: 1 << height,
        }
    }

    /// Whether the tile has its full `2^H` width.
    pub fn is_full(&self) -> bool {
        self.width == 1 << self.height
    }

    /// The full tile at this tile's position (itself when full): a
    /// partial tile's data is a prefix of it.
    pub fn at_full_width(&self) -> Tile {
        Tile {
            width: 1 << self.height,
            ..*self
        }
    }

    /// The hash level of the tile (`None` for entries).
    pub fn hash_level(&self) -> Option<u8> {
        match self.level {
            TileLevel::Hashes(level) => Some(level),
            TileLevel::Entries => None,
        }
    }

    /// The entry bundle covering the same leaves as this level-0 tile.
    pub fn entries(&self) -> Tile {
        Tile {
            level: TileLevel::Entries,
            ..*self
        }
    }

    /// The C2SP path: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    /// Only meaningful for height 8.
    pub fn path(&self) -> String {
        debug_assert_eq!(self.height, HEIGHT);
        let level = match self.level {
            TileLevel::Hashes(level) => level.to_string(),
            TileLevel::Entries => "entries".to_owned(),
        };
        format!("tile/{level}/{}", self.index_and_width())
    }

    /// Go sumdb path with the height: `tile/<H>/<L>/<N>[.p/<W>]`, data tiles
    /// as `tile/<H>/data/<N>`.
    pub fn sumdb_path(&self) -> String {
        let level = match self.level {
            TileLevel::Hashes(level) => level.to_string(),
            TileLevel::Entries => "data".to_owned(),
        };
        format!("tile/{}/{level}/{}", self.height, self.index_and_width())
    }

    fn index_and_width(&self) -> String {
        let mut out = format_index(self.index);
        if !self.is_full() {
            out.push_str(&format!(".p/{}", self.width));
        }
        out
    }

    /// Parses a C2SP tile path strictly (canonical numbers only, level
    /// 0–63, partial width 1–255).
    pub fn parse_path(path: &str) -> Result<Tile, TileError> {
        let err = |reason| invalid_path(path, reason);
        if path.len() > MAX_PATH_LEN {
            return Err(err("too long"));
        }
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| err("missing tile/ prefix"))?;
        let (level, rest) = rest.split_once('/').ok_or_else(|| err("missing level"))?;
        let level = if level == "entries" {
            TileLevel::Entries
        } else {
            match parse_decimal(level) {
                Some(l) if l <= 63 => TileLevel::Hashes(l as u8),
                _ => return Err(err("level is not a canonical decimal 0-63")),
            }
        };
        let (index, width) = parse_index_and_width(rest, HEIGHT).map_err(err)?;
        Ok(Tile {
            height: HEIGHT,
            level,
            index,
            width,
        })
    }

    /// Parses a Go sumdb tile path `tile/<H>/<L>/<N>[.p/<W>]` (H 1–30,
    /// `data` for the record tiles).
    pub fn parse_sumdb_path(path: &str) -> Result<Tile, TileError> {
        let err = |reason| invalid_path(path, reason);
        if path.len() > MAX_PATH_LEN {
            return Err(err("too long"));
        }
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| err("missing tile/ prefix"))?;
        let (height, rest) = rest.split_once('/').ok_or_else(|| err("missing height"))?;
        let height = match parse_decimal(height) {
            Some(h) if (1..=30).contains(&h) => h as u8,
            _ => return Err(err("height is not a canonical decimal 1-30")),
        };
        let (level, rest) = rest.split_once('/').ok_or_else(|| err("missing level"))?;
        let level = if level == "data" {
            TileLevel::Entries
        } else {
            match parse_decimal(level) {
                Some(l) if l <= 63 => TileLevel::Hashes(l as u8),
                _ => return Err(err("level is not a canonical decimal 0-63")),
            }
        };
        let (index, width) = parse_index_and_width(rest, height).map_err(err)?;
        Ok(Tile {
            height,
            level,
            index,
            width,
        })
    }

    /// The leaves `[start, end)` this tile's hashes (or entries) cover,
    /// saturating at `u64::MAX` for tiles beyond any 64-bit tree.
    pub fn leaf_range(&self) -> (u64, u64) {
        let level = self.hash_level().unwrap_or(0);
        let shift = u32::from(level) * u32::from(self.height);
        let scale = |n: u64, by: u32| -> u64 {
            if n == 0 {
                0
            } else if by >= 64 || n.leading_zeros() < by {
                u64::MAX
            } else {
                n << by
            }
        };
        let start = scale(scale(self.index, u32::from(self.height)), shift);
        let end = start.saturating_add(scale(u64::from(self.width), shift));
        (start, end)
    }
}

fn invalid_path(path: &str, reason: &'static str) -> TileError {
    TileError::InvalidPath {
        path: path.chars().take(MAX_PATH_LEN).collect(),
        reason,
    }
}

/// Formats a tile index as 3-digit groups, all but the last prefixed `x`:
/// `1234067` → `x001/x234/067`.
pub fn format_index(index: u64) -> String {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = String::new();
    for (i, group) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            out.push_str(&format!("x{group:03}/"));
        } else {
            out.push_str(&format!("{group:03}"));
        }
    }
    out
}

fn parse_index_and_width(text: &str, height: u8) -> Result<(u64, u32), &'static str> {
    let full = 1u32 << height;
    let (index, width) = match text.split_once(".p/") {
        None => (text, full),
        Some((index, width)) => match parse_decimal(width) {
            Some(w) if w >= 1 && w < u64::from(full) => (index, w as u32),
            _ => return Err("partial width is not a canonical decimal below the full width"),
        },
    };
    let elements: Vec<&str> = index.split('/').collect();
    let mut n: u64 = 0;
    for (i, element) in elements.iter().enumerate() {
        let last = i + 1 == elements.len();
        let digits = if last {
            *element
        } else {
            element
                .strip_prefix('x')
                .ok_or("non-final index element without x")?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("index element is not three digits");
        }
        if i == 0 && !last && digits == "000" {
            return Err("index has a leading zero group");
        }
        let group: u64 = digits
            .parse()
            .map_err(|_| "index element is not three digits")?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(group))
            .ok_or("index overflows 64 bits")?;
    }
    Ok((n, width))
}

/// The tiles that change when a tree grows from `old_size` to `new_size`:
/// every tile completed on the way and the new partial tile of each level.
pub fn new_tiles(height: u8, old_size: u64, new_size: u64) -> Vec<Tile> {
    let h = u32::from(height);
    let mut tiles = Vec::new();
    let mut level = 0u32;
    while level * h < 64 && new_size >> (level * h) > 0 {
        let old_n = old_size >> (level * h);
        let new_n = new_size >> (level * h);
        if old_n != new_n {
            for index in (old_n >> h)..(new_n >> h) {
                tiles.push(Tile::full(height, level as u8, index));
            }
            let index = new_n >> h;
            let width = (new_n - (index << h)) as u32;
            if width > 0 {
                tiles.push(Tile {
                    height,
                    level: TileLevel::Hashes(level as u8),
                    index,
                    width,
                });
            }
        }
        level += 1;
    }
    tiles
}

/// Every hash tile of a tree of `size` leaves.
pub fn tiles_for_size(height: u8, size: u64) -> Vec<Tile> {
    new_tiles(height, 0, size)
}

/// The smallest tile holding stored hash `index`, and the byte range within
/// the tile data from which that hash is computed.
pub fn tile_for_index(height: u8, index: u64) -> (Tile, std::ops::Range<usize>) {
    let h = u32::from(height);
    let (level, n) = split_stored_hash_index(index);
    let tile_level = level / h;
    let level_in_tile = level - tile_level * h;
    let tile_index = (n << level_in_tile) >> h;
    let n_in_tile = n - ((tile_index << h) >> level_in_tile);
    let start = (n_in_tile << level_in_tile) as usize;
    let end = ((n_in_tile + 1) << level_in_tile) as usize;
    let tile = Tile {
        height,
        level: TileLevel::Hashes(tile_level as u8),
        index: tile_index,
        width: end as u32,
    };
    (tile, start * Hash::LEN..end * Hash::LEN)
}

/// The root of the perfect subtree whose level hashes are `data`: a
/// power-of-two count of 32-byte hashes, such as a full tile (whose root is
/// the matching hash in the tile above). `None` for any other length.
pub fn subtree_root(data: &[u8]) -> Option<Hash> {
    let count = data.len() / Hash::LEN;
    (data.len().is_multiple_of(Hash::LEN) && count.is_power_of_two())
        .then(|| tile_subtree_hash(data))
}

/// The root of a run of consecutive tile hashes (a power-of-two count).
fn tile_subtree_hash(data: &[u8]) -> Hash {
    if data.len() == Hash::LEN {
        return Hash::from_slice(data).expect("exactly one hash");
    }
    let (left, right) = data.split_at(data.len() / 2);
    node_hash(&tile_subtree_hash(left), &tile_subtree_hash(right))
}

/// Stored hash `index` computed from `tile`'s data.
pub fn hash_from_tile(tile: &Tile, data: &[u8], index: u64) -> Result<Hash, TileError> {
    check_tile_length(tile, data)?;
    let (needed, range) = tile_for_index(tile.height, index);
    if needed.level != tile.level || needed.index != tile.index || needed.width > tile.width {
        return Err(TileError::NotInTile {
            index,
            tile: tile.to_string(),
        });
    }
    Ok(tile_subtree_hash(&data[range]))
}

fn check_tile_length(tile: &Tile, data: &[u8]) -> Result<(), TileError> {
    let expected = tile.width as usize * Hash::LEN;
    if data.len() != expected {
        return Err(TileError::WrongLength {
            tile: tile.to_string(),
            expected,
            got: data.len(),
        });
    }
    Ok(())
}

/// The tile `k` levels above `tile`, with the width a tree of `size` leaves
/// gives it; `None` if that tile would be empty.
pub fn tile_parent(tile: &Tile, k: u8, size: u64) -> Option<Tile> {
    let h = u32::from(tile.height);
    let level = tile.hash_level()? + k;
    let index = tile.index >> (u32::from(k) * h);
    let shift = u32::from(level) * h;
    let hashes_at_level = if shift >= 64 { 0 } else { size >> shift };
    let start = index << h;
    if start >= hashes_at_level {
        return None;
    }
    let width = (hashes_at_level - start).min(1 << h) as u32;
    Some(Tile {
        height: tile.height,
        level: TileLevel::Hashes(level),
        index,
        width,
    })
}

/// Stored-hash indexes of the hashes a hash tile holds, in tile order.
pub fn tile_hash_indexes(tile: &Tile) -> Vec<u64> {
    let level = u32::from(tile.hash_level().unwrap_or(0)) * u32::from(tile.height);
    let first = tile.index << tile.height;
    (first..first + u64::from(tile.width))
        .map(|n| stored_hash_index(level, n))
        .collect()
}

/// The bytes of a hash tile, read from stored hashes (what a log writes).
pub fn read_tile_data(
    tile: &Tile,
    reader: &(impl HashReader + ?Sized),
) -> Result<Vec<u8>, TileError> {
    let indexes = tile_hash_indexes(tile);
    let hashes = reader.read_hashes(&indexes)?;
    if hashes.len() != indexes.len() {
        return Err(ReadError::new("reader returned the wrong number of hashes").into());
    }
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Encodes an entry bundle: each entry as `u16_be(len) || entry`.
/// Entries longer than 65 535 bytes cannot be encoded.
pub fn format_entry_bundle<'a>(
    entries: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for entry in entries {
        let len = u16::try_from(entry.len()).map_err(|_| TileError::BadBundle {
            bundle: "(new)".to_owned(),
            reason: format!("entry of {} bytes exceeds 65535", entry.len()),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// The data of the partial tile `partial`, cut from `full`, the data of the
/// full tile at its position: its first `width` hashes, or the first
/// `width` entries of a bundle. c2sp.org/tlog-tiles lets a log remove a
/// partial tile once the full one exists, and a reader fall back to it.
/// Unauthenticated, like any tile data: readers check it against a root.
pub fn partial_from_full(partial: &Tile, full: &[u8]) -> Result<Vec<u8>, TileError> {
    partial_from_wider(partial, &partial.at_full_width(), full)
}

/// The data of the partial tile `partial`, cut from `data`, the data of
/// the wider tile `wider` at the same position (partial or full).
pub fn partial_from_wider(partial: &Tile, wider: &Tile, data: &[u8]) -> Result<Vec<u8>, TileError> {
    debug_assert!(wider.width >= partial.width && wider.level == partial.level);
    let width = partial.width as usize;
    match partial.level {
        TileLevel::Hashes(_) => {
            let expected = Hash::LEN * wider.width as usize;
            if data.len() != expected {
                return Err(TileError::WrongLength {
                    tile: wider.to_string(),
                    expected,
                    got: data.len(),
                });
            }
            Ok(data[..width * Hash::LEN].to_vec())
        }
        TileLevel::Entries => {
            let mut at = 0;
            for n in 0..width {
                let len = data
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .filter(|len| at + 2 + len <= data.len())
                    .ok_or_else(|| TileError::BadBundle {
                        bundle: wider.to_string(),
                        reason: format!("entry {n} is truncated"),
                    })?;
                at += 2 + len;
            }
            Ok(data[..at].to_vec())
        }
    }
}

/// Decodes the entry bundle `bundle` (an entries tile) of exactly
/// `bundle.width` entries, with nothing after the last.
pub fn parse_entry_bundle<'a>(bundle: &Tile, data: &'a [u8]) -> Result<Vec<&'a [u8]>, TileError> {
    let bad = |reason: String| TileError::BadBundle {
        bundle: bundle.to_string(),
        reason,
    };
    let mut entries = Vec::with_capacity(bundle.width as usize);
    let mut rest = data;
    while !rest.is_empty() {
        if entries.len() == bundle.width as usize {
            return Err(bad(format!("more than {} entries", bundle.width)));
        }
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| bad("truncated length prefix".to_owned()))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(bad(format!("entry {} is truncated", entries.len())));
        }
        let (entry, tail) = tail.split_at(len);
        entries.push(entry);
        rest = tail;
    }
    if entries.len() != bundle.width as usize {
        return Err(bad(format!(
            "{} entries, expected {}",
            entries.len(),
            bundle.width
        )));
    }
    Ok(entries)
}

/// Checks that each entry of a bundle hashes to the matching hash of the
/// level-0 tile covering the same leaves.
pub fn check_bundle_against_tile(
    bundle: &Tile,
    entries: &[&[u8]],
    tile_data: &[u8],
) -> Result<(), TileError> {
    if tile_data.len() != entries.len() * Hash::LEN {
        return Err(TileError::BadBundle {
            bundle: bundle.to_string(),
            reason: format!(
                "{} entries but the level-0 tile has {} bytes",
                entries.len(),
                tile_data.len()
            ),
        });
    }
    for (i, (entry, hash)) in entries
        .iter()
        .zip(tile_data.chunks_exact(Hash::LEN))
        .enumerate()
    {
        if leaf_hash(entry).0 != hash {
            return Err(TileError::BadBundle {
                bundle: bundle.to_string(),
                reason: format!("entry {i} does not match its leaf hash in the tile"),
            });
        }
    }
    Ok(())
}

/// Fetches tiles; the static read path of a log.
pub trait TileReader {
    /// Returns the data of each tile, in order.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, ReadError>;
}

/// Tiles held in memory (a cache, or a test's static read path).
impl TileReader for HashMap<Tile, Vec<u8>> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, ReadError> {
        tiles
            .iter()
            .map(|t| {
                self.get(t)
                    .cloned()
                    .ok_or_else(|| ReadError::new(format!("tile {t} not held")))
            })
            .collect()
    }
}

/// Which tiles must be fetched to read some stored hashes of a tree and to
/// authenticate them against the tree's root: phase one of a proof from
/// tiles. Fetch [`TilePlan::tiles`] (asynchronously if you like), then call
/// [`TilePlan::hashes`].
#[derive(Debug, Clone)]
pub struct TilePlan {
    size: u64,
    /// The tiles to fetch; parents come before their children.
    tiles: Vec<Tile>,
    /// Stored hashes whose right fold is the root, with the tile holding each.
    root_parts: Vec<(u64, usize)>,
    /// How many leading `tiles` the root authenticates directly.
    root_tiles: usize,
    /// The requested stored hashes, with the tile holding each.
    requested: Vec<(u64, usize)>,
}

impl TilePlan {
    /// Plans reading stored hashes `indexes` of the tree of `size` leaves.
    pub fn new(height: u8, size: u64, indexes: &[u64]) -> Result<TilePlan, TileError> {
        let mut order: HashMap<Tile, usize> = HashMap::new();
        let mut tiles: Vec<Tile> = Vec::new();
        let mut slot_of = |tile: Tile, tiles: &mut Vec<Tile>| -> usize {
            *order.entry(tile).or_insert_with(|| {
                tiles.push(tile);
                tiles.len() - 1
            })
        };
        let root_indexes = crate::merkle::tree_hash_indexes(size)
            .map_err(|_| TileError::OutsideTree { index: 0, size })?;
        let mut root_parts = Vec::with_capacity(root_indexes.len());
        for index in root_indexes {
            let (tile, _) = tile_for_index(height, index);
            let tile = tile_parent(&tile, 0, size).ok_or(TileError::OutsideTree { index, size })?;
            root_parts.push((index, slot_of(tile, &mut tiles)));
        }
        let root_tiles = tiles.len();
        let in_tree = crate::merkle::stored_hash_count(size);
        let mut requested = Vec::with_capacity(indexes.len());
        for &index in indexes {
            if index >= in_tree {
                return Err(TileError::OutsideTree { index, size });
            }
            let (tile, _) = tile_for_index(height, index);
            // Climb to the nearest tile already planned (at worst a root
            // tile), then plan the chain of full tiles back down, so every
            // tile is authenticated by a parent planned before it.
            let mut chain = Vec::new();
            let mut k = 0u8;
            loop {
                let parent =
                    tile_parent(&tile, k, size).ok_or(TileError::OutsideTree { index, size })?;
                if tiles.contains(&parent) {
                    break;
                }
                chain.push(parent);
                k = k
                    .checked_add(1)
                    .filter(|&k| k < 64)
                    .ok_or(TileError::OutsideTree { index, size })?;
            }
            for tile in chain.into_iter().rev() {
                slot_of(tile, &mut tiles);
            }
            let own = tile_parent(&tile, 0, size).ok_or(TileError::OutsideTree { index, size })?;
            requested.push((index, slot_of(own, &mut tiles)));
        }
        Ok(TilePlan {
            size,
            tiles,
            root_parts,
            root_tiles,
            requested,
        })
    }

    /// The tiles to fetch, in order.
    pub fn tiles(&self) -> &[Tile] {
        &self.tiles
    }

    /// Authenticates the fetched tiles against `root` and returns the
    /// requested hashes in the order they were asked for.
    pub fn hashes(&self, root: &Hash, data: &[Vec<u8>]) -> Result<Vec<Hash>, TileError> {
        if data.len() != self.tiles.len() {
            return Err(ReadError::new(format!(
                "got {} tiles for a plan of {}",
                data.len(),
                self.tiles.len()
            ))
            .into());
        }
        for (tile, bytes) in self.tiles.iter().zip(data) {
            check_tile_length(tile, bytes)?;
        }
        let inconsistent = |tile: &Tile| TileError::Inconsistent {
            tile: tile.to_string(),
            size: self.size,
        };
        // The right edge: its subtree roots must fold into the trusted root.
        let mut parts = Vec::with_capacity(self.root_parts.len());
        for &(index, slot) in &self.root_parts {
            parts.push(hash_from_tile(&self.tiles[slot], &data[slot], index)?);
        }
        let computed = if parts.is_empty() {
            crate::merkle::empty_root()
        } else {
            crate::merkle::tree_hash_from_hashes(self.size, &parts)
                .map_err(|_| inconsistent(&self.tiles[0]))?
        };
        if computed != *root {
            return Err(inconsistent(
                self.tiles.first().unwrap_or(&Tile::full(HEIGHT, 0, 0)),
            ));
        }
        // Every other tile is full; its root must appear in its parent.
        for (slot, tile) in self.tiles.iter().enumerate().skip(self.root_tiles) {
            let parent = tile_parent(tile, 1, self.size).ok_or_else(|| inconsistent(tile))?;
            let parent_slot = self.tiles[..slot]
                .iter()
                .position(|t| *t == parent)
                .ok_or_else(|| inconsistent(tile))?;
            let parent_level =
                u32::from(parent.hash_level().unwrap_or(0)) * u32::from(parent.height);
            let expected = hash_from_tile(
                &parent,
                &data[parent_slot],
                stored_hash_index(parent_level, tile.index),
            )?;
            if !tile.is_full() || tile_subtree_hash(&data[slot]) != expected {
                return Err(inconsistent(tile));
            }
        }
        self.requested
            .iter()
            .map(|&(index, slot)| hash_from_tile(&self.tiles[slot], &data[slot], index))
            .collect()
    }
}

/// An inclusion or consistency proof computed from tiles, in two phases for
/// callers that fetch asynchronously (a browser): fetch
/// [`TileProof::tiles`], then [`TileProof::proof`] authenticates them
/// against the trusted root and folds the proof. Same answer as
/// [`crate::merkle::prove_inclusion`] / [`crate::merkle::prove_consistency`]
/// over a [`TileHashReader`].
#[derive(Debug, Clone)]
pub struct TileProof {
    plan: TilePlan,
    kind: ProofKind,
}

#[derive(Debug, Clone, Copy)]
enum ProofKind {
    Inclusion { index: u64, size: u64 },
    Consistency { old: u64, size: u64 },
}

impl TileProof {
    /// Plans the inclusion proof of leaf `index` in the tree of `size`.
    pub fn inclusion(index: u64, size: u64) -> Result<TileProof, TileError> {
        let indexes = crate::merkle::inclusion_proof_indexes(index, size)
            .map_err(|_| TileError::OutsideTree { index, size })?;
        Ok(TileProof {
            plan: TilePlan::new(HEIGHT, size, &indexes)?,
            kind: ProofKind::Inclusion { index, size },
        })
    }

    /// Plans the consistency proof from the tree of `old` leaves to the
    /// tree of `size` (`0 < old <= size`).
    pub fn consistency(old: u64, size: u64) -> Result<TileProof, TileError> {
        let indexes = crate::merkle::consistency_proof_indexes(old, size)
            .map_err(|_| TileError::OutsideTree { index: old, size })?;
        Ok(TileProof {
            plan: TilePlan::new(HEIGHT, size, &indexes)?,
            kind: ProofKind::Consistency { old, size },
        })
    }

    /// The tiles to fetch, in order.
    pub fn tiles(&self) -> &[Tile] {
        self.plan.tiles()
    }

    /// The proof, from the fetched tiles authenticated against `root`.
    pub fn proof(&self, root: &Hash, data: &[Vec<u8>]) -> Result<Vec<Hash>, TileError> {
        let hashes = self.plan.hashes(root, data)?;
        let folded = match self.kind {
            ProofKind::Inclusion { index, size } => {
                crate::merkle::inclusion_proof_from_hashes(index, size, &hashes)
            }
            ProofKind::Consistency { old, size } => {
                crate::merkle::consistency_proof_from_hashes(old, size, &hashes)
            }
        };
        folded.map_err(|e| ReadError::new(e.to_string()).into())
    }
}

/// A [`HashReader`] over the static read path: it fetches the tiles holding
/// the requested hashes and authenticates them against a trusted root before
/// answering, so proofs computed with it need no trust in the server.
pub struct TileHashReader<'a, R: TileReader + ?Sized> {
    size: u64,
    root: Hash,
    reader: &'a R,
}

impl<'a, R: TileReader + ?Sized> TileHashReader<'a, R> {
    /// A reader for the C2SP tree of `size` leaves with root `root`.
    pub fn new(size: u64, root: Hash, reader: &'a R) -> Self {
        TileHashReader { size, root, reader }
    }
}

impl<R: TileReader + ?Sized> HashReader for TileHashReader<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ReadError> {
        let plan = TilePlan::new(HEIGHT, self.size, indexes).map_err(ReadError::new)?;
        let data = self.reader.read_tiles(plan.tiles())?;
        plan.hashes(&self.root, &data).map_err(ReadError::new)
    }
}

#[cfg(test)]
mod leaf_range_tests {
    use super::*;

    #[test]
    fn leaf_range_is_exact_in_range_and_saturates_beyond() {
        assert_eq!(
            Tile::parse_path("tile/1/001.p/3").unwrap().leaf_range(),
            (65_536, 65_536 + 768)
        );
        assert_eq!(
            Tile::parse_path("tile/0/000").unwrap().leaf_range(),
            (0, 256)
        );
        assert_eq!(
            Tile::parse_path("tile/63/001").unwrap().leaf_range(),
            (u64::MAX, u64::MAX)
        );
        assert_eq!(
            Tile::parse_path("tile/7/000.p/255").unwrap().leaf_range(),
            (0, 255 << 56)
        );
        assert_eq!(
            Tile::parse_path("tile/7/000").unwrap().leaf_range(),
            (0, u64::MAX)
        );
    }

    #[test]
    fn a_partial_tile_is_cut_from_the_full_tile_at_its_position() {
        let full: Vec<u8> = (0..256 * 32).map(|i| (i % 251) as u8).collect();
        let partial = Tile::parse_path("tile/1/x002/007.p/5").unwrap();
        assert_eq!(partial.at_full_width().path(), "tile/1/x002/007");
        assert_eq!(partial_from_full(&partial, &full).unwrap(), full[..5 * 32]);
        assert!(matches!(
            partial_from_full(&partial, &full[..255 * 32]),
            Err(TileError::WrongLength { .. })
        ));

        let entries: Vec<Vec<u8>> = (0..256u32)
            .map(|i| vec![i as u8; (i % 7) as usize])
            .collect();
        let bundle = format_entry_bundle(entries.iter().map(Vec::as_slice)).unwrap();
        let partial = Tile::parse_path("tile/entries/000.p/3").unwrap();
        let cut = partial_from_full(&partial, &bundle).unwrap();
        assert_eq!(
            parse_entry_bundle(&partial, &cut).unwrap(),
            entries[..3].iter().map(Vec::as_slice).collect::<Vec<_>>()
        );
        // A full bundle too short for the partial one is refused.
        let short = format_entry_bundle(entries[..2].iter().map(Vec::as_slice)).unwrap();
        assert!(matches!(
            partial_from_full(&partial, &short),
            Err(TileError::BadBundle { .. })
        ));
        assert!(partial_from_full(&partial, &[0, 9, 1]).is_err());
    }
}
