#![cfg(target_arch = "wasm32")]
//! The agency registry through the bindings, in headless Chromium: a log
//! built in memory with the core (registry entries, records, index
//! commitments), its `/index/lookup` answers handed to `provenAgency`, and
//! every record check the page makes (`verifyRecord`, `verifyReceipt`,
//! `provenDocument`, `provenName`, `provenStatus`) judged under the keys
//! the proven history gives and the keys the page pins, never anything
//! else.

use std::collections::BTreeMap;

use gazette_client::Hash;
use gazette_client::checkpoint::Checkpoint;
use gazette_client::index::commitment::{IndexCommitment, Segment};
use gazette_client::index::tree::PostOrderTree;
use gazette_client::index::{ListValue, agency_key, document_key, keys_of_entry, name_key};
use gazette_client::merkle::{self, prove_inclusion, stored_hashes_for_leaf};
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_client::registry::{Action, RegistryEntry};
use gazette_client::tlog_proof::TlogProof;
use gazette_wasm::LogVerifier;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ORIGIN: &str = "registry.test/log";
const AGENCY: &str = "land.test";
const KIND: &str = "property-registration";

fn signer(name: &str, key_type: KeyType, seed: u8) -> Signer {
    Signer::from_seed(name, key_type, [seed; 32]).unwrap()
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| {
        Reflect::get(&v, &key.into()).unwrap()
    })
}

fn text(value: &JsValue, path: &str) -> String {
    get(value, path)
        .as_string()
        .unwrap_or_else(|| panic!("{path} is not text"))
}

fn number(value: &JsValue, path: &str) -> f64 {
    get(value, path)
        .as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number"))
}

fn code(error: &JsValue) -> String {
    text(error, "code")
}

fn set(object: &JsValue, key: &str, value: impl Into<JsValue>) {
    Reflect::set(object, &key.into(), &value.into()).unwrap();
}

/// A log in memory: entries, their stored hashes, and for each index
/// commitment the tree of its one segment (every entry before it).
struct MemoryLog {
    log: Signer,
    entries: Vec<Vec<u8>>,
    stored: Vec<Hash>,
    segments: BTreeMap<u64, PostOrderTree>,
}

impl MemoryLog {
    fn new() -> MemoryLog {
        MemoryLog {
            log: signer(ORIGIN, KeyType::Ed25519, 1),
            entries: Vec::new(),
            stored: Vec::new(),
            segments: BTreeMap::new(),
        }
    }

    fn policy(&self) -> String {
        format!("log {}\nquorum none\n", self.log.verifier())
    }

    fn push(&mut self, entry: Vec<u8>) -> u64 {
        let n = self.entries.len() as u64;
        let new = stored_hashes_for_leaf(n, merkle::leaf_hash(&entry), &self.stored).unwrap();
        self.stored.extend(new);
        self.entries.push(entry);
        n
    }

    /// Logs a registry entry of `action` on `key`, signed by the log and
    /// by `cosigner` when given.
    fn registry(
        &mut self,
        action: Action,
        key: &Signer,
        from: Option<u64>,
        cosigner: Option<&Signer>,
    ) -> u64 {
        let entry = RegistryEntry {
            log: ORIGIN.to_owned(),
            agency: AGENCY.to_owned(),
            action,
            key: key.verifier(),
            from,
            time: format!("2026-11-2{}T09:00:00Z", self.entries.len() % 10),
        };
        let mut signers = vec![&self.log];
        signers.extend(cosigner);
        let signed = entry.sign(&signers).unwrap();
        self.push(signed.bytes)
    }

    fn record(&mut self, by: &Signer, id: &str, digest: u8) -> u64 {
        let record = Record::new(AGENCY, KIND, id, [digest; 32], "2026-11-24T09:00:00Z");
        self.push(record.sign(by).unwrap().bytes)
    }

    fn revocation(&mut self, by: &Signer, of: &str) -> u64 {
        let record = Record::revocation(
            AGENCY,
            &format!("rev-{of}"),
            [0xee; 32],
            "2026-11-25T09:00:00Z",
            KIND,
            of,
        );
        self.push(record.sign(by).unwrap().bytes)
    }

    /// Ends the batch with an index commitment; returns the tree size it
    /// makes (the checkpoint's size that proves against it).
    fn commit(&mut self) -> u64 {
        let size = self.entries.len() as u64;
        let mut lists: BTreeMap<Hash, Vec<(u64, Hash)>> = BTreeMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            for key in keys_of_entry(e) {
                lists
                    .entry(key)
                    .or_default()
                    .push((i as u64, merkle::leaf_hash(e)));
            }
        }
        let pairs = lists
            .iter()
            .map(|(k, l)| (*k, ListValue::of(l.iter().map(|(i, h)| (*i, h)))));
        let (root, tree) = PostOrderTree::build(pairs).unwrap();
        let commitment = IndexCommitment {
            size,
            segments: vec![Segment {
                start: 0,
                end: size,
                root,
            }],
        };
        self.push(commitment.to_bytes());
        self.segments.insert(size + 1, tree);
        size + 1
    }

    fn checkpoint(&self, size: u64) -> String {
        let checkpoint = Checkpoint {
            origin: ORIGIN.to_owned(),
            size,
            root: merkle::tree_hash(size, &self.stored).unwrap(),
            extensions: Vec::new(),
        };
        checkpoint.sign(&self.log).unwrap()
    }

    fn listed(&self, index: u64, size: u64) -> JsValue {
        let out: JsValue = Object::new().into();
        let proof: Array = prove_inclusion(index, size, &self.stored)
            .unwrap()
            .iter()
            .map(|h| JsValue::from_str(&h.to_base64()))
            .collect();
        set(&out, "index", index as f64);
        let entry = String::from_utf8(self.entries[index as usize].clone()).unwrap();
        set(&out, "entry", entry);
        set(&out, "inclusion", proof);
        out
    }

    /// The log's `/index/lookup` answer for map key `key` against the
    /// checkpoint of `size` (a commitment's): every entry filed under it.
    fn answer(&self, key: &Hash, size: u64) -> JsValue {
        let listed: Array = (0..size - 1)
            .filter(|&i| keys_of_entry(&self.entries[i as usize]).contains(key))
            .map(|i| self.listed(i, size))
            .collect();
        let proof = gazette_client::index::tree::prove(&self.segments[&size], key).unwrap();
        let out: JsValue = Object::new().into();
        set(&out, "checkpoint", self.checkpoint(size));
        set(&out, "size", size as f64);
        set(&out, "commitment", self.listed(size - 1, size));
        set(&out, "entries", listed);
        let proofs = Array::of1(&gazette_client::encoding::b64_encode(&proof.to_bytes()).into());
        set(&out, "map_proofs", proofs);
        out
    }

    fn agency(&self, size: u64) -> JsValue {
        self.answer(&agency_key(AGENCY), size)
    }

    fn name(&self, id: &str, size: u64) -> JsValue {
        self.answer(&name_key(AGENCY, KIND, id), size)
    }

    fn receipt(&self, index: u64, size: u64) -> Vec<u8> {
        TlogProof {
            extra: Some(self.entries[index as usize].clone()),
            index,
            proof: prove_inclusion(index, size, &self.stored).unwrap(),
            checkpoint: self.checkpoint(size),
        }
        .to_text()
        .into_bytes()
    }
}

/// The story the page must tell: the agency's own key `own`, two records
/// under it, the operator declaring it compromised from the second, then
/// registering a key of its own, `rogue`, and a record under it; a
/// revocation under the compromised key after the cut-off; then the
/// agency's rotation to `next`, co-signed with `rogue` (the agency's only
/// current key by then).
struct Story {
    log: MemoryLog,
    own: Signer,
    rogue: Signer,
    next: Signer,
    /// Indexes: deed-0 (before the cut-off), deed-1 (after it), deed-2
    /// (under `rogue`), the registrations of `rogue` and `next`, the
    /// compromise, the revocation, the first commitment's size.
    deed0: u64,
    deed1: u64,
    deed2: u64,
    rogue_at: u64,
    next_at: u64,
    cut_at: u64,
    early: u64,
    size: u64,
}

fn story() -> Story {
    let mut log = MemoryLog::new();
    let own = signer(AGENCY, KeyType::Ed25519, 4);
    let rogue = signer(AGENCY, KeyType::Ed25519, 5);
    let next = signer(AGENCY, KeyType::Ed25519, 6);
    log.registry(Action::Register, &own, None, None);
    let deed0 = log.record(&own, "deed-0", 0);
    let early = log.commit();
    let deed1 = log.record(&own, "deed-1", 1);
    let cut_at = log.registry(Action::Compromised, &own, Some(deed1), None);
    let rogue_at = log.registry(Action::Register, &rogue, None, None);
    let deed2 = log.record(&rogue, "deed-2", 2);
    log.revocation(&own, "deed-0");
    let next_at = log.registry(Action::Register, &next, None, Some(&rogue));
    let size = log.commit();
    Story {
        log,
        own,
        rogue,
        next,
        deed0,
        deed1,
        deed2,
        rogue_at,
        next_at,
        cut_at,
        early,
        size,
    }
}

fn verifier(s: &Story, pinned: &[&Signer]) -> LogVerifier {
    let keys = pinned.iter().map(|k| k.verifier().to_string()).collect();
    LogVerifier::new(&s.log.policy(), keys).unwrap()
}

fn keys(history: &JsValue) -> Vec<JsValue> {
    Array::from(&get(history, "keys")).iter().collect()
}

#[wasm_bindgen_test]
fn the_proven_history_says_who_registered_each_key_when_and_how_it_ended() {
    let s = story();
    let v = verifier(&s, &[]);
    let history = v.proven_agency(&s.log.agency(s.size), AGENCY).unwrap();
    assert_eq!(text(&history, "agency"), AGENCY);
    assert_eq!(number(&history, "checkpoint.size"), s.size as f64);
    assert_eq!(Array::from(&get(&history, "problems")).length(), 0);
    let keys = keys(&history);
    assert_eq!(keys.len(), 3);
    let [own, rogue, next] = [&keys[0], &keys[1], &keys[2]];
    assert_eq!(text(own, "vkey"), s.own.verifier().to_string());
    assert_eq!(number(own, "registeredAt"), 0.0);
    assert_eq!(text(own, "time"), "2026-11-20T09:00:00Z");
    assert!(get(own, "cosignedBy").is_null());
    assert_eq!(number(own, "cutoff.at"), s.cut_at as f64);
    assert_eq!(number(own, "cutoff.from"), s.deed1 as f64);
    assert_eq!(get(own, "cutoff.compromised"), JsValue::TRUE);
    assert_eq!(get(own, "current"), JsValue::FALSE);
    // The operator's own key: nobody but the log signed its registration.
    assert_eq!(number(rogue, "registeredAt"), s.rogue_at as f64);
    assert!(get(rogue, "cosignedBy").is_null());
    assert!(get(rogue, "cutoff").is_null());
    // The rotation, co-signed by the agency's current key.
    assert_eq!(text(next, "vkey"), s.next.verifier().to_string());
    assert_eq!(number(next, "registeredAt"), s.next_at as f64);
    assert_eq!(
        text(next, "cosignedBy"),
        format!("{AGENCY}+{:08x}", s.rogue.verifier().key_id())
    );
    assert_eq!(get(next, "pinned"), JsValue::FALSE);
}

#[wasm_bindgen_test]
fn a_compromise_cut_off_keeps_records_before_it_and_refuses_those_after_it() {
    let s = story();
    let v = verifier(&s, &[]);
    v.proven_agency(&s.log.agency(s.size), AGENCY).unwrap();
    // Before the cut-off: valid, and the revocation logged under the
    // compromised key after the cut-off does not count.
    let status = v
        .proven_status(
            &s.log.name("deed-0", s.size),
            AGENCY,
            KIND,
            "deed-0",
            s.deed0 as f64,
        )
        .unwrap();
    assert_eq!(text(&status, "status"), "valid");
    assert_eq!(text(&status, "agency"), "registry");
    assert_eq!(number(&status, "key.registeredAt"), 0.0);
    // From the cut-off on: not the agency's record, with the key and its cut-off.
    let e = v
        .proven_status(
            &s.log.name("deed-1", s.size),
            AGENCY,
            KIND,
            "deed-1",
            s.deed1 as f64,
        )
        .unwrap_err();
    assert_eq!(code(&e), "key-cut-off");
    assert_eq!(number(&e, "index"), s.deed1 as f64);
    assert_eq!(number(&e, "key.cutoff.from"), s.deed1 as f64);
    assert_eq!(get(&e, "key.cutoff.compromised"), JsValue::TRUE);
    assert!(
        text(&e, "message").contains("declared compromised"),
        "{e:?}"
    );
    // The document's list says which of its records is cut off.
    let found = v
        .proven_document(
            &s.log.answer(&document_key(&[1; 32]), s.size),
            &format!("sha256:{}", "01".repeat(32)),
        )
        .unwrap();
    let records = Array::from(&get(&found, "records"));
    assert_eq!(records.length(), 1);
    assert!(text(&records.get(0), "cutOff").contains("declared compromised"));
    assert_eq!(number(&records.get(0), "key.cutoff.at"), s.cut_at as f64);
    let found = v
        .proven_document(
            &s.log.answer(&document_key(&[0; 32]), s.size),
            &format!("sha256:{}", "00".repeat(32)),
        )
        .unwrap();
    assert!(get(&Array::from(&get(&found, "records")).get(0), "cutOff").is_null());
    // A receipt says the same, once the history is proven.
    let e = v
        .verify_receipt(&s.log.receipt(s.deed1, s.size))
        .unwrap_err();
    assert_eq!(code(&e), "key-cut-off");
    let ok = v.verify_receipt(&s.log.receipt(s.deed0, s.size)).unwrap();
    assert_eq!(text(&ok, "agency"), "registry");
}

#[wasm_bindgen_test]
fn a_page_pinning_the_agencys_key_refuses_the_operators_key_and_says_when_it_was_registered() {
    let s = story();
    let v = verifier(&s, &[&s.own]);
    let history = v.proven_agency(&s.log.agency(s.size), AGENCY).unwrap();
    assert_eq!(get(&keys(&history)[0], "pinned"), JsValue::TRUE);
    let e = v
        .proven_status(
            &s.log.name("deed-2", s.size),
            AGENCY,
            KIND,
            "deed-2",
            s.deed2 as f64,
        )
        .unwrap_err();
    assert_eq!(code(&e), "untrusted-key");
    assert_eq!(number(&e, "key.registeredAt"), s.rogue_at as f64);
    assert!(get(&e, "key.cosignedBy").is_null());
    assert_eq!(text(&e, "record.id"), "deed-2");
    let message = text(&e, "message");
    assert!(
        message.contains(&format!("at entry {}", s.rogue_at)),
        "{message}"
    );
    // By document and by receipt alike.
    let e = v
        .proven_document(
            &s.log.answer(&document_key(&[2; 32]), s.size),
            &format!("sha256:{}", "02".repeat(32)),
        )
        .unwrap_err();
    assert_eq!(code(&e), "untrusted-key");
    let e = v
        .verify_receipt(&s.log.receipt(s.deed2, s.size))
        .unwrap_err();
    assert_eq!(code(&e), "untrusted-key");
    // The agency's own record before the cut-off is still verified.
    let status = v
        .proven_status(
            &s.log.name("deed-0", s.size),
            AGENCY,
            KIND,
            "deed-0",
            s.deed0 as f64,
        )
        .unwrap();
    assert_eq!(text(&status, "status"), "valid");
    assert_eq!(get(&status, "key.pinned"), JsValue::TRUE);
}

#[wasm_bindgen_test]
fn without_a_proven_history_only_pinned_keys_check_a_record_and_none_is_no_verdict() {
    let s = story();
    // No pinned key, no history: a receipt's agency is not checked, and a
    // list or a record cannot be judged at all.
    let v = verifier(&s, &[]);
    let r = v.verify_receipt(&s.log.receipt(s.deed0, s.size)).unwrap();
    assert_eq!(text(&r, "agency"), "unchecked");
    assert!(get(&r, "key").is_null());
    let record = String::from_utf8(s.log.entries[s.deed0 as usize].clone()).unwrap();
    let e = v.verify_record(&record, s.deed0 as f64).unwrap_err();
    assert_eq!(code(&e), "no-agency-keys");
    let e = v
        .proven_name(&s.log.name("deed-0", s.size), AGENCY, KIND, "deed-0")
        .unwrap_err();
    assert_eq!(code(&e), "no-agency-keys");
    // A history proven at an earlier tree covers the records before it
    // only; a later one replaces it, never the other way round.
    let history = v.proven_agency(&s.log.agency(s.early), AGENCY).unwrap();
    assert_eq!(keys(&history).len(), 1);
    assert_eq!(
        text(&v.verify_record(&record, s.deed0 as f64).unwrap(), "agency"),
        "registry"
    );
    let deed1 = String::from_utf8(s.log.entries[s.deed1 as usize].clone()).unwrap();
    let e = v.verify_record(&deed1, s.deed1 as f64).unwrap_err();
    assert_eq!(code(&e), "no-agency-keys");
    v.proven_agency(&s.log.agency(s.size), AGENCY).unwrap();
    v.proven_agency(&s.log.agency(s.early), AGENCY).unwrap();
    let e = v.verify_record(&deed1, s.deed1 as f64).unwrap_err();
    assert_eq!(code(&e), "key-cut-off");
    // Pinned keys alone (offline): the signature, no window.
    let offline = verifier(&s, &[&s.own]);
    let r = offline
        .verify_receipt(&s.log.receipt(s.deed1, s.size))
        .unwrap();
    assert_eq!(text(&r, "agency"), "pinned");
    let e = offline
        .verify_receipt(&s.log.receipt(s.deed2, s.size))
        .unwrap_err();
    assert_eq!(code(&e), "bad-signature");
}

#[wasm_bindgen_test]
fn a_forged_record_or_a_registry_entry_without_the_logs_signature_is_caught() {
    let mut log = MemoryLog::new();
    let own = signer(AGENCY, KeyType::Ed25519, 4);
    let forger = signer(AGENCY, KeyType::Ed25519, 9);
    log.registry(Action::Register, &own, None, None);
    // A registration signed by the forger's key alone: not the log's.
    let entry = RegistryEntry {
        log: ORIGIN.to_owned(),
        agency: AGENCY.to_owned(),
        action: Action::Register,
        key: forger.verifier(),
        from: None,
        time: "2026-11-24T09:00:00Z".to_owned(),
    };
    let bogus = log.push(entry.sign(&[&forger]).unwrap().bytes);
    let forged = log.record(&forger, "deed-9", 9);
    let size = log.commit();
    let v = LogVerifier::new(&log.policy(), Vec::new()).unwrap();
    let history = v.proven_agency(&log.agency(size), AGENCY).unwrap();
    assert_eq!(keys(&history).len(), 1);
    let problems = Array::from(&get(&history, "problems"));
    assert_eq!(problems.length(), 1);
    assert_eq!(number(&problems.get(0), "index"), bogus as f64);
    assert!(text(&problems.get(0), "message").contains("not signed by the log"));
    let e = v
        .proven_name(&log.name("deed-9", size), AGENCY, KIND, "deed-9")
        .unwrap_err();
    assert_eq!(code(&e), "bad-index-proof");
    let e = v.verify_receipt(&log.receipt(forged, size)).unwrap_err();
    assert_eq!(code(&e), "bad-signature");
    // An answer for another agency is not this one's history.
    let e = v
        .proven_agency(&log.agency(size), "other.test")
        .unwrap_err();
    assert_eq!(code(&e), "bad-index-proof");
}
