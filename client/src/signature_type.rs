//! The two signed-note signature types Gazette implements, as bytes: what
//! each one signs and how its signature is laid out.
//!
//! | type | used by | signs | signature bytes after the key ID |
//! | --- | --- | --- | --- |
//! | `0x01` | logs, agencies | the note text | Ed25519 signature (64) |
//! | `0x04` | witnesses | `cosignature/v1\ntime <T>\n` + the note text | timestamp u64 big-endian (8) ‖ Ed25519 signature (64) |
//!
//! Both [`crate::note`] (a verifier key checks a signature line of its
//! type) and [`crate::cosignature`] (cosignatures as values) need these
//! rules; they live here, below both, so neither module imports the other
//! for them.

use ed25519_dalek::{Signature, VerifyingKey};

/// Bytes of a `0x04` signature after the key ID: timestamp (8) and Ed25519
/// signature (64).
pub const COSIGNATURE_PAYLOAD_LEN: usize = 72;

/// The message a witness signs for `checkpoint_text` at `timestamp`.
pub fn cosigned_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// Splits a `0x04` payload into its timestamp and Ed25519 signature;
/// `None` unless it is exactly [`COSIGNATURE_PAYLOAD_LEN`] bytes.
pub(crate) fn split_cosignature(payload: &[u8]) -> Option<(u64, &[u8; 64])> {
    if payload.len() != COSIGNATURE_PAYLOAD_LEN {
        return None;
    }
    let (timestamp, signature) = payload.split_at(8);
    Some((
        u64::from_be_bytes(timestamp.try_into().ok()?),
        signature.try_into().ok()?,
    ))
}

/// Whether `signature` is a strict Ed25519 signature of `msg` (type `0x01`).
pub(crate) fn verify_ed25519(key: &VerifyingKey, msg: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(msg, &signature).is_ok()
}

/// Whether `payload` (timestamp ‖ signature) is a valid `0x04` cosignature
/// of the note text `text`. Timestamps of 2^63 and above are refused, as
/// c2sp.org/tlog-cosignature requires.
pub(crate) fn verify_cosignature(key: &VerifyingKey, text: &[u8], payload: &[u8]) -> bool {
    let Some((timestamp, signature)) = split_cosignature(payload) else {
        return false;
    };
    if timestamp >= 1 << 63 {
        return false;
    }
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    verify_ed25519(key, cosigned_message(text, timestamp).as_bytes(), signature)
}
