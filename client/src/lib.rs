//! # gazette-client — the Gazette protocol core
//!
//! Pure, deterministic implementations of the formats and proofs a
//! transparency log, its witnesses and its light clients share. Nothing here
//! does I/O: callers supply stored hashes, tiles and keys, and receive
//! values or precise errors. One module per specification:
//!
//! | module | specification |
//! | --- | --- |
//! | [`merkle`] | RFC 6962 / RFC 9162 hashing, stored-hash layout, proofs |
//! | [`tiles`] | c2sp.org/tlog-tiles paths, tile sets, entry bundles, proofs from tiles |
//! | [`note`] | c2sp.org/signed-note: notes, signer and verifier keys |
//! | [`checkpoint`] | c2sp.org/tlog-checkpoint |
//! | [`cosignature`] | c2sp.org/tlog-cosignature (`cosignature/v1`) |
//! | [`policy`] | c2sp.org/tlog-policy: parse and quorum evaluation |
//! | [`tlog_proof`] | c2sp.org/tlog-proof@v1 offline receipts |
//! | [`witness_protocol`] | c2sp.org/tlog-witness `add-checkpoint` requests and checks |
//! | [`encoding`] | the canonical text encodings every format shares (base64, decimal, hex) |
//! | [`names`] | display names of agencies and kinds (`en`, `zh-CN`), for pages and certificates |
//! | [`record`] | Gazette records (`gazette.record/v1`) and revocations |
//! | [`registry`] | the agency registry (`gazette.agency/v1`): agency keys' registrations, retirements and compromises as log entries, and the windows they give |
//! | [`index`] | the verifiable index (`gazette.index/v1`, `docs/INDEX.md`): keys, map proofs, commitments, record status |
//! | [`receipt`] | verifying a Gazette receipt (a tlog-proof carrying a record) offline: one rule set for every client |
//! | [`trust`] | advancing a trusted checkpoint without accepting a rollback or fork |

pub mod checkpoint;
pub mod cosignature;
pub mod encoding;
pub mod index;
pub mod merkle;
pub mod names;
pub mod note;
pub mod policy;
pub mod receipt;
pub mod record;
pub mod registry;
mod signature_type;
pub mod tiles;
pub mod tlog_proof;
pub mod trust;
pub mod witness_protocol;

pub use merkle::Hash;

/// The README's examples, compiled and run as doctests so they cannot rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
