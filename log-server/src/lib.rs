//! # gazette-log — the Gazette log server
//!
//! Agencies append signed records; the sequencer commits them in batches as
//! c2sp.org/tlog-tiles tiles with a newly signed checkpoint, durably, before
//! it acknowledges; anyone reads the tiles and the checkpoint.
//!
//! | module | what it is |
//! | --- | --- |
//! | [`config`] | `gazette-log.toml`, with precise errors |
//! | [`agencies`] | the agencies file: read for the migration, written as the registry's view |
//! | [`registry`] | the agency registry the log keeps: folded at start, changed by the sequencer |
//! | [`storage`] | every durable piece of log state: the fsync discipline, the bucket and etcd |
//! | [`stored`] | reading the committed tree back: proofs, entries, receipts |
//! | [`tree`] | the in-memory right edge: append, new tiles, root |
//! | [`checkpoints`] | the committed and the witnessed checkpoint, and their watches |
//! | [`sequencer`] | the one writer: batching, dedup, signing; starts the stages behind it |
//! | `committer` | the writer's second stage: durable commit, publish, answer |
//! | `pruner` | removing partial tiles once their full tile is durable |
//! | `pipeline` | what passes between the writer's stages |
//! | [`index`] | the fjall indexes, rebuildable from the tiles |
//! | [`indexer`] | the stage behind the committer: record index, then lookup index |
//! | [`log`] | opening and recovering a log |
//! | [`follower`] | a replica following the checkpoints in the bucket |
//! | [`metrics`] | Prometheus metrics |
//! | [`rate`] | per-agency rate limits |
//! | [`witnessing`] | sending checkpoints to witnesses, publishing cosigned ones |
//! | [`api`] | the HTTP API |

pub mod add_verifier;
pub mod agencies;
pub mod api;
pub mod checkpoints;
mod committer;
pub mod config;
pub mod follower;
pub mod index;
pub mod indexer;
pub mod log;
pub mod map;
pub mod metrics;
pub mod names;
mod pipeline;
mod pruner;
pub mod rate;
pub mod registry;
pub mod reloaded;
pub mod sequencer;
pub mod storage;
pub mod stored;
pub mod tile_cache;
pub mod tree;
pub mod witnessing;
