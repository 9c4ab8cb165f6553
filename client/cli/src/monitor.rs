//! `gazette monitor`: follows a log through its tiles. Every new checkpoint
//! must verify under the policy and extend the trusted one (else exit 10
//! with the evidence); every entry bundle is checked against the tree;
//! every record's signature against the agency keys the log lists in
//! `/info`; every index commitment's segment roots against the entries
//! (rebuilt here). It reports per issuer: records, revocations, and,
//! log-wide, entries signed by unknown keys, bad signatures and conflicting
//! ids; a wrong index root exits 10 with the evidence.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use gazette_client::index::commitment::{IndexCommitment, Segment};
use gazette_client::index::segment_root;
use gazette_client::merkle::Hash;
use gazette_client::note::Verifier;
use gazette_client::record::{RecordError, SignedRecord};
use gazette_client::tiles::{
    HEIGHT, Tile, TileLevel, TilePlan, check_bundle_against_tile, parse_entry_bundle,
    tile_hash_indexes,
};

use super::online::{LogArgs, Session};
use super::{Exit, Failure, Output, count, plural, state};

/// `gazette monitor --log <url> --policy <file>`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    log: LogArgs,
    /// The monitor's progress and findings, kept between runs (default:
    /// `monitor.json` in this log's folder of the state directory).
    #[arg(long)]
    progress: Option<PathBuf>,
    /// Check up to the newest checkpoint once, then stop.
    #[arg(long)]
    once: bool,
    /// Seconds between checks when following.
    #[arg(long, default_value_t = 10)]
    interval: u64,
    /// An agency's verifier key (repeatable): records are checked against
    /// these. Without any, the keys the log registers (`/info`).
    #[arg(long)]
    agency: Vec<String>,
}

/// What the monitor has read and found.
#[derive(Default)]
struct Progress {
    scanned: u64,
    issuers: BTreeMap<String, (u64, u64)>,
    unknown_key: Vec<u64>,
    bad_signature: Vec<u64>,
    not_a_record: Vec<u64>,
    conflicts: Vec<(u64, u64)>,
    /// The segments of the last index commitment checked.
    index: Vec<Segment>,
}

impl Progress {
    fn load(path: &PathBuf) -> Progress {
        let Ok(value) =
            std::fs::read(path).map(|b| serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null))
        else {
            return Progress::default();
        };
        let list = |key: &str| -> Vec<u64> {
            value[key]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default()
        };
        Progress {
            scanned: value["scanned"].as_u64().unwrap_or(0),
            issuers: value["issuers"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                (
                                    v["records"].as_u64().unwrap_or(0),
                                    v["revocations"].as_u64().unwrap_or(0),
                                ),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            unknown_key: list("unknown_key"),
            bad_signature: list("bad_signature"),
            not_a_record: list("not_a_record"),
            conflicts: value["conflicts"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| Some((p[0].as_u64()?, p[1].as_u64()?)))
                        .collect()
                })
                .unwrap_or_default(),
            index: value["index_segments"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| {
                            Some(Segment {
                                start: s[0].as_u64()?,
                                end: s[1].as_u64()?,
                                root: Hash::from_base64(s[2].as_str()?)?,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn to_json(&self, size: u64) -> Value {
        let issuers: serde_json::Map<String, Value> = self
            .issuers
            .iter()
            .map(|(k, (records, revocations))| {
                (
                    k.clone(),
                    json!({ "records": records, "revocations": revocations }),
                )
            })
            .collect();
        json!({
            "scanned": self.scanned,
            "size": size,
            "issuers": issuers,
            "unknown_key": self.unknown_key,
            "bad_signature": self.bad_signature,
            "not_a_record": self.not_a_record,
            "conflicts": self.conflicts.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
            "index_segments": self
                .index
                .iter()
                .map(|s| json!([s.start, s.end, s.root.to_base64()]))
                .collect::<Vec<_>>(),
        })
    }

    fn findings(&self) -> usize {
        self.unknown_key.len()
            + self.bad_signature.len()
            + self.not_a_record.len()
            + self.conflicts.len()
    }
}

/// Reads entries `from..to` of the tree `(size, root)`, bundle by
/// bundle, each checked against the tree's level-0 hashes.
async fn read_entries(
    session: &Session,
    (size, root): (u64, Hash),
    from: u64,
    to: u64,
    mut each: impl FnMut(u64, &[u8]),
) -> Result<(), Failure> {
    let mut next = from;
    while next < to.min(size) {
        let index = next >> HEIGHT;
        let start = index << HEIGHT;
        let width = (size - start).min(1 << HEIGHT) as u32;
        let hashes = Tile {
            height: HEIGHT,
            level: TileLevel::Hashes(0),
            index,
            width,
        };
        let bundle = hashes.entries();
        let data = session.http.tile(&bundle).await?;
        let entries = parse_entry_bundle(&bundle, &data)
            .map_err(|e| Failure::new(Exit::Malformed, format!("{}: {e}", bundle.path())))?;
        let tile_data = level_zero_tile(session, &hashes, size, &root)
            .await
            .map_err(|reason| {
                Failure::new(Exit::NotIncluded, format!("{}: {reason}", hashes.path()))
            })?;
        check_bundle_against_tile(&bundle, &entries, &tile_data).map_err(|e| {
            Failure::new(
                Exit::NotIncluded,
                format!("the log serves entries that are not its tree's: {e}"),
            )
        })?;
        for (i, entry) in entries.iter().enumerate().skip((next - start) as usize) {
            if start + (i as u64) < to {
                each(start + i as u64, entry);
            }
        }
        next = start + u64::from(width);
    }
    Ok(())
}

/// The data of the level-0 hash tile `tile`, authenticated against the
/// tree's root: the tiles the plan names are fetched in one go, then
/// checked. A tile that cannot be fetched fails as one that does not
/// hash to the root does (the reason says which).
async fn level_zero_tile(
    session: &Session,
    tile: &Tile,
    size: u64,
    root: &Hash,
) -> Result<Vec<u8>, String> {
    let plan = TilePlan::new(HEIGHT, size, &tile_hash_indexes(tile)).map_err(|e| e.to_string())?;
    let data = session
        .http
        .tiles(plan.tiles())
        .await
        .map_err(|f| f.reason)?;
    let hashes = plan.hashes(root, &data).map_err(|e| e.to_string())?;
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Checks each index commitment: every segment it lists that the last
/// one checked did not is rebuilt from its entries (`docs/INDEX.md`,
/// section 6). A root the entries do not give is the log lying about its
/// index: exit 10, with the evidence written beside the progress file.
async fn check_index(
    session: &Session,
    tree: (u64, Hash),
    commitments: &[(u64, Vec<u8>, IndexCommitment)],
    progress: &mut Progress,
    progress_path: &std::path::Path,
) -> Result<(), Failure> {
    for (at, entry, commitment) in commitments {
        for segment in &commitment.segments {
            if progress.index.contains(segment) {
                continue;
            }
            let mut entries = Vec::new();
            read_entries(session, tree, segment.start, segment.end, |i, e| {
                entries.push((i, e.to_vec()))
            })
            .await?;
            let rebuilt = segment_root(entries.iter().map(|(i, e)| (*i, e.as_slice())));
            if rebuilt != segment.root {
                let path = progress_path.with_extension("index-evidence.json");
                let evidence = json!({
                    "commitment_index": at,
                    "commitment": String::from_utf8_lossy(entry),
                    "segment": [segment.start, segment.end],
                    "committed_root": segment.root.to_base64(),
                    "root_from_entries": rebuilt.to_base64(),
                    "tree_size": tree.0,
                    "tree_root": tree.1.to_base64(),
                });
                let _ =
                    gazette_kit::durable::write_file(&path, evidence.to_string().as_bytes(), None);
                return Err(Failure::new(
                    Exit::Misbehaviour,
                    format!(
                        "the index commitment at entry {at} gives entries {}..{} the root {}, but they give {}: the log lied about its index (evidence in {})",
                        segment.start,
                        segment.end,
                        segment.root,
                        rebuilt,
                        path.display()
                    ),
                ));
            }
        }
        progress.index = commitment.segments.clone();
    }
    Ok(())
}

async fn check_once(
    session: &Session,
    args: &Args,
    progress_path: &std::path::Path,
    out: Output,
    seen: &mut HashMap<String, ([u8; 32], u64)>,
) -> Result<usize, Failure> {
    let verified = session.trusted_checkpoint().await?;
    let (size, root) = (verified.checkpoint.size, verified.checkpoint.root);
    let agencies: Vec<Verifier> = match args.agency.is_empty() {
        true => session.registered_agencies().await?,
        false => crate::agency_keys(&args.agency)?,
    };
    let mut progress = Progress::load(&progress_path.to_path_buf());
    let before = progress.findings();
    let from = progress.scanned;
    if progress.scanned > size {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{} is ahead of the trusted tree: another log's?",
                progress_path.display()
            ),
        ));
    }
    let mut commitments = Vec::new();
    read_entries(
        session,
        (size, root),
        progress.scanned,
        size,
        |index, entry| {
            // The verifiable index's commitment that ends each batch: checked
            // below, once the entries are read.
            if let Some(c) = IndexCommitment::parse(entry).filter(|c| c.size == index) {
                return commitments.push((index, entry.to_vec(), c));
            }
            let parsed = match SignedRecord::verify(entry, &agencies) {
                Ok(signed) => signed,
                Err(RecordError::UnknownIssuer { .. }) => return progress.unknown_key.push(index),
                Err(RecordError::BadSignature { .. }) => return progress.bad_signature.push(index),
                Err(_) => return progress.not_a_record.push(index),
            };
            let r = &parsed.record;
            let counts = progress.issuers.entry(r.issuer.clone()).or_default();
            counts.0 += 1;
            if r.revokes.is_some() {
                counts.1 += 1;
            }
            let key = format!("{}\0{}\0{}", r.issuer, r.kind, r.id);
            match seen.get(&key) {
                Some((digest, first)) if *digest != r.digest => {
                    progress.conflicts.push((*first, index))
                }
                Some(_) => {}
                None => {
                    seen.insert(key, (r.digest, index));
                }
            }
        },
    )
    .await?;
    check_index(
        session,
        (size, root),
        &commitments,
        &mut progress,
        progress_path,
    )
    .await?;
    progress.scanned = size;
    let report = progress.to_json(size);
    state::write(progress_path, report.to_string().as_bytes())?;
    out.json(&report);
    for (issuer, (records, revocations)) in &progress.issuers {
        out.line(format!(
            "{issuer}: {}, {}",
            plural(*records, "record"),
            plural(*revocations, "revocation")
        ));
    }
    if progress.findings() > 0 {
        let list = |n: usize, what: &str, at: String| match n {
            0 => None,
            _ => Some(format!("{} {what} {at}", count(n as u64))),
        };
        let parts: Vec<String> = [
            list(
                progress.unknown_key.len(),
                "by unknown keys",
                format!("{:?}", progress.unknown_key),
            ),
            list(
                progress.bad_signature.len(),
                if progress.bad_signature.len() == 1 {
                    "bad signature"
                } else {
                    "bad signatures"
                },
                format!("{:?}", progress.bad_signature),
            ),
            list(
                progress.not_a_record.len(),
                "not records",
                format!("{:?}", progress.not_a_record),
            ),
            list(
                progress.conflicts.len(),
                if progress.conflicts.len() == 1 {
                    "conflicting id"
                } else {
                    "conflicting ids"
                },
                format!("{:?}", progress.conflicts),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        out.line(format!("findings (entry indexes): {}", parts.join(", ")));
    }
    let new = progress.findings() - before;
    out.line(format!(
        "{} of {} checked ({} new), up to its checkpoint of size {}: {}",
        plural(size, "entry"),
        verified.checkpoint.origin,
        count(size - from),
        count(size),
        match (progress.findings(), new) {
            (0, _) => "no findings".to_owned(),
            (all, 0) => format!("{}, none new", plural(all as u64, "finding")),
            (all, new) => format!(
                "{}, {} new",
                plural(all as u64, "finding"),
                count(new as u64)
            ),
        }
    ));
    out.detail(format!("progress kept in {}", progress_path.display()));
    out.detail(format!(
        "trusted checkpoint kept in {}",
        session.state.display()
    ));
    Ok(new)
}

pub async fn run(args: &Args, out: Output) -> Result<(), Failure> {
    let session = Session::open(&args.log)?;
    let progress = match &args.progress {
        Some(path) => path.clone(),
        None => state::log_dir(&args.log.log, session.policy())?.join("monitor.json"),
    };
    // Ids seen this run (conflicts across runs are found from the log's
    // own duplicate check: it refuses them).
    let mut seen = HashMap::new();
    loop {
        let new = check_once(&session, args, &progress, out, &mut seen).await?;
        if args.once {
            if new > 0 {
                return Err(Failure::new(
                    Exit::Findings,
                    format!(
                        "{} (see above and {})",
                        plural(new as u64, "new finding"),
                        progress.display()
                    ),
                ));
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(args.interval.max(1))).await;
    }
}
