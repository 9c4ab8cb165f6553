//! # gazette-wasm — Gazette's light client in the browser
//!
//! Thin wasm-bindgen bindings over [`gazette_client`]: every check is the
//! protocol core's; this crate only converts between JavaScript values and
//! the core's types. It does no I/O either: the page fetches checkpoints,
//! tiles and lookups and hands the bytes in, so what the page shows is
//! computed here from signed data, trusting no server.
//!
//! | binding | what it does |
//! | --- | --- |
//! | [`DocumentHasher`] | SHA-256 of a document fed in chunks (never uploaded) |
//! | [`LogVerifier`] | checkpoints under the witness policy, receipts, records, inclusion, advancing the trusted checkpoint, agencies' key histories proven from the log's registry (`provenAgency`), and proven verdicts from the verifiable index (`provenDocument`, `provenName`, `provenStatus`) |
//! | [`TileProofPlan`] | inclusion and consistency proofs computed from the log's tiles |
//! | [`parse_names`] (`parseNames`) | the operator's display names for agencies and kinds ([`gazette_client::names`]) |
//! | [`qr_svg`] (`qrSvg`) | a QR code as SVG, for the page's printable certificate |
//!
//! Records are checked as their issuers' under the keys the page pins (its
//! `agencies` file) and the agencies' key histories the log proves
//! (`docs/INDEX.md`, section 8), never under keys the log merely announces.
//!
//! Failures are JavaScript `Error`s with a `code` (see [`failure`]) so the
//! page can give a verdict without parsing messages.

mod agency;
mod failure;
mod hasher;
mod index;
mod names;
mod objects;
mod qr;
mod tile_proof;
mod verifier;

pub use failure::Code;
pub use hasher::DocumentHasher;
pub use names::parse_names;
pub use qr::qr_svg;
pub use tile_proof::TileProofPlan;
pub use verifier::LogVerifier;
