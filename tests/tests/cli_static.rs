//! The CLI against a static C2SP log: the tiles of a real, witnessed log
//! and its cosigned checkpoint, copied into a directory that python's
//! `http.server` serves, with no Gazette server involved. With
//! `--tiles-only`, `checkpoint`, `inclusion --index`, `consistency` and
//! `monitor` work from `/checkpoint` and `/tile/...` alone (proofs from the
//! tiles, entries from their bundles, the agencies' keys from the log's
//! registry entries); what needs a Gazette route says which; without
//! `--tiles-only`, a proof route missing is a failure.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::process::StaticServer;
use gazette_tests::{WitnessedLog, add_batch, checkpoint_size, get_json, receipt, run_status};

fn agency() -> Signer {
    Signer::from_seed("static-agency.example.gov", KeyType::Ed25519, [7; 32]).unwrap()
}

fn record(n: u64) -> Vec<u8> {
    let mut digest = [0x77; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    Record::new(
        agency().name(),
        "permit",
        &format!("S-{n}"),
        digest,
        "2026-12-05T00:00:00Z",
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Copies `from` into `to`, directories and all.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        match entry.file_type().unwrap().is_dir() {
            true => copy_tree(&entry.path(), &target),
            false => {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
}

/// What a static mirror of the log publishes: its tiles and its published
/// (cosigned) checkpoint, nothing else.
async fn mirror(log: &WitnessedLog, into: &Path) {
    copy_tree(&log.log_dir.join("tile"), &into.join("tile"));
    let checkpoint = reqwest::get(format!("{}/checkpoint", log.log.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(into.join("checkpoint"), checkpoint).unwrap();
}

/// Logs `range` in one batch; returns the records' indexes and the size
/// once the witnessed checkpoint covers it (the records and the index
/// commitment after them).
async fn log_batch(log: &WitnessedLog, range: std::ops::Range<u64>) -> (Vec<u64>, u64) {
    let indexes = add_batch(&log.log.url, range.map(record).collect()).await;
    let size = indexes.last().unwrap() + 2;
    let start = Instant::now();
    while checkpoint_size(&log.log.url).await < size {
        assert!(start.elapsed() < Duration::from_secs(60), "never witnessed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (indexes, size)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_commands_work_against_a_static_c2sp_log_with_tiles_only() {
    let log = WitnessedLog::start("static.example/log", &agency().verifier(), 1, 1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let public: PathBuf = w.join("public");
    // The records follow the agency's registration (`records_from`).
    let (records, first) = log_batch(&log, 0..300).await;
    assert_eq!(records[0], log.records_from);
    let last = records[299];
    mirror(&log, &public).await;
    let server = StaticServer::start(&public);
    let info = get_json(&format!("{}/info", log.log.url)).await;
    let policy = w.join("policy.txt");
    std::fs::write(&policy, info["policy"].as_str().unwrap()).unwrap();
    let (trusted, evidence, old_checkpoint) = (
        w.join("trusted"),
        w.join("evidence"),
        w.join("old.checkpoint"),
    );
    let gazette = |command: &str, extra: &[&str]| {
        let mut args = vec![
            command,
            "--log",
            &server.url,
            "--policy",
            p(&policy),
            "--state",
            p(&trusted),
            "--evidence",
            p(&evidence),
        ];
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    };

    let (code, out, err) = gazette("checkpoint", &["--tiles-only", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("\"size\":{first}")), "{out}");
    std::fs::copy(&trusted, &old_checkpoint).unwrap();
    let receipt_file = w.join("r3.tlog-proof");
    std::fs::write(&receipt_file, receipt(&log.log.url, records[3]).await).unwrap();
    // Entries in a full bundle and in the partial one at the right edge.
    assert!(last > 255);
    for index in [records[3], 255, last] {
        let (code, _, err) = gazette(
            "inclusion",
            &["--index", &index.to_string(), "--tiles-only"],
        );
        assert_eq!(code, 0, "{index}: {err}");
    }
    // An index beyond the trusted tree is the caller's mistake (2), said
    // precisely, not a failed proof.
    let (code, _, err) = gazette(
        "inclusion",
        &["--index", &first.to_string(), "--tiles-only"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "--index {first} is beyond the trusted tree of size {first}"
        )),
        "{err}"
    );

    // The log grows; the mirror follows; the trusted checkpoint advances by
    // a consistency proof computed from the tiles.
    let (_, second) = log_batch(&log, 300..700).await;
    mirror(&log, &public).await;
    let (code, out, err) = gazette("checkpoint", &["--tiles-only", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("\"size\":{second}")), "{out}");
    // A mirror still publishing the older checkpoint, whose partial tiles
    // it removed once the full tiles superseded them (c2sp.org/tlog-tiles
    // lets it): an entry at the older size is proven from the partial
    // tiles cut from the full ones, which the CLI falls back to.
    let stale = w.join("stale");
    copy_tree(&public.join("tile"), &stale.join("tile"));
    for superseded in ["tile/0/001.p", "tile/entries/001.p"] {
        std::fs::remove_dir_all(stale.join(superseded)).unwrap();
    }
    std::fs::copy(&old_checkpoint, stale.join("checkpoint")).unwrap();
    let stale_server = StaticServer::start(&stale);
    let (code, out, err) = run_status(
        "gazette",
        &[
            "inclusion",
            "--index",
            &last.to_string(),
            "--tiles-only",
            "--json",
            "--log",
            &stale_server.url,
            "--policy",
            p(&policy),
            "--state",
            p(&w.join("stale-trusted")),
            "--evidence",
            p(&evidence),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("\"size\":{first}")), "{out}");
    let old = p(&old_checkpoint);
    let (code, out, err) = gazette("consistency", &["--from", old, "--tiles-only", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("\"old\":{first}")), "{out}");
    // A receipt from before: its tree is proven a prefix of the log's from
    // the tiles; its status cannot be proven without the log's index.
    let (code, _, err) = run_status(
        "gazette",
        &[
            "verify",
            p(&receipt_file),
            "--policy",
            p(&policy),
            "--online",
            "--tiles-only",
            "--log",
            &server.url,
            "--state",
            p(&trusted),
        ],
    );
    assert_eq!(code, 15, "{err}");
    assert!(
        err.contains(&format!("is proven a prefix of the log's (size {second})")),
        "{err}"
    );
    let vkey = agency().verifier().to_string();
    let progress = w.join("monitor.json");
    let (code, out, err) = gazette(
        "monitor",
        &[
            "--once",
            "--tiles-only",
            "--agency",
            &vkey,
            "--progress",
            p(&progress),
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // Without --agency too: the agencies' keys come from the log's own
    // registry entries, in the tiles.
    let (code, out, err) = gazette(
        "monitor",
        &[
            "--once",
            "--tiles-only",
            "--progress",
            p(&w.join("m2.json")),
            "--json",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["scanned"], second, "{report}");
    assert_eq!(
        report["issuers"][agency().name()]["records"],
        700,
        "{report}"
    );

    // What needs a Gazette route says which.
    let one = w.join("one.record");
    std::fs::write(&one, record(1)).unwrap();
    let record_file = p(&one);
    for (command, extra, route) in [
        ("inclusion", vec!["--record", record_file], "/lookup"),
        (
            "lookup",
            vec![
                "--issuer",
                agency().name(),
                "--kind",
                "permit",
                "--id",
                "S-1",
                "--agency",
                &vkey,
            ],
            "/index/lookup",
        ),
    ] {
        let mut args = extra.clone();
        args.push("--tiles-only");
        let (code, _, err) = gazette(command, &args);
        assert_eq!(code, 2, "{command}: {err}");
        assert!(err.contains(route), "{command}: {err}");
    }
    // Without --tiles-only, the static log lacks the proof route.
    std::fs::copy(&old_checkpoint, &trusted).unwrap();
    let (code, _, err) = gazette("checkpoint", &[]);
    assert_ne!(code, 0);
    assert!(err.contains("/proof/consistency"), "{err}");
}
