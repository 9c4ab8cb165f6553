//! Verifying what a log serves, under the witness policy the page trusts.

use std::cell::RefCell;

use gazette_client::Hash;
use gazette_client::checkpoint::VerifiedCheckpoint;
use gazette_client::merkle::{leaf_hash, verify_inclusion};
use gazette_client::note::Verifier;
use gazette_client::policy::Policy;
use gazette_client::receipt::{self, AgencyCheck};
use gazette_client::record::SignedRecord;
use gazette_client::registry::RegisteredKey;
use gazette_client::trust::{TrustError, check_advance};
use wasm_bindgen::prelude::*;

use crate::agency::{Histories, Refusal, mode, set_key};
use crate::failure::{Code, count, fail, failure, tree_root};
use crate::objects::{self, object, set};

/// A log as the page trusts it: its witness policy (c2sp.org/tlog-policy
/// text with the log's line), the agency keys the page pins (maybe none),
/// and the agencies' key histories proven so far ([`crate::agency`]).
#[wasm_bindgen]
pub struct LogVerifier {
    pub(crate) policy: Policy,
    pub(crate) pinned: Vec<Verifier>,
    pub(crate) histories: RefCell<Histories>,
}

#[wasm_bindgen]
impl LogVerifier {
    /// Trusts checkpoints under `policy`, and records under their
    /// agencies' key histories as the log proves them (`provenAgency`),
    /// signed with one of `agencies` too (verifier keys, `name+id+key`:
    /// the page's pinned keys) when it gives any.
    #[wasm_bindgen(constructor)]
    pub fn new(policy: &str, agencies: Vec<String>) -> Result<LogVerifier, JsValue> {
        let policy = Policy::parse(policy.as_bytes())
            .map_err(|e| fail(Code::Usage, format_args!("the witness policy: {e}")))?;
        if policy.logs().is_empty() {
            return Err(fail(Code::Usage, "the witness policy names no log"));
        }
        let pinned = agencies
            .iter()
            .map(|vkey| {
                Verifier::parse(vkey)
                    .map_err(|e| fail(Code::Usage, format_args!("agency key {vkey:?}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(LogVerifier {
            policy,
            pinned,
            histories: RefCell::default(),
        })
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

    /// The signed `record`, logged at `index`, checked as its issuer's:
    /// its signature under a key whose window in the issuer's proven key
    /// history covers `index` (and under a pinned key, when the page pins
    /// some), or under the pinned keys alone while no history is proven
    /// past `index`. Gives the record's fields with `key` (its registered
    /// key, or null) and `agency` (`registry` or `pinned`); fails with
    /// `key-cut-off`, `untrusted-key`, `bad-signature` or `no-agency-keys`.
    #[wasm_bindgen(js_name = verifyRecord)]
    pub fn verify_record(&self, record: &str, index: f64) -> Result<JsValue, JsValue> {
        let index = count(index, "index")?;
        let signed = parse_record(record.as_bytes())?;
        let (key, mode) = self.checked(&signed, index, Code::BadSignature)?;
        let out = objects::record(&signed);
        set_key(&out, key.as_ref(), &self.pinned, mode);
        Ok(out)
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

    /// Whether the signed `revocation`, logged at `index` and checked as
    /// its issuer's record (as `verifyRecord` checks one), revokes the
    /// signed `record`: same issuer, kind `revocation`, naming its kind
    /// and id.
    #[wasm_bindgen(js_name = isRevokedBy)]
    pub fn is_revoked_by(
        &self,
        record: &str,
        revocation: &str,
        index: f64,
    ) -> Result<bool, JsValue> {
        let index = count(index, "index")?;
        let record = parse_record(record.as_bytes())?;
        let revocation = parse_record(revocation.as_bytes())?;
        self.checked(&revocation, index, Code::BadSignature)?;
        Ok(record.record.is_revoked_by(&revocation.record))
    }

    /// A receipt (c2sp.org/tlog-proof@v1 with the signed record as extra),
    /// offline, by the core's one rule set (`gazette verify`'s too): the
    /// checkpoint under the policy and the inclusion proof, then the
    /// record as its issuer's, as `verifyRecord` checks it. With neither a
    /// proven history covering the record nor pinned keys, the agency's
    /// signature is not checked (`agency: "unchecked"`): the page must not
    /// call the record verified. Gives `{record, signedRecord, index,
    /// checkpoint, proof, key, agency}`.
    #[wasm_bindgen(js_name = verifyReceipt)]
    pub fn verify_receipt(&self, receipt: &[u8]) -> Result<JsValue, JsValue> {
        let verified = receipt::verify_receipt(receipt, &self.policy, AgencyCheck::Skip, None)
            .map_err(|e| fail(Code::from(&e), e))?;
        let (record, index) = (&verified.record, verified.index);
        let (key, mode) = match self.judged(record, index) {
            Err(Refusal::NoKeys(_)) => (None, "unchecked"),
            judged => judged.map_err(|r| r.failure(self, record, index, Code::BadSignature))?,
        };
        let out = object();
        set(&out, "record", objects::record(record));
        set(
            &out,
            "signedRecord",
            String::from_utf8_lossy(&record.bytes).as_ref(),
        );
        set(&out, "index", index as f64);
        set(
            &out,
            "checkpoint",
            objects::checkpoint(&verified.checkpoint),
        );
        set(&out, "proof", objects::hashes(&verified.proof));
        set_key(&out, key.as_ref(), &self.pinned, mode);
        Ok(out)
    }
}

impl LogVerifier {
    pub(crate) fn checkpoint(&self, note: &str) -> Result<VerifiedCheckpoint, JsValue> {
        self.policy
            .verify_checkpoint(note.as_bytes())
            .map_err(|e| fail(Code::Untrusted, format_args!("the checkpoint: {e}")))
    }

    /// The registered key `signed`, logged at `index`, is its issuer's
    /// record under (`None`: pinned keys only), and how it was checked
    /// (`registry` or `pinned`).
    pub(crate) fn judged(
        &self,
        signed: &SignedRecord,
        index: u64,
    ) -> Result<(Option<RegisteredKey>, &'static str), Refusal> {
        self.with_keys([(index, signed.record.issuer.as_str())], |keys| {
            LogVerifier::judge(keys, signed, index).map(|key| (key, mode(keys)))
        })?
    }

    /// [`LogVerifier::judged`], a refusal as the page's failure (a
    /// signature that does not verify: `invalid`).
    pub(crate) fn checked(
        &self,
        signed: &SignedRecord,
        index: u64,
        invalid: Code,
    ) -> Result<(Option<RegisteredKey>, &'static str), JsValue> {
        self.judged(signed, index)
            .map_err(|refusal| refusal.failure(self, signed, index, invalid))
    }
}

/// A signed record's bytes, parsed (its signature not yet checked).
fn parse_record(bytes: &[u8]) -> Result<SignedRecord, JsValue> {
    SignedRecord::parse(bytes).map_err(|e| fail(Code::Malformed, format_args!("the record: {e}")))
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
