//! Known-answer tests for RFC 6962 Merkle trees: `merkle_rfc6962_8leaf.json`
//! (the standard CT/Trillian 8-leaf tree, every proof generated and
//! verified, the published CT proofs and the edge-case table) and
//! `merkle_probes.json` (transparency-dev/merkle's 98 + 98 verifier probes).

mod common;

use common::{
    array_of, as_str, b64_bytes, bool_of, field, hex_bytes, hex_hash, hex_hashes, load, str_of,
    u64_of,
};
use gazette_client::checkpoint::Checkpoint;
use gazette_client::merkle::{
    self, Hash, leaf_hash, node_hash, prove_consistency, prove_inclusion, stored_hash_count,
    stored_hash_index, stored_hashes_for_leaf, tree_hash, verify_consistency, verify_inclusion,
};
use gazette_client::witness_protocol::{AddCheckpointRequest, WitnessState};
use serde_json::Value;

const EIGHT_LEAF: &str = "merkle_rfc6962_8leaf.json";
const PROBES: &str = "merkle_probes.json";

/// The one probe on which our strict verifier deliberately differs from
/// transparency-dev/merkle (PROTOCOLS.md §9 row 13): equal sizes, empty
/// proof and 12-byte "roots" that are byte-equal. transparency-dev compares
/// the byte strings and accepts (`wantErr: false`); a root that is not 32
/// bytes is not a SHA-256 root at all, so we reject it.
const STRICTER_CONSISTENCY_PROBE: &str =
    "testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json";

fn vectors() -> Value {
    load(EIGHT_LEAF)
}

fn leaf_hashes(v: &Value) -> Vec<Hash> {
    hex_hashes(array_of(v, "leaf_hashes"))
}

fn root_of(v: &Value, size: u64) -> Hash {
    hex_hash(as_str(field(field(v, "roots"), &size.to_string())))
}

/// The stored hashes of the 8-leaf tree, appended leaf by leaf.
fn stored_tree(v: &Value) -> Vec<Hash> {
    let mut stored: Vec<Hash> = Vec::new();
    for (n, leaf) in array_of(v, "leaves").iter().enumerate() {
        let hashes =
            stored_hashes_for_leaf(n as u64, leaf_hash(&hex_bytes(as_str(leaf))), &stored).unwrap();
        stored.extend(hashes);
    }
    assert_eq!(stored.len() as u64, stored_hash_count(8));
    stored
}

fn flip_first_bit(hash: &Hash) -> Hash {
    let mut out = *hash;
    out.0[0] ^= 1;
    out
}

#[test]
fn leaf_hashes_are_the_ct_constants() {
    let v = vectors();
    let leaves = array_of(&v, "leaves");
    let expected = leaf_hashes(&v);
    assert_eq!(leaves.len(), 8);
    assert_eq!(expected.len(), 8);
    let stored = stored_tree(&v);
    for (n, (leaf, want)) in leaves.iter().zip(&expected).enumerate() {
        assert_eq!(leaf_hash(&hex_bytes(as_str(leaf))), *want, "leaf {n}");
        assert_eq!(stored[stored_hash_index(0, n as u64) as usize], *want);
    }
}

#[test]
fn level_one_and_two_nodes_match_and_sit_at_their_stored_indexes() {
    let v = vectors();
    let leaves = leaf_hashes(&v);
    let stored = stored_tree(&v);
    let level1 = hex_hashes(array_of(&v, "node_hashes_level1"));
    let level2 = hex_hashes(array_of(&v, "node_hashes_level2"));
    assert_eq!(level1.len(), 4);
    assert_eq!(level2.len(), 2);
    for (j, want) in level1.iter().enumerate() {
        assert_eq!(
            node_hash(&leaves[2 * j], &leaves[2 * j + 1]),
            *want,
            "l1 {j}"
        );
        assert_eq!(stored[stored_hash_index(1, j as u64) as usize], *want);
    }
    for (j, want) in level2.iter().enumerate() {
        assert_eq!(
            node_hash(&level1[2 * j], &level1[2 * j + 1]),
            *want,
            "l2 {j}"
        );
        assert_eq!(stored[stored_hash_index(2, j as u64) as usize], *want);
    }
}

#[test]
fn roots_of_sizes_zero_to_eight_from_stored_hashes() {
    let v = vectors();
    let stored = stored_tree(&v);
    let roots_b64 = field(&v, "roots_base64").as_object().unwrap();
    assert_eq!(field(&v, "roots").as_object().unwrap().len(), 9);
    assert_eq!(roots_b64.len(), 9);
    for size in 0..=8u64 {
        let want = root_of(&v, size);
        // Only the prefix a tree of `size` leaves has stored.
        let prefix = &stored[..stored_hash_count(size) as usize];
        assert_eq!(tree_hash(size, prefix).unwrap(), want, "root {size}");
        let b64 = as_str(&roots_b64[&size.to_string()]);
        assert_eq!(want.to_base64(), b64, "base64 root {size}");
        assert_eq!(Hash::from_base64(b64), Some(want));
    }
    assert_eq!(root_of(&v, 0), merkle::empty_root());
}

#[test]
fn all_36_inclusion_proofs_are_generated_and_verified() {
    let v = vectors();
    let stored = stored_tree(&v);
    let leaves = leaf_hashes(&v);
    let cases = array_of(&v, "inclusion_proofs");
    assert_eq!(cases.len(), 36);
    for case in cases {
        let (index, size) = (u64_of(case, "index"), u64_of(case, "size"));
        let leaf = hex_hash(str_of(case, "leaf_hash"));
        let root = hex_hash(str_of(case, "root"));
        let proof = hex_hashes(array_of(case, "proof"));
        assert_eq!(leaf, leaves[index as usize], "leaf {index}");
        assert_eq!(root, root_of(&v, size), "root {size}");
        assert_eq!(
            prove_inclusion(index, size, &stored).unwrap(),
            proof,
            "generated inclusion proof {index} in {size}"
        );
        verify_inclusion(&leaf, index, size, &proof, &root)
            .unwrap_or_else(|e| panic!("inclusion {index} in {size}: {e}"));
        for k in 0..proof.len() {
            let mut bad = proof.clone();
            bad[k] = flip_first_bit(&bad[k]);
            assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
        }
    }
}

#[test]
fn all_36_consistency_proofs_are_generated_and_verified() {
    let v = vectors();
    let stored = stored_tree(&v);
    let cases = array_of(&v, "consistency_proofs");
    assert_eq!(cases.len(), 36);
    for case in cases {
        let (m, n) = (u64_of(case, "size1"), u64_of(case, "size2"));
        let root1 = hex_hash(str_of(case, "root1"));
        let root2 = hex_hash(str_of(case, "root2"));
        let proof = hex_hashes(array_of(case, "proof"));
        assert_eq!(root1, root_of(&v, m));
        assert_eq!(root2, root_of(&v, n));
        assert_eq!(
            prove_consistency(m, n, &stored).unwrap(),
            proof,
            "generated consistency proof {m} -> {n}"
        );
        verify_consistency(m, n, &root1, &root2, &proof)
            .unwrap_or_else(|e| panic!("consistency {m} -> {n}: {e}"));
        for k in 0..proof.len() {
            let mut bad = proof.clone();
            bad[k] = flip_first_bit(&bad[k]);
            assert!(verify_consistency(m, n, &root1, &root2, &bad).is_err());
        }
    }
}

#[test]
fn published_ct_proofs_are_generated_and_verified() {
    let v = vectors();
    let stored = stored_tree(&v);
    let leaves = leaf_hashes(&v);
    let published = field(&v, "published_ct_vectors");

    let inclusion = array_of(published, "inclusion");
    assert_eq!(inclusion.len(), 5);
    for case in inclusion {
        let (index, size) = (u64_of(case, "index"), u64_of(case, "size"));
        let proof = hex_hashes(array_of(case, "proof"));
        assert_eq!(prove_inclusion(index, size, &stored).unwrap(), proof);
        verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &proof,
            &root_of(&v, size),
        )
        .unwrap_or_else(|e| panic!("published inclusion {index} in {size}: {e}"));
    }

    let consistency = array_of(published, "consistency");
    assert_eq!(consistency.len(), 5);
    for case in consistency {
        let (m, n) = (u64_of(case, "size1"), u64_of(case, "size2"));
        let proof = hex_hashes(array_of(case, "proof"));
        assert_eq!(prove_consistency(m, n, &stored).unwrap(), proof);
        verify_consistency(m, n, &root_of(&v, m), &root_of(&v, n), &proof)
            .unwrap_or_else(|e| panic!("published consistency {m} -> {n}: {e}"));
    }
}

/// The library verifiers follow the `all` column, or the
/// `transparency_dev_merkle` column where implementations differ (m = 0 is
/// rejected). Where the tlog-witness layer has its own rule (m = 0), the
/// witness checks are asserted too, as is the witness status the `all`
/// column names (we implement tlog-witness HEAD: 422, not v1.0.0's 409).
#[test]
fn edge_cases_library_and_witness_layer() {
    let v = vectors();
    let leaves = leaf_hashes(&v);
    let cases = array_of(&v, "edge_cases");
    assert_eq!(cases.len(), 12);
    let (mut inclusion_cases, mut consistency_cases, mut witness_checks) = (0, 0, 0);
    for case in cases {
        let desc = str_of(case, "case");
        let library_rule = case
            .get("all")
            .or_else(|| case.get("transparency_dev_merkle"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{desc}: no library column"));
        let library_accepts = library_rule.starts_with("accept");
        assert!(
            library_accepts || library_rule.starts_with("reject"),
            "{desc}"
        );
        let proof = hex_hashes(array_of(case, "proof"));

        if case.get("index").is_some() {
            inclusion_cases += 1;
            let (index, size) = (u64_of(case, "index"), u64_of(case, "size"));
            let root = hex_hash(str_of(case, "root"));
            let leaf = leaves[index as usize];
            let result = verify_inclusion(&leaf, index, size, &proof, &root);
            assert_eq!(result.is_ok(), library_accepts, "{desc}: {result:?}");
            continue;
        }

        consistency_cases += 1;
        let (m, n) = (u64_of(case, "size1"), u64_of(case, "size2"));
        let root1 = hex_hash(str_of(case, "root1"));
        let root2 = hex_hash(str_of(case, "root2"));
        let result = verify_consistency(m, n, &root1, &root2, &proof);
        assert_eq!(result.is_ok(), library_accepts, "{desc}: {result:?}");

        // The witness layer: stored state (m, root1), request `old m` with
        // this proof for a checkpoint (n, root2).
        let witness_rule = case
            .get("tlog_witness_rule")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                library_rule
                    .contains("witness:")
                    .then(|| library_rule.to_owned())
            });
        let Some(witness_rule) = witness_rule else {
            continue;
        };
        witness_checks += 1;
        let request = AddCheckpointRequest {
            old_size: m,
            proof: proof.clone(),
            note: String::new(),
            checkpoint: Checkpoint {
                origin: "example.com/log".to_owned(),
                size: n,
                root: root2,
                extensions: vec![],
            },
        };
        let stored = WitnessState {
            size: m,
            root: root1,
        };
        let outcome = request.check_against(&stored);
        if witness_rule.starts_with("accept") {
            let new_state = outcome.unwrap_or_else(|e| panic!("{desc}: witness refused: {e}"));
            assert_eq!(
                new_state,
                WitnessState {
                    size: n,
                    root: root2
                }
            );
        } else {
            let err = outcome.expect_err(desc);
            let want = if witness_rule.contains("400") {
                400
            } else {
                422
            };
            assert_eq!(err.status(), want, "{desc}: {err}");
        }
    }
    assert_eq!(inclusion_cases, 4);
    assert_eq!(consistency_cases, 8);
    // Three m = 0 rows with their own witness rule, plus the two `all` rows
    // that name a witness status.
    assert_eq!(witness_checks, 5);
}

/// Decodes a probe field; `None` if it is not exactly 32 bytes.
fn probe_hash(text: &str) -> Option<Hash> {
    Hash::from_slice(&b64_bytes(text))
}

/// Whether our verifier rejects an inclusion probe: any hash not 32 bytes
/// cannot be expressed and is a rejection.
fn inclusion_probe_rejected(case: &Value) -> bool {
    let proof: Option<Vec<Hash>> = array_of(case, "proof")
        .iter()
        .map(|p| probe_hash(as_str(p)))
        .collect();
    let (Some(leaf), Some(root), Some(proof)) = (
        probe_hash(str_of(case, "leafHash")),
        probe_hash(str_of(case, "root")),
        proof,
    ) else {
        return true;
    };
    verify_inclusion(
        &leaf,
        u64_of(case, "leafIdx"),
        u64_of(case, "treeSize"),
        &proof,
        &root,
    )
    .is_err()
}

fn consistency_probe_rejected(case: &Value) -> bool {
    let proof: Option<Vec<Hash>> = array_of(case, "proof")
        .iter()
        .map(|p| probe_hash(as_str(p)))
        .collect();
    let (Some(root1), Some(root2), Some(proof)) = (
        probe_hash(str_of(case, "root1")),
        probe_hash(str_of(case, "root2")),
        proof,
    ) else {
        return true;
    };
    verify_consistency(
        u64_of(case, "size1"),
        u64_of(case, "size2"),
        &root1,
        &root2,
        &proof,
    )
    .is_err()
}

#[test]
fn all_98_inclusion_probes_fail_iff_want_err() {
    let v = load(PROBES);
    let cases = array_of(&v, "inclusion");
    assert_eq!(cases.len(), 98);
    let mut failures = Vec::new();
    for case in cases {
        let want_err = bool_of(case, "wantErr");
        if inclusion_probe_rejected(case) != want_err {
            failures.push(format!("{} (wantErr {want_err})", str_of(case, "file")));
        }
    }
    assert!(failures.is_empty(), "disagreeing probes: {failures:#?}");
    // Not a vacuous pass: both outcomes occur.
    assert_eq!(cases.iter().filter(|c| bool_of(c, "wantErr")).count(), 92);
}

#[test]
fn all_98_consistency_probes_fail_iff_want_err_but_one_documented_exception() {
    let v = load(PROBES);
    let cases = array_of(&v, "consistency");
    assert_eq!(cases.len(), 98);
    let mut exceptions_seen = 0;
    let mut failures = Vec::new();
    for case in cases {
        let file = str_of(case, "file");
        let want_err = bool_of(case, "wantErr");
        let rejected = consistency_probe_rejected(case);
        if file == STRICTER_CONSISTENCY_PROBE {
            // transparency-dev accepts equal 12-byte "roots"; we reject any
            // root that is not 32 bytes (PROTOCOLS.md §9 row 13).
            exceptions_seen += 1;
            assert!(
                !want_err,
                "the documented exception is a wantErr=false probe"
            );
            assert!(rejected, "{file}: our strict verifier must reject it");
            continue;
        }
        if rejected != want_err {
            failures.push(format!("{file} (wantErr {want_err})"));
        }
    }
    assert_eq!(exceptions_seen, 1);
    assert!(failures.is_empty(), "disagreeing probes: {failures:#?}");
    assert_eq!(cases.iter().filter(|c| bool_of(c, "wantErr")).count(), 92);
}
