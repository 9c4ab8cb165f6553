//! What a record's status is (`docs/INDEX.md`, section 7), from the list
//! of entries filed under its name: the one rule every verifier and the
//! log's own lookups apply.
//!
//! A record (any kind but `revocation`) is **revoked** if its name's list
//! holds a revocation of it by its issuer, wherever that revocation sits
//! in the log, before or after the record; revoked by the lowest such
//! index. Otherwise it is **valid** as of the tree the list covers.

use crate::note::Verifier;
use crate::record::{REVOCATION, Record};
use crate::registry::{TrustedKeys, Untrusted};

use super::lookup::ProvenList;

/// A record's status as of a tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// No revocation of it in the tree.
    Valid,
    /// Revoked by its issuer.
    Revoked {
        /// The lowest index of a revocation of it.
        by: u64,
    },
}

/// Why no status can be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// A revocation has no status of its own: it is the status of another.
    #[error("a revocation has no status of its own")]
    IsRevocation,
    /// The record is not on the list given.
    #[error("entry {index} is not on its name's list")]
    NotOnList {
        /// The record's index.
        index: u64,
    },
    /// A record on the list is not signed by its issuer's key: the log
    /// holds a forged entry.
    #[error(
        "entry {index} is not signed by its issuer's key ({reason}): the log holds a forged entry"
    )]
    Forged {
        /// The forged entry's index.
        index: u64,
        /// Why its signature was refused.
        reason: String,
    },
    /// The log holds two different documents under one name, which an
    /// honest log refuses (409): it is faulty.
    #[error(
        "the log holds two documents under one name (entries {first} and {second}): it broke its rule of one record per name"
    )]
    Conflict {
        /// The lower index.
        first: u64,
        /// The other.
        second: u64,
    },
}

/// The status of `record`, logged at `index`, given every entry filed
/// under its name as `(index, record)` (the record itself included).
/// Entries on the list that concern other names are ignored: whether each
/// belongs on the list is the proof's business, not the status's.
pub fn status<'a>(
    record: &Record,
    index: u64,
    name_list: impl IntoIterator<Item = (u64, &'a Record)>,
) -> Result<Status, StatusError> {
    if record.kind == REVOCATION {
        return Err(StatusError::IsRevocation);
    }
    let mut revoked_by: Option<u64> = None;
    for (i, other) in name_list {
        if record.is_revoked_by(other) {
            revoked_by = Some(revoked_by.map_or(i, |by| by.min(i)));
        } else if other.issuer == record.issuer
            && other.kind == record.kind
            && other.id == record.id
            && other.digest != record.digest
        {
            return Err(StatusError::Conflict {
                first: i.min(index),
                second: i.max(index),
            });
        }
    }
    Ok(match revoked_by {
        Some(by) => Status::Revoked { by },
        None => Status::Valid,
    })
}

/// The status of the record at `index`, from its name's proven list,
/// counting only records signed by one of `keys` (the keys the verifier
/// trusts for the issuer): a listed record whose signature does not verify
/// is a forgery the verifier reports, never a revocation it counts.
pub fn proven_status(
    list: &ProvenList,
    index: u64,
    keys: &[Verifier],
) -> Result<Status, StatusError> {
    let trusted = TrustedKeys {
        pinned: keys,
        histories: None,
    };
    proven_status_under(list, index, &trusted)
}

/// [`proven_status`] under the keys a verifier trusts: pinned ones, the
/// agencies' proven histories (each record inside its key's window), or
/// both.
pub fn proven_status_under(
    list: &ProvenList,
    index: u64,
    trusted: &TrustedKeys,
) -> Result<Status, StatusError> {
    let record = list
        .records
        .iter()
        .find(|(i, _)| *i == index)
        .map(|(_, signed)| &signed.record)
        .ok_or(StatusError::NotOnList { index })?;
    let counted = signed_under(list, trusted)?;
    status(record, index, counted)
}

/// Checks that every record on `list` is signed by one of `keys`: a record
/// that is not is a forgery the log holds, reported with its index.
pub fn signed_by(list: &ProvenList, keys: &[Verifier]) -> Result<(), StatusError> {
    let trusted = TrustedKeys {
        pinned: keys,
        histories: None,
    };
    signed_under(list, &trusted).map(|_| ())
}

/// The records on `list` that are their issuer's under `trusted`, and
/// count: a record whose signature does not verify is a forgery the log
/// holds, reported with its index; one under a key since cut off is left
/// out.
pub fn signed_under<'a>(
    list: &'a ProvenList,
    trusted: &TrustedKeys,
) -> Result<Vec<(u64, &'a Record)>, StatusError> {
    let mut counted = Vec::with_capacity(list.records.len());
    for (index, signed) in &list.records {
        match trusted.check(signed, *index) {
            Ok(()) => counted.push((*index, &signed.record)),
            Err(Untrusted::OutsideWindow(_) | Untrusted::NotPinned(_)) => {}
            Err(Untrusted::Invalid(reason)) => {
                return Err(StatusError::Forged {
                    index: *index,
                    reason,
                });
            }
        }
    }
    Ok(counted)
}
