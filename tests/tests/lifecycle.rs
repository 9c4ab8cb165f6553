//! One record's whole life through every client, with real processes: an
//! agency makes a key (`gazette keygen`), signs a record of a document
//! (`gazette record`) and uploads it (`gazette submit --receipts`) to a log
//! with three witnesses (2-of-3); the witnessed receipt verifies offline
//! (`gazette verify`), the monitor sees the record and its issuer
//! (`gazette monitor`), and the page verifies the document in headless
//! Chromium. Then the agency revokes it, and all three clients say so.

use std::path::Path;

use gazette_client::note::Verifier;
use gazette_tests::browser::Browser;
use gazette_tests::{WitnessedLog, get_json, run, run_status, wait_for_lookups};

const ORIGIN: &str = "lifecycle.example/log";
const AGENCY: &str = "lands.example.gov";

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `gazette monitor --once` from its kept state; its report.
fn monitor(dir: &Path, log: &str, policy: &Path) -> String {
    let (code, out, err) = run_status(
        "gazette",
        &[
            "monitor",
            "--once",
            "--log",
            log,
            "--policy",
            s(policy),
            "--state",
            s(&dir.join("monitor.checkpoint")),
            "--progress",
            s(&dir.join("monitor.json")),
            "--evidence",
            s(&dir.join("monitor-evidence.txt")),
        ],
    );
    assert_eq!(code, 0, "monitor: {out}{err}");
    out
}

/// The page's verdict on `document`.
async fn page_verdict(browser: &Browser, log: &str, document: &Path) -> String {
    browser.open(&format!("{log}/")).await;
    browser.choose_file("#document-input", document).await;
    browser.verdict().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_is_verified_by_every_client_and_then_seen_revoked_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(
        "gazette",
        &["keygen", "--name", AGENCY, "--out", s(&d.join("lands"))],
    );
    let vkey = std::fs::read_to_string(d.join("lands.pub"))
        .unwrap()
        .trim()
        .to_owned();
    let setup = WitnessedLog::start(ORIGIN, &Verifier::parse(&vkey).unwrap(), 3, 2);
    let log = setup.log.url.clone();
    let info = get_json(&format!("{log}/info")).await;
    let policy = d.join("policy.txt");
    std::fs::write(&policy, info["policy"].as_str().unwrap()).unwrap();

    // Sign a record of the document and upload it, with its receipt.
    let deed = d.join("deed.txt");
    std::fs::write(&deed, "Property registration: parcel 7-3, North Ward\n").unwrap();
    let key = d.join("lands.key");
    std::fs::create_dir(d.join("records")).unwrap();
    run(
        "gazette",
        &[
            "record",
            "--key",
            s(&key),
            "--kind",
            "property-registration",
            "--id",
            "P-1",
            "--out",
            s(&d.join("records/deed.note")),
            s(&deed),
        ],
    );
    let submit = |records: &str, resume: &str| {
        run(
            "gazette",
            &[
                "submit",
                "--quiet",
                "--log",
                &log,
                "--resume",
                s(&d.join(resume)),
                "--receipts",
                s(&d.join("receipts")),
                s(&d.join(records)),
            ],
        )
    };
    submit("records", "first.resume");
    wait_for_lookups(&log).await;
    let receipt = d.join(format!(
        "receipts/{AGENCY}_property-registration_P-1.tlog-proof"
    ));
    assert!(receipt.exists(), "no receipt at {}", receipt.display());

    // Offline: the receipt, the agency's signature and the document.
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--policy",
            s(&policy),
            "--agency",
            &vkey,
            "--document",
            s(&deed),
        ];
        args.extend_from_slice(extra);
        args.push(s(&receipt));
        run_status("gazette", &args)
    };
    let (code, out, err) = verify(&[]);
    assert_eq!(code, 0, "{out}{err}");

    // The monitor sees the record and its issuer.
    let report = monitor(d, &log, &policy);
    assert!(
        report.contains(&format!("{AGENCY}: 1 record, 0 revocations")),
        "{report}"
    );

    // The page verifies the document, in the browser.
    let browser = Browser::start().await;
    assert_eq!(page_verdict(&browser, &log, &deed).await, "verified");
    assert!(browser.text("#v-issuer").await.contains(AGENCY));

    // The agency revokes it.
    std::fs::create_dir(d.join("revocations")).unwrap();
    run(
        "gazette",
        &[
            "record",
            "--key",
            s(&key),
            "--id",
            "REV-1",
            "--revokes",
            "property-registration",
            "P-1",
            "--out",
            s(&d.join("revocations/revocation.note")),
            s(&deed),
        ],
    );
    submit("revocations", "second.resume");
    wait_for_lookups(&log).await;

    // Seen by the command line (online check, exit 14), the monitor and
    // the page.
    let state = d.join("verify.checkpoint");
    let (code, out, err) = verify(&["--online", "--log", &log, "--state", s(&state)]);
    assert_eq!(code, 14, "{out}{err}");
    assert!(err.contains("revoked"), "{err}");
    let report = monitor(d, &log, &policy);
    assert!(
        report.contains(&format!("{AGENCY}: 2 records, 1 revocation")),
        "{report}"
    );
    assert_eq!(page_verdict(&browser, &log, &deed).await, "revoked");
    println!(
        "{}",
        browser.screenshot("lifecycle-revoked").await.display()
    );
    browser.close().await;
}
