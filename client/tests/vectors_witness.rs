//! Known-answer tests for c2sp.org/tlog-witness `add-checkpoint`: the
//! 9-step session of `witness_add_checkpoint_session.json` replayed against
//! a witness made of the crate's functions, and the extra must-reject
//! requests of PROTOCOLS.md §5.1.

mod common;

use common::{array_of, as_str, b64_hash, field, hex_hashes, load, str_of, u64_of};
use gazette_client::checkpoint::Checkpoint;
use gazette_client::merkle::{
    self, Hash, leaf_hash, prove_consistency, stored_hashes_for_leaf, tree_hash,
};
use gazette_client::note::{self, KeyType, NoteError, Signer, Verifier};
use gazette_client::witness_protocol::{
    AddCheckpointError, AddCheckpointRequest, MAX_PROOF_LINES, WitnessState,
};
use serde_json::Value;

fn session() -> Value {
    load("witness_add_checkpoint_session.json")
}

/// A witness trusting one log: `origin` → `log`.
struct Witness {
    origin: String,
    log: Verifier,
    state: WitnessState,
}

impl Witness {
    fn new(origin: &str, log: Verifier) -> Witness {
        Witness {
            origin: origin.to_owned(),
            log,
            state: WitnessState::empty(),
        }
    }

    /// Handles one request body: parse (400), authenticate (404/403), check
    /// against the stored state (400/409/422), persist, 200.
    fn add_checkpoint(&mut self, body: &[u8]) -> Result<u16, AddCheckpointError> {
        let request = AddCheckpointRequest::parse(body)?;
        let keys = [self.log.clone()];
        let trusted = (request.checkpoint.origin == self.origin).then_some(&keys[..]);
        request.authenticate(trusted)?;
        self.state = request.check_against(&self.state)?;
        Ok(200)
    }

    fn status(&mut self, body: &[u8]) -> u16 {
        self.add_checkpoint(body).unwrap_or_else(|e| e.status())
    }
}

#[test]
fn session_replays_with_the_c2sp_statuses() {
    let v = session();
    let origin = str_of(&v, "origin");
    let log = Verifier::parse(str_of(&v, "log_vkey")).unwrap();
    assert_eq!(log.name(), origin);
    assert_eq!(
        common::to_hex(&log.public_key()),
        str_of(&v, "log_public_key_hex")
    );
    let mut witness = Witness::new(origin, log);

    let steps = array_of(&v, "steps");
    assert_eq!(steps.len(), 9);
    let mut got = Vec::new();
    let mut want = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        assert_eq!(u64_of(step, "step"), i as u64, "steps are in order");
        let body = str_of(step, "request_body");
        let result = witness.add_checkpoint(body.as_bytes());
        let status = result.as_ref().map_or_else(|e| e.status(), |s| *s);
        if let Err(AddCheckpointError::StaleOldSize { stored_size, .. }) = &result {
            // The 409 body is the stored size.
            assert_eq!(
                format!("{stored_size}\n"),
                str_of(step, "litewitness_body_contains"),
                "step {i}"
            );
        }
        got.push((i, status));
        want.push((i, u64_of(step, "expect_status_c2sp") as u16));
    }
    assert_eq!(got, want, "(step, status)");
    let roots = field(&v, "roots");
    assert_eq!(
        witness.state,
        WitnessState {
            size: 5,
            root: b64_hash(str_of(roots, "5")),
        }
    );
}

#[test]
fn session_log_signatures_check_as_labelled() {
    let v = session();
    let log = Verifier::parse(str_of(&v, "log_vkey")).unwrap();
    let steps = array_of(&v, "steps");
    assert_eq!(steps.len(), 9);
    for step in steps {
        let request = AddCheckpointRequest::parse(str_of(step, "request_body").as_bytes())
            .unwrap_or_else(|e| panic!("step {}: {e}", step["step"]));
        let result = note::open(request.note.as_bytes(), std::slice::from_ref(&log));
        let ok = matches!(
            (str_of(step, "log_signature_check"), &result),
            ("valid", Ok(_))
                | ("invalid_signature", Err(NoteError::InvalidSignature { .. }))
                | ("unverified", Err(NoteError::Unverified { .. }))
        );
        assert!(ok, "step {}: {result:?}", step["step"]);
    }
}

#[test]
fn session_roots_and_proofs_recompute_from_its_leaf_hashes() {
    let v = session();
    let leaves = hex_hashes(array_of(&v, "leaf_hashes"));
    assert_eq!(leaves.len(), 5);
    let mut stored: Vec<Hash> = Vec::new();
    for (n, leaf) in leaves.iter().enumerate() {
        stored.extend(stored_hashes_for_leaf(n as u64, *leaf, &stored).unwrap());
    }
    let roots = field(&v, "roots").as_object().unwrap();
    assert_eq!(roots.len(), 3);
    for (size, root) in roots {
        let size: u64 = size.parse().unwrap();
        assert_eq!(tree_hash(size, &stored).unwrap(), b64_hash(as_str(root)));
    }
    let steps = array_of(&v, "steps");
    for (i, old, new) in [(5usize, 1u64, 3u64), (7, 3, 5)] {
        let request =
            AddCheckpointRequest::parse(str_of(&steps[i], "request_body").as_bytes()).unwrap();
        assert_eq!((request.old_size, request.checkpoint.size), (old, new));
        assert_eq!(request.proof, prove_consistency(old, new, &stored).unwrap());
    }
}

// --- PROTOCOLS.md §5.1 extra must-reject requests, with our own log key ---

const ORIGIN: &str = "example.com/witnessed-log";

fn log_signer() -> Signer {
    Signer::from_seed(ORIGIN, KeyType::Ed25519, [0x5a; 32]).unwrap()
}

/// Stored hashes of a tree of `n` leaves `"entry <i>"`.
fn tree(n: u64) -> Vec<Hash> {
    let mut stored: Vec<Hash> = Vec::new();
    for i in 0..n {
        let leaf = leaf_hash(format!("entry {i}").as_bytes());
        stored.extend(stored_hashes_for_leaf(i, leaf, &stored).unwrap());
    }
    stored
}

fn signed_checkpoint(size: u64, root: Hash) -> String {
    Checkpoint {
        origin: ORIGIN.to_owned(),
        size,
        root,
        extensions: vec![],
    }
    .sign(&log_signer())
    .unwrap()
}

fn body(old: &str, proof: &[Hash], note: &str) -> String {
    let mut out = format!("old {old}\n");
    for hash in proof {
        out.push_str(&hash.to_base64());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

fn fresh_witness() -> Witness {
    Witness::new(ORIGIN, log_signer().verifier())
}

/// A witness that has cosigned size 3 of the 8-leaf tree.
fn witness_at_3(stored: &[Hash]) -> Witness {
    let mut witness = fresh_witness();
    let note = signed_checkpoint(3, tree_hash(3, stored).unwrap());
    assert_eq!(witness.status(body("0", &[], &note).as_bytes()), 200);
    witness
}

#[test]
fn own_log_happy_path_and_stale_old_after_a_race() {
    let stored = tree(8);
    let mut witness = witness_at_3(&stored);
    let to_5 = body(
        "3",
        &prove_consistency(3, 5, &stored).unwrap(),
        &signed_checkpoint(5, tree_hash(5, &stored).unwrap()),
    );
    let to_8 = body(
        "3",
        &prove_consistency(3, 8, &stored).unwrap(),
        &signed_checkpoint(8, tree_hash(8, &stored).unwrap()),
    );
    // Two requests race on `old 3`: the first wins, the second is stale.
    assert_eq!(witness.status(to_8.as_bytes()), 200);
    match witness.add_checkpoint(to_5.as_bytes()) {
        Err(e @ AddCheckpointError::StaleOldSize { stored_size: 8, .. }) => {
            assert_eq!(e.status(), 409)
        }
        other => panic!("expected 409 with size 8, got {other:?}"),
    }
    assert_eq!(witness.state.size, 8);
    // Re-cosigning the same tree is fine.
    let same = body(
        "8",
        &[],
        &signed_checkpoint(8, tree_hash(8, &stored).unwrap()),
    );
    assert_eq!(witness.status(same.as_bytes()), 200);
}

#[test]
fn proof_sent_with_old_0_is_422() {
    let stored = tree(5);
    let mut witness = fresh_witness();
    let note = signed_checkpoint(5, tree_hash(5, &stored).unwrap());
    let request = body("0", &[leaf_hash(b"entry 0")], &note);
    match witness.add_checkpoint(request.as_bytes()) {
        Err(e @ AddCheckpointError::ProofFromEmptyTree { count: 1 }) => {
            assert_eq!(e.status(), 422)
        }
        other => panic!("expected 422, got {other:?}"),
    }
    assert_eq!(witness.state, WitnessState::empty());
    // The same checkpoint without the proof is accepted.
    assert_eq!(witness.status(body("0", &[], &note).as_bytes()), 200);
}

#[test]
fn non_empty_proof_with_old_equal_to_size_is_422() {
    let stored = tree(8);
    let mut witness = witness_at_3(&stored);
    let root3 = tree_hash(3, &stored).unwrap();
    let note = signed_checkpoint(3, root3);
    let request = body("3", &[root3], &note);
    let err = witness.add_checkpoint(request.as_bytes()).unwrap_err();
    assert!(
        matches!(err, AddCheckpointError::Inconsistent { .. }),
        "{err:?}"
    );
    assert_eq!(err.status(), 422);
    assert_eq!(witness.state.size, 3);

    // Same size, a different root: a fork (422 in tlog-witness HEAD).
    let forked = body(
        "3",
        &[],
        &signed_checkpoint(3, tree_hash(2, &stored).unwrap()),
    );
    assert_eq!(witness.status(forked.as_bytes()), 422);
}

#[test]
fn size_0_checkpoint_with_a_wrong_root_is_422() {
    let mut witness = fresh_witness();
    let bad = body("0", &[], &signed_checkpoint(0, leaf_hash(b"entry 0")));
    match witness.add_checkpoint(bad.as_bytes()) {
        Err(e @ AddCheckpointError::EmptyTreeRoot { .. }) => assert_eq!(e.status(), 422),
        other => panic!("expected 422, got {other:?}"),
    }
    let good = body("0", &[], &signed_checkpoint(0, merkle::empty_root()));
    assert_eq!(witness.status(good.as_bytes()), 200);
    assert_eq!(witness.state, WitnessState::empty());
}

#[test]
fn sixty_four_proof_lines_are_400() {
    let stored = tree(8);
    let note = signed_checkpoint(8, tree_hash(8, &stored).unwrap());
    let hashes = vec![leaf_hash(b"filler"); MAX_PROOF_LINES + 1];
    assert_eq!(hashes.len(), 64);
    let mut witness = witness_at_3(&stored);
    match witness.add_checkpoint(body("3", &hashes, &note).as_bytes()) {
        Err(e @ AddCheckpointError::Malformed { .. }) => assert_eq!(e.status(), 400),
        other => panic!("expected 400, got {other:?}"),
    }
    // 63 lines still parse (and then fail the proof check, 422).
    let request = body("3", &hashes[..63], &note);
    assert_eq!(
        AddCheckpointRequest::parse(request.as_bytes())
            .unwrap()
            .proof
            .len(),
        63
    );
    assert_eq!(witness.status(request.as_bytes()), 422);
}

#[test]
fn non_canonical_old_is_400() {
    let stored = tree(8);
    let note = signed_checkpoint(8, tree_hash(8, &stored).unwrap());
    let proof = prove_consistency(7, 8, &stored).unwrap();
    for old in ["007", "+7", " 7", "7 ", "0x7", "-7", ""] {
        let request = body(old, &proof, &note);
        match AddCheckpointRequest::parse(request.as_bytes()) {
            Err(e @ AddCheckpointError::Malformed { .. }) => assert_eq!(e.status(), 400),
            other => panic!("old {old:?}: expected 400, got {other:?}"),
        }
    }
    assert_eq!(
        AddCheckpointRequest::parse(body("7", &proof, &note).as_bytes())
            .unwrap()
            .old_size,
        7
    );
}

#[test]
fn crlf_bodies_are_400() {
    let stored = tree(8);
    let note = signed_checkpoint(8, tree_hash(8, &stored).unwrap());
    let request = body("3", &prove_consistency(3, 8, &stored).unwrap(), &note);
    let all_crlf = request.replace('\n', "\r\n");
    let (head, checkpoint) = request.split_at(request.find("\n\n").unwrap() + 2);
    let crlf_note = format!("{head}{}", checkpoint.replace('\n', "\r\n"));
    for (why, bad) in [("whole body", all_crlf), ("note only", crlf_note)] {
        let mut witness = witness_at_3(&stored);
        match witness.add_checkpoint(bad.as_bytes()) {
            Err(e @ AddCheckpointError::Malformed { .. }) => assert_eq!(e.status(), 400),
            other => panic!("{why}: expected 400, got {other:?}"),
        }
        assert_eq!(witness.state.size, 3);
        // The LF original is accepted.
        assert_eq!(witness.status(request.as_bytes()), 200, "{why}");
    }
}

#[test]
fn unknown_origin_is_404_and_bad_log_signature_403() {
    let stored = tree(8);
    let mut witness = fresh_witness();
    let other = Signer::from_seed("example.com/other-log", KeyType::Ed25519, [1; 32]).unwrap();
    let foreign = Checkpoint {
        origin: "example.com/other-log".to_owned(),
        size: 1,
        root: tree_hash(1, &stored).unwrap(),
        extensions: vec![],
    }
    .sign(&other)
    .unwrap();
    assert_eq!(witness.status(body("0", &[], &foreign).as_bytes()), 404);

    // Our origin, signed by a different key under the same name: no
    // trusted signature (403).
    let impostor = Signer::from_seed(ORIGIN, KeyType::Ed25519, [2; 32]).unwrap();
    let forged = Checkpoint {
        origin: ORIGIN.to_owned(),
        size: 1,
        root: tree_hash(1, &stored).unwrap(),
        extensions: vec![],
    }
    .sign(&impostor)
    .unwrap();
    assert_eq!(witness.status(body("0", &[], &forged).as_bytes()), 403);
    assert_eq!(witness.state, WitnessState::empty());
}
