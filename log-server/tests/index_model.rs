//! The indexes against a naive in-memory model: random batches of records
//! and revocations (repeated documents, repeated ids, two issuers,
//! revocations logged before, with or after what they revoke), written
//! batch by batch with the database closed and reopened in between, then
//! every lookup compared with what a plain scan of the same entries answers.

mod common;

use std::collections::BTreeMap;

use common::{AGENCY, agency, unregistered_agency};
use gazette_client::merkle::{Hash, leaf_hash};
use gazette_client::note::Signer;
use gazette_client::record::{Record, SignedRecord};
use gazette_log::index::{Digests, IndexBatch, LookupIndex, RecordIndex, RecordSlot, record_key};
use proptest::prelude::*;

/// One logged entry: (issuer, kind, id, document, revoked id if a
/// revocation).
type Entry = (u8, u8, u8, u8, Option<u8>);

/// The two issuers (the index does not check signatures: a second key is
/// enough).
fn issuer(i: u8) -> Signer {
    if i == 0 {
        agency()
    } else {
        unregistered_agency()
    }
}

fn signed(n: usize, (issuer_n, kind, id, document, revokes): Entry) -> SignedRecord {
    let digest = [document; 32];
    let signer = issuer(issuer_n);
    let name = signer.name();
    let record = match revokes {
        None => Record::new(
            name,
            &format!("kind-{kind}"),
            &format!("id-{id}"),
            digest,
            "2026-11-24T09:00:00Z",
        ),
        Some(revoked) => {
            let mut r = Record::new(
                name,
                "revocation",
                &format!("rev-{n}"),
                digest,
                "2026-11-24T09:00:00Z",
            );
            r.revokes = Some((format!("kind-{kind}"), format!("id-{revoked}")));
            r
        }
    };
    record.sign(&signer).expect("a valid record")
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        prop::bool::weighted(0.2).prop_map(u8::from),
        0u8..2,
        0u8..6,
        0u8..4,
        prop::option::weighted(0.3, 0u8..6),
    )
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
            let records = RecordIndex::open(&dir.path().join("index"), ()).unwrap();
            let lookups = LookupIndex::open(&dir.path().join("lookup"), Digests::Kept).unwrap();
            let first = logged.len() as u64;
            let mut write = IndexBatch { first, count: 0, items: vec![], revocations: vec![], registry: vec![] };
            for &e in batch {
                let s = signed(logged.len(), e);
                write.push(&s, logged.len() as u64, s.leaf_hash());
                write.count += 1;
                logged.push(s);
            }
            records.add(&write).unwrap();
            lookups.add(&write).unwrap();
            prop_assert_eq!(records.covered().unwrap(), logged.len() as u64);
            prop_assert_eq!(lookups.covered().unwrap(), logged.len() as u64);
        }
        let records = RecordIndex::open(&dir.path().join("index"), ()).unwrap();
        let lookups = LookupIndex::open(&dir.path().join("lookup"), Digests::Kept).unwrap();

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
        // A record is revoked by the first revocation of its issuer naming
        // its kind and id, wherever it sits: before it, in its batch, or
        // after it, and whether or not the record is logged yet.
        for issuer_n in 0u8..2 {
            let name = issuer(issuer_n).name().to_owned();
            for kind in 0u8..2 {
                for id in 0u8..6 {
                    let key = record_key(&name, &format!("kind-{kind}"), &format!("id-{id}"));
                    let expected = (0..logged.len() as u64).find(|&j| {
                        let r = &logged[j as usize].record;
                        r.issuer == name
                            && r.revokes == Some((format!("kind-{kind}"), format!("id-{id}")))
                    });
                    prop_assert_eq!(lookups.revoked_by(&key).unwrap(), expected);
                }
            }
        }
        // And what the lookup index answers is what `Record::is_revoked_by`
        // says of every pair of logged entries.
        for (i, s) in logged.iter().enumerate() {
            let r = &s.record;
            let expected = logged
                .iter()
                .position(|rev| r.is_revoked_by(&rev.record))
                .map(|j| j as u64);
            let key = record_key(&r.issuer, &r.kind, &r.id);
            prop_assert_eq!(lookups.revoked_by(&key).unwrap(), expected, "entry {}", i);
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
        let records = RecordIndex::open(&dir.path().join("index"), ()).unwrap();
        let lookups = LookupIndex::open(&dir.path().join("lookup"), Digests::Kept).unwrap();
        for first in (0..COUNT).step_by(BATCH as usize) {
            let count = BATCH.min(COUNT - first);
            let batch = IndexBatch {
                first,
                count,
                items: (first..first + count).map(|n| (key(n), slot(n))).collect(),
                // Entry 1000k + 999 revokes record 1000k (after it);
                // entry 1000k + 1 revokes record 1000k + 2 (before it).
                revocations: (first..first + count)
                    .filter_map(|n| match n % 1000 {
                        999 => Some((key(n - 999), n)),
                        1 => Some((key(n + 1), n)),
                        _ => None,
                    })
                    .collect(),
                registry: Vec::new(),
            };
            records.add(&batch).unwrap();
            lookups.add(&batch).unwrap();
        }
    }
    let records = RecordIndex::open(&dir.path().join("index"), ()).unwrap();
    let lookups = LookupIndex::open(&dir.path().join("lookup"), Digests::Kept).unwrap();
    assert_eq!(records.covered().unwrap(), COUNT);
    assert_eq!(lookups.covered().unwrap(), COUNT);
    for n in (0..COUNT).step_by(997) {
        assert_eq!(records.record(&key(n)).unwrap(), Some(slot(n)));
        assert_eq!(lookups.leaf(&slot(n).leaf_hash).unwrap(), Some(n));
        // Documents repeat every 50 000 entries.
        let first = n % 50_000;
        let all: Vec<u64> = (first..COUNT).step_by(50_000).collect();
        assert_eq!(lookups.digest(&slot(n).digest, usize::MAX).unwrap(), all);
    }
    // Revoked records (after and before their revocation) and their
    // neighbours, in the first, a middle and the last batch.
    for base in [0, 1000, 99_000, 196_000, 199_000] {
        for n in [base, base + 1, base + 2, base + 3, base + 999] {
            let revoked = match n % 1000 {
                0 => Some(n + 999),
                2 => Some(n - 1),
                _ => None,
            };
            assert_eq!(lookups.revoked_by(&key(n)).unwrap(), revoked, "record {n}");
        }
    }
    assert_eq!(records.record(&key(COUNT)).unwrap(), None);
}

/// 32 bytes that look random, derived from `data`.
fn sha256(data: &[u8]) -> [u8; 32] {
    leaf_hash(data).0
}
