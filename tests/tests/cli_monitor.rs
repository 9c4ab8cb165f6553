//! `gazette monitor` against a real log: it reads every entry through the
//! tiles, checks each bundle against the tree and each record's signature
//! against the agency keys in `/info`, reports per issuer, goes on from
//! where it stopped, and exits 12 when it finds records by a key the log
//! no longer lists.

use std::path::Path;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, add_batch, get_json, run_status};

fn agency(name: &str, seed: u8) -> Signer {
    Signer::from_seed(name, KeyType::Ed25519, [seed; 32]).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_reports_per_issuer_resumes_and_flags_unknown_keys() {
    let (land, tax) = (agency("land.example.gov", 1), agency("tax.example.gov", 2));
    let setup = WitnessedLog::start("monitor.example/log", &land.verifier(), 0, 0);
    let url = setup.log.url.clone();
    let records = |a: &Signer, kind: &str, range: std::ops::Range<u64>| -> Vec<Vec<u8>> {
        range
            .map(|n| {
                let mut digest = [0x77; 32];
                digest[..8].copy_from_slice(&n.to_be_bytes());
                Record::new(
                    a.name(),
                    kind,
                    &format!("{kind}-{n}"),
                    digest,
                    "2026-11-24T10:00:00Z",
                )
                .sign(a)
                .unwrap()
                .bytes
            })
            .collect()
    };
    add_batch(&url, records(&land, "deed", 0..300)).await;
    let revocations: Vec<Vec<u8>> = (0..2u64)
        .map(|n| {
            Record::revocation(
                land.name(),
                &format!("REV-{n}"),
                [n as u8; 32],
                "2026-11-25T00:00:00Z",
                "deed",
                &format!("deed-{n}"),
            )
            .sign(&land)
            .unwrap()
            .bytes
        })
        .collect();
    add_batch(&url, revocations).await;

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let info = get_json(&format!("{url}/info")).await;
    std::fs::write(w.join("policy.txt"), info["policy"].as_str().unwrap()).unwrap();
    let (policy, state, progress) = (
        w.join("policy.txt"),
        w.join("trusted"),
        w.join("monitor.json"),
    );
    let monitor = |progress: &Path| {
        run_status(
            "gazette",
            &[
                "monitor",
                "--log",
                &url,
                "--policy",
                p(&policy),
                "--state",
                p(&state),
                "--progress",
                p(progress),
                "--once",
                "--json",
            ],
        )
    };

    let (code, out, err) = monitor(&progress);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["scanned"], 302);
    assert_eq!(report["issuers"]["land.example.gov"]["records"], 302);
    assert_eq!(report["issuers"]["land.example.gov"]["revocations"], 2);

    // A second agency is registered and adds records; the monitor goes on
    // from entry 302.
    gazette_tests::run(
        "gazette-log",
        &[
            "agency",
            "add",
            &tax.verifier().to_string(),
            "--dir",
            p(&setup.log_dir),
        ],
    );
    add_batch(&url, records(&tax, "invoice", 0..3)).await;
    let (code, out, err) = monitor(&progress);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["scanned"], 305);
    assert_eq!(report["issuers"]["tax.example.gov"]["records"], 3);

    // The log stops listing that agency: a fresh monitor flags its records.
    let agencies = setup.log_dir.join("agencies.txt");
    let kept: String = std::fs::read_to_string(&agencies)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("tax.example.gov+"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&agencies, kept).unwrap();
    let (code, out, err) = monitor(&w.join("fresh.json"));
    assert_eq!(code, 12, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["unknown_key"], serde_json::json!([302, 303, 304]));
}
