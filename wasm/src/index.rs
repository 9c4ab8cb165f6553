//! Verdicts from the verifiable index (`docs/INDEX.md`): an
//! `/index/lookup` answer, as the page parsed it from JSON, verified here by
//! the core's one lookup verification; "not found" and "not revoked" become
//! facts of the checkpoint the answer carries.

use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::encoding::hex_decode_lower;
use gazette_client::index::lookup::{
    ListedEntry, LookupKey, LookupProof, ProvenList, verify_lookup,
};
use gazette_client::index::proof::MapProof;
use gazette_client::index::status::{Status, StatusError, proven_status_under, signed_under};
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

use crate::agency::{NoKeys, Refusal, set_key};
use crate::failure::{Code, count, fail};
use crate::objects;
use crate::verifier::{LogVerifier, parse_hashes};

#[wasm_bindgen]
impl LogVerifier {
    /// Everything the log holds under the document with `digest`
    /// (`sha256:<64 hex>`), from the `/index/lookup?digest=` answer: its
    /// checkpoint under the policy, the commitment, every entry's inclusion
    /// and filing, every segment's map proof, and every record as its
    /// issuer's (under the keys `verifyRecord` uses: prove the histories
    /// of `listedIssuers` first). Gives `{checkpoint, records: [{index,
    /// record, signedRecord, key, agency, cutOff}]}` (`cutOff`: why a
    /// record under a key since cut off is not its issuer's, else null);
    /// no records is proven absence. A record under a key the page does
    /// not pin fails with `untrusted-key`, a forged one with
    /// `bad-index-proof`.
    #[wasm_bindgen(js_name = provenDocument)]
    pub fn proven_document(&self, answer: &JsValue, digest: &str) -> Result<JsValue, JsValue> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let digest: [u8; 32] = hex_decode_lower(hex)
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| {
                fail(
                    Code::Usage,
                    format_args!("{digest:?} is not sha256:<64 hex>"),
                )
            })?;
        self.proven_list(answer, &LookupKey::Document(digest))
    }

    /// Everything the log holds under the name (`issuer`, `kind`, `id`),
    /// from the `/index/lookup?issuer=&kind=&id=` answer, proven as
    /// `provenDocument` proves a document's: the record of that name and
    /// the revocations naming it. Gives `{checkpoint, records: [...]}` as
    /// `provenDocument` does; no records is proven absence of the name.
    #[wasm_bindgen(js_name = provenName)]
    pub fn proven_name(
        &self,
        answer: &JsValue,
        issuer: &str,
        kind: &str,
        id: &str,
    ) -> Result<JsValue, JsValue> {
        let key = LookupKey::Name {
            issuer: issuer.to_owned(),
            kind: kind.to_owned(),
            id: id.to_owned(),
        };
        self.proven_list(answer, &key)
    }

    /// The status of the record at `index` named (`issuer`, `kind`, `id`),
    /// from the `/index/lookup?issuer=&kind=&id=` answer, proven as above:
    /// the record itself must be its issuer's (else `key-cut-off`,
    /// `untrusted-key` or `bad-index-proof`), and only its issuer's records
    /// count (a revocation under a key cut off before it does not). Gives
    /// `{checkpoint, status: "valid" | "revoked", revokedBy, revocation,
    /// key, agency}` (`revocation`: the revoking record, or null; `key`:
    /// the record's registered key, or null when only pinned keys checked
    /// it).
    #[wasm_bindgen(js_name = provenStatus)]
    pub fn proven_status(
        &self,
        answer: &JsValue,
        issuer: &str,
        kind: &str,
        id: &str,
        index: f64,
    ) -> Result<JsValue, JsValue> {
        let index = count(index, "index")?;
        let key = LookupKey::Name {
            issuer: issuer.to_owned(),
            kind: kind.to_owned(),
            id: id.to_owned(),
        };
        let (checkpoint, list) = self.lookup(answer, &key)?;
        // The record itself first: the status of a record that is not its
        // issuer's (its key cut off before it, say) means nothing.
        let record = list.records.iter().find(|(i, _)| *i == index);
        let (registered, mode) = match record {
            Some((_, signed)) => self.checked(signed, index, Code::BadIndexProof)?,
            None => (None, "unchecked"),
        };
        let status = self
            .with_keys(issuers(&list), |keys| {
                proven_status_under(&list, index, keys)
            })
            .map_err(NoKeys::failure)?
            .map_err(|e| self.status_failure(&list, e))?;
        let out = objects::object();
        objects::set(&out, "checkpoint", objects::checkpoint(&checkpoint));
        match status {
            Status::Valid => {
                objects::set(&out, "status", "valid");
                objects::set(&out, "revokedBy", JsValue::NULL);
                objects::set(&out, "revocation", JsValue::NULL);
            }
            Status::Revoked { by } => {
                objects::set(&out, "status", "revoked");
                objects::set(&out, "revokedBy", by as f64);
                let revocation = list.records.iter().find(|(i, _)| *i == by).map(|(_, r)| r);
                objects::set(
                    &out,
                    "revocation",
                    revocation.map_or(JsValue::NULL, objects::record),
                );
            }
        }
        set_key(&out, registered.as_ref(), &self.pinned, mode);
        Ok(out)
    }
}

impl LogVerifier {
    /// A key's proven list, every record checked as its issuer's, as
    /// `{checkpoint, records: [{index, record, signedRecord, key, agency,
    /// cutOff}]}`: `key` the registered key it is under (or null, pinned
    /// keys only), `cutOff` why it is not its issuer's record (its key's
    /// window does not cover it), else null.
    fn proven_list(&self, answer: &JsValue, key: &LookupKey) -> Result<JsValue, JsValue> {
        let (checkpoint, list) = self.lookup(answer, key)?;
        self.with_keys(issuers(&list), |keys| signed_under(&list, keys).map(drop))
            .map_err(NoKeys::failure)?
            .map_err(|e| self.status_failure(&list, e))?;
        let records = Array::new();
        for (index, signed) in &list.records {
            let out = objects::object();
            objects::set(&out, "index", *index as f64);
            objects::set(&out, "record", objects::record(signed));
            objects::set(
                &out,
                "signedRecord",
                String::from_utf8_lossy(&signed.bytes).as_ref(),
            );
            let cut_off = match self.judged(signed, *index) {
                Ok((registered, mode)) => {
                    set_key(&out, registered.as_ref(), &self.pinned, mode);
                    JsValue::NULL
                }
                Err(Refusal::OutsideWindow { key, reason }) => {
                    set_key(&out, key.as_deref(), &self.pinned, "registry");
                    reason.into()
                }
                Err(refusal) => {
                    return Err(refusal.failure(self, signed, *index, Code::BadIndexProof));
                }
            };
            objects::set(&out, "cutOff", cut_off);
            records.push(&out);
        }
        let out = objects::object();
        objects::set(&out, "checkpoint", objects::checkpoint(&checkpoint));
        objects::set(&out, "records", records);
        Ok(out)
    }

    /// The failure of a list the status rule refuses: a listed record
    /// under a key the log registered for its issuer but the page does not
    /// pin is `untrusted-key`, with that key; anything else is the log's
    /// misbehaviour (`bad-index-proof`): a forgery, or a broken rule.
    fn status_failure(&self, list: &ProvenList, e: StatusError) -> JsValue {
        if let StatusError::Forged { index, .. } = &e
            && let Some((_, signed)) = list.records.iter().find(|(i, _)| i == index)
            && let Err(refusal @ Refusal::NotPinned { .. }) = self.judged(signed, *index)
        {
            return refusal.failure(self, signed, *index, Code::BadIndexProof);
        }
        fail(Code::BadIndexProof, e)
    }

    /// Verifies an answer for `key` against the checkpoint it carries.
    pub(crate) fn lookup(
        &self,
        answer: &JsValue,
        key: &LookupKey,
    ) -> Result<(VerifiedCheckpoint, ProvenList), JsValue> {
        let checkpoint = self.checkpoint(&string(answer, "checkpoint")?)?;
        let map_proofs = strings(answer, "map_proofs")?
            .iter()
            .map(|p| {
                gazette_client::encoding::b64_decode(p)
                    .and_then(|bytes| MapProof::parse(&bytes).ok())
                    .ok_or_else(|| fail(Code::Malformed, format_args!("map proof {p:?}")))
            })
            .collect::<Result<_, _>>()?;
        let entries = Array::from(&field(answer, "entries")?)
            .iter()
            .map(|e| listed(&e))
            .collect::<Result<_, _>>()?;
        let proof = LookupProof {
            commitment: listed(&field(answer, "commitment")?)?,
            entries,
            map_proofs,
        };
        let c = &checkpoint.checkpoint;
        let list = verify_lookup(key, &proof, c.size, &c.root)
            .map_err(|e| fail(Code::BadIndexProof, e))?;
        Ok((checkpoint, list))
    }
}

/// Each listed record's `(index, issuer)`.
fn issuers(list: &ProvenList) -> impl Iterator<Item = (u64, &str)> {
    list.records
        .iter()
        .map(|(index, signed)| (*index, signed.record.issuer.as_str()))
}

fn field(v: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    let value = Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Err(fail(
            Code::Malformed,
            format_args!("the index answer has no {key}"),
        ));
    }
    Ok(value)
}

fn string(v: &JsValue, key: &str) -> Result<String, JsValue> {
    field(v, key)?.as_string().ok_or_else(|| {
        fail(
            Code::Malformed,
            format_args!("the index answer's {key} is not text"),
        )
    })
}

fn strings(v: &JsValue, key: &str) -> Result<Vec<String>, JsValue> {
    Array::from(&field(v, key)?)
        .iter()
        .map(|s| {
            s.as_string()
                .ok_or_else(|| fail(Code::Malformed, format_args!("the index answer's {key}")))
        })
        .collect()
}

fn listed(v: &JsValue) -> Result<ListedEntry, JsValue> {
    let index = field(v, "index")?
        .as_f64()
        .ok_or_else(|| fail(Code::Malformed, "an index answer entry without an index"))?;
    Ok(ListedEntry {
        index: count(index, "index")?,
        bytes: string(v, "entry")?.into_bytes(),
        inclusion: parse_hashes(&strings(v, "inclusion")?)?,
    })
}
