//! `GET /index/lookup` (`docs/INDEX.md`, section 5): everything the log
//! holds under a document digest, a record name or an agency (its registry
//! entries), proven against the
//! published checkpoint: the commitment that ends it, every listed entry
//! with its inclusion proof, and one map proof per segment. A verifier
//! needs nothing else and trusts nothing the log says.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use gazette_client::index::lookup::LookupKey;
use gazette_client::merkle::Hash;
use serde_json::{Value, json};

use super::error::ApiError;
use super::lookup::parse_digest;
use super::query::{Query, decimal};
use crate::log::Log;
use crate::map::{Map, MapError, SNAPSHOTS};
use crate::stored;

/// Most entries one answer lists (each with its inclusion proof): a key
/// with more is refused whole, as a proof cannot leave any out.
pub const MAX_PROVEN_ENTRIES: u64 = 1000;

fn key(query: &Query) -> Result<LookupKey, ApiError> {
    let usable = |v: &str| !v.is_empty() && !v.contains(['\n', '\0']);
    match (
        query.get("digest"),
        (query.get("issuer"), query.get("kind"), query.get("id")),
        query.get("agency"),
    ) {
        (Some(digest), (None, None, None), None) => Ok(LookupKey::Document(parse_digest(digest)?)),
        (None, (None, None, None), Some(agency)) if usable(agency) => {
            Ok(LookupKey::Agency(agency.to_owned()))
        }
        (None, (Some(issuer), Some(kind), Some(id)), None)
            if [issuer, kind, id].iter().all(|v| usable(v)) =>
        {
            Ok(LookupKey::Name {
                issuer: issuer.to_owned(),
                kind: kind.to_owned(),
                id: id.to_owned(),
            })
        }
        _ => Err(ApiError::Malformed(
            "look up by exactly one of: digest=sha256:<hex>, issuer=<name>&kind=<kind>&id=<id>, \
             or agency=<name> (non-empty, without newline or NUL)"
                .into(),
        )),
    }
}

/// `GET /index/lookup?digest=sha256:<hex>`, `?issuer=..&kind=..&id=..` or
/// `?agency=..` (its registry entries),
/// optionally `&size=<S>`: `{"checkpoint","size","commitment":{"index",
/// "entry","inclusion"},"entries":[{"index","entry","inclusion"}],
/// "map_proofs":[base64]}`. Against the published checkpoint, or the tree
/// of `S` entries (a recent checkpoint the verifier holds; `checkpoint` is
/// then null unless it is the published one).
pub async fn lookup(
    State(log): State<Arc<Log>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(
        raw.as_deref(),
        &["digest", "issuer", "kind", "id", "agency", "size"],
    )?;
    let key = key(&query)?;
    let size = query.get("size").map(|v| decimal("size", v)).transpose()?;
    tokio::task::spawn_blocking(move || prove(&log, &key, size))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map(Json)
}

/// The proven lookup of `key` against the tree of `size` entries (the
/// published checkpoint's when `None`).
pub fn prove(log: &Log, key: &LookupKey, size: Option<u64>) -> Result<Value, ApiError> {
    // A read-only log has no index; a replica has one that follows.
    let map = match (&log.map, &log.read_only) {
        (Some(map), _) => map,
        (None, Some(_)) => {
            return Err(ApiError::read_only(
                log,
                "proven lookups need the verifiable index",
            ));
        }
        (None, None) => {
            return Err(ApiError::NotFound(
                "this log keeps no verifiable index (sequencer.verifiable_index)".into(),
            ));
        }
    };
    let published = log.published();
    let size = size.unwrap_or(published.size);
    if size > published.size {
        return Err(ApiError::NotFound(format!(
            "size {size} is beyond the published checkpoint (size {})",
            published.size
        )));
    }
    let at = size.checked_sub(1).ok_or_else(|| {
        ApiError::NotFound("the log is empty: no checkpoint commits to an index yet".into())
    })?;
    let segments = match map.map.snapshot(at) {
        Some(segments) => segments,
        None if size == published.size => {
            return Err(ApiError::Overloaded {
                message: format!(
                    "the index of the published checkpoint (size {size}) is not at hand: a newer one is being witnessed"
                ),
                retry_after: 1,
            });
        }
        None => {
            return Err(ApiError::NotFound(format!(
                "no index is at hand for size {size}: entry {at} is not a commitment, or no longer \
                 kept (the log keeps its last {SNAPSHOTS} and the published checkpoint's, size {}); \
                 ask without size",
                published.size
            )));
        }
    };
    let (list, map_proofs) = Map::prove(&segments, &key.key(), MAX_PROVEN_ENTRIES)?;
    let storage = log.storage.as_ref();
    let listed = |index: u64| -> Result<Value, ApiError> {
        let (entry, inclusion) = stored::witnessed_entry(storage, &published, index, size)?;
        Ok(json!({
            "index": index,
            "entry": String::from_utf8(entry)
                .map_err(|_| ApiError::Internal(format!("entry {index} is not UTF-8")))?,
            "inclusion": inclusion.iter().map(Hash::to_base64).collect::<Vec<_>>(),
        }))
    };
    let entries = list
        .iter()
        .map(|(index, _)| listed(*index))
        .collect::<Result<Vec<_>, _>>()?;
    let checkpoint = (size == published.size).then(|| String::from_utf8_lossy(&published.note));
    Ok(json!({
        "checkpoint": checkpoint,
        "size": size,
        "commitment": listed(at)?,
        "entries": entries,
        "map_proofs": map_proofs
            .iter()
            .map(|p| gazette_client::encoding::b64_encode(&p.to_bytes()))
            .collect::<Vec<_>>(),
    }))
}

impl From<MapError> for ApiError {
    fn from(e: MapError) -> ApiError {
        match e {
            MapError::TooLong { .. } => ApiError::TooLarge(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
