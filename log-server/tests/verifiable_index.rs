//! The verifiable index through the log's own API (`/index/lookup`),
//! checked with the client's one verification path (`verify_lookup`)
//! against the published checkpoint: records and revocations in either
//! order, within and across batches; documents never logged; segments
//! merged in memory and into files; restarts, a deleted map rebuilt from
//! the tiles, and a log that gains the index late.

mod common;

use std::time::Instant;

use common::*;
use gazette_client::checkpoint::open_checkpoint;
use gazette_client::index::commitment::IndexCommitment;
use gazette_client::index::lookup::{LookupKey, verify_lookup};
use gazette_client::index::status::{self, Status};
use gazette_client::record::Record;

fn name_of(r: &Record) -> LookupKey {
    LookupKey::Name {
        issuer: r.issuer.clone(),
        kind: r.kind.clone(),
        id: r.id.clone(),
    }
}

/// The proven status of `r`, as a verifier computes it: its name's list,
/// each record on it checked with the agency key the verifier trusts.
async fn proven_status(app: &axum::Router, r: &Record) -> Status {
    let list = proven(app, &name_of(r)).await;
    let index = list
        .records
        .iter()
        .find(|(_, s)| s.record == *r)
        .map(|(i, _)| *i)
        .expect("the record is on its name's list");
    status::proven_status(&list, index, &[agency().verifier()]).unwrap()
}

fn revocation_of(r: &Record, id: &str) -> Vec<u8> {
    Record::revocation(AGENCY, id, r.digest, "2026-11-25T00:00:00Z", &r.kind, &r.id)
        .sign(&agency())
        .unwrap()
        .bytes
}

/// Waits (bounded) until the published checkpoint covers `size` entries.
async fn published(app: &axum::Router, at_least: u64) {
    let start = Instant::now();
    while size(app).await < at_least {
        assert!(start.elapsed() < DEADLINE, "never published {at_least}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn revocations_in_either_order_and_absence_are_proven_against_the_checkpoint() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    // After the opening entries (the agency's registration and its
    // commitment), one batch: records 0-3, and a revocation of 3 placed
    // before it.
    assert_eq!(size(&app).await, FIRST);
    let r3 = record(3);
    let results = add_batch_ok(
        &app,
        &[
            body(0),
            body(1),
            revocation_of(&r3, "REV-3"),
            body(2),
            body(3),
        ],
    )
    .await;
    let indexes = indexes_of(&results);
    assert_eq!(indexes, (FIRST..FIRST + 5).collect::<Vec<_>>());
    let first_commitment = FIRST + results.len() as u64;
    // Across batches: a revocation of record 5 first, then record 5; record
    // 1 revoked after it, in its own batch.
    let r5 = record(5);
    add_ok(&app, &revocation_of(&r5, "REV-5")).await;
    add_ok(&app, &body(5)).await;
    add_ok(&app, &revocation_of(&record(1), "REV-1")).await;
    let last = add_ok(&app, &body(6)).await;
    published(&app, last + 2).await;

    // Each batch ended with a commitment at its own index.
    let entry = get(&app, &format!("/entry/{first_commitment}")).await.body;
    let commitment = IndexCommitment::parse(&entry).expect("a commitment ends the first batch");
    assert_eq!(commitment.size, first_commitment);
    assert_eq!(size(&app).await, last + 2);

    assert_eq!(proven_status(&app, &record(0)).await, Status::Valid);
    assert_eq!(proven_status(&app, &record(2)).await, Status::Valid);
    assert_eq!(proven_status(&app, &record(6)).await, Status::Valid);
    // Revoked from before (same batch, across batches) and from after.
    assert_eq!(
        proven_status(&app, &r3).await,
        Status::Revoked { by: indexes[2] }
    );
    let rev5 = proven(&app, &name_of(&r5)).await.records[0].0;
    assert_eq!(proven_status(&app, &r5).await, Status::Revoked { by: rev5 });
    assert!(
        matches!(proven_status(&app, &record(1)).await, Status::Revoked { by } if by > indexes[1])
    );

    // A document: its record and the revocation naming it (which carries
    // the revoked document's digest).
    let doc3 = proven(&app, &LookupKey::Document(digest(3))).await;
    let kinds: Vec<&str> = doc3
        .records
        .iter()
        .map(|(_, s)| s.record.kind.as_str())
        .collect();
    assert_eq!(kinds, ["revocation", "property-registration"]);
    // Never logged: proven absent, by document and by name.
    assert!(
        proven(&app, &LookupKey::Document(digest(99)))
            .await
            .records
            .is_empty()
    );
    assert!(proven(&app, &name_of(&record(99))).await.records.is_empty());
    // A malformed query is a 400.
    assert_eq!(
        get(&app, "/index/lookup?digest=sha256:00").await.status,
        400
    );
    assert_eq!(get(&app, "/index/lookup?issuer=a&kind=b").await.status, 400);
}

/// Submits `batches` batches of `per` records from `from`; returns the
/// last record's index.
async fn fill(app: &axum::Router, from: u64, batches: u64, per: u64) -> u64 {
    let mut last = 0;
    for b in 0..batches {
        let start = from + b * per;
        let bodies: Vec<Vec<u8>> = (start..start + per).map(body).collect();
        let results = add_batch_ok(app, &bodies).await;
        last = results.last().unwrap()["index"].as_u64().unwrap();
    }
    last
}

async fn settle(log: &gazette_log::log::Log) {
    let map = &log.map.as_ref().expect("the index is on").map;
    let start = Instant::now();
    while !map.settled() {
        assert!(
            start.elapsed() < DEADLINE,
            "the merger never settled: {:?}",
            map.segments()
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn merged_segments_in_files_prove_the_same_and_survive_restarts_and_a_lost_map() {
    let dir = new_log_dir();
    let mut log = open(dir.path());
    let mut app = api(&log);
    // 560 batches of 25 records and a commitment: merged by eights into
    // segments of 208, 1 664 and 13 312 entries, the last in files.
    let last = fill(&app, 0, 560, 25).await;
    published(&app, last + 2).await;
    settle(&log).await;
    let segments = log.map.as_ref().unwrap().map.segments();
    assert!(segments.len() <= 12, "{segments:?}");
    assert!(
        segments.iter().any(|(_, _, on_disk)| *on_disk),
        "{segments:?}"
    );
    // One more batch: its commitment lists the merged segments.
    let last = fill(&app, 14_000, 1, 3).await;
    published(&app, last + 2).await;
    let probes = [0, 1, 2999, 6656, 13_999, 14_002];
    for n in probes {
        assert_eq!(
            proven_status(&app, &record(n)).await,
            Status::Valid,
            "record {n}"
        );
        assert_eq!(
            proven(&app, &LookupKey::Document(digest(n)))
                .await
                .records
                .len(),
            1
        );
    }
    assert!(
        proven(&app, &LookupKey::Document(digest(15_000)))
            .await
            .records
            .is_empty()
    );

    // A restart opens the files; a lost map is rebuilt from the tiles to
    // the roots the log committed.
    for lose_the_map in [false, true] {
        drop(app);
        let dir = close(log);
        if lose_the_map {
            std::fs::remove_dir_all(dir.join(gazette_log::map::MAP_DIR)).unwrap();
        }
        log = open(&dir);
        app = api(&log);
        for n in probes {
            assert_eq!(proven_status(&app, &record(n)).await, Status::Valid);
        }
        let last = fill(&app, 15_000 + u64::from(lose_the_map) * 10, 1, 2).await;
        published(&app, last + 2).await;
        assert!(
            proven(&app, &LookupKey::Document(digest(15_000)))
                .await
                .records
                .len()
                == 1
        );
    }
}

#[tokio::test]
async fn a_log_that_gains_the_index_late_commits_to_all_its_entries() {
    let dir = new_log_dir();
    set_config(dir.path(), "verifiable_index", "false");
    let log = open(dir.path());
    let app = api(&log);
    // Without the index, the log opens with the agency's registration
    // alone: no commitment ends its batch. Record n sits at `opened + n`.
    let opened = size(&app).await;
    assert_eq!(opened, FIRST - 1, "the registration, and no commitment");
    assert_eq!(fill(&app, 0, 3, 5).await, opened + 14);
    let revoked_by = opened + 15;
    assert_eq!(
        add_ok(&app, &revocation_of(&record(4), "REV-4")).await,
        revoked_by
    );
    assert_eq!(
        get(&app, &index_query(&LookupKey::Document(digest(0))))
            .await
            .status,
        404
    );
    drop(app);
    close(log);
    set_config(dir.path(), "verifiable_index", "true");
    let log = open(dir.path());
    let app = api(&log);
    let last = add_ok(&app, &body(100)).await;
    assert_eq!(
        last,
        opened + 16,
        "no commitment before: the registration, records and a revocation"
    );
    published(&app, last + 2).await;
    assert_eq!(proven_status(&app, &record(0)).await, Status::Valid);
    assert_eq!(
        proven_status(&app, &record(4)).await,
        Status::Revoked { by: revoked_by }
    );
    assert_eq!(proven_status(&app, &record(100)).await, Status::Valid);
    // `/lookup` (the record, and the revocation carrying its digest) answers
    // the same from the map as from the lookup index it
    // replaces, and from that index again once the map is turned off (the
    // lookup index is rebuilt when what it keeps changes).
    let record4 = opened + 4;
    assert_eq!(
        plain_lookup(&app, 4).await,
        vec![(record4, Some(revoked_by)), (revoked_by, None)]
    );
    drop(app);
    close(log);
    set_config(dir.path(), "verifiable_index", "false");
    let log = open(dir.path());
    let app = api(&log);
    assert_eq!(
        plain_lookup(&app, 4).await,
        vec![(record4, Some(revoked_by)), (revoked_by, None)]
    );
    assert_eq!(plain_lookup(&app, 100).await, vec![(last, None)]);
    assert_eq!(plain_lookup(&app, 101).await, vec![]);
}

/// `/lookup` by the digest of `record(n)`: each match's index and
/// `revoked_by`.
async fn plain_lookup(app: &axum::Router, n: u64) -> Vec<(u64, Option<u64>)> {
    let hex = gazette_client::encoding::hex_encode(&digest(n));
    let reply = get(app, &format!("/lookup?digest=sha256:{hex}")).await;
    assert_eq!(reply.status, 200);
    let v = reply.json();
    assert_eq!(v["size"], v["covered"], "{v}");
    v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["index"].as_u64().unwrap(), m["revoked_by"].as_u64()))
        .collect()
}

#[tokio::test]
async fn a_key_with_more_entries_than_one_answer_proves_is_refused_whole() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    // 1 001 records of one document, under as many ids.
    let max = gazette_log::api::MAX_PROVEN_ENTRIES;
    let of_document_7 = |n| {
        let mut r = record(n);
        r.digest = digest(7);
        r
    };
    let bodies: Vec<Vec<u8>> = (0..=max)
        .map(|n| of_document_7(n).sign(&agency()).unwrap().bytes)
        .collect();
    let last = add_batch_ok(&app, &bodies).await.last().unwrap()["index"]
        .as_u64()
        .unwrap();
    published(&app, last + 2).await;
    let reply = get(&app, &index_query(&LookupKey::Document(digest(7)))).await;
    assert_eq!(reply.status, 413, "{:?}", reply.json());
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains(&format!("{} entries are filed under this key", max + 1)),
        "{error}"
    );
    // Each record's own name is proven as usual.
    assert_eq!(proven_status(&app, &of_document_7(0)).await, Status::Valid);
}

/// The published checkpoint, opened with the log's key.
async fn checkpoint(app: &axum::Router) -> gazette_client::checkpoint::Checkpoint {
    let note = get(app, "/checkpoint").await.body;
    open_checkpoint(&note, &log_signer().verifier())
        .unwrap()
        .checkpoint
}

#[tokio::test]
async fn a_verifier_holding_an_older_checkpoint_gets_proofs_against_it_and_lookups_carry_proofs() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let r0 = record(0);
    let first = add_ok(&app, &body(0)).await;
    published(&app, first + 2).await;
    let old = checkpoint(&app).await;
    let revocation = add_ok(&app, &revocation_of(&r0, "REV-0")).await;
    published(&app, revocation + 2).await;

    // Against the checkpoint the verifier holds, the record was valid;
    // against the newest, it is revoked.
    let name = name_of(&r0);
    let at_old = get(&app, &format!("{}&size={}", index_query(&name), old.size)).await;
    assert_eq!(at_old.status, 200, "{:?}", at_old.json());
    let v = at_old.json();
    assert!(v["checkpoint"].is_null(), "{v}");
    assert_eq!(v["size"], old.size);
    let list = verify_lookup(&name, &gazette_tests::lookup_proof(&v), old.size, &old.root).unwrap();
    assert_eq!(
        status::proven_status(&list, first, &[agency().verifier()]).unwrap(),
        Status::Valid
    );
    assert_eq!(
        proven_status(&app, &r0).await,
        Status::Revoked { by: revocation }
    );

    // `/lookup` carries the same proof, against the published checkpoint.
    let new = checkpoint(&app).await;
    let hex = gazette_client::encoding::hex_encode(&r0.digest);
    for (path, key) in [
        (
            format!("/lookup?digest=sha256:{hex}"),
            LookupKey::Document(r0.digest),
        ),
        (
            format!("/lookup?issuer={AGENCY}&kind={}&id={}", r0.kind, r0.id),
            name.clone(),
        ),
    ] {
        let v = get(&app, &path).await.json();
        assert!(v["proof_error"].is_null(), "{v}");
        let proof = gazette_tests::lookup_proof(&v["proof"]);
        let list = verify_lookup(&key, &proof, new.size, &new.root).unwrap();
        assert_eq!(
            list.records.len(),
            2,
            "{key:?}: the record and its revocation"
        );
    }

    // Sizes the log cannot prove against are precise errors.
    for (size, status) in [
        (new.size + 1, 404),
        (0, 404),
        (old.size - 1, 404), // entry old.size - 2 is the record, not a commitment
    ] {
        let reply = get(&app, &format!("{}&size={size}", index_query(&name))).await;
        assert_eq!(reply.status, status, "size {size}: {:?}", reply.json());
    }
    assert_eq!(
        get(&app, &format!("{}&size=01", index_query(&name)))
            .await
            .status,
        400
    );
}
