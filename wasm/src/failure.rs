//! Errors handed to JavaScript: an `Error` whose `code` says which verdict
//! it supports and whose `message` is the core's precise reason.

use gazette_client::receipt::ReceiptError;
use wasm_bindgen::JsValue;

/// What kind of failure, as the page's `error.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Bytes that break a format (receipt, record, checkpoint, proof).
    Malformed,
    /// A checkpoint not signed by the log or not cosigned by the quorum.
    Untrusted,
    /// A proof that does not bind the entry to the checkpoint.
    NotIncluded,
    /// A record whose agency signature does not verify, or whose issuer is
    /// not a registered agency.
    BadSignature,
    /// A record under a key that was retired or declared compromised from
    /// before its index (or not yet registered at it): not its issuer's
    /// record. The error's `key` is the key, with its `cutoff`.
    KeyCutOff,
    /// A record under a key the log's operator registered for its issuer
    /// that is not one of the keys the page pins. The error's `key` says
    /// when it was registered, and whether an agency key co-signed that.
    UntrustedKey,
    /// No key to check a record's agency signature with: the page pins
    /// none and the issuer's key history is not proven past the record.
    NoAgencyKeys,
    /// The log showed an older checkpoint than one already trusted.
    Rollback,
    /// The log showed two checkpoints that contradict each other.
    Fork,
    /// The tiles a server sent do not hash to the trusted root.
    BadTiles,
    /// A document whose digest is not the record's (the page's own code,
    /// `wrong-digest`, for the same verdict).
    WrongDigest,
    /// A verifiable-index answer that does not prove what it claims, or
    /// lists a forged entry: the log misbehaved.
    BadIndexProof,
    /// A wrong argument from the page itself.
    Usage,
}

impl Code {
    /// The code's name in JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Malformed => "malformed",
            Code::Untrusted => "untrusted",
            Code::NotIncluded => "not-included",
            Code::BadSignature => "bad-signature",
            Code::KeyCutOff => "key-cut-off",
            Code::UntrustedKey => "untrusted-key",
            Code::NoAgencyKeys => "no-agency-keys",
            Code::Rollback => "rollback",
            Code::Fork => "fork",
            Code::BadTiles => "bad-tiles",
            Code::WrongDigest => "wrong-digest",
            Code::BadIndexProof => "bad-index-proof",
            Code::Usage => "usage",
        }
    }
}

impl From<&ReceiptError> for Code {
    /// The code of each way a receipt fails: the core decides the verdict,
    /// the page only names it.
    fn from(e: &ReceiptError) -> Code {
        match e {
            ReceiptError::Malformed(_) => Code::Malformed,
            ReceiptError::Untrusted(_) => Code::Untrusted,
            ReceiptError::NotIncluded { .. } => Code::NotIncluded,
            ReceiptError::BadSignature(_) => Code::BadSignature,
            ReceiptError::WrongDocument { .. } => Code::WrongDigest,
        }
    }
}

/// A JavaScript `Error` with `code`, and `evidence` when there is some.
pub fn failure(code: Code, message: impl std::fmt::Display, evidence: Option<String>) -> JsValue {
    let error = js_sys::Error::new(&message.to_string());
    let value: JsValue = error.into();
    crate::objects::set(&value, "code", code.as_str());
    if let Some(evidence) = evidence {
        crate::objects::set(&value, "evidence", evidence);
    }
    value
}

/// Shorthand for a failure without evidence.
pub fn fail(code: Code, message: impl std::fmt::Display) -> JsValue {
    failure(code, message, None)
}

/// A JavaScript number that must be a leaf index or tree size.
pub fn count(value: f64, what: &str) -> Result<u64, JsValue> {
    // 2^53: beyond it a JavaScript number is no longer an exact integer.
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if value.fract() == 0.0 && (0.0..=MAX_SAFE).contains(&value) {
        Ok(value as u64)
    } else {
        Err(fail(
            Code::Usage,
            format_args!("{what} must be a whole number from 0 to 2^53-1, not {value}"),
        ))
    }
}

/// A tree root given by the page: a base64 hash.
pub fn tree_root(text: &str) -> Result<gazette_client::Hash, JsValue> {
    gazette_client::Hash::from_base64(text).ok_or_else(|| {
        fail(
            Code::Usage,
            format_args!("root {text:?} is not a base64 hash"),
        )
    })
}
