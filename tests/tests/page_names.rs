//! Display names on the verification page, in a real browser against a real
//! log and witness.
//!
//! The log's operator names its agency and a kind of record of its own in
//! English and Chinese (`<data>/names.txt`, served at `/names`): the page
//! shows the agency's display name and the kind's name in each language,
//! keeps the key name (the identity) under "For experts", suggests the
//! agency by its display name while searching by its key name, and finds a
//! record asked for by those names. A copy built with `gazette page build
//! --names` and hosted elsewhere shows its own names, whatever the log's
//! `/names` says; a damaged names file beside a page is a notice in the
//! footer, and the page still checks, with key names. `page build --names`
//! refuses a malformed file with a usage error naming the file and line.

use std::path::Path;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::process::StaticServer;
use gazette_tests::{
    WitnessedLog, add_with_receipt_at, get_json, run, run_status, wait_for_lookups,
};
use sha2::{Digest, Sha256};

const ORIGIN: &str = "names.example/log";
const ISSUER: &str = "registry.example.gov";
const KIND: &str = "fishing-permit";

/// The log operator's names: the agency and a kind unknown to the page.
const LOG_NAMES: &str = "# the log's display names\n\
    agency registry.example.gov en Hill District Registry\n\
    agency registry.example.gov zh-CN 山区登记局\n\
    kind fishing-permit en Fishing permit\n\
    kind fishing-permit zh-CN 捕鱼许可证\n";

/// The hosted copy's names: the same agency, named otherwise.
const HOSTED_NAMES: &str = "agency registry.example.gov en Registry of the Hills (hosted copy)\n\
    agency registry.example.gov zh-CN 山地登记处（托管副本）\n\
    kind fishing-permit en Angling licence\n";

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [46; 32]).unwrap()
}

/// Opens `page`, checks `receipt` and returns the verdict.
async fn check_receipt(browser: &Browser, page: &str, receipt: &Path) -> String {
    browser.open(&format!("{page}/")).await;
    browser.choose_file("#receipt-input", receipt).await;
    browser.verdict().await
}

/// The "For experts" view's text (it need not be open).
async fn details(browser: &Browser) -> String {
    browser
        .eval("return document.getElementById('details').textContent")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_display_names_in_both_languages_with_key_names_for_experts() {
    let setup = WitnessedLog::start(ORIGIN, &agency().verifier(), 1, 1);
    let log = setup.log.url.clone();
    std::fs::write(setup.log_dir.join("names.txt"), LOG_NAMES).unwrap();
    let served = reqwest::get(format!("{log}/names")).await.unwrap();
    assert_eq!(served.text().await.unwrap(), LOG_NAMES);

    let files = tempfile::tempdir().unwrap();
    let permit = b"Fishing permit F-1: Li Wei, Lake Dian, 2026\n";
    let digest: [u8; 32] = Sha256::digest(permit).into();
    let record = Record::new(ISSUER, KIND, "F-1", digest, "2026-11-24T09:00:00Z");
    let (_, receipt) = add_with_receipt_at(&log, record.sign(&agency()).unwrap().bytes).await;
    wait_for_lookups(&log).await;
    let receipt_file = files.path().join("permit.tlog-proof");
    std::fs::write(&receipt_file, &receipt).unwrap();

    let browser = Browser::start().await;
    assert_eq!(
        check_receipt(&browser, &log, &receipt_file).await,
        "verified"
    );
    assert_eq!(browser.text("#v-issuer").await, "Hill District Registry");
    assert_eq!(browser.text("#v-kind").await, "Fishing permit");
    let reason = browser.text("#verdict-reason").await;
    assert!(reason.contains("Hill District Registry"), "{reason}");
    assert!(!reason.contains(ISSUER), "{reason}");
    // The key name is the identity: shown verbatim for experts.
    let expert = details(&browser).await;
    assert!(
        expert.contains(&format!("Agency (key name, as signed){ISSUER}")),
        "{expert}"
    );
    assert!(expert.contains(KIND), "{expert}");
    println!("{}", browser.screenshot("page-names-en").await.display());

    // The language switch re-renders the names.
    browser.click("#lang-zh").await;
    assert_eq!(browser.text("#v-issuer").await, "山区登记局");
    assert_eq!(browser.text("#v-kind").await, "捕鱼许可证");
    assert!(browser.text("#verdict-reason").await.contains("山区登记局"));
    assert!(details(&browser).await.contains(ISSUER));
    println!("{}", browser.screenshot("page-names-zh").await.display());

    // Search by number: the agency is suggested by its display name with
    // its key name as the value; a person typing the names finds the record.
    let suggestions = browser
        .eval(
            "return [...document.querySelectorAll('#agency-list option')]\
             .map((o) => `${o.value}=${o.label}`).join('|')",
        )
        .await;
    assert_eq!(suggestions, format!("{ISSUER}=山区登记局"));
    let kinds = browser
        .eval(
            "return [...document.querySelectorAll('#kind-list option')]\
             .map((o) => o.value).join('|')",
        )
        .await;
    assert!(kinds.contains("捕鱼许可证"), "{kinds}");
    browser.click("#find summary").await;
    browser.type_into("#find-issuer", "山区登记局").await;
    browser.type_into("#find-kind", "捕鱼许可证").await;
    browser.type_into("#find-id", "F-1").await;
    browser.click("#find-button").await;
    assert_eq!(browser.verdict().await, "verified");
    assert_eq!(browser.text("#v-issuer").await, "山区登记局");
    browser.click("#share-button").await;
    let link = browser
        .eval("return document.getElementById('share-link').value")
        .await;
    assert!(
        link.contains(&format!("issuer={ISSUER}&kind={KIND}&id=F-1")),
        "the search sends key names: {link}"
    );
    browser.click("#lang-en").await;

    // A copy hosted elsewhere, built with its own names: those are shown,
    // not the log's.
    let log_vkey = get_json(&format!("{log}/info")).await["vkey"]
        .as_str()
        .unwrap()
        .to_owned();
    let witnesses = std::fs::read_to_string(setup.log_dir.join("policy.txt")).unwrap();
    let policy = files.path().join("policy.txt");
    std::fs::write(&policy, format!("log {log_vkey}\n{witnesses}")).unwrap();
    let names = files.path().join("hosted-names.txt");
    std::fs::write(&names, HOSTED_NAMES).unwrap();
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
            "--names",
            names.to_str().unwrap(),
            "--out",
            site.to_str().unwrap(),
        ],
    );
    assert!(out.contains("display names: 3"), "{out}");
    assert_eq!(
        std::fs::read_to_string(site.join("names")).unwrap(),
        HOSTED_NAMES
    );
    let hosted = StaticServer::start(&site);
    assert_eq!(
        check_receipt(&browser, &hosted.url, &receipt_file).await,
        "verified"
    );
    assert_eq!(
        browser.text("#v-issuer").await,
        "Registry of the Hills (hosted copy)"
    );
    assert_eq!(browser.text("#v-kind").await, "Angling licence");
    // A name in one language only: the other language falls back to it.
    browser.click("#lang-zh").await;
    assert_eq!(browser.text("#v-issuer").await, "山地登记处（托管副本）");
    assert_eq!(browser.text("#v-kind").await, "Angling licence");
    browser.click("#lang-en").await;
    assert!(
        browser.text("#log-status").await.is_empty(),
        "no notice for a good names file"
    );

    // A damaged names file beside the page: a notice naming the line, and
    // the page still checks, with the key name.
    std::fs::write(
        site.join("names"),
        "agency registry.example.gov en Fine\nagency registry.example.gov fr Registre\n",
    )
    .unwrap();
    assert_eq!(
        check_receipt(&browser, &hosted.url, &receipt_file).await,
        "verified"
    );
    assert_eq!(browser.text("#v-issuer").await, ISSUER);
    assert_eq!(browser.text("#v-kind").await, KIND);
    let status = browser.text("#log-status").await;
    assert!(
        status.contains("could not be read") && status.contains("line 2"),
        "{status}"
    );
    let expert = details(&browser).await;
    assert!(expert.contains("Display names not used"), "{expert}");
    println!(
        "{}",
        browser.screenshot("page-names-damaged").await.display()
    );

    // No names file at all (404): key names, no notice.
    std::fs::remove_file(site.join("names")).unwrap();
    assert_eq!(
        check_receipt(&browser, &hosted.url, &receipt_file).await,
        "verified"
    );
    assert_eq!(browser.text("#v-issuer").await, ISSUER);
    assert!(browser.text("#log-status").await.is_empty());
    browser.close().await;
}

#[test]
fn page_build_refuses_a_malformed_names_file_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = Signer::from_seed(ORIGIN, KeyType::Ed25519, [47; 32]).unwrap();
    let policy = dir.path().join("policy.txt");
    std::fs::write(&policy, format!("log {}\nquorum none\n", log.verifier())).unwrap();
    let names = dir.path().join("names.txt");
    std::fs::write(
        &names,
        "# names\nagency registry.example.gov en Registry\nkind Fishing_Permit en Permit\n",
    )
    .unwrap();
    let out = dir.path().join("site");
    let (code, stdout, stderr) = run_status(
        "gazette",
        &[
            "page",
            "build",
            "--policy",
            policy.to_str().unwrap(),
            "--log",
            "http://127.0.0.1:9",
            "--no-witnesses",
            "--names",
            names.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "usage error expected: {stdout}{stderr}");
    assert!(
        stderr.contains(names.to_str().unwrap()) && stderr.contains("line 3"),
        "{stderr}"
    );
    assert!(stderr.contains("not a kind token"), "{stderr}");
    assert!(!out.exists(), "nothing written for a refused names file");
}
