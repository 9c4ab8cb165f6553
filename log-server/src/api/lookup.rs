//! `GET /lookup` (find records by document digest, leaf hash, or issuer,
//! kind and id, each with the first revocation of it by its issuer, logged
//! before or after it) and `GET /info` (what a verifier needs to know about
//! this log).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use gazette_client::encoding::{hex_decode_lower, hex_encode};
use gazette_client::index::lookup::LookupKey;
use gazette_client::index::{document_key, name_key};
use gazette_client::merkle::{Hash, leaf_hash};
use gazette_client::record::{Record, SignedRecord};
use serde_json::{Value, json};

use super::error::ApiError;
use super::query::Query;
use crate::checkpoints::CommittedCheckpoint;
use crate::index::record_key;
use crate::log::Log;
use crate::map::Map;
use crate::stored;

/// Most matches one lookup returns (a document may be registered often).
pub const MAX_MATCHES: usize = 100;
/// Entries read under one name for its first revocation: the record and
/// the revocations naming it, in index order, so the first comes early.
const MAX_NAMED: usize = 1000;

/// What a lookup searches by.
enum By {
    Digest([u8; 32]),
    LeafHash(Hash),
    Name {
        issuer: String,
        kind: String,
        id: String,
    },
}

/// Parses `sha256:<64 lowercase hex>`.
pub fn parse_digest(digest: &str) -> Result<[u8; 32], ApiError> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| ApiError::Malformed("digest must be sha256:<64 lowercase hex>".into()))?;
    match hex_decode_lower(hex).map(<[u8; 32]>::try_from) {
        Some(Ok(digest)) => Ok(digest),
        _ => Err(ApiError::Malformed(format!(
            "digest {digest:?} is not sha256:<64 lowercase hex>"
        ))),
    }
}

fn by(query: &Query) -> Result<By, ApiError> {
    let bad = |m: String| Err(ApiError::Malformed(m));
    match (
        query.get("digest"),
        query.get("leaf_hash"),
        (query.get("issuer"), query.get("kind"), query.get("id")),
    ) {
        (Some(digest), None, (None, None, None)) => Ok(By::Digest(parse_digest(digest)?)),
        (None, Some(hash), (None, None, None)) => {
            // A `+` sent unescaped arrives as a space: take it back.
            match Hash::from_base64(&hash.replace(' ', "+")) {
                Some(hash) => Ok(By::LeafHash(hash)),
                None => bad(format!(
                    "leaf_hash {hash:?} is not the padded base64 of 32 bytes"
                )),
            }
        }
        (None, None, (Some(issuer), Some(kind), Some(id))) => {
            if [issuer, kind, id]
                .iter()
                .any(|v| v.is_empty() || v.contains('\0'))
            {
                return bad("issuer, kind and id must be non-empty, without NUL".into());
            }
            Ok(By::Name {
                issuer: issuer.to_owned(),
                kind: kind.to_owned(),
                id: id.to_owned(),
            })
        }
        _ => bad(
            "look up by exactly one of: digest=sha256:<hex>, leaf_hash=<base64>, \
             or issuer=<name>&kind=<kind>&id=<id>"
                .into(),
        ),
    }
}

/// `GET /lookup?...`: `{"size","covered","matches":[...],"truncated"}`, each
/// match `{"index","leaf_hash","issuer","kind","id","digest","issued",
/// "record","revoked_by"}`. `revoked_by` is the lowest index of a
/// revocation by the record's issuer naming its kind and id, logged before
/// or after it, or null: the record's status as of `covered`. `covered` is
/// the tree size the lookup index had reached (it trails the committed tree
/// by at most a few batches). Like tiles and proofs, lookups follow the
/// committed tree, which may be ahead of the witnessed `/checkpoint`. With
/// the verifiable index on, a lookup by digest or name also carries
/// `"proof"`: the `/index/lookup` answer for its key, against the
/// published checkpoint (or null, and `"proof_error"` says why).
pub async fn lookup(
    State(log): State<Arc<Log>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(
        raw.as_deref(),
        &["digest", "leaf_hash", "issuer", "kind", "id"],
    )?;
    let by = by(&query)?;
    tokio::task::spawn_blocking(move || find(&log, &by))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map(Json)
}

fn find(log: &Log, by: &By) -> Result<Value, ApiError> {
    let (lookup, index) = match (&log.lookup, &log.index) {
        (Some(lookup), Some(index)) => (lookup, index),
        _ => return Err(ApiError::read_only(log, "lookups need the index databases")),
    };
    let committed = log.committed();
    let map = log.map.as_ref().map(|m| m.map.as_ref());
    // The verifiable index files every sequenced entry, so it covers the
    // committed tree; the lookup index may lag behind it.
    let covered = match (by, map) {
        (By::Digest(_), Some(_)) => committed.size,
        _ => lookup.covered()?.min(committed.size),
    };
    let mut indexes: Vec<u64> = match by {
        By::Digest(digest) => match map {
            Some(map) => map
                .first(&document_key(digest), MAX_MATCHES + 1)?
                .into_iter()
                .map(|(index, _)| index)
                .collect(),
            None => lookup.digest(digest, MAX_MATCHES + 1)?,
        },
        By::LeafHash(hash) => lookup.leaf(hash)?.into_iter().collect(),
        By::Name { issuer, kind, id } => index
            .record(&record_key(issuer, kind, id))?
            .map(|s| s.index)
            .into_iter()
            .collect(),
    };
    indexes.retain(|&i| i < committed.size);
    let truncated = indexes.len() > MAX_MATCHES;
    indexes.truncate(MAX_MATCHES);
    let mut matches = Vec::with_capacity(indexes.len());
    for index in indexes {
        let bytes = stored::entry(log.storage.as_ref(), &committed, index)?;
        let signed = SignedRecord::parse(&bytes)
            .map_err(|e| ApiError::Internal(format!("entry {index} is not a record: {e}")))?;
        let r = &signed.record;
        // Wherever the revocation sits, before or after the record: a
        // record's status is a function of the set of logged entries.
        let revoked_by = match map {
            Some(map) => revoked_by(log, map, &committed, r)?,
            None => lookup.revoked_by(&record_key(&r.issuer, &r.kind, &r.id))?,
        };
        matches.push(json!({
            "index": index,
            "leaf_hash": leaf_hash(&bytes).to_base64(),
            "issuer": r.issuer,
            "kind": r.kind,
            "id": r.id,
            "digest": format!("sha256:{}", hex_encode(&r.digest)),
            "issued": r.issued,
            "record": String::from_utf8_lossy(&bytes),
            "revoked_by": revoked_by,
        }));
    }
    let mut answer = json!({
        "size": committed.size,
        "covered": covered,
        "matches": matches,
        "truncated": truncated,
    });
    // With the index on, the proof of everything under the key, against the
    // published checkpoint, as `/index/lookup` gives it.
    let key = match by {
        By::Digest(digest) => Some(LookupKey::Document(*digest)),
        By::Name { issuer, kind, id } => Some(LookupKey::Name {
            issuer: issuer.clone(),
            kind: kind.clone(),
            id: id.clone(),
        }),
        By::LeafHash(_) => None,
    };
    if let (Some(key), Some(_)) = (key, map) {
        let (proof, why) = match super::index::prove(log, &key, None) {
            Ok(proof) => (proof, Value::Null),
            Err(e) => (Value::Null, Value::String(e.to_string())),
        };
        answer["proof"] = proof;
        answer["proof_error"] = why;
    }
    Ok(answer)
}

/// The lowest index of a revocation of `record` by its issuer, from the
/// entries the verifiable index files under the record's name (the record
/// and the revocations naming it, in index order).
fn revoked_by(
    log: &Log,
    map: &Map,
    committed: &CommittedCheckpoint,
    record: &Record,
) -> Result<Option<u64>, ApiError> {
    let key = name_key(&record.issuer, &record.kind, &record.id);
    for (index, _) in map.first(&key, MAX_NAMED)? {
        if index >= committed.size {
            break;
        }
        let bytes = stored::entry(log.storage.as_ref(), committed, index)?;
        if let Ok(signed) = SignedRecord::parse(&bytes)
            && signed.record.issuer == record.issuer
            && signed.record.revokes.as_ref() == Some(&(record.kind.clone(), record.id.clone()))
        {
            return Ok(Some(index));
        }
    }
    Ok(None)
}

/// `GET /info`: `{"origin","vkey","policy","size","agencies":[{"name","vkey","since"}]}`.
/// Without configured witnesses the policy requires the log's signature
/// alone (`quorum none`).
pub async fn info(State(log): State<Arc<Log>>) -> Json<Value> {
    let vkey = log.verifier.to_string();
    let agencies: Vec<Value> = log
        .agencies()
        .iter()
        .map(|a| json!({ "name": a.key.name(), "vkey": a.key.to_string(), "since": a.since }))
        .collect();
    Json(json!({
        "origin": log.config.origin,
        "vkey": vkey,
        "policy": log.policy_text,
        "size": log.published().size,
        "agencies": agencies,
    }))
}
