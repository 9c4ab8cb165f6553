//! Shared helpers for the log server's integration tests: a log created the
//! way `gazette-log init` creates one, registered agencies, signed records,
//! requests through the router with `oneshot`, and a reference RFC 6962
//! tree to check what the log stores and serves.

#![allow(dead_code)]

pub mod engines;
pub mod faults;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use gazette_client::checkpoint::{Checkpoint, open_checkpoint};
use gazette_client::index::commitment::IndexCommitment;
use gazette_client::index::lookup::{LookupKey, ProvenList, verify_lookup};
use gazette_client::merkle::{self, Hash, leaf_hash};
use gazette_client::note::{KeyType, Signer, Verifier};
use gazette_client::record::{Record, SignedRecord};
use gazette_client::registry::{Action, RegistryEntry, SignedRegistryEntry};
use gazette_client::tiles::{
    HEIGHT, Tile, TileLevel, check_bundle_against_tile, parse_entry_bundle, read_tile_data,
    tiles_for_size,
};
use gazette_log::config::{CONFIG_FILE, Config};
use gazette_log::log::Log;
use gazette_log::storage::Storage;
use tower::ServiceExt;

/// The test log's origin (and its key's name).
pub const ORIGIN: &str = "log.test.example/records";
/// The registered agency's name.
pub const AGENCY: &str = "land-registry.example.gov";
/// Upper bound for anything a test waits on.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The log's signing key (deterministic, so expected checkpoints can be
/// signed by the test itself: Ed25519 signatures are deterministic).
pub fn log_signer() -> Signer {
    Signer::from_seed(ORIGIN, KeyType::Ed25519, [0x11; 32]).unwrap()
}

/// The registered agency's record-signing key.
pub fn agency() -> Signer {
    Signer::from_seed(AGENCY, KeyType::Ed25519, [0x22; 32]).unwrap()
}

/// A key with the agency's name that was never registered (another key ID).
pub fn impostor() -> Signer {
    Signer::from_seed(AGENCY, KeyType::Ed25519, [0x33; 32]).unwrap()
}

/// An agency that was never registered at all.
pub fn unregistered_agency() -> Signer {
    Signer::from_seed("unknown-agency.example.org", KeyType::Ed25519, [0x44; 32]).unwrap()
}

/// Creates a log in `dir` as `gazette-log init` does (`gazette-log.toml`
/// from the template, `log.key` holding the skey), then registers the
/// agency as `gazette-log agency add` does.
pub fn init_log(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    std::fs::write(dir.join(CONFIG_FILE), Config::template(ORIGIN, listen)).unwrap();
    std::fs::write(dir.join("log.key"), format!("{}\n", log_signer().to_skey())).unwrap();
    register(dir, &agency().verifier());
}

/// Lists an agency key in the agencies file of the log in `dir`, before
/// its first start: the log registers it then (its first entries).
pub fn register(dir: &Path, key: &Verifier) {
    let config = Config::load(dir).unwrap();
    gazette_log::agencies::add(&dir.join(&config.agencies_file), key, 0).unwrap();
}

/// The entries a fresh test log starts with: the agency's registration
/// (logged from the agencies file at the first start) and the index
/// commitment ending its batch. The first record gets this index.
pub const FIRST: u64 = 2;

/// A registry entry of the test log: `action` on `key` (of its agency),
/// signed by the log and by `cosigners`.
pub fn registry_entry(
    action: Action,
    key: &Verifier,
    from: Option<u64>,
    cosigners: &[&Signer],
) -> SignedRegistryEntry {
    let log = log_signer();
    let mut signers = vec![&log];
    signers.extend_from_slice(cosigners);
    RegistryEntry {
        log: ORIGIN.to_owned(),
        agency: key.name().to_owned(),
        action,
        key: key.clone(),
        from,
        time: "2026-12-05T10:00:00Z".to_owned(),
    }
    .sign(&signers)
    .unwrap()
}

/// `POST /registry` of `entry`, which must be logged; returns its index.
pub async fn registry_ok(app: &Router, entry: &SignedRegistryEntry) -> u64 {
    let reply = post(app, "/registry", entry.bytes.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
    reply.json()["index"].as_u64().unwrap()
}

/// Sets `key = value` in the configuration (the template has every key on
/// its own line), so a test can shrink the queue or the batch limits.
pub fn set_config(dir: &Path, key: &str, value: &str) {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let prefix = format!("{key} = ");
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with(&prefix) {
                found = true;
                format!("{prefix}{value}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(found, "no `{key}` line in the configuration template");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    Config::load(dir).expect("the tweaked configuration is valid");
}

/// A temporary data directory with an initialised log.
pub fn new_log_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init_log(dir.path());
    dir
}

/// Opens the log in `dir` (filesystem storage, as `serve` does).
pub fn open(dir: &Path) -> Arc<Log> {
    Arc::new(Log::open(dir).expect("open the log"))
}

/// The HTTP API of `log`.
pub fn api(log: &Arc<Log>) -> Router {
    gazette_log::api::router(log.clone())
}

/// Drops the last handle on a log and waits (bounded) until its sequencer
/// and indexer threads have let go of the indexes, so the directory can be opened again
/// (an open index database is locked). Every other `Arc<Log>` and router must be
/// dropped first.
pub fn close(log: Arc<Log>) -> PathBuf {
    let dir = log.dir.clone();
    let index = Arc::downgrade(log.index.as_ref().expect("a writable log"));
    let lookup = Arc::downgrade(log.lookup.as_ref().expect("a writable log"));
    drop(log);
    let start = Instant::now();
    while index.strong_count() > 0 || lookup.strong_count() > 0 {
        assert!(
            start.elapsed() < DEADLINE,
            "the log's index is still held: a handle on the log is alive"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    dir
}

/// Closes the log and opens its directory again.
pub fn reopen(log: Arc<Log>) -> Arc<Log> {
    let dir = close(log);
    open(&dir)
}

/// A document digest derived from `n`.
pub fn digest(n: u64) -> [u8; 32] {
    let mut d = [0x5a; 32];
    d[..8].copy_from_slice(&n.to_be_bytes());
    d
}

/// Record `n` of the agency, with document digest `digest(n)`.
pub fn record(n: u64) -> Record {
    Record::new(
        AGENCY,
        "property-registration",
        &format!("PR-2026-{n:06}"),
        digest(n),
        "2026-11-24T09:00:00Z",
    )
}

/// Record `n`, signed by the agency.
pub fn signed(n: u64) -> SignedRecord {
    record(n).sign(&agency()).unwrap()
}

/// The exact bytes of signed record `n`.
pub fn body(n: u64) -> Vec<u8> {
    signed(n).bytes
}

/// An `/add-batch` body.
pub fn batch_body(records: &[Vec<u8>]) -> Vec<u8> {
    let records: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8(r.clone()).unwrap())
        .collect();
    serde_json::to_vec(&serde_json::json!({ "records": records })).unwrap()
}

/// Standard padded base64 (RFC 4648), written here so the test checks the
/// wire encoding independently of the client crate.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not JSON ({e}): {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header as text (empty when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

/// Sends one request through the router (bounded in time).
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let what = format!("{} {}", request.method(), request.uri());
    let response = tokio::time::timeout(DEADLINE, app.clone().oneshot(request))
        .await
        .unwrap_or_else(|_| panic!("{what} did not answer in time"))
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `GET path`.
pub async fn get(app: &Router, path: &str) -> Reply {
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

/// `POST path` with `body` (typed as JSON for `/add-batch`).
pub async fn post(app: &Router, path: &str, body: impl Into<Body>) -> Reply {
    let mut request = Request::builder().method(Method::POST).uri(path);
    if path.starts_with("/add-batch") {
        request = request.header("content-type", "application/json");
    }
    let request = request.body(body.into()).unwrap();
    send(app, request).await
}

/// `POST /add` of one record; the status and JSON body.
pub async fn add(app: &Router, record: &[u8]) -> Reply {
    post(app, "/add", record.to_vec()).await
}

/// `POST /add` that must succeed; returns the index.
pub async fn add_ok(app: &Router, record: &[u8]) -> u64 {
    let reply = add(app, record).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
    reply.json()["index"].as_u64().unwrap()
}

/// `POST /add-batch` that must succeed; returns the per-record results.
pub async fn add_batch_ok(app: &Router, records: &[Vec<u8>]) -> Vec<serde_json::Value> {
    let reply = post(app, "/add-batch", batch_body(records)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
    reply.json()["results"].as_array().unwrap().clone()
}

/// `GET /checkpoint`, verified with the log key; returns the note too.
pub async fn checkpoint(app: &Router) -> (Checkpoint, Vec<u8>) {
    let reply = get(app, "/checkpoint").await;
    assert_eq!(reply.status, StatusCode::OK);
    let opened = open_checkpoint(&reply.body, &log_signer().verifier())
        .expect("the served checkpoint verifies with the log key");
    (opened.checkpoint, reply.body)
}

/// The size of the served checkpoint.
pub async fn size(app: &Router) -> u64 {
    checkpoint(app).await.0.size
}

/// Where the entries of a log with the verifiable index (on by default)
/// land: a batch of `k > 0` new records takes `k + 1` entries, its records
/// in order, then the commitment to the index of everything before it, at
/// its own index (the batch's first index + `k`). A batch of duplicates
/// only adds nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The index of each new record, in the order submitted.
    pub records: Vec<u64>,
    /// The index of each commitment.
    pub commitments: Vec<u64>,
}

impl Layout {
    /// The layout of an empty log after batches of `batches[i]` new
    /// records each.
    pub fn of(batches: &[u64]) -> Layout {
        let mut layout = Layout::default();
        for &k in batches {
            layout.batch(k);
        }
        layout
    }

    /// The layout of a freshly opened test log (its first [`FIRST`]
    /// entries: the agency's registration, then the commitment ending its
    /// batch) after batches of `batches[i]` new records each.
    pub fn opened(batches: &[u64]) -> Layout {
        let mut layout = Layout {
            records: Vec::new(),
            commitments: vec![FIRST - 1],
        };
        for &k in batches {
            layout.batch(k);
        }
        layout
    }

    /// Appends a batch of `k` new records.
    pub fn batch(&mut self, k: u64) {
        if k == 0 {
            return;
        }
        let first = self.size();
        self.records.extend(first..first + k);
        self.commitments.push(first + k);
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.commitments.last().map_or(0, |c| c + 1)
    }
}

/// The root of the segment of the verifiable index that files entries
/// `start .. end` of `entries`, computed here from the entries with the
/// client's map code (`docs/INDEX.md`, sections 1 and 2).
pub fn segment_root(entries: &[Vec<u8>], start: u64, end: u64) -> Hash {
    gazette_client::index::segment_root((start..end).map(|i| (i, entries[i as usize].as_slice())))
}

/// Checks that entry `index` of `entries` is a commitment the log may
/// write there: it parses, its size is its own index, and each segment it
/// lists has the root that the entries of its range give. Returns it.
pub fn check_commitment(entries: &[Vec<u8>], index: u64) -> IndexCommitment {
    let entry = &entries[index as usize];
    let commitment = IndexCommitment::parse(entry).unwrap_or_else(|| {
        panic!(
            "entry {index} is not a commitment: {:?}",
            String::from_utf8_lossy(entry)
        )
    });
    assert_eq!(commitment.size, index, "the commitment at {index}");
    for segment in &commitment.segments {
        assert_eq!(
            segment.root,
            segment_root(entries, segment.start, segment.end),
            "the commitment at {index}: segment {}..{}",
            segment.start,
            segment.end
        );
    }
    commitment
}

/// The entries a log logged at its first start, taken from `stored` (what
/// the log stores or serves) and checked: its leading run of registry
/// entries, each the registration (from index 0, signed by the log) of a
/// key of the agencies file, then the commitment ending their batch
/// (checked with [`check_commitment`]). Empty if `stored` does not start
/// with a registry entry.
pub fn start_entries(stored: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut entries: Vec<Vec<u8>> = Vec::new();
    while let Some(registration) = stored
        .get(entries.len())
        .and_then(|e| SignedRegistryEntry::parse(e).ok())
    {
        let at = entries.len();
        let entry = &registration.entry;
        assert_eq!(entry.log, ORIGIN, "the registration at {at}");
        assert_eq!(entry.action, Action::Register, "the registration at {at}");
        assert_eq!(entry.agency, entry.key.name(), "the registration at {at}");
        assert_eq!(entry.from, Some(0), "the registration at {at}");
        assert!(
            registration.signed_by(&log_signer().verifier()),
            "the registration at {at} is not signed by the log"
        );
        entries.push(stored[at].clone());
    }
    if !entries.is_empty() {
        let at = entries.len();
        let commitment = stored
            .get(at)
            .unwrap_or_else(|| panic!("no entry {at} for the commitment ending the registrations"));
        entries.push(commitment.clone());
        check_commitment(&entries, at as u64);
    }
    entries
}

/// The entries a log holds after `batches` (each batch's new records, in
/// order): the registrations it logged at its first start and their
/// commitment if `stored` starts with them ([`start_entries`]; a test log
/// does: [`FIRST`] entries), then each non-empty batch's records, then its
/// commitment, taken from `stored` (what the log stores or serves) and
/// checked with [`check_commitment`]. Compare it with `stored` to check
/// that the records sit where the layout puts them.
pub fn expected_entries(batches: &[&[Vec<u8>]], stored: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut entries = start_entries(stored);
    for batch in batches.iter().filter(|b| !b.is_empty()) {
        entries.extend(batch.iter().cloned());
        let at = entries.len();
        let commitment = stored
            .get(at)
            .unwrap_or_else(|| panic!("no entry {at} for the commitment ending a batch"));
        entries.push(commitment.clone());
        check_commitment(&entries, at as u64);
    }
    entries
}

/// Every entry of the tree of `size`, read from the entry bundles the API
/// serves.
pub async fn served_entries(app: &Router, size: u64) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    for bundle in bundles_for_size(size) {
        let reply = get(app, &format!("/{}", bundle.path())).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", bundle.path());
        let parsed = parse_entry_bundle(&bundle, &reply.body).unwrap();
        entries.extend(parsed.iter().map(|e| e.to_vec()));
    }
    assert_eq!(entries.len() as u64, size);
    entries
}

/// The indexes an `/add-batch` answer gives its records, each logged.
pub fn indexes_of(results: &[serde_json::Value]) -> Vec<u64> {
    results
        .iter()
        .map(|r| {
            r["index"]
                .as_u64()
                .unwrap_or_else(|| panic!("not logged: {r}"))
        })
        .collect()
}

/// A reference tree built leaf by leaf with the client's RFC 6962 code.
#[derive(Default)]
pub struct Reference {
    pub leaves: Vec<Hash>,
    pub stored: Vec<Hash>,
}

impl Reference {
    /// The tree of these entries.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Reference {
        let mut tree = Reference::default();
        for entry in entries {
            tree.push(leaf_hash(entry));
        }
        tree
    }

    /// Appends a leaf.
    pub fn push(&mut self, leaf: Hash) {
        let n = self.leaves.len() as u64;
        let new = merkle::stored_hashes_for_leaf(n, leaf, &self.stored).unwrap();
        self.stored.extend(new);
        self.leaves.push(leaf);
    }

    /// Its size.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// Its root.
    pub fn root(&self) -> Hash {
        merkle::tree_hash(self.size(), &self.stored).unwrap()
    }

    /// The hash tile `tile` as a log must write it.
    pub fn tile(&self, tile: &Tile) -> Vec<u8> {
        read_tile_data(tile, &self.stored).unwrap()
    }

    /// The checkpoint note the log (whose key the tests know) signs for
    /// this tree.
    pub fn signed_checkpoint(&self) -> Vec<u8> {
        Checkpoint {
            origin: ORIGIN.to_owned(),
            size: self.size(),
            root: self.root(),
            extensions: Vec::new(),
        }
        .sign(&log_signer())
        .unwrap()
        .into_bytes()
    }
}

/// The entry bundles a tree of `size` leaves has: full ones, then the
/// partial one if any.
pub fn bundles_for_size(size: u64) -> Vec<Tile> {
    tiles_for_size(HEIGHT, size)
        .into_iter()
        .filter(|t| t.level == TileLevel::Hashes(0))
        .map(|t| t.entries())
        .collect()
}

/// Reads the whole tree of the stored checkpoint from `storage` and checks
/// it: the checkpoint verifies with the log key, every entry bundle parses
/// and matches its level-0 tile, every hash tile equals the reference tree
/// recomputed from the entries, and the reference root is the checkpoint's.
/// Returns the checkpoint and the entries.
pub fn verify_stored_tree(storage: &dyn Storage) -> (Checkpoint, Vec<Vec<u8>>) {
    let note = storage
        .read("checkpoint")
        .unwrap()
        .expect("a stored checkpoint");
    let checkpoint = open_checkpoint(&note, &log_signer().verifier())
        .expect("the stored checkpoint verifies with the log key")
        .checkpoint;
    let size = checkpoint.size;
    let read = |path: &str| {
        storage.read(path).unwrap().unwrap_or_else(|| {
            panic!("{path}, implied by the checkpoint of size {size}, is missing")
        })
    };
    let mut entries = Vec::new();
    for bundle in bundles_for_size(size) {
        let data = read(&bundle.path());
        let parsed = parse_entry_bundle(&bundle, &data).unwrap();
        let tile = Tile {
            level: TileLevel::Hashes(0),
            ..bundle
        };
        check_bundle_against_tile(&bundle, &parsed, &read(&tile.path())).unwrap();
        entries.extend(parsed.iter().map(|e| e.to_vec()));
    }
    assert_eq!(entries.len() as u64, size);
    let reference = Reference::of(entries.iter().map(Vec::as_slice));
    for tile in tiles_for_size(HEIGHT, size) {
        assert!(
            read(&tile.path()) == reference.tile(&tile),
            "{} does not match the tree of its entries",
            tile.path()
        );
    }
    assert_eq!(
        reference.root(),
        checkpoint.root,
        "the tiles do not hash to the checkpoint's root"
    );
    (checkpoint, entries)
}

/// Every file under `dir` (relative paths with `/`).
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Tiles fetched through the API, served to the client's proof code.
pub struct FetchedTiles(pub HashMap<Tile, Vec<u8>>);

impl gazette_client::tiles::TileReader for FetchedTiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, merkle::ReadError> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(t)
                    .cloned()
                    .ok_or_else(|| merkle::ReadError::new(format!("{} was not fetched", t.path())))
            })
            .collect()
    }
}

/// Fetches every tile and bundle of the tree of `size` through the API.
pub async fn fetch_tree(app: &Router, size: u64) -> FetchedTiles {
    let mut tiles = HashMap::new();
    let hash_tiles = tiles_for_size(HEIGHT, size);
    let bundles = bundles_for_size(size);
    for tile in hash_tiles.into_iter().chain(bundles) {
        let reply = get(app, &format!("/{}", tile.path())).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", tile.path());
        tiles.insert(tile, reply.body);
    }
    FetchedTiles(tiles)
}

/// The `/index/lookup` query of `key`.
pub fn index_query(key: &LookupKey) -> String {
    match key {
        LookupKey::Document(d) => {
            let hex = gazette_client::encoding::hex_encode(d);
            format!("/index/lookup?digest=sha256:{hex}")
        }
        LookupKey::Name { issuer, kind, id } => {
            format!("/index/lookup?issuer={issuer}&kind={kind}&id={id}")
        }
        LookupKey::Agency(agency) => format!("/index/lookup?agency={agency}"),
    }
}

/// Looks `key` up and verifies the answer as a light client would: the
/// checkpoint with the log's key, then everything else against it.
pub async fn proven(app: &Router, key: &LookupKey) -> ProvenList {
    let reply = get(app, &index_query(key)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json());
    let v = reply.json();
    let checkpoint = open_checkpoint(
        v["checkpoint"].as_str().unwrap().as_bytes(),
        &log_signer().verifier(),
    )
    .unwrap()
    .checkpoint;
    assert_eq!(checkpoint.size, v["size"].as_u64().unwrap());
    let proof = gazette_tests::lookup_proof(&v);
    verify_lookup(key, &proof, checkpoint.size, &checkpoint.root)
        .unwrap_or_else(|e| panic!("{key:?}: {e}"))
}
