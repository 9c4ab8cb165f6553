#![cfg(target_arch = "wasm32")]
//! The bindings in a real browser (headless Chromium through
//! wasm-bindgen-test-runner): a small log is built in memory with the
//! protocol core, and every verdict the page relies on is checked through
//! the bindings, with the failure `code` each bad input must give.

use gazette_client::Hash;
use gazette_client::checkpoint::Checkpoint;
use gazette_client::cosignature::Cosignature;
use gazette_client::merkle::{self, prove_consistency, prove_inclusion, stored_hashes_for_leaf};
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::{Record, SignedRecord};
use gazette_client::tiles::{Tile, read_tile_data};
use gazette_client::tlog_proof::TlogProof;
use gazette_wasm::{DocumentHasher, LogVerifier, TileProofPlan};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ORIGIN: &str = "gazette.test/log";

fn signer(name: &str, key_type: KeyType, seed: u8) -> Signer {
    Signer::from_seed(name, key_type, [seed; 32]).unwrap()
}

/// A log of signed records with two witnesses, all in memory.
struct TestLog {
    log: Signer,
    witnesses: Vec<Signer>,
    agency: Signer,
    records: Vec<SignedRecord>,
    stored: Vec<Hash>,
}

impl TestLog {
    fn new(count: u64) -> TestLog {
        let mut log = TestLog {
            log: signer(ORIGIN, KeyType::Ed25519, 1),
            witnesses: vec![
                signer("w1.test", KeyType::Cosignature, 2),
                signer("w2.test", KeyType::Cosignature, 3),
            ],
            agency: signer("land.test", KeyType::Ed25519, 4),
            records: Vec::new(),
            stored: Vec::new(),
        };
        for i in 0..count {
            let record = Record::new(
                "land.test",
                "property-registration",
                &format!("deed-{i}"),
                [i as u8; 32],
                "2026-11-24T09:00:00Z",
            );
            log.append(record.sign(&log.agency).unwrap());
        }
        log
    }

    fn append(&mut self, signed: SignedRecord) {
        let n = self.records.len() as u64;
        let new = stored_hashes_for_leaf(n, signed.leaf_hash(), &self.stored).unwrap();
        self.stored.extend(new);
        self.records.push(signed);
    }

    fn size(&self) -> u64 {
        self.records.len() as u64
    }

    fn root(&self, size: u64) -> Hash {
        merkle::tree_hash(size, &self.stored).unwrap()
    }

    /// The checkpoint of `size`, signed by the log and cosigned by the
    /// first `cosigners` witnesses.
    fn checkpoint(&self, size: u64, cosigners: usize) -> String {
        let checkpoint = Checkpoint {
            origin: ORIGIN.to_owned(),
            size,
            root: self.root(size),
            extensions: Vec::new(),
        };
        let mut note = checkpoint.sign(&self.log).unwrap();
        for witness in &self.witnesses[..cosigners] {
            let cosignature = Cosignature::sign(witness, &checkpoint.to_text(), 1_764_000_000);
            note.push_str(&cosignature.unwrap().to_line());
        }
        note
    }

    fn policy(&self) -> String {
        let w = &self.witnesses;
        format!(
            "log {}\nwitness w1 {}\nwitness w2 {}\ngroup both 2 w1 w2\nquorum both\n",
            self.log.verifier(),
            w[0].verifier(),
            w[1].verifier()
        )
    }

    fn verifier(&self) -> LogVerifier {
        LogVerifier::new(&self.policy(), vec![self.agency.verifier().to_string()]).unwrap()
    }

    fn receipt(&self, index: u64, size: u64) -> Vec<u8> {
        TlogProof {
            extra: Some(self.records[index as usize].bytes.clone()),
            index,
            proof: prove_inclusion(index, size, &self.stored).unwrap(),
            checkpoint: self.checkpoint(size, 2),
        }
        .to_text()
        .into_bytes()
    }

    /// The tiles a log would serve for `paths`, read from the stored hashes.
    fn tiles(&self, paths: &[String]) -> Vec<Uint8Array> {
        paths
            .iter()
            .map(|p| {
                let tile = Tile::parse_path(p).unwrap();
                Uint8Array::from(read_tile_data(&tile, &self.stored).unwrap().as_slice())
            })
            .collect()
    }
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| {
        Reflect::get(&v, &key.into()).unwrap()
    })
}

fn code(error: JsValue) -> String {
    get(&error, "code").as_string().unwrap()
}

#[wasm_bindgen_test]
fn document_hasher_gives_the_sha256_known_answer_in_any_chunking() {
    let mut whole = DocumentHasher::new();
    whole.update(b"abc");
    assert_eq!(
        whole.finish(),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let document: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let mut one = DocumentHasher::new();
    one.update(&document);
    let mut chunked = DocumentHasher::new();
    for chunk in document.chunks(4093) {
        chunked.update(chunk);
    }
    assert_eq!(one.finish(), chunked.finish());
}

#[wasm_bindgen_test]
fn receipt_verifies_offline_with_record_checkpoint_and_witness_times() {
    let log = TestLog::new(300);
    let verified = log
        .verifier()
        .verify_receipt(&log.receipt(257, 300))
        .unwrap();
    assert_eq!(get(&verified, "index").as_f64(), Some(257.0));
    assert_eq!(
        get(&verified, "record.issuer").as_string().unwrap(),
        "land.test"
    );
    assert_eq!(get(&verified, "record.id").as_string().unwrap(), "deed-257");
    assert_eq!(get(&verified, "checkpoint.size").as_f64(), Some(300.0));
    assert_eq!(
        get(&verified, "checkpoint.origin").as_string().unwrap(),
        ORIGIN
    );
    let witnesses = js_sys::Array::from(&get(&verified, "checkpoint.witnesses"));
    assert_eq!(witnesses.length(), 2);
    assert_eq!(get(&witnesses.get(0), "name").as_string().unwrap(), "w1");
    assert_eq!(
        get(&witnesses.get(0), "time").as_f64(),
        Some(1_764_000_000.0)
    );
}

#[wasm_bindgen_test]
fn bad_receipts_fail_with_the_code_of_their_fault() {
    let mut log = TestLog::new(20);
    let verifier = log.verifier();
    let good = String::from_utf8(log.receipt(5, 20)).unwrap();

    let garbage = verifier.verify_receipt(b"not a receipt").unwrap_err();
    assert_eq!(code(garbage), "malformed");

    // Another leaf's proof: the record is not bound to the root.
    let other = TlogProof::parse(&log.receipt(6, 20)).unwrap();
    let mut swapped = TlogProof::parse(good.as_bytes()).unwrap();
    swapped.proof = other.proof;
    let e = verifier
        .verify_receipt(swapped.to_text().as_bytes())
        .unwrap_err();
    assert_eq!(code(e), "not-included");

    // One witness short of the quorum.
    let mut short = TlogProof::parse(good.as_bytes()).unwrap();
    short.checkpoint = log.checkpoint(20, 1);
    let e = verifier
        .verify_receipt(short.to_text().as_bytes())
        .unwrap_err();
    assert_eq!(code(e), "untrusted");

    // A record signed by a key that is not the pinned agency's, logged
    // and proven like any other.
    let impostor = signer("land.test", KeyType::Ed25519, 9);
    let forged = Record::new(
        "land.test",
        "e-invoice",
        "x",
        [1; 32],
        "2026-11-24T09:00:00Z",
    )
    .sign(&impostor)
    .unwrap();
    log.append(forged);
    let e = verifier.verify_receipt(&log.receipt(20, 21)).unwrap_err();
    assert_eq!(code(e), "bad-signature");
}

#[wasm_bindgen_test]
fn proofs_computed_from_tiles_in_the_browser_equal_the_core_and_verify() {
    let log = TestLog::new(1000);
    let (size, root) = (log.size(), log.root(log.size()).to_base64());
    let verifier = log.verifier();
    for index in [0, 1, 255, 256, 511, 999] {
        let plan = TileProofPlan::inclusion(index as f64, size as f64).unwrap();
        let proof = plan.proof(&root, log.tiles(&plan.tile_paths())).unwrap();
        let expected: Vec<String> = prove_inclusion(index, size, &log.stored)
            .unwrap()
            .iter()
            .map(Hash::to_base64)
            .collect();
        assert_eq!(proof, expected);
        let record = String::from_utf8(log.records[index as usize].bytes.clone()).unwrap();
        verifier
            .verify_inclusion(&record, index as f64, size as f64, &root, proof.clone())
            .unwrap();
        let e = verifier
            .verify_inclusion(&record, (index ^ 1) as f64, size as f64, &root, proof)
            .unwrap_err();
        assert_eq!(code(e), "not-included");
    }
    let plan = TileProofPlan::consistency(300.0, size as f64).unwrap();
    let proof = plan.proof(&root, log.tiles(&plan.tile_paths())).unwrap();
    let expected: Vec<String> = prove_consistency(300, size, &log.stored)
        .unwrap()
        .iter()
        .map(Hash::to_base64)
        .collect();
    assert_eq!(proof, expected);

    // Tiles of another tree do not authenticate against this root.
    let mut other = TestLog::new(0);
    for i in 0..size {
        let record = Record::new(
            "land.test",
            "e-invoice",
            &format!("other-{i}"),
            [1; 32],
            "2026-11-24T09:00:00Z",
        );
        other.append(record.sign(&other.agency).unwrap());
    }
    let plan = TileProofPlan::inclusion(3.0, size as f64).unwrap();
    let tiles = other.tiles(&plan.tile_paths());
    assert_eq!(code(plan.proof(&root, tiles).unwrap_err()), "bad-tiles");
    assert_eq!(
        code(TileProofPlan::inclusion(0.5, 10.0).err().unwrap()),
        "usage"
    );
}

#[wasm_bindgen_test]
fn trusted_checkpoint_advances_only_by_consistency_and_keeps_evidence() {
    let log = TestLog::new(100);
    let verifier = log.verifier();
    let old = log.checkpoint(40, 2);
    let new = log.checkpoint(100, 2);
    let proof: Vec<String> = prove_consistency(40, 100, &log.stored)
        .unwrap()
        .iter()
        .map(Hash::to_base64)
        .collect();
    let advanced = verifier
        .advance(Some(old.clone()), &new, proof.clone())
        .unwrap();
    assert_eq!(get(&advanced, "size").as_f64(), Some(100.0));
    assert!(verifier.advance(None, &new, Vec::new()).is_ok());

    let rollback = verifier
        .advance(Some(new.clone()), &old, Vec::new())
        .unwrap_err();
    assert_eq!(code(rollback.clone()), "rollback");
    assert!(
        get(&rollback, "evidence")
            .as_string()
            .unwrap()
            .contains(&new)
    );

    // A fork: the same log key signs a different history of size 100.
    let mut forked = TestLog::new(40);
    let impostor = Record::new(
        "land.test",
        "e-invoice",
        "fork",
        [7; 32],
        "2026-11-24T09:00:00Z",
    );
    for _ in 40..100 {
        forked.append(impostor.sign(&forked.agency).unwrap());
    }
    let fork = verifier
        .advance(Some(old), &forked.checkpoint(100, 2), proof)
        .unwrap_err();
    assert_eq!(code(fork.clone()), "fork");
    assert!(
        get(&fork, "evidence")
            .as_string()
            .unwrap()
            .contains("consistency proof")
    );

    let unsigned = verifier
        .verify_checkpoint(&log.checkpoint(100, 0))
        .unwrap_err();
    assert_eq!(code(unsigned), "untrusted");
}

#[wasm_bindgen_test]
fn a_revocation_by_the_issuer_revokes_and_others_do_not() {
    let log = TestLog::new(3);
    let verifier = log.verifier();
    let record = String::from_utf8(log.records[1].bytes.clone()).unwrap();
    let revoke = |id: &str| {
        let revocation = Record::revocation(
            "land.test",
            "rev-1",
            [9; 32],
            "2026-11-25T09:00:00Z",
            "property-registration",
            id,
        );
        String::from_utf8(revocation.sign(&log.agency).unwrap().bytes.clone()).unwrap()
    };
    assert!(
        verifier
            .is_revoked_by(&record, &revoke("deed-1"), 3.0)
            .unwrap()
    );
    assert!(
        !verifier
            .is_revoked_by(&record, &revoke("deed-2"), 3.0)
            .unwrap()
    );
    let checked = verifier.verify_record(&revoke("deed-1"), 3.0).unwrap();
    assert_eq!(get(&checked, "revokes.id").as_string().unwrap(), "deed-1");
    // Checked under the page's pinned key alone: no history was proven.
    assert_eq!(get(&checked, "agency").as_string().unwrap(), "pinned");
    let e = verifier
        .verify_record("gazette.record/v1\n", 3.0)
        .unwrap_err();
    assert_eq!(code(e), "malformed");
}

/// A log whose entries include a forged revocation and an index
/// commitment, and the `/index/lookup` answers it would serve.
struct IndexedLog {
    base: TestLog,
    entries: Vec<Vec<u8>>,
    stored: Vec<Hash>,
    segment: gazette_client::index::tree::PostOrderTree,
}

impl IndexedLog {
    /// Entries: deed-0 (0), its revocation (1), a revocation of deed-1
    /// signed by a key the verifier does not trust (2), deed-1 (3), the
    /// commitment of one segment over 0..4 (4).
    fn new() -> IndexedLog {
        use gazette_client::index::commitment::{IndexCommitment, Segment};
        use gazette_client::index::tree::PostOrderTree;
        use gazette_client::index::{ListValue, keys_of_entry};
        let base = TestLog::new(0);
        let deed = |i: u8| {
            Record::new(
                "land.test",
                "property-registration",
                &format!("deed-{i}"),
                [i; 32],
                "2026-11-24T09:00:00Z",
            )
        };
        let revoke = |i: u8, by: &Signer| {
            Record::revocation(
                "land.test",
                &format!("rev-{i}"),
                [i; 32],
                "2026-11-25T09:00:00Z",
                "property-registration",
                &format!("deed-{i}"),
            )
            .sign(by)
            .unwrap()
            .bytes
        };
        let forger = signer("land.test", KeyType::Ed25519, 99);
        let mut entries = vec![
            deed(0).sign(&base.agency).unwrap().bytes,
            revoke(0, &base.agency),
            revoke(1, &forger),
            deed(1).sign(&base.agency).unwrap().bytes,
        ];
        let mut lists: std::collections::BTreeMap<Hash, Vec<(u64, Hash)>> = Default::default();
        for (i, e) in entries.iter().enumerate() {
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
        let (root, segment) = PostOrderTree::build(pairs).unwrap();
        let commitment = IndexCommitment {
            size: 4,
            segments: vec![Segment {
                start: 0,
                end: 4,
                root,
            }],
        };
        entries.push(commitment.to_bytes());
        let mut stored = Vec::new();
        for (n, e) in entries.iter().enumerate() {
            let new = stored_hashes_for_leaf(n as u64, merkle::leaf_hash(e), &stored).unwrap();
            stored.extend(new);
        }
        IndexedLog {
            base,
            entries,
            stored,
            segment,
        }
    }

    fn listed(&self, index: u64) -> JsValue {
        let out = js_sys::Object::new();
        let size = self.entries.len() as u64;
        let proof: js_sys::Array = prove_inclusion(index, size, &self.stored)
            .unwrap()
            .iter()
            .map(|h| JsValue::from_str(&h.to_base64()))
            .collect();
        Reflect::set(&out, &"index".into(), &(index as f64).into()).unwrap();
        let entry = String::from_utf8(self.entries[index as usize].clone()).unwrap();
        Reflect::set(&out, &"entry".into(), &entry.into()).unwrap();
        Reflect::set(&out, &"inclusion".into(), &proof).unwrap();
        out.into()
    }

    /// The answer for the map key `key`, listing the entries `listed`.
    fn answer(&self, key: &Hash, listed: &[u64]) -> JsValue {
        let size = self.entries.len() as u64;
        let checkpoint = Checkpoint {
            origin: ORIGIN.to_owned(),
            size,
            root: merkle::tree_hash(size, &self.stored).unwrap(),
            extensions: Vec::new(),
        };
        let mut note = checkpoint.sign(&self.base.log).unwrap();
        for witness in &self.base.witnesses {
            note.push_str(
                &Cosignature::sign(witness, &checkpoint.to_text(), 1_764_000_000)
                    .unwrap()
                    .to_line(),
            );
        }
        let proof = gazette_client::index::tree::prove(&self.segment, key).unwrap();
        let out = js_sys::Object::new();
        Reflect::set(&out, &"checkpoint".into(), &note.into()).unwrap();
        Reflect::set(&out, &"size".into(), &(size as f64).into()).unwrap();
        Reflect::set(&out, &"commitment".into(), &self.listed(size - 1)).unwrap();
        let entries: js_sys::Array = listed.iter().map(|i| self.listed(*i)).collect();
        Reflect::set(&out, &"entries".into(), &entries).unwrap();
        let proofs =
            js_sys::Array::of1(&gazette_client::encoding::b64_encode(&proof.to_bytes()).into());
        Reflect::set(&out, &"map_proofs".into(), &proofs).unwrap();
        out.into()
    }
}

#[wasm_bindgen_test]
fn proven_status_documents_and_names_come_from_index_proofs_and_a_forgery_is_caught() {
    use gazette_client::index::{document_key, name_key};
    let log = IndexedLog::new();
    let verifier = log.base.verifier();
    let deed0 = name_key("land.test", "property-registration", "deed-0");
    // Revoked, proven.
    let status = verifier
        .proven_status(
            &log.answer(&deed0, &[0, 1]),
            "land.test",
            "property-registration",
            "deed-0",
            0.0,
        )
        .unwrap();
    assert_eq!(get(&status, "status").as_string().unwrap(), "revoked");
    assert_eq!(get(&status, "revokedBy").as_f64().unwrap(), 1.0);
    assert_eq!(get(&status, "checkpoint.size").as_f64().unwrap(), 5.0);
    // The revocation left out of the answer: the map proof no longer adds up.
    let e = verifier
        .proven_status(
            &log.answer(&deed0, &[0]),
            "land.test",
            "property-registration",
            "deed-0",
            0.0,
        )
        .unwrap_err();
    assert_eq!(code(e), "bad-index-proof");
    // deed-1's list holds a revocation signed by a key the verifier does not
    // trust: reported as a forgery, never counted as a revocation.
    let deed1 = name_key("land.test", "property-registration", "deed-1");
    let e = verifier
        .proven_status(
            &log.answer(&deed1, &[2, 3]),
            "land.test",
            "property-registration",
            "deed-1",
            3.0,
        )
        .unwrap_err();
    assert_eq!(code(e.clone()), "bad-index-proof");
    assert!(get(&e, "message").as_string().unwrap().contains("entry 2"));
    // A document: its record and its revocation; a document never logged:
    // none, proven.
    let found = verifier
        .proven_document(
            &log.answer(&document_key(&[0; 32]), &[0, 1]),
            &format!("sha256:{}", "00".repeat(32)),
        )
        .unwrap();
    assert_eq!(js_sys::Array::from(&get(&found, "records")).length(), 2);
    let absent = document_key(&[7; 32]);
    let none = verifier
        .proven_document(
            &log.answer(&absent, &[]),
            &format!("sha256:{}", "07".repeat(32)),
        )
        .unwrap();
    assert_eq!(js_sys::Array::from(&get(&none, "records")).length(), 0);
    // A name: its record and its revocation; a name never used: none,
    // proven; a list with an entry left out does not add up.
    let named = verifier
        .proven_name(
            &log.answer(&deed0, &[0, 1]),
            "land.test",
            "property-registration",
            "deed-0",
        )
        .unwrap();
    assert_eq!(js_sys::Array::from(&get(&named, "records")).length(), 2);
    let nobody = name_key("land.test", "property-registration", "deed-9");
    let none = verifier
        .proven_name(
            &log.answer(&nobody, &[]),
            "land.test",
            "property-registration",
            "deed-9",
        )
        .unwrap();
    assert_eq!(js_sys::Array::from(&get(&none, "records")).length(), 0);
    let e = verifier
        .proven_name(
            &log.answer(&deed0, &[0]),
            "land.test",
            "property-registration",
            "deed-0",
        )
        .unwrap_err();
    assert_eq!(code(e), "bad-index-proof");
}
