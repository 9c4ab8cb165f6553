//! # gazette-witness — a c2sp.org/tlog-witness node
//!
//! A witness follows logs it was told about (`logs.txt`), and for each one
//! cosigns a checkpoint only if it extends, by a valid consistency proof,
//! the last one it cosigned. Its promise: for each log it never cosigns two
//! different roots for one size and never goes back, across crashes,
//! because the new state is on disk (fsynced) before any cosignature
//! leaves. It works for any C2SP log, Gazette or not.
//!
//! | module | what it is |
//! | --- | --- |
//! | [`config`] | `gazette-witness.toml`, with precise errors |
//! | [`logs`] | the logs this witness follows (`logs.txt`) |
//! | [`metrics`] | the names of its Prometheus metrics, the recorder |
//! | [`state`] | the durable per-log state: the last cosigned checkpoint |
//! | [`witness`] | the per-log check-and-update, one writer per log |
//! | [`api`] | the HTTP API |

pub mod api;
pub mod config;
pub mod logs;
pub mod metrics;
pub mod state;
pub mod witness;
