//! `gazette submit`: bulk upload through `/add-batch`. Records are read in
//! a fixed order (files and directories sorted, manifests line by line)
//! and sent in batches with bounded concurrency; 429 and 503 are retried
//! after `Retry-After` (capped), other failures after a growing pause, each
//! a bounded number of times: a log that cannot be reached ends the run
//! with exit 11, naming the URL and the reason. A resume file, rewritten
//! atomically after every batch, says which batches are done (and which
//! records the log refused), so a run that was stopped (Ctrl-C: exit 130,
//! saying where) continues where it stopped: the log gets every record,
//! and (it recognises a record sent again) each once. The default resume
//! file is per log and input set, in the state directory.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use gazette_client::encoding::hex_encode;

use super::http::{ATTEMPTS, Http, LogUrl, MAX_PAUSE, backoff, busy, escape};
use super::{Exit, Failure, Output, count, plural, read_file, state};

/// How many rounds in a row a batch may be answered "busy" for every
/// record it still holds (429 or 503, each after its `Retry-After`)
/// before the upload gives up: a batch larger than an agency's burst
/// never fits, and a log that only ever says "later" is not waited for
/// forever.
const BUSY_ROUNDS: u32 = 20;

/// `gazette submit [--log <url>] [--resume <file>] <inputs>...`.
#[derive(clap::Args)]
pub struct Args {
    /// Signed record files, directories of them, or JSONL manifests
    /// (`.jsonl`: one JSON string, or `{"record": ...}`, per line).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The log's URL (http://host[:port][/path]).
    #[arg(long, env = "GAZETTE_LOG_URL")]
    log: LogUrl,
    /// The resume file (default: one per log and set of inputs, in the
    /// state directory's `submit/`).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Records per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Requests at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Once uploaded, fetch each record's receipt (waiting, at most
    /// `--receipt-wait` seconds, for the witnesses) into this directory, as
    /// `<issuer>_<kind>_<id>.tlog-proof`; receipts already there are kept.
    #[arg(long)]
    receipts: Option<PathBuf>,
    /// Seconds to wait for a witnessed checkpoint covering the records.
    #[arg(long, default_value_t = 120)]
    receipt_wait: u64,
}

/// A record to send, and where it came from (for messages).
#[derive(Clone)]
struct Input {
    /// Its file, or manifest and line.
    source: String,
    /// The signed record.
    bytes: Vec<u8>,
}

/// The records to send, in order, read from the inputs.
fn read_records(inputs: &[PathBuf]) -> Result<Vec<Input>, Failure> {
    let mut records = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .map_err(|e| Failure::new(Exit::Usage, format!("{}: {e}", input.display())))?;
        if meta.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| Failure::new(Exit::Usage, format!("{}: {e}", input.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for file in files {
                records.push(Input {
                    bytes: read_file(&file, "record")?,
                    source: file.display().to_string(),
                });
            }
        } else if input.extension().is_some_and(|e| e == "csv") {
            // A CSV manifest: a `path` column of record files, relative to it.
            let text = String::from_utf8(read_file(input, "manifest")?).map_err(|_| {
                Failure::new(Exit::Malformed, format!("{}: not UTF-8", input.display()))
            })?;
            let mut lines = text.lines();
            let header: Vec<&str> = lines
                .next()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .collect();
            let column = header.iter().position(|h| *h == "path").ok_or_else(|| {
                Failure::new(
                    Exit::Malformed,
                    format!("{}: no `path` column in the header", input.display()),
                )
            })?;
            let base = input.parent().unwrap_or(Path::new("."));
            for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let path = line.split(',').nth(column).map(str::trim).ok_or_else(|| {
                    Failure::new(
                        Exit::Malformed,
                        format!("{}:{}: no path", input.display(), i + 2),
                    )
                })?;
                let file = base.join(path);
                records.push(Input {
                    bytes: read_file(&file, "record")?,
                    source: file.display().to_string(),
                });
            }
        } else if input.extension().is_some_and(|e| e == "jsonl") {
            let text = String::from_utf8(read_file(input, "manifest")?).map_err(|_| {
                Failure::new(Exit::Malformed, format!("{}: not UTF-8", input.display()))
            })?;
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let bad = || {
                    Failure::new(
                        Exit::Malformed,
                        format!(
                            "{}:{}: expected a JSON string or {{\"record\": ...}}",
                            input.display(),
                            i + 1
                        ),
                    )
                };
                let value: Value = serde_json::from_str(line).map_err(|_| bad())?;
                let record = value
                    .as_str()
                    .or_else(|| value["record"].as_str())
                    .ok_or_else(bad)?;
                records.push(Input {
                    bytes: record.as_bytes().to_vec(),
                    source: format!("{}:{}", input.display(), i + 1),
                });
            }
        } else {
            records.push(Input {
                bytes: read_file(input, "record")?,
                source: input.display().to_string(),
            });
        }
    }
    Ok(records)
}

/// What the resume file holds: which run it is for, what is done, and
/// which records the log refused (by their place in the run, with why).
struct Resume {
    path: PathBuf,
    run: String,
    batches: usize,
    done: BTreeSet<usize>,
    refused: BTreeMap<usize, String>,
}

impl Resume {
    /// The resume file at `path`; one of another run is an error when it
    /// was named (`explicit`), and is started afresh when it is the
    /// default one (the inputs changed since).
    fn load(path: &Path, explicit: bool, run: &str, batches: usize) -> Result<Resume, Failure> {
        let mut resume = Resume {
            path: path.to_owned(),
            run: run.to_owned(),
            batches,
            done: BTreeSet::new(),
            refused: BTreeMap::new(),
        };
        let Ok(bytes) = std::fs::read(path) else {
            return Ok(resume);
        };
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Failure::new(
                Exit::Malformed,
                format!("the resume file {}: {e}", path.display()),
            )
        })?;
        if value["run"] != json!(run) {
            return match explicit {
                false => Ok(resume),
                true => Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "{} belongs to another set of records (or they changed); remove it or pass --resume <new file>",
                        path.display()
                    ),
                )),
            };
        }
        resume.done = value["done"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_u64)
                    .map(|n| n as usize)
                    .collect()
            })
            .unwrap_or_default();
        resume.refused = value["refused"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        Some((
                            r["record"].as_u64()? as usize,
                            r["error"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(resume)
    }

    fn save(&self) -> Result<(), Failure> {
        let state = if self.done.len() == self.batches {
            "done"
        } else {
            "in progress"
        };
        let refused: Vec<Value> = self
            .refused
            .iter()
            .map(|(i, why)| json!({ "record": i, "error": why }))
            .collect();
        let value = json!({ "run": self.run, "batches": self.batches, "state": state,
                            "done": self.done, "refused": refused });
        state::write(&self.path, value.to_string().as_bytes())
    }
}

/// Sends one batch until the log has answered for each record; returns the
/// records it refused (their place in the batch), with their reasons. A
/// log that cannot be reached, keeps failing, or keeps answering "busy"
/// for the whole batch is a network failure.
async fn send_batch(http: &Http, records: &[Input]) -> Result<Vec<(usize, String)>, Failure> {
    let mut pending: Vec<usize> = (0..records.len()).collect();
    let mut refused = Vec::new();
    let (mut failed, mut busy_rounds) = (0, 0);
    let url = format!("{}/add-batch", http.base());
    while !pending.is_empty() {
        let body = json!({ "records": pending.iter().map(|&i| String::from_utf8_lossy(&records[i].bytes)).collect::<Vec<_>>() });
        let reply = http.post_json("/add-batch", &body).await?;
        let said = || String::from_utf8_lossy(&reply.body).trim().to_owned();
        let wait = if reply.status.is_success() {
            let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
            let results = answer["results"]
                .as_array()
                .filter(|r| r.len() == pending.len());
            match results {
                // An answer that does not fit: send the batch again.
                None => {
                    failed += 1;
                    if failed >= ATTEMPTS {
                        return Err(Failure::new(
                            Exit::Malformed,
                            format!(
                                "{url}: an answer that does not fit the batch ({failed} times): {}",
                                said()
                            ),
                        ));
                    }
                    backoff(failed + 1)
                }
                Some(results) => {
                    failed = 0;
                    let mut again = Vec::new();
                    let mut last_busy = String::new();
                    for (&i, result) in pending.iter().zip(results) {
                        let why = result["error"].as_str().unwrap_or("refused").to_owned();
                        match result["status"].as_u64() {
                            None => {}
                            Some(429 | 503) => {
                                again.push(i);
                                last_busy = why;
                            }
                            Some(_) => refused.push((i, why)),
                        }
                    }
                    busy_rounds = match again.len() == pending.len() {
                        true => busy_rounds + 1,
                        false => 0,
                    };
                    if busy_rounds >= BUSY_ROUNDS {
                        return Err(Failure::new(
                            Exit::Network,
                            format!(
                                "{url}: every record of a batch of {} answered \"later\" {busy_rounds} times in a row: {last_busy} (a batch larger than the agency's burst never fits: try a smaller --batch)",
                                records.len()
                            ),
                        ));
                    }
                    pending = again;
                    reply.retry_after.unwrap_or_else(|| backoff(2))
                }
            }
        } else if busy(reply.status) {
            busy_rounds += 1;
            if busy_rounds >= BUSY_ROUNDS {
                return Err(Failure::new(
                    Exit::Network,
                    format!(
                        "{url}: {} {busy_rounds} times in a row: {}",
                        reply.status,
                        said()
                    ),
                ));
            }
            reply
                .retry_after
                .unwrap_or_else(|| backoff(busy_rounds + 1))
        } else if reply.status.is_client_error() {
            for &i in &pending {
                refused.push((i, format!("{}: {}", reply.status, said())));
            }
            pending.clear();
            Duration::ZERO
        } else {
            // Server errors: the log may be restarting.
            failed += 1;
            if failed >= ATTEMPTS {
                return Err(Failure::new(
                    Exit::Network,
                    format!(
                        "{url}: {} (after {failed} attempts): {}",
                        reply.status,
                        said()
                    ),
                ));
            }
            backoff(failed + 1)
        };
        if !pending.is_empty() {
            tokio::time::sleep(wait.min(MAX_PAUSE)).await;
        }
    }
    Ok(refused)
}

/// A file-name-safe form of a record field.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Fetches the receipt of every record (but those refused) that has none
/// in `dir` yet: its index by its leaf hash, then `/receipt/<index>` once
/// a witnessed checkpoint covers it. Returns how many were written.
async fn fetch_receipts(
    http: &Http,
    records: &[Input],
    refused: &BTreeMap<usize, String>,
    dir: &Path,
    wait: u64,
) -> Result<u64, Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(Exit::Io, format!("{}: {e}", dir.display())))?;
    let deadline = Instant::now() + Duration::from_secs(wait);
    let mut written = 0;
    for (n, input) in records.iter().enumerate() {
        if refused.contains_key(&n) {
            continue;
        }
        let Ok(signed) = gazette_client::record::SignedRecord::parse(&input.bytes) else {
            continue; // refused by the log, reported above
        };
        let r = &signed.record;
        let file = dir.join(format!(
            "{}_{}_{}.tlog-proof",
            safe(&r.issuer),
            safe(&r.kind),
            safe(&r.id)
        ));
        if file.exists() {
            continue;
        }
        let leaf = escape(&signed.leaf_hash().to_base64());
        // The lookup index trails the log by a few batches: retry.
        let index = loop {
            let reply = http.get_reply(&format!("/lookup?leaf_hash={leaf}")).await?;
            let found: Option<Value> = serde_json::from_slice(&reply.body).ok();
            if let Some(index) = found
                .as_ref()
                .and_then(|f| f["matches"][0]["index"].as_u64())
            {
                break index;
            }
            if Instant::now() > deadline {
                return Err(Failure::new(
                    Exit::Network,
                    format!(
                        "{} ({} {} {}): not found in the log within {wait} s",
                        input.source, r.issuer, r.kind, r.id
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        loop {
            let reply = http.get_reply(&format!("/receipt/{index}")).await?;
            if reply.status.is_success() {
                gazette_kit::durable::write_file(&file, &reply.body, None)
                    .map_err(|e| Failure::new(Exit::Io, format!("{}: {e}", file.display())))?;
                written += 1;
                break;
            }
            if Instant::now() > deadline {
                return Err(Failure::new(
                    Exit::Network,
                    format!(
                        "no witnessed checkpoint covers entry {index} ({}) within {wait} s; run again later",
                        input.source
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(written)
}

/// A duration as people read it: `45 s`, `3 min 05 s`, `2 h 10 min`.
fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s / 60 % 60),
    }
}

/// Records per second, as a whole number, over `sent` records in `elapsed`
/// (`None` before a second has passed or a record was sent).
fn rate(sent: u64, elapsed: Duration) -> Option<u64> {
    let secs = elapsed.as_secs_f64();
    (sent > 0 && secs >= 1.0).then(|| (sent as f64 / secs).round() as u64)
}

/// The progress bar: records done of all, the rate of this run's records
/// only (a resumed run does not count what earlier runs sent), and the
/// time left at that rate.
fn progress_bar(total: u64, already: u64, started: Instant, shown: bool) -> ProgressBar {
    let bar = match shown {
        true => ProgressBar::new(total),
        false => ProgressBar::hidden(),
    };
    let this_run =
        move |state: &ProgressState| rate(state.pos().saturating_sub(already), started.elapsed());
    let style =
        ProgressStyle::with_template("{bar:40} {done}/{total} records, {rate}, {left} left")
            .expect("a valid template")
            .with_key(
                "done",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", count(state.pos()));
                },
            )
            .with_key(
                "total",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", count(state.len().unwrap_or(0)));
                },
            )
            .with_key(
                "rate",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = match this_run(state) {
                        Some(r) => write!(w, "{}/s", count(r)),
                        None => write!(w, "…/s"),
                    };
                },
            )
            .with_key(
                "left",
                move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let left = state.len().unwrap_or(0).saturating_sub(state.pos());
                    let _ = match this_run(state) {
                        Some(r) if r > 0 => {
                            write!(w, "{}", duration(Duration::from_secs(left.div_ceil(r))))
                        }
                        _ => write!(w, "…"),
                    };
                },
            );
    bar.set_style(style);
    bar.set_position(already);
    bar
}

/// How the upload ended, when not with every batch answered.
enum Stopped {
    Interrupted,
    Failed(Failure),
}

pub async fn run(args: &Args, out: Output) -> Result<(), Failure> {
    if args.batch == 0 || args.concurrency == 0 {
        return Err(Failure::new(
            Exit::Usage,
            "--batch and --concurrency must be at least 1",
        ));
    }
    let records = read_records(&args.inputs)?;
    let mut fingerprint = Sha256::new();
    for record in &records {
        fingerprint.update(Sha256::digest(&record.bytes));
    }
    let run_id = hex_encode(&fingerprint.finalize());
    let batches: Vec<&[Input]> = records.chunks(args.batch).collect();
    let resume_path = match &args.resume {
        Some(path) => path.clone(),
        None => state::resume_file(&args.log, &args.inputs)?,
    };
    let resume = Resume::load(&resume_path, args.resume.is_some(), &run_id, batches.len())?;
    let total = records.len() as u64;
    let done_records =
        |resume: &Resume| -> u64 { resume.done.iter().map(|&b| batches[b].len() as u64).sum() };
    let already = done_records(&resume);
    let todo: Vec<usize> = (0..batches.len())
        .filter(|b| !resume.done.contains(b))
        .collect();
    let started = Instant::now();
    let progress = progress_bar(total, already, started, out.human());
    let resume = Arc::new(Mutex::new(resume));
    let http = Http::new(&args.log)?;
    let mut todo = todo.into_iter();
    let mut tasks = tokio::task::JoinSet::new();
    let mut stop = None;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        while stop.is_none() && tasks.len() < args.concurrency {
            let Some(b) = todo.next() else { break };
            let (http, resume, progress) = (http.clone(), resume.clone(), progress.clone());
            let batch: Vec<Input> = batches[b].to_vec();
            let first = b * args.batch;
            tasks.spawn(async move {
                let refused = send_batch(&http, &batch).await?;
                // Marked done only once the log answered for every record:
                // a batch cut short is sent again, which the log answers
                // with the indexes it has.
                let mut resume = resume.lock().expect("lock");
                resume.done.insert(b);
                for (i, why) in refused {
                    resume.refused.insert(first + i, why);
                }
                resume.save()?;
                progress.inc(batch.len() as u64);
                Ok::<(), Failure>(())
            });
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok(Ok(()))) | None => {}
                Some(Ok(Err(failure))) => {
                    stop.get_or_insert(Stopped::Failed(failure));
                    tasks.abort_all();
                }
                Some(Err(e)) if e.is_cancelled() => {}
                Some(Err(e)) => {
                    stop.get_or_insert(Stopped::Failed(Failure::new(Exit::Io, e.to_string())));
                    tasks.abort_all();
                }
            },
            _ = &mut ctrl_c, if stop.is_none() => {
                stop = Some(Stopped::Interrupted);
                tasks.abort_all();
            }
        }
    }
    progress.finish_and_clear();
    // Every task has ended: the state is this run's last word.
    let (logged_so_far, refused) = {
        let resume = resume.lock().expect("lock");
        resume.save()?;
        (done_records(&resume), resume.refused.clone())
    };
    let resumable = |what: &str| {
        format!(
            "{what} at {} of {} records; run the same command to resume",
            count(logged_so_far),
            count(total)
        )
    };
    match stop {
        Some(Stopped::Interrupted) => {
            // Over the `^C` the terminal echoed.
            if std::io::stderr().is_terminal() {
                eprint!("\r");
            }
            return Err(Failure::new(Exit::Interrupted, resumable("interrupted")));
        }
        Some(Stopped::Failed(failure)) => {
            return Err(Failure::new(
                failure.exit,
                format!("{} ({})", failure.reason, resumable("stopped")),
            ));
        }
        None => {}
    }
    let elapsed = started.elapsed();
    let sent = logged_so_far - already;
    let receipts = match &args.receipts {
        None => None,
        Some(dir) => {
            let fetched = fetch_receipts(&http, &records, &refused, dir, args.receipt_wait);
            tokio::select! {
                written = fetched => Some(written?),
                _ = tokio::signal::ctrl_c() => {
                    return Err(Failure::new(
                        Exit::Interrupted,
                        format!(
                            "interrupted while fetching receipts: all {} records are sent; run the same command to fetch the rest",
                            count(total)
                        ),
                    ));
                }
            }
        }
    };
    for (i, why) in &refused {
        eprintln!("gazette: {} refused: {why}", records[*i].source);
    }
    let logged = total - refused.len() as u64;
    out.json(&json!({
        "log": args.log.as_str(),
        "records": total,
        "logged": logged,
        "refused": refused.len(),
        "refusals": refused
            .iter()
            .map(|(i, why)| json!({ "source": records[*i].source, "error": why }))
            .collect::<Vec<_>>(),
        "sent_this_run": sent,
        "seconds": elapsed.as_secs(),
        "records_per_second": rate(sent, elapsed),
        "receipts": args.receipts,
        "receipts_written": receipts,
        "resume": resume_path,
    }));
    let receipts_in = match &args.receipts {
        Some(dir) => format!(", receipts in {}", dir.display()),
        None => String::new(),
    };
    out.line(format!(
        "{} logged, {} refused{receipts_in}",
        count(logged),
        count(refused.len() as u64)
    ));
    out.detail(format!(
        "this run sent {} in {}{}",
        plural(sent, "record"),
        duration(elapsed),
        rate(sent, elapsed).map_or(String::new(), |r| format!(" ({}/s)", count(r)))
    ));
    if let Some(written) = receipts {
        out.detail(format!("{} written", plural(written, "receipt")));
    }
    out.detail(format!("resume file {}", resume_path.display()));
    if refused.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        Exit::Refused,
        format!(
            "{} of {} refused by the log",
            count(refused.len() as u64),
            plural(total, "record")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_file_of_other_records_is_refused_when_named_and_replaced_by_default() {
        let dir = tempfile_dir();
        let path = dir.join("upload.resume");
        let mut first = Resume::load(&path, true, "run-a", 3).unwrap();
        first.done.insert(1);
        first.refused.insert(4, "403: unknown issuer key".into());
        first.save().unwrap();
        let again = Resume::load(&path, true, "run-a", 3).unwrap();
        assert_eq!(again.done, BTreeSet::from([1]));
        assert_eq!(
            again.refused.get(&4).map(String::as_str),
            Some("403: unknown issuer key")
        );
        let named = Resume::load(&path, true, "run-b", 3).err().unwrap();
        assert_eq!(named.exit, Exit::Usage);
        assert!(
            named.reason.contains("another set of records"),
            "{}",
            named.reason
        );
        let by_default = Resume::load(&path, false, "run-b", 3).unwrap();
        assert!(by_default.done.is_empty() && by_default.refused.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A fresh folder under the system's temporary one.
    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "gazette-submit-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn rates_are_whole_numbers_of_this_runs_records() {
        assert_eq!(rate(0, Duration::from_secs(5)), None);
        assert_eq!(rate(10, Duration::from_millis(500)), None);
        assert_eq!(rate(1000, Duration::from_millis(2218)), Some(451));
        assert_eq!(duration(Duration::from_secs(45)), "45 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(duration(Duration::from_secs(7800)), "2 h 10 min");
    }
}
