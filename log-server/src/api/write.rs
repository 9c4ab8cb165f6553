//! `POST /add` and `POST /add-batch`: agencies append signed records. The
//! signature is the authentication: the issuer must be a registered agency
//! and its key must have signed. Verification runs off the async workers;
//! a record that fails changes nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gazette_client::note::Verifier;
use gazette_client::record::{RecordError, SignedRecord};
use gazette_client::registry::Registry;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::query::Query;
use crate::log::Log;
use crate::sequencer::Outcome;

/// Largest `/add` body: one record, with room to say it is too large.
pub const ADD_BODY_LIMIT: usize = 64 * 1024;
/// Largest `/add-batch` body.
pub const ADD_BATCH_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The answer to a record refused at admission: a key the registry
/// retired or declared compromised is named as such, not as unknown.
fn refusal(registry: &Registry, e: RecordError) -> ApiError {
    if let RecordError::UnknownIssuer { issuer, key_id } = &e
        && let Some(k) = registry
            .agencies
            .get(issuer)
            .and_then(|history| history.keys.iter().find(|k| k.key.key_id() == *key_id))
        && let Some(cutoff) = &k.cutoff
    {
        return ApiError::Forbidden(format!(
            "{issuer}'s key {} was {} from index {} (registry entry {}): records signed with it are refused; sign with a current key of {issuer}",
            k.key,
            if cutoff.compromised {
                "declared compromised"
            } else {
                "retired"
            },
            cutoff.from,
            cutoff.at
        ));
    }
    ApiError::from(e)
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
        Outcome::KeyCutOff {
            key_id,
            at,
            from,
            compromised,
        } => Err(ApiError::Forbidden(format!(
            "the signing key (key ID {key_id:08x}) was {} from index {from} (registry entry {at}): sign with a current key",
            if compromised {
                "declared compromised"
            } else {
                "retired"
            }
        ))),
        Outcome::KeyUnknown { key_id } => Err(ApiError::Forbidden(format!(
            "the signing key (key ID {key_id:08x}) is not registered to the issuer"
        ))),
    }
}

/// `POST /add`: one signed record; answers `{"index","leaf_hash"}` once
/// durable. With `?wait=receipt` it also waits (at most
/// `limits.receipt_wait_s`) until a published checkpoint covers the record
/// and adds its c2sp.org/tlog-proof receipt as `"receipt"`; if none comes
/// in time, or `limits.max_receipt_waiters` already wait, the answer is
/// 202 with `"receipt": null` and why (the record is logged all the same).
/// Waiting holds no `/add` turn.
pub async fn add(
    State(log): State<Arc<Log>>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref(), &["wait"])?;
    let wait = match query.get("wait") {
        None => false,
        Some("receipt") => true,
        Some(other) => {
            return Err(ApiError::Malformed(format!(
                "wait={other:?}: the only thing to wait for is `receipt`"
            )));
        }
    };
    refuse_if_read_only(&log)?;
    let turn = take_turn(&log.turns.adds).await?;
    let registry = log.registry();
    let signed = log
        .add_verifier
        .verify(body.into(), registry.agencies.clone())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| refusal(&registry.registry, e))?;
    take_quota(&log, &signed.record.issuer, 1)?;
    let outcomes = log.sequencer.submit(vec![signed]).await?;
    drop(turn);
    let mut answer = outcome_json(&outcomes[0])?;
    if !wait {
        return Ok(Json(answer).into_response());
    }
    let index = answer["index"].as_u64().expect("an index");
    let later = |mut answer: Value, why: String| {
        answer["receipt"] = Value::Null;
        answer["error"] = json!(format!("{why}; GET /receipt/{index} later"));
        (StatusCode::ACCEPTED, Json(answer)).into_response()
    };
    let Ok(_waiting) = log.turns.receipt_waiters.clone().try_acquire_owned() else {
        let most = log.config.limits.max_receipt_waiters;
        return Ok(later(
            answer,
            format!("{most} requests already wait for a receipt"),
        ));
    };
    let seconds = log.config.limits.receipt_wait_s;
    let mut published = log.published.subscribe();
    // (The borrow `wait_for` returns must not live across an await.)
    let covered = matches!(
        tokio::time::timeout(
            Duration::from_secs(seconds),
            published.wait_for(|p| p.size > index)
        )
        .await,
        Ok(Ok(_))
    );
    if !covered {
        return Ok(later(
            answer,
            format!("not in a witnessed checkpoint within {seconds} s"),
        ));
    }
    answer["receipt"] = json!(super::proofs::receipt_text(&log, index).await?);
    Ok(Json(answer).into_response())
}

/// 503 for a log that only serves reads (a read-only data directory, a
/// replica, a standby): it has no registry to check signatures with, and
/// the answer is "retry later", never "unknown key".
pub(super) fn refuse_if_read_only(log: &Log) -> Result<(), ApiError> {
    match log.read_only {
        Some(_) => Err(ApiError::read_only(log, "this log takes no writes now")),
        None => Ok(()),
    }
}

/// A turn at a write route, waited for.
async fn take_turn(
    turns: &tokio::sync::Semaphore,
) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
    turns
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
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
pub async fn add_batch(
    State(log): State<Arc<Log>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "an add-batch body is JSON: send it with Content-Type: application/json".into(),
        ));
    }
    refuse_if_read_only(&log)?;
    let turn = take_turn(&log.turns.batches).await?;
    // Decoded off the async workers (a big body takes tens of ms). The
    // body goes once decoded (JSON never grows a string), and each
    // record's text becomes its signed record without a copy.
    let request: AddBatch = tokio::task::spawn_blocking(move || serde_json::from_slice(&body))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Malformed(format!("add-batch body: {e}")))?;
    let max = log.config.limits.max_batch_records;
    if request.records.len() > max {
        return Err(ApiError::TooLarge(format!(
            "{} records in one batch; at most {max}",
            request.records.len()
        )));
    }
    // One snapshot of the registry: the keys checked, and the refusals' words.
    let registry = log.registry();
    let keys: Vec<Verifier> = registry.agencies.iter().map(|a| a.key.clone()).collect();
    let checked: Vec<Result<SignedRecord, ApiError>> = tokio::task::spawn_blocking(move || {
        let records = request
            .records
            .into_iter()
            .map(String::into_bytes)
            .collect();
        SignedRecord::verify_many_owned(records, &keys)
            .into_iter()
            .map(|r| {
                r.map(|mut signed| {
                    signed.forget_fields();
                    signed
                })
                .map_err(|e| refusal(&registry.registry, e))
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    // Each agency's verified records take from its quota, all or none.
    let mut per_issuer: HashMap<&str, usize> = HashMap::new();
    for signed in checked.iter().flatten() {
        *per_issuer.entry(&signed.record.issuer).or_default() += 1;
    }
    let refused: HashMap<String, ApiError> = per_issuer
        .into_iter()
        .filter_map(|(issuer, n)| Some((issuer.to_owned(), take_quota(&log, issuer, n).err()?)))
        .collect();
    let retry_after = refused.values().filter_map(ApiError::retry_after).max();
    let checked: Vec<Result<SignedRecord, ApiError>> = checked
        .into_iter()
        .map(|c| match c {
            Ok(signed) => match refused.get(&signed.record.issuer) {
                Some(ApiError::RateLimited(limited)) => Err(ApiError::RateLimited(limited.clone())),
                _ => Ok(signed),
            },
            Err(e) => Err(e),
        })
        .collect();
    // The turn bounds the decoding and verifying only: the sequencer's
    // queue bounds the records waiting to be durable (503 beyond it), and
    // a turn held through that wait would leave the cores idle while a
    // commit's fsync runs.
    drop(turn);
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
    let mut response = Json(json!({ "results": results })).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// Takes `records` from `issuer`'s rate limit.
fn take_quota(log: &Log, issuer: &str, records: usize) -> Result<(), ApiError> {
    log.limits.take(issuer, records).map_err(|limited| {
        metrics::counter!(crate::metrics::RATE_LIMITED, "agency" => issuer.to_owned())
            .increment(records as u64);
        ApiError::RateLimited(limited)
    })
}
