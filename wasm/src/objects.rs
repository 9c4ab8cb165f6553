//! Plain JavaScript objects for what was verified.

use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::encoding::hex_encode;
use gazette_client::record::SignedRecord;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// Sets `object[key] = value`.
pub fn set(object: &JsValue, key: &str, value: impl Into<JsValue>) {
    // Setting a property on a plain object or Error cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

/// A new empty object.
pub fn object() -> JsValue {
    Object::new().into()
}

/// `{origin, size, root, note, witnesses: [{name, time}]}`; `time` is the
/// cosignature's Unix time in seconds.
pub fn checkpoint(verified: &VerifiedCheckpoint) -> JsValue {
    let out = object();
    set(&out, "origin", verified.checkpoint.origin.as_str());
    set(&out, "size", verified.checkpoint.size as f64);
    set(&out, "root", verified.checkpoint.root.to_base64());
    set(&out, "note", verified.note.as_str());
    let witnesses = Array::new();
    for (name, cosignature) in &verified.cosignatures {
        let witness = object();
        set(&witness, "name", name.as_str());
        set(&witness, "time", cosignature.timestamp as f64);
        witnesses.push(&witness);
    }
    set(&out, "witnesses", witnesses);
    out
}

/// `{issuer, kind, id, digest, issued, revokes, fields, leafHash}`;
/// `revokes` is `{kind, id}` or null, `fields` an array of `[key, value]`.
pub fn record(signed: &SignedRecord) -> JsValue {
    let r = &signed.record;
    let out = object();
    set(&out, "issuer", r.issuer.as_str());
    set(&out, "kind", r.kind.as_str());
    set(&out, "id", r.id.as_str());
    set(&out, "digest", format!("sha256:{}", hex_encode(&r.digest)));
    set(&out, "issued", r.issued.as_str());
    let revokes = match &r.revokes {
        Some((kind, id)) => {
            let revokes = object();
            set(&revokes, "kind", kind.as_str());
            set(&revokes, "id", id.as_str());
            revokes
        }
        None => JsValue::NULL,
    };
    set(&out, "revokes", revokes);
    let fields = Array::new();
    for (key, value) in &r.fields {
        fields.push(&Array::of2(&key.into(), &value.into()));
    }
    set(&out, "fields", fields);
    set(&out, "leafHash", signed.leaf_hash().to_base64());
    out
}

/// Hashes as an array of base64 strings.
pub fn hashes(hashes: &[gazette_client::Hash]) -> JsValue {
    hashes
        .iter()
        .map(|h| JsValue::from(h.to_base64()))
        .collect::<Array>()
        .into()
}
