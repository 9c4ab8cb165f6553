//! The witness's HTTP API: c2sp.org/tlog-witness `POST /add-checkpoint`
//! with each status the spec defines, the latest cosigned checkpoint per
//! log for monitors, `/metrics` and `/healthz`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gazette_client::witness_protocol::{AddCheckpointError, MAX_REQUEST_SIZE, SIZE_CONTENT_TYPE};
use gazette_kit::http::{BodyRules, whole_body};
use gazette_kit::serve;
use serde_json::json;

use crate::metrics::{self, ADD_CHECKPOINT};
use crate::witness::{AddError, LogView, Witness};

/// The router. Bodies are read whole (in time, within a budget) before the
/// handler sees them; every request gets a request id and one log line.
pub fn router(witness: Arc<Witness>) -> Router {
    metrics::handle();
    let bodies = BodyRules::new(&witness.config.connections, |_| MAX_REQUEST_SIZE);
    let router = Router::new()
        .route(
            "/add-checkpoint",
            post(add_checkpoint).layer(DefaultBodyLimit::max(MAX_REQUEST_SIZE)),
        )
        .route("/logs", get(logs))
        .route("/checkpoint/{*origin}", get(checkpoint))
        .route("/{origin_hash}/checkpoint", get(monitored_checkpoint))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .layer(axum::middleware::from_fn_with_state(bodies, whole_body))
        .with_state(witness);
    serve::with_request_log(router)
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// 503 with `Retry-After: 1`.
fn retry_shortly(message: String) -> Response {
    let mut r = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/plain; charset=utf-8",
        message,
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// `GET /healthz`: 200 `ok`, or 503 naming each log that cannot cosign at
/// the moment and why (its state could not be written or read back).
async fn healthz(State(witness): State<Arc<Witness>>) -> Response {
    let troubled: Vec<String> = witness
        .logs()
        .into_iter()
        .filter_map(|log| Some(format!("{}: {}\n", log.origin, log.trouble?)))
        .collect();
    match troubled.is_empty() {
        true => text(StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
        false => retry_shortly(troubled.concat()),
    }
}

/// `POST /add-checkpoint`: 200 with the cosignature line, or the spec's
/// refusal (409 with the witness's size as `text/x.tlog.size`).
async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let response = match witness.add_checkpoint(&body).await {
        Ok(line) => text(StatusCode::OK, "text/plain; charset=utf-8", line),
        Err(AddError::Refused(AddCheckpointError::StaleOldSize { stored_size, .. })) => text(
            StatusCode::CONFLICT,
            SIZE_CONTENT_TYPE,
            format!("{stored_size}\n"),
        ),
        Err(AddError::Refused(refusal)) => {
            let status = StatusCode::from_u16(refusal.status()).expect("a valid status");
            text(status, "text/plain; charset=utf-8", format!("{refusal}\n"))
        }
        Err(AddError::Busy(origin)) => {
            retry_shortly(format!("too many requests waiting for {origin}\n"))
        }
        Err(AddError::Unavailable(reason)) => retry_shortly(format!("{reason}; retry shortly\n")),
        Err(AddError::Failed(reason)) => {
            tracing::error!(%reason, "add-checkpoint failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                format!("{reason}\n"),
            )
        }
    };
    ::metrics::counter!(ADD_CHECKPOINT, "status" => response.status().as_u16().to_string())
        .increment(1);
    response
}

/// `GET /logs`: every followed log with its size and cosigned checkpoint.
async fn logs(State(witness): State<Arc<Witness>>) -> Response {
    let logs: Vec<_> = witness
        .logs()
        .into_iter()
        .map(
            |l| json!({ "origin": l.origin, "vkey": l.vkey, "size": l.size, "checkpoint": l.note }),
        )
        .collect();
    axum::Json(json!({ "witness": witness.verifier.to_string(), "logs": logs })).into_response()
}

/// `GET /checkpoint/<origin>`: the latest checkpoint this witness cosigned
/// for the log, with its cosignature (404 if none yet).
async fn checkpoint(State(witness): State<Arc<Witness>>, Path(origin): Path<String>) -> Response {
    checkpoint_of(witness.log(&origin), &format!("{origin:?}"))
}

/// `GET /<lowercase hex SHA-256 of the origin>/checkpoint`: the same, at
/// the path c2sp.org/tlog-witness gives monitors (the witness's URL is its
/// monitoring prefix).
async fn monitored_checkpoint(
    State(witness): State<Arc<Witness>>,
    Path(origin_hash): Path<String>,
) -> Response {
    checkpoint_of(
        witness.log_by_hash(&origin_hash),
        &format!("the log whose origin hashes to {origin_hash:?}"),
    )
}

/// A followed log's latest cosigned checkpoint, or 404 saying why not.
fn checkpoint_of(log: Option<LogView>, which: &str) -> Response {
    let not_found =
        |message: String| text(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", message);
    match log {
        Some(view) => match view.note {
            Some(note) => text(StatusCode::OK, "text/plain; charset=utf-8", note),
            None => not_found(format!("no checkpoint of {} cosigned yet\n", view.origin)),
        },
        None => not_found(format!("this witness does not follow {which}\n")),
    }
}

/// `GET /metrics`: Prometheus text.
async fn metrics() -> Response {
    text(
        StatusCode::OK,
        gazette_kit::metrics::CONTENT_TYPE,
        metrics::handle().render(),
    )
}
