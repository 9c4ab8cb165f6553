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

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use gazette_client::tiles::TileLevel;

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

    fn insert(&self, path: &str, data: Bytes) {
        if cost(path, &data) > self.budget / 2 {
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
