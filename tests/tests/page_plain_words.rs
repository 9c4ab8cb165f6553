//! The verification page as a new user meets it, in a real browser against a
//! real log with three witnesses: plain words (kinds by name, witnesses
//! counted in words, times with their UTC offset, the technical values only
//! under "For experts"); links that check at once (`?digest=`,
//! `#receipt=`, `?issuer=&kind=&id=`) and a precise message for a damaged
//! one; "Copy link to this check" giving a link that, opened, gives the same
//! verdict; search by agency, kind and number (found, revoked, proven not
//! found); a "not found" of its own look that explains the one-byte rule;
//! the verdict scrolled into view and focused on a 390 px phone; and a
//! receipt verified with the log gone headlined as not checked for
//! revocation. Screenshots in English and Chinese, at desktop and phone
//! width, are kept in `target/test-artifacts/page-plain-*.png`.

use gazette_client::encoding::hex_encode;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::{
    WitnessedLog, add_with_receipt_at, base64url, document_digest, wait_for_lookups,
};

const ORIGIN: &str = "plain.example/log";
const ISSUER: &str = "registry.example.gov";
const ISSUED: &str = "2026-11-24T09:00:00Z";

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [45; 32]).unwrap()
}

/// Opens `url` as a fresh visit and waits for the check it starts.
async fn open_link(browser: &Browser, log: &str, url: &str) -> String {
    // From the idle page, so a link that only changes the fragment (no
    // reload) cannot be mistaken for the verdict before it.
    browser.open(&format!("{log}/")).await;
    browser.client.goto(url).await.expect("open the link");
    browser.verdict().await
}

/// A property of the first element matching `css` (an input's value).
async fn prop(browser: &Browser, css: &str, name: &str) -> String {
    let element = browser
        .client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    element.prop(name).await.unwrap().unwrap_or_default()
}

/// Runs `script` in the page and returns its result as text.
async fn eval(browser: &Browser, script: &str) -> String {
    let value = browser.client.execute(script, vec![]).await.unwrap();
    value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string())
}

/// Switches to Chinese and back to the verdict (clicking the language
/// button scrolled the page up to it), for a screenshot.
async fn in_chinese(browser: &Browser) {
    browser.click("#lang-zh").await;
    eval(
        browser,
        "document.getElementById('verdict').scrollIntoView(); return ''",
    )
    .await;
}

/// Clicks "Copy link to this check" and returns the link it gives.
async fn copied_link(browser: &Browser) -> String {
    browser.click("#share-button").await;
    for _ in 0..100 {
        let link = prop(browser, "#share-link", "value").await;
        if !link.is_empty() {
            return link;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no link after Copy link: {}", browser.text("#share").await)
}

/// Types `text` into the input `css`, replacing what it held.
async fn type_into(browser: &Browser, css: &str, text: &str) {
    let input = browser
        .client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Searches by agency, kind (as a person would type it) and number.
async fn search(browser: &Browser, log: &str, kind: &str, id: &str) -> String {
    browser.open(&format!("{log}/")).await;
    if eval(browser, "return document.getElementById('find').open").await != "true" {
        browser.click("#find summary").await;
    }
    type_into(browser, "#find-issuer", ISSUER).await;
    type_into(browser, "#find-kind", kind).await;
    type_into(browser, "#find-id", id).await;
    browser.click("#find-button").await;
    browser.verdict().await
}

/// "24 November 2026, 09:00 (UTC+8)": local time, with its UTC offset.
fn has_timezone(text: &str, date: &str, open: &str, close: &str) -> bool {
    let Some(rest) = text.strip_prefix(date) else {
        return false;
    };
    let Some(zone) = rest
        .split_once(open)
        .and_then(|(_, z)| z.strip_suffix(close))
    else {
        return false;
    };
    let offset = zone.strip_prefix("UTC").unwrap_or("?");
    offset.is_empty()
        || (offset.starts_with(['+', '-'])
            && offset[1..].chars().all(|c| c.is_ascii_digit() || c == ':'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_speaks_plainly_opens_links_searches_by_number_and_headlines_its_caveats() {
    let mut setup = WitnessedLog::start(ORIGIN, &agency().verifier(), 3, 2);
    let log = setup.log.url.clone();
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let certificate = b"Certificate of completion: Wang Fang, First Aid course, 2026\n";
    let deed = b"Property registration: parcel 7-3, River District\n";
    let notice = b"Notice: registration D-3 is cancelled\n";
    let sign = |record: Record| record.sign(&agency()).unwrap().bytes;
    let (_, receipt) = add_with_receipt_at(
        &log,
        sign(Record::new(
            ISSUER,
            "e-certificate",
            "C-2026-7",
            document_digest(certificate),
            ISSUED,
        )),
    )
    .await;
    add_with_receipt_at(
        &log,
        sign(Record::new(
            ISSUER,
            "property-registration",
            "D-3",
            document_digest(deed),
            ISSUED,
        )),
    )
    .await;
    let (revocation, _) = add_with_receipt_at(
        &log,
        sign(Record::revocation(
            ISSUER,
            "R-3",
            document_digest(notice),
            "2026-11-24T10:00:00Z",
            "property-registration",
            "D-3",
        )),
    )
    .await;
    wait_for_lookups(&log).await;
    let certificate_file = write("certificate.txt", certificate);
    let mut resaved = certificate.to_vec();
    resaved.push(b'\n'); // one byte more: a re-saved copy
    let resaved_file = write("certificate-resaved.txt", &resaved);
    let receipt_file = write("certificate.tlog-proof", receipt.as_bytes());
    let fingerprint = format!("sha256:{}", hex_encode(&document_digest(certificate)));

    let browser = Browser::start().await;

    // A shareable fingerprint link verifies on opening, in plain words.
    let digest_link = format!("{log}/?digest={fingerprint}");
    let verdict = open_link(&browser, &log, &digest_link).await;
    assert_eq!(verdict, "verified", "{}", browser.text("#verdict").await);
    assert_eq!(browser.text("#v-kind").await, "Electronic certificate");
    let issued = browser.text("#v-issued").await;
    assert!(
        has_timezone(&issued, "24 November 2026, ", " (", ")"),
        "{issued}"
    );
    let witnesses = browser.text("#v-witness-count").await;
    assert!(
        (witnesses.starts_with("Two independent witnesses confirmed it (")
            || witnesses.starts_with("Three independent witnesses confirmed it ("))
            && witnesses.contains("w1")
            && witnesses.ends_with(')'),
        "{witnesses}"
    );
    let facts = browser.text(".facts").await;
    assert!(
        facts.contains("Entry number in the public register"),
        "{facts}"
    );
    assert!(facts.contains("Register size when checked"), "{facts}");
    for technical in ["Log entry", "Checkpoint", "e-certificate", "cosigned"] {
        assert!(!facts.contains(technical), "{technical:?} in {facts}");
    }
    // The technical values, verbatim, for experts.
    let details = eval(
        &browser,
        "return document.getElementById('details').textContent",
    )
    .await;
    for raw in [ISSUED, "e-certificate", "Checkpoint size", "Log entry"] {
        assert!(details.contains(raw), "{raw:?} not under For experts");
    }
    println!(
        "{}",
        browser.screenshot("page-plain-link-digest").await.display()
    );

    // The same in Chinese: the kind by its Chinese name, the time with its
    // offset, the witnesses counted.
    in_chinese(&browser).await;
    assert_eq!(browser.text("#v-kind").await, "电子证照");
    let issued = browser.text("#v-issued").await;
    assert!(
        has_timezone(&issued, "2026年11月24日 ", "（", "）"),
        "{issued}"
    );
    let witnesses = browser.text("#v-witness-count").await;
    assert!(witnesses.contains("个独立见证方已确认（"), "{witnesses}");
    println!(
        "{}",
        browser.screenshot("page-plain-verified-zh").await.display()
    );
    browser.click("#lang-en").await;

    // A document checked by hand offers a link with its fingerprint; the
    // link, opened, gives the same verdict.
    browser.open(&format!("{log}/")).await;
    browser
        .choose_file("#document-input", &certificate_file)
        .await;
    assert_eq!(browser.verdict().await, "verified");
    let link = copied_link(&browser).await;
    assert_eq!(link, digest_link);
    assert_eq!(open_link(&browser, &log, &link).await, "verified");

    // A receipt carried in the fragment verifies on opening (a fresh load).
    let receipt_link = format!("{log}/#receipt={}", base64url(receipt.as_bytes()));
    browser.client.goto("about:blank").await.unwrap();
    browser.client.goto(&receipt_link).await.unwrap();
    let verdict = browser.verdict().await;
    assert_eq!(verdict, "verified", "{}", browser.text("#verdict").await);
    assert!(browser.text("#v-id").await.contains("C-2026-7"));
    assert!(
        browser
            .text("#chosen")
            .await
            .contains("carried in the link")
    );
    // Its copied link carries the receipt in the fragment only, and opened
    // in the same tab (no reload: only the fragment changes) verifies.
    let link = copied_link(&browser).await;
    assert!(
        link.starts_with(&format!("{log}/#receipt=")) && !link.contains('?'),
        "{link}"
    );
    let status = browser.text("#share-status").await;
    assert!(status.contains("never send to any server"), "{status}");
    println!(
        "{}",
        browser
            .screenshot("page-plain-link-receipt")
            .await
            .display()
    );
    assert_eq!(open_link(&browser, &log, &link).await, "verified");
    assert!(browser.text("#v-id").await.contains("C-2026-7"));

    // A damaged link: a precise message, not a verdict on any record.
    let cut = &base64url(receipt.as_bytes())[..41];
    let damaged = [
        (format!("{cut}!{cut}"), "the character “!” at position 42"),
        (
            cut[..37].to_owned(),
            "37 characters cannot encode a whole receipt",
        ),
        ("A".repeat(90_000), "too large to be a receipt"),
        (base64url(b"hello, world"), "not a receipt"),
        (String::new(), "no receipt after it"),
    ];
    for (fragment, message) in damaged {
        let verdict = open_link(&browser, &log, &format!("{log}/#receipt={fragment}")).await;
        let reason = browser.text("#verdict-reason").await;
        assert_eq!(verdict, "unavailable", "{reason}");
        assert!(reason.contains(message), "{message:?} not in {reason}");
    }
    println!(
        "{}",
        browser
            .screenshot("page-plain-link-damaged")
            .await
            .display()
    );

    // Search by agency, kind (by its name, as printed) and number: found,
    // with a link that finds it again.
    let verdict = search(&browser, &log, "Electronic certificate", "C-2026-7").await;
    assert_eq!(verdict, "verified", "{}", browser.text("#verdict").await);
    assert_eq!(browser.text("#v-digest").await.trim(), fingerprint);
    let reason = browser.text("#verdict-reason").await;
    assert!(
        reason.contains("registered a record with this number"),
        "{reason}"
    );
    let link = copied_link(&browser).await;
    assert!(
        link.contains("?issuer=registry.example.gov&kind=e-certificate&id=C-2026-7"),
        "{link}"
    );
    assert_eq!(open_link(&browser, &log, &link).await, "verified");
    assert_eq!(
        prop(&browser, "#find-id", "value").await,
        "C-2026-7",
        "the form shows what the link asked"
    );
    // A revoked one, by its number.
    let verdict = search(&browser, &log, "property-registration", "D-3").await;
    assert_eq!(verdict, "revoked", "{}", browser.text("#verdict").await);
    let reason = browser.text("#verdict-reason").await;
    assert!(
        reason.contains(&format!("entry {revocation} of the public register")),
        "{reason}"
    );
    // A number never registered: proven not found, with what to check.
    let verdict = search(&browser, &log, "e-certificate", "C-2026-8").await;
    assert_eq!(verdict, "not-found", "{}", browser.text("#verdict").await);
    let reason = browser.text("#verdict-reason").await;
    assert!(
        reason.contains("no record of type “Electronic certificate” numbered “C-2026-8”"),
        "{reason}"
    );
    assert!(
        browser
            .text("#verdict-note")
            .await
            .contains("one different character")
    );
    println!(
        "{}",
        browser
            .screenshot("page-plain-search-not-found")
            .await
            .display()
    );

    // A re-saved copy (one byte more): "not found", in its own look, with
    // the one-byte explanation.
    browser.open(&format!("{log}/")).await;
    let idle_icon = eval(
        &browser,
        "const s = getComputedStyle(document.querySelector('.verdict-icon')); \
         return s.backgroundColor + ' ' + getComputedStyle(document.querySelector('.verdict-icon'), '::before').content",
    )
    .await;
    browser.choose_file("#document-input", &resaved_file).await;
    assert_eq!(browser.verdict().await, "not-found");
    let not_found_icon = eval(
        &browser,
        "const s = getComputedStyle(document.querySelector('.verdict-icon')); \
         return s.backgroundColor + ' ' + getComputedStyle(document.querySelector('.verdict-icon'), '::before').content",
    )
    .await;
    assert_ne!(idle_icon, not_found_icon);
    assert!(!not_found_icon.contains('?'), "{not_found_icon}");
    let note = browser.text("#verdict-note").await;
    assert!(
        note.contains("differs by even one byte")
            && note.contains("this exact file was not registered"),
        "{note}"
    );
    println!(
        "{}",
        browser.screenshot("page-plain-not-found").await.display()
    );
    in_chinese(&browser).await;
    assert!(
        browser
            .text("#verdict-note")
            .await
            .contains("哪怕只差一个字节")
    );
    println!(
        "{}",
        browser
            .screenshot("page-plain-not-found-zh")
            .await
            .display()
    );
    browser.click("#lang-en").await;

    // On a 390 px phone the verdict is brought into view and focused.
    browser.client.set_window_size(390, 844).await.unwrap();
    let width = eval(&browser, "return String(window.innerWidth)").await;
    assert!(
        width.parse::<u32>().unwrap() <= 400,
        "window {width} px wide"
    );
    browser.open(&format!("{log}/")).await;
    let below = eval(
        &browser,
        "return String(document.getElementById('verdict').getBoundingClientRect().top > window.innerHeight)",
    )
    .await;
    browser
        .choose_file("#document-input", &certificate_file)
        .await;
    assert_eq!(browser.verdict().await, "verified");
    let shown = eval(
        &browser,
        "const r = document.querySelector('.verdict-head').getBoundingClientRect(); \
         return String(r.top >= 0 && r.bottom <= window.innerHeight)",
    )
    .await;
    assert_eq!(below, "true", "at 390 px the verdict starts below the fold");
    assert_eq!(shown, "true", "the verdict is out of view");
    let focused = eval(&browser, "return document.activeElement.id").await;
    assert_eq!(focused, "verdict");
    println!("{}", browser.screenshot("page-plain-phone").await.display());
    in_chinese(&browser).await;
    println!(
        "{}",
        browser.screenshot("page-plain-phone-zh").await.display()
    );
    browser.click("#lang-en").await;
    let verdict = search(&browser, &log, "e-certificate", "C-2026-8").await;
    assert_eq!(verdict, "not-found");
    println!(
        "{}",
        browser
            .screenshot("page-plain-phone-search")
            .await
            .display()
    );

    // A receipt with the log gone: verified, and headlined as not checked
    // for revocation, in both languages.
    browser.open(&format!("{log}/")).await;
    setup.log.stop();
    browser.choose_file("#receipt-input", &receipt_file).await;
    assert_eq!(browser.verdict().await, "verified");
    assert_eq!(
        browser.text("#verdict-title").await,
        "Verified — but not checked for revocation"
    );
    let caveat = browser.text("#verdict-caveat").await;
    assert!(
        caveat.contains("could not check whether it was revoked"),
        "{caveat}"
    );
    println!(
        "{}",
        browser
            .screenshot("page-plain-phone-offline")
            .await
            .display()
    );
    in_chinese(&browser).await;
    assert!(
        browser
            .text("#verdict-title")
            .await
            .contains("未能检查是否已撤销")
    );
    println!(
        "{}",
        browser
            .screenshot("page-plain-phone-offline-zh")
            .await
            .display()
    );
    browser.click("#lang-en").await;
    browser.client.set_window_size(900, 1300).await.unwrap();
    println!(
        "{}",
        browser.screenshot("page-plain-offline").await.display()
    );

    browser.close().await;
}
