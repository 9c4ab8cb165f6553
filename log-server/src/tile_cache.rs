//! Tiles kept in memory for the static read path. Every tile path names
//! immutable content (a full tile never changes; a partial tile's width is
//! in its path), so a cached copy never goes stale.
//!
//! Hash tiles and entry bundles are kept apart, each in its own share of the
//! budget: every verifier reads hash tiles (proofs), while bundles are mostly
//! read once, in order, by monitors, and a monitor's scan through millions
//! of bundles must not push out the hash tiles everyone needs. Hash tiles
//! are also a tenth of a bundle's size, so the same memory answers more
//! requests.
//!
//! Each share is two generations of at most half of it; a hit in the old
//! one is promoted, and when the new one fills it becomes the old one and
//! the old one is dropped — roughly least-recently-used, at O(1) per request.
//!
//! An entry bundle is also kept gzip-encoded, for the clients that accept
//! it ([`TileCache::gzip_bundle`]), so it is compressed once while it stays
//! here, not once per request. The two encodings are separate entries of
//! the bundles' share, each charged and aged on its own: a log whose
//! readers all accept gzip holds only the compressed copies. Hash tiles
//! are random hashes, which do not compress: they are kept as they are.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use axum::body::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use gazette_client::tiles::TileLevel;

/// The gzip level of entry bundles. Level 1 compressed a full bundle of
/// typical records (84 KB) to 0.40 of its size in a fifth of level 6's
/// time, whose output was only 4 % smaller (docs/BENCHMARKS.md).
pub const GZIP_LEVEL: u32 = 1;

/// `data` gzip-encoded at [`GZIP_LEVEL`].
pub fn gzip(data: &[u8]) -> Bytes {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        Compression::new(GZIP_LEVEL),
    );
    // Writing to a Vec cannot fail.
    encoder.write_all(data).expect("writing to memory");
    Bytes::from(encoder.finish().expect("writing to memory"))
}

/// Where the gzip encoding of the bundle at `path` is kept: not a tile
/// path (`Tile::parse_path` rejects it), so never the key of a tile.
fn gzip_key(path: &str) -> String {
    format!("{path}.gz")
}

/// What an entry costs beyond its tile: the path, the map slot, the
/// handle. Counted so that many tiny partial tiles cannot exceed the budget.
const ENTRY_OVERHEAD: usize = 128;

/// Bytes of memory an entry is charged.
fn cost(path: &str, data: &Bytes) -> usize {
    data.len() + path.len() + ENTRY_OVERHEAD
}

#[derive(Default)]
struct Generations {
    new: HashMap<String, Bytes>,
    new_bytes: usize,
    old: HashMap<String, Bytes>,
}

/// One share of the budget.
struct Share {
    budget: usize,
    inner: Mutex<Generations>,
}

impl Share {
    fn new(budget: usize) -> Share {
        Share {
            budget,
            inner: Mutex::new(Generations::default()),
        }
    }

    fn get(&self, path: &str) -> Option<Bytes> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(data) = g.new.get(path) {
            return Some(data.clone());
        }
        let data = g.old.remove(path)?;
        let dropped = Self::put(&mut g, self.budget, path.to_owned(), data.clone());
        drop(g);
        drop(dropped);
        Some(data)
    }

    fn remove(&self, path: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(gone) = g.new.remove(path) {
            g.new_bytes -= cost(path, &gone);
        }
        g.old.remove(path);
    }

    /// Whether a tile of `len` bytes at `path` could be kept: it must fit
    /// in one generation.
    fn fits(&self, path: &str, len: usize) -> bool {
        len + path.len() + ENTRY_OVERHEAD <= self.budget / 2
    }

    fn insert(&self, path: &str, data: Bytes) {
        if !self.fits(path, data.len()) {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let dropped = Self::put(&mut g, self.budget, path.to_owned(), data);
        drop(g);
        drop(dropped);
    }

    /// Keeps `data`; returns the generation it retired, to be freed by the
    /// caller outside the lock.
    fn put(
        g: &mut Generations,
        budget: usize,
        path: String,
        data: Bytes,
    ) -> Option<HashMap<String, Bytes>> {
        let charged = cost(&path, &data);
        let mut retired = None;
        if g.new_bytes + charged > budget / 2 {
            retired = Some(std::mem::replace(&mut g.old, std::mem::take(&mut g.new)));
            g.new_bytes = 0;
        }
        g.new_bytes += charged;
        if let Some(replaced) = g.new.insert(path.clone(), data) {
            g.new_bytes -= cost(&path, &replaced);
        }
        retired
    }

    #[cfg(test)]
    fn held_bytes(&self) -> usize {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.new_bytes + g.old.iter().map(|(p, d)| cost(p, d)).sum::<usize>()
    }
}

/// A bounded cache of tile contents by path.
pub struct TileCache {
    hashes: Share,
    bundles: Share,
}

impl TileCache {
    /// A cache holding at most `budget` bytes of tiles.
    pub fn new(budget: usize) -> TileCache {
        // A quarter for entry bundles (see the module's doc).
        let bundles = budget / 4;
        TileCache {
            hashes: Share::new(budget - bundles),
            bundles: Share::new(bundles),
        }
    }

    fn share(&self, level: TileLevel) -> &Share {
        match level {
            TileLevel::Entries => &self.bundles,
            TileLevel::Hashes(_) => &self.hashes,
        }
    }

    /// The tile of `level` at `path`, if held.
    pub fn get(&self, level: TileLevel, path: &str) -> Option<Bytes> {
        self.share(level).get(path)
    }

    /// Keeps the tile of `level` at `path`.
    pub fn insert(&self, level: TileLevel, path: &str, data: Bytes) {
        self.share(level).insert(path, data);
    }

    /// Forgets the tile of `level` at `path` (removed from the store).
    pub fn remove(&self, level: TileLevel, path: &str) {
        self.share(level).remove(path);
    }

    /// The gzip encoding of the entry bundle at `path`, if held.
    pub fn gzip_bundle(&self, path: &str) -> Option<Bytes> {
        self.bundles.get(&gzip_key(path))
    }

    /// The entry bundle `data` at `path` gzip-encoded, and kept; `None`,
    /// compressing nothing, when the bundles' share could not keep even a
    /// bundle of this size: a bundle is compressed once while it is held,
    /// never once per request.
    pub fn compress_bundle(&self, path: &str, data: &[u8]) -> Option<Bytes> {
        let key = gzip_key(path);
        // Judged by the most its encoding can take: incompressible data
        // grows by the gzip frame and a few bytes per stored block.
        if !self.bundles.fits(&key, data.len() + data.len() / 1024 + 64) {
            return None;
        }
        let compressed = gzip(data);
        self.bundles.insert(&key, compressed.clone());
        Some(compressed)
    }

    /// Bytes charged for what is held now.
    #[cfg(test)]
    fn held_bytes(&self) -> usize {
        self.hashes.held_bytes() + self.bundles.held_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_fits_promotes_hits_and_never_exceeds_its_budget() {
        let tile = |n: u8| Bytes::from(vec![n; 10]);
        // Room for two one-letter tiles per generation.
        let unit = cost("a", &tile(0));
        let cache = Share::new(4 * unit);
        cache.insert("a", tile(1));
        cache.insert("b", tile(2));
        assert_eq!(cache.get("a"), Some(tile(1)));
        // A third tile overflows the new generation: a and b become old.
        cache.insert("c", tile(3));
        assert_eq!(cache.get("b"), Some(tile(2))); // promoted
        cache.insert("d", tile(4)); // new = {c, b} full → old = {c, b}, new = {d}
        cache.insert("e", tile(5));
        cache.insert("f", tile(6)); // old = {d, e}; a and c are gone
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("c"), None);
        assert_eq!(cache.get("d"), Some(tile(4)));
        for n in 0..100u8 {
            cache.insert(&format!("t{n}"), tile(n));
            assert!(cache.held_bytes() <= 4 * unit);
        }
        cache.insert("huge", Bytes::from(vec![0; 2 * unit]));
        assert_eq!(cache.get("huge"), None);
        // Tiny tiles are charged their overhead too: the bound holds.
        let tiny = Share::new(10 * ENTRY_OVERHEAD);
        for n in 0..1000 {
            tiny.insert(&format!("tile/0/000.p/{n}"), Bytes::from_static(b"x"));
            assert!(tiny.held_bytes() <= 10 * ENTRY_OVERHEAD);
        }
    }

    #[test]
    fn a_bundle_is_compressed_once_kept_in_its_share_and_decodes_to_itself() {
        use std::io::Read;
        let cache = TileCache::new(1 << 20);
        let path = "tile/entries/000";
        let bundle: Vec<u8> = (0..20_000u32)
            .flat_map(|n| (n % 97).to_be_bytes())
            .collect();
        assert_eq!(cache.gzip_bundle(path), None);
        let compressed = cache.compress_bundle(path, &bundle).unwrap();
        assert!(compressed.len() < bundle.len() / 4);
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert!(decoded == bundle);
        // Held: the next request takes this very copy.
        assert_eq!(cache.gzip_bundle(path), Some(compressed.clone()));
        // Charged to the bundles' share, apart from the bundle as stored.
        assert_eq!(cache.get(TileLevel::Entries, path), None);
        assert_eq!(cache.hashes.held_bytes(), 0);
        assert_eq!(
            cache.bundles.held_bytes(),
            cost(&gzip_key(path), &compressed)
        );
        // Many bundles: both encodings stay within the share.
        for n in 0..200 {
            let path = format!("tile/entries/{n:03}");
            cache.insert(TileLevel::Entries, &path, Bytes::from(bundle.clone()));
            cache.compress_bundle(&path, &bundle).unwrap();
            assert!(cache.bundles.held_bytes() <= (1 << 20) / 4);
        }
    }

    #[test]
    fn a_bundle_the_cache_could_not_keep_is_not_compressed() {
        let bundle = vec![7; 80_000];
        assert_eq!(
            TileCache::new(0).compress_bundle("tile/entries/000", &bundle),
            None
        );
        // Its stored size must fit one generation of the bundles' share,
        // even when it would compress to almost nothing.
        let small = TileCache::new(8 * 80_000);
        assert_eq!(small.compress_bundle("tile/entries/000", &bundle), None);
        let large = TileCache::new(8 * 90_000);
        assert!(large.compress_bundle("tile/entries/000", &bundle).is_some());
        // Incompressible data grows: the bound covers it.
        let noise: Vec<u8> = (0..80_000u32)
            .map(|n| (n.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let encoded = gzip(&noise);
        assert!(encoded.len() <= noise.len() + noise.len() / 1024 + 64);
    }

    #[test]
    fn a_scan_through_bundles_keeps_the_hash_tiles_and_the_whole_budget() {
        const LEVEL_0: TileLevel = TileLevel::Hashes(0);
        let budget = 1 << 20;
        let cache = TileCache::new(budget);
        let hash_tile = Bytes::from(vec![1; 8192]);
        for n in 0..40 {
            cache.insert(LEVEL_0, &format!("tile/0/{n:03}"), hash_tile.clone());
        }
        // A monitor reads 1 000 bundles of 80 KB, each once.
        for n in 0..1000 {
            cache.insert(
                TileLevel::Entries,
                &format!("tile/entries/x001/{n:03}"),
                Bytes::from(vec![2; 80_000]),
            );
            assert!(cache.held_bytes() <= budget);
        }
        for n in 0..40 {
            assert_eq!(
                cache.get(LEVEL_0, &format!("tile/0/{n:03}")),
                Some(hash_tile.clone())
            );
        }
        // The newest bundles are held, in their share.
        assert!(
            cache
                .get(TileLevel::Entries, "tile/entries/x001/999")
                .is_some()
        );
        assert!(cache.bundles.held_bytes() <= budget / 4);
    }
}
