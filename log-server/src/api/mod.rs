//! The HTTP API (DESIGN.md §Log server API).

mod error;
mod lookup;
mod proofs;
mod query;
mod read;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, header};
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};

pub use error::ApiError;
pub use write::{ADD_BATCH_BODY_LIMIT, ADD_BODY_LIMIT};

use crate::log::Log;

/// The router: write and read routes, each with its body limit, and CORS so
/// a page on any origin can read and submit.
pub fn router(log: Arc<Log>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    Router::new()
        .route(
            "/add",
            post(write::add).layer(DefaultBodyLimit::max(ADD_BODY_LIMIT)),
        )
        .route(
            "/add-batch",
            post(write::add_batch).layer(DefaultBodyLimit::max(ADD_BATCH_BODY_LIMIT)),
        )
        .route("/checkpoint", get(read::checkpoint))
        .route("/tile/{*rest}", get(read::tile))
        .route("/entry/{index}", get(proofs::entry))
        .route("/proof/inclusion", get(proofs::inclusion))
        .route("/proof/consistency", get(proofs::consistency))
        .route("/receipt/{index}", get(proofs::receipt))
        .route("/lookup", get(lookup::lookup))
        .route("/info", get(lookup::info))
        .route("/healthz", get(read::healthz))
        .layer(DefaultBodyLimit::max(ADD_BODY_LIMIT))
        .layer(cors)
        .with_state(log)
}
