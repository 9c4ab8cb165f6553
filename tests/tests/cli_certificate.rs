//! `gazette certificate` against a real log with two witnesses: the PDF is
//! rendered with poppler's `pdftoppm`, its QR code decoded with `zbarimg`,
//! and the link it holds opened in headless Chromium, which says
//! "Verified"; the same link with the receipt altered says "Invalid". The
//! text (`pdftotext`) carries the display names in both languages and the
//! facts; the fonts are embedded (`pdffonts`). A folder of receipts gets a
//! certificate each, a broken one named and refused. Bad inputs (a file
//! that is no font, a font without Chinese, no page URL, a receipt that
//! does not verify) are refused with their reasons and write nothing.
//! The rendered pages are kept in `target/test-artifacts/certificate*.png`.

use std::path::{Path, PathBuf};
use std::process::Command;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::browser::{Browser, artifacts_dir};
use gazette_tests::{
    WitnessedLog, add_with_receipt, base64url, document_digest, get_json, run_status,
};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

const NAMES: &str = "\
agency land.example.gov en Land Registry Office
agency land.example.gov zh-CN 土地登记局
kind title-deed en Title deed
kind title-deed zh-CN 不动产权证书
";

/// Renders the PDF's first page as a PNG at 150 dpi; returns its path.
fn render(pdf: &Path, name: &str) -> PathBuf {
    let dir = artifacts_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let stem = dir.join(name);
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile", p(pdf), p(&stem)])
        .status()
        .expect("pdftoppm (Debian: poppler-utils; scripts/test installs it)");
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    stem.with_extension("png")
}

/// The QR code's text in a PNG.
fn decode_qr(png: &Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", p(png)])
        .output()
        .expect("zbarimg (Debian: zbar-tools; scripts/test installs it)");
    assert!(
        out.status.success(),
        "no QR code found in {}",
        png.display()
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// The receipt with the first hash of its inclusion proof changed.
fn alter_proof(receipt: &str) -> String {
    let mut lines: Vec<String> = receipt.split('\n').map(str::to_owned).collect();
    let at = lines.iter().position(|l| l.starts_with("index ")).unwrap() + 1;
    let first = if lines[at].starts_with('A') { "B" } else { "A" };
    lines[at].replace_range(..1, first);
    lines.join("\n")
}

fn tool_output(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().expect(tool);
    assert!(out.status.success(), "{tool} {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_s_qr_code_opens_the_page_that_verifies_its_receipt() {
    let agency = Signer::from_seed("land.example.gov", KeyType::Ed25519, [41; 32]).unwrap();
    let setup = WitnessedLog::start("certificates.example/log", &agency.verifier(), 2, 2);
    let log = setup.log.url.clone();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    let document = w.join("deed-2026-0042.pdf");
    std::fs::write(&document, b"the deed of parcel 42").unwrap();
    let digest = document_digest(&std::fs::read(&document).unwrap());
    let record = Record::new(
        agency.name(),
        "title-deed",
        "DEED-2026-0042",
        digest,
        "2026-12-05T09:30:00Z",
    )
    .sign(&agency)
    .unwrap();
    let receipt = add_with_receipt(&log, record.bytes).await;
    let receipt_path = w.join("deed.tlog-proof");
    std::fs::write(&receipt_path, &receipt).unwrap();
    let info = get_json(&format!("{log}/info")).await;
    let policy = w.join("policy.txt");
    std::fs::write(&policy, info["policy"].as_str().unwrap()).unwrap();
    let names = w.join("names.txt");
    std::fs::write(&names, NAMES).unwrap();
    let page = format!("{log}/");
    let agency_vkey = agency.verifier().to_string();
    let certify = |receipt: &Path, out: &Path, more: &[&str]| {
        let mut args = vec![
            "certificate",
            p(receipt),
            "--out",
            p(out),
            "--policy",
            p(&policy),
            "--agency",
            &agency_vkey,
            "--names",
            p(&names),
            "--page",
            &page,
        ];
        args.extend_from_slice(more);
        run_status("gazette", &args)
    };

    let pdf = w.join("deed.pdf");
    let (code, out, err) = certify(&receipt_path, &pdf, &["--document", p(&document)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("certificate written: {}", pdf.display()))
            && out.contains("DEED-2026-0042"),
        "{out}"
    );

    let png = render(&pdf, "certificate-deed");
    println!("rendered certificate: {}", png.display());

    // Chinese and English text, in embedded fonts.
    // Lines wrap where they must: words are compared across line breaks.
    let text = tool_output("pdftotext", &[p(&pdf), "-"])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for expected in [
        "存证证书",
        "Evidence certificate",
        "土地登记局",
        "Land Registry Office",
        "不动产权证书",
        "Title deed",
        "DEED-2026-0042",
        "2026-12-05T09:30:00Z",
        "certificates.example/log",
        "w1",
        "w2",
        "deed-2026-0042.pdf",
        "Agency signature verified",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        text.replace(' ', "").contains(&hex),
        "the digest is missing from:\n{text}"
    );
    let fonts = tool_output("pdffonts", &[p(&pdf)]);
    let font_lines: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(
        !font_lines.is_empty() && font_lines.iter().all(|l| l.contains(" yes ")),
        "every font embedded:\n{fonts}"
    );

    // The QR code holds the page's link with the receipt in the fragment.
    let link = decode_qr(&png);
    let encoded = base64url(receipt.as_bytes());
    assert_eq!(link, format!("{page}#receipt={encoded}"));

    let browser = Browser::start().await;
    browser.client.goto(&link).await.unwrap();
    let verdict = browser.verdict().await;
    assert_eq!(verdict, "verified", "{}", browser.text("#verdict").await);
    assert!(browser.text("#v-id").await.contains("DEED-2026-0042"));

    // A certificate whose receipt was altered (one hash of its inclusion
    // proof changed): the page says Invalid.
    let altered = alter_proof(&receipt);
    let forged = format!("{page}#receipt={}", base64url(altered.as_bytes()));
    browser.client.goto("about:blank").await.unwrap();
    browser.client.goto(&forged).await.unwrap();
    assert_eq!(browser.verdict().await, "invalid");
    browser.close().await;

    // The CLI prints no certificate for the altered receipt.
    let altered_path = w.join("altered.tlog-proof");
    std::fs::write(&altered_path, &altered).unwrap();
    let refused = w.join("altered.pdf");
    let (code, _, err) = certify(&altered_path, &refused, &[]);
    assert_eq!(code, 5, "{err}");
    assert!(!refused.exists());

    // A folder: a certificate per receipt; the altered one named, refused.
    let folder = w.join("receipts");
    std::fs::create_dir(&folder).unwrap();
    let second = Record::new(
        agency.name(),
        "e-certificate",
        "EC-7",
        [7; 32],
        "2026-12-05T10:00:00Z",
    )
    .sign(&agency)
    .unwrap();
    let second_receipt = add_with_receipt(&log, second.bytes).await;
    std::fs::write(folder.join("a.tlog-proof"), &receipt).unwrap();
    std::fs::write(folder.join("b.tlog-proof"), &second_receipt).unwrap();
    std::fs::write(folder.join("c.tlog-proof"), &altered).unwrap();
    std::fs::write(folder.join("notes.txt"), "not a receipt").unwrap();
    let certificates = w.join("certificates");
    let (code, out, err) = certify(&folder, &certificates, &["--json"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("c.tlog-proof"), "{err}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["written"], 2, "{report}");
    assert_eq!(report["refused"].as_array().unwrap().len(), 1, "{report}");
    let mut made: Vec<String> = std::fs::read_dir(&certificates)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(made, ["a.pdf", "b.pdf"]);
    let png = render(&certificates.join("b.pdf"), "certificate-batch-b");
    let link = decode_qr(&png);
    let encoded = base64url(second_receipt.as_bytes());
    assert_eq!(link, format!("{page}#receipt={encoded}"));
    let text = tool_output("pdftotext", &[p(&certificates.join("b.pdf")), "-"]);
    // A kind without a display name in the file: the built-in names.
    assert!(
        text.contains("电子证照") && text.contains("Electronic certificate"),
        "{text}"
    );

    // Refused inputs, each with its reason, nothing written.
    let nowhere = w.join("nowhere.pdf");
    for (more, words) in [
        (vec!["--font", p(&policy)], "not a font"),
        (
            vec![
                "--font",
                "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
            ],
            "no glyph for '存'",
        ),
    ] {
        let (code, _, err) = certify(&receipt_path, &nowhere, &more);
        assert_eq!(code, 2, "{more:?}: {err}");
        assert!(err.contains(words), "{more:?}: {err}");
        assert!(!nowhere.exists());
    }
    for (more, words) in [
        (vec![], "--page <url>"),
        (
            vec!["--page", "ftp://example.org/"],
            "starts with https:// or http://",
        ),
        (vec!["--page", "http://example.org/#x"], "no fragment"),
    ] {
        let mut args = vec!["certificate", p(&receipt_path), "--out", p(&nowhere)];
        args.extend(["--policy", p(&policy)]);
        args.extend(more.iter().copied());
        let (code, _, err) = run_status("gazette", &args);
        assert_eq!(code, 2, "{more:?}: {err}");
        assert!(err.contains(words), "{more:?}: {err}");
        assert!(!nowhere.exists());
    }
}
