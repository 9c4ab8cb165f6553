//! Operations: `GET /metrics` (Prometheus text) and the per-request metrics
//! middleware. (The span and the line every request is logged with are
//! `gazette_kit::serve`'s, shared with the witness.)

use std::sync::Arc;
use std::time::Instant;

use ::metrics::SharedString;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::log::Log;
use crate::metrics::{
    self, HTTP_REQUESTS, HTTP_SECONDS, LOOKUP_COVERED, PUBLISHED_SIZE, QUEUE_DEPTH, TREE_SIZE,
};

/// `GET /metrics`: every metric of this process, with the log's gauges
/// read at scrape time.
pub async fn metrics(State(log): State<Arc<Log>>) -> Response {
    ::metrics::gauge!(TREE_SIZE).set(log.committed().size as f64);
    ::metrics::gauge!(PUBLISHED_SIZE).set(log.published().size as f64);
    ::metrics::gauge!(QUEUE_DEPTH).set(log.sequencer.queue_depth() as f64);
    if let Some(Ok(covered)) = log.lookup.as_ref().map(|l| l.covered()) {
        ::metrics::gauge!(LOOKUP_COVERED).set(covered as f64);
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(gazette_kit::metrics::CONTENT_TYPE),
        )],
        metrics::handle().render(),
    )
        .into_response()
}

/// Counts every routed request by route and status, and times it.
pub async fn count_request(request: Request, next: Next) -> Response {
    // The route pattern, not the path: the label set stays small.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    count(route, response.status().as_u16().to_string(), started);
    response
}

/// Counts one answer to `route` with `status`, begun at `started`.
fn count(route: String, status: String, started: Instant) {
    Counted::new(route, status).count(started);
}

/// The metrics of answers to one route with one status.
pub struct Counted {
    requests: ::metrics::Counter,
    seconds: ::metrics::Histogram,
}

impl Counted {
    pub fn new(route: impl Into<SharedString>, status: impl Into<SharedString>) -> Counted {
        let route = route.into();
        Counted {
            requests: ::metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "status" => status.into()),
            seconds: ::metrics::histogram!(HTTP_SECONDS, "route" => route),
        }
    }

    /// Counts one answer begun at `started`.
    pub fn count(&self, started: Instant) {
        self.requests.increment(1);
        self.seconds.record(started.elapsed().as_secs_f64());
    }
}
