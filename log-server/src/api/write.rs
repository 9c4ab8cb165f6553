//! `POST /add` and `POST /add-batch`: agencies append signed records. The
//! signature is the authentication: the issuer must be a registered agency
//! and its key must have signed. Verification runs off the async workers;
//! a record that fails changes nothing.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use gazette_client::note::Verifier;
use gazette_client::record::SignedRecord;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::log::Log;
use crate::sequencer::Outcome;

/// Largest `/add` body: one record, with room to say it is too large.
pub const ADD_BODY_LIMIT: usize = 64 * 1024;
/// Largest `/add-batch` body.
pub const ADD_BATCH_BODY_LIMIT: usize = 64 * 1024 * 1024;

fn agency_keys(log: &Log) -> Vec<Verifier> {
    log.agencies().iter().map(|a| a.key.clone()).collect()
}

fn outcome_json(outcome: &Outcome) -> Result<Value, ApiError> {
    match *outcome {
        Outcome::Logged {
            index, leaf_hash, ..
        } => Ok(json!({ "index": index, "leaf_hash": leaf_hash.to_base64() })),
        Outcome::Conflict { existing } => Err(ApiError::Conflict {
            message: format!(
                "this issuer, kind and id are already logged at index {existing} with another digest"
            ),
            existing,
        }),
    }
}

/// `POST /add`: one signed record; answers `{"index","leaf_hash"}` once durable.
pub async fn add(State(log): State<Arc<Log>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let keys = agency_keys(&log);
    let signed = tokio::task::spawn_blocking(move || SignedRecord::verify(&body, &keys))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let outcomes = log.sequencer.submit(vec![signed]).await?;
    Ok(Json(outcome_json(&outcomes[0])?))
}

/// The `/add-batch` request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddBatch {
    /// Signed records, each as its exact text.
    pub records: Vec<String>,
}

/// `POST /add-batch`: `{"records": [...]}`; answers `{"results": [...]}`,
/// one per record in order: `{"index","leaf_hash"}` or `{"error","status"}`.
pub async fn add_batch(State(log): State<Arc<Log>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let request: AddBatch = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Malformed(format!("add-batch body: {e}")))?;
    let max = log.config.limits.max_batch_records;
    if request.records.len() > max {
        return Err(ApiError::TooLarge(format!(
            "{} records in one batch; at most {max}",
            request.records.len()
        )));
    }
    let keys = agency_keys(&log);
    let checked: Vec<Result<SignedRecord, ApiError>> = tokio::task::spawn_blocking(move || {
        let refs: Vec<&[u8]> = request.records.iter().map(|r| r.as_bytes()).collect();
        SignedRecord::verify_many(&refs, &keys)
            .into_iter()
            .map(|r| r.map_err(ApiError::from))
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    // The valid records go to the sequencer; each keeps its place in the answer.
    let mut valid: Vec<SignedRecord> = Vec::with_capacity(checked.len());
    let slots: Vec<Result<(), ApiError>> = checked
        .into_iter()
        .map(|c| c.map(|signed| valid.push(signed)))
        .collect();
    let mut outcomes = if valid.is_empty() {
        Vec::new()
    } else {
        log.sequencer.submit(valid).await?
    }
    .into_iter();
    let results: Vec<Value> = slots
        .iter()
        .map(|slot| match slot {
            Err(e) => e.body(),
            Ok(_) => {
                let outcome = outcomes.next().expect("one outcome per valid record");
                outcome_json(&outcome).unwrap_or_else(|e| e.body())
            }
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}
