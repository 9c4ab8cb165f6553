//! Fault injection at every step of a commit. A commit of a batch that
//! crosses a tile boundary is failed at each of its storage steps in turn
//! (an I/O error, or a torn write of a temporary file).
//!
//! - A fault that passes (once): the committer retries, the batch is logged
//!   and acknowledged, and the tree is the new one.
//! - A fault that stays (every step from it on fails): the batch waits,
//!   new writes get 503 with `Retry-After`, `/healthz` says why; the log
//!   is then shut down, as a crash would stop it, and after a restart on
//!   a clean store the stored checkpoint must be exactly the old one or the
//!   new one, every tile it implies must verify against its root, nothing
//!   beyond it may remain, and the log must accept writes again.
//! - The first start commits too (the empty tree's checkpoint, then the
//!   agency's registration, durable before the log opens): faulted at each
//!   of its steps, a start fails or is held until the storage works, and a
//!   restart from what a crash leaves holds the registration exactly once.
//!   (The scenarios above arm their faults only after that commit.)
//!
//! The faults come from [`FaultyFiles`], which decorates the operating
//! system's files ([`OsFiles`]) under the filesystem store: the steps of
//! one commit are calls of the [`Files`] seam, so a decorator there sees
//! and can fail each of them; the store itself carries no test hook.

mod common;

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::faults::*;
use common::*;
use gazette_client::checkpoint::open_checkpoint;
use gazette_client::registry::SignedRegistryEntry;
use gazette_client::tiles::Tile;
use gazette_log::config::Config;
use gazette_log::log::Log;
use gazette_log::storage::{Files, FsStorage, OsFiles};
use serde_json::json;

/// One step of a commit: one call of the [`Files`] seam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CommitStep {
    /// Writing the bytes of a temporary file.
    WriteTemp,
    /// fsync of a temporary file.
    SyncFile,
    /// Renaming a temporary file into place.
    Rename,
    /// fsync of a directory after renames.
    SyncDir,
}

/// What the injector does at a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Carry on.
    None,
    /// Fail the step with an I/O error before doing it.
    Error,
    /// Write only half the bytes, then fail (only at [`CommitStep::WriteTemp`]).
    Torn,
    /// Fail the step as a full disk does (`ENOSPC`).
    DiskFull,
}

/// Counts the storage steps of armed commits and fails the chosen one.
#[derive(Default)]
struct Injector {
    armed: AtomicBool,
    calls: Mutex<Vec<(CommitStep, String)>>,
    fail: Mutex<Option<(usize, Fault)>>,
    /// Whether every step after the chosen one fails too (with an error).
    stays: AtomicBool,
}

impl Injector {
    /// Records `step` on `path` (relative to `root`) if armed; the fault
    /// chosen for it, an error already for [`Fault::Error`].
    fn step(&self, step: CommitStep, path: &Path, root: &Path) -> io::Result<Fault> {
        if !self.armed.load(Ordering::SeqCst) {
            return Ok(Fault::None);
        }
        let mut calls = self.calls.lock().unwrap();
        let k = calls.len();
        let relative = path.strip_prefix(root).unwrap_or(path);
        calls.push((step, relative.to_string_lossy().into_owned()));
        match *self.fail.lock().unwrap() {
            Some((at, Fault::Error)) if at == k => Err(io::Error::other(format!(
                "injected fault at {step:?} of {}",
                path.display()
            ))),
            Some((at, Fault::DiskFull))
                if at <= k && (at == k || self.stays.load(Ordering::SeqCst)) =>
            {
                Err(io::Error::from_raw_os_error(28))
            }
            Some((at, fault)) if at == k => Ok(fault),
            Some((at, _)) if at < k && self.stays.load(Ordering::SeqCst) => {
                Err(io::Error::other(format!(
                    "injected fault (it stays) at {step:?} of {}",
                    path.display()
                )))
            }
            _ => Ok(Fault::None),
        }
    }

    fn calls(&self) -> Vec<(CommitStep, String)> {
        self.calls.lock().unwrap().clone()
    }
}

/// The operating system's files, with the injector deciding each step.
struct FaultyFiles {
    injector: Arc<Injector>,
    root: std::path::PathBuf,
}

impl Files for FaultyFiles {
    fn write(&self, file: &mut File, target: &Path, data: &[u8]) -> io::Result<()> {
        if self
            .injector
            .step(CommitStep::WriteTemp, target, &self.root)?
            == Fault::Torn
        {
            OsFiles.write(file, target, &data[..data.len() / 2])?;
            return Err(io::Error::other(format!(
                "injected torn write of {}",
                target.display()
            )));
        }
        OsFiles.write(file, target, data)
    }

    fn sync_file(&self, file: &File, target: &Path) -> io::Result<()> {
        self.injector
            .step(CommitStep::SyncFile, target, &self.root)?;
        OsFiles.sync_file(file, target)
    }

    fn rename(&self, temp: &Path, target: &Path) -> io::Result<()> {
        self.injector.step(CommitStep::Rename, target, &self.root)?;
        OsFiles.rename(temp, target)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.injector.step(CommitStep::SyncDir, dir, &self.root)?;
        OsFiles.sync_dir(dir)
    }
}

/// Opens the log in `dir` on a store with the injector's files; why not,
/// if it does not open.
fn open_faulty(dir: &Path, injector: &Arc<Injector>) -> Result<Log, String> {
    let files = FaultyFiles {
        injector: injector.clone(),
        root: dir.to_owned(),
    };
    let storage = FsStorage::open_with(dir, files).map_err(|e| e.to_string())?;
    let config = Config::load(dir).map_err(|e| format!("{e:#}"))?;
    Log::open_with(dir, config, Arc::new(storage)).map_err(|e| format!("{e:#}"))
}

/// A log in a fresh directory on a store with the injector's files, holding
/// the agency's registration (logged at the first start) and the base tree,
/// both committed with the hook disarmed.
async fn log_with_base(injector: &Arc<Injector>) -> (tempfile::TempDir, Arc<Log>, Vec<u8>) {
    let dir = new_log_dir();
    let log = Arc::new(open_faulty(dir.path(), injector).unwrap());
    // Opening logged the registration (durably) before it returned.
    let (stored, entries) = verify_stored_tree(log.storage.as_ref());
    assert_eq!(stored.size, FIRST);
    assert!(entries == expected_entries(&[], &entries));
    let app = api(&log);
    let base = base_records();
    let results = add_batch_ok(&app, &base).await;
    assert_eq!(indexes_of(&results), base_layout().records);
    let (_, note) = checkpoint(&app).await;
    // The registration, the base records and their batch's commitment.
    let (stored, entries) = verify_stored_tree(log.storage.as_ref());
    assert_eq!(stored.size, base_layout().size());
    let expected = expected_entries(&[&base], &entries);
    assert!(entries == expected);
    assert_eq!(
        note,
        Reference::of(expected.iter().map(Vec::as_slice)).signed_checkpoint()
    );
    (dir, log, note)
}

/// The steps of a clean commit of the batch on top of the base tree.
async fn clean_commit_steps() -> Vec<(CommitStep, String)> {
    let injector = Arc::new(Injector::default());
    let (_dir, log, _) = log_with_base(&injector).await;
    let app = api(&log);
    injector.armed.store(true, Ordering::SeqCst);
    let results = add_batch_ok(&app, &batch_records()).await;
    assert_eq!(indexes_of(&results), batch_indexes());
    let steps = injector.calls();
    drop(app);
    close(log);
    steps
}

/// Whether a file under the data directory is a commit's temporary file.
fn is_temp(path: &str) -> bool {
    path.rsplit('/').next().unwrap().starts_with('.') && path.contains(".tmp-")
}

/// Logs record 1000 after the batch: it must take the first index after
/// the batch's commitment. Returns the layout with it.
async fn next_record_follows_the_batch(app: &axum::Router, what: &str) -> Layout {
    let mut layout = layout();
    layout.batch(1);
    assert_eq!(
        add_ok(app, &body(1000)).await,
        layout.records[(BASE + BATCH) as usize],
        "{what}"
    );
    layout
}

/// Every fault tried: an error at each step, and a torn write at each write.
fn every_fault(steps: &[(CommitStep, String)]) -> Vec<(usize, Fault)> {
    let mut faults = Vec::new();
    for (k, (step, _)) in steps.iter().enumerate() {
        faults.push((k, Fault::Error));
        if *step == CommitStep::WriteTemp {
            faults.push((k, Fault::Torn));
        }
    }
    faults
}

/// `/healthz` once it no longer answers 200 (waited for, bounded): the
/// committer has met the fault.
async fn until_unhealthy(app: &axum::Router) -> Reply {
    let start = std::time::Instant::now();
    loop {
        let health = get(app, "/healthz").await;
        if health.status != StatusCode::OK {
            return health;
        }
        assert!(start.elapsed() < DEADLINE, "/healthz never said");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// Fails the commit of the batch at step `k` with `fault` once: the
/// committer retries and the batch is logged, acknowledged and stored as if
/// nothing had happened. Returns the temporary files left behind.
async fn fail_commit_once_at(
    k: usize,
    fault: Fault,
    steps: &[(CommitStep, String)],
) -> Vec<String> {
    let what = format!(
        "{fault:?} once at step {k} ({:?} {})",
        steps[k].0, steps[k].1
    );
    let injector = Arc::new(Injector::default());
    let (dir, log, old_note) = log_with_base(&injector).await;
    let app = api(&log);
    *injector.fail.lock().unwrap() = Some((k, fault));
    injector.armed.store(true, Ordering::SeqCst);
    let results = add_batch_ok(&app, &batch_records()).await;
    assert_eq!(indexes_of(&results), batch_indexes(), "{what}");
    assert!(injector.calls().len() > steps.len(), "{what}: no retry");
    assert_ne!(checkpoint(&app).await.1, old_note, "{what}");
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK, "{what}");
    injector.armed.store(false, Ordering::SeqCst);
    let layout = next_record_follows_the_batch(&app, &what).await;
    drop(app);
    let dir_path = close(log);
    let leftovers: Vec<String> = files_under(&dir_path)
        .into_iter()
        .filter(|f| !f.starts_with("index/") && is_temp(f))
        .map(|f| format!("{what}: {f}"))
        .collect();
    let log = open(&dir_path);
    let (checkpoint, entries) = verify_stored_tree(log.storage.as_ref());
    assert_eq!(checkpoint.size, layout.size(), "{what}");
    let expected = expected_entries(
        &[&base_records(), &batch_records(), &[body(1000)]],
        &entries,
    );
    assert!(entries == expected, "{what}: the stored entries differ");
    close(log);
    drop(dir);
    leftovers
}

/// Fails the commit of the batch at step `k` with `fault`, and every step
/// after it: the batch waits while the committer retries, new writes get
/// 503; then the log is shut down (as a crash would stop it). Checks the
/// restart, the stored tree and the recovery. Returns the temporary files
/// the failed commit left in the data directory.
async fn fail_commit_at(k: usize, fault: Fault, steps: &[(CommitStep, String)]) -> Vec<String> {
    let what = format!("{fault:?} at step {k} ({:?} {})", steps[k].0, steps[k].1);
    let injector = Arc::new(Injector::default());
    let (dir, log, old_note) = log_with_base(&injector).await;
    let app = api(&log);
    *injector.fail.lock().unwrap() = Some((k, fault));
    injector.stays.store(true, Ordering::SeqCst);
    injector.armed.store(true, Ordering::SeqCst);

    let waiting = tokio::spawn({
        let app = app.clone();
        async move { post(&app, "/add-batch", batch_body(&batch_records())).await }
    });
    // The committer retries; meanwhile `/healthz` says why, and new writes
    // are refused for now (503, Retry-After), not for good.
    let health = until_unhealthy(&app).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let why = health.json()["error"].as_str().unwrap().to_owned();
    assert!(why.contains("injected"), "{what}: {why}");
    let refused = add(&app, &body(1000)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
    assert!(!refused.header("retry-after").is_empty(), "{what}");
    // fsyncs run in parallel: peers of the failed step may still have
    // run, but nothing of a later step (no rename, no directory sync);
    // each retry fails at its first step, a write.
    let calls = injector.calls();
    assert!(
        calls[k + 1..]
            .iter()
            .all(|(step, _)| *step == calls[k].0 || *step == CommitStep::WriteTemp),
        "{what}: the commit went on after the fault: {:?}",
        &calls[k..]
    );
    // Nothing was acknowledged, nothing published.
    assert_eq!(checkpoint(&app).await.1, old_note, "{what}");

    // Shutting down ends the retries: the waiting batch fails, and the
    // log takes no more writes.
    log.sequencer.shut_down();
    let reply = waiting.await.unwrap();
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
    assert_eq!(reply.json()["status"], json!(500), "{what}");
    assert_eq!(
        add(&app, &body(0)).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    drop(app);
    let dir_path = close(log);

    // What is on disk is the old checkpoint or the new one, nothing else;
    // the new one only once its rename went through (the last step).
    let (base, batch) = (base_records(), batch_records());
    let stored = std::fs::read(dir_path.join("checkpoint")).unwrap();
    let checkpoint_renamed = steps[..k]
        .iter()
        .any(|(step, path)| *step == CommitStep::Rename && path == "checkpoint");
    assert_eq!(
        stored != old_note,
        checkpoint_renamed,
        "{what}: old/new checkpoint does not follow the checkpoint's rename:\n{}",
        String::from_utf8_lossy(&stored)
    );

    // Restart on a clean store: the tree verifies, the leftovers are gone.
    let log = open(&dir_path);
    assert_eq!(log.published().note, stored, "{what}");
    let (checkpoint, entries) = verify_stored_tree(log.storage.as_ref());
    // The old tree (the base records and their commitment) or the new one
    // (the batch's records and commitment on top), exactly.
    let batches: Vec<&[Vec<u8>]> = if checkpoint_renamed {
        vec![base.as_slice(), batch.as_slice()]
    } else {
        vec![base.as_slice()]
    };
    let expected = expected_entries(&batches, &entries);
    assert!(entries == expected, "{what}: the stored entries differ");
    assert!(
        stored == Reference::of(expected.iter().map(Vec::as_slice)).signed_checkpoint(),
        "{what}: the stored checkpoint is neither the old nor the new one:\n{}",
        String::from_utf8_lossy(&stored)
    );
    let mut leftovers = Vec::new();
    for file in files_under(&dir_path) {
        if file.starts_with("index/") {
            continue;
        }
        if is_temp(&file) {
            leftovers.push(format!("{what}: {file}"));
        } else if file.starts_with("tile/") {
            let tile = Tile::parse_path(&file)
                .unwrap_or_else(|e| panic!("{what}: stray file {file}: {e}"));
            assert!(
                tile.leaf_range().1 <= checkpoint.size,
                "{what}: {file} lies beyond the checkpoint of size {}",
                checkpoint.size
            );
        }
    }

    // Recovery: the retried batch gets the same indexes whether or not its
    // commit survived, and new records follow it.
    let app = api(&log);
    let results = add_batch_ok(&app, &batch).await;
    assert_eq!(indexes_of(&results), batch_indexes(), "{what}");
    let layout = next_record_follows_the_batch(&app, &what).await;
    let (checkpoint, entries) = verify_stored_tree(log.storage.as_ref());
    assert_eq!(checkpoint.size, layout.size(), "{what}");
    let expected = expected_entries(&[&base, &batch, &[body(1000)]], &entries);
    assert!(entries == expected, "{what}: the stored entries differ");
    drop(app);
    close(log);
    drop(dir);
    leftovers
}

#[tokio::test]
async fn a_commit_makes_every_tile_durable_before_writing_the_checkpoint() {
    let steps = clean_commit_steps().await;
    let paths: Vec<&str> = steps.iter().map(|(_, p)| p.as_str()).collect();
    // The new tree: the registration's 2 entries, the base's 251, the
    // batch's 11.
    assert_eq!(layout().size(), 256 + 8);
    for tile in [
        "tile/0/000",
        "tile/0/001.p/8",
        "tile/entries/000",
        "tile/entries/001.p/8",
        "tile/1/000.p/1",
    ] {
        assert!(
            paths.contains(&tile),
            "the commit does not write {tile}: {steps:?}"
        );
    }
    // Each tile: written, fsynced, renamed, its directory fsynced; all of
    // that before the checkpoint's own four steps, which come last.
    let (tiles, last) = steps.split_at(steps.len() - 4);
    let kinds: Vec<CommitStep> = last.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        kinds,
        [
            CommitStep::WriteTemp,
            CommitStep::SyncFile,
            CommitStep::Rename,
            CommitStep::SyncDir
        ]
    );
    assert!(last[..3].iter().all(|(_, p)| p == "checkpoint"), "{last:?}");
    // Besides the tiles, only directory syncs of their ancestors (the
    // first time a directory is written into, its entry up to the root).
    assert!(
        tiles.iter().all(|(step, p)| p.starts_with("tile/")
            || (*step == CommitStep::SyncDir && (p.is_empty() || p == "tile"))),
        "{tiles:?}"
    );
    for dir in ["", "tile", "tile/0", "tile/entries", "tile/1"] {
        assert!(
            tiles.contains(&(CommitStep::SyncDir, dir.to_owned())),
            "the first commit does not make the entry of {dir:?} durable: {tiles:?}"
        );
    }
    for (i, (step, path)) in tiles.iter().enumerate() {
        match step {
            CommitStep::WriteTemp => {
                let synced = tiles[i..]
                    .iter()
                    .any(|(s, p)| *s == CommitStep::SyncFile && p == path);
                assert!(synced, "{path} written but never fsynced");
            }
            CommitStep::Rename => {
                let synced = tiles[..i]
                    .iter()
                    .any(|(s, p)| *s == CommitStep::SyncFile && p == path);
                assert!(synced, "{path} renamed before it was fsynced");
                let dir = path.rsplit_once('/').unwrap().0;
                let dir_synced = tiles[i..]
                    .iter()
                    .any(|(s, p)| *s == CommitStep::SyncDir && p == dir);
                assert!(dir_synced, "{dir} not fsynced after renaming {path}");
            }
            CommitStep::SyncFile | CommitStep::SyncDir => {}
        }
    }
}

#[tokio::test]
async fn a_commit_failing_at_any_step_leaves_the_old_or_new_tree_and_recovers() {
    let steps = clean_commit_steps().await;
    assert!(steps.len() >= 20, "{steps:?}");
    for k in 0..steps.len() {
        fail_commit_at(k, Fault::Error, &steps).await;
    }
}

#[tokio::test]
async fn a_torn_write_at_any_step_leaves_the_old_or_new_tree_and_recovers() {
    let steps = clean_commit_steps().await;
    let writes: Vec<usize> = (0..steps.len())
        .filter(|&k| steps[k].0 == CommitStep::WriteTemp)
        .collect();
    assert_eq!(writes.len(), 6, "five tiles and the checkpoint: {steps:?}");
    for k in writes {
        fail_commit_at(k, Fault::Torn, &steps).await;
    }
}

#[tokio::test]
async fn a_failed_commit_leaves_no_temporary_files_behind() {
    let steps = clean_commit_steps().await;
    let mut leftovers = Vec::new();
    for (k, fault) in every_fault(&steps) {
        leftovers.extend(fail_commit_at(k, fault, &steps).await);
    }
    assert!(
        leftovers.is_empty(),
        "temporary files left behind, even after a restart:\n{}",
        leftovers.join("\n")
    );
}

#[tokio::test]
async fn a_commit_refused_once_at_any_step_is_retried_and_logged() {
    let steps = clean_commit_steps().await;
    let mut leftovers = Vec::new();
    for (k, fault) in every_fault(&steps) {
        leftovers.extend(fail_commit_once_at(k, fault, &steps).await);
    }
    assert!(leftovers.is_empty(), "{}", leftovers.join("\n"));
}

/// A disk that stays full: the writes waiting in the commit are held, new
/// ones get 507 with `Retry-After`, `/healthz` says why; once there is room
/// again, the held writes are logged and new ones go through, with no
/// restart. (Other refusals, such as no file descriptors left, are 503:
/// `fail_commit_at`.)
#[tokio::test]
async fn writes_resume_by_themselves_once_the_storage_works_again() {
    let injector = Arc::new(Injector::default());
    let (_dir, log, old_note) = log_with_base(&injector).await;
    let app = api(&log);
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
    *injector.fail.lock().unwrap() = Some((0, Fault::DiskFull));
    injector.stays.store(true, Ordering::SeqCst);
    injector.armed.store(true, Ordering::SeqCst);
    let held = tokio::spawn({
        let app = app.clone();
        async move { add(&app, &body(BASE)).await }
    });
    let health = until_unhealthy(&app).await;
    assert_eq!(health.status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(
        health.json()["error"]
            .as_str()
            .unwrap()
            .contains("retrying"),
        "{:?}",
        health.json()
    );
    for n in [BASE + 1, 0] {
        let reply = add(&app, &body(n)).await;
        assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE, "record {n}");
        assert_eq!(reply.json()["status"], json!(507));
        assert!(!reply.header("retry-after").is_empty());
    }
    let reply = post(&app, "/add-batch", batch_body(&[body(BASE + 2)])).await;
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    // Reads go on, from the last published checkpoint.
    assert_eq!(checkpoint(&app).await.1, old_note);
    let bundle = format!("/tile/entries/000.p/{}", base_layout().size());
    assert_eq!(get(&app, &bundle).await.status, StatusCode::OK);
    assert!(
        !held.is_finished(),
        "a write was answered before it was durable"
    );

    // The storage works again: the held write is logged, new ones follow.
    injector.stays.store(false, Ordering::SeqCst);
    injector.armed.store(false, Ordering::SeqCst);
    let layout = Layout::opened(&[BASE, 1]);
    let reply = held.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
    assert_eq!(reply.json()["index"], json!(layout.records[BASE as usize]));
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK);
    assert_eq!(add_ok(&app, &body(0)).await, layout.records[0]);
    let next = add_ok(&app, &body(BASE + 1)).await;
    assert!(next > layout.records[BASE as usize]);
    drop(app);
    let log = reopen(log);
    let (checkpoint, _) = verify_stored_tree(log.storage.as_ref());
    assert_eq!(checkpoint.size, size(&api(&log)).await);
}

// The first start: opening a fresh log writes the empty tree's checkpoint,
// then commits the agency's registration (logged from the agencies file)
// and returns once that is durable. Faults there must leave a log that
// starts again and holds the registration exactly once.

/// The four steps of the checkpoint's own write, which end every commit.
const CHECKPOINT_STEPS: [CommitStep; 4] = [
    CommitStep::WriteTemp,
    CommitStep::SyncFile,
    CommitStep::Rename,
    CommitStep::SyncDir,
];

/// The steps of the empty tree's checkpoint, written by the first start
/// before the sequencer runs (a fault there fails the start).
const EMPTY_CHECKPOINT: usize = CHECKPOINT_STEPS.len();

/// Checks the stored tree of a log just through its first start: the
/// agency's registration and the commitment ending its batch, once.
fn check_registered(log: &Log, what: &str) {
    let (checkpoint, entries) = verify_stored_tree(log.storage.as_ref());
    assert_eq!(checkpoint.size, FIRST, "{what}");
    assert!(
        entries == expected_entries(&[], &entries),
        "{what}: the stored entries differ"
    );
    let registration = SignedRegistryEntry::parse(&entries[0]).unwrap();
    assert_eq!(registration.entry.key, agency().verifier(), "{what}");
}

/// The temporary files under `dir`, outside the indexes.
fn temporaries(dir: &Path, what: &str) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| !f.starts_with("index/") && is_temp(f))
        .map(|f| format!("{what}: {f}"))
        .collect()
}

/// After its first start: the first record takes index [`FIRST`], and a
/// restart logs nothing again (the tree is the registration and the
/// record, with their commitments). The temporary files left behind.
async fn records_follow_the_registration(log: Arc<Log>, what: &str) -> Vec<String> {
    let app = api(&log);
    let layout = Layout::opened(&[1]);
    assert_eq!(add_ok(&app, &body(0)).await, layout.records[0], "{what}");
    drop(app);
    let log = reopen(log);
    let (checkpoint, entries) = verify_stored_tree(log.storage.as_ref());
    assert_eq!(checkpoint.size, layout.size(), "{what}");
    let expected = expected_entries(&[&[body(0)]], &entries);
    assert!(entries == expected, "{what}: the stored entries differ");
    assert_eq!(size(&api(&log)).await, layout.size(), "{what}");
    temporaries(&close(log), what)
}

/// The steps of a clean first start, checked: the empty tree's checkpoint,
/// then the registration's commit (its tiles, then its checkpoint).
async fn first_start_steps() -> Vec<(CommitStep, String)> {
    let injector = Arc::new(Injector::default());
    injector.armed.store(true, Ordering::SeqCst);
    let dir = new_log_dir();
    let log = Arc::new(open_faulty(dir.path(), &injector).unwrap());
    let steps = injector.calls();
    injector.armed.store(false, Ordering::SeqCst);
    check_registered(&log, "a clean first start");
    close(log);
    let kinds: Vec<CommitStep> = steps.iter().map(|(s, _)| *s).collect();
    let paths: Vec<&str> = steps.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(kinds[..EMPTY_CHECKPOINT], CHECKPOINT_STEPS, "{steps:?}");
    assert_eq!(
        paths[..EMPTY_CHECKPOINT],
        ["checkpoint", "checkpoint", "checkpoint", ""],
        "{steps:?}"
    );
    let n = steps.len();
    assert_eq!(kinds[n - 4..], CHECKPOINT_STEPS, "{steps:?}");
    assert_eq!(
        paths[n - 4..],
        ["checkpoint", "checkpoint", "checkpoint", ""],
        "{steps:?}"
    );
    for tile in ["tile/0/000.p/2", "tile/entries/000.p/2"] {
        assert!(
            paths[EMPTY_CHECKPOINT..n - 4].contains(&tile),
            "the registration's commit does not write {tile}: {steps:?}"
        );
    }
    steps
}

/// Copies the data directory of a running log as a crash leaves it
/// (temporary files may come and go meanwhile).
fn crash_copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => crash_copy(&entry.path(), &target),
            Ok(_) => match std::fs::copy(entry.path(), &target) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                copied => {
                    copied.unwrap();
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => panic!("{}: {e}", entry.path().display()),
        }
    }
}

/// Fails step `k` of a first start with `fault` once: a fault in the empty
/// tree's checkpoint fails the start, and the next start goes through; one
/// in the registration's commit is retried, and the start goes through.
/// Either way the registration is logged once. The temporary files left.
async fn fail_first_start_once_at(
    k: usize,
    fault: Fault,
    steps: &[(CommitStep, String)],
) -> Vec<String> {
    let what = format!(
        "{fault:?} once at step {k} of the first start ({:?} {})",
        steps[k].0, steps[k].1
    );
    let injector = Arc::new(Injector::default());
    *injector.fail.lock().unwrap() = Some((k, fault));
    injector.armed.store(true, Ordering::SeqCst);
    let dir = new_log_dir();
    let log = match open_faulty(dir.path(), &injector) {
        Ok(log) => {
            assert!(k >= EMPTY_CHECKPOINT, "{what}: the start did not fail");
            assert!(injector.calls().len() > steps.len(), "{what}: no retry");
            log
        }
        Err(why) => {
            assert!(k < EMPTY_CHECKPOINT, "{what}: the start failed: {why}");
            assert!(why.contains("injected"), "{what}: {why}");
            injector.armed.store(false, Ordering::SeqCst);
            open_faulty(dir.path(), &injector)
                .unwrap_or_else(|why| panic!("{what}: the next start failed: {why}"))
        }
    };
    injector.armed.store(false, Ordering::SeqCst);
    let log = Arc::new(log);
    check_registered(&log, &what);
    let leftovers = records_follow_the_registration(log, &what).await;
    drop(dir);
    leftovers
}

/// Fails step `k` of a first start with `fault`, and every step after it.
/// A fault in the empty tree's checkpoint fails the start; one in the
/// registration's commit holds the start while the committer retries.
/// The data directory is then copied as a crash would leave it: its
/// checkpoint is none, the empty tree's or the registration's (only once
/// that checkpoint's rename went through), and a start from the copy
/// verifies, cleans up and holds the registration exactly once. The held
/// start itself completes once the storage works again. The temporary
/// files left behind, after the restarts.
async fn fail_first_start_at(
    k: usize,
    fault: Fault,
    steps: &[(CommitStep, String)],
) -> Vec<String> {
    let what = format!(
        "{fault:?} at step {k} of the first start ({:?} {})",
        steps[k].0, steps[k].1
    );
    let injector = Arc::new(Injector::default());
    *injector.fail.lock().unwrap() = Some((k, fault));
    injector.stays.store(true, Ordering::SeqCst);
    injector.armed.store(true, Ordering::SeqCst);
    let dir = new_log_dir();
    let opening = std::thread::spawn({
        let (dir, injector) = (dir.path().to_owned(), injector.clone());
        move || open_faulty(&dir, &injector)
    });
    let start = std::time::Instant::now();
    while !opening.is_finished() && injector.calls().len() <= k {
        assert!(start.elapsed() < DEADLINE, "{what}: the fault was not met");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    // The crash, as it leaves the data directory.
    let crashed = tempfile::tempdir().unwrap();
    crash_copy(dir.path(), crashed.path());
    let held = !opening.is_finished();
    injector.stays.store(false, Ordering::SeqCst);
    injector.armed.store(false, Ordering::SeqCst);
    let mut leftovers = Vec::new();
    match opening.join().unwrap() {
        Ok(log) => {
            assert!(k >= EMPTY_CHECKPOINT, "{what}: the start did not fail");
            assert!(held, "{what}: the start was not held while it failed");
            let log = Arc::new(log);
            check_registered(&log, &format!("{what}, held"));
            leftovers.extend(records_follow_the_registration(log, &what).await);
        }
        Err(why) => {
            assert!(k < EMPTY_CHECKPOINT, "{what}: the start failed: {why}");
            assert!(why.contains("injected"), "{what}: {why}");
        }
    }
    drop(dir);

    // What the crash left: no checkpoint before the empty tree's was
    // renamed into place, the empty tree's until the registration's was.
    let renamed: Vec<usize> = (0..k)
        .filter(|&i| steps[i] == (CommitStep::Rename, "checkpoint".to_owned()))
        .collect();
    let stored = std::fs::read(crashed.path().join("checkpoint")).ok();
    let stored_size = stored.as_ref().map(|note| {
        open_checkpoint(note, &log_signer().verifier())
            .unwrap_or_else(|e| panic!("{what}: the stored checkpoint does not verify: {e}"))
            .checkpoint
            .size
    });
    let expected_size = match renamed.len() {
        0 => None,
        1 => Some(0),
        _ => Some(FIRST),
    };
    assert_eq!(stored_size, expected_size, "{what}");

    // A start from it: the registration once, nothing stray, and records
    // follow it.
    let log = open(crashed.path());
    check_registered(&log, &format!("{what}, restarted"));
    for file in files_under(crashed.path()) {
        if file.starts_with("index/") {
            continue;
        }
        if is_temp(&file) {
            leftovers.push(format!("{what}, restarted: {file}"));
        } else if file.starts_with("tile/") {
            let tile = Tile::parse_path(&file)
                .unwrap_or_else(|e| panic!("{what}: stray file {file}: {e}"));
            assert!(
                tile.leaf_range().1 <= FIRST,
                "{what}: {file} lies beyond the registration's tree"
            );
        }
    }
    leftovers.extend(records_follow_the_registration(log, &format!("{what}, restarted")).await);
    drop(crashed);
    leftovers
}

#[tokio::test]
async fn a_first_start_refused_once_at_any_step_logs_the_registration_once() {
    let steps = first_start_steps().await;
    let mut leftovers = Vec::new();
    for (k, fault) in every_fault(&steps) {
        leftovers.extend(fail_first_start_once_at(k, fault, &steps).await);
    }
    assert!(leftovers.is_empty(), "{}", leftovers.join("\n"));
}

#[tokio::test]
async fn a_first_start_failing_at_any_step_recovers_with_the_registration_once() {
    let steps = first_start_steps().await;
    let mut leftovers = Vec::new();
    for (k, fault) in every_fault(&steps) {
        leftovers.extend(fail_first_start_at(k, fault, &steps).await);
    }
    assert!(leftovers.is_empty(), "{}", leftovers.join("\n"));
}
