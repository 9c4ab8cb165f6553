//! # gazette-tests — end-to-end tests with real processes
//!
//! Helpers to run the real `gazette-log` and `gazette-witness` binaries on
//! loopback (random free ports, data in temp directories), each stopped
//! when its handle is dropped. The binaries are the workspace's own
//! (`target/<profile>/`), built on first use if `cargo test` did not
//! build them already. The processes are run by [`process`], which the
//! server crates' own tests share.

pub mod attack;
pub mod browser;
pub mod distributed;
pub mod engines;
pub mod mount;
pub mod process;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

pub use process::Server;

/// Path of a workspace binary next to the running test's own directory.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let exe = std::env::current_exe().expect("the test's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let path = dir.join(name);
    BUILT.get_or_init(|| {
        let all = ["gazette-log", "gazette-witness", "gazette"];
        // `cargo bench -p gazette-tests` builds no other package's binaries:
        // a release binary left from an older build would be measured, so
        // benchmarks always bring them up to date (a no-op when they are).
        let stale_possible = dir.ends_with("release");
        if stale_possible || !all.iter().all(|b| dir.join(b).exists()) {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut args = vec![
                "build",
                "-p",
                "gazette-log",
                "-p",
                "gazette-witness",
                "-p",
                "gazette-cli",
            ];
            if dir.ends_with("release") {
                args.push("--release");
            }
            let status = Command::new(cargo)
                .args(&args)
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building the binaries failed");
        }
    });
    path
}

/// Runs a workspace binary and returns its exit code, stdout and stderr.
pub fn run_status(binary_name: &str, args: &[&str]) -> (i32, String, String) {
    process::run_status(&binary(binary_name), args)
}

/// Runs a workspace binary to completion; panics with its stderr on
/// failure; returns its stdout.
pub fn run(binary_name: &str, args: &[&str]) -> String {
    process::run(&binary(binary_name), args)
}

/// The value after `prefix` on the line of `output` that starts with it.
pub fn line_value(output: &str, prefix: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {output}"))
        .trim()
        .to_owned()
}

/// Creates a log named `origin` in `dir` (`gazette-log init`) accepting
/// records of `agency`; returns the log's verifier key. The agency's key
/// is registered in the log itself (`gazette-log agency add`, which opens
/// the log in-process): so the log does not start empty, its first
/// entries are the registration and the verifiable index's commitment
/// ending that batch ([`stored_size`] says how many).
pub fn init_log(dir: &Path, origin: &str, agency: &gazette_client::note::Verifier) -> String {
    let d = dir.to_str().expect("a UTF-8 path");
    let log_vkey = line_value(
        &run("gazette-log", &["init", "--origin", origin, "--dir", d]),
        "log verifier key:",
    );
    run(
        "gazette-log",
        &["agency", "add", &agency.to_string(), "--dir", d],
    );
    log_vkey
}

/// The size of the tree a log on the filesystem keeps in `dir`, as its
/// stored (committed, maybe not yet published) checkpoint says; 0 without
/// one. Signature not checked.
pub fn stored_size(dir: &Path) -> u64 {
    let Ok(note) = std::fs::read(dir.join("checkpoint")) else {
        return 0;
    };
    let text = gazette_client::note::Note::parse(&note)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&note)))
        .text;
    gazette_client::checkpoint::Checkpoint::parse(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}"))
        .size
}

/// Checks that entries `0 .. size` of the log at `url` are what a log
/// holds before any record: registry entries (`gazette.agency/v1`) and
/// the verifiable index's commitments ending their batches, at least one
/// registration among them.
pub async fn assert_registry_only(url: &str, size: u64) {
    use gazette_client::index::commitment::IndexCommitment;
    use gazette_client::registry::SignedRegistryEntry;
    let entries = read_entries(url, size).await;
    let mut registrations = 0;
    for (index, entry) in (0u64..).zip(&entries) {
        if SignedRegistryEntry::parse(entry).is_ok() {
            registrations += 1;
            continue;
        }
        assert_eq!(
            IndexCommitment::parse(entry).map(|c| c.size),
            Some(index),
            "entry {index} is neither a registry entry nor a commitment at its index: {}",
            String::from_utf8_lossy(entry)
        );
    }
    assert!(
        registrations > 0 || size == 0,
        "no registry entry below {size}"
    );
}

/// A log and its witnesses as real processes on loopback: the log's
/// policy asks for `quorum` cosignatures of the witnesses.
pub struct WitnessedLog {
    /// The log.
    pub log: Server,
    /// The log's size before any record: the registration of its agency
    /// and the index commitment after it ([`init_log`]). The first record
    /// sent gets this index.
    pub records_from: u64,
    /// The witnesses (`None` while stopped), in policy order `w1, w2, ...`.
    pub witnesses: Vec<Option<Server>>,
    /// The log's data directory.
    pub log_dir: PathBuf,
    witness_dirs: Vec<PathBuf>,
    witness_addrs: Vec<String>,
    _dir: tempfile::TempDir,
}

impl WitnessedLog {
    /// Sets up and starts a log named `origin` accepting records of
    /// `agency`, and `count` witnesses following it, with the policy
    /// `group quorum <quorum> w1 .. wN` (no policy when `count` is 0).
    pub fn start(
        origin: &str,
        agency: &gazette_client::note::Verifier,
        count: usize,
        quorum: usize,
    ) -> WitnessedLog {
        let dir = tempfile::tempdir().expect("a temp dir");
        let log_dir = dir.path().join("log");
        let log_vkey = init_log(&log_dir, origin, agency);
        let records_from = stored_size(&log_dir);
        let mut policy = String::new();
        let (mut witnesses, mut witness_dirs, mut witness_addrs) =
            (Vec::new(), Vec::new(), Vec::new());
        for i in 1..=count {
            let wdir = dir.path().join(format!("witness{i}"));
            let w = wdir.to_str().unwrap();
            let out = run(
                "gazette-witness",
                &["init", "--name", &format!("w{i}.example.org"), "--dir", w],
            );
            let vkey = line_value(&out, "witness verifier key:");
            run(
                "gazette-witness",
                &[
                    "add-log", "--origin", origin, "--vkey", &log_vkey, "--dir", w,
                ],
            );
            let server = Server::start(&binary("gazette-witness"), &wdir, "127.0.0.1:0");
            policy.push_str(&format!("witness w{i} {vkey} {}\n", server.url));
            witness_addrs.push(server.addr());
            witnesses.push(Some(server));
            witness_dirs.push(wdir);
        }
        // Without witnesses the log publishes what it commits.
        if count > 0 {
            let members: Vec<String> = (1..=count).map(|i| format!("w{i}")).collect();
            policy.push_str(&format!(
                "group quorum {quorum} {}\nquorum quorum\n",
                members.join(" ")
            ));
            std::fs::write(log_dir.join("policy.txt"), policy).expect("write the policy");
            let config_path = log_dir.join("gazette-log.toml");
            let config = std::fs::read_to_string(&config_path)
                .expect("the log's configuration")
                .replace(
                    "# witness_policy_file = \"policy.txt\"",
                    "witness_policy_file = \"policy.txt\"",
                );
            std::fs::write(&config_path, config).expect("write the configuration");
        }
        let log = Server::start(&binary("gazette-log"), &log_dir, "127.0.0.1:0");
        WitnessedLog {
            log,
            records_from,
            witnesses,
            log_dir,
            witness_dirs,
            witness_addrs,
            _dir: dir,
        }
    }

    /// Stops the log (SIGKILL) and starts it again on the same data.
    pub fn restart_log(&mut self) {
        self.log.stop();
        self.log = Server::start(&binary("gazette-log"), &self.log_dir, "127.0.0.1:0");
    }

    /// Stops witness `i` (0-based) with SIGKILL.
    pub fn stop_witness(&mut self, i: usize) {
        self.witnesses[i] = None;
    }

    /// Starts witness `i` again, on the address the log's policy names.
    pub fn restart_witness(&mut self, i: usize) {
        self.witnesses[i] = Some(Server::start(
            &binary("gazette-witness"),
            &self.witness_dirs[i],
            &self.witness_addrs[i],
        ));
    }
}

/// Sends `records` to the log at `url` in one `/add-batch`; panics unless
/// every one is logged. Returns the index the log gave each, in order:
/// with the verifiable index on, the batch that logs them ends with a
/// commitment entry, so indexes are not consecutive across batches.
pub async fn add_batch(url: &str, records: Vec<Vec<u8>>) -> Vec<u64> {
    let records: Vec<String> = records
        .into_iter()
        .map(|r| String::from_utf8(r).expect("a record is text"))
        .collect();
    let reply = reqwest::Client::new()
        .post(format!("{url}/add-batch"))
        .json(&serde_json::json!({ "records": records }))
        .send()
        .await
        .expect("the log answers");
    assert!(reply.status().is_success(), "{}", reply.status());
    let answer: serde_json::Value = reply.json().await.expect("JSON");
    let indexes: Option<Vec<u64>> = answer["results"]
        .as_array()
        .and_then(|r| r.iter().map(|x| x["index"].as_u64()).collect());
    let indexes = indexes.unwrap_or_else(|| panic!("not every record logged: {answer}"));
    assert_eq!(indexes.len(), records.len(), "{answer}");
    indexes
}

/// GETs `url` and parses its JSON.
pub async fn get_json(url: &str) -> serde_json::Value {
    reqwest::get(url)
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON")
}

/// The size of the log's newest checkpoint (`GET /checkpoint`, signature
/// not checked).
pub async fn checkpoint_size(url: &str) -> u64 {
    let note = reqwest::get(format!("{url}/checkpoint"))
        .await
        .expect("the server answers")
        .text()
        .await
        .expect("a checkpoint");
    let text = gazette_client::note::Note::parse(note.as_bytes())
        .unwrap_or_else(|e| panic!("{e}: {note}"))
        .text;
    gazette_client::checkpoint::Checkpoint::parse(&text)
        .unwrap_or_else(|e| panic!("{e}: {note}"))
        .size
}

/// Entries `0 .. size` of the log at `url`, read from its entry bundles
/// (`tile/entries/…`), in index order.
pub async fn read_entries(url: &str, size: u64) -> Vec<Vec<u8>> {
    use gazette_client::tiles::{HEIGHT, Tile, TileLevel, parse_entry_bundle};
    let client = reqwest::Client::new();
    let mut entries = Vec::with_capacity(usize::try_from(size).expect("a size"));
    let mut start = 0;
    while start < size {
        let bundle = Tile {
            height: HEIGHT,
            level: TileLevel::Entries,
            index: start >> HEIGHT,
            width: u32::try_from((size - start).min(1 << HEIGHT)).expect("a tile width"),
        };
        let reply = client
            .get(format!("{url}/{}", bundle.path()))
            .send()
            .await
            .expect("the log answers");
        assert!(
            reply.status().is_success(),
            "{}: {}",
            bundle.path(),
            reply.status()
        );
        let data = reply.bytes().await.expect("a bundle");
        let parsed =
            parse_entry_bundle(&bundle, &data).unwrap_or_else(|e| panic!("{}: {e}", bundle.path()));
        entries.extend(parsed.into_iter().map(<[u8]>::to_vec));
        start += u64::from(bundle.width);
    }
    entries
}

/// Waits (at most 30 s) until the log's lookup index covers its tree (and
/// so does the record index, which the records reach first). Asked by leaf
/// hash: with the verifiable index on, a lookup by digest reads the map,
/// which always covers the committed tree.
pub async fn wait_for_lookups(log: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let no_leaf = format!("{}%3D", "A".repeat(43));
    loop {
        let found = get_json(&format!("{log}/lookup?leaf_hash={no_leaf}")).await;
        if found["covered"] == found["size"] {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "lookups never caught up: {found}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs one signed record with `POST /add?wait=receipt` and returns its
/// witnessed receipt; panics unless the log answers 200 with one in 30 s.
pub async fn add_with_receipt(url: &str, record: Vec<u8>) -> String {
    add_with_receipt_at(url, record).await.1
}

/// As [`add_with_receipt`], also returning the index the log gave the
/// record.
pub async fn add_with_receipt_at(url: &str, record: Vec<u8>) -> (u64, String) {
    let reply = reqwest::Client::new()
        .post(format!("{url}/add?wait=receipt"))
        .body(record)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("the log answers");
    assert_eq!(reply.status(), 200);
    let answer: serde_json::Value = reply.json().await.expect("JSON");
    let index = answer["index"].as_u64().expect("an index");
    let receipt = answer["receipt"]
        .as_str()
        .expect("a witnessed receipt")
        .to_owned();
    (index, receipt)
}

/// The witnessed receipt of entry `index`, once the log serves one (at
/// most 30 s, against hanging): then its published checkpoint covers the
/// entry.
pub async fn receipt(url: &str, index: u64) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let reply = reqwest::get(format!("{url}/receipt/{index}"))
            .await
            .expect("the log answers");
        if reply.status().is_success() {
            return reply.text().await.expect("a receipt");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no receipt for {index}: {}",
            reply.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A benchmark's setting from the environment, or its default.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends `signal` (`"INT"`, `"KILL"`...) to the process group led by
/// `leader` (started with `process_group(0)`): it and every child.
pub fn signal_group(leader: u32, signal: &str) -> bool {
    Command::new("kill")
        .args(["-s", signal, "--", &format!("-{leader}")])
        .status()
        .is_ok_and(|s| s.success())
}

/// The proofs of an `/index/lookup` answer, as `verify_lookup` takes them.
pub fn lookup_proof(answer: &serde_json::Value) -> gazette_client::index::lookup::LookupProof {
    use gazette_client::index::lookup::{ListedEntry, LookupProof};
    let listed = |v: &serde_json::Value| ListedEntry {
        index: v["index"].as_u64().expect("an entry index"),
        bytes: v["entry"].as_str().expect("an entry").as_bytes().to_vec(),
        inclusion: v["inclusion"]
            .as_array()
            .expect("an inclusion proof")
            .iter()
            .map(|h| gazette_client::Hash::from_base64(h.as_str().unwrap()).expect("a base64 hash"))
            .collect(),
    };
    LookupProof {
        commitment: listed(&answer["commitment"]),
        entries: answer["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(listed)
            .collect(),
        map_proofs: answer["map_proofs"]
            .as_array()
            .expect("map proofs")
            .iter()
            .map(|p| {
                let raw =
                    gazette_client::encoding::b64_decode(p.as_str().unwrap()).expect("base64");
                gazette_client::index::proof::MapProof::parse(&raw).expect("a map proof")
            })
            .collect(),
    }
}

/// A document's SHA-256, as its record's `digest` carries it.
pub fn document_digest(document: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(document).into()
}

/// Bytes as base64url without padding (RFC 4648, section 5): how the page's
/// `#receipt=` links and certificates' QR codes carry a receipt.
pub fn base64url(bytes: &[u8]) -> String {
    gazette_client::encoding::b64_encode(bytes)
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_owned()
}
