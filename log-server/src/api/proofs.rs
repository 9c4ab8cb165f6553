//! Entries, proofs and receipts, computed from the stored tiles (O(log n)
//! tile reads): entries and proofs against the committed tree, receipts
//! against the published (witnessed) checkpoint.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gazette_client::merkle::Hash;
use serde_json::{Value, json};

use super::error::ApiError;
use super::query::{Query, decimal};
use super::read::IMMUTABLE;
use crate::log::Log;
use crate::storage::Storage;
use crate::stored::{self, StoredError};

/// Runs a stored-tree read off the async workers, against `tree` (a
/// committed or a witnessed checkpoint).
async fn read_stored<C: Send + Sync + 'static, T: Send + 'static>(
    log: &Log,
    tree: Arc<C>,
    read: impl FnOnce(&dyn Storage, &C) -> Result<T, StoredError> + Send + 'static,
) -> Result<T, ApiError> {
    let storage = log.storage.clone();
    tokio::task::spawn_blocking(move || read(storage.as_ref(), &tree))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

fn hashes(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(Hash::to_base64).collect()
}

fn immutable_json(value: Value) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE))],
        Json(value),
    )
        .into_response()
}

/// `GET /entry/<index>`: the exact leaf bytes (the signed record).
pub async fn entry(
    State(log): State<Arc<Log>>,
    Path(index): Path<String>,
) -> Result<Response, ApiError> {
    let index = decimal("index", &index)?;
    let data = read_stored(&log, log.committed(), move |s, p| {
        stored::entry(s, p, index)
    })
    .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        data,
    )
        .into_response())
}

/// `GET /proof/inclusion?index=N&size=S`: `{"index","size","proof"}`.
pub async fn inclusion(
    State(log): State<Arc<Log>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref(), &["index", "size"])?;
    let (index, size) = (query.decimal("index")?, query.decimal("size")?);
    if index >= size {
        return Err(ApiError::Malformed(format!(
            "index {index} is not in a tree of size {size}"
        )));
    }
    let proof = read_stored(&log, log.committed(), move |s, p| {
        stored::inclusion_proof(s, p, index, size)
    })
    .await?;
    Ok(immutable_json(
        json!({ "index": index, "size": size, "proof": hashes(&proof) }),
    ))
}

/// `GET /proof/consistency?old=M&size=S`: `{"old","size","proof"}`, with
/// `1 ≤ old ≤ size`; `old = size` gives the empty proof.
pub async fn consistency(
    State(log): State<Arc<Log>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref(), &["old", "size"])?;
    let (old, size) = (query.decimal("old")?, query.decimal("size")?);
    if old == 0 || old > size {
        return Err(ApiError::Malformed(format!(
            "no consistency proof from size {old} to size {size}: need 1 ≤ old ≤ size"
        )));
    }
    let proof = read_stored(&log, log.committed(), move |s, p| {
        stored::consistency_proof(s, p, old, size)
    })
    .await?;
    Ok(immutable_json(
        json!({ "old": old, "size": size, "proof": hashes(&proof) }),
    ))
}

/// `GET /receipt/<index>`: a c2sp.org/tlog-proof@v1 receipt against the
/// newest published checkpoint, the signed record as its `extra`.
pub async fn receipt(
    State(log): State<Arc<Log>>,
    Path(index): Path<String>,
) -> Result<Response, ApiError> {
    let index = decimal("index", &index)?;
    let receipt = receipt_text(&log, index).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            // A newer checkpoint makes a newer receipt.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        receipt,
    )
        .into_response())
}

/// The receipt of entry `index` against the published checkpoint.
pub async fn receipt_text(log: &Log, index: u64) -> Result<String, ApiError> {
    let published = log.published();
    if index >= published.size && index < log.committed().size {
        return Err(ApiError::NotFound(format!(
            "entry {index} is logged but not yet in a witnessed checkpoint (size {}); retry shortly",
            published.size
        )));
    }
    let receipt = read_stored(log, published, move |s, p| stored::receipt(s, p, index)).await?;
    Ok(receipt.to_text())
}
