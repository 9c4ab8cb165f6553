//! # gazette-log — the Gazette log server
//!
//! Agencies append signed records; the sequencer commits them in batches as
//! c2sp.org/tlog-tiles tiles with a newly signed checkpoint, durably, before
//! it acknowledges; anyone reads the tiles and the checkpoint.
//!
//! | module | what it is |
//! | --- | --- |
//! | [`config`] | `gazette-log.toml`, with precise errors |
//! | [`agencies`] | the registered agency keys |
//! | [`storage`] | the tree store and its fsync discipline |
//! | [`stored`] | reading the committed tree back: proofs, entries, receipts |
//! | [`tree`] | the in-memory right edge: append, new tiles, root |
//! | [`sequencer`] | the one writer: batching, dedup, commit, publish |
//! | [`index`] | the fjall indexes, rebuildable from the tiles |
//! | [`indexer`] | keeps the lookup index up behind the writer |
//! | [`log`] | opening and recovering a log |
//! | [`metrics`] | Prometheus metrics |
//! | [`rate`] | per-agency rate limits |
//! | [`witnessing`] | sending checkpoints to witnesses, publishing cosigned ones |
//! | [`api`] | the HTTP API |

pub mod agencies;
pub mod api;
pub mod config;
pub mod index;
pub mod indexer;
pub mod log;
pub mod metrics;
pub mod rate;
pub mod sequencer;
pub mod storage;
pub mod stored;
pub mod tile_cache;
pub mod tree;
pub mod witnessing;
