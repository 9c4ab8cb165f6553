//! Known-answer tests for c2sp.org/tlog-policy and c2sp.org/tlog-proof@v1
//! (`policy_and_tlog_proof.json`): every parse case, quorum evaluation over
//! really cosigned checkpoints, the receipt and its must-fail variants, and
//! transparency-dev/formats' marshal examples.

mod common;

use common::{array_of, as_str, b64_bytes, bool_of, field, hex_bytes, load, sha256_hex, str_of};
use gazette_client::checkpoint::{Checkpoint, CheckpointError};
use gazette_client::merkle::{Hash, leaf_hash};
use gazette_client::note::{NoteError, Verifier};
use gazette_client::policy::{Policy, PolicyError};
use gazette_client::tlog_proof::{TlogProof, TlogProofError};
use serde_json::Value;

fn vectors() -> Value {
    load("policy_and_tlog_proof.json")
}

#[test]
fn all_34_policy_parse_cases() {
    let v = vectors();
    let cases = array_of(&v, "policy_parse_cases");
    assert_eq!(cases.len(), 34);
    let mut failures = Vec::new();
    for case in cases {
        let desc = str_of(case, "desc");
        let result = Policy::parse(str_of(case, "policy").as_bytes());
        match (str_of(case, "expect"), &result) {
            ("ok", Ok(_)) => {}
            ("error", Err(PolicyError::Syntax { .. } | PolicyError::Invalid { .. })) => {}
            (want, got) => failures.push(format!("{desc}: expected {want}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let ok = cases.iter().filter(|c| str_of(c, "expect") == "ok").count();
    assert_eq!((ok, cases.len() - ok), (5, 29));
}

#[test]
fn vector_keys_parse() {
    let v = vectors();
    let keys = field(&v, "keys");
    let log = field(keys, "log");
    let verifier = Verifier::parse(str_of(log, "vkey")).unwrap();
    assert_eq!(verifier.name(), str_of(log, "origin"));
    let witnesses = array_of(keys, "witnesses");
    assert_eq!(witnesses.len(), 3);
    for w in witnesses {
        let verifier = Verifier::parse(str_of(w, "vkey")).unwrap();
        assert_eq!(verifier.name(), str_of(w, "name"));
    }
    Verifier::parse(str_of(keys, "unused_witness_vkey")).unwrap();
}

/// Policy names (`w1`…) of the witnesses whose cosignature lines a note
/// carries, in policy order.
fn cosigners_in_note(v: &Value, note: &str) -> Vec<String> {
    array_of(field(v, "keys"), "witnesses")
        .iter()
        .enumerate()
        .filter(|(_, w)| note.contains(&format!("\u{2014} {} ", str_of(w, "name"))))
        .map(|(i, _)| format!("w{}", i + 1))
        .collect()
}

#[test]
fn quorum_evaluation_over_cosigned_checkpoints() {
    let v = vectors();
    let eval = field(&v, "evaluation");
    let policy = Policy::parse(str_of(eval, "policy").as_bytes()).unwrap();
    assert!(policy.requires_witnesses());
    let checkpoint = Checkpoint::parse(str_of(eval, "checkpoint_text")).unwrap();
    let cases = array_of(eval, "cases");
    assert_eq!(cases.len(), 5);
    for case in cases {
        let desc = str_of(case, "desc");
        let note = str_of(case, "checkpoint_note");
        let cosigners = cosigners_in_note(&v, note);
        let result = policy.verify_checkpoint(note.as_bytes());
        if bool_of(case, "expect_satisfied") {
            let verified = result.unwrap_or_else(|e| panic!("{desc}: {e}"));
            assert_eq!(verified.checkpoint, checkpoint, "{desc}");
            let names: Vec<&str> = verified.witness_names();
            assert_eq!(names, cosigners, "{desc}");
        } else {
            match result {
                Err(PolicyError::QuorumNotMet {
                    origin,
                    size,
                    cosigned_by,
                }) => {
                    assert_eq!((origin.as_str(), size), ("example.com/log", 8), "{desc}");
                    assert_eq!(cosigned_by, cosigners, "{desc}");
                }
                other => panic!("{desc}: expected QuorumNotMet, got {other:?}"),
            }
        }
    }
}

fn leaf_of(hex: &str) -> Hash {
    leaf_hash(&hex_bytes(hex))
}

#[test]
fn tlog_proof_bundle_verifies() {
    let v = vectors();
    let tp = field(&v, "tlog_proof");
    assert_eq!(str_of(tp, "expect"), "valid");
    let policy = Policy::parse(str_of(tp, "policy").as_bytes()).unwrap();
    let leaf = leaf_of(str_of(tp, "leaf_hex"));
    let index = common::u64_of(tp, "index");

    let text = str_of(tp, "proof");
    let proof = TlogProof::parse(text.as_bytes()).unwrap();
    assert_eq!(proof.index, index);
    assert_eq!(proof.extra, None);
    assert_eq!(proof.proof.len(), 3);
    assert_eq!(proof.to_text(), text);
    let verified = proof.verify(&leaf, &policy).unwrap();
    assert_eq!(verified.checkpoint.size, 8);
    assert_eq!(verified.checkpoint.origin, "example.com/log");
    let names: Vec<&str> = verified.witness_names();
    assert_eq!(names, ["w1", "w3"]);

    let text = str_of(tp, "proof_with_extra");
    let with_extra = TlogProof::parse(text.as_bytes()).unwrap();
    let extra_line = text.lines().find_map(|l| l.strip_prefix("extra ")).unwrap();
    assert_eq!(
        with_extra.extra.as_deref(),
        Some(b64_bytes(extra_line).as_slice())
    );
    assert_eq!(with_extra.extra.as_deref(), Some(&b"leaf 5 context"[..]));
    assert_eq!(with_extra.index, proof.index);
    assert_eq!(with_extra.proof, proof.proof);
    assert_eq!(with_extra.checkpoint, proof.checkpoint);
    assert_eq!(with_extra.to_text(), text);
    with_extra.verify(&leaf, &policy).unwrap();
}

#[test]
fn all_6_tlog_proof_negatives_fail_as_labelled() {
    let v = vectors();
    let tp = field(&v, "tlog_proof");
    let policy = Policy::parse(str_of(tp, "policy").as_bytes()).unwrap();
    let cases = array_of(tp, "negative");
    assert_eq!(cases.len(), 6);
    let mut failures = Vec::new();
    for case in cases {
        let desc = str_of(case, "desc");
        let leaf = leaf_of(str_of(case, "leaf_hex"));
        let want = str_of(case, "expect_failure");
        let parsed = TlogProof::parse(str_of(case, "proof").as_bytes());
        let ok = match (want, parsed) {
            ("bad index" | "bad header", Err(TlogProofError::Malformed { .. })) => true,
            ("bad index" | "bad header", Ok(p)) => {
                failures.push(format!("{desc}: parsed as {p:?}"));
                continue;
            }
            (_, Err(e)) => {
                failures.push(format!("{desc}: expected {want}, parse failed: {e}"));
                continue;
            }
            ("inclusion", Ok(p)) => matches!(
                p.verify(&leaf, &policy),
                Err(TlogProofError::Inclusion { .. })
            ),
            ("quorum", Ok(p)) => matches!(
                p.verify(&leaf, &policy),
                Err(TlogProofError::Checkpoint(PolicyError::QuorumNotMet { .. }))
            ),
            (other, Ok(_)) => panic!("unknown expect_failure {other}"),
        };
        if !ok {
            failures.push(format!("{desc}: did not fail with {want}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn tlog_proof_with_a_tampered_log_signature_is_rejected() {
    let v = vectors();
    let tp = field(&v, "tlog_proof");
    let policy = Policy::parse(str_of(tp, "policy").as_bytes()).unwrap();
    let leaf = leaf_of(str_of(tp, "leaf_hex"));
    // Change one character inside the log's signature (not its key ID).
    let text = str_of(tp, "proof").replacen("gEwx0T6R4gWMp4", "gEwx0T6R4gWMp5", 1);
    let proof = TlogProof::parse(text.as_bytes()).unwrap();
    assert!(matches!(
        proof.verify(&leaf, &policy),
        Err(TlogProofError::Checkpoint(PolicyError::Checkpoint(
            CheckpointError::Note(NoteError::InvalidSignature { .. })
        )))
    ));
}

#[test]
fn formats_marshal_examples_round_trip() {
    let v = vectors();
    let cases = array_of(&v, "formats_marshal_examples");
    assert_eq!(cases.len(), 3);
    for case in cases {
        let encoded = str_of(case, "encoded");
        let proof = TlogProof::parse(encoded.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", str_of(case, "desc")));
        assert_eq!(proof.to_text(), encoded);
    }
    // The decoded values the descriptions state.
    let first = TlogProof::parse(as_str(field(&cases[0], "encoded")).as_bytes()).unwrap();
    assert_eq!(first.index, 5);
    let hashes: Vec<String> = first.proof.iter().map(Hash::to_hex).collect();
    assert_eq!(hashes, [sha256_hex(b"hash1"), sha256_hex(b"hash2")]);
    assert_eq!(first.checkpoint, "test checkpoint\n");

    let second = TlogProof::parse(as_str(field(&cases[1], "encoded")).as_bytes()).unwrap();
    assert_eq!(second.extra.as_deref(), Some(&b"extra information"[..]));
    assert_eq!(second.index, 10);
    assert_eq!(second.proof.len(), 1);

    let third = TlogProof::parse(as_str(field(&cases[2], "encoded")).as_bytes()).unwrap();
    assert_eq!((third.index, third.proof.len()), (0, 0));
    assert_eq!(third.checkpoint, "checkpoint\n");
}

/// Only `quorum none` (or no witness at all) asks for no cosignature: the
/// CLI refuses such a policy unless told `--no-witnesses`.
#[test]
fn a_policy_with_quorum_none_requires_no_witness() {
    let v = vectors();
    let eval = field(&v, "evaluation");
    let with_witnesses = str_of(eval, "policy");
    let log_line = with_witnesses
        .lines()
        .find(|l| l.starts_with("log "))
        .expect("the vector's policy names its log");
    let alone = Policy::parse(format!("{log_line}\nquorum none\n").as_bytes()).unwrap();
    assert!(!alone.requires_witnesses());
    let kept = with_witnesses
        .lines()
        .filter(|l| !l.starts_with("quorum "))
        .collect::<Vec<_>>()
        .join("\n");
    let none = Policy::parse(format!("{kept}\nquorum none\n").as_bytes()).unwrap();
    assert!(!none.requires_witnesses());
}
