//! Verifying what a log serves, under the witness policy the page trusts.

use gazette_client::Hash;
use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::merkle::{leaf_hash, verify_inclusion};
use gazette_client::note::Verifier;
use gazette_client::policy::Policy;
use gazette_client::receipt::{self, AgencyCheck};
use gazette_client::record::{RecordError, SignedRecord};
use gazette_client::trust::{TrustError, check_advance};
use wasm_bindgen::prelude::*;

use crate::failure::{Code, count, fail, failure, tree_root};
use crate::objects;

/// A log as the page trusts it: its witness policy (c2sp.org/tlog-policy
/// text with the log's line) and its registered agencies' verifier keys.
#[wasm_bindgen]
pub struct LogVerifier {
    pub(crate) policy: Policy,
    pub(crate) agencies: Vec<Verifier>,
}

#[wasm_bindgen]
impl LogVerifier {
    /// Trusts checkpoints under `policy` and records signed by `agencies`
    /// (verifier keys, `name+id+key`).
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &str, agencies: Vec<String>) -> Result<LogVerifier, JsValue> {
        let policy = Policy::parse(policy.as_bytes())
            .map_err(|e| fail(Code::Usage, format_args!("the witness policy: {e}")))?;
        if policy.logs().is_empty() {
            return Err(fail(Code::Usage, "the witness policy names no log"));
        }
        let agencies = agencies
            .iter()
            .map(|vkey| {
                Verifier::parse(vkey)
                    .map_err(|e| fail(Code::Usage, format_args!("agency key {vkey:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(LogVerifier { policy, agencies })
    }

    /// The log's origin (its key name in the policy).
    pub fn origin(&self) -> String {
        self.policy.logs()[0].verifier.name().to_owned()
    }

    /// A signed checkpoint, verified under the policy: the log's signature
    /// and the witnesses' quorum.
    #[wasm_bindgen(js_name = verifyCheckpoint)]
    pub fn verify_checkpoint(&self, note: &str) -> Result<JsValue, JsValue> {
        self.checkpoint(note).map(|v| objects::checkpoint(&v))
    }

    /// Whether `offered` may replace the `trusted` checkpoint kept by the
    /// page: both verify, same log, not older, and `proof` (base64 hashes)
    /// proves `trusted` is a prefix of `offered`. Gives the offered
    /// checkpoint; a rollback or fork fails with `evidence` to keep.
    pub fn advance(
        &self,
        trusted: Option<String>,
        offered: &str,
        proof: Vec<String>,
    ) -> Result<JsValue, JsValue> {
        let offered = self.checkpoint(offered)?;
        if let Some(trusted) = trusted {
            let trusted = self
                .policy
                .verify_checkpoint(trusted.as_bytes())
                .map_err(|e| {
                    fail(
                        Code::Untrusted,
                        format_args!("the checkpoint kept by this browser no longer verifies: {e}"),
                    )
                })?;
            check_advance(&trusted, &offered, &parse_hashes(&proof)?).map_err(|e| {
                let code = match e {
                    TrustError::Rollback { .. } => Code::Rollback,
                    TrustError::Fork { .. } => Code::Fork,
                    TrustError::OriginMismatch { .. } => Code::Usage,
                };
                failure(code, &e, Some(e.evidence()))
            })?;
        }
        Ok(objects::checkpoint(&offered))
    }

    /// A signed record, its signature verified with the registered agency
    /// key of its issuer.
    #[wasm_bindgen(js_name = verifyRecord)]
    pub fn verify_record(&self, record: &str) -> Result<JsValue, JsValue> {
        self.record(record.as_bytes()).map(|r| objects::record(&r))
    }

    /// Whether the signed `record` is leaf `index` of the tree of `size`
    /// with `root` (base64), by the inclusion `proof` (base64 hashes).
    #[wasm_bindgen(js_name = verifyInclusion)]
    pub fn verify_inclusion(
        &self,
        record: &str,
        index: f64,
        size: f64,
        root: &str,
        proof: Vec<String>,
    ) -> Result<(), JsValue> {
        let (index, size) = (count(index, "index")?, count(size, "size")?);
        let root = tree_root(root)?;
        verify_inclusion(
            &leaf_hash(record.as_bytes()),
            index,
            size,
            &parse_hashes(&proof)?,
            &root,
        )
        .map_err(|e| fail(Code::NotIncluded, format_args!("entry {index}: {e}")))
    }

    /// Whether the signed `revocation` (verified) revokes the signed
    /// `record`: same issuer, kind `revocation`, naming its kind and id.
    #[wasm_bindgen(js_name = isRevokedBy)]
    pub fn is_revoked_by(&self, record: &str, revocation: &str) -> Result<bool, JsValue> {
        let record = SignedRecord::parse(record.as_bytes())
            .map_err(|e| fail(Code::Malformed, format_args!("the record: {e}")))?;
        let revocation = self.record(revocation.as_bytes())?;
        Ok(record.record.is_revoked_by(&revocation.record))
    }

    /// A receipt (c2sp.org/tlog-proof@v1 with the signed record as extra),
    /// offline, by the core's one rule set (`gazette verify`'s too): the
    /// record's agency signature, the checkpoint under the policy, and the
    /// inclusion proof. Gives `{record, signedRecord, index, checkpoint,
    /// proof}`.
    #[wasm_bindgen(js_name = verifyReceipt)]
    pub fn verify_receipt(&self, receipt: &[u8]) -> Result<JsValue, JsValue> {
        // The page keeps the agencies from `/info` and always checks the
        // signature: an issuer it does not know is a bad signature.
        let verified = receipt::verify_receipt(
            receipt,
            &self.policy,
            AgencyCheck::Keys(&self.agencies),
            None,
        )
        .map_err(|e| fail(Code::from(&e), e))?;
        let out = objects::object();
        objects::set(&out, "record", objects::record(&verified.record));
        objects::set(
            &out,
            "signedRecord",
            String::from_utf8_lossy(&verified.record.bytes).as_ref(),
        );
        objects::set(&out, "index", verified.index as f64);
        objects::set(
            &out,
            "checkpoint",
            objects::checkpoint(&verified.checkpoint),
        );
        objects::set(&out, "proof", objects::hashes(&verified.proof));
        Ok(out)
    }
}

impl LogVerifier {
    pub(crate) fn checkpoint(&self, note: &str) -> Result<VerifiedCheckpoint, JsValue> {
        self.policy
            .verify_checkpoint(note.as_bytes())
            .map_err(|e| fail(Code::Untrusted, format_args!("the checkpoint: {e}")))
    }

    fn record(&self, bytes: &[u8]) -> Result<SignedRecord, JsValue> {
        SignedRecord::verify(bytes, &self.agencies).map_err(|e| {
            let code = match e {
                RecordError::UnknownIssuer { .. } | RecordError::BadSignature { .. } => {
                    Code::BadSignature
                }
                _ => Code::Malformed,
            };
            fail(code, format_args!("the record: {e}"))
        })
    }
}

pub(crate) fn parse_hashes(proof: &[String]) -> Result<Vec<Hash>, JsValue> {
    proof
        .iter()
        .map(|h| {
            Hash::from_base64(h)
                .ok_or_else(|| fail(Code::Malformed, format_args!("{h:?} is not a base64 hash")))
        })
        .collect()
}
