//! The page and the agency registry, end to end: a real log on loopback,
//! its agency keys changed with `gazette-log agency add|retire|compromised
//! --url` (and `gazette agency-request` for the agency's own signature),
//! and the page in headless Chromium proving each agency's key history
//! from the log's registry entries (`/index/lookup?agency=`) before every
//! verdict, never taking keys from `/info`.
//!
//! - A page pinning the agency's own key does not call a record verified
//!   when it is signed with a key the log's operator registered on its own
//!   after declaring the agency's key compromised: invalid, naming the
//!   registration's entry and time, by document and by receipt, with the
//!   log up and with it down.
//! - A compromise cut-off at entry N: the record before N verified, the one
//!   from N on invalid ("declared compromised"), by document and receipt.
//! - Without pinned keys, a rotated agency's old and new records both
//!   verified, each showing when its key was registered, and by whom.

use std::path::{Path, PathBuf};

use gazette_client::note::{KeyType, Signer, Verifier};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::process::StaticServer;
use gazette_tests::{
    WitnessedLog, add_with_receipt_at, checkpoint_size, document_digest, get_json, line_value, run,
    wait_for_lookups,
};

const ISSUER: &str = "land-registry.example.gov";

fn key(seed: u8) -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [seed; 32]).unwrap()
}

fn label(key: &Verifier) -> String {
    format!("{}+{:08x}", key.name(), key.key_id())
}

/// Runs `gazette-log agency <args> --url <log> --dir <log dir>` against
/// the running log; returns the index the change was logged at.
fn agency(setup: &WitnessedLog, args: &[&str]) -> u64 {
    let dir = setup.log_dir.to_str().unwrap();
    let mut all = vec!["agency"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", &setup.log.url, "--dir", dir]);
    let out = run("gazette-log", &all);
    line_value(&out, "logged at index ")
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no index in {out}"))
}

/// Waits until the log publishes a checkpoint holding entry `index`, and
/// its lookups cover it.
async fn wait_for_entry(log: &str, index: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while checkpoint_size(log).await <= index {
        assert!(
            std::time::Instant::now() < deadline,
            "entry {index} never published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    wait_for_lookups(log).await;
}

/// The `time` of the registration of `vkey`, as the log's registry entry
/// (proven on the page) says it.
async fn registered_time(log: &str, vkey: &str) -> String {
    let answer = get_json(&format!("{log}/index/lookup?agency={ISSUER}")).await;
    let entries = answer["entries"].as_array().expect("entries");
    let entry = entries
        .iter()
        .filter_map(|e| e["entry"].as_str())
        .find(|text| text.contains(&format!("\nregister {vkey}\n")))
        .unwrap_or_else(|| panic!("no registration of {vkey} in {answer}"));
    line_value(entry, "time ")
}

/// A record of `document`, signed with `with`, logged; its index and receipt.
async fn log_record(log: &str, with: &Signer, id: &str, document: &[u8]) -> (u64, String) {
    let record = Record::new(
        ISSUER,
        "property-registration",
        id,
        document_digest(document),
        "2026-11-24T09:00:00Z",
    );
    add_with_receipt_at(log, record.sign(with).unwrap().bytes).await
}

struct Files(tempfile::TempDir);

impl Files {
    fn new() -> Files {
        Files(tempfile::tempdir().unwrap())
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// Opens `page`, gives it `file` in the input `input`, and returns the
/// verdict and its reason.
async fn check(browser: &Browser, page: &str, input: &str, file: &Path) -> (String, String) {
    browser.open(&format!("{page}/")).await;
    browser.choose_file(input, file).await;
    let verdict = browser.verdict().await;
    (verdict, browser.text("#verdict-reason").await)
}

/// The expert view's text.
async fn details(browser: &Browser) -> String {
    browser.click("#details summary").await;
    browser.text("#details").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_operator_registered_alone_is_not_verified_on_a_page_pinning_the_agencys_own() {
    let own = key(61);
    let rogue = key(62);
    let mut setup = WitnessedLog::start("pinned-registry.example/log", &own.verifier(), 0, 0);
    let log = setup.log.url.clone();
    let files = Files::new();
    let deed = b"Property registration: parcel 3-1, Lake District\n";
    let forged = b"Property registration: parcel 3-1, Lake District, to someone else\n";
    let (_, deed_receipt) = log_record(&log, &own, "D-31", deed).await;
    // The operator declares the agency's key compromised and registers a
    // key of its own under the agency's name, then logs a record with it.
    let own_vkey = own.verifier().to_string();
    let rogue_vkey = rogue.verifier().to_string();
    agency(&setup, &["compromised", &own_vkey]);
    let rogue_at = agency(&setup, &["add", &rogue_vkey]);
    let (forged_at, forged_receipt) = log_record(&log, &rogue, "D-31b", forged).await;
    assert!(forged_at > rogue_at);
    wait_for_lookups(&log).await;
    let rogue_time = registered_time(&log, &rogue_vkey).await;

    // A copy of the page hosted elsewhere, pinning the agency's own key.
    let policy = reqwest::get(format!("{log}/policy"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let site = files.0.path().join("site");
    run(
        "gazette",
        &[
            "page",
            "build",
            "--policy",
            files.write("policy", policy.as_bytes()).to_str().unwrap(),
            "--log",
            &log,
            "--agencies",
            files
                .write("agencies", format!("{own_vkey}\n").as_bytes())
                .to_str()
                .unwrap(),
            "--no-witnesses",
            "--out",
            site.to_str().unwrap(),
        ],
    );
    let hosted = StaticServer::start(&site);
    let browser = Browser::start().await;
    let deed_file = files.write("deed.txt", deed);
    let forged_file = files.write("forged.txt", forged);
    let forged_receipt_file = files.write("forged.tlog-proof", forged_receipt.as_bytes());
    let deed_receipt_file = files.write("deed.tlog-proof", deed_receipt.as_bytes());

    // The forged record, by its document: not verified, and the page says
    // who registered its key, where and when.
    let (verdict, reason) = check(&browser, &hosted.url, "#document-input", &forged_file).await;
    assert_eq!(verdict, "invalid", "{reason}");
    assert!(
        reason.contains(&format!(
            "registered for {ISSUER} on its own, at entry {rogue_at} on "
        )),
        "{reason}"
    );
    assert!(
        reason.contains("not one of the keys this page trusts"),
        "{reason}"
    );
    assert!(reason.contains(&label(&rogue.verifier())), "{reason}");
    let expert = details(&browser).await;
    assert!(expert.contains(&rogue_vkey), "{expert}");
    assert!(
        expert.contains(&format!("registered at entry {rogue_at} ({rogue_time})")),
        "{expert}"
    );
    assert!(
        expert.contains("registered by the log operator alone"),
        "{expert}"
    );
    println!(
        "{}",
        browser.screenshot("page-registry-rogue").await.display()
    );
    browser.click("#lang-zh").await;
    let reason = browser.text("#verdict-reason").await;
    assert!(reason.contains("运营方单方面"), "{reason}");
    assert!(
        reason.contains(&format!("第 {rogue_at} 号条目")),
        "{reason}"
    );
    browser.click("#lang-en").await;

    // By its receipt, the same.
    let (verdict, reason) = check(
        &browser,
        &hosted.url,
        "#receipt-input",
        &forged_receipt_file,
    )
    .await;
    assert_eq!(verdict, "invalid", "{reason}");
    assert!(
        reason.contains(&format!("at entry {rogue_at} on ")),
        "{reason}"
    );

    // The agency's own record, logged before the compromise: verified, under
    // a key this page trusts.
    let (verdict, reason) = check(&browser, &hosted.url, "#document-input", &deed_file).await;
    assert_eq!(verdict, "verified", "{reason}");
    let key = browser.text("#v-key").await;
    assert!(key.contains("one of the keys this page trusts"), "{key}");
    assert!(key.contains("Declared compromised"), "{key}");

    // The log gone: receipts are still checked with the page's pinned key
    // and the history this browser proved.
    setup.log.stop();
    let (verdict, reason) = check(
        &browser,
        &hosted.url,
        "#receipt-input",
        &forged_receipt_file,
    )
    .await;
    assert_eq!(verdict, "invalid", "{reason}");
    assert!(
        reason.contains(&format!("at entry {rogue_at} on ")),
        "{reason}"
    );
    let (verdict, reason) =
        check(&browser, &hosted.url, "#receipt-input", &deed_receipt_file).await;
    assert_eq!(verdict, "verified", "{reason}");
    let caveat = browser.text("#verdict-caveat").await;
    assert!(
        caveat.contains("could not check whether it was revoked"),
        "{caveat}"
    );
    browser.close().await;

    // A visitor who never proved the history, the log down: the pinned key
    // alone still refuses the operator's key.
    let fresh = Browser::start().await;
    let (verdict, reason) =
        check(&fresh, &hosted.url, "#receipt-input", &forged_receipt_file).await;
    assert_eq!(verdict, "invalid", "{reason}");
    let (verdict, reason) = check(&fresh, &hosted.url, "#receipt-input", &deed_receipt_file).await;
    assert_eq!(verdict, "verified", "{reason}");
    assert!(
        fresh
            .text("#v-key")
            .await
            .contains("One of the keys this page trusts"),
    );
    fresh.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compromise_cut_off_keeps_the_record_before_it_verified_and_the_one_after_invalid() {
    let own = key(63);
    let setup = WitnessedLog::start("cut-off.example/log", &own.verifier(), 0, 0);
    let log = setup.log.url.clone();
    let files = Files::new();
    let before = b"Property registration: parcel 5-1, before the leak\n";
    let after = b"Property registration: parcel 5-2, after the leak\n";
    let (before_at, _) = log_record(&log, &own, "D-51", before).await;
    let (after_at, after_receipt) = log_record(&log, &own, "D-52", after).await;
    let cut_at = agency(
        &setup,
        &[
            "compromised",
            &own.verifier().to_string(),
            "--from",
            &after_at.to_string(),
        ],
    );
    wait_for_entry(&log, cut_at).await;
    assert!(before_at < after_at);

    let browser = Browser::start().await;
    let (verdict, reason) = check(
        &browser,
        &log,
        "#document-input",
        &files.write("before.txt", before),
    )
    .await;
    assert_eq!(verdict, "verified", "{reason}");
    let key = browser.text("#v-key").await;
    assert!(
        key.contains("registered by the public register’s operator at entry"),
        "{key}"
    );
    assert!(
        key.contains("Declared compromised on")
            && key.contains(&format!("from entry {after_at} on")),
        "{key}"
    );

    let (verdict, reason) = check(
        &browser,
        &log,
        "#document-input",
        &files.write("after.txt", after),
    )
    .await;
    assert_eq!(verdict, "invalid", "{reason}");
    assert!(
        reason.contains(&format!(
            "This record (entry {after_at}) is not {ISSUER}’s: its key {} was declared compromised",
            label(&own.verifier())
        )),
        "{reason}"
    );
    assert!(reason.contains(&format!("(entry {cut_at})")), "{reason}");
    assert!(
        reason.contains(&format!(
            "Records logged before entry {after_at} remain valid"
        )),
        "{reason}"
    );
    println!(
        "{}",
        browser.screenshot("page-registry-cut-off").await.display()
    );
    browser.click("#lang-zh").await;
    let reason = browser.text("#verdict-reason").await;
    assert!(reason.contains("被宣布泄露"), "{reason}");
    browser.click("#lang-en").await;

    // Its receipt proves it was logged, not that it is the agency's.
    let (verdict, reason) = check(
        &browser,
        &log,
        "#receipt-input",
        &files.write("after.tlog-proof", after_receipt.as_bytes()),
    )
    .await;
    assert_eq!(verdict, "invalid", "{reason}");
    assert!(reason.contains("declared compromised"), "{reason}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_agencys_old_and_new_records_are_verified_with_when_each_key_was_registered() {
    let old = key(64);
    let new = key(65);
    let origin = "rotation.example/log";
    let setup = WitnessedLog::start(origin, &old.verifier(), 0, 0);
    let log = setup.log.url.clone();
    let files = Files::new();
    let old_deed = b"Property registration: parcel 8-1, under the first key\n";
    let new_deed = b"Property registration: parcel 8-2, under the second key\n";
    let (_, old_receipt) = log_record(&log, &old, "D-81", old_deed).await;

    // The agency asks for its new key with its current one; the operator
    // logs it; then the agency retires its old key with the new one.
    let old_key = files.write("old.key", old.to_skey().as_bytes());
    let new_key = files.write("new.key", new.to_skey().as_bytes());
    let request = |action: &str, vkey: &str, with: &Path, name: &str| {
        let out = files.0.path().join(name);
        run(
            "gazette",
            &[
                "agency-request",
                action,
                vkey,
                "--key",
                with.to_str().unwrap(),
                "--log",
                origin,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        out
    };
    let (old_vkey, new_vkey) = (old.verifier().to_string(), new.verifier().to_string());
    let rotate = request("register", &new_vkey, &old_key, "rotate.txt");
    let new_at = agency(&setup, &["add", "--request", rotate.to_str().unwrap()]);
    let retire = request("retire", &old_vkey, &new_key, "retire.txt");
    let retired_at = agency(&setup, &["retire", "--request", retire.to_str().unwrap()]);
    let (new_record_at, _) = log_record(&log, &new, "D-82", new_deed).await;
    assert!(new_record_at > retired_at);
    wait_for_lookups(&log).await;
    let old_time = registered_time(&log, &old_vkey).await;
    let new_time = registered_time(&log, &new_vkey).await;

    // No agencies file beside the log's own page: the keys come from the
    // proven history alone.
    let browser = Browser::start().await;
    let (verdict, reason) = check(
        &browser,
        &log,
        "#document-input",
        &files.write("old.txt", old_deed),
    )
    .await;
    assert_eq!(verdict, "verified", "{reason}");
    let key = browser.text("#v-key").await;
    assert!(
        key.starts_with(&format!(
            "{}, registered by the public register’s operator at entry 0 on ",
            label(&old.verifier())
        )),
        "{key}"
    );
    assert!(!key.contains("confirmed by"), "{key}");
    assert!(
        key.contains("Retired on") && key.contains(&format!("from entry {retired_at} on")),
        "{key}"
    );
    let expert = details(&browser).await;
    assert!(
        expert.contains(&format!("registered at entry 0 ({old_time})")),
        "{expert}"
    );
    assert!(
        expert.contains(&format!("registered at entry {new_at} ({new_time})")),
        "the agency's whole key history: {expert}"
    );

    let (verdict, reason) = check(
        &browser,
        &log,
        "#document-input",
        &files.write("new.txt", new_deed),
    )
    .await;
    assert_eq!(verdict, "verified", "{reason}");
    let key = browser.text("#v-key").await;
    assert!(
        key.starts_with(&format!(
            "{}, registered by the public register’s operator at entry {new_at} on ",
            label(&new.verifier())
        )),
        "{key}"
    );
    assert!(
        key.contains(&format!(
            "and confirmed by the agency’s key {}.",
            label(&old.verifier())
        )),
        "{key}"
    );
    println!(
        "{}",
        browser.screenshot("page-registry-rotated").await.display()
    );
    browser.click("#lang-zh").await;
    let key = browser.text("#v-key").await;
    assert!(
        key.contains(&format!("在第 {new_at} 号条目登记"))
            && key.contains(&format!("经该机构的密钥 {} 确认", label(&old.verifier()))),
        "{key}"
    );
    browser.click("#lang-en").await;

    // The old record's receipt, checked online: verified under the old key.
    let (verdict, reason) = check(
        &browser,
        &log,
        "#receipt-input",
        &files.write("old.tlog-proof", old_receipt.as_bytes()),
    )
    .await;
    assert_eq!(verdict, "verified", "{reason}");
    assert!(browser.text("#v-key").await.contains("at entry 0 on "));
    browser.close().await;
}
