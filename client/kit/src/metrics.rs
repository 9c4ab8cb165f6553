//! The process's Prometheus recorder behind the `metrics` facade: one per
//! process, installed on first use, so that the daemon and its tests can
//! ask for it from wherever the first metric is recorded.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
pub use metrics_exporter_prometheus::{Matcher, PrometheusHandle};

/// The content type of the Prometheus text format `GET /metrics` answers with.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's recorder: installed by the first call, with histogram
/// `buckets` for the metrics each matcher matches; later calls return it
/// as it is (one daemon per process, so one set of buckets).
pub fn handle(buckets: &[(Matcher, &[f64])]) -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let mut builder = PrometheusBuilder::new();
        for (matcher, bounds) in buckets {
            builder = builder
                .set_buckets_for_metric(matcher.clone(), bounds)
                .expect("non-empty buckets");
        }
        let handle = builder
            .install_recorder()
            .expect("the only metrics recorder of this process");
        // Histograms buffer samples until upkeep folds them into buckets:
        // do it regularly, scraped or not, so memory stays flat.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            })
            .expect("spawn the metrics upkeep thread");
        handle
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorder_is_installed_once_and_renders_what_was_recorded() {
        let first = handle(&[(Matcher::Full("kit_test_seconds".into()), &[0.5, 1.0])]);
        let again = handle(&[]);
        assert!(std::ptr::eq(first, again));
        ::metrics::histogram!("kit_test_seconds").record(0.7);
        ::metrics::counter!("kit_test_total").increment(2);
        first.run_upkeep();
        let text = again.render();
        assert!(text.contains("kit_test_total 2"), "{text}");
        assert!(
            text.contains("kit_test_seconds_bucket{le=\"1\"} 1"),
            "{text}"
        );
    }
}
