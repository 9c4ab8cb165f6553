//! `gazette certificate`: an evidence certificate (存证证书) of a receipt,
//! one printable bilingual page of PDF: who issued the record (display
//! name and key), its kind, number, document fingerprint and time, where
//! it is in the log, the witnessed checkpoint with each witness and its
//! time, and a QR code opening the verification page with the receipt in
//! the link's fragment (after `#`, which browsers never send to a server),
//! so a phone checks it there, offline first and then online for its
//! current status.
//!
//! A certificate is printed only for a receipt that verifies, by the same
//! rules as `gazette verify` (policy, witnesses, agency key, document).
//! It restates the receipt; the receipt remains the evidence.
//!
//! Given a folder, every `*.tlog-proof` in it gets its certificate, named
//! after it, in the `--out` folder; a receipt that does not verify is named
//! with its reason and the others are still printed.

mod pdf;

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::json;

use gazette_client::encoding::hex_encode;
use gazette_client::names::{DisplayNames, Language, Named};
use gazette_client::note::Verifier;
use gazette_client::policy::Policy;
use gazette_client::receipt::{AgencyCheck, AgencySignature, DocumentCheck, verify_receipt};

use super::proven::{cosigned_at, rfc3339};
use super::record::digest_file;
use super::verify::{TrustArgs, policy, receipt_failure, with_entry};
use super::{Exit, Failure, Output, plural, read_file};
use pdf::CertificateFont;

/// The largest receipt read.
const MAX_RECEIPT: u64 = 1024 * 1024;

/// `gazette certificate <receipt | folder> --out <file | folder> ...`.
#[derive(clap::Args)]
pub struct Args {
    /// The receipt (`.tlog-proof` file), or a folder of receipts: one
    /// certificate for each `*.tlog-proof` in it.
    receipt: PathBuf,
    /// Where to write: a PDF file for one receipt, a folder for a folder
    /// of receipts (made if missing; `<receipt name>.pdf` in it).
    #[arg(long)]
    out: PathBuf,
    /// The document the record should be of (one receipt only): checked,
    /// and its file name printed.
    #[arg(long)]
    document: Option<PathBuf>,
    /// The log entry the receipt proves, for a receipt without an `extra`
    /// line (one receipt only).
    #[arg(long)]
    entry: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
    /// The agency's verifier key (repeatable): its signature on the record
    /// is checked and its key printed. Without it, the certificate says
    /// the signature was not checked.
    #[arg(long)]
    agency: Vec<String>,
    /// Display names of agencies and kinds, in English and Chinese (the
    /// format of the log's `names.txt`, served at its `/names`).
    #[arg(long)]
    names: Option<PathBuf>,
    /// The verification page the QR code opens (default: the log's own
    /// page, at the URL on the policy's `log` line).
    #[arg(long)]
    page: Option<String>,
    /// A font with Chinese characters (TrueType or OpenType; first face of
    /// a collection). Default: a common system font, such as Debian's
    /// fonts-wqy-microhei.
    #[arg(long, env = "GAZETTE_CERTIFICATE_FONT")]
    font: Option<PathBuf>,
}

/// What a certificate states, as printed.
pub struct Facts {
    issuer: String,
    agency_zh: String,
    agency_en: String,
    agency_key: String,
    kind: String,
    kind_zh: String,
    kind_en: String,
    id: String,
    digest: String,
    document: Option<String>,
    issued: String,
    origin: String,
    index: u64,
    size: u64,
    root: String,
    witnesses: Vec<(String, String)>,
    checked: Vec<String>,
    page: String,
    link: String,
    receipt_name: String,
}

/// What every certificate of a run shares.
struct Setup {
    policy: Policy,
    agencies: Vec<Verifier>,
    names: DisplayNames,
    page: String,
    font: CertificateFont,
}

fn usage(reason: impl Into<String>) -> Failure {
    Failure::new(Exit::Usage, reason)
}

/// The page the QR code opens: `--page`, else the log's own page.
fn page_url(given: Option<&str>, policy: &Policy) -> Result<String, Failure> {
    let url = match given {
        Some(url) => url.to_owned(),
        None => match policy.logs().first().and_then(|l| l.url.clone()) {
            Some(log) if log.ends_with('/') => log,
            Some(log) => format!("{log}/"),
            None => {
                return Err(usage(
                    "say which verification page the QR code opens: --page <url> (a log serves its own at its URL, e.g. http://log.example.gov/), or a policy whose log line has the log's URL",
                ));
            }
        },
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            usage(format!(
                "--page {url:?}: a page's URL starts with https:// or http://"
            ))
        })?;
    if rest.is_empty()
        || rest.starts_with('/')
        || url.contains('#')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(usage(format!(
            "--page {url:?}: not a page URL (a host, then a path; no fragment)"
        )));
    }
    Ok(url)
}

pub fn run(args: &Args, out: Output) -> Result<(), Failure> {
    let policy = policy(&args.trust)?;
    let agencies = crate::agency_keys(&args.agency)?;
    let names = match &args.names {
        Some(path) => DisplayNames::parse(&read_file(path, "names file")?)
            .map_err(|e| usage(format!("the names file {}: {e}", path.display())))?,
        None => DisplayNames::default(),
    }
    .over_built_in();
    let page = page_url(args.page.as_deref(), &policy)?;
    let font = CertificateFont::load(args.font.as_deref()).map_err(|e| usage(e.to_string()))?;
    let setup = Setup {
        policy,
        agencies,
        names,
        page,
        font,
    };
    if args.receipt.is_dir() {
        if args.document.is_some() || args.entry.is_some() {
            return Err(usage(
                "--document and --entry go with one receipt, not a folder of them",
            ));
        }
        return batch(args, &setup, out);
    }
    let facts = certify(
        &args.receipt,
        args.document.as_deref(),
        args.entry.as_deref(),
        &setup,
    )?;
    write(&facts, &setup, &args.out)?;
    out.json(&json!({
        "certificate": args.out.display().to_string(),
        "issuer": facts.issuer,
        "kind": facts.kind,
        "id": facts.id,
        "index": facts.index,
        "link": facts.link,
    }));
    out.line(format!(
        "certificate written: {} ({} {} {}, entry {} of {})",
        args.out.display(),
        facts.issuer,
        facts.kind,
        facts.id,
        facts.index,
        facts.origin
    ));
    out.detail(format!("QR code: {}", facts.link));
    Ok(())
}

/// A certificate for each receipt in the folder.
fn batch(args: &Args, setup: &Setup, out: Output) -> Result<(), Failure> {
    let listing = std::fs::read_dir(&args.receipt).map_err(|e| {
        usage(format!(
            "reading the folder {}: {e}",
            args.receipt.display()
        ))
    })?;
    let mut receipts: Vec<PathBuf> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tlog-proof") && p.is_file())
        .collect();
    receipts.sort();
    if receipts.is_empty() {
        return Err(usage(format!(
            "no *.tlog-proof receipt in {}",
            args.receipt.display()
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::new(Exit::Io, format!("making {}: {e}", args.out.display())))?;
    let mut written = 0u64;
    let mut refused = Vec::new();
    let mut first_failure = None;
    for receipt in &receipts {
        let stem = receipt.file_stem().unwrap_or_default();
        let target = args.out.join(stem).with_extension("pdf");
        let done =
            certify(receipt, None, None, setup).and_then(|facts| write(&facts, setup, &target));
        match done {
            Ok(()) => {
                written += 1;
                out.detail(format!("{} → {}", receipt.display(), target.display()));
            }
            Err(failure) => {
                eprintln!("gazette: {}: {}", receipt.display(), failure.reason);
                refused.push(json!({"receipt": receipt.display().to_string(), "exit": failure.exit as u8, "reason": failure.reason}));
                first_failure.get_or_insert(failure.exit);
            }
        }
    }
    out.json(&json!({
        "written": written,
        "refused": refused,
        "folder": args.out.display().to_string(),
    }));
    out.line(format!(
        "{} written to {}, {} refused",
        plural(written, "certificate"),
        args.out.display(),
        refused.len()
    ));
    match first_failure {
        None => Ok(()),
        Some(exit) => Err(Failure::new(
            exit,
            format!(
                "{} of {} refused (named above)",
                plural(refused.len() as u64, "receipt"),
                receipts.len()
            ),
        )),
    }
}

/// Renders `facts` and writes the PDF atomically.
fn write(facts: &Facts, setup: &Setup, path: &Path) -> Result<(), Failure> {
    let bytes = pdf::render(facts, &setup.font).map_err(|e| match e {
        pdf::PdfError::LinkTooLong(_) | pdf::PdfError::TooLong => {
            Failure::new(Exit::Malformed, e.to_string())
        }
        _ => usage(e.to_string()),
    })?;
    gazette_kit::durable::write_file(path, &bytes, None)
        .map_err(|e| Failure::new(Exit::Io, format!("writing {}: {e}", path.display())))
}

/// Verifies a receipt and gathers what its certificate states.
fn certify(
    receipt: &Path,
    document: Option<&Path>,
    entry: Option<&Path>,
    setup: &Setup,
) -> Result<Facts, Failure> {
    let size = std::fs::metadata(receipt)
        .map_err(|e| usage(format!("reading the receipt {}: {e}", receipt.display())))?
        .len();
    if size > MAX_RECEIPT {
        return Err(Failure::new(
            Exit::Malformed,
            format!(
                "{}: {size} bytes, more than a receipt ({MAX_RECEIPT} at most)",
                receipt.display()
            ),
        ));
    }
    let mut bytes = read_file(receipt, "receipt")?;
    if let Some(path) = entry {
        bytes = with_entry(&bytes, receipt, &read_file(path, "entry")?, path)?;
    }
    let agency = if setup.agencies.is_empty() {
        AgencyCheck::Skip
    } else {
        AgencyCheck::Keys(&setup.agencies)
    };
    let failure = |e| receipt_failure(e, receipt, document, &setup.agencies);
    let mut verified = verify_receipt(&bytes, &setup.policy, agency, None).map_err(failure)?;
    if let Some(path) = document {
        verified = verified
            .check_document(&digest_file(path)?)
            .map_err(failure)?;
    }
    let record = &verified.record.record;
    let name = |named, token: &str, language| {
        setup
            .names
            .name(named, token, language)
            .or_else(|| setup.names.name(named, token, other(language)))
            .unwrap_or(token)
            .to_owned()
    };
    let checkpoint = &verified.checkpoint;
    let witnesses = cosigned_at(checkpoint);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let agency_line = match &verified.agency {
        AgencySignature::Verified { .. } => "机构签名已核验 Agency signature verified".to_owned(),
        AgencySignature::NotChecked => {
            "机构签名未核验（未提供机构公钥） Agency signature not checked (no agency key given)"
                .to_owned()
        }
    };
    let witnessed = match witnesses.len() {
        0 => "未经见证人副署 Not cosigned by any witness".to_owned(),
        n => format!(
            "{n} 位见证人副署 Cosigned by {}",
            plural(n as u64, "witness")
        ),
    };
    let agency_key = match &verified.agency {
        AgencySignature::Verified { key } => format!("{}+{:08x}", key.name(), key.key_id()),
        AgencySignature::NotChecked => record.issuer.clone(),
    };
    let link = format!(
        "{}#receipt={}",
        setup.page,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
    );
    let receipt_file = receipt
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Facts {
        issuer: record.issuer.clone(),
        agency_zh: name(Named::Agency, &record.issuer, Language::Chinese),
        agency_en: name(Named::Agency, &record.issuer, Language::English),
        agency_key: format!("密钥 Key {agency_key}"),
        kind: record.kind.clone(),
        kind_zh: name(Named::Kind, &record.kind, Language::Chinese),
        kind_en: name(Named::Kind, &record.kind, Language::English),
        id: record.id.clone(),
        digest: format!("sha256:{}", hex_encode(&record.digest)),
        document: (verified.document == DocumentCheck::Matches).then(|| {
            let file = document
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!("文件 {file} 与此指纹相符 The document {file} matches")
        }),
        issued: format!("{} (UTC)", record.issued),
        origin: checkpoint.checkpoint.origin.clone(),
        index: verified.index,
        size: checkpoint.checkpoint.size,
        root: checkpoint.checkpoint.root.to_base64(),
        witnesses,
        checked: vec![
            format!("{} 离线核验通过 Verified offline at printing", rfc3339(now)),
            format!("{witnessed}; {agency_line}"),
        ],
        page: setup.page.clone(),
        link,
        receipt_name: format!(
            "本证书依据回执 {receipt_file} 生成，回执本身即为证据，可用 gazette verify 离线核验。 Printed by gazette certificate from the receipt {receipt_file}; the receipt is the evidence: `gazette verify {receipt_file}` checks it offline."
        ),
    })
}

fn other(language: Language) -> Language {
    match language {
        Language::English => Language::Chinese,
        Language::Chinese => Language::English,
    }
}
