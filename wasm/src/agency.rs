//! The keys the page checks an agency's records with (`docs/INDEX.md`,
//! section 8): the keys the page pins (its `agencies` file), and each
//! agency's key history, proven from the log's own registry entries
//! (`/index/lookup?agency=`) and folded by the core under the policy's log
//! key. Never what the log merely says (`/info`).
//!
//! The histories are kept in the verifier, each with the size of the tree
//! it was proven against: a history covers the records logged before that
//! size. Every record check goes through [`TrustedKeys::check`], the rule
//! the CLI applies too; this module only says which keys to give it and
//! turns its answer into a failure the page can explain.

use std::collections::BTreeMap;

use gazette_client::index::lookup::LookupKey;
use gazette_client::note::Verifier;
use gazette_client::record::SignedRecord;
use gazette_client::registry::{AgencyHistory, RegisteredKey, TrustedKeys, Untrusted};
use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::failure::{Code, fail};
use crate::objects::{self, object, set};
use crate::verifier::LogVerifier;

/// The agencies' proven key histories a verifier holds.
#[derive(Default)]
pub(crate) struct Histories {
    histories: BTreeMap<String, AgencyHistory>,
    /// The size of the tree each history was proven against.
    sizes: BTreeMap<String, u64>,
}

impl Histories {
    /// Whether `issuer`'s history was proven against a tree holding `index`.
    fn covers(&self, issuer: &str, index: u64) -> bool {
        self.sizes.get(issuer).is_some_and(|&size| index < size)
    }

    /// Keeps `history`, proven at `size`, unless one proven at a larger
    /// size is kept already (a later tree knows every earlier change).
    fn keep(&mut self, agency: &str, size: u64, history: AgencyHistory) {
        if self.sizes.get(agency).is_none_or(|&held| held <= size) {
            self.sizes.insert(agency.to_owned(), size);
            self.histories.insert(agency.to_owned(), history);
        }
    }
}

/// No key to check records with: the page pins none, and the issuer's
/// history is not proven past the record (why, in words).
pub(crate) struct NoKeys(pub(crate) String);

impl NoKeys {
    /// The page's failure.
    pub(crate) fn failure(self) -> JsValue {
        fail(Code::NoAgencyKeys, self.0)
    }
}

impl From<NoKeys> for Refusal {
    fn from(NoKeys(reason): NoKeys) -> Refusal {
        Refusal::NoKeys(reason)
    }
}

/// Why a record is not counted as its issuer's.
pub(crate) enum Refusal {
    /// There is nothing to check it with: the page pins no key and the
    /// issuer's history is not proven past the record.
    NoKeys(String),
    /// Its key's window does not cover it (retired or declared
    /// compromised from before it, or not yet registered when it was
    /// logged).
    OutsideWindow {
        key: Option<Box<RegisteredKey>>,
        reason: String,
    },
    /// Its key is registered for the issuer in the log, but is not one
    /// of the keys the page pins.
    NotPinned {
        key: Box<RegisteredKey>,
        reason: String,
    },
    /// Not the issuer's signature under any key trusted for it.
    Invalid(String),
}

impl Refusal {
    /// The failure for the page: `index` is the record's, `signed` the
    /// record; `invalid` is the code of a signature that does not verify
    /// (`bad-signature` for a receipt, `bad-index-proof` for a record the
    /// log lists in a proven answer: it holds a forgery).
    pub(crate) fn failure(
        self,
        verifier: &LogVerifier,
        signed: &SignedRecord,
        index: u64,
        invalid: Code,
    ) -> JsValue {
        let issuer = &signed.record.issuer;
        let (error, key) = match self {
            Refusal::NoKeys(reason) => (fail(Code::NoAgencyKeys, reason), None),
            Refusal::OutsideWindow { key, reason } => (
                fail(
                    Code::KeyCutOff,
                    format_args!("entry {index} is not {issuer}'s record: {reason}"),
                ),
                key,
            ),
            Refusal::NotPinned { key, reason } => {
                let message = format!(
                    "entry {index} is signed with {}, which the log's operator registered for \
                     {issuer} at entry {} ({}), but which is not one of the keys this page \
                     trusts: {reason}",
                    label(&key.key),
                    key.registered_at,
                    key.time
                );
                (fail(Code::UntrustedKey, message), Some(key))
            }
            Refusal::Invalid(reason) => {
                let message = match invalid {
                    Code::BadIndexProof => format!(
                        "entry {index}, on the list the log proved, is not signed by its \
                         issuer's key ({reason}): the log holds a forged entry"
                    ),
                    _ => format!("the record: {reason}"),
                };
                (fail(invalid, message), None)
            }
        };
        set(&error, "index", index as f64);
        set(&error, "record", objects::record(signed));
        set(
            &error,
            "key",
            key.map_or(JsValue::NULL, |k| registered_key(&k, &verifier.pinned)),
        );
        error
    }
}

/// How a record's agency signature was checked: `registry` (the issuer's
/// proven history, and the pinned keys if the page has some), `pinned`
/// (the pinned keys alone: offline), or `unchecked`.
pub(crate) fn mode(keys: &TrustedKeys) -> &'static str {
    match (keys.histories.is_some(), keys.pinned.is_empty()) {
        (true, _) => "registry",
        (false, false) => "pinned",
        (false, true) => "unchecked",
    }
}

#[wasm_bindgen]
impl LogVerifier {
    /// An agency's key history from the `/index/lookup?agency=` answer:
    /// the answer verified against its checkpoint under the policy (the
    /// list of the agency's registry entries proven complete), the entries
    /// folded by the registry's rules under the policy's log key, and the
    /// history kept for the record checks that follow (unless one proven
    /// at a larger tree is kept). Gives `{agency, checkpoint, keys: [key],
    /// problems: [{index, message}]}` (`key` as in [`registered_key`];
    /// `problems`: entries the log should never have logged).
    #[wasm_bindgen(js_name = provenAgency)]
    pub fn proven_agency(&self, answer: &JsValue, agency: &str) -> Result<JsValue, JsValue> {
        let (checkpoint, list) = self.lookup(answer, &LookupKey::Agency(agency.to_owned()))?;
        let origin = &checkpoint.checkpoint.origin;
        let log = self
            .policy
            .logs()
            .iter()
            .find(|l| l.verifier.name() == origin)
            .ok_or_else(|| {
                fail(
                    Code::Untrusted,
                    format_args!("the policy names no key for the log {origin}"),
                )
            })?;
        let history = AgencyHistory::fold(
            &log.verifier,
            agency,
            list.registry.iter().map(|(i, e)| (*i, e.bytes.as_slice())),
        );
        let out = self.describe(agency, &history);
        set(&out, "checkpoint", objects::checkpoint(&checkpoint));
        self.histories
            .borrow_mut()
            .keep(agency, checkpoint.checkpoint.size, history);
        Ok(out)
    }

    /// Drops the kept history of `agency` (one whose checkpoint turned out
    /// not to be the trusted history).
    #[wasm_bindgen(js_name = forgetAgency)]
    pub fn forget_agency(&self, agency: &str) {
        let mut held = self.histories.borrow_mut();
        held.histories.remove(agency);
        held.sizes.remove(agency);
    }

    /// The issuers of the records an `/index/lookup` answer lists, as the
    /// answer says (unverified, sorted, each once): whose key histories to
    /// prove before `provenDocument`, `provenName` or `provenStatus`.
    #[wasm_bindgen(js_name = listedIssuers)]
    pub fn listed_issuers(&self, answer: &JsValue) -> Vec<String> {
        let entries = js_sys::Reflect::get(answer, &"entries".into()).unwrap_or(JsValue::UNDEFINED);
        let mut issuers: Vec<String> = Array::from(&entries)
            .iter()
            .filter_map(|e| js_sys::Reflect::get(&e, &"entry".into()).ok()?.as_string())
            .filter_map(|text| SignedRecord::parse(text.as_bytes()).ok())
            .map(|signed| signed.record.issuer)
            .collect();
        issuers.sort_unstable();
        issuers.dedup();
        issuers
    }
}

impl LogVerifier {
    /// Runs `check` with the keys trusted for `records` (`(index,
    /// issuer)`): the pinned keys and the proven histories when each
    /// issuer's history covers its records, the pinned keys alone when
    /// not (offline), and nothing at all when the
    /// page pins none ([`NoKeys`]).
    pub(crate) fn with_keys<'r, T>(
        &self,
        records: impl IntoIterator<Item = (u64, &'r str)>,
        check: impl FnOnce(&TrustedKeys) -> T,
    ) -> Result<T, NoKeys> {
        let held = self.histories.borrow();
        let uncovered = records
            .into_iter()
            .find(|(index, issuer)| !held.covers(issuer, *index));
        let keys = match uncovered {
            None => TrustedKeys {
                pinned: &self.pinned,
                histories: Some(&held.histories),
            },
            Some(_) if !self.pinned.is_empty() => TrustedKeys {
                pinned: &self.pinned,
                histories: None,
            },
            Some((index, issuer)) => {
                return Err(NoKeys(format!(
                    "no key to check {issuer}'s signature on entry {index} with: this page pins \
                     none, and {issuer}'s key history is not proven past that entry"
                )));
            }
        };
        Ok(check(&keys))
    }

    /// The registered key `signed`, logged at `index`, is valid under
    /// (`None` when only pinned keys were given), or why it is not its
    /// issuer's record, by the core's [`TrustedKeys::check`].
    pub(crate) fn judge(
        keys: &TrustedKeys,
        signed: &SignedRecord,
        index: u64,
    ) -> Result<Option<RegisteredKey>, Refusal> {
        let (issuer, key_id) = (&signed.record.issuer, signed.signature.key_id);
        let registered = || {
            keys.histories
                .and_then(|h| h.get(issuer))
                .and_then(|h| {
                    h.keys
                        .iter()
                        .find(|k| k.key.name() == issuer && k.key.key_id() == key_id)
                })
                .cloned()
        };
        match keys.check(signed, index) {
            Ok(()) => Ok(registered()),
            Err(Untrusted::OutsideWindow(reason)) => Err(Refusal::OutsideWindow {
                key: registered().map(Box::new),
                reason,
            }),
            // Under a key the log's registry holds for the issuer (the
            // operator's doing), not one the page pins.
            Err(Untrusted::NotPinned(reason)) => match registered() {
                Some(key) => Err(Refusal::NotPinned {
                    key: Box::new(key),
                    reason,
                }),
                None => Err(Refusal::Invalid(reason)),
            },
            Err(Untrusted::Invalid(reason)) => Err(Refusal::Invalid(reason)),
        }
    }

    /// `{agency, keys, problems}` of a history.
    fn describe(&self, agency: &str, history: &AgencyHistory) -> JsValue {
        let out = object();
        set(&out, "agency", agency);
        let keys: Array = history
            .keys
            .iter()
            .map(|k| registered_key(k, &self.pinned))
            .collect();
        set(&out, "keys", keys);
        let problems = Array::new();
        for (index, e) in &history.problems {
            let problem = object();
            set(&problem, "index", *index as f64);
            set(&problem, "message", e.to_string());
            problems.push(&problem);
        }
        set(&out, "problems", problems);
        out
    }
}

/// A key as the page shows it: `{vkey, label, name, registeredAt,
/// validFrom, time, cosignedBy, declaredFrom, current, pinned, cutoff}`.
/// Every registry entry is signed by the log's operator; `cosignedBy` is
/// the agency key that also signed the registration (`name+keyid`), or
/// null; `cutoff` is `{at, from, compromised, time}` or null; `pinned`
/// says whether the page pins the key.
pub(crate) fn registered_key(k: &RegisteredKey, pinned: &[Verifier]) -> JsValue {
    let out = object();
    set(&out, "vkey", k.key.to_string());
    set(&out, "label", label(&k.key));
    set(&out, "name", k.key.name());
    set(&out, "registeredAt", k.registered_at as f64);
    set(&out, "validFrom", k.valid_from as f64);
    set(&out, "time", k.time.as_str());
    set(
        &out,
        "cosignedBy",
        k.cosigned_by
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str),
    );
    set(
        &out,
        "declaredFrom",
        k.declared_from.map_or(JsValue::NULL, |f| (f as f64).into()),
    );
    set(&out, "current", k.is_current());
    set(&out, "pinned", pinned.contains(&k.key));
    let cutoff = match &k.cutoff {
        Some(c) => {
            let cutoff = object();
            set(&cutoff, "at", c.at as f64);
            set(&cutoff, "from", c.from as f64);
            set(&cutoff, "compromised", c.compromised);
            set(&cutoff, "time", c.time.as_str());
            cutoff
        }
        None => JsValue::NULL,
    };
    set(&out, "cutoff", cutoff);
    out
}

/// A key as it is known: `<name>+<key id>`.
pub(crate) fn label(key: &Verifier) -> String {
    format!("{}+{:08x}", key.name(), key.key_id())
}

/// A record's key check for the page: `{key, agency}` set on `out`.
pub(crate) fn set_key(out: &JsValue, key: Option<&RegisteredKey>, pinned: &[Verifier], mode: &str) {
    set(
        out,
        "key",
        key.map_or(JsValue::NULL, |k| registered_key(k, pinned)),
    );
    set(out, "agency", mode);
}
