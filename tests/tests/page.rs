//! The public verification page in a real browser: a log with three
//! witnesses (2-of-3) as real processes on loopback, records submitted, and
//! the page (served by the log at `/`) driven in headless Chromium through
//! WebDriver, the way a citizen uses it. A registered document shows
//! "verified" with its issuer and the witnesses that cosigned; a tampered
//! one "not found"; a revoked one "revoked", whether its revocation was
//! logged after it or before it; a receipt still verifies with the log
//! stopped. A screenshot of each verdict is kept in
//! `target/test-artifacts/`.

use std::path::Path;

use gazette_client::encoding::hex_encode;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::{WitnessedLog, add_with_receipt_at, document_digest, wait_for_lookups};

const ORIGIN: &str = "page.example/log";
const ISSUER: &str = "registry.example.gov";

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [42; 32]).unwrap()
}

/// Logs a record and returns its index and witnessed receipt.
async fn add(log: &str, record: Record) -> (u64, String) {
    add_with_receipt_at(log, record.sign(&agency()).unwrap().bytes).await
}

async fn check(browser: &Browser, log: &str, input: &str, file: &Path) -> String {
    browser.open(&format!("{log}/")).await;
    browser.choose_file(input, file).await;
    browser.verdict().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_gives_each_verdict_in_the_browser_and_verifies_receipts_offline() {
    let mut setup = WitnessedLog::start(ORIGIN, &agency().verifier(), 3, 2);
    let log = setup.log.url.clone();
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let certificate = b"Certificate of completion: Li Wei, Public Health course, 2026\n";
    let deed = b"Property registration: parcel 42-17, Harbour District\n";
    let notice = b"Notice: registration D-7 is cancelled\n";
    let old_deed = b"Property registration: parcel 42-18, Harbour District (misspelt)\n";
    let old_notice = b"Notice: registration D-8 is cancelled\n";
    let issued = "2026-11-24T09:00:00Z";
    let (_, receipt) = add(
        &log,
        Record::new(
            ISSUER,
            "e-certificate",
            "C-2026-1",
            document_digest(certificate),
            issued,
        ),
    )
    .await;
    add(
        &log,
        Record::new(
            ISSUER,
            "property-registration",
            "D-7",
            document_digest(deed),
            issued,
        ),
    )
    .await;
    let (r1, _) = add(
        &log,
        Record::revocation(
            ISSUER,
            "R-1",
            document_digest(notice),
            "2026-11-24T10:00:00Z",
            "property-registration",
            "D-7",
        ),
    )
    .await;
    // A revocation logged before the record it revokes (as the demo does):
    // the record is born revoked.
    let (r2, _) = add(
        &log,
        Record::revocation(
            ISSUER,
            "R-2",
            document_digest(old_notice),
            "2026-11-24T10:00:00Z",
            "property-registration",
            "D-8",
        ),
    )
    .await;
    let (_, old_deed_receipt) = add(
        &log,
        Record::new(
            ISSUER,
            "property-registration",
            "D-8",
            document_digest(old_deed),
            issued,
        ),
    )
    .await;
    wait_for_lookups(&log).await;
    let certificate_file = write("certificate.txt", certificate);
    let mut tampered = certificate.to_vec();
    tampered[30] ^= 0x20;
    let tampered_file = write("certificate-tampered.txt", &tampered);
    let deed_file = write("deed.txt", deed);
    let old_deed_file = write("old-deed.txt", old_deed);
    let old_deed_receipt_file = write("old-deed.tlog-proof", old_deed_receipt.as_bytes());
    let receipt_file = write("certificate.tlog-proof", receipt.as_bytes());

    let browser = Browser::start().await;

    // A registered document: verified, with its issuer and witnesses.
    let verdict = check(&browser, &log, "#document-input", &certificate_file).await;
    assert_eq!(verdict, "verified", "{}", browser.text("#verdict").await);
    assert!(browser.text("#v-issuer").await.contains(ISSUER));
    assert!(browser.text("#v-id").await.contains("C-2026-1"));
    assert_eq!(
        browser.text("#v-digest").await.trim(),
        format!("sha256:{}", hex_encode(&document_digest(certificate)))
    );
    let witnesses = browser.texts("#v-witnesses li").await;
    assert!(witnesses.len() >= 2, "{witnesses:?}");
    // Each a different witness of the policy, by its name there.
    let mut names: Vec<&str> = witnesses
        .iter()
        .map(|w| w.split(',').next().unwrap_or_default())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), witnesses.len(), "{witnesses:?}");
    assert!(
        names.iter().all(|n| ["w1", "w2", "w3"].contains(n)),
        "{witnesses:?}"
    );
    println!("{}", browser.screenshot("page-verified").await.display());

    // The same verdict in Simplified Chinese.
    browser.click("#lang-zh").await;
    assert!(browser.text("#verdict-title").await.contains("已验证"));
    println!("{}", browser.screenshot("page-verified-zh").await.display());
    browser.click("#lang-en").await;

    // One byte changed: not in the log.
    let verdict = check(&browser, &log, "#document-input", &tampered_file).await;
    assert_eq!(verdict, "not-found", "{}", browser.text("#verdict").await);
    println!("{}", browser.screenshot("page-not-found").await.display());

    // A registration its issuer revoked later.
    let verdict = check(&browser, &log, "#document-input", &deed_file).await;
    assert_eq!(verdict, "revoked", "{}", browser.text("#verdict").await);
    assert!(browser.text("#v-id").await.contains("D-7"));
    assert!(!browser.text("#v-revoked").await.trim().is_empty());
    let reason = browser.text("#verdict-reason").await;
    assert!(
        reason.contains(&format!(
            "{ISSUER} revoked this record (its revocation notice is entry {r1} of the public register)"
        )),
        "{reason}"
    );
    println!("{}", browser.screenshot("page-revoked").await.display());

    // A registration revoked by a revocation logged before it: revoked
    // too, by its document and by its receipt.
    let verdict = check(&browser, &log, "#document-input", &old_deed_file).await;
    assert_eq!(verdict, "revoked", "{}", browser.text("#verdict").await);
    assert!(browser.text("#v-id").await.contains("D-8"));
    let reason = browser.text("#verdict-reason").await;
    assert!(
        reason.contains(&format!(
            "{ISSUER} revoked this record (its revocation notice is entry {r2} of the public register)"
        )),
        "{reason}"
    );
    let verdict = check(&browser, &log, "#receipt-input", &old_deed_receipt_file).await;
    assert_eq!(verdict, "revoked", "{}", browser.text("#verdict").await);
    assert!(browser.text("#v-id").await.contains("D-8"));
    let revoked = browser.text("#v-revoked").await;
    assert!(
        revoked.contains(&format!("at entry {r2} of the public register")),
        "{revoked}"
    );
    println!(
        "{}",
        browser.screenshot("page-revoked-before").await.display()
    );
    browser.click("#lang-zh").await;
    let reason = browser.text("#verdict-reason").await;
    assert!(reason.contains("已撤销此记录"), "{reason}");
    browser.click("#lang-en").await;

    // Logged but not yet witnessed (two of the three witnesses down): not
    // provable yet, and the page says so rather than "invalid".
    setup.stop_witness(0);
    setup.stop_witness(1);
    let fresh = b"Invoice 2026-0042: logged while the witnesses are away\n";
    let record = Record::new(ISSUER, "e-invoice", "I-42", document_digest(fresh), issued);
    let reply = reqwest::Client::new()
        .post(format!("{log}/add"))
        .body(record.sign(&agency()).unwrap().bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    wait_for_lookups(&log).await;
    let verdict = check(
        &browser,
        &log,
        "#document-input",
        &write("invoice.txt", fresh),
    )
    .await;
    assert_eq!(verdict, "unavailable", "{}", browser.text("#verdict").await);
    let reason = browser.text("#verdict-reason").await;
    assert!(
        reason.contains("the independent witnesses have not confirmed it yet"),
        "{reason}"
    );
    println!(
        "{}",
        browser.screenshot("page-not-yet-witnessed").await.display()
    );

    // A receipt, with the log gone: verified from the receipt alone.
    browser.open(&format!("{log}/")).await;
    setup.log.stop();
    browser.choose_file("#receipt-input", &receipt_file).await;
    let verdict = browser.verdict().await;
    assert_eq!(verdict, "verified", "{}", browser.text("#verdict").await);
    assert!(browser.text("#v-id").await.contains("C-2026-1"));
    // What could not be checked is part of the headline.
    let caveat = browser.text("#verdict-caveat").await;
    assert!(
        caveat.contains("could not check whether it was revoked"),
        "{caveat}"
    );
    println!(
        "{}",
        browser.screenshot("page-receipt-offline").await.display()
    );

    browser.close().await;
}
