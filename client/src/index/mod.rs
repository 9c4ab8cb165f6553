//! The verifiable index (`gazette.index/v1`, specified in `docs/INDEX.md`):
//! a map from keys to the list of log entries filed under each, cut into
//! segments of consecutive entries, each a sparse Merkle tree; the list of
//! segment roots ends every batch as a commitment entry, so it travels
//! through the log itself. It turns "not found" and "not revoked" into
//! proofs.
//!
//! - [`document_key`] and [`name_key`]: where a record is filed
//!   ([`keys_of`]), and [`ListValue`]: the hash of a key's list in one
//!   segment;
//! - [`tree`]: a segment's sparse Merkle tree, built in one pass from
//!   sorted keys or updated over a caller's node store
//!   ([`tree::NodeReader`]), and its proofs;
//! - [`proof`]: a proof for one key, its encoding and its verification;
//! - [`commitment`]: the entry that ends every batch;
//! - [`lookup`]: verifying everything a log holds under one key;
//! - [`status`]: what a record's status is, computed from its name's list.

pub mod commitment;
pub mod lookup;
pub mod proof;
pub mod status;
pub mod tree;

use sha2::{Digest, Sha256};

use std::collections::BTreeMap;

use crate::merkle::{Hash, leaf_hash};
use crate::record::{REVOCATION, Record, SignedRecord};
use crate::registry::SignedRegistryEntry;

/// The first byte of a list value's hash input (after the map's leaf and
/// node prefixes, none of them RFC 6962's).
pub const VALUE_PREFIX: u8 = 0x04;

/// The all-zero hash: an empty subtree.
pub const EMPTY: Hash = Hash([0; 32]);

/// The key a document's records are filed under:
/// `SHA-256("gazette.index/v1 digest " || digest)`.
pub fn document_key(digest: &[u8; 32]) -> Hash {
    let mut h = Sha256::new();
    h.update(b"gazette.index/v1 digest ");
    h.update(digest);
    Hash(h.finalize().into())
}

/// The key a record name's history is filed under:
/// `SHA-256("gazette.index/v1 name " || issuer || "\n" || kind || "\n" || id)`.
pub fn name_key(issuer: &str, kind: &str, id: &str) -> Hash {
    let mut h = Sha256::new();
    h.update(b"gazette.index/v1 name ");
    h.update(issuer.as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    h.update(id.as_bytes());
    Hash(h.finalize().into())
}

/// The key an agency's registry entries are filed under:
/// `SHA-256("gazette.index/v1 agency " || agency)`.
pub fn agency_key(agency: &str) -> Hash {
    let mut h = Sha256::new();
    h.update(b"gazette.index/v1 agency ");
    h.update(agency.as_bytes());
    Hash(h.finalize().into())
}

/// Every key a record is filed under: its document, its name, and for a
/// revocation the name it revokes (an entry is filed once per key: a
/// revocation's own kind is `revocation`, the kind it revokes is not).
pub fn keys_of(record: &Record) -> Vec<Hash> {
    let mut keys = vec![
        document_key(&record.digest),
        name_key(&record.issuer, &record.kind, &record.id),
    ];
    if let Some((kind, id)) = &record.revokes
        && record.kind == REVOCATION
    {
        keys.push(name_key(&record.issuer, kind, id));
    }
    keys
}

/// The keys a log entry is filed under: a record's ([`keys_of`]), a
/// registry entry's agency ([`agency_key`]), none for anything else
/// (signatures are not checked: the map is a function of the entries alone).
pub fn keys_of_entry(entry: &[u8]) -> Vec<Hash> {
    if let Ok(signed) = SignedRecord::parse(entry) {
        return keys_of(&signed.record);
    }
    match SignedRegistryEntry::parse(entry) {
        Ok(signed) => vec![agency_key(&signed.entry.agency)],
        Err(_) => Vec::new(),
    }
}

/// The value of a key in a segment: the hash of its part of the list,
/// `SHA-256(0x04 || u64be(i_1) || h_1 || ... || u64be(i_n) || h_n)`,
/// n >= 1, in increasing index order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListValue(pub Hash);

impl ListValue {
    /// The value of a list of `(index, leaf hash)`.
    pub fn of<'a>(list: impl IntoIterator<Item = (u64, &'a Hash)>) -> ListValue {
        let mut h = Sha256::new();
        h.update([VALUE_PREFIX]);
        for (index, leaf_hash) in list {
            h.update(index.to_be_bytes());
            h.update(leaf_hash.0);
        }
        ListValue(Hash(h.finalize().into()))
    }
}

/// Every key some entries file, with its list of `(index, leaf hash)`, in
/// key order.
pub type Lists = BTreeMap<Hash, Vec<(u64, Hash)>>;

/// Adds the keys `entry`, logged at `index`, is filed under to `lists`
/// (`docs/INDEX.md`, section 1); an entry that is neither a record nor a
/// registry entry files nothing. Entries must come in index order.
pub fn file_entry(lists: &mut Lists, index: u64, entry: &[u8]) {
    let keys = keys_of_entry(entry);
    if keys.is_empty() {
        return;
    }
    let leaf = leaf_hash(entry);
    for key in keys {
        lists.entry(key).or_default().push((index, leaf));
    }
}

/// The root of the segment holding `entries` (`(index, bytes)`, in index
/// order, every entry of the segment's range): what a monitor recomputes
/// to check a commitment. Memory grows with the entries given.
pub fn segment_root<'a>(entries: impl IntoIterator<Item = (u64, &'a [u8])>) -> Hash {
    let mut lists = Lists::new();
    for (index, entry) in entries {
        file_entry(&mut lists, index, entry);
    }
    let pairs = lists
        .iter()
        .map(|(key, list)| (*key, ListValue::of(list.iter().map(|(i, h)| (*i, h)))));
    tree::build_sorted(pairs, &mut |_| Ok::<(), std::convert::Infallible>(()))
        .expect("a BTreeMap's keys come sorted and distinct")
}
