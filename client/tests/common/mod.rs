//! Shared helpers of the known-answer vector tests: loading the JSON files
//! shipped in `tests/vectors/` and decoding their hex and base64 fields.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use base64::Engine as _;
use gazette_client::Hash;
use serde_json::Value;

/// The vectors shipped with the crate (never the shared spec folder, which
/// a fresh clone does not have).
pub const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors");

/// Parses `tests/vectors/<file>`.
pub fn load(file: &str) -> Value {
    let path = format!("{VECTORS_DIR}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

/// `v[key]`, which must exist.
pub fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key)
        .unwrap_or_else(|| panic!("vector has no field {key:?}: {v}"))
}

/// `v[key]` as a string.
pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    field(v, key)
        .as_str()
        .unwrap_or_else(|| panic!("field {key:?} is not a string: {v}"))
}

/// `v[key]` as an unsigned integer.
pub fn u64_of(v: &Value, key: &str) -> u64 {
    field(v, key)
        .as_u64()
        .unwrap_or_else(|| panic!("field {key:?} is not an unsigned integer: {v}"))
}

/// `v[key]` as a bool.
pub fn bool_of(v: &Value, key: &str) -> bool {
    field(v, key)
        .as_bool()
        .unwrap_or_else(|| panic!("field {key:?} is not a bool: {v}"))
}

/// `v[key]` as an array (`null` reads as empty, as the probes use it).
pub fn array_of<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    match field(v, key) {
        Value::Null => &[],
        Value::Array(items) => items,
        other => panic!("field {key:?} is not an array: {other}"),
    }
}

/// `v` as a string.
pub fn as_str(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("value is not a string: {v}"))
}

/// Hex (any case) to bytes.
pub fn hex_bytes(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap_or_else(|e| panic!("bad hex {text:?}: {e}"))
}

/// Hex of exactly 32 bytes to a hash.
pub fn hex_hash(text: &str) -> Hash {
    Hash::from_slice(&hex_bytes(text)).unwrap_or_else(|| panic!("not a 32-byte hex hash: {text}"))
}

/// A JSON array of hex hashes.
pub fn hex_hashes(values: &[Value]) -> Vec<Hash> {
    values.iter().map(|v| hex_hash(as_str(v))).collect()
}

/// Standard padded base64 (RFC 4648 §4) to bytes, strictly.
pub fn b64_bytes(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("bad base64 {text:?}: {e}"))
}

/// Standard base64 of exactly 32 bytes to a hash.
pub fn b64_hash(text: &str) -> Hash {
    Hash::from_base64(text).unwrap_or_else(|| panic!("not a 32-byte base64 hash: {text}"))
}

/// Lowercase hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// A 32-byte seed from hex.
pub fn seed(text: &str) -> [u8; 32] {
    hex_bytes(text)
        .try_into()
        .unwrap_or_else(|_| panic!("seed is not 32 bytes: {text}"))
}

/// SHA-256 of `data`, as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}
