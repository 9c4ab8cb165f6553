//! The scenario both fault-injection suites (the filesystem's and the
//! object store's) fail commits in: a base tree, then one batch that
//! completes the first tile and bundle and starts level 1.

use super::{Layout, body};

/// Records in the tree before the failing commit, in one batch ended by its
/// commitment (so `BASE + 1` entries): the batch after it completes the
/// first tile (and bundle) and starts level 1.
pub const BASE: u64 = 250;
/// Records in the failing batch (`BATCH + 1` entries with its commitment).
pub const BATCH: u64 = 10;

/// The base tree's records.
pub fn base_records() -> Vec<Vec<u8>> {
    (0..BASE).map(body).collect()
}

/// The failing batch's records.
pub fn batch_records() -> Vec<Vec<u8>> {
    (BASE..BASE + BATCH).map(body).collect()
}

/// Where the entries are once the base and the batch are committed.
pub fn layout() -> Layout {
    Layout::of(&[BASE, BATCH])
}

/// The indexes the batch's records get on top of the base tree.
pub fn batch_indexes() -> Vec<u64> {
    layout().records[BASE as usize..].to_vec()
}
