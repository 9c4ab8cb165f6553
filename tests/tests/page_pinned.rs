//! The page hosted by someone other than the log keeps its own trust root.
//!
//! `gazette page build` writes the page with the policy it was given (the
//! log's key and its witnesses) into a folder, which a plain static file
//! server (python's http.server) serves on one port while the log runs on
//! another. Then the log's operator takes the log over: the same log key,
//! another history (a fork), cosigned by a witness of its own, and `/info`
//! announcing that witness. The hosted page never says "verified" again: a
//! document gets "invalid" (the log shows a state the page's witnesses did
//! not sign), a receipt "could not check", both with the evidence; the log's
//! own copy of the page, which trusts what the log serves, is fooled.

use std::path::Path;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::process::StaticServer;
use gazette_tests::{
    Server, WitnessedLog, add_with_receipt_at, binary, get_json, line_value, run, wait_for_lookups,
};
use sha2::{Digest, Sha256};

const ORIGIN: &str = "pinned.example/log";
const ISSUER: &str = "registry.example.gov";

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [44; 32]).unwrap()
}

async fn check(browser: &Browser, page: &str, input: &str, file: &Path) -> (String, String) {
    browser.open(&format!("{page}/")).await;
    browser.choose_file(input, file).await;
    let verdict = browser.verdict().await;
    (verdict, browser.text("#verdict-reason").await)
}

/// Starts, in `dir`, the operator's fork of the log: the log's own key,
/// other records, and a witness of the operator's own as the only one its
/// policy (and so its `/info`) names. Returns the log and the witness.
fn start_fork(log_dir: &Path, log_vkey: &str, listen: &str, dir: &Path) -> (Server, Server) {
    // The log's key before anything is logged: the fork's first entry, the
    // agency's registration, is signed with it too.
    let fork = dir.join("fork");
    let f = fork.to_str().unwrap();
    run("gazette-log", &["init", "--origin", ORIGIN, "--dir", f]);
    std::fs::copy(log_dir.join("log.key"), fork.join("log.key")).unwrap();
    run(
        "gazette-log",
        &[
            "agency",
            "add",
            &agency().verifier().to_string(),
            "--dir",
            f,
        ],
    );
    let wdir = dir.join("rogue-witness");
    let w = wdir.to_str().unwrap();
    let out = run(
        "gazette-witness",
        &["init", "--name", "rogue.example.org", "--dir", w],
    );
    let vkey = line_value(&out, "witness verifier key:");
    run(
        "gazette-witness",
        &[
            "add-log", "--origin", ORIGIN, "--vkey", log_vkey, "--dir", w,
        ],
    );
    let witness = Server::start(&binary("gazette-witness"), &wdir, "127.0.0.1:0");
    std::fs::write(
        fork.join("policy.txt"),
        format!("witness r1 {vkey} {}\nquorum r1\n", witness.url),
    )
    .unwrap();
    let config_path = fork.join("gazette-log.toml");
    let config = std::fs::read_to_string(&config_path).unwrap().replace(
        "# witness_policy_file = \"policy.txt\"",
        "witness_policy_file = \"policy.txt\"",
    );
    std::fs::write(&config_path, config).unwrap();
    let log = Server::start(&binary("gazette-log"), &fork, listen);
    (log, witness)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosted_page_keeps_its_witnesses_when_the_log_switches_to_its_own_and_forks() {
    let mut setup = WitnessedLog::start(ORIGIN, &agency().verifier(), 3, 2);
    let log = setup.log.url.clone();
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let deed = b"Property registration: parcel 12-4, Hill District\n";
    let digest: [u8; 32] = Sha256::digest(deed).into();
    let record = Record::new(
        ISSUER,
        "property-registration",
        "D-12",
        digest,
        "2026-11-24T09:00:00Z",
    );
    let (_, receipt) = add_with_receipt_at(&log, record.sign(&agency()).unwrap().bytes).await;
    wait_for_lookups(&log).await;
    let deed_file = write("deed.txt", deed);
    let receipt_file = write("deed.tlog-proof", receipt.as_bytes());

    // The page's trust root: the log's key and its witness policy, as the
    // publisher learned them (here from the log's own files).
    let log_vkey = get_json(&format!("{log}/info")).await["vkey"]
        .as_str()
        .unwrap()
        .to_owned();
    let witnesses = std::fs::read_to_string(setup.log_dir.join("policy.txt")).unwrap();
    let policy = write(
        "trusted.policy",
        format!("log {log_vkey}\n{witnesses}").as_bytes(),
    );
    let site = files.path().join("site");
    let out = run(
        "gazette",
        &[
            "page",
            "build",
            "--policy",
            policy.to_str().unwrap(),
            "--log",
            &log,
            "--out",
            site.to_str().unwrap(),
        ],
    );
    assert!(out.contains("witnesses trusted: 3"), "{out}");
    let written = std::fs::read_to_string(site.join("policy")).unwrap();
    assert!(
        written.contains(&format!("log {log_vkey} {log}\n")),
        "{written}"
    );
    let hosted = StaticServer::start(&site);
    assert_ne!(hosted.url, log);

    let browser = Browser::start().await;
    let (verdict, reason) = check(&browser, &hosted.url, "#document-input", &deed_file).await;
    assert_eq!(verdict, "verified", "{reason}");
    println!(
        "{}",
        browser.screenshot("page-pinned-before").await.display()
    );

    // The takeover: the same key and address, another history, its own
    // witness, announced at /info.
    let listen = setup.log.addr();
    setup.log.stop();
    let (fork, _rogue_witness) = start_fork(&setup.log_dir, &log_vkey, &listen, files.path());
    assert_eq!(fork.url, log);
    for i in 0..3u8 {
        let id = format!("N-{i}");
        let other = Record::new(ISSUER, "notice", &id, [i; 32], "2026-11-25T09:00:00Z");
        add_with_receipt_at(&log, other.sign(&agency()).unwrap().bytes).await;
    }
    let announced = get_json(&format!("{log}/info")).await["policy"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(announced.contains("witness r1 "), "{announced}");

    // The same visitor: the document is not "verified" any more.
    let (verdict, reason) = check(&browser, &hosted.url, "#document-input", &deed_file).await;
    assert_eq!(verdict, "invalid", "{reason}");
    assert!(reason.contains("different history"), "{reason}");
    let status = browser.text("#log-status").await;
    assert!(status.contains("announces witnesses other"), "{status}");
    browser.click("#details summary").await;
    let details = browser.text("#details").await;
    assert!(
        details.contains("witness r1 "),
        "the announcement kept as evidence: {details}"
    );
    println!("{}", browser.screenshot("page-pinned-fork").await.display());

    // A receipt from before: genuine, but its record cannot be called current.
    let (verdict, reason) = check(&browser, &hosted.url, "#receipt-input", &receipt_file).await;
    assert_eq!(verdict, "unavailable", "{reason}");
    assert!(reason.contains("did not sign"), "{reason}");

    // The log's own copy trusts what the log serves, and is fooled.
    let (verdict, reason) = check(&browser, &log, "#document-input", &deed_file).await;
    assert_eq!(verdict, "not-found", "{reason}");
    browser.close().await;

    // A visitor with nothing kept from before gets the same verdict.
    let fresh = Browser::start().await;
    let (verdict, reason) = check(&fresh, &hosted.url, "#document-input", &deed_file).await;
    assert_eq!(verdict, "invalid", "{reason}");
    fresh.close().await;
}
