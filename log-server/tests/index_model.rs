//! The indexes against a naive in-memory model: random batches of records
//! and revocations (repeated documents, repeated ids), written batch by
//! batch with the database closed and reopened in between, then every
//! lookup compared with what a plain scan of the same entries answers.

mod common;

use std::collections::BTreeMap;

use common::{AGENCY, agency};
use gazette_client::merkle::{Hash, leaf_hash};
use gazette_client::record::{Record, SignedRecord};
use gazette_log::index::{IndexBatch, LookupIndex, RecordIndex, RecordSlot, record_key};
use proptest::prelude::*;

/// One logged entry: (kind, id, document, revoked id if a revocation).
type Entry = (u8, u8, u8, Option<u8>);

fn signed(n: usize, (kind, id, document, revokes): Entry) -> SignedRecord {
    let digest = [document; 32];
    let record = match revokes {
        None => Record::new(
            AGENCY,
            &format!("kind-{kind}"),
            &format!("id-{id}"),
            digest,
            "2026-11-24T09:00:00Z",
        ),
        Some(revoked) => {
            let mut r = Record::new(
                AGENCY,
                "revocation",
                &format!("rev-{n}"),
                digest,
                "2026-11-24T09:00:00Z",
            );
            r.revokes = Some((format!("kind-{kind}"), format!("id-{revoked}")));
            r
        }
    };
    record.sign(&agency()).expect("a valid record")
}

fn entry() -> impl Strategy<Value = Entry> {
    (0u8..2, 0u8..6, 0u8..4, prop::option::weighted(0.2, 0u8..6))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn lookups_answer_what_a_scan_of_the_entries_answers(
        batches in prop::collection::vec(prop::collection::vec(entry(), 1..12), 1..6)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut logged: Vec<SignedRecord> = Vec::new();
        for batch in &batches {
            // Reopened for every batch: what was written must persist.
            let records = RecordIndex::open(&dir.path().join("index")).unwrap();
            let lookups = LookupIndex::open(&dir.path().join("lookup")).unwrap();
            let first = logged.len() as u64;
            let mut write = IndexBatch { first, count: 0, items: vec![], revocations: vec![] };
            for &e in batch {
                let s = signed(logged.len(), e);
                write.push(&s, logged.len() as u64);
                write.count += 1;
                logged.push(s);
            }
            records.add(&write).unwrap();
            lookups.add(&write).unwrap();
            prop_assert_eq!(records.covered().unwrap(), logged.len() as u64);
            prop_assert_eq!(lookups.covered().unwrap(), logged.len() as u64);
        }
        let records = RecordIndex::open(&dir.path().join("index")).unwrap();
        let lookups = LookupIndex::open(&dir.path().join("lookup")).unwrap();

        // The model: plain scans of `logged`.
        let mut latest: BTreeMap<Vec<u8>, RecordSlot> = BTreeMap::new();
        let mut by_leaf: BTreeMap<Hash, u64> = BTreeMap::new();
        for (i, s) in logged.iter().enumerate() {
            let r = &s.record;
            let slot = RecordSlot { index: i as u64, digest: r.digest, leaf_hash: s.leaf_hash() };
            latest.insert(record_key(&r.issuer, &r.kind, &r.id), slot);
            by_leaf.insert(s.leaf_hash(), i as u64);
        }
        for (key, slot) in &latest {
            prop_assert_eq!(records.record(key).unwrap(), Some(*slot));
        }
        prop_assert_eq!(records.record(&record_key(AGENCY, "kind-9", "id-0")).unwrap(), None);
        for (leaf, index) in &by_leaf {
            prop_assert_eq!(lookups.leaf(leaf).unwrap(), Some(*index));
        }
        prop_assert_eq!(lookups.leaf(&Hash([7; 32])).unwrap(), None);
        for document in 0u8..5 {
            let all: Vec<u64> = (0..logged.len() as u64)
                .filter(|&i| logged[i as usize].record.digest == [document; 32])
                .collect();
            for limit in [1, 2, usize::MAX] {
                let expected: Vec<u64> = all.iter().copied().take(limit).collect();
                prop_assert_eq!(lookups.digest(&[document; 32], limit).unwrap(), expected);
            }
        }
        for kind in 0u8..2 {
            for id in 0u8..6 {
                let key = record_key(AGENCY, &format!("kind-{kind}"), &format!("id-{id}"));
                for index in 0..=logged.len() as u64 {
                    let expected = (index + 1..logged.len() as u64).find(|&j| {
                        logged[j as usize].record.revokes
                            == Some((format!("kind-{kind}"), format!("id-{id}")))
                    });
                    prop_assert_eq!(lookups.revoked_after(&key, index).unwrap(), expected);
                }
            }
        }
    }
}

/// Enough entries to fill several memtables, so that lookups also read
/// fjall's tables (written, reopened, compacted), not only its memory.
#[test]
fn lookups_hold_across_tables_and_reopening() {
    const COUNT: u64 = 200_000;
    const BATCH: u64 = 8_192;
    let dir = tempfile::tempdir().unwrap();
    let key = |n: u64| record_key(AGENCY, "kind", &format!("id-{n}"));
    let slot = |n: u64| RecordSlot {
        index: n,
        digest: sha256(&(n % 50_000).to_be_bytes()),
        leaf_hash: Hash(sha256(&n.to_le_bytes())),
    };
    {
        let records = RecordIndex::open(&dir.path().join("index")).unwrap();
        let lookups = LookupIndex::open(&dir.path().join("lookup")).unwrap();
        for first in (0..COUNT).step_by(BATCH as usize) {
            let count = BATCH.min(COUNT - first);
            let batch = IndexBatch {
                first,
                count,
                items: (first..first + count).map(|n| (key(n), slot(n))).collect(),
                revocations: (first..first + count)
                    .filter(|n| n % 1000 == 999)
                    .map(|n| (key(n - 999), n))
                    .collect(),
            };
            records.add(&batch).unwrap();
            lookups.add(&batch).unwrap();
        }
    }
    let records = RecordIndex::open(&dir.path().join("index")).unwrap();
    let lookups = LookupIndex::open(&dir.path().join("lookup")).unwrap();
    assert_eq!(records.covered().unwrap(), COUNT);
    assert_eq!(lookups.covered().unwrap(), COUNT);
    for n in (0..COUNT).step_by(997) {
        assert_eq!(records.record(&key(n)).unwrap(), Some(slot(n)));
        assert_eq!(lookups.leaf(&slot(n).leaf_hash).unwrap(), Some(n));
        // Documents repeat every 50 000 entries.
        let first = n % 50_000;
        let all: Vec<u64> = (first..COUNT).step_by(50_000).collect();
        assert_eq!(lookups.digest(&slot(n).digest, usize::MAX).unwrap(), all);
        let revoked = (n % 1000 == 0).then_some(n + 999);
        assert_eq!(lookups.revoked_after(&key(n), n).unwrap(), revoked);
    }
    assert_eq!(records.record(&key(COUNT)).unwrap(), None);
}

/// 32 bytes that look random, derived from `data`.
fn sha256(data: &[u8]) -> [u8; 32] {
    leaf_hash(data).0
}
