//! The witness's Prometheus metrics through the `metrics` facade; the kit
//! installs the recorder. Its own module, so that the witness records and
//! the API renders without either importing the other.

use gazette_kit::metrics::PrometheusHandle;

/// `add-checkpoint` requests answered, by status.
pub const ADD_CHECKPOINT: &str = "gazette_witness_add_checkpoint_total";
/// The size last cosigned, by log origin.
pub const LOG_SIZE: &str = "gazette_witness_log_size";

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    gazette_kit::metrics::handle(&[])
}
