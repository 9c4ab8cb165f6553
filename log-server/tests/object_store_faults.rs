//! Fault injection at every step of a commit to the object store, on a
//! real 3-node Garage cluster with the sequencer lease on a real 3-member
//! etcd cluster (`gazette_tests::engines`). A commit of a batch that
//! crosses a tile boundary changes the bucket in these steps: the PUT of
//! its staging object, the PUTs of its tiles and bundles, the PUT of the
//! `checkpoint` object, the DELETE of the staging object (the swap of the
//! checkpoint in etcd comes between the first and the others).
//!
//! - A step refused once (by every endpoint, so the bucket's attempt
//!   fails): the committer retries, the batch is logged and acknowledged,
//!   and the bucket holds the new tree.
//! - A step refused, and every change after it: the batch waits, new
//!   writes get 503; the log stops as a crash stops it (its lease held
//!   until it expires), and the next sequencer, on clean clients, leaves
//!   the bucket's checkpoint exactly the old one (the swap never happened)
//!   or the new one (finished from the staging object), every tile it
//!   implies verifying, nothing staged, and the log takes writes again.
//! - A sequencer whose lease was revoked behind its back cannot commit:
//!   nothing it tries reaches a tile path or the checkpoint, the new
//!   holder's tree stands, and the staging object it left is removed by
//!   the holder after that.
//!
//! The faults come from [`FaultyStore`], which decorates each endpoint's
//! real client at the [`ObjectStore`] seam: the bucket itself is real.
//! Scenarios share one cluster per test, each under its own prefix (in
//! the bucket and in etcd).

mod common;

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::engines::{Endpoints, Engines};
use common::faults::*;
use common::*;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use gazette_client::checkpoint::Checkpoint;
use gazette_client::tiles::Tile;
use gazette_log::config::Config;
use gazette_log::log::Log;
use gazette_log::storage::etcd::Etcd;
use gazette_log::storage::{CHECKPOINT, ObjectStorage, Storage};
use object_store::path::Path as ObjectPath;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The sequencer lease's time to live.
const TTL: Duration = Duration::from_secs(2);
/// The objects a clean commit of the batch writes besides the checkpoint.
const BATCH_TILES: [&str; 5] = [
    "tile/0/000",
    "tile/0/001.p/8",
    "tile/1/000.p/1",
    "tile/entries/000",
    "tile/entries/001.p/8",
];

/// A call that changes the bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Put,
    Delete,
}

/// One step of a commit: a change of one object, by its path under the
/// scenario's prefix.
type Step = (Op, String);

/// Whether `a` and `b` are the same step of a commit of the batch. The
/// staging object is named by the hash of the commit's checkpoint, which
/// differs from log to log (each log's registration, logged at its first
/// start, carries the time of it): in each scenario the batch's commit
/// stages under its own name, the one staging object of that commit.
fn same_step(a: &Step, b: &Step) -> bool {
    let staging = |s: &Step| s.1.starts_with("staging/");
    a.0 == b.0 && (a.1 == b.1 || (staging(a) && staging(b)))
}

/// The staging object of the commit whose checkpoint is `note`.
fn staging_of(note: &[u8]) -> String {
    format!("staging/{}", hex(&Sha256::digest(note)))
}

/// What the injector does at the chosen step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Refuse it on every endpoint once (the bucket tries each in turn:
    /// so its attempt fails, once), then let it through.
    Once,
    /// Refuse it, and every change after it.
    Stays,
}

/// One change the injector saw while armed.
#[derive(Clone, Debug)]
struct Call {
    endpoint: usize,
    step: Step,
    refused: bool,
}

/// Counts the changes of armed commits, on every endpoint, and refuses the
/// chosen one.
struct Injector {
    prefix: String,
    endpoints: usize,
    armed: AtomicBool,
    calls: Mutex<Vec<Call>>,
    fail: Mutex<Option<(Step, Fault)>>,
}

impl Injector {
    fn new(prefix: &str, endpoints: usize) -> Arc<Injector> {
        Arc::new(Injector {
            prefix: prefix.to_owned(),
            endpoints,
            armed: AtomicBool::new(false),
            calls: Mutex::new(Vec::new()),
            fail: Mutex::new(None),
        })
    }

    fn arm(&self, fail: Option<(Step, Fault)>) {
        *self.fail.lock().unwrap() = fail;
        self.armed.store(true, Ordering::SeqCst);
    }

    fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }

    /// Records `op` of `location` by endpoint `endpoint` if armed; an error
    /// (before the call is made) if it is refused.
    fn change(&self, endpoint: usize, op: Op, location: &ObjectPath) -> object_store::Result<()> {
        if !self.armed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let path = location.as_ref();
        let step = (
            op,
            path.strip_prefix(&self.prefix).unwrap_or(path).to_owned(),
        );
        let mut calls = self.calls.lock().unwrap();
        let refused = match &*self.fail.lock().unwrap() {
            None => false,
            Some((target, Fault::Once)) => {
                same_step(target, &step)
                    && calls.iter().filter(|c| c.refused).count() < self.endpoints
            }
            Some((target, Fault::Stays)) => {
                same_step(target, &step) || calls.iter().any(|c| c.refused)
            }
        };
        calls.push(Call {
            endpoint,
            step,
            refused,
        });
        if refused {
            return Err(object_store::Error::Generic {
                store: "FaultyStore",
                source: Box::new(io::Error::other(format!("injected fault at {op:?} {path}"))),
            });
        }
        Ok(())
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

/// An endpoint's real client, with the injector deciding each change.
struct FaultyStore {
    endpoint: usize,
    inner: Arc<dyn ObjectStore>,
    injector: Arc<Injector>,
}

impl fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultyStore")
            .field("endpoint", &self.endpoint)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

// The trait is declared with `#[async_trait]`; its methods are written
// here as that macro expands them (boxed futures), as this crate does not
// depend on the macro.
impl ObjectStore for FaultyStore {
    fn put_opts<'s, 'l, 'f>(
        &'s self,
        location: &'l ObjectPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> BoxFuture<'f, object_store::Result<PutResult>>
    where
        's: 'f,
        'l: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            self.injector.change(self.endpoint, Op::Put, location)?;
            self.inner.put_opts(location, payload, opts).await
        })
    }

    fn put_multipart_opts<'s, 'l, 'f>(
        &'s self,
        location: &'l ObjectPath,
        opts: PutMultipartOptions,
    ) -> BoxFuture<'f, object_store::Result<Box<dyn MultipartUpload>>>
    where
        's: 'f,
        'l: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            self.injector.change(self.endpoint, Op::Put, location)?;
            self.inner.put_multipart_opts(location, opts).await
        })
    }

    fn get_opts<'s, 'l, 'f>(
        &'s self,
        location: &'l ObjectPath,
        options: GetOptions,
    ) -> BoxFuture<'f, object_store::Result<GetResult>>
    where
        's: 'f,
        'l: 'f,
        Self: 'f,
    {
        self.inner.get_opts(location, options)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<ObjectPath>>,
    ) -> BoxStream<'static, object_store::Result<ObjectPath>> {
        let (injector, endpoint) = (self.injector.clone(), self.endpoint);
        let decided = locations.and_then(move |location| {
            let decided = injector
                .change(endpoint, Op::Delete, &location)
                .map(|()| location);
            std::future::ready(decided)
        });
        self.inner.delete_stream(decided.boxed())
    }

    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_delimiter<'s, 'l, 'f>(
        &'s self,
        prefix: Option<&'l ObjectPath>,
    ) -> BoxFuture<'f, object_store::Result<ListResult>>
    where
        's: 'f,
        'l: 'f,
        Self: 'f,
    {
        self.inner.list_with_delimiter(prefix)
    }

    fn copy_opts<'s, 'a, 'b, 'f>(
        &'s self,
        from: &'a ObjectPath,
        to: &'b ObjectPath,
        options: CopyOptions,
    ) -> BoxFuture<'f, object_store::Result<()>>
    where
        's: 'f,
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            self.injector.change(self.endpoint, Op::Put, to)?;
            self.inner.copy_opts(from, to, options).await
        })
    }
}

type LostWhy = Arc<Mutex<Option<String>>>;

impl Engines {
    /// A client per Garage node, each through a [`FaultyStore`].
    fn faulty(&self, injector: &Arc<Injector>) -> Endpoints {
        self.clients()
            .into_iter()
            .enumerate()
            .map(|(endpoint, (url, inner))| {
                let store = FaultyStore {
                    endpoint,
                    inner,
                    injector: injector.clone(),
                };
                (url, Arc::new(store) as Arc<dyn ObjectStore>)
            })
            .collect()
    }

    /// The sequencer under `prefix` through `endpoints` (the lease lives
    /// `ttl`), once it holds the lease; `lost` records why it lost it.
    fn sequencer(
        &self,
        prefix: &str,
        endpoints: Endpoints,
        ttl: Duration,
        lost: LostWhy,
    ) -> ObjectStorage {
        let etcd = self.etcd.client_endpoints();
        let prefix = prefix.to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let opened = ObjectStorage::open_sequencer(
                endpoints,
                &prefix,
                (&etcd, &prefix),
                ttl,
                move |why| {
                    *lost.lock().unwrap() = Some(why);
                },
            );
            let _ = tx.send(opened);
        });
        rx.recv_timeout(DEADLINE)
            .expect("the sequencer lease is had within the deadline")
            .expect("the sequencer opens")
    }

    /// The bucket under `prefix`, read only, through clean clients.
    fn reader(&self, prefix: &str) -> ObjectStorage {
        ObjectStorage::open_reader(self.clients(), prefix).unwrap()
    }

    /// The paths (under `prefix`) of the objects under `prefix` + `dir`,
    /// sorted. A listing may still name an object deleted a moment ago
    /// (Garage filters deleted objects out on each node before merging the
    /// nodes' answers, so a node the delete has not reached yet shows it),
    /// so each listed object is confirmed by a read of its own, which
    /// merges the nodes' answers first.
    async fn list(&self, prefix: &str, dir: &str) -> Vec<String> {
        let (_, store) = self.clients().remove(0);
        let under = ObjectPath::from(format!("{prefix}{dir}"));
        let listed: Vec<ObjectPath> = store
            .list(Some(&under))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .unwrap();
        let mut found = Vec::new();
        for location in listed {
            match store.head(&location).await {
                Ok(_) => {
                    let path = location.as_ref().strip_prefix(prefix).unwrap();
                    found.push(path.to_owned());
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => panic!("reading {location}: {e}"),
            }
        }
        found.sort();
        found
    }

    /// The checkpoint etcd holds under `prefix`.
    async fn etcd_checkpoint(&self, prefix: &str) -> Option<Vec<u8>> {
        let etcd = Etcd::connect(&self.etcd.client_endpoints(), prefix)
            .await
            .unwrap();
        etcd.checkpoint().await.unwrap().note
    }

    /// Revokes the lease of the sequencer under `prefix` with `etcdctl`,
    /// behind the holder's back.
    fn revoke_lease(&self, prefix: &str) {
        let key = format!("{prefix}sequencer");
        let out = self.etcd.etcdctl(0, &["get", &key, "-w", "json"]).unwrap();
        let found: serde_json::Value = serde_json::from_str(&out).unwrap();
        let lease = found["kvs"][0]["lease"]
            .as_i64()
            .unwrap_or_else(|| panic!("{key} is held under no lease: {out}"));
        self.etcd
            .etcdctl(0, &["lease", "revoke", &format!("{lease:x}")])
            .unwrap();
    }
}

fn nobody() -> LostWhy {
    Arc::new(Mutex::new(None))
}

/// Runs a test's scenarios, each bounded by its own waits.
fn run(scenarios: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(scenarios);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An initialised data directory whose pruner waits an hour: its removals
/// would be changes in the middle of the steps counted.
fn log_dir() -> tempfile::TempDir {
    let dir = new_log_dir();
    set_config(dir.path(), "partial_tile_grace_s", "3600");
    dir
}

fn open_log(dir: &Path, storage: Arc<dyn Storage>) -> Arc<Log> {
    let config = Config::load(dir).unwrap();
    Arc::new(Log::open_with(dir, config, storage).unwrap())
}

/// A log in a fresh directory, sequencing under `prefix` through
/// `endpoints`, holding the agency's registration (logged at the first
/// start) and the base tree, both committed with the injector disarmed;
/// the base tree's checkpoint.
async fn log_with_base(
    engines: &Engines,
    prefix: &str,
    endpoints: Endpoints,
    ttl: Duration,
    lost: LostWhy,
) -> (tempfile::TempDir, Arc<Log>, Vec<u8>) {
    let dir = log_dir();
    let storage = engines.sequencer(prefix, endpoints, ttl, lost);
    let log = open_log(dir.path(), Arc::new(storage));
    // Opening logged the registration (durably) before it returned.
    check_bucket(engines, prefix, &[], "the first start").await;
    let app = api(&log);
    let results = add_batch_ok(&app, &base_records()).await;
    assert_eq!(indexes_of(&results), base_layout().records);
    let (_, note) = checkpoint(&app).await;
    let (stored, _) = check_bucket(engines, prefix, &[&base_records()], "the base tree").await;
    assert_eq!(stored.size, base_layout().size());
    (dir, log, note)
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

/// `/healthz` once it no longer answers 200 (waited for, bounded): the
/// committer has met the fault.
async fn until_unhealthy(app: &axum::Router) -> Reply {
    let start = Instant::now();
    loop {
        let health = get(app, "/healthz").await;
        if health.status != StatusCode::OK {
            return health;
        }
        assert!(start.elapsed() < DEADLINE, "/healthz never said");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The tree in the bucket under `prefix`, read through clean clients:
/// the checkpoint verifies, etcd holds the same one, every tile it implies
/// verifies against its root, its entries are the agency's registration
/// then `batches` (with their commitments), and no tile lies beyond it.
/// The checkpoint and its note.
async fn check_bucket(
    engines: &Engines,
    prefix: &str,
    batches: &[&[Vec<u8>]],
    what: &str,
) -> (Checkpoint, Vec<u8>) {
    let reader = engines.reader(prefix);
    let note = reader.read(CHECKPOINT).unwrap().unwrap();
    assert!(
        engines.etcd_checkpoint(prefix).await.as_ref() == Some(&note),
        "{what}: the bucket's checkpoint is not etcd's:\n{}",
        String::from_utf8_lossy(&note)
    );
    let (checkpoint, entries) = verify_stored_tree(&reader);
    assert!(
        checkpoint.size >= FIRST && start_entries(&entries).len() as u64 == FIRST,
        "{what}: the tree does not start with the registration"
    );
    let expected = expected_entries(batches, &entries);
    assert!(entries == expected, "{what}: the stored entries differ");
    for path in engines.list(prefix, "tile/").await {
        let tile =
            Tile::parse_path(&path).unwrap_or_else(|e| panic!("{what}: stray object {path}: {e}"));
        assert!(
            tile.leaf_range().1 <= checkpoint.size,
            "{what}: {path} lies beyond the checkpoint of size {}",
            checkpoint.size
        );
    }
    (checkpoint, note)
}

/// Which part of a commit `step` is: 0 staging, 1 the tiles, 2 the
/// checkpoint, 3 unstaging.
fn phase(step: &Step) -> u8 {
    match step {
        (Op::Put, path) if path.starts_with("staging/") => 0,
        (Op::Put, path) if path == CHECKPOINT => 2,
        (Op::Put, _) => 1,
        (Op::Delete, _) => 3,
    }
}

/// The steps of a clean commit of the batch on top of the base tree,
/// checked: the batch staged under the hash of its checkpoint, the tiles,
/// the checkpoint, the staging object removed; each once, on one endpoint.
async fn clean_commit_steps(engines: &Engines) -> Vec<Step> {
    let prefix = "clean/";
    let injector = Injector::new(prefix, engines.garage.s3_endpoints().len());
    let (_dir, log, _) =
        log_with_base(engines, prefix, engines.faulty(&injector), TTL, nobody()).await;
    let app = api(&log);
    injector.arm(None);
    let results = add_batch_ok(&app, &batch_records()).await;
    assert_eq!(indexes_of(&results), batch_indexes());
    injector.disarm();
    let note = log.storage.read(CHECKPOINT).unwrap().unwrap();
    let calls = injector.calls();
    drop(app);
    close(log);

    let steps: Vec<Step> = calls.iter().map(|c| c.step.clone()).collect();
    assert!(calls.iter().all(|c| !c.refused), "{calls:?}");
    let staged = staging_of(&note);
    let n = steps.len();
    assert!(n == BATCH_TILES.len() + 3, "{steps:?}");
    assert_eq!(steps[0], (Op::Put, staged.clone()), "{steps:?}");
    assert_eq!(steps[n - 2], (Op::Put, CHECKPOINT.to_owned()), "{steps:?}");
    assert_eq!(steps[n - 1], (Op::Delete, staged), "{steps:?}");
    let mut tiles: Vec<&str> = steps[1..n - 2]
        .iter()
        .map(|(op, path)| {
            assert_eq!(*op, Op::Put, "{steps:?}");
            path.as_str()
        })
        .collect();
    tiles.sort();
    assert_eq!(tiles, BATCH_TILES, "{steps:?}");
    steps
}

/// Refuses step `k` of the batch's commit once: the committer retries and
/// the batch is logged, acknowledged and stored as if nothing had happened.
async fn fail_commit_once_at(engines: &Engines, k: usize, steps: &[Step]) {
    let step = &steps[k];
    let what = format!("{:?} {} refused once", step.0, step.1);
    let prefix = format!("once-{k}/");
    let endpoints = engines.garage.s3_endpoints().len();
    let injector = Injector::new(&prefix, endpoints);
    let (_dir, log, old_note) =
        log_with_base(engines, &prefix, engines.faulty(&injector), TTL, nobody()).await;
    let app = api(&log);
    injector.arm(Some((step.clone(), Fault::Once)));
    let results = add_batch_ok(&app, &batch_records()).await;
    assert_eq!(indexes_of(&results), batch_indexes(), "{what}");
    injector.disarm();
    let calls = injector.calls();
    let at = |s: &Step| calls.iter().filter(|c| same_step(&c.step, s)).count();
    // Every endpoint refused it, then the committer's next attempt did it.
    let refused: Vec<usize> = calls
        .iter()
        .filter(|c| c.refused)
        .map(|c| c.endpoint)
        .collect();
    assert_eq!(refused.len(), endpoints, "{what}: {calls:?}");
    assert!(at(step) > endpoints, "{what}: not retried: {calls:?}");
    // Once its checkpoint won the swap, a retried commit goes on from the
    // uploads: it does not stage the batch again.
    if phase(step) > 0 {
        assert_eq!(at(&steps[0]), 1, "{what}: staged again: {calls:?}");
    }
    let (_, note) = checkpoint(&app).await;
    assert_ne!(note, old_note, "{what}");
    // The batch was staged under the hash of its checkpoint, only.
    let staged = staging_of(&note);
    assert!(
        calls
            .iter()
            .all(|c| !c.step.1.starts_with("staging/") || c.step.1 == staged),
        "{what}: {calls:?}"
    );
    assert_eq!(get(&app, "/healthz").await.status, StatusCode::OK, "{what}");
    let layout = next_record_follows_the_batch(&app, &what).await;
    let (stored, _) = check_bucket(
        engines,
        &prefix,
        &[&base_records(), &batch_records(), &[body(1000)]],
        &what,
    )
    .await;
    assert_eq!(stored.size, layout.size(), "{what}");
    assert_eq!(
        engines.list(&prefix, "staging/").await,
        Vec::<String>::new(),
        "{what}"
    );
    drop(app);
    close(log);
}

/// Refuses step `k` of the batch's commit and every change after it: the
/// batch waits while the committer retries, new writes get 503; then the
/// log stops as a crash would stop it, still holding its lease. The next
/// sequencer, on clean clients, takes over once the lease has expired.
/// Checks the bucket it leaves, and that writes resume.
async fn fail_commit_at(engines: &Engines, k: usize, steps: &[Step]) {
    let step = &steps[k];
    let what = format!("{:?} {} refused from then on", step.0, step.1);
    let prefix = format!("stays-{k}/");
    let injector = Injector::new(&prefix, engines.garage.s3_endpoints().len());
    let (dir, log, old_note) =
        log_with_base(engines, &prefix, engines.faulty(&injector), TTL, nobody()).await;
    let app = api(&log);
    injector.arm(Some((step.clone(), Fault::Stays)));

    let waiting = tokio::spawn({
        let app = app.clone();
        async move { post(&app, "/add-batch", batch_body(&batch_records())).await }
    });
    // The committer retries; meanwhile `/healthz` says why, and new writes
    // are refused for now (503, Retry-After).
    let health = until_unhealthy(&app).await;
    assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let why = health.json()["error"].as_str().unwrap().to_owned();
    assert!(why.contains("injected"), "{what}: {why}");
    let refused = add(&app, &body(1000)).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE, "{what}");
    assert!(!refused.header("retry-after").is_empty(), "{what}");
    // The commit went no further than the refused step's part of it.
    let calls = injector.calls();
    let first = calls.iter().position(|c| c.refused).unwrap();
    assert!(same_step(&calls[first].step, step), "{what}: {calls:?}");
    // The batch's staging object: its commit's first change.
    let staged = calls[0].step.1.clone();
    assert!(
        same_step(&calls[0].step, &steps[0]),
        "{what}: the commit did not stage first: {calls:?}"
    );
    assert!(
        calls.iter().all(|c| phase(&c.step) <= phase(step)),
        "{what}: the commit went on after the fault: {calls:?}"
    );
    // Nothing was acknowledged, nothing published.
    assert_eq!(checkpoint(&app).await.1, old_note, "{what}");

    // The crash: retries end, the batch fails, and the lease is not given
    // up (it expires).
    log.sequencer.shut_down();
    let reply = waiting.await.unwrap();
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
    assert_eq!(reply.json()["status"], json!(500), "{what}");
    drop(app);
    close(log);

    // The swap won unless the staging object could not be written: then
    // the batch is staged, and the bucket's checkpoint is the new one only
    // if its PUT went through.
    let swapped = phase(step) > 0;
    let before = engines.reader(&prefix).read(CHECKPOINT).unwrap().unwrap();
    assert_eq!(before != old_note, phase(step) == 3, "{what}");
    let staging = engines.list(&prefix, "staging/").await;
    assert_eq!(
        staging,
        if swapped {
            vec![staged.clone()]
        } else {
            vec![]
        },
        "{what}"
    );

    let taking_over = Instant::now();
    let storage = engines.sequencer(&prefix, engines.clients(), TTL, nobody());
    let waited = taking_over.elapsed();
    let (base, batch) = (base_records(), batch_records());
    let batches: Vec<&[Vec<u8>]> = if swapped {
        vec![&base, &batch]
    } else {
        vec![&base]
    };
    let (stored, note) = check_bucket(engines, &prefix, &batches, &what).await;
    assert_eq!(
        note != old_note,
        swapped,
        "{what}: waited {waited:?} for the lease"
    );
    if swapped {
        assert_eq!(
            staged,
            staging_of(&note),
            "{what}: staged under another name"
        );
    }
    let sizes = if swapped { layout() } else { base_layout() };
    assert_eq!(stored.size, sizes.size(), "{what}");
    assert_eq!(
        engines.list(&prefix, "staging/").await,
        Vec::<String>::new(),
        "{what}"
    );

    // Recovery: the retried batch gets the same indexes whether or not its
    // commit survived, and new records follow it.
    let log = open_log(dir.path(), Arc::new(storage));
    let app = api(&log);
    let results = add_batch_ok(&app, &batch).await;
    assert_eq!(indexes_of(&results), batch_indexes(), "{what}");
    let layout = next_record_follows_the_batch(&app, &what).await;
    let (stored, _) = check_bucket(engines, &prefix, &[&base, &batch, &[body(1000)]], &what).await;
    assert_eq!(stored.size, layout.size(), "{what}");
    drop(app);
    close(log);
}

#[test]
fn a_commit_refused_once_at_any_step_is_retried_and_logged() {
    let engines = Engines::start();
    run(async {
        let steps = clean_commit_steps(&engines).await;
        for k in 0..steps.len() {
            fail_commit_once_at(&engines, k, &steps).await;
        }
    });
}

#[test]
fn a_commit_failing_at_any_step_leaves_the_old_or_new_tree_and_recovers() {
    let engines = Engines::start();
    run(async {
        let steps = clean_commit_steps(&engines).await;
        for k in 0..steps.len() {
            fail_commit_at(&engines, k, &steps).await;
        }
    });
}

/// A sequencer whose lease was revoked behind its back (its lease lives a
/// minute, so it does not notice before it commits) while another took
/// over: its commit is refused by etcd (the new holder has not replaced
/// the checkpoint yet: the lease alone fences it), its retries too while
/// the new holder commits at the same positions, and nothing of its batch
/// reaches a tile path or the checkpoint. The next holder removes the
/// staging object it left.
#[test]
fn a_sequencer_that_lost_its_lease_writes_no_tile_and_no_checkpoint() {
    let engines = Engines::start();
    run(async {
        let prefix = "fenced/";
        let injector = Injector::new(prefix, engines.garage.s3_endpoints().len());
        let lost = nobody();
        let (_dir_a, log_a, base_note) = log_with_base(
            &engines,
            prefix,
            engines.faulty(&injector),
            Duration::from_secs(60),
            lost.clone(),
        )
        .await;
        let app_a = api(&log_a);

        engines.revoke_lease(prefix);
        let storage_b = Arc::new(engines.sequencer(prefix, engines.clients(), TTL, nobody()));
        let dir_b = log_dir();
        let log_b = open_log(dir_b.path(), storage_b.clone());
        let app_b = api(&log_b);
        assert_eq!(engines.etcd_checkpoint(prefix).await, Some(base_note));

        // The first holder has not noticed: its commit goes to etcd.
        assert_eq!(*lost.lock().unwrap(), None);
        injector.arm(None);
        let waiting = tokio::spawn({
            let app = app_a.clone();
            async move { post(&app, "/add-batch", batch_body(&batch_records())).await }
        });
        let health = until_unhealthy(&app_a).await;
        assert_eq!(health.status, StatusCode::SERVICE_UNAVAILABLE);
        let why = health.json()["error"].as_str().unwrap().to_owned();
        assert!(why.contains("sequencer lease"), "{why}");

        // The new holder commits its own batch at the same positions while
        // the first one retries.
        let theirs: Vec<Vec<u8>> = (2000..2000 + BATCH).map(body).collect();
        let results = add_batch_ok(&app_b, &theirs).await;
        assert_eq!(indexes_of(&results), batch_indexes());
        let start = Instant::now();
        let staged_before = injector.calls().len();
        while injector.calls().len() < staged_before + 2 {
            assert!(start.elapsed() < DEADLINE, "{:?}", injector.calls());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        log_a.sequencer.shut_down();
        let reply = waiting.await.unwrap();
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        drop(app_a);
        close(log_a);
        injector.disarm();
        // All it wrote was its staging object, again at each retry.
        let calls = injector.calls();
        let staged = calls[0].step.1.clone();
        assert!(staged.starts_with("staging/"), "{calls:?}");
        assert!(
            calls
                .iter()
                .all(|c| c.step == (Op::Put, staged.clone()) && !c.refused),
            "{calls:?}"
        );

        // The bucket holds the new holder's tree, and it goes on.
        let what = "after the fenced commits";
        check_bucket(&engines, prefix, &[&base_records(), &theirs], what).await;
        assert_eq!(engines.list(prefix, "staging/").await, [staged]);
        let next = next_record_follows_the_batch(&app_b, what).await;
        let all: [&[Vec<u8>]; 3] = [&base_records(), &theirs, &[body(1000)]];
        let (stored, _) = check_bucket(&engines, prefix, &all, what).await;
        assert_eq!(stored.size, next.size());

        // The next holder removes the staging object of the commit that
        // never won, and changes nothing else.
        storage_b.release();
        drop(app_b);
        close(log_b);
        drop(storage_b);
        let storage_c = engines.sequencer(prefix, engines.clients(), TTL, nobody());
        assert_eq!(engines.list(prefix, "staging/").await, Vec::<String>::new());
        let (again, _) = check_bucket(&engines, prefix, &all, what).await;
        assert_eq!(again, stored);
        drop(storage_c);
    });
}
