//! `gazette page build`: the verification page as a static folder anyone can
//! host (an agency, a witness operator, a newspaper) for a Gazette log,
//! with its own trust root beside `index.html`:
//!
//! - `policy`: the c2sp.org/tlog-policy text the page verifies under: the
//!   log's key, whose line carries the log's URL (where the page reads
//!   from), and the witnesses with their quorum;
//! - `agencies` (when given): the agencies' verifier keys, one per line;
//! - `names` (when given): the display names it shows for agencies and
//!   kinds, in English and Simplified Chinese (format:
//!   [`gazette_client::names`]), checked before it is copied. The page
//!   reads only this file, never the log's `/names`: whoever hosts the
//!   page chooses what it calls each agency, as they choose the policy.
//!
//! The page never takes its trust from the log: when the log's `/info`
//! announces another policy, the page says so and keeps its own.

use std::path::{Path, PathBuf};

use gazette_client::names::DisplayNames;
use gazette_client::note::Verifier;
use gazette_client::policy::Policy;

use super::online::witnesses_required;
use super::{Exit, Failure, Output, read_file};

/// The page's files in the source tree, with the bundle built by
/// `scripts/build-page` in `pkg/`.
const SOURCE_PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../wasm/www");

/// Largest page file copied; the bundle's wasm is about 1 MiB.
const MAX_PAGE_FILE: u64 = 64 * 1024 * 1024;

/// `gazette page <command>`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the page, with its trust root, into a folder to host anywhere.
    Build(BuildArgs),
}

/// `gazette page build --policy <file> [--log <url>] [--agencies <file>]
/// [--names <file>] --out <dir>`.
#[derive(clap::Args)]
pub struct BuildArgs {
    /// The policy the page verifies under (c2sp.org/tlog-policy text, with
    /// exactly one `log` line).
    #[arg(long)]
    policy: PathBuf,
    /// The log's URL; needed unless the policy's `log` line has one.
    #[arg(long)]
    log: Option<String>,
    /// The agencies' verifier keys, one per line (`#` comments): the page
    /// then accepts records only under these (and inside their window in
    /// the agency's proven key history). Without them, the keys of that
    /// proven history.
    #[arg(long)]
    agencies: Option<PathBuf>,
    /// Display names for agencies and kinds (`agency|kind <key name or
    /// token> <en|zh-CN> <name>` lines). Without them the page shows key
    /// names and its own kind names.
    #[arg(long)]
    names: Option<PathBuf>,
    /// Where to write the page: a folder that does not exist yet, or is empty.
    #[arg(long)]
    out: PathBuf,
    /// The page's files, with the built bundle in `pkg/` (default: this
    /// source tree's `wasm/www`).
    #[arg(long)]
    from: Option<PathBuf>,
    /// Accept a policy no witness has to cosign under (`quorum none`).
    #[arg(long)]
    no_witnesses: bool,
}

pub fn run(command: &Command, out: Output) -> Result<(), Failure> {
    match command {
        Command::Build(args) => build(args, out),
    }
}

fn usage(reason: impl Into<String>) -> Failure {
    Failure::new(Exit::Usage, reason)
}

fn build(args: &BuildArgs, out: Output) -> Result<(), Failure> {
    let text = String::from_utf8(read_file(&args.policy, "policy")?)
        .map_err(|_| usage(format!("the policy {}: not UTF-8", args.policy.display())))?;
    let policy = Policy::parse(text.as_bytes()).map_err(|e| usage(format!("the policy: {e}")))?;
    if policy.logs().len() != 1 {
        return Err(usage(format!(
            "the policy names {} logs: a page follows exactly one",
            policy.logs().len()
        )));
    }
    witnesses_required(&policy, args.no_witnesses)?;
    let log = &policy.logs()[0];
    let url = match (&args.log, &log.url) {
        (Some(given), Some(listed))
            if given.trim_end_matches('/') != listed.trim_end_matches('/') =>
        {
            return Err(usage(format!(
                "--log {given} differs from the URL in the policy's log line ({listed})"
            )));
        }
        (Some(url), _) | (None, Some(url)) => log_url(url)?,
        (None, None) => {
            return Err(usage(
                "where is the log? Give --log <url>, or a URL on the policy's log line",
            ));
        }
    };
    let agencies = match &args.agencies {
        None => None,
        Some(path) => Some(agency_keys(&read_file(path, "agency keys")?, path)?),
    };
    let names = match &args.names {
        None => None,
        Some(path) => Some(display_names(read_file(path, "display names")?, path)?),
    };
    let from = args
        .from
        .clone()
        .unwrap_or_else(|| PathBuf::from(SOURCE_PAGE));
    if !from.join("pkg").join("gazette_wasm_bg.wasm").is_file() {
        return Err(usage(format!(
            "{} has no built bundle (pkg/gazette_wasm_bg.wasm): run ./scripts/build-page, or give --from <dir>",
            from.display()
        )));
    }
    empty_or_new(&args.out)?;
    copy_page(
        &from,
        &args.out,
        url.origin().ascii_serialization().as_str(),
    )?;
    write(
        &args.out.join("policy"),
        with_log_url(&text, &log.verifier, url.as_str()).as_bytes(),
    )?;
    if let Some(keys) = &agencies {
        let lines: String = keys.iter().map(|k| format!("{k}\n")).collect();
        write(&args.out.join("agencies"), lines.as_bytes())?;
    }
    if let Some((bytes, _)) = &names {
        write(&args.out.join("names"), bytes)?;
    }
    out.json(&serde_json::json!({
        "out": args.out,
        "log": log.verifier.name(),
        "url": url.as_str(),
        "witnesses": policy.witnesses().len(),
        "witnesses_required": policy.requires_witnesses(),
        "agencies_pinned": agencies.as_ref().map(Vec::len),
        "names": names.as_ref().map(|(_, count)| count),
    }));
    out.line(format!(
        "page for {} written to {}: host the folder on any static file server",
        log.verifier.name(),
        args.out.display()
    ));
    out.line(format!("  log: {url}"));
    out.line(format!(
        "  witnesses trusted: {} ({})",
        policy.witnesses().len(),
        if policy.requires_witnesses() {
            "quorum as in the policy"
        } else {
            "none required"
        }
    ));
    match &agencies {
        Some(keys) => out.line(format!("  agencies pinned: {}", keys.len())),
        None => out.line(
            "  agencies: each one's key history, as the log proves it (give --agencies to pin)",
        ),
    }
    match &names {
        Some((_, count)) => out.line(format!("  display names: {count}")),
        None => out.line("  display names: none (give --names to name agencies and kinds)"),
    }
    Ok(())
}

/// The log's URL: http or https, with a host, nothing after the path.
fn log_url(text: &str) -> Result<reqwest::Url, Failure> {
    let with_slash = format!("{}/", text.trim_end_matches('/'));
    let url = reqwest::Url::parse(&with_slash).map_err(|e| usage(format!("--log {text}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(usage(format!(
            "--log {text}: not an http(s) URL with a host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(usage(format!(
            "--log {text}: a log's URL has no query, fragment or user name"
        )));
    }
    Ok(url)
}

/// The policy text with its `log` line carrying `url` (other lines as given).
fn with_log_url(text: &str, log: &Verifier, url: &str) -> String {
    let mut out = String::with_capacity(text.len() + url.len());
    for line in text.lines() {
        if line.split([' ', '\t']).find(|w| !w.is_empty()) == Some("log") {
            out.push_str(&format!("log {log} {}\n", url.trim_end_matches('/')));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Verifier keys, one per line; blank lines and `#` comments skipped.
fn agency_keys(bytes: &[u8], path: &Path) -> Result<Vec<Verifier>, Failure> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| usage(format!("{}: not UTF-8", path.display())))?;
    let keys = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(i, line)| {
            Verifier::parse(line)
                .map_err(|e| usage(format!("{} line {}: {e}", path.display(), i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(usage(format!("{}: no agency key", path.display())));
    }
    Ok(keys)
}

/// A names file's bytes, checked with the page's own parser, and how many
/// names it gives.
fn display_names(bytes: Vec<u8>, path: &Path) -> Result<(Vec<u8>, usize), Failure> {
    let names =
        DisplayNames::parse(&bytes).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let count = names.iter().count();
    Ok((bytes, count))
}

/// Refuses to write into a folder that holds anything already.
fn empty_or_new(out: &Path) -> Result<(), Failure> {
    match std::fs::read_dir(out).map(|mut entries| entries.next().is_none()) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(usage(format!("--out {}: {e}", out.display()))),
        Ok(true) => Ok(()),
        Ok(false) => Err(usage(format!(
            "--out {} is not empty: give a new folder (or empty it first)",
            out.display()
        ))),
    }
}

/// Copies the page's files (regular files, no hidden ones), letting
/// `index.html` read only from itself and the log's origin.
fn copy_page(from: &Path, to: &Path, log_origin: &str) -> Result<(), Failure> {
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| usage(format!("{}: {e}", from.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| usage(format!("{}: {e}", from.display())))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        let kind = entry
            .file_type()
            .map_err(|e| usage(format!("{}: {e}", source.display())))?;
        if kind.is_dir() {
            copy_page(&source, &target, log_origin)?;
        } else if kind.is_file() {
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > MAX_PAGE_FILE {
                return Err(usage(format!(
                    "{}: {size} bytes, too big for a page file",
                    source.display()
                )));
            }
            let bytes = read_file(&source, "page file")?;
            let bytes = if name == "index.html" {
                with_content_security_policy(&bytes, log_origin, &source)?
            } else {
                bytes
            };
            write(&target, &bytes)?;
        }
    }
    Ok(())
}

/// `index.html` with a Content-Security-Policy that lets the page connect
/// only to where it is hosted and to the log: a document dropped on it can
/// reach nowhere else, whatever server hosts it.
fn with_content_security_policy(
    html: &[u8],
    log_origin: &str,
    path: &Path,
) -> Result<Vec<u8>, Failure> {
    let html =
        std::str::from_utf8(html).map_err(|_| usage(format!("{}: not UTF-8", path.display())))?;
    let anchor = "<meta charset=\"utf-8\">";
    let Some(at) = html.find(anchor).map(|i| i + anchor.len()) else {
        return Err(usage(format!(
            "{}: no {anchor} to put the page's policy after",
            path.display()
        )));
    };
    let meta = format!(
        "\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; \
         script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {log_origin}; object-src 'none'; base-uri 'none'; form-action 'none'\">"
    );
    Ok(format!("{}{meta}{}", &html[..at], &html[at..]).into_bytes())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    gazette_kit::durable::write_file(path, bytes, None).map_err(|e| io(path, e))
}

fn io(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::new(Exit::Io, format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_line_gets_the_url_and_other_lines_stay() {
        use gazette_client::note::{KeyType, Signer};
        let log = Signer::from_seed("example.org/log", KeyType::Ed25519, [7; 32])
            .unwrap()
            .verifier();
        let key = log.to_string();
        let text = format!("# trust\n  log {key} https://old/\nwitness w1 x\nquorum w1\n");
        assert_eq!(
            with_log_url(&text, &log, "http://127.0.0.1:8080/"),
            format!("# trust\nlog {key} http://127.0.0.1:8080\nwitness w1 x\nquorum w1\n")
        );
    }

    #[test]
    fn log_urls_are_http_with_a_host_and_nothing_after_the_path() {
        assert_eq!(
            log_url("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            log_url("https://log.example/gazette/").unwrap().as_str(),
            "https://log.example/gazette/"
        );
        for bad in [
            "ftp://x/",
            "127.0.0.1:8080",
            "http://x/?a=1",
            "http://x/#f",
            "http://u@x/",
            "not a url",
        ] {
            assert!(log_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_names_file_is_copied_as_given_or_refused_naming_file_and_line() {
        let good = "# names\nagency a.gov en Agency A\nagency a.gov zh-CN 甲机构\n";
        let (bytes, count) =
            display_names(good.as_bytes().to_vec(), Path::new("names.txt")).unwrap();
        assert_eq!((bytes.as_slice(), count), (good.as_bytes(), 2));
        let bad = "agency a.gov en Agency A\nagency a.gov de Behörde A\n";
        let e = display_names(bad.as_bytes().to_vec(), Path::new("names.txt")).unwrap_err();
        assert!(matches!(e.exit, Exit::Usage));
        assert!(e.reason.starts_with("names.txt: line 2: "), "{}", e.reason);
    }

    #[test]
    fn the_page_may_connect_to_itself_and_the_log_only() {
        let html = b"<head>\n<meta charset=\"utf-8\">\n<title>t</title>";
        let out = with_content_security_policy(html, "http://127.0.0.1:9", Path::new("index.html"))
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("connect-src 'self' http://127.0.0.1:9;"),
            "{out}"
        );
        assert!(
            out.starts_with("<head>\n<meta charset=\"utf-8\">\n<meta http-equiv"),
            "{out}"
        );
        assert!(with_content_security_policy(b"<head>", "x", Path::new("i")).is_err());
    }
}
