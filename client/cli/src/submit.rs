//! `gazette submit`: bulk upload through `/add-batch`. Records are read in
//! a fixed order (files and directories sorted, manifests line by line)
//! and sent in batches with bounded concurrency; 429 and 503 are retried
//! after `Retry-After` (or a growing pause), other failures after a
//! growing pause. A resume file, rewritten atomically after every batch,
//! says which batches are done, so a run that was stopped continues where
//! it stopped: the log gets every record, and (it recognises a record sent
//! again) each once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use gazette_client::encoding::hex_encode;

use super::http::{Http, escape};
use super::{Exit, Failure, read_file};

/// `gazette submit [--log <url>] [--resume <file>] <inputs>...`.
#[derive(clap::Args)]
pub struct Args {
    /// Signed record files, directories of them, or JSONL manifests
    /// (`.jsonl`: one JSON string, or `{"record": ...}`, per line).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The log's URL.
    #[arg(long, env = "GAZETTE_LOG_URL")]
    log: String,
    /// The resume file (default: `gazette-submit.resume` here).
    #[arg(long, default_value = "gazette-submit.resume")]
    resume: PathBuf,
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
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// The records to send, in order, read from the inputs.
fn read_records(inputs: &[PathBuf]) -> Result<Vec<Vec<u8>>, Failure> {
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
                records.push(read_file(&file, "record")?);
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
                records.push(read_file(&base.join(path), "record")?);
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
                records.push(record.as_bytes().to_vec());
            }
        } else {
            records.push(read_file(input, "record")?);
        }
    }
    Ok(records)
}

/// What the resume file holds: which run it is for, and what is done.
struct Resume {
    path: PathBuf,
    run: String,
    batches: usize,
    done: BTreeSet<usize>,
}

impl Resume {
    fn load(path: &Path, run: &str, batches: usize) -> Result<Resume, Failure> {
        let mut resume = Resume {
            path: path.to_owned(),
            run: run.to_owned(),
            batches,
            done: BTreeSet::new(),
        };
        if let Ok(bytes) = std::fs::read(path) {
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                Failure::new(
                    Exit::Malformed,
                    format!("the resume file {}: {e}", path.display()),
                )
            })?;
            if value["run"] != json!(run) {
                return Err(Failure::new(
                    Exit::Usage,
                    format!(
                        "{} belongs to another set of records (or they changed); remove it or pass --resume <new file>",
                        path.display()
                    ),
                ));
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
        }
        Ok(resume)
    }

    fn save(&self) -> Result<(), Failure> {
        let state = if self.done.len() == self.batches {
            "done"
        } else {
            "in progress"
        };
        let value =
            json!({ "run": self.run, "batches": self.batches, "state": state, "done": self.done });
        gazette_kit::durable::write_file(&self.path, value.to_string().as_bytes(), None).map_err(
            |e| {
                Failure::new(
                    Exit::Io,
                    format!("writing the resume file {}: {e}", self.path.display()),
                )
            },
        )
    }
}

/// Sends one batch until the log has answered for each record; returns the
/// records it refused, with their reasons.
async fn send_batch(http: &Http, records: &[Vec<u8>]) -> Vec<(usize, String)> {
    let mut pending: Vec<usize> = (0..records.len()).collect();
    let mut refused = Vec::new();
    let mut pause = Duration::from_millis(200);
    while !pending.is_empty() {
        let body = json!({ "records": pending.iter().map(|&i| String::from_utf8_lossy(&records[i])).collect::<Vec<_>>() });
        let mut wait = None;
        match http.post_json("/add-batch", &body).await {
            Ok(reply) if reply.status.is_success() => {
                let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
                let Some(results) = answer["results"]
                    .as_array()
                    .filter(|r| r.len() == pending.len())
                else {
                    // An answer that does not fit: send the batch again.
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                    continue;
                };
                let mut again = Vec::new();
                for (&i, result) in pending.iter().zip(results) {
                    match result["status"].as_u64() {
                        None => {}
                        Some(429 | 503) => again.push(i),
                        Some(_) => refused
                            .push((i, result["error"].as_str().unwrap_or("refused").to_owned())),
                    }
                }
                pending = again;
                if !pending.is_empty() {
                    wait = Some(reply.retry_after.unwrap_or(pause));
                }
            }
            Ok(reply) if matches!(reply.status.as_u16(), 429 | 503) => {
                wait = Some(reply.retry_after.unwrap_or(pause));
            }
            Ok(reply) if reply.status.is_client_error() => {
                let text = String::from_utf8_lossy(&reply.body);
                for &i in &pending {
                    refused.push((i, format!("{}: {}", reply.status, text.trim())));
                }
                pending.clear();
            }
            // Server errors and network failures: the log may be restarting.
            _ => wait = Some(pause),
        }
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
            pause = (pause * 2).min(Duration::from_secs(30));
        }
    }
    refused
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

/// Fetches the receipt of every record that has none in `dir` yet: its
/// index by its leaf hash, then `/receipt/<index>` once a witnessed
/// checkpoint covers it.
async fn fetch_receipts(
    http: &Http,
    records: &[Vec<u8>],
    dir: &Path,
    args: &Args,
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::new(Exit::Io, format!("{}: {e}", dir.display())))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(args.receipt_wait);
    for record in records {
        let Ok(signed) = gazette_client::record::SignedRecord::parse(record) else {
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
            let found: Option<Value> = http
                .get(&format!("/lookup?leaf_hash={leaf}"))
                .await
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            if let Some(index) = found
                .as_ref()
                .and_then(|f| f["matches"][0]["index"].as_u64())
            {
                break index;
            }
            if std::time::Instant::now() > deadline {
                return Err(Failure::new(
                    Exit::Network,
                    format!("{} {} {}: not found in the log", r.issuer, r.kind, r.id),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        loop {
            if let Ok(receipt) = http.get(&format!("/receipt/{index}")).await {
                gazette_kit::durable::write_file(&file, &receipt, None)
                    .map_err(|e| Failure::new(Exit::Io, format!("{}: {e}", file.display())))?;
                break;
            }
            if std::time::Instant::now() > deadline {
                return Err(Failure::new(
                    Exit::Network,
                    format!(
                        "no witnessed checkpoint covers entry {index} within {} s; run again later",
                        args.receipt_wait
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

pub async fn run(args: &Args) -> Result<(), Failure> {
    if args.batch == 0 || args.concurrency == 0 {
        return Err(Failure::new(
            Exit::Usage,
            "--batch and --concurrency must be at least 1",
        ));
    }
    let records = read_records(&args.inputs)?;
    let mut fingerprint = Sha256::new();
    for record in &records {
        fingerprint.update(Sha256::digest(record));
    }
    let run_id = hex_encode(&fingerprint.finalize());
    let batches: Vec<&[Vec<u8>]> = records.chunks(args.batch).collect();
    let resume = Resume::load(&args.resume, &run_id, batches.len())?;
    let todo: Vec<usize> = (0..batches.len())
        .filter(|b| !resume.done.contains(b))
        .collect();
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(records.len() as u64)
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records, {per_sec}, ETA {eta}")
            .expect("a valid template"),
    );
    progress.set_position(resume.done.iter().map(|&b| batches[b].len() as u64).sum());
    let resume = Arc::new(Mutex::new(resume));
    let http = Http::new(&args.log)?;
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut tasks = Vec::new();
    for b in todo {
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("open semaphore");
        let (http, batch) = (http.clone(), batches[b].to_vec());
        let (resume, progress, first) = (resume.clone(), progress.clone(), b * args.batch);
        tasks.push(tokio::spawn(async move {
            let refused = send_batch(&http, &batch).await;
            let saved = {
                let mut resume = resume.lock().expect("lock");
                resume.done.insert(b);
                resume.save()
            };
            progress.inc(batch.len() as u64);
            drop(permit);
            saved.map(|()| {
                refused
                    .into_iter()
                    .map(|(i, why)| (first + i, why))
                    .collect::<Vec<_>>()
            })
        }));
    }
    let mut refused = Vec::new();
    for task in tasks {
        refused.extend(
            task.await
                .map_err(|e| Failure::new(Exit::Io, e.to_string()))??,
        );
    }
    progress.finish_and_clear();
    resume.lock().expect("lock").save()?;
    if let Some(dir) = &args.receipts {
        fetch_receipts(&http, &records, dir, args).await?;
    }
    if refused.is_empty() {
        return Ok(());
    }
    for (i, why) in &refused {
        eprintln!("gazette: record {i} refused: {why}");
    }
    Err(Failure::new(
        Exit::Refused,
        format!(
            "{} of {} records refused by the log",
            refused.len(),
            records.len()
        ),
    ))
}
