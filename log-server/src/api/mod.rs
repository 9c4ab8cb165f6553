//! The HTTP API (DESIGN.md §Log server API).

mod error;
mod index;
mod lookup;
mod ops;
mod page;
mod proofs;
mod query;
mod read;
mod registry;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, header};
use axum::routing::{get, post};
use gazette_kit::http::{BodyRules, json_errors, whole_body};
use gazette_kit::serve;
use tower_http::cors::{Any, CorsLayer};

pub use error::ApiError;
pub use index::MAX_PROVEN_ENTRIES;
pub use read::TileLane;
pub use write::{ADD_BATCH_BODY_LIMIT, ADD_BODY_LIMIT};

use crate::log::Log;

/// A router answering every request 503 with `message` (and CORS, so a
/// page on another origin can read why): a log with nothing to serve yet.
pub fn unavailable(message: String) -> Router {
    let answer = move || {
        let message = message.clone();
        async move {
            ApiError::Overloaded {
                message,
                retry_after: 2,
            }
        }
    };
    Router::new()
        .fallback(answer)
        .layer(CorsLayer::new().allow_origin(Any))
}

/// The router: write and read routes, each with its body limit; bodies
/// read whole (in time, within a budget) before writes take their turn,
/// limited in concurrency; CORS so a page on any origin can read and
/// submit; request ids, tracing and metrics.
pub fn router(log: Arc<Log>) -> Router {
    let bodies = BodyRules::new(&log.config.connections, |parts| match parts.uri.path() {
        "/add-batch" => ADD_BATCH_BODY_LIMIT,
        _ => ADD_BODY_LIMIT,
    });
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER, serve::REQUEST_ID]);
    let router = Router::new()
        // The write routes take their turns themselves (`Log::turns`), once
        // the body is in hand; a receipt waiter holds none.
        .route(
            "/add",
            post(write::add).layer(DefaultBodyLimit::max(ADD_BODY_LIMIT)),
        )
        .route(
            "/add-batch",
            post(write::add_batch).layer(DefaultBodyLimit::max(ADD_BATCH_BODY_LIMIT)),
        )
        .route("/registry", post(registry::submit))
        .route("/checkpoint", get(read::checkpoint))
        .route("/tile/{*rest}", get(read::tile))
        .route("/entry/{index}", get(proofs::entry))
        .route("/proof/inclusion", get(proofs::inclusion))
        .route("/proof/consistency", get(proofs::consistency))
        .route("/receipt/{index}", get(proofs::receipt))
        .route("/lookup", get(lookup::lookup))
        .route("/index/lookup", get(index::lookup))
        .route("/info", get(lookup::info))
        .route("/policy", get(page::policy))
        .route("/names", get(page::names))
        .route("/healthz", get(read::healthz))
        .route("/metrics", get(ops::metrics))
        .merge(page::router(log.config.page_dir(&log.dir)))
        .layer(axum::middleware::from_fn_with_state(bodies, whole_body))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(ops::count_request))
        .layer(DefaultBodyLimit::max(ADD_BODY_LIMIT))
        .layer(cors)
        .with_state(log);
    serve::with_request_log(router)
}
