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
use gazette_client::index::status::{Status, proven_status, signed_by};
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

use crate::failure::{Code, count, fail};
use crate::objects;
use crate::verifier::{LogVerifier, parse_hashes};

#[wasm_bindgen]
impl LogVerifier {
    /// Everything the log holds under the document with `digest`
    /// (`sha256:<64 hex>`), from the `/index/lookup?digest=` answer: its
    /// checkpoint under the policy, the commitment, every entry's inclusion
    /// and filing, every segment's map proof, and every record's agency
    /// signature. Gives `{checkpoint, records: [{index, record,
    /// signedRecord}]}`; no records is proven absence.
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
    /// the revocations naming it. Gives `{checkpoint, records: [{index,
    /// record, signedRecord}]}`; no records is proven absence of the name.
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
    /// from the `/index/lookup?issuer=&kind=&id=` answer, proven as above,
    /// counting only records signed by the agencies' keys. Gives
    /// `{checkpoint, status: "valid" | "revoked", revokedBy, revocation}`
    /// (`revocation`: the revoking record, or null).
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
        let status = proven_status(&list, index, &self.agencies)
            .map_err(|e| fail(Code::BadIndexProof, e))?;
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
        Ok(out)
    }
}

impl LogVerifier {
    /// A key's proven list, every record's agency signature checked, as
    /// `{checkpoint, records: [{index, record, signedRecord}]}`.
    fn proven_list(&self, answer: &JsValue, key: &LookupKey) -> Result<JsValue, JsValue> {
        let (checkpoint, list) = self.lookup(answer, key)?;
        signed_by(&list, &self.agencies).map_err(|e| fail(Code::BadIndexProof, e))?;
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
            records.push(&out);
        }
        let out = objects::object();
        objects::set(&out, "checkpoint", objects::checkpoint(&checkpoint));
        objects::set(&out, "records", records);
        Ok(out)
    }

    /// Verifies an answer for `key` against the checkpoint it carries.
    fn lookup(
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
