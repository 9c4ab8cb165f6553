//! Verdicts from proofs alone: the log's verifiable index
//! (`GET /index/lookup`, `docs/INDEX.md`) answers with everything it holds
//! under a document or a record name, proven against its published
//! checkpoint. The checkpoint is trusted as the other online commands
//! trust one (the policy, then a consistency proof from the trusted
//! checkpoint: never a rollback or a fork), the answer is checked with the
//! core's one verification path ([`verify_lookup`]) and a record's status
//! comes from [`proven_status`]. A proof that fails is the log's
//! misbehaviour (exit 10, evidence kept); a log that keeps no index or
//! cannot prove now gives no verdict at all (exit 15).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::encoding::b64_decode;
use gazette_client::index::lookup::{
    ListedEntry, LookupKey, LookupProof, ProvenList, verify_lookup,
};
use gazette_client::index::proof::MapProof;
use gazette_client::index::status::{Status, StatusError, proven_status_under};
use gazette_client::merkle::Hash;
use gazette_client::record::Record;
use gazette_client::registry::{AgencyHistory, TrustedKeys};

use super::http::escape;
use super::online::Session;
use super::{Exit, Failure};

/// How often a `503` (the index of the published checkpoint not at hand:
/// a newer checkpoint is being witnessed) is asked again before giving up.
const ATTEMPTS: u32 = 5;
/// The longest pause between two attempts, whatever `Retry-After` says.
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// A lookup the log proved: its checkpoint (verified and now trusted) and
/// everything the tree of that checkpoint holds under the key.
pub struct Proven {
    /// The checkpoint the proofs are against.
    pub checkpoint: VerifiedCheckpoint,
    /// The proven list.
    pub list: ProvenList,
    /// The query, and the log's answer as received: evidence, if a record
    /// on the list turns out forged or conflicting.
    query: String,
    answer: String,
}

/// The `/index/lookup` query of a key.
pub fn query(key: &LookupKey) -> String {
    match key {
        LookupKey::Document(digest) => format!(
            "/index/lookup?digest=sha256:{}",
            gazette_client::encoding::hex_encode(digest)
        ),
        LookupKey::Name { issuer, kind, id } => format!(
            "/index/lookup?issuer={}&kind={}&id={}",
            escape(issuer),
            escape(kind),
            escape(id)
        ),
        LookupKey::Agency(agency) => format!("/index/lookup?agency={}", escape(agency)),
    }
}

/// The key of a record's name.
pub fn name_of(record: &Record) -> LookupKey {
    LookupKey::Name {
        issuer: record.issuer.clone(),
        kind: record.kind.clone(),
        id: record.id.clone(),
    }
}

/// Says what a key is, for messages.
pub fn describe(key: &LookupKey) -> String {
    match key {
        LookupKey::Document(digest) => format!(
            "document sha256:{}",
            gazette_client::encoding::hex_encode(digest)
        ),
        LookupKey::Name { issuer, kind, id } => format!("{issuer} {kind} {id}"),
        LookupKey::Agency(agency) => format!("the registry entries of {agency}"),
    }
}

/// A listed entry of the answer.
fn listed(v: &Value, what: &str) -> Result<ListedEntry, String> {
    let index = v["index"]
        .as_u64()
        .ok_or_else(|| format!("{what}: no index"))?;
    let bytes = v["entry"]
        .as_str()
        .ok_or_else(|| format!("{what} {index}: no entry text"))?
        .as_bytes()
        .to_vec();
    let inclusion = v["inclusion"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .map(|h| h.as_str().and_then(Hash::from_base64))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| format!("{what} {index}: no inclusion proof of base64 hashes"))?;
    Ok(ListedEntry {
        index,
        bytes,
        inclusion,
    })
}

/// The proof in an `/index/lookup` answer.
fn lookup_proof(v: &Value) -> Result<LookupProof, String> {
    let entries = v["entries"]
        .as_array()
        .ok_or("no entries")?
        .iter()
        .map(|e| listed(e, "entry"))
        .collect::<Result<Vec<_>, _>>()?;
    let map_proofs = v["map_proofs"]
        .as_array()
        .ok_or("no map_proofs")?
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let bytes = p
                .as_str()
                .and_then(b64_decode)
                .ok_or_else(|| format!("map proof {i} is not base64"))?;
            MapProof::parse(&bytes).map_err(|e| format!("map proof {i}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LookupProof {
        commitment: listed(&v["commitment"], "commitment")?,
        entries,
        map_proofs,
    })
}

/// The text of a failed answer's body, for a message.
fn said(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.to_owned())
}

impl Session {
    /// Everything the log holds under `key`, proven against its published
    /// checkpoint, which is first verified and trusted (advancing the
    /// trusted checkpoint by a consistency proof). A `404` or a lasting
    /// `503` is [`Exit::Unchecked`] with the log's reason; a proof that
    /// does not verify is misbehaviour, its evidence kept.
    pub async fn proven_lookup(&self, key: &LookupKey) -> Result<Proven, Failure> {
        self.needs("/index/lookup", "a proven lookup")?;
        let path = query(key);
        let mut attempt = 1;
        let reply = loop {
            let reply = self.http.get_reply(&path).await?;
            match reply.status.as_u16() {
                200 => break reply,
                404 => {
                    return Err(Failure::new(
                        Exit::Unchecked,
                        format!(
                            "the log keeps no verifiable index ({path}: 404: {})",
                            said(&reply.body)
                        ),
                    ));
                }
                503 if attempt < ATTEMPTS => {
                    let pause = reply.retry_after.unwrap_or(Duration::from_secs(1));
                    tokio::time::sleep(pause.min(MAX_PAUSE)).await;
                    attempt += 1;
                }
                503 => {
                    return Err(Failure::new(
                        Exit::Unchecked,
                        format!(
                            "the log cannot prove against its published checkpoint now \
                             ({path}: 503 after {ATTEMPTS} attempts: {})",
                            said(&reply.body)
                        ),
                    ));
                }
                _ => {
                    return Err(Failure::new(
                        Exit::Network,
                        format!("{path}: {}: {}", reply.status, said(&reply.body)),
                    ));
                }
            }
        };
        let answer = String::from_utf8_lossy(&reply.body).into_owned();
        let v: Value = serde_json::from_str(&answer)
            .map_err(|e| Failure::new(Exit::Malformed, format!("{path}: not JSON: {e}")))?;
        let note = v["checkpoint"].as_str().ok_or_else(|| {
            Failure::new(
                Exit::Malformed,
                format!("{path}: no checkpoint in the answer"),
            )
        })?;
        let checkpoint = self
            .trust(note.as_bytes(), "the checkpoint of the index lookup")
            .await?;
        let proof =
            lookup_proof(&v).map_err(|e| Failure::new(Exit::Malformed, format!("{path}: {e}")))?;
        let (size, root) = (checkpoint.checkpoint.size, checkpoint.checkpoint.root);
        match verify_lookup(key, &proof, size, &root) {
            Ok(list) => Ok(Proven {
                checkpoint,
                list,
                query: path,
                answer,
            }),
            Err(e) => {
                let reason = format!(
                    "its index proof for {} does not verify against its checkpoint of size {size}: {e}",
                    describe(key)
                );
                let evidence = format!(
                    "gazette index evidence\nreason: {e}\nlookup: {path}\n\ncheckpoint:\n{}\nanswer:\n{answer}\n",
                    checkpoint.note
                );
                Err(self.misbehaved(&reason, &evidence))
            }
        }
    }

    /// An agency's key history as the log proves it: its registry entries,
    /// looked up with proofs against the trusted tree, folded by the
    /// registry's rules under the log's key (the policy's, never the
    /// log's word).
    pub async fn agency_history(&self, agency: &str) -> Result<AgencyHistory, Failure> {
        let proven = self
            .proven_lookup(&LookupKey::Agency(agency.to_owned()))
            .await?;
        let origin = &proven.checkpoint.checkpoint.origin;
        let log = self
            .policy()
            .logs()
            .iter()
            .find(|l| l.verifier.name() == origin)
            .map(|l| l.verifier.clone())
            .ok_or_else(|| Failure::new(Exit::Untrusted, "the policy names no key for this log"))?;
        Ok(AgencyHistory::fold(
            &log,
            agency,
            proven
                .list
                .registry
                .iter()
                .map(|(i, e)| (*i, e.bytes.as_slice())),
        ))
    }

    /// The proven histories of `agencies`, by name.
    pub async fn agency_histories(
        &self,
        agencies: impl IntoIterator<Item = &str>,
    ) -> Result<BTreeMap<String, AgencyHistory>, Failure> {
        let mut histories = BTreeMap::new();
        for agency in agencies {
            if !histories.contains_key(agency) {
                histories.insert(agency.to_owned(), self.agency_history(agency).await?);
            }
        }
        Ok(histories)
    }

    /// The proven status of the record at `index` from its name's proven
    /// list, counting records that are their issuer's under `trusted` only: `None` for a
    /// revocation (it has no status of its own). A forged entry, two
    /// documents under one name, or the record missing from its own list
    /// is misbehaviour, its evidence kept.
    pub fn status(
        &self,
        proven: &Proven,
        index: u64,
        trusted: &TrustedKeys<'_>,
    ) -> Result<Option<Status>, Failure> {
        let size = proven.checkpoint.checkpoint.size;
        let evidence = |e: &StatusError| {
            let mut out = format!(
                "gazette index evidence\nreason: {e}\nlookup: {}\n\ncheckpoint:\n{}\n",
                proven.query, proven.checkpoint.note
            );
            if let StatusError::Forged { index, .. } = e
                && let Some((_, signed)) = proven.list.records.iter().find(|(i, _)| i == index)
            {
                out.push_str(&format!(
                    "entry {index}:\n{}\n",
                    String::from_utf8_lossy(&signed.bytes)
                ));
            }
            out.push_str(&format!("answer:\n{}\n", proven.answer));
            out
        };
        match proven_status_under(&proven.list, index, trusted) {
            Ok(status) => Ok(Some(status)),
            Err(StatusError::IsRevocation) => Ok(None),
            Err(e @ StatusError::Forged { index: forged, .. }) => Err(self.misbehaved(
                &format!("entry {forged}, on the list proven at size {size}, is forged: {e}"),
                &evidence(&e),
            )),
            Err(e @ StatusError::NotOnList { .. }) => Err(self.misbehaved(
                &format!(
                    "its index omits a record it holds: {e} (proven at size {size}); the index commitment is wrong"
                ),
                &evidence(&e),
            )),
            Err(e @ StatusError::Conflict { .. }) => {
                Err(self.misbehaved(&format!("{e} (proven at size {size})"), &evidence(&e)))
            }
        }
    }
}

/// The records of a proven list that are themselves under `key` (for a
/// name: the record of that name, not the revocations naming it; for a
/// document: all).
pub fn matches<'a>(
    list: &'a ProvenList,
    key: &LookupKey,
) -> impl Iterator<Item = &'a (u64, gazette_client::record::SignedRecord)> {
    let key = key.clone();
    list.records.iter().filter(move |(_, signed)| match &key {
        LookupKey::Document(_) => true,
        LookupKey::Name { issuer, kind, id } => {
            let r = &signed.record;
            (&r.issuer, &r.kind, &r.id) == (issuer, kind, id)
        }
        LookupKey::Agency(_) => false,
    })
}

/// The witnesses' cosignatures on a checkpoint: `(name, RFC 3339 time)`,
/// by name.
pub fn cosigned_at(checkpoint: &VerifiedCheckpoint) -> Vec<(String, String)> {
    let by_name: BTreeMap<&str, u64> = checkpoint
        .cosignatures
        .iter()
        .map(|(name, c)| (name.as_str(), c.timestamp))
        .collect();
    by_name
        .into_iter()
        .map(|(name, t)| (name.to_owned(), rfc3339(t)))
        .collect()
}

/// The witnesses' cosignature times of a checkpoint, `name at time`, by
/// name.
pub fn cosigned(checkpoint: &VerifiedCheckpoint) -> Vec<String> {
    cosigned_at(checkpoint)
        .into_iter()
        .map(|(name, time)| format!("{name} at {time}"))
        .collect()
}

/// The witnesses' cosignatures on a checkpoint, by name, as JSON:
/// `[{"witness": name, "time": RFC 3339}]`.
pub fn cosignatures(checkpoint: &VerifiedCheckpoint) -> Value {
    cosigned_at(checkpoint)
        .into_iter()
        .map(|(name, time)| serde_json::json!({ "witness": name, "time": time }))
        .collect()
}

/// A Unix time as RFC 3339 UTC, to the second.
pub fn rfc3339(unix: u64) -> String {
    gazette_client::encoding::rfc3339_utc(unix)
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn unix_times_are_written_in_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_399_999), "2026-12-04T15:59:59Z");
    }
}
