//! The log's Prometheus metrics through the `metrics` facade, with
//! histogram buckets for what operators watch (batch sizes, commit
//! latency, request latency); the kit installs the recorder.

use gazette_kit::metrics::{Matcher, PrometheusHandle};

/// Records per committed batch.
pub const BATCH_RECORDS: &str = "gazette_batch_records";
/// Seconds a durable commit (tiles + checkpoint) takes.
pub const COMMIT_SECONDS: &str = "gazette_commit_seconds";
/// HTTP requests by route and status.
pub const HTTP_REQUESTS: &str = "gazette_http_requests_total";
/// Seconds per HTTP request, by route.
pub const HTTP_SECONDS: &str = "gazette_http_request_seconds";
/// Records refused for an agency's rate limit.
pub const RATE_LIMITED: &str = "gazette_rate_limited_records_total";
/// The committed tree size.
pub const TREE_SIZE: &str = "gazette_tree_size";
/// The size of the newest published (witnessed) checkpoint.
pub const PUBLISHED_SIZE: &str = "gazette_published_size";
/// Records queued or being committed.
pub const QUEUE_DEPTH: &str = "gazette_queue_depth";
/// Writes the storage refused, each retried, by stage (committer, record-indexer).
pub const STORAGE_RETRIES: &str = "gazette_storage_retries_total";
/// Superseded partial tiles removed once their full tile was written.
pub const PARTIAL_TILES_REMOVED: &str = "gazette_partial_tiles_removed_total";
/// The tree size the lookup index covers.
pub const LOOKUP_COVERED: &str = "gazette_lookup_index_covered_size";

const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const RECORDS: &[f64] = &[
    1.0, 10.0, 100.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 50000.0,
];

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    gazette_kit::metrics::handle(&[
        (Matcher::Full(BATCH_RECORDS.into()), RECORDS),
        (Matcher::Suffix("_seconds".into()), SECONDS),
    ])
}
