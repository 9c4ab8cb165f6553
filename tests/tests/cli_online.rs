//! `gazette checkpoint` and `gazette inclusion` against real logs: the
//! trusted checkpoint advances only by verified consistency proofs, proofs
//! are checked (also computed from the tiles alone), and a log that rolls
//! back or forks (same key, another history) is caught: exit 10 with the
//! evidence kept. `gazette verify --online` exits 14 for a revoked record,
//! whether its revocation was logged after it, before it, or in its batch.
//! Indexes and sizes come from the log's answers: each batch ends with the
//! verifiable index's commitment, one entry after its records.

use std::path::Path;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, add_batch, get_json, run_status, wait_for_lookups};

const ORIGIN: &str = "online.example/log";

fn agency() -> Signer {
    Signer::from_seed("online.example.gov", KeyType::Ed25519, [31; 32]).unwrap()
}

fn record(tag: &str, n: u64) -> Vec<u8> {
    let mut digest = [0x66; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    Record::new(
        agency().name(),
        "e-invoice",
        &format!("{tag}-{n}"),
        digest,
        "2026-11-24T10:00:00Z",
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

/// Logs records `tag-n` in one batch; returns their indexes.
async fn add(url: &str, tag: &str, range: std::ops::Range<u64>) -> Vec<u64> {
    add_batch(url, range.map(|n| record(tag, n)).collect()).await
}

/// The tree size once the batch that logged `indexes` is committed: its
/// records, then its commitment.
fn size_after(indexes: &[u64]) -> u64 {
    indexes.last().expect("a batch") + 2
}

fn size_of(json: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(json).unwrap_or_else(|e| panic!("{e}: {json}"))["size"]
        .clone()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A log with the same origin and key as `key_from`, holding other records.
fn impostor(key_from: &Path) -> WitnessedLog {
    let mut log = WitnessedLog::start(ORIGIN, &agency().verifier(), 0, 0);
    std::fs::copy(key_from.join("log.key"), log.log_dir.join("log.key")).unwrap();
    // Its empty tree was signed with its own key: start it again under ours.
    std::fs::remove_file(log.log_dir.join("checkpoint")).unwrap();
    log.restart_log();
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trusted_checkpoint_advances_by_proofs_and_rollbacks_and_forks_are_caught() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let honest = WitnessedLog::start(ORIGIN, &agency().verifier(), 0, 0);
    let a = add(&honest.log.url, "A", 0..20).await;
    let size = size_after(&a);
    let info = get_json(&format!("{}/info", honest.log.url)).await;
    std::fs::write(w.join("policy.txt"), info["policy"].as_str().unwrap()).unwrap();
    let (state, evidence, policy) = (
        w.join("trusted"),
        w.join("evidence.txt"),
        w.join("policy.txt"),
    );
    // These logs have no witnesses: the verifier says it accepts that.
    let gazette = |command: &str, url: &str, extra: &[&str]| {
        let mut args = vec![
            command,
            "--log",
            url,
            "--policy",
            p(&policy),
            "--no-witnesses",
            "--state",
            p(&state),
            "--evidence",
            p(&evidence),
        ];
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    };

    let (code, out, err) = gazette("checkpoint", &honest.log.url, &["--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(size_of(&out), size);
    // Records, the commitment that ends the batch (the tree's last entry).
    let (a5, a19, a0, last) = (
        a[5].to_string(),
        a[19].to_string(),
        a[0].to_string(),
        (size - 1).to_string(),
    );
    for extra in [
        &["--index", &a5][..],
        &["--index", &a19, "--tiles-only"],
        &["--index", &a0],
        &["--index", &last, "--tiles-only"],
    ] {
        let (code, _, err) = gazette("inclusion", &honest.log.url, extra);
        assert_eq!(code, 0, "{extra:?}: {err}");
    }
    std::fs::write(w.join("a7.record"), record("A", 7)).unwrap();
    let (code, out, err) = gazette(
        "inclusion",
        &honest.log.url,
        &["--record", p(&w.join("a7.record")), "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let proven: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(proven["index"], a[7], "{out}");
    std::fs::write(w.join("stranger.record"), record("Z", 1)).unwrap();
    let (code, _, err) = gazette(
        "inclusion",
        &honest.log.url,
        &["--record", p(&w.join("stranger.record"))],
    );
    assert_eq!(code, 5, "{err}");

    // Keep the checkpoint of the first batch for `consistency` later.
    std::fs::copy(&state, w.join("old.checkpoint")).unwrap();

    // Lookups, each match proven in the trusted tree.
    let (code, out, err) = gazette(
        "lookup",
        &honest.log.url,
        &[
            "--issuer",
            "online.example.gov",
            "--kind",
            "e-invoice",
            "--id",
            "A-7",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let found: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(found["matches"][0]["index"], a[7]);
    let mut digest = [0x66u8; 32];
    digest[..8].copy_from_slice(&3u64.to_be_bytes());
    let hex = gazette_client::encoding::hex_encode(&digest);
    let (code, out, err) = gazette(
        "lookup",
        &honest.log.url,
        &["--digest", &format!("sha256:{hex}")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("A-3") && out.contains(&format!("at index {}, not revoked (proven)\n", a[3])),
        "{out}"
    );
    let (code, _, err) = gazette(
        "lookup",
        &honest.log.url,
        &[
            "--issuer",
            "online.example.gov",
            "--kind",
            "e-invoice",
            "--id",
            "nope",
        ],
    );
    assert_eq!(code, 13, "{err}");

    // The log grows: the trusted checkpoint advances by a consistency proof.
    let grown = add(&honest.log.url, "A", 20..29).await;
    assert_eq!(grown[0], size, "the batch starts after the commitment");
    let (code, out, err) = gazette("checkpoint", &honest.log.url, &["--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(size_of(&out), size_after(&grown));

    // verify --online: not revoked, then revoked by a revocation logged
    // after it (the reverse order is in the test below).
    let receipt = reqwest::get(format!("{}/receipt/{}", honest.log.url, a[4]))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(w.join("a4.tlog-proof"), receipt).unwrap();
    let online = || {
        run_status(
            "gazette",
            &[
                "verify",
                p(&w.join("a4.tlog-proof")),
                "--policy",
                p(&policy),
                "--no-witnesses",
                "--online",
                "--log",
                &honest.log.url,
                "--state",
                p(&w.join("verify-state")),
                "--json",
            ],
        )
    };
    let (code, out, err) = online();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"revoked_by\":null"), "{out}");
    let revocation = Record::revocation(
        agency().name(),
        "REV-A-4",
        [1; 32],
        "2026-11-25T00:00:00Z",
        "e-invoice",
        "A-4",
    )
    .sign(&agency())
    .unwrap()
    .bytes;
    let revoked = add_batch(&honest.log.url, vec![revocation]).await;
    let final_size = size_after(&revoked);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (code, _, err) = online();
        if code == 14 {
            assert!(err.contains("revoked"), "{err}");
            break;
        }
        assert_eq!(code, 0, "{err}");
        assert!(
            std::time::Instant::now() < deadline,
            "the revocation is never seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The kept checkpoint of the first batch is a prefix of the tree now.
    let (code, out, err) = gazette(
        "consistency",
        &honest.log.url,
        &["--from", p(&w.join("old.checkpoint")), "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let proven: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(proven["old"], size, "{out}");
    assert_eq!(proven["size"], final_size, "{out}");

    // A fork: the same key signs another history, longer than ours.
    let forked = impostor(&honest.log_dir);
    let forked_size = size_after(&add(&forked.log.url, "F", 0..40).await);
    assert!(forked_size > final_size);
    let (code, _, err) = gazette("checkpoint", &forked.log.url, &[]);
    assert_eq!(code, 10, "{err}");
    let kept = std::fs::read_to_string(&evidence).unwrap();
    assert!(kept.starts_with("gazette fork evidence"), "{kept}");
    assert!(
        kept.contains(&format!("{ORIGIN}\n{final_size}\n"))
            && kept.contains(&format!("{ORIGIN}\n{forked_size}\n")),
        "{kept}"
    );
    drop(forked);

    // A rollback: the same key, a shorter history.
    std::fs::remove_file(&evidence).unwrap();
    let behind = impostor(&honest.log_dir);
    assert!(size_after(&add(&behind.log.url, "A", 0..5).await) < final_size);
    let (code, _, err) = gazette("checkpoint", &behind.log.url, &[]);
    assert_eq!(code, 10, "{err}");
    assert!(
        std::fs::read_to_string(&evidence)
            .unwrap()
            .starts_with("gazette rollback evidence")
    );
    drop(behind);

    // The trusted state was not moved by either: the honest log still passes.
    let (code, out, err) = gazette("checkpoint", &honest.log.url, &["--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(size_of(&out), final_size);

    // A policy naming another log key: the checkpoint is not trusted, 4.
    let other = Signer::from_seed(ORIGIN, KeyType::Ed25519, [99; 32]).unwrap();
    std::fs::write(
        w.join("other-policy.txt"),
        format!("log {}\nquorum none\n", other.verifier()),
    )
    .unwrap();
    let (code, _, err) = run_status(
        "gazette",
        &[
            "checkpoint",
            "--log",
            &honest.log.url,
            "--policy",
            p(&w.join("other-policy.txt")),
            "--no-witnesses",
            "--state",
            p(&w.join("other-state")),
        ],
    );
    assert_eq!(code, 4, "{err}");
    // Without --no-witnesses, no policy that asks for no witness is used.
    let (code, _, err) = run_status(
        "gazette",
        &[
            "checkpoint",
            "--log",
            &honest.log.url,
            "--policy",
            p(&policy),
            "--state",
            p(&w.join("unwitnessed-state")),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--no-witnesses"), "{err}");
    assert!(!w.join("unwitnessed-state").exists());
}

/// A revocation of `e-invoice <id>` by the agency.
fn revocation(revocation_id: &str, id: &str) -> Vec<u8> {
    Record::revocation(
        agency().name(),
        revocation_id,
        [2; 32],
        "2026-11-23T00:00:00Z",
        "e-invoice",
        id,
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_online_reports_a_record_revoked_by_a_revocation_logged_before_it() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let log = WitnessedLog::start("before.example/log", &agency().verifier(), 0, 0);
    let url = log.log.url.clone();
    // The revocation of B-1, before B-1 itself; then one batch holding the
    // revocation of B-2 and then B-2; B-3, never revoked. Each batch ends
    // with the index's commitment.
    let rev_b1 = add_batch(&url, vec![revocation("REV-B-1", "B-1")]).await[0];
    let b1 = add_batch(&url, vec![record("B", 1)]).await[0];
    let batch = add_batch(&url, vec![revocation("REV-B-2", "B-2"), record("B", 2)]).await;
    let (rev_b2, b2) = (batch[0], batch[1]);
    let b3 = add_batch(&url, vec![record("B", 3)]).await;
    assert!(rev_b1 < b1 && b1 < rev_b2 && rev_b2 < b2 && b2 < b3[0]);
    wait_for_lookups(&url).await;
    let info = get_json(&format!("{url}/info")).await;
    assert_eq!(info["size"], size_after(&b3), "{info}");
    let policy = w.join("policy.txt");
    std::fs::write(&policy, info["policy"].as_str().unwrap()).unwrap();
    let agency_vkey = agency().verifier().to_string();

    for (index, id, revoked_by) in [
        (b1, "B-1", Some(rev_b1)),
        (b2, "B-2", Some(rev_b2)),
        (b3[0], "B-3", None),
    ] {
        let file = w.join(format!("{id}.tlog-proof"));
        std::fs::write(&file, gazette_tests::receipt(&url, index).await).unwrap();
        let (code, out, err) = run_status(
            "gazette",
            &[
                "verify",
                p(&file),
                "--policy",
                p(&policy),
                "--no-witnesses",
                "--agency",
                &agency_vkey,
                "--online",
                "--log",
                &url,
                "--state",
                p(&w.join("verify-state")),
                "--json",
            ],
        );
        let report: serde_json::Value =
            serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{id}: {e}: {out:?} {err}"));
        assert_eq!(report["id"], id, "{report}");
        assert_eq!(report["index"], index, "{report}");
        match revoked_by {
            Some(revocation) => {
                assert_eq!(code, 14, "{id}: {out}{err}");
                assert!(err.contains("revoked"), "{err}");
                assert_eq!(report["revoked_by"], revocation, "{report}");
            }
            None => {
                assert_eq!(code, 0, "{id}: {out}{err}");
                assert_eq!(report["revoked_by"], serde_json::Value::Null, "{report}");
            }
        }
    }
}
