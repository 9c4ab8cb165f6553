//! The read API beyond the static tiles: `/entry`, `/proof/inclusion`,
//! `/proof/consistency`, `/receipt`, `/lookup` and `/info`, each happy path
//! and each malformed or out-of-range input; proofs checked against proofs
//! the client computes from the tiles alone; receipts verified offline.

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use common::*;
use gazette_client::cosignature::Cosignature;
use gazette_client::merkle::{self, Hash, leaf_hash};
use gazette_client::note::{KeyType, Note, Signer};
use gazette_client::policy::Policy;
use gazette_client::record::{Record, SignedRecord};
use gazette_client::tiles::TileHashReader;
use gazette_client::tlog_proof::TlogProof;
use gazette_log::config::Config;
use gazette_log::log::Log;
use gazette_log::storage::{FsStorage, Storage};
use serde_json::json;

/// A log holding records `0..n` added in batches of uneven sizes, so that
/// the tree has had many partial tiles.
struct Filled {
    /// The data directory: bind it, or it goes before the test ends.
    _dir: tempfile::TempDir,
    log: std::sync::Arc<gazette_log::log::Log>,
    app: Router,
    /// Where the entries are: record `r` at `layout.records[r]`, each
    /// batch ended by its commitment.
    layout: Layout,
    /// Every entry of the tree, as served, checked against the layout.
    entries: Vec<Vec<u8>>,
}

async fn log_with(n: u64) -> Filled {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let mut next = 0;
    let mut layout = Layout::opened(&[]);
    let mut batches = Vec::new();
    for step in [1u64, 2, 255, 3, 300, 17].iter().cycle() {
        if next >= n {
            break;
        }
        let end = (next + step).min(n);
        let records: Vec<Vec<u8>> = (next..end).map(body).collect();
        let indexes = indexes_of(&add_batch_ok(&app, &records).await);
        layout.batch(end - next);
        assert_eq!(indexes, layout.records[next as usize..]);
        batches.push(records);
        next = end;
    }
    assert_eq!(size(&app).await, layout.size());
    let served = served_entries(&app, layout.size()).await;
    let batches: Vec<&[Vec<u8>]> = batches.iter().map(Vec::as_slice).collect();
    let entries = expected_entries(&batches, &served);
    assert!(served == entries);
    Filled {
        _dir: dir,
        log,
        app,
        layout,
        entries,
    }
}

/// Waits, at most 10 s, until `/lookup` reports covering `size` (exactly).
async fn wait_covered(app: &Router, size: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let reply = get(
            app,
            "/lookup?leaf_hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        if reply.json()["covered"] == json!(size) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "lookup index behind");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Waits until `/lookup` covers the whole committed tree.
async fn wait_caught_up(app: &Router) {
    wait_covered(app, size(app).await).await;
}

fn proof_of(reply: &Reply) -> Vec<Hash> {
    reply.json()["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect()
}

/// A tiny deterministic generator for the random pairs.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn entry_is_the_exact_leaf_and_bad_indexes_are_4xx() {
    let Filled {
        _dir,
        app,
        layout,
        entries,
        ..
    } = log_with(300).await;
    // The first record, the two on both sides of the first bundle's edge
    // (records 251 and 252, at 255 and 256: after the opening entries and
    // two commitments), the last.
    assert_eq!(layout.records[251..253], [255, 256]);
    for n in [0u64, 251, 252, 299] {
        let index = layout.records[n as usize];
        let reply = get(&app, &format!("/entry/{index}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, body(n));
        assert_eq!(reply.header("content-type"), "application/octet-stream");
        assert!(reply.header("cache-control").contains("immutable"));
    }
    // The registration at 0, entries 255 and 256, on both sides of the
    // first bundle's edge, and every commitment (the opening one too):
    // each exactly the entry in the bundles.
    let mut indexes = vec![0, 255, 256];
    indexes.extend(&layout.commitments);
    for index in indexes {
        let reply = get(&app, &format!("/entry/{index}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, entries[index as usize], "entry {index}");
    }
    for &index in &layout.commitments {
        check_commitment(&entries, index);
    }
    for bad in ["01", "-1", "+1", "1.0", "x", "18446744073709551616", "%201"] {
        let reply = get(&app, &format!("/entry/{bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.json()["status"], json!(400));
    }
    let size = layout.size().to_string();
    for beyond in [size.as_str(), "18446744073709551615"] {
        assert_eq!(
            get(&app, &format!("/entry/{beyond}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn proofs_agree_with_proofs_the_client_computes_from_the_tiles_alone() {
    let Filled {
        _dir,
        log,
        app,
        layout,
        entries,
        ..
    } = log_with(700).await;
    let size = layout.size();
    let published = log.published();
    assert_eq!(published.size, size);
    let tiles = fetch_tree(&app, size).await;
    let reader = TileHashReader::new(size, published.root, &tiles);
    let roots: Vec<Hash> = (0..=size)
        .map(|s| {
            if s == 0 {
                merkle::empty_root()
            } else {
                merkle::tree_hash(s, &reader).unwrap()
            }
        })
        .collect();
    let mut rng = Lcg(7);
    for _ in 0..150 {
        let s = 1 + rng.below(size);
        let i = rng.below(s);
        let reply = get(&app, &format!("/proof/inclusion?index={i}&size={s}")).await;
        assert_eq!(reply.status, StatusCode::OK, "inclusion {i} {s}");
        assert_eq!(reply.json()["index"], json!(i));
        assert_eq!(reply.json()["size"], json!(s));
        let proof = proof_of(&reply);
        assert_eq!(
            proof,
            merkle::prove_inclusion(i, s, &reader).unwrap(),
            "{i} in {s}"
        );
        merkle::verify_inclusion(
            &leaf_hash(&entries[i as usize]),
            i,
            s,
            &proof,
            &roots[s as usize],
        )
        .unwrap();

        let old = 1 + rng.below(s);
        let reply = get(&app, &format!("/proof/consistency?old={old}&size={s}")).await;
        assert_eq!(reply.status, StatusCode::OK, "consistency {old} {s}");
        let proof = proof_of(&reply);
        if old == s {
            assert!(proof.is_empty());
        } else {
            assert_eq!(proof, merkle::prove_consistency(old, s, &reader).unwrap());
            merkle::verify_consistency(old, s, &roots[old as usize], &roots[s as usize], &proof)
                .unwrap();
        }
    }
}

#[tokio::test]
async fn malformed_or_out_of_range_proof_queries_are_precise_4xx() {
    let Filled {
        _dir, app, layout, ..
    } = log_with(20).await;
    // The opening entries, then 20 records in three batches, each ended by
    // its commitment.
    let size = layout.size();
    assert_eq!(size, FIRST + 23);
    let bad_requests = [
        "/proof/inclusion",
        "/proof/inclusion?index=1",
        "/proof/inclusion?size=5",
        "/proof/inclusion?index=01&size=5",
        "/proof/inclusion?index=-1&size=5",
        "/proof/inclusion?index=1&size=+5",
        "/proof/inclusion?index=1&size=5&size=6",
        "/proof/inclusion?index=1&size=5&extra=1",
        "/proof/inclusion?index=5&size=5",
        "/proof/inclusion?index=1&size=18446744073709551616",
        "/proof/inclusion?index=%ZZ&size=5",
        "/proof/consistency?old=0&size=5",
        "/proof/consistency?old=6&size=5",
        "/proof/consistency?old=1",
        "/proof/consistency?old=a&size=5",
    ];
    for path in bad_requests {
        let reply = get(&app, path).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            reply.json()
        );
        assert!(!reply.json()["error"].as_str().unwrap().is_empty());
    }
    let long = format!("/proof/inclusion?index=1&size=5&{}", "x".repeat(3000));
    assert_eq!(get(&app, &long).await.status, StatusCode::BAD_REQUEST);
    for path in [
        format!("/proof/inclusion?index=1&size={}", size + 1),
        format!("/proof/consistency?old=3&size={}", size + 1),
    ] {
        assert_eq!(
            get(&app, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let reply = get(&app, &format!("/proof/consistency?old={size}&size={size}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["proof"], json!([]));
    let reply = get(&app, "/proof/inclusion?index=0&size=1").await;
    assert_eq!(reply.json()["proof"], json!([]));
}

#[tokio::test]
async fn receipts_verify_offline_under_the_policy_from_info() {
    let Filled {
        _dir,
        log,
        app,
        layout,
        ..
    } = log_with(300).await;
    let info = get(&app, "/info").await.json();
    let policy = Policy::parse(info["policy"].as_str().unwrap().as_bytes()).unwrap();
    // Record 252 is the first entry of the second bundle.
    assert_eq!(layout.records[252], 256);
    for n in [0u64, 150, 252, 299] {
        let index = layout.records[n as usize];
        let reply = get(&app, &format!("/receipt/{index}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        let receipt = TlogProof::parse(&reply.body).unwrap();
        assert_eq!(receipt.index, index);
        let record = receipt.extra.clone().unwrap();
        assert_eq!(record, body(n));
        let signed = SignedRecord::verify(&record, &[agency().verifier()]).unwrap();
        let checked = receipt.verify(&signed.leaf_hash(), &policy).unwrap();
        assert_eq!(checked.checkpoint.size, layout.size());
        assert_eq!(
            receipt.checkpoint.as_bytes(),
            log.published().note.as_slice()
        );
        // Tampering with the record breaks the receipt.
        assert!(receipt.verify(&leaf_hash(&body(n + 1)), &policy).is_err());
    }
    for bad in ["x", "01", "-3"] {
        assert_eq!(
            get(&app, &format!("/receipt/{bad}")).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        get(&app, &format!("/receipt/{}", layout.size()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn info_names_the_log_its_key_and_its_agencies() {
    let Filled {
        _dir,
        log,
        app,
        layout,
        ..
    } = log_with(3).await;
    let reply = get(&app, "/info").await;
    assert_eq!(reply.status, StatusCode::OK);
    let info = reply.json();
    assert_eq!(info["origin"], json!(ORIGIN));
    assert_eq!(info["vkey"], json!(log_signer().verifier().to_string()));
    // The opening entries, then three records in two batches, each ended
    // by its commitment.
    assert_eq!(info["size"], json!(FIRST + 5));
    assert_eq!(info["size"], json!(layout.size()));
    assert_eq!(
        info["agencies"],
        json!([{ "name": AGENCY, "vkey": agency().verifier().to_string(), "since": 0 }])
    );
    let policy = Policy::parse(info["policy"].as_str().unwrap().as_bytes()).unwrap();
    policy.verify_checkpoint(&log.published().note).unwrap();
}

#[tokio::test]
async fn lookup_finds_records_by_digest_leaf_hash_and_key_with_their_revocations() {
    let Filled {
        _dir,
        app,
        mut layout,
        ..
    } = log_with(10).await;
    // Record 10 registers the same document as record 3 under another id.
    let mut again = record(10);
    again.digest = digest(3);
    layout.batch(1);
    assert_eq!(
        add_ok(&app, &again.sign(&agency()).unwrap().bytes).await,
        layout.records[10]
    );
    // Record 11 revokes record 5.
    let r5 = record(5);
    let revocation = Record::revocation(
        AGENCY,
        "REV-1",
        [9; 32],
        "2026-11-25T00:00:00Z",
        &r5.kind,
        &r5.id,
    );
    let revocation = revocation.sign(&agency()).unwrap().bytes;
    layout.batch(1);
    let revocation_index = layout.records[11];
    assert_eq!(add_ok(&app, &revocation).await, revocation_index);
    let size = layout.size();
    wait_covered(&app, size).await;
    let (at3, at5, at10) = (layout.records[3], layout.records[5], layout.records[10]);

    let hex = gazette_client::encoding::hex_encode(&digest(3));
    let found = get(&app, &format!("/lookup?digest=sha256:{hex}"))
        .await
        .json();
    let indexes: Vec<u64> = found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [at3, at10]);
    assert_eq!(found["truncated"], json!(false));
    assert_eq!(
        found["matches"][0]["record"],
        json!(String::from_utf8(body(3)).unwrap())
    );
    assert_eq!(found["matches"][0]["revoked_by"], json!(null));

    let leaf = leaf_hash(&body(5)).to_base64();
    let escaped = leaf
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let found = get(&app, &format!("/lookup?leaf_hash={escaped}"))
        .await
        .json();
    assert_eq!(found["matches"][0]["index"], json!(at5));
    assert_eq!(found["matches"][0]["revoked_by"], json!(revocation_index));
    assert_eq!(found["matches"][0]["leaf_hash"], json!(leaf));

    let query = format!("/lookup?issuer={AGENCY}&kind={}&id={}", r5.kind, r5.id);
    let found = get(&app, &query).await.json();
    assert_eq!(found["matches"].as_array().unwrap().len(), 1);
    assert_eq!(found["matches"][0]["index"], json!(at5));
    assert_eq!(found["matches"][0]["revoked_by"], json!(revocation_index));
    assert_eq!(found["matches"][0]["id"], json!(r5.id));
    assert_eq!(found["size"], json!(size));
    assert_eq!(found["covered"], json!(size));

    let none = get(
        &app,
        &format!("/lookup?issuer={AGENCY}&kind=e-invoice&id=nope"),
    )
    .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json()["matches"], json!([]));

    for bad in [
        "/lookup",
        "/lookup?digest=sha256:00",
        &format!("/lookup?digest=sha256:{}", hex.to_uppercase()),
        &format!("/lookup?digest={hex}"),
        &format!("/lookup?digest=sha256:{hex}&leaf_hash={escaped}"),
        "/lookup?leaf_hash=abc",
        &format!("/lookup?issuer={AGENCY}&id=x"),
        "/lookup?issuer=&kind=a&id=b",
        "/lookup?color=blue",
    ] {
        let reply = get(&app, bad).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// A property registration of the agency (or of `issuer`) under `id`.
fn registration(issuer: &Signer, id: &str, n: u64) -> Vec<u8> {
    Record::new(
        issuer.name(),
        "property-registration",
        id,
        digest(n),
        "2026-11-24T09:00:00Z",
    )
    .sign(issuer)
    .unwrap()
    .bytes
}

/// A revocation by `issuer` of its property registration `id`.
fn revocation_of(issuer: &Signer, revocation_id: &str, id: &str) -> Vec<u8> {
    Record::revocation(
        issuer.name(),
        revocation_id,
        [9; 32],
        "2026-11-25T00:00:00Z",
        "property-registration",
        id,
    )
    .sign(issuer)
    .unwrap()
    .bytes
}

/// The `revoked_by` of the agency's property registration `id`, found by
/// key, by leaf hash and by digest (all three must agree), and its index.
async fn revoked_by(app: &Router, id: &str, record: &[u8]) -> (u64, serde_json::Value) {
    let found = get(
        app,
        &format!("/lookup?issuer={AGENCY}&kind=property-registration&id={id}"),
    )
    .await
    .json();
    assert_eq!(found["matches"].as_array().unwrap().len(), 1, "{found}");
    let m = &found["matches"][0];
    assert_eq!(
        m["record"],
        json!(String::from_utf8(record.to_vec()).unwrap())
    );
    let leaf = leaf_hash(record)
        .to_base64()
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    let by_leaf = get(app, &format!("/lookup?leaf_hash={leaf}")).await.json();
    assert_eq!(by_leaf["matches"][0]["revoked_by"], m["revoked_by"], "{id}");
    let digest = m["digest"].as_str().unwrap().to_owned();
    let by_digest = get(app, &format!("/lookup?digest={digest}")).await.json();
    assert_eq!(
        by_digest["matches"][0]["revoked_by"], m["revoked_by"],
        "{id}"
    );
    (m["index"].as_u64().unwrap(), m["revoked_by"].clone())
}

/// The indexes of one `/add-batch`, each logged.
async fn add_batch_indexes(app: &Router, records: &[Vec<u8>]) -> Vec<u64> {
    add_batch_ok(app, records)
        .await
        .iter()
        .map(|r| r["index"].as_u64().unwrap_or_else(|| panic!("{r}")))
        .collect()
}

#[tokio::test]
async fn a_record_is_revoked_by_its_issuers_revocation_wherever_it_sits_in_the_log() {
    let dir = new_log_dir();
    // A second registered agency, issuing revocations of the same kind
    // and id as the first agency's records.
    let other = unregistered_agency();
    register(dir.path(), &other.verifier());
    let log = open(dir.path());
    let app = api(&log);
    let mine = agency();

    // A revocation logged in an earlier batch than its record: the record
    // is born revoked.
    let early_revocation = add_ok(&app, &revocation_of(&mine, "REV-EARLY", "EARLY")).await;
    wait_caught_up(&app).await;
    let none = get(
        &app,
        &format!("/lookup?issuer={AGENCY}&kind=property-registration&id=EARLY"),
    )
    .await
    .json();
    assert_eq!(none["matches"], json!([]), "no record yet: {none}");
    let early = registration(&mine, "EARLY", 100);
    let early_index = add_ok(&app, &early).await;
    assert!(early_revocation < early_index);
    wait_caught_up(&app).await;
    assert_eq!(
        revoked_by(&app, "EARLY", &early).await,
        (early_index, json!(early_revocation))
    );

    // Both in one batch, the revocation first.
    let before = registration(&mine, "SAME-BATCH-1", 101);
    let indexes = add_batch_indexes(
        &app,
        &[
            revocation_of(&mine, "REV-SB-1", "SAME-BATCH-1"),
            before.clone(),
        ],
    )
    .await;
    assert!(indexes[0] < indexes[1], "{indexes:?}");
    wait_caught_up(&app).await;
    assert_eq!(
        revoked_by(&app, "SAME-BATCH-1", &before).await,
        (indexes[1], json!(indexes[0]))
    );

    // Both in one batch, the record first.
    let after = registration(&mine, "SAME-BATCH-2", 102);
    let indexes = add_batch_indexes(
        &app,
        &[
            after.clone(),
            revocation_of(&mine, "REV-SB-2", "SAME-BATCH-2"),
        ],
    )
    .await;
    assert!(indexes[0] < indexes[1], "{indexes:?}");
    wait_caught_up(&app).await;
    assert_eq!(
        revoked_by(&app, "SAME-BATCH-2", &after).await,
        (indexes[0], json!(indexes[1]))
    );

    // Another issuer's revocations naming the same kind and id, before and
    // after the record, revoke nothing.
    let before_other = add_ok(&app, &revocation_of(&other, "REV-O-1", "OTHER")).await;
    let theirs = registration(&mine, "OTHER", 103);
    let theirs_index = add_ok(&app, &theirs).await;
    let after_other = add_ok(&app, &revocation_of(&other, "REV-O-2", "OTHER")).await;
    assert!(before_other < theirs_index && theirs_index < after_other);
    wait_caught_up(&app).await;
    assert_eq!(
        revoked_by(&app, "OTHER", &theirs).await,
        (theirs_index, json!(null))
    );
    // Nor does the other issuer's revocation make its own key look revoked
    // for a record it never logged: the lookup finds no such record.
    let found = get(
        &app,
        &format!(
            "/lookup?issuer={}&kind=property-registration&id=OTHER",
            other.name()
        ),
    )
    .await
    .json();
    assert_eq!(found["matches"], json!([]));
    // Its own issuer's revocation does, though.
    let mine_after = add_ok(&app, &revocation_of(&mine, "REV-O-3", "OTHER")).await;
    wait_caught_up(&app).await;
    assert_eq!(
        revoked_by(&app, "OTHER", &theirs).await,
        (theirs_index, json!(mine_after))
    );

    // A second revocation, after the record, changes nothing: `revoked_by`
    // is the lowest index among the revocations.
    let second = add_ok(&app, &revocation_of(&mine, "REV-EARLY-2", "EARLY")).await;
    assert!(early_index < second);
    wait_caught_up(&app).await;
    assert_eq!(
        revoked_by(&app, "EARLY", &early).await,
        (early_index, json!(early_revocation))
    );

    // The record once more: the same record (same index), still revoked;
    // another document under its name is refused, so nothing un-revokes it.
    assert_eq!(add_ok(&app, &early).await, early_index);
    let replacement = add(&app, &registration(&mine, "EARLY", 104)).await;
    assert_eq!(replacement.status, StatusCode::CONFLICT);
    assert_eq!(replacement.json()["index"], json!(early_index));
    wait_caught_up(&app).await;
    assert_eq!(
        revoked_by(&app, "EARLY", &early).await,
        (early_index, json!(early_revocation))
    );
}

/// A store that keeps the witnessed checkpoint in memory only, over the
/// filesystem store: a decorating [`Storage`], so what a log publishes at
/// start can only have come through its store.
struct WitnessedInMemory {
    inner: FsStorage,
    witnessed: Mutex<Option<Vec<u8>>>,
}

impl Storage for WitnessedInMemory {
    fn read(&self, path: &str) -> std::io::Result<Option<Vec<u8>>> {
        self.inner.read(path)
    }

    fn commit(&self, objects: &[(String, Vec<u8>)], checkpoint: &[u8]) -> std::io::Result<()> {
        self.inner.commit(objects, checkpoint)
    }

    fn remove_temporaries(&self, dir: &str) -> std::io::Result<usize> {
        self.inner.remove_temporaries(dir)
    }

    fn remove(&self, path: &str) -> std::io::Result<()> {
        self.inner.remove(path)
    }

    fn remove_partial_tiles(&self, full: &str) -> std::io::Result<usize> {
        self.inner.remove_partial_tiles(full)
    }

    fn partial_widths(&self, full: &str) -> std::io::Result<Vec<u32>> {
        self.inner.partial_widths(full)
    }

    fn superseded_partial_tiles(&self) -> std::io::Result<Vec<String>> {
        self.inner.superseded_partial_tiles()
    }

    fn read_witnessed_checkpoint(&self) -> std::io::Result<Option<Vec<u8>>> {
        Ok(self.witnessed.lock().unwrap().clone())
    }

    fn write_witnessed_checkpoint(&self, note: &[u8]) -> std::io::Result<()> {
        *self.witnessed.lock().unwrap() = Some(note.to_vec());
        Ok(())
    }
}

#[tokio::test]
async fn with_witnesses_reads_follow_the_committed_tree_and_the_store_keeps_the_witnessed_one() {
    let dir = new_log_dir();
    let witness =
        Signer::from_seed("witness.example.org", KeyType::Cosignature, [0x55; 32]).unwrap();
    std::fs::write(
        dir.path().join("policy.txt"),
        format!(
            "witness w1 {} http://127.0.0.1:9\nquorum w1\n",
            witness.verifier()
        ),
    )
    .unwrap();
    // The template has the setting commented out.
    let config = dir.path().join("gazette-log.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "# witness_policy_file = \"policy.txt\"",
        "witness_policy_file = \"policy.txt\"",
    );
    std::fs::write(&config, text).unwrap();

    // No witness has cosigned (witnessing is not started here): the
    // published checkpoint is the signed empty tree, while entries and
    // proofs follow the committed tree.
    let log = open(dir.path());
    let app = api(&log);
    let records: Vec<Vec<u8>> = (0..3).map(body).collect();
    add_batch_ok(&app, &records).await;
    assert_eq!(checkpoint(&app).await.0.size, 0);
    // The opening entries, the records and the commitment that ends their
    // batch.
    assert_eq!(log.committed().size, Layout::opened(&[3]).size());
    let mut opening = Vec::new();
    for index in 0..FIRST {
        opening.push(get(&app, &format!("/entry/{index}")).await.body);
    }
    let mut entries = start_entries(&opening);
    let last = FIRST + 2;
    assert_eq!(get(&app, &format!("/entry/{last}")).await.body, records[2]);
    let commitment = get(&app, &format!("/entry/{}", last + 1)).await.body;
    entries.extend(records.iter().cloned());
    entries.push(commitment);
    check_commitment(&entries, last + 1);
    let reply = get(&app, &format!("/receipt/{last}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        String::from_utf8_lossy(&reply.body).contains("not yet in a witnessed checkpoint"),
        "{:?}",
        String::from_utf8_lossy(&reply.body)
    );
    let committed = log.committed().note.clone();
    drop(app);
    let dir_path = close(log);

    // The witness's cosignature of the committed checkpoint, kept in the
    // store: the reopened log publishes it, and receipts are served
    // against it.
    let text = Note::parse(&committed).unwrap().text;
    let line = Cosignature::sign(&witness, &text, 1_700_000_000)
        .unwrap()
        .to_line();
    let mut cosigned = committed.clone();
    cosigned.extend_from_slice(line.as_bytes());
    let storage = WitnessedInMemory {
        inner: FsStorage::open(&dir_path).unwrap(),
        witnessed: Mutex::new(Some(cosigned.clone())),
    };
    let config = Config::load(&dir_path).unwrap();
    let log = Arc::new(Log::open_with(&dir_path, config, Arc::new(storage)).unwrap());
    let app = api(&log);
    assert_eq!(checkpoint(&app).await.1, cosigned);
    assert_eq!(
        get(&app, &format!("/receipt/{last}")).await.status,
        StatusCode::OK
    );
    assert!(!dir_path.join("witnessed-checkpoint").exists());
}

/// Writes the names file with a modification time of its own, so the log
/// sees each version as a change however fast they follow each other.
fn write_names(dir: &std::path::Path, text: &str, version: u64) {
    let path = dir.join("names.txt");
    std::fs::write(&path, text).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000 + version),
    )
    .unwrap();
}

#[tokio::test]
async fn names_are_served_as_written_re_read_when_changed_and_a_bad_edit_is_ignored() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let reply = get(&app, "/names").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty(), "no names file: no names");

    let names = "agency a.example.gov en Agency A\nagency a.example.gov zh-CN 甲机构\n";
    write_names(dir.path(), names, 1);
    let reply = get(&app, "/names").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(reply.body, names.as_bytes());

    // A malformed edit while running: the previous names stay in force.
    write_names(dir.path(), "agency a.example.gov fr Agence A\n", 2);
    assert_eq!(get(&app, "/names").await.body, names.as_bytes());
    drop(app);
    let dir_path = close(log);

    // At start, a malformed file is refused, naming the file and line.
    let e = Log::open(&dir_path)
        .err()
        .expect("a malformed names file is refused");
    let e = format!("{e:#}");
    assert!(
        e.contains("names.txt") && e.contains("line 1") && e.contains("languages"),
        "{e}"
    );
}
