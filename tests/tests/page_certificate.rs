//! The printable evidence certificate, in a real browser against a real log
//! and three witnesses.
//!
//! A receipt verified on the page offers "Certificate": a bilingual sheet
//! shown in place of the page with the issuing agency (display names and
//! key name), the kind, the record's number and fingerprint, its time of
//! issue, the log entry, the witnessed checkpoint and each cosignature,
//! and a QR code of the page's share link for the receipt. The test
//! screenshots it in English and Chinese (paths printed), decodes the QR
//! code from each screenshot with `zbarimg`, and checks it is exactly the
//! link "Copy link to this check" gives; the decoded link, opened, verifies
//! again. Printed (WebDriver's print, A4) the certificate is one page with
//! nothing of the page around it, and its QR code decodes from the PDF too.
//! A revoked record's certificate says so in both languages; one whose
//! link is too long for a QR code says to use the receipt file; a check
//! without a receipt offers no certificate.

use std::path::Path;
use std::process::Command;

use fantoccini::wd::{PrintConfiguration, PrintSize};
use gazette_client::encoding::hex_encode;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::Browser;
use gazette_tests::{
    WitnessedLog, add_with_receipt_at, base64url, document_digest, wait_for_lookups,
};

const ORIGIN: &str = "certificate.example/log";
const ISSUER: &str = "land.example.gov";
const NAMES: &str = "agency land.example.gov en Land Registry Bureau\n\
    agency land.example.gov zh-CN 土地登记局\n\
    kind title-deed en Title deed\n\
    kind title-deed zh-CN 不动产权证书\n";

fn agency() -> Signer {
    Signer::from_seed(ISSUER, KeyType::Ed25519, [48; 32]).unwrap()
}

/// What `zbarimg` reads from the QR code in `png` (exactly one code).
fn decode_qr(png: &Path) -> String {
    let out = Command::new("/usr/bin/zbarimg")
        .args(["--raw", "-q"])
        .arg(png)
        .output()
        .expect("zbarimg (Debian zbar-tools)");
    assert!(
        out.status.success(),
        "zbarimg found no code in {}: {}",
        png.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("the code is text");
    let codes: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(codes.len(), 1, "{} codes in {}", codes.len(), png.display());
    codes[0].to_owned()
}

/// Opens the page, checks `receipt`, and returns the verdict.
async fn check_receipt(browser: &Browser, log: &str, receipt: &Path) -> String {
    browser.open(&format!("{log}/")).await;
    browser.choose_file("#receipt-input", receipt).await;
    browser.verdict().await
}

/// Clicks "Certificate" and returns the sheet's text once it is drawn.
async fn open_certificate(browser: &Browser) -> String {
    browser.click("#certificate-button").await;
    for _ in 0..100 {
        if !hidden(browser, "#certificate").await {
            return browser.text("#certificate .sheet").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no certificate after clicking Certificate")
}

/// Whether the element `css` is hidden (by its `hidden` attribute).
async fn hidden(browser: &Browser, css: &str) -> bool {
    browser
        .eval(&format!("return document.querySelector('{css}').hidden"))
        .await
        == "true"
}

/// The link "Copy link to this check" gives.
async fn share_link(browser: &Browser) -> String {
    browser.click("#share-button").await;
    for _ in 0..100 {
        let link = browser
            .eval("return document.getElementById('share-link').value")
            .await;
        if !link.is_empty() {
            return link;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no link after Copy link: {}", browser.text("#share").await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_receipt_prints_as_a_bilingual_certificate_whose_qr_code_rechecks_it() {
    let setup = WitnessedLog::start(ORIGIN, &agency().verifier(), 3, 2);
    let log = setup.log.url.clone();
    std::fs::write(setup.log_dir.join("names.txt"), NAMES).unwrap();
    let files = tempfile::tempdir().unwrap();
    let deed = b"Title deed: parcel 12-4, Hill District, owner Zhang Min\n";
    let other = b"Title deed: parcel 9-1, Lake District\n";
    let sign = |record: Record| record.sign(&agency()).unwrap().bytes;
    let issued = "2026-11-24T09:30:00Z";
    let (index, receipt) = add_with_receipt_at(
        &log,
        sign(Record::new(
            ISSUER,
            "title-deed",
            "TD-2026-0042",
            document_digest(deed),
            issued,
        )),
    )
    .await;
    let (_, revoked_receipt) = add_with_receipt_at(
        &log,
        sign(Record::new(
            ISSUER,
            "title-deed",
            "TD-2026-0007",
            document_digest(other),
            issued,
        )),
    )
    .await;
    add_with_receipt_at(
        &log,
        sign(Record::revocation(
            ISSUER,
            "R-7",
            document_digest(b"revocation of TD-2026-0007"),
            "2026-11-25T10:00:00Z",
            "title-deed",
            "TD-2026-0007",
        )),
    )
    .await;
    // A record with long fields of its own: its receipt makes a link too
    // long for any QR code (2,953 bytes at level L).
    let mut long = Record::new(
        ISSUER,
        "title-deed",
        "TD-2026-0099",
        document_digest(b"long"),
        issued,
    );
    long.fields = (1..=3)
        .map(|i| {
            (
                format!("note-{i}"),
                "boundary description ".repeat(45).trim().to_owned(),
            )
        })
        .collect();
    let (_, long_receipt) = add_with_receipt_at(&log, sign(long)).await;
    assert!(long_receipt.len() > 3_000, "{} bytes", long_receipt.len());
    wait_for_lookups(&log).await;
    let receipt_file = files.path().join("deed.tlog-proof");
    std::fs::write(&receipt_file, &receipt).unwrap();
    let revoked_file = files.path().join("revoked.tlog-proof");
    std::fs::write(&revoked_file, &revoked_receipt).unwrap();
    let long_file = files.path().join("long.tlog-proof");
    std::fs::write(&long_file, &long_receipt).unwrap();
    println!("receipt: {} bytes", receipt.len());

    let browser = Browser::start().await;
    // Tall enough for the whole sheet, QR code included, in one screenshot.
    browser.client.set_window_size(1000, 2400).await.unwrap();

    // A check without a receipt offers no certificate.
    let fingerprint = format!("sha256:{}", hex_encode(&document_digest(deed)));
    browser.open(&format!("{log}/")).await;
    browser.type_into("#digest-input", &fingerprint).await;
    browser.click("#check-button").await;
    assert_eq!(browser.verdict().await, "verified");
    assert!(hidden(&browser, "#certificate-offer").await);

    assert_eq!(
        check_receipt(&browser, &log, &receipt_file).await,
        "verified"
    );
    assert!(!hidden(&browser, "#certificate-offer").await);
    let link = share_link(&browser).await;
    assert_eq!(
        link,
        format!("{log}/#receipt={}", base64url(receipt.as_bytes()))
    );
    assert_eq!(browser.text("#certificate-button").await, "Certificate");

    // The page's Content-Security-Policy (no inline styles or scripts)
    // holds for the certificate: any violation is recorded here.
    browser
        .eval(
            "window.violations = []; document.addEventListener('securitypolicyviolation', \
             (e) => window.violations.push(`${e.violatedDirective} ${e.sample}`)); return ''",
        )
        .await;
    let sheet = open_certificate(&browser).await;
    assert!(
        hidden(&browser, "main").await,
        "the sheet replaces the page"
    );
    for expected in [
        "存证证书",
        "Evidence certificate",
        "土地登记局",
        "Land Registry Bureau",
        ISSUER,
        "不动产权证书",
        "Title deed",
        "title-deed",
        "TD-2026-0042",
        fingerprint.as_str(),
        "2026-11-24 09:30:00 UTC",
        ORIGIN,
        &format!("entry {index}"),
        &format!("第 {index} 号条目"),
        "已验证",
        "Verified",
        "Scan to check this record online; the receipt in the link never reaches a server.",
        "扫码在线核验此记录；链接中的回执不会发送到任何服务器。",
        link.as_str(),
    ] {
        assert!(sheet.contains(expected), "{expected:?} not in {sheet}");
    }
    // The receipt's checkpoint: its size and root, and each cosignature.
    let (_, note) = receipt
        .split_once("\n\n")
        .expect("the receipt's checkpoint");
    let body: Vec<&str> = note.lines().collect();
    assert_eq!(body[0], ORIGIN, "{note}");
    assert!(sheet.contains(body[2]), "root {} not in {sheet}", body[2]);
    assert!(
        sheet.contains(&format!("{} entr", body[1])),
        "size {} not in {sheet}",
        body[1]
    );
    // Cosigned by at least the quorum, each shown by its name in the policy.
    let cosigners = ["w1", "w2", "w3"]
        .into_iter()
        .filter(|w| note.contains(&format!("\u{2014} {w}.example.org ")))
        .collect::<Vec<_>>();
    assert!(cosigners.len() >= 2, "{note}");
    for witness in &cosigners {
        assert!(
            sheet.contains(&format!("{witness} \u{2014} 2")),
            "{witness} not in {sheet}"
        );
    }

    // The event is dispatched asynchronously: a round trip through a task.
    let violations = browser
        .eval("return new Promise((done) => setTimeout(() => done(window.violations.join('|')), 100))")
        .await;
    assert_eq!(violations, "", "the certificate breaks the page's CSP");

    // The QR code, read back from screenshots in both languages.
    let english = browser.screenshot("page-certificate-en").await;
    println!("{}", english.display());
    assert_eq!(decode_qr(&english), link);
    browser.click("#lang-zh").await;
    assert_eq!(browser.text("#certificate-print").await, "打印或另存为 PDF");
    assert!(hidden(&browser, "main").await, "still the certificate");
    let chinese = browser.screenshot("page-certificate-zh").await;
    println!("{}", chinese.display());
    assert_eq!(decode_qr(&chinese), link);
    browser.click("#lang-en").await;

    // Printed: one A4 page, the certificate alone, its QR code readable.
    let pdf = browser
        .client
        .print(
            PrintConfiguration::builder()
                .size(PrintSize::A4)
                .build()
                .unwrap(),
        )
        .await
        .expect("WebDriver print");
    let pdf_path = gazette_tests::browser::artifacts_dir().join("page-certificate.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    let info = Command::new("pdfinfo").arg(&pdf_path).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(
        info.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Pages:", "1"]),
        "{info}"
    );
    let text = Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("Evidence certificate"), "{text}");
    for page_only in [
        "Drop a document",
        "Print or save as PDF",
        "How this works",
        "check a public record",
        "Independent witnesses",
    ] {
        assert!(!text.contains(page_only), "{page_only:?} printed: {text}");
    }
    let rendered = gazette_tests::browser::artifacts_dir().join("page-certificate-print");
    let status = Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-singlefile"])
        .arg(&pdf_path)
        .arg(&rendered)
        .status()
        .unwrap();
    assert!(status.success());
    let printed = rendered.with_extension("png");
    println!("{}", printed.display());
    assert_eq!(decode_qr(&printed), link);

    // Back to the page, as it was.
    browser.click("#certificate-back").await;
    assert!(hidden(&browser, "#certificate").await);
    assert!(!hidden(&browser, "main").await);
    assert_eq!(
        browser
            .wait_for_attr("#verdict", "data-verdict", |_| true)
            .await,
        "verified"
    );

    // The decoded link, opened, checks the record again.
    browser.open(&format!("{log}/")).await;
    browser.client.goto(&decode_qr(&english)).await.unwrap();
    assert_eq!(browser.verdict().await, "verified");
    assert_eq!(browser.text("#v-issuer").await, "Land Registry Bureau");

    // A revoked record's certificate says so, in both languages.
    assert_eq!(
        check_receipt(&browser, &log, &revoked_file).await,
        "revoked"
    );
    let sheet = open_certificate(&browser).await;
    for expected in [
        "已撤销",
        "Revoked",
        "TD-2026-0007",
        "by the revocation notice at entry",
        "号条目的撤销通知撤销",
    ] {
        assert!(sheet.contains(expected), "{expected:?} not in {sheet}");
    }
    println!(
        "{}",
        browser
            .screenshot("page-certificate-revoked")
            .await
            .display()
    );

    // A receipt too long for a QR code: the certificate says so, and to
    // use the receipt file.
    assert_eq!(check_receipt(&browser, &log, &long_file).await, "verified");
    let sheet = open_certificate(&browser).await;
    assert!(hidden(&browser, "#cert-qr").await);
    for expected in [
        "too long for a QR code: check the record online with its receipt file instead",
        "无法生成二维码：请使用回执文件在线核验此记录",
        "TD-2026-0099",
    ] {
        assert!(sheet.contains(expected), "{expected:?} not in {sheet}");
    }
    assert!(!sheet.contains("#receipt="), "{sheet}");
    println!(
        "{}",
        browser.screenshot("page-certificate-no-qr").await.display()
    );
    browser.close().await;
}
