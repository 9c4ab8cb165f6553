//! The agency registry in the log: the agencies file logged as
//! registrations at the first start (once), changes through
//! `POST /registry` under the registry's rules, records admitted and
//! sequenced only under a key whose window covers their index, and the
//! history proven by the verifiable index, the same after a restart.

mod common;

use axum::http::StatusCode;
use common::*;
use gazette_client::index::lookup::LookupKey;
use gazette_client::note::{KeyType, Signer};
use gazette_client::registry::{Action, AgencyHistory, KeyError, SignedRegistryEntry};
use gazette_log::sequencer::Outcome;

/// A second key of the test agency (another key ID).
fn second_key() -> Signer {
    Signer::from_seed(AGENCY, KeyType::Ed25519, [0x55; 32]).unwrap()
}

/// Record `n` signed with `key`.
fn body_by(n: u64, key: &Signer) -> Vec<u8> {
    record(n).sign(key).unwrap().bytes
}

/// The agency's history as a verifier gets it: a proven lookup of its
/// registry entries against the served checkpoint, folded.
async fn proven_history(app: &axum::Router) -> AgencyHistory {
    let list = proven(app, &LookupKey::Agency(AGENCY.to_owned())).await;
    assert!(list.records.is_empty());
    let entries = list.registry.iter().map(|(i, e)| (*i, e.bytes.as_slice()));
    AgencyHistory::fold(&log_signer().verifier(), AGENCY, entries)
}

#[tokio::test]
async fn the_agencies_file_is_logged_as_registrations_once_and_becomes_a_view() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    // Entry 0: the agency's registration, valid from size 0; entry 1 its
    // commitment; the first record comes after.
    assert_eq!(size(&app).await, FIRST);
    let entry0 = get(&app, "/entry/0").await;
    let registration = SignedRegistryEntry::parse(&entry0.body).unwrap();
    assert_eq!(registration.entry.action, Action::Register);
    assert_eq!(registration.entry.key, agency().verifier());
    assert_eq!(registration.entry.from, Some(0));
    assert!(registration.signed_by(&log_signer().verifier()));
    assert_eq!(add_ok(&app, &body(1)).await, FIRST);
    let view = std::fs::read_to_string(dir.path().join("agencies.txt")).unwrap();
    assert!(
        view.contains(&format!("{} 0\n", agency().verifier())),
        "{view}"
    );
    assert!(view.contains("a view of"), "{view}");
    // Edits to the view change nothing, and a restart logs nothing again.
    register(dir.path(), &second_key().verifier());
    drop(app);
    let log = reopen(log);
    let app = api(&log);
    assert_eq!(size(&app).await, FIRST + 2);
    let reply = add(&app, &body_by(2, &second_key())).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.json());
    let history = proven_history(&app).await;
    assert_eq!(history.keys.len(), 1);
    assert!(history.problems.is_empty());
}

#[tokio::test]
async fn a_rotation_needs_the_current_key_and_keeps_old_and_new_records_valid() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let old = add_ok(&app, &body(1)).await;
    let new_key = second_key();
    // The log alone may not add a key to an agency that has one.
    let alone = registry_entry(Action::Register, &new_key.verifier(), None, &[]);
    let reply = post(&app, "/registry", alone.bytes.clone()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.json());
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("must also be signed by one of its current keys"),
        "{error}"
    );
    assert_eq!(size(&app).await, old + 2, "a refused change logs nothing");
    // Co-signed by the current key, it is logged.
    let rotation = registry_entry(Action::Register, &new_key.verifier(), None, &[&agency()]);
    let at = registry_ok(&app, &rotation).await;
    let new = add_ok(&app, &body_by(2, &new_key)).await;
    assert!(new > at);
    // The same entry again is refused (a key is registered once).
    let reply = post(&app, "/registry", rotation.bytes.clone()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    // The old key retired (signed by the new one): its records from then on
    // are refused with why; earlier ones stay valid.
    let retire = registry_entry(Action::Retire, &agency().verifier(), None, &[&new_key]);
    let retired_at = registry_ok(&app, &retire).await;
    let reply = add(&app, &body(3)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(
        error.contains("was retired from index") && error.contains(&format!("entry {retired_at}")),
        "{error}"
    );
    let history = proven_history(&app).await;
    assert_eq!(history.keys.len(), 2);
    assert_eq!(history.changes.len(), 3);
    assert_eq!(
        history.keys[1].cosigned_by.as_deref(),
        Some(format!("{AGENCY}+{:08x}", agency().key_id()).as_str())
    );
    assert!(history.verify_record(&signed(1), old).is_ok());
    let by_new = gazette_client::record::SignedRecord::parse(&body_by(2, &new_key)).unwrap();
    assert!(history.verify_record(&by_new, new).is_ok());
    assert!(matches!(
        history.verify_record(&signed(3), retired_at + 2),
        Err(KeyError::CutOff { .. })
    ));
}

#[tokio::test]
async fn a_compromise_cut_off_keeps_earlier_records_valid_and_later_ones_invalid() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let before = add_ok(&app, &body(1)).await;
    let cut = size(&app).await;
    let after = add_ok(&app, &body(2)).await;
    // Declared compromised from `cut`, by the log alone: the record logged
    // after the cut-off but before the declaration becomes invalid.
    let compromised = registry_entry(Action::Compromised, &agency().verifier(), Some(cut), &[]);
    registry_ok(&app, &compromised).await;
    let history = proven_history(&app).await;
    assert!(history.verify_record(&signed(1), before).is_ok());
    match history.verify_record(&signed(2), after) {
        Err(KeyError::CutOff { cutoff, .. }) => {
            assert!(cutoff.compromised);
            assert_eq!(cutoff.from, cut);
        }
        other => panic!("{other:?}"),
    }
    let reply = add(&app, &body(3)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("declared compromised"), "{error}");
    // A cut-off from beyond the log is refused.
    let ahead = registry_entry(
        Action::Compromised,
        &agency().verifier(),
        Some(1 << 40),
        &[],
    );
    let reply = post(&app, "/registry", ahead.bytes.clone()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{:?}", reply.json());
    // All of it holds after a restart (folded from the record index).
    drop(app);
    let log = reopen(log);
    let app = api(&log);
    assert_eq!(add(&app, &body(4)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(proven_history(&app).await, history);
}

#[tokio::test]
async fn a_record_admitted_before_its_key_was_cut_off_is_refused_by_the_sequencer() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let retire = registry_entry(Action::Retire, &agency().verifier(), None, &[&agency()]);
    let at = registry_ok(&app, &retire).await;
    // What a record checked against the keys of a moment ago meets.
    let outcomes = log.sequencer.submit(vec![signed(1)]).await.unwrap();
    assert_eq!(
        outcomes,
        [Outcome::KeyCutOff {
            key_id: agency().key_id(),
            at,
            from: at,
            compromised: false,
        }]
    );
    assert_eq!(size(&app).await, at + 2, "nothing logged");
}

#[tokio::test]
async fn registry_changes_not_signed_by_the_log_or_malformed_are_refused_and_change_nothing() {
    let dir = new_log_dir();
    let log = open(dir.path());
    let app = api(&log);
    let start = size(&app).await;
    let stranger = Signer::from_seed(ORIGIN, KeyType::Ed25519, [0x77; 32]).unwrap();
    let forged = gazette_client::registry::RegistryEntry {
        log: ORIGIN.to_owned(),
        agency: AGENCY.to_owned(),
        action: Action::Register,
        key: second_key().verifier(),
        from: None,
        time: "2026-12-05T10:00:00Z".to_owned(),
    }
    .sign(&[&stranger, &agency()])
    .unwrap();
    let reply = post(&app, "/registry", forged.bytes.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.json());
    let reply = post(&app, "/registry", b"gazette.agency/v1\nnonsense\n".to_vec()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = post(&app, "/registry", vec![b'x'; 17 * 1024]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    // An unknown agency key cannot be retired.
    let retire = registry_entry(Action::Retire, &second_key().verifier(), None, &[&agency()]);
    let reply = post(&app, "/registry", retire.bytes.clone()).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(size(&app).await, start);
}

/// A log as an older version left it in `dir`: three records in the tree
/// (no registry entry, no index commitment), its agency in the agencies
/// file. Returns the records.
fn pre_registry_log(dir: &std::path::Path) -> Vec<Vec<u8>> {
    init_log(dir);
    let old: Vec<Vec<u8>> = (1..=3).map(body).collect();
    let mut edge = gazette_log::tree::Edge::empty();
    let objects = edge.append(&old).unwrap();
    let checkpoint = gazette_client::checkpoint::Checkpoint {
        origin: ORIGIN.to_owned(),
        size: edge.size(),
        root: edge.root(),
        extensions: Vec::new(),
    }
    .sign(&log_signer())
    .unwrap();
    let storage = gazette_log::storage::FsStorage::open(dir).unwrap();
    gazette_log::storage::Storage::commit(&storage, &objects, checkpoint.as_bytes()).unwrap();
    old
}

#[tokio::test]
async fn a_monitor_of_a_migrated_log_finds_its_old_records_valid() {
    let dir = tempfile::tempdir().unwrap();
    pre_registry_log(dir.path());
    let log = gazette_tests::process::Server::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_gazette-log")),
        dir.path(),
        "127.0.0.1:0",
    );
    let url = format!("http://{}", log.addr());
    let work = tempfile::tempdir().unwrap();
    let policy = work.path().join("policy.txt");
    std::fs::write(
        &policy,
        format!("log {}\nquorum none\n", log_signer().verifier()),
    )
    .unwrap();
    let (code, out, err) = gazette_tests::process::run_status(
        &gazette_tests::binary("gazette"),
        &[
            "monitor",
            "--log",
            &url,
            "--policy",
            policy.to_str().unwrap(),
            "--no-witnesses",
            "--state",
            work.path().join("trusted").to_str().unwrap(),
            "--progress",
            work.path().join("monitor.json").to_str().unwrap(),
            "--once",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}\n{out}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // The registration (from 0) sits after the records it covers.
    assert_eq!(report["issuers"][AGENCY]["records"], 3, "{report}");
    assert_eq!(report["unknown_key"], serde_json::json!([]), "{report}");
    assert_eq!(report["outside_window"], serde_json::json!([]), "{report}");
}

#[tokio::test]
async fn a_log_from_before_the_registry_logs_its_agencies_once_and_its_old_records_stay_valid() {
    let dir = tempfile::tempdir().unwrap();
    let old = pre_registry_log(dir.path());
    let log = open(dir.path());
    let app = api(&log);
    // The registration follows the old records, valid from size 0.
    let entry = get(&app, "/entry/3").await;
    let registration = SignedRegistryEntry::parse(&entry.body).unwrap();
    assert_eq!(registration.entry.from, Some(0));
    let history = proven_history(&app).await;
    for (index, bytes) in old.iter().enumerate() {
        let signed = gazette_client::record::SignedRecord::parse(bytes).unwrap();
        assert!(history.verify_record(&signed, index as u64).is_ok());
    }
    let next = add_ok(&app, &body(4)).await;
    assert_eq!(next, 5, "after the registration and its commitment");
    // Once: a restart logs nothing more.
    drop(app);
    let log = reopen(log);
    let app = api(&log);
    assert_eq!(size(&app).await, next + 2);
    assert_eq!(proven_history(&app).await.keys.len(), 1);
}
