//! The scenario both fault-injection suites (the filesystem's and the
//! object store's) fail commits in: a base tree, then one batch that
//! completes the first tile and bundle and starts level 1.
//!
//! A test log is not empty when it opens: its first commit, at the first
//! start, logs the agency's registration and the commitment ending that
//! batch ([`FIRST`] entries). The suites let that commit and the base
//! tree's go through before they arm their faults, so the faults meet the
//! batch's commit.

use super::{FIRST, Layout, body};

/// Records in the tree before the failing commit, in one batch ended by its
/// commitment (so `FIRST + BASE + 1` entries with the registration's): the
/// batch after it completes the first tile (and bundle) and starts level 1.
pub const BASE: u64 = 250;
/// Records in the failing batch (`BATCH + 1` entries with its commitment).
pub const BATCH: u64 = 10;

/// The base tree's records.
pub fn base_records() -> Vec<Vec<u8>> {
    (0..BASE).map(body).collect()
}

// The base tree fills less than a tile; the batch completes it.
const _: () = assert!(FIRST + BASE + 1 < 256 && FIRST + BASE + 1 + BATCH + 1 > 256);

/// The failing batch's records.
pub fn batch_records() -> Vec<Vec<u8>> {
    (BASE..BASE + BATCH).map(body).collect()
}

/// Where the entries are once the base tree is committed (on top of the
/// registration).
pub fn base_layout() -> Layout {
    Layout::opened(&[BASE])
}

/// Where the entries are once the base and the batch are committed.
pub fn layout() -> Layout {
    Layout::opened(&[BASE, BATCH])
}

/// The indexes the batch's records get on top of the base tree.
pub fn batch_indexes() -> Vec<u64> {
    layout().records[BASE as usize..].to_vec()
}
