//! `gazette monitor`: follows a log through its tiles. Every new checkpoint
//! must verify under the policy and extend the trusted one (else exit 10
//! with the evidence); every entry bundle is checked against the tree; the
//! agency registry is folded from the log's own registry entries
//! (`gazette_client::registry`), and every record is checked against it:
//! a key registered to its issuer whose window covers the record's index,
//! and a signature that verifies under it; every index commitment's
//! segment roots against the entries (rebuilt here). It reports per
//! issuer: records, revocations, and, log-wide, entries signed by unknown
//! keys or outside their key's window, bad signatures, conflicting ids and
//! registry entries breaking the registry's rules; a wrong index root exits
//! 10 with the evidence.
//!
//! An agency watches its own name (`--agency <name or vkey>`): every
//! registry change under it is reported, and registering a key it did not
//! give, declaring one of its keys compromised, retiring one without its
//! signature, and any record under a key it did not give, are findings;
//! `--on-finding` runs a command on them.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use gazette_client::index::commitment::{IndexCommitment, Segment};
use gazette_client::index::segment_root;
use gazette_client::merkle::Hash;
use gazette_client::note::Verifier;
use gazette_client::record::SignedRecord;
use gazette_client::registry::{Action, KeyError, Registry, SignedRegistryEntry};
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
    /// An agency to watch (repeatable): its name, or one of its keys
    /// (a vkey; the name is the key's). Every registry change under a
    /// watched name is reported; registering a key not given here,
    /// declaring a key compromised, retiring one without a given key's
    /// signature, and records under a key not given here, are findings.
    #[arg(long)]
    agency: Vec<String>,
    /// A command to run (`sh -c`) when a check makes new findings; they
    /// are in its environment as JSON, `GAZETTE_FINDINGS`.
    #[arg(long)]
    on_finding: Option<String>,
}

/// The agencies watched, each with the keys it gave (maybe none).
struct Watched(BTreeMap<String, Vec<Verifier>>);

impl Watched {
    fn parse(given: &[String]) -> Result<Watched, Failure> {
        let mut watched: BTreeMap<String, Vec<Verifier>> = BTreeMap::new();
        for value in given {
            match Verifier::parse(value) {
                Ok(key) => watched.entry(key.name().to_owned()).or_default().push(key),
                Err(_) if gazette_client::note::is_valid_key_name(value) => {
                    watched.entry(value.clone()).or_default();
                }
                Err(e) => {
                    return Err(Failure::new(
                        Exit::Usage,
                        format!("--agency {value:?} is neither a key name nor a vkey: {e}"),
                    ));
                }
            }
        }
        Ok(Watched(watched))
    }

    /// Why a registry change is a finding for the agency it concerns, if
    /// it is one.
    fn registry_finding(&self, entry: &SignedRegistryEntry) -> Option<String> {
        let given = self.0.get(&entry.entry.agency)?;
        let e = &entry.entry;
        let key = format!("{}+{:08x}", e.key.name(), e.key.key_id());
        match e.action {
            Action::Register if !given.contains(&e.key) => {
                Some(format!("a key you did not give was registered: {key}"))
            }
            Action::Compromised => Some(format!("{key} was declared compromised")),
            Action::Retire if !given.iter().any(|k| entry.signed_by(k)) => Some(format!(
                "{key} was retired without the signature of a key you gave"
            )),
            _ => None,
        }
    }
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
    /// Records under a key registered to their issuer, outside its window.
    outside_window: Vec<u64>,
    /// Records of a watched agency under a key it did not give.
    unannounced: Vec<u64>,
    /// Registry entries breaking the registry's rules: `(index, why)`.
    bad_registry: Vec<(u64, String)>,
    /// Registry changes of watched agencies: `(index, what, finding)`.
    changes: Vec<(u64, String, Option<String>)>,
    /// Every registry entry read: `(index, text)`, folded on each run.
    registry: Vec<(u64, String)>,
    /// The segments of the last index commitment checked.
    index: Vec<Segment>,
}

/// `[[index, "text"], ...]`.
fn pairs(value: &Value) -> Vec<(u64, String)> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p[0].as_u64()?, p[1].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl Progress {
    fn load(path: &PathBuf) -> Progress {
        let Ok(value) =
            std::fs::read(path).map(|b| serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null))
        else {
            return Progress::default();
        };
        // An older monitor's progress holds no registry entries (it read
        // them as "not a record"): the registry is folded from the start.
        if value["scanned"].as_u64().unwrap_or(0) > 0 && value["registry_entries"].is_null() {
            eprintln!(
                "gazette: {} is an older monitor's progress, without the agency registry: checking the log from its start",
                path.display()
            );
            return Progress::default();
        }
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
            outside_window: list("outside_window"),
            unannounced: list("unannounced_key"),
            bad_registry: pairs(&value["bad_registry"]),
            changes: value["registry_changes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| {
                            Some((
                                c["index"].as_u64()?,
                                c["change"].as_str()?.to_owned(),
                                c["finding"].as_str().map(str::to_owned),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            registry: pairs(&value["registry_entries"]),
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
            "outside_window": self.outside_window,
            "unannounced_key": self.unannounced,
            "bad_registry": self.bad_registry.iter().map(|(i, w)| json!([i, w])).collect::<Vec<_>>(),
            "registry_changes": self
                .changes
                .iter()
                .map(|(i, c, f)| json!({ "index": i, "change": c, "finding": f }))
                .collect::<Vec<_>>(),
            "registry_entries": self.registry.iter().map(|(i, t)| json!([i, t])).collect::<Vec<_>>(),
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
            + self.outside_window.len()
            + self.unannounced.len()
            + self.bad_registry.len()
            + self.changes.iter().filter(|(_, _, f)| f.is_some()).count()
    }

    /// The registry the registry entries read so far give, under the log's key.
    fn fold_registry(&self, log: &Verifier) -> Registry {
        let entries = self.registry.iter().map(|(i, text)| (*i, text.as_bytes()));
        Registry::fold(log, entries).0
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
    let watched = Watched::parse(&args.agency)?;
    let log_key = session
        .policy()
        .logs()
        .iter()
        .find(|l| l.verifier.name() == verified.checkpoint.origin)
        .map(|l| l.verifier.clone())
        .ok_or_else(|| Failure::new(Exit::Untrusted, "the policy names no key for this log"))?;
    let mut progress = Progress::load(&progress_path.to_path_buf());
    let mut registry = progress.fold_registry(&log_key);
    let before_changes = progress.changes.len();
    // Cut-offs reaching back before their entry: `(from, at, issuer, key ID)`;
    // the records already read in that range are looked at again below.
    let mut retroactive: Vec<(u64, u64, String, u32)> = Vec::new();
    let mut unsettled: Vec<(u64, SignedRecord)> = Vec::new();
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
            // A registry change: into the registry before the records after it.
            if let Ok(change) = SignedRegistryEntry::parse(entry) {
                let text = String::from_utf8_lossy(entry).into_owned();
                progress.registry.push((index, text));
                if let Err(why) = registry.apply(index, &change) {
                    return progress.bad_registry.push((index, why.to_string()));
                }
                let e = &change.entry;
                if e.action != Action::Register
                    && let Some(from) = e.from.filter(|&from| from < index)
                {
                    retroactive.push((from, index, e.agency.clone(), e.key.key_id()));
                }
                if watched.0.contains_key(&change.entry.agency) {
                    let e = &change.entry;
                    let what = format!(
                        "{} {} {}+{:08x}{}",
                        e.agency,
                        e.action.word(),
                        e.key.name(),
                        e.key.key_id(),
                        e.from
                            .map(|f| format!(" from index {f}"))
                            .unwrap_or_default()
                    );
                    progress
                        .changes
                        .push((index, what, watched.registry_finding(&change)));
                }
                return;
            }
            let Ok(parsed) = SignedRecord::parse(entry) else {
                return progress.not_a_record.push(index);
            };
            // A record the registry read so far does not cover may be
            // covered by a registration later in the tree (one with `from`,
            // a migration's): decided once the whole tree's registry is in.
            match key_of(&registry, &parsed, index) {
                Err(KeyError::BadSignature { .. }) | Ok(_) => {
                    settle(&mut progress, &watched, &registry, seen, index, &parsed)
                }
                Err(_) => unsettled.push((index, parsed)),
            }
        },
    )
    .await?;
    for (index, parsed) in &unsettled {
        settle(&mut progress, &watched, &registry, seen, *index, parsed);
    }
    // Records a later cut-off reached back to: now outside their key's window.
    for (from, at, issuer, key_id) in retroactive {
        let mut hit = Vec::new();
        read_entries(session, (size, root), from, at, |index, entry| {
            if let Ok(signed) = SignedRecord::parse(entry)
                && signed.record.issuer == issuer
                && signed.signature.key_id == key_id
            {
                hit.push(index);
            }
        })
        .await?;
        for index in hit {
            if !progress.outside_window.contains(&index) {
                progress.outside_window.push(index);
            }
        }
    }
    progress.outside_window.sort_unstable();
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
    for (index, change, finding) in &progress.changes[before_changes..] {
        match finding {
            Some(why) => out.line(format!(
                "registry change at entry {index}: {change} — FINDING: {why}"
            )),
            None => out.line(format!("registry change at entry {index}: {change}")),
        }
    }
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
                progress.outside_window.len(),
                "outside their key's window",
                format!("{:?}", progress.outside_window),
            ),
            list(
                progress.unannounced.len(),
                "under keys you did not give",
                format!("{:?}", progress.unannounced),
            ),
            list(
                progress.bad_registry.len(),
                "registry entries breaking its rules",
                format!(
                    "{:?}",
                    progress
                        .bad_registry
                        .iter()
                        .map(|(i, _)| i)
                        .collect::<Vec<_>>()
                ),
            ),
            list(
                progress
                    .changes
                    .iter()
                    .filter(|(_, _, f)| f.is_some())
                    .count(),
                "registry changes to review",
                format!(
                    "{:?}",
                    progress
                        .changes
                        .iter()
                        .filter(|(_, _, f)| f.is_some())
                        .map(|(i, _, _)| i)
                        .collect::<Vec<_>>()
                ),
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
    if new > 0
        && let Some(command) = &args.on_finding
    {
        run_hook(command, &report)?;
    }
    out.detail(format!("progress kept in {}", progress_path.display()));
    out.detail(format!(
        "trusted checkpoint kept in {}",
        session.state.display()
    ));
    Ok(new)
}

/// The key under which `parsed`, logged at `index`, is its issuer's record.
fn key_of<'a>(
    registry: &'a Registry,
    parsed: &SignedRecord,
    index: u64,
) -> Result<&'a gazette_client::registry::RegisteredKey, KeyError> {
    registry
        .agencies
        .get(&parsed.record.issuer)
        .ok_or(KeyError::Unregistered {
            issuer: parsed.record.issuer.clone(),
            key_id: parsed.signature.key_id,
        })
        .and_then(|history| history.verify_record(parsed, index))
}

/// Files the record at `index` under `registry`: a finding, or counted for
/// its issuer (and checked for a conflicting id, and, for a watched agency,
/// for a key it did not give).
fn settle(
    progress: &mut Progress,
    watched: &Watched,
    registry: &Registry,
    seen: &mut HashMap<String, ([u8; 32], u64)>,
    index: u64,
    parsed: &SignedRecord,
) {
    let r = &parsed.record;
    match key_of(registry, parsed, index) {
        Ok(k) => {
            if watched
                .0
                .get(&r.issuer)
                .is_some_and(|given| !given.is_empty() && !given.contains(&k.key))
            {
                progress.unannounced.push(index);
            }
        }
        Err(KeyError::Unregistered { .. }) => return progress.unknown_key.push(index),
        Err(KeyError::BadSignature { .. }) => return progress.bad_signature.push(index),
        Err(KeyError::NotYetRegistered { .. } | KeyError::CutOff { .. }) => {
            return progress.outside_window.push(index);
        }
    }
    let counts = progress.issuers.entry(r.issuer.clone()).or_default();
    counts.0 += 1;
    if r.revokes.is_some() {
        counts.1 += 1;
    }
    let key = format!("{}\0{}\0{}", r.issuer, r.kind, r.id);
    match seen.get(&key) {
        Some((digest, first)) if *digest != r.digest => progress.conflicts.push((*first, index)),
        Some(_) => {}
        None => {
            seen.insert(key, (r.digest, index));
        }
    }
}

/// Runs the `--on-finding` command with the report in its environment;
/// waits for it (bounded by the command itself), and says if it failed.
fn run_hook(command: &str, report: &Value) -> Result<(), Failure> {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("GAZETTE_FINDINGS", report.to_string())
        .status()
        .map_err(|e| Failure::new(Exit::Io, format!("running --on-finding: {e}")))?;
    if !status.success() {
        eprintln!("gazette: --on-finding {command:?} ended with {status}");
    }
    Ok(())
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
