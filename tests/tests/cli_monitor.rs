//! `gazette monitor` against a real log: it reads every entry through the
//! tiles, checks each bundle against the tree and each record's signature
//! against the agency registry the log's own entries give, reports per
//! issuer, goes on from where it stopped, and exits 12 when it finds
//! records under a key the registry declared compromised from before them.
//! The registry's entries, and the verifiable index's commitment that ends
//! each batch, are read like any entry but counted as no record and flagged
//! as nothing.

use std::path::Path;

use gazette_client::index::commitment::IndexCommitment;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, add_batch, get_json, read_entries, run_status};

fn agency(name: &str, seed: u8) -> Signer {
    Signer::from_seed(name, KeyType::Ed25519, [seed; 32]).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_reports_per_issuer_resumes_and_flags_compromised_keys() {
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
    let deeds = add_batch(&url, records(&land, "deed", 0..300)).await;
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
    let revoked = add_batch(&url, revocations).await;
    // Each batch ends with the index's commitment, right after its records.
    let size = revoked[1] + 2;
    let entries = read_entries(&url, size).await;
    for commitment in [deeds[299] + 1, revoked[1] + 1] {
        let parsed = IndexCommitment::parse(&entries[commitment as usize]);
        assert_eq!(parsed.map(|c| c.size), Some(commitment));
    }

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
                "--no-witnesses",
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
    assert_eq!(report["scanned"], size, "{report}");
    assert_eq!(report["size"], size, "{report}");
    assert_eq!(report["issuers"]["land.example.gov"]["records"], 302);
    assert_eq!(report["issuers"]["land.example.gov"]["revocations"], 2);
    assert_eq!(report["not_a_record"], serde_json::json!([]), "{report}");

    // A second agency is registered (a registry entry the running log
    // logs, in a batch of its own) and adds records; the monitor goes on
    // from entry `size`.
    let registry_change = |args: &[&str]| -> u64 {
        let mut all = vec!["agency"];
        all.extend_from_slice(args);
        all.extend(["--dir", p(&setup.log_dir), "--url", &url]);
        let out = gazette_tests::run("gazette-log", &all);
        let at = gazette_tests::line_value(&out, "logged at index ");
        at.split(':').next().unwrap().parse().unwrap()
    };
    let tax_vkey = tax.verifier().to_string();
    let registered = registry_change(&["add", &tax_vkey]);
    assert_eq!(registered, size, "the registration follows the commitment");
    let invoices = add_batch(&url, records(&tax, "invoice", 0..3)).await;
    assert_eq!(
        invoices[0],
        registered + 2,
        "the next batch starts after the registration's commitment"
    );
    let (code, out, err) = monitor(&progress);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["scanned"], invoices[2] + 2, "{report}");
    assert_eq!(report["issuers"]["land.example.gov"]["records"], 302);
    assert_eq!(report["issuers"]["tax.example.gov"]["records"], 3);
    assert_eq!(report["not_a_record"], serde_json::json!([]), "{report}");

    // The log declares that agency's key compromised from its registration
    // on: a fresh monitor flags its records as outside the key's window.
    let from = registered.to_string();
    registry_change(&["compromised", &tax_vkey, "--from", &from]);
    let listed = get_json(&format!("{url}/info")).await;
    assert!(
        !listed["agencies"].to_string().contains(&tax_vkey),
        "{listed}"
    );
    let (code, out, err) = monitor(&w.join("fresh.json"));
    assert_eq!(code, 12, "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        report["outside_window"],
        serde_json::json!(invoices),
        "{report}"
    );
    assert_eq!(report["unknown_key"], serde_json::json!([]), "{report}");
    assert_eq!(report["not_a_record"], serde_json::json!([]), "{report}");
    assert_eq!(report["bad_registry"], serde_json::json!([]), "{report}");
}
