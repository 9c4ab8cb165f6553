//! Advancing trusted checkpoints: rollbacks and forks are refused with their
//! evidence; honest growth is accepted.

use gazette_client::checkpoint::{Checkpoint, VerifiedCheckpoint, open_checkpoint};
use gazette_client::merkle::{
    Hash, leaf_hash, prove_consistency, stored_hashes_for_leaf, tree_hash,
};
use gazette_client::note::{KeyType, Signer};
use gazette_client::trust::{TrustError, check_advance};

const ORIGIN: &str = "gazette.example.gov/records";

fn log_key() -> Signer {
    Signer::from_seed(ORIGIN, KeyType::Ed25519, [9; 32]).unwrap()
}

fn tree(leaves: &[&str]) -> Vec<Hash> {
    let mut stored = Vec::new();
    for (i, l) in leaves.iter().enumerate() {
        let new = stored_hashes_for_leaf(i as u64, leaf_hash(l.as_bytes()), &stored).unwrap();
        stored.extend(new);
    }
    stored
}

fn signed(size: u64, root: Hash) -> VerifiedCheckpoint {
    let checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        size,
        root,
        extensions: vec![],
    };
    let note = checkpoint.sign(&log_key()).unwrap();
    open_checkpoint(note.as_bytes(), &log_key().verifier()).unwrap()
}

#[test]
fn honest_growth_is_accepted() {
    let stored = tree(&["a", "b", "c", "d", "e"]);
    let old = signed(3, tree_hash(3, &stored).unwrap());
    let new = signed(5, tree_hash(5, &stored).unwrap());
    check_advance(&old, &new, &prove_consistency(3, 5, &stored).unwrap()).unwrap();
    check_advance(&new, &new, &[]).unwrap();
    let empty = signed(0, gazette_client::merkle::empty_root());
    check_advance(&empty, &new, &[]).unwrap();
}

#[test]
fn smaller_checkpoint_is_a_rollback_with_both_notes_as_evidence() {
    let stored = tree(&["a", "b", "c"]);
    let old = signed(3, tree_hash(3, &stored).unwrap());
    let new = signed(2, tree_hash(2, &stored).unwrap());
    let err = check_advance(&old, &new, &[]).unwrap_err();
    assert!(matches!(
        err,
        TrustError::Rollback {
            trusted_size: 3,
            offered_size: 2,
            ..
        }
    ));
    assert!(err.evidence().contains(&old.note) && err.evidence().contains(&new.note));
}

#[test]
fn different_root_for_the_same_size_is_a_fork() {
    let honest = tree(&["a", "b", "c"]);
    let forked = tree(&["a", "b", "X"]);
    let old = signed(3, tree_hash(3, &honest).unwrap());
    let new = signed(3, tree_hash(3, &forked).unwrap());
    let err = check_advance(&old, &new, &[]).unwrap_err();
    let TrustError::Fork {
        trusted,
        offered,
        proof,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (trusted.note.as_str(), offered.note.as_str(), proof.len()),
        (old.note.as_str(), new.note.as_str(), 0)
    );
}

#[test]
fn extension_that_rewrites_history_is_a_fork_carrying_the_proof() {
    let honest = tree(&["a", "b", "c"]);
    let rewritten = tree(&["a", "B", "c", "d", "e"]);
    let old = signed(3, tree_hash(3, &honest).unwrap());
    let new = signed(5, tree_hash(5, &rewritten).unwrap());
    let proof = prove_consistency(3, 5, &rewritten).unwrap();
    let err = check_advance(&old, &new, &proof).unwrap_err();
    assert!(matches!(&err, TrustError::Fork { proof: p, .. } if *p == proof));
    let evidence = err.evidence();
    for hash in &proof {
        assert!(evidence.contains(&hash.to_base64()));
    }
}

#[test]
fn checkpoints_of_another_log_are_not_compared() {
    let stored = tree(&["a"]);
    let old = signed(1, tree_hash(1, &stored).unwrap());
    let other_key = Signer::from_seed("other.example/log", KeyType::Ed25519, [1; 32]).unwrap();
    let other = Checkpoint {
        origin: "other.example/log".into(),
        size: 1,
        root: tree_hash(1, &stored).unwrap(),
        extensions: vec![],
    };
    let note = other.sign(&other_key).unwrap();
    let other = open_checkpoint(note.as_bytes(), &other_key.verifier()).unwrap();
    assert!(matches!(
        check_advance(&old, &other, &[]),
        Err(TrustError::OriginMismatch { .. })
    ));
}
