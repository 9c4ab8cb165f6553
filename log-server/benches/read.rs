//! Load generator for the read path (not a timed test). For each tree size
//! in `GAZETTE_BENCH_SIZES` it grows one log to that size, starts the real
//! `gazette-log` release binary on it, on loopback, and reports:
//!
//! 1. how long generating the entries and the first start (the
//!    indexes catching up from the tiles) took;
//! 2. requests/s, p50 and p99 latency of `GET /proof/inclusion`,
//!    `GET /proof/consistency` and `GET /receipt/<index>`, with the
//!    server's CPU per request and its RSS after each;
//! 3. full hash tiles and entry bundles served by gazette-log beside nginx
//!    serving the same files from the same directory: same client, same
//!    paths, runs alternating gazette-log, nginx, gazette-log, nginx;
//!    then the same with `wrk` (an independent load generator, Debian's
//!    `wrk`) when it is installed, so the comparison does not rest on this
//!    bench's own client, whose CPU per request caps both servers.
//!
//! **The fast generator** skips HTTP and writes what the sequencer writes:
//! real signed `gazette.record/v1` entries with unique (issuer, kind, id),
//! signed on all cores, appended to the right edge with `Edge::append` in
//! chunks of 65 536, each chunk committed with `FsStorage::commit` under a
//! checkpoint signed with the log key. The directory is then what a log
//! holds after accepting the records in batches of 65 536, its
//! indexes aside: `serve` builds those from the tiles when it starts.
//!
//! `cargo bench -p gazette-log --bench read`, with env:
//! - `GAZETTE_BENCH_SIZES`: tree sizes, comma-separated (default
//!   `100000,1000000`; `10000000` is opt-in, its generation takes long);
//!   one log grows through them in ascending order;
//! - `GAZETTE_BENCH_REQUESTS` per proof endpoint (default 2000; 0 skips
//!   the proofs), over
//!   `GAZETTE_BENCH_CONNECTIONS` connections (default 4);
//! - `GAZETTE_BENCH_TILE_CONNECTIONS` (default `8,32`) and
//!   `GAZETTE_BENCH_TILE_SECONDS`, the length of each of the four
//!   alternating tile runs per connection count (default 3);
//! - `GAZETTE_BENCH_TILE_CACHE_MIB`: the log's `[limits] tile_cache_mib`
//!   for the run (default: as configured, 64 MiB; `0` serves every tile
//!   from disk, a large value holds the whole workload: "uncached" and
//!   "cached");
//! - `GAZETTE_BENCH_SEED` for the request mix (default 1);
//! - `GAZETTE_BENCH_LOG`: the server's `RUST_LOG` (default `warn`);
//! - `GAZETTE_BENCH_DATA`: keep the log in this directory and grow it again
//!   in later runs (default: a temporary directory, removed at the end).
//!
//! Every answer is checked (status 200, the numbers asked for, proofs of
//! the right emptiness, tiles of the stored length), not verified: the
//! tests do that. Failures are counted and printed; the exit code is 1 if
//! any. Children (gazette-log, nginx) are stopped on the way out, on panic
//! too.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gazette_client::checkpoint::{Checkpoint, open_checkpoint};
use gazette_client::merkle::leaf_hash;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_client::tiles::{HEIGHT, Tile, TileLevel};
use gazette_log::config::{CONFIG_FILE, Config};
use gazette_log::storage::{CHECKPOINT, FsStorage, Storage};
use gazette_log::tree::Edge;

use gazette_tests::process::{self, Options};

/// The binary measured, built by cargo for this package's benches.
fn gazette_log() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-log"))
}

fn run(args: &[&str]) -> String {
    process::run(gazette_log(), args)
}

const ORIGIN: &str = "bench.example/read";
/// Entries per generator commit: 256 full level-0 tiles, one level-1 tile.
const CHUNK: u64 = 65_536;
/// Distinct paths in the tile workload.
const TILE_PATHS: usize = 4096;
/// Paths whose bytes are compared between gazette-log and nginx.
const COMPARED_PATHS: usize = 64;

fn env_or(name: &str, default: u64) -> u64 {
    env_list(name, &[default])[0]
}

fn env_list(name: &str, default: &[u64]) -> Vec<u64> {
    match std::env::var(name) {
        Err(_) => default.to_vec(),
        Ok(v) => v
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}: {s:?} is not a whole number"))
            })
            .collect(),
    }
}

/// splitmix64: a seeded, reproducible request mix.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

// --- /proc ------------------------------------------------------------------

/// The fields of `/proc/<pid>/stat` after the command name (state first).
fn stat_fields(pid: u32) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.to_owned()))
        .map(|r| r.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// utime + stime of the processes, in seconds.
fn cpu_seconds(pids: &[u32]) -> f64 {
    pids.iter().map(|&pid| process::cpu_seconds(pid)).sum()
}

/// Resident memory of the processes, in MiB.
fn rss_mib(pids: &[u32]) -> f64 {
    pids.iter()
        .map(|&pid| process::rss_kib(pid) as f64)
        .sum::<f64>()
        / 1024.0
}

/// `pid` and its children (nginx's master and workers).
fn with_children(pid: u32) -> Vec<u32> {
    let mut pids = vec![pid];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if stat_fields(child).get(1) == Some(&pid.to_string()) {
            pids.push(child);
        }
    }
    pids
}

fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Stops `child` with SIGTERM, or SIGKILL after `grace`; then SIGKILLs
/// whichever of `children` (its own children, by pid) are still `name`.
fn stop(child: &mut Child, children: &[u32], name: &str, grace: Duration) {
    if matches!(child.try_wait(), Ok(None)) {
        signal("TERM", child.id());
        let deadline = Instant::now() + grace;
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if matches!(child.try_wait(), Ok(None)) {
            eprintln!("{name} {} ignored SIGTERM: killing it", child.id());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    for &pid in children {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == name {
            signal("KILL", pid);
        }
    }
}

// --- the fast generator -----------------------------------------------------

fn agencies() -> Vec<Signer> {
    (0..3u8)
        .map(|i| {
            let name = format!("agency{i}.example.gov");
            Signer::from_seed(&name, KeyType::Ed25519, [i + 1; 32]).unwrap()
        })
        .collect()
}

/// Record `n`, shaped like the append benchmark's; (issuer, kind, id) is
/// unique per `n`.
fn signed_record(agencies: &[Signer], n: u64) -> Vec<u8> {
    let agency = &agencies[(n % agencies.len() as u64) as usize];
    let mut record = Record::new(
        agency.name(),
        "e-invoice",
        &format!("INV-2026-{n:010}"),
        leaf_hash(&n.to_be_bytes()).0,
        "2026-11-24T09:00:00Z",
    );
    record
        .fields
        .push(("amount".into(), format!("{}.00 CNY", n % 100_000)));
    record.sign(agency).unwrap().bytes
}

/// Records `first..first + count`, signed on every core.
fn sign_records(agencies: &[Signer], first: u64, count: usize) -> Vec<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = count.div_ceil(threads).max(1);
    let mut entries = vec![Vec::new(); count];
    std::thread::scope(|scope| {
        for (t, part) in entries.chunks_mut(per_thread).enumerate() {
            scope.spawn(move || {
                for (i, entry) in part.iter_mut().enumerate() {
                    *entry = signed_record(agencies, first + (t * per_thread + i) as u64);
                }
            });
        }
    });
    entries
}

/// Writes the log the way the sequencer does, in big chunks.
struct Generator {
    storage: FsStorage,
    key: Signer,
    agencies: Vec<Signer>,
    edge: Edge,
}

/// Where the generator's time went.
#[derive(Default)]
struct Generated {
    entries: u64,
    bytes: u64,
    signing: Duration,
    writing: Duration,
}

impl Generator {
    /// Opens the log in `dir`; creates it, with the bench's agencies
    /// registered, if there is none.
    fn open(dir: &Path) -> Generator {
        let agencies = agencies();
        if !dir.join(CONFIG_FILE).exists() {
            let d = dir.to_str().unwrap();
            run(&[
                "init",
                "--origin",
                ORIGIN,
                "--dir",
                d,
                "--listen",
                "127.0.0.1:0",
            ]);
            for agency in &agencies {
                run(&["agency", "add", &agency.verifier().to_string(), "--dir", d]);
            }
        }
        let key = gazette_log::log::read_key(&Config::load(dir).unwrap(), dir).unwrap();
        let storage = FsStorage::open(dir).unwrap();
        let edge = match storage.read(CHECKPOINT).unwrap() {
            None => Edge::empty(),
            Some(note) => {
                let checkpoint = open_checkpoint(&note, &key.verifier()).unwrap().checkpoint;
                Edge::load(&storage, checkpoint.size, &checkpoint.root).unwrap()
            }
        };
        Generator {
            storage,
            key,
            agencies,
            edge,
        }
    }

    /// Appends records until the tree has `size` entries: per chunk, sign,
    /// append to the edge, sign the checkpoint, commit durably.
    fn grow(&mut self, size: u64) -> Generated {
        let mut done = Generated::default();
        while self.edge.size() < size {
            let first = self.edge.size();
            let count = (CHUNK - first % CHUNK).min(size - first);
            let t = Instant::now();
            let entries = sign_records(&self.agencies, first, count as usize);
            done.signing += t.elapsed();
            done.entries += count;
            done.bytes += entries.iter().map(|e| e.len() as u64).sum::<u64>();
            let t = Instant::now();
            let objects = self.edge.append(&entries).unwrap();
            let checkpoint = Checkpoint {
                origin: self.key.name().to_owned(),
                size: self.edge.size(),
                root: self.edge.root(),
                extensions: Vec::new(),
            };
            let note = checkpoint.sign(&self.key).unwrap();
            self.storage.commit(&objects, note.as_bytes()).unwrap();
            done.writing += t.elapsed();
        }
        done
    }
}

// --- the servers --------------------------------------------------------------

/// `gazette-log serve`, stopped with SIGTERM (it flushes its indexes) when
/// dropped.
struct Server {
    process: process::Server,
    url: String,
}

impl Server {
    /// Starts `serve` on a free loopback port. A first start catches up
    /// the indexes from the tiles before it listens: this waits up to
    /// `timeout` for its address.
    fn start(dir: &Path, rust_log: &str, timeout: Duration) -> Server {
        let process = process::Server::start_with(
            gazette_log(),
            dir,
            &Options {
                rust_log,
                announce_within: timeout,
                ..Options::default()
            },
        );
        let url = process.url.clone();
        Server { process, url }
    }

    fn pid(&self) -> u32 {
        self.process.pid()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.pid();
        if !self.process.terminate(Duration::from_secs(120)) {
            eprintln!("gazette-log {pid} ignored SIGTERM: killed");
        }
    }
}

/// Finds the nginx binary on PATH or in the usual sbin directories.
fn nginx_binary() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"])
        .map(|dir| Path::new(dir).join("nginx"))
        .find(|p| p.is_file())
}

/// nginx serving `<root>/tile/`, stopped with its workers when dropped.
struct Nginx {
    child: Child,
    url: String,
    _conf: tempfile::TempDir,
}

impl Nginx {
    fn start(bin: &Path, root: &Path) -> Result<Nginx, String> {
        let conf = tempfile::tempdir().map_err(|e| e.to_string())?;
        let c = conf.path().display();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let built = Command::new(bin)
            .arg("-V")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .unwrap_or_default();
        // Temp paths of the modules compiled in, all inside our directory.
        let temp_paths: String = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
            .iter()
            .filter(|m| !built.contains(&format!("--without-http_{m}_module")))
            .map(|m| format!("  {m}_temp_path {c}/{m};\n"))
            .collect();
        // As root, nginx workers default to `nobody`, who cannot enter our
        // 0700 temporary directories.
        let euid_root = std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().nth(1).map(|u| u == "0"))
            .unwrap_or(false);
        let user = if euid_root { "user root;\n" } else { "" };
        let config = format!(
            "{user}daemon off;\nmaster_process on;\nworker_processes auto;\n\
             pid {c}/nginx.pid;\nerror_log {c}/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n\
             keepalive_timeout 65;\n  keepalive_requests 1000000;\n{temp_paths}\
             server {{\n    listen 127.0.0.1:{port};\n\
             location /tile/ {{\n      root {root};\n      default_type application/octet-stream;\n\
             add_header Cache-Control \"public, max-age=31536000, immutable\";\n    }}\n  }}\n}}\n",
            root = root.display(),
        );
        std::fs::write(conf.path().join("nginx.conf"), config).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .args(["-p", &format!("{c}/"), "-c", &format!("{c}/nginx.conf")])
            .args(["-e", &format!("{c}/error.log")])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let mut nginx = Nginx {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _conf: conf,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = || std::fs::read_to_string(nginx._conf.path().join("error.log"));
            if !matches!(nginx.child.try_wait(), Ok(None)) || Instant::now() > deadline {
                return Err(format!(
                    "nginx did not start: {}",
                    log().unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(nginx)
    }

    /// The master and its workers.
    fn pids(&self) -> Vec<u32> {
        with_children(self.child.id())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let workers = self.pids();
        stop(&mut self.child, &workers, "nginx", Duration::from_secs(10));
    }
}

// --- load ---------------------------------------------------------------------

/// What an answer must be.
#[derive(Clone, Copy)]
enum Expect {
    Inclusion {
        index: u64,
        size: u64,
    },
    Consistency {
        old: u64,
        size: u64,
    },
    Receipt {
        index: u64,
    },
    /// A tile or bundle of this many bytes (the file's length).
    Bytes(u64),
}

struct Request {
    path: String,
    expect: Expect,
}

/// The numbers and base64 hashes of a proof answer; returns the proof's length.
fn proof_json(body: &[u8], fields: [(&str, u64); 2]) -> Result<usize, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON ({e})"))?;
    for (name, asked) in fields {
        if v[name].as_u64() != Some(asked) {
            return Err(format!("{name} is {}, asked {asked}", v[name]));
        }
    }
    let proof = v["proof"].as_array().ok_or("no proof array")?;
    if proof
        .iter()
        .any(|h| h.as_str().is_none_or(|s| s.len() != 44))
    {
        return Err("the proof holds something other than base64 32-byte hashes".into());
    }
    Ok(proof.len())
}

fn check(expect: Expect, status: u16, body: &[u8]) -> Result<(), String> {
    if status != 200 {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        return Err(format!("status {status}: {}", text.trim()));
    }
    match expect {
        Expect::Inclusion { index, size } => {
            let len = proof_json(body, [("index", index), ("size", size)])?;
            if size > 1 && len == 0 {
                return Err("empty inclusion proof".into());
            }
        }
        Expect::Consistency { old, size } => {
            let len = proof_json(body, [("old", old), ("size", size)])?;
            if (old < size) != (len > 0) {
                return Err(format!(
                    "{len} hashes to prove {old} consistent with {size}"
                ));
            }
        }
        Expect::Receipt { index } => {
            let text = std::str::from_utf8(body).map_err(|_| "the receipt is not UTF-8")?;
            if !text.starts_with("c2sp.org/tlog-proof@v1\n")
                || !text.contains(&format!("\nindex {index}\n"))
            {
                return Err("not a tlog-proof@v1 receipt for this index".into());
            }
        }
        Expect::Bytes(len) => {
            if body.len() as u64 != len {
                return Err(format!("{} bytes, the stored file has {len}", body.len()));
            }
        }
    }
    Ok(())
}

/// The answers of one or more runs of requests.
#[derive(Default)]
struct Run {
    latencies: Vec<Duration>,
    bytes: u64,
    elapsed: Duration,
    /// CPU seconds of the server's processes, and of this load generator.
    cpu: f64,
    generator_cpu: f64,
    failures: usize,
    first_failure: Option<String>,
}

impl Run {
    fn merge(&mut self, other: Run) {
        self.latencies.extend(other.latencies);
        self.bytes += other.bytes;
        self.elapsed += other.elapsed;
        self.cpu += other.cpu;
        self.generator_cpu += other.generator_cpu;
        self.failures += other.failures;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    fn summary(&mut self) -> String {
        self.latencies.sort();
        let n = self.latencies.len();
        if n == 0 {
            return "no requests".into();
        }
        let ms = |p: f64| self.latencies[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1e3;
        let secs = self.elapsed.as_secs_f64();
        format!(
            "{:.0} req/s, {:.1} MB/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.0} µs/req \
             (load generator {:.0} µs/req)",
            n as f64 / secs,
            self.bytes as f64 / secs / 1e6,
            ms(0.50),
            ms(0.99),
            self.cpu * 1e6 / n as f64,
            self.generator_cpu * 1e6 / n as f64
        )
    }

    /// Prints the failures; returns how many.
    fn report_failures(&self, what: &str) -> usize {
        if let Some(first) = &self.first_failure {
            println!(
                "  FAILED {what}: {} of {} answers, first: {first}",
                self.failures,
                self.latencies.len()
            );
        }
        self.failures
    }
}

enum Limit {
    Count(usize),
    For(Duration),
}

/// Sends `requests` (cycling) over `connections` connections until `limit`;
/// `server` are the pids whose CPU is counted.
async fn drive(
    client: &reqwest::Client,
    base: &str,
    requests: &Arc<Vec<Request>>,
    connections: usize,
    limit: Limit,
    server: &[u32],
) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let (count, deadline) = match limit {
        Limit::Count(n) => (n, None),
        Limit::For(d) => (usize::MAX, Some(Instant::now() + d)),
    };
    let cpu = cpu_seconds(server);
    let generator_cpu = cpu_seconds(&[std::process::id()]);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (client, base, requests, next) = (
                client.clone(),
                base.to_owned(),
                requests.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut run = Run::default();
                while deadline.is_none_or(|d| Instant::now() < d) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let request = &requests[i % requests.len()];
                    let sent = Instant::now();
                    let answer = match client.get(format!("{base}/{}", request.path)).send().await {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            r.bytes().await.map(|body| (status, body))
                        }
                        Err(e) => Err(e),
                    };
                    run.latencies.push(sent.elapsed());
                    let outcome = answer
                        .map_err(|e| e.to_string())
                        .and_then(|(status, body)| {
                            run.bytes += body.len() as u64;
                            check(request.expect, status, &body)
                        });
                    if let Err(e) = outcome {
                        run.failures += 1;
                        run.first_failure
                            .get_or_insert_with(|| format!("{}: {e}", request.path));
                    }
                }
                run
            })
        })
        .collect();
    let mut total = Run::default();
    for worker in workers {
        total.merge(worker.await.expect("a load worker panicked"));
    }
    total.elapsed = started.elapsed();
    total.cpu = cpu_seconds(server) - cpu;
    total.generator_cpu = cpu_seconds(&[std::process::id()]) - generator_cpu;
    total
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Vec<u8>) {
    match client.get(url).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (
                status,
                r.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
            )
        }
        Err(e) => (0, e.to_string().into_bytes()),
    }
}

/// Proof and receipt latency at the published size; returns the failures.
async fn proofs(
    client: &reqwest::Client,
    server: &Server,
    size: u64,
    rng: &mut Rng,
    requests: usize,
    connections: usize,
) -> usize {
    if requests == 0 {
        println!("  proofs: skipped (GAZETTE_BENCH_REQUESTS=0)");
        return 0;
    }
    let (status, note) = get(client, &format!("{}/checkpoint", server.url)).await;
    let published = String::from_utf8_lossy(&note)
        .lines()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok());
    if status != 200 || published != Some(size) {
        println!("  FAILED /checkpoint: status {status}, size {published:?}, expected {size}");
        return 1;
    }
    // Half the proofs are to the newest checkpoint, half to an older size.
    let some_size = |rng: &mut Rng, at_least: u64| {
        if rng.below(2) == 0 {
            size
        } else {
            at_least + rng.below(size - at_least + 1)
        }
    };
    let mut lists: Vec<(&str, Vec<Request>)> = vec![
        ("/proof/inclusion", Vec::new()),
        ("/proof/consistency", Vec::new()),
        ("/receipt", Vec::new()),
    ];
    for _ in 0..requests {
        let s = some_size(rng, 1);
        let index = rng.below(s);
        lists[0].1.push(Request {
            path: format!("proof/inclusion?index={index}&size={s}"),
            expect: Expect::Inclusion { index, size: s },
        });
        let old = 1 + rng.below(size);
        let s = some_size(rng, old);
        lists[1].1.push(Request {
            path: format!("proof/consistency?old={old}&size={s}"),
            expect: Expect::Consistency { old, size: s },
        });
        let index = rng.below(size);
        lists[2].1.push(Request {
            path: format!("receipt/{index}"),
            expect: Expect::Receipt { index },
        });
    }
    let mut failures = 0;
    for (name, list) in lists {
        let (status, body) = get(client, &format!("{}/{}", server.url, list[0].path)).await;
        if status == 404 {
            let body = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
            println!("  {name}: proof endpoints not available (404 {body:?}): skipped");
            continue;
        }
        let list = Arc::new(list);
        let pid = [server.pid()];
        let mut run = drive(
            client,
            &server.url,
            &list,
            connections,
            Limit::Count(requests),
            &pid,
        )
        .await;
        println!(
            "  {name}: {} requests, {connections} connections: {}; RSS {:.1} MiB",
            run.latencies.len(),
            run.summary(),
            rss_mib(&pid)
        );
        failures += run.report_failures(name);
    }
    failures
}

/// Full hash tiles (levels 0 and 1) and entry bundles of a tree of `size`.
fn tile_paths(dir: &Path, size: u64, rng: &mut Rng) -> Vec<Request> {
    let (bundles, level1) = (size >> HEIGHT, size >> (2 * HEIGHT));
    (0..TILE_PATHS)
        .map(|i| {
            let (level, count) = match i % 5 {
                0 | 1 => (TileLevel::Hashes(0), bundles),
                2 | 3 => (TileLevel::Entries, bundles),
                _ if level1 > 0 => (TileLevel::Hashes(1), level1),
                _ => (TileLevel::Hashes(0), bundles),
            };
            let path = Tile {
                height: HEIGHT,
                level,
                index: rng.below(count),
                width: 1 << HEIGHT,
            }
            .path();
            let len = std::fs::metadata(dir.join(&path)).unwrap().len();
            Request {
                path,
                expect: Expect::Bytes(len),
            }
        })
        .collect()
}

/// Tiles from gazette-log and from nginx, alternating; returns the failures.
async fn tiles(
    client: &reqwest::Client,
    server: &Server,
    nginx: &Nginx,
    paths: Vec<Request>,
    connections: &[u64],
    seconds: u64,
) -> usize {
    let mut failures = 0;
    let mut differing = Vec::new();
    for request in paths.iter().take(COMPARED_PATHS) {
        let ours = get(client, &format!("{}/{}", server.url, request.path)).await;
        let theirs = get(client, &format!("{}/{}", nginx.url, request.path)).await;
        if ours.0 != 200 || ours != theirs {
            differing.push(format!("{} ({} vs {})", request.path, ours.0, theirs.0));
        }
    }
    if differing.is_empty() {
        println!("  identical bytes from gazette-log and nginx for {COMPARED_PATHS} paths");
    } else {
        println!(
            "  FAILED: {} of {COMPARED_PATHS} paths differ, first {}",
            differing.len(),
            differing[0]
        );
        failures += differing.len();
    }
    let paths = Arc::new(paths);
    let each = Duration::from_secs(seconds);
    for &n in connections {
        let (mut ours, mut theirs) = (Run::default(), Run::default());
        for _ in 0..2 {
            let pids = [server.pid()];
            ours.merge(
                drive(
                    client,
                    &server.url,
                    &paths,
                    n as usize,
                    Limit::For(each),
                    &pids,
                )
                .await,
            );
            let pids = nginx.pids();
            theirs.merge(
                drive(
                    client,
                    &nginx.url,
                    &paths,
                    n as usize,
                    Limit::For(each),
                    &pids,
                )
                .await,
            );
        }
        let ratio = (ours.latencies.len() as f64 / ours.elapsed.as_secs_f64())
            / (theirs.latencies.len() as f64 / theirs.elapsed.as_secs_f64());
        println!("  tiles, {n} connections, 2 × {seconds} s each, alternating:");
        println!(
            "    gazette-log: {}; RSS {:.1} MiB",
            ours.summary(),
            rss_mib(&[server.pid()])
        );
        println!(
            "    nginx:       {}; RSS {:.1} MiB (master and workers)",
            theirs.summary(),
            rss_mib(&nginx.pids())
        );
        println!("    gazette-log/nginx requests/s: {ratio:.2}");
        failures += ours.report_failures("gazette-log tiles");
        failures += theirs.report_failures("nginx tiles");
    }
    failures
}

/// Sets `[limits] tile_cache_mib` in the log's configuration.
fn set_tile_cache(dir: &Path, mib: &str) {
    let path = dir.join(CONFIG_FILE);
    let config = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    let mut done = false;
    for line in config.lines() {
        if line.trim_start().starts_with("tile_cache_mib") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "[limits]" {
            out.push_str(&format!("tile_cache_mib = {mib}\n"));
            done = true;
        }
    }
    if !done {
        out.push_str(&format!("\n[limits]\ntile_cache_mib = {mib}\n"));
    }
    std::fs::write(&path, out).unwrap();
    println!("tile_cache_mib = {mib} in {}", path.display());
}

/// `wrk` on PATH, if installed.
fn wrk_binary() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("wrk"))
        .find(|p| p.is_file())
}

/// A Lua script for wrk cycling through `paths`, each wrk thread starting
/// at its own place.
fn wrk_script(paths: &[Request], dir: &Path) -> PathBuf {
    let mut lua = String::from("local paths = {\n");
    for r in paths {
        lua.push_str(&format!("  \"/{}\",\n", r.path));
    }
    lua.push_str(
        "}\nlocal threads = 0\n\
         function setup(thread) thread:set(\"first\", threads * 997); threads = threads + 1 end\n\
         function init(args) i = first or 0 end\n\
         function request()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n",
    );
    let path = dir.join("tiles.lua");
    std::fs::write(&path, lua).unwrap();
    path
}

/// One wrk run's figures.
#[derive(Default)]
struct WrkRun {
    requests: f64,
    seconds: f64,
    cpu: f64,
    p50_ms: Vec<f64>,
    p99_ms: Vec<f64>,
    errors: Vec<String>,
}

impl WrkRun {
    fn rate(&self) -> f64 {
        self.requests / self.seconds
    }

    fn summary(&self) -> String {
        let range = |v: &[f64]| {
            let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = v.iter().cloned().fold(0.0, f64::max);
            format!("{lo:.2}–{hi:.2}")
        };
        format!(
            "{:.0} req/s, p50 {} ms, p99 {} ms, server CPU {:.1} µs/req",
            self.rate(),
            range(&self.p50_ms),
            range(&self.p99_ms),
            self.cpu * 1e6 / self.requests.max(1.0)
        )
    }
}

/// Milliseconds in a wrk duration (`812.00us`, `1.20ms`, `1.02s`).
fn wrk_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1e3)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Runs wrk once against `base` with `connections` connections for
/// `seconds`, counting the CPU of `pids`, and adds it to `into`.
fn wrk_run(
    wrk: &Path,
    script: &Path,
    base: &str,
    connections: u64,
    seconds: u64,
    pids: &[u32],
    into: &mut WrkRun,
) {
    let before = cpu_seconds(pids);
    let out = Command::new(wrk)
        .args([
            "-t",
            "2",
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
        ])
        .args(["--latency", "--timeout", "10s", "-s"])
        .arg(script)
        .arg(base)
        .output()
        .expect("run wrk");
    into.cpu += cpu_seconds(pids) - before;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        into.errors.push(format!(
            "wrk failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return;
    }
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [n, "requests", "in", time, ..] => {
                into.requests += n.parse::<f64>().unwrap_or(0.0);
                into.seconds += wrk_ms(time.trim_end_matches(',')).unwrap_or(0.0) / 1e3;
            }
            ["50%", t] => into.p50_ms.extend(wrk_ms(t)),
            ["99%", t] => into.p99_ms.extend(wrk_ms(t)),
            ["Non-2xx", ..] | ["Socket", "errors:", ..] => into.errors.push(line.to_owned()),
            _ => {}
        }
    }
}

/// Tiles from gazette-log and from nginx under wrk, alternating twice per
/// connection count; returns the failures (error answers, socket errors).
fn tiles_wrk(
    wrk: &Path,
    server: &Server,
    nginx: &Nginx,
    paths: &[Request],
    connections: &[u64],
    seconds: u64,
) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let script = wrk_script(paths, dir.path());
    let mut failures = 0;
    for &n in connections {
        let (mut ours, mut theirs) = (WrkRun::default(), WrkRun::default());
        for _ in 0..2 {
            wrk_run(
                wrk,
                &script,
                &server.url,
                n,
                seconds,
                &[server.pid()],
                &mut ours,
            );
            wrk_run(
                wrk,
                &script,
                &nginx.url,
                n,
                seconds,
                &nginx.pids(),
                &mut theirs,
            );
        }
        println!(
            "  tiles under wrk, {n} connections, 2 × {seconds} s each, alternating (load average {}):",
            load_average()
        );
        println!("    gazette-log: {}", ours.summary());
        println!("    nginx:       {}", theirs.summary());
        println!(
            "    gazette-log/nginx requests/s: {:.2}",
            ours.rate() / theirs.rate()
        );
        for (who, run) in [("gazette-log", &ours), ("nginx", &theirs)] {
            if let Some(first) = run.errors.first() {
                println!("  FAILED {who} under wrk: {first}");
                failures += run.errors.len();
            }
        }
    }
    failures
}

/// The 1-minute load average, as the machine reports it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Waits until the server's CPU falls under 10 % of a core (its start-up
/// work done), at most `limit`; returns how long that took.
fn settle(pid: u32, limit: Duration) -> Duration {
    let t = Instant::now();
    while t.elapsed() < limit {
        let before = cpu_seconds(&[pid]);
        std::thread::sleep(Duration::from_millis(250));
        if cpu_seconds(&[pid]) - before < 0.025 {
            break;
        }
    }
    t.elapsed()
}

fn dir_mb(path: &Path) -> f64 {
    fn bytes(path: &Path) -> u64 {
        let Ok(entries) = std::fs::read_dir(path) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => bytes(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    }
    bytes(path) as f64 / 1e6
}

fn per_100k(d: Duration, entries: u64) -> f64 {
    d.as_secs_f64() * 1e5 / entries.max(1) as f64
}

/// Runs every size; returns the number of failed checks.
fn bench() -> usize {
    let mut sizes = env_list("GAZETTE_BENCH_SIZES", &[100_000, 1_000_000]);
    sizes.sort_unstable();
    sizes.dedup();
    let requests = env_or("GAZETTE_BENCH_REQUESTS", 2000) as usize;
    let connections = env_or("GAZETTE_BENCH_CONNECTIONS", 4) as usize;
    let tile_connections = env_list("GAZETTE_BENCH_TILE_CONNECTIONS", &[8, 32]);
    let tile_seconds = env_or("GAZETTE_BENCH_TILE_SECONDS", 3);
    let mut rng = Rng(env_or("GAZETTE_BENCH_SEED", 1));
    let rust_log = std::env::var("GAZETTE_BENCH_LOG").unwrap_or_else(|_| "warn".into());
    println!(
        "# gazette-log read benchmark: sizes {sizes:?}; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let temp = tempfile::tempdir().unwrap();
    let data = std::env::var_os("GAZETTE_BENCH_DATA")
        .map_or_else(|| temp.path().join("log"), PathBuf::from);
    let mut generator = Generator::open(&data);
    if generator.edge.size() > 0 {
        println!(
            "reusing the log in {} ({} entries)",
            data.display(),
            generator.edge.size()
        );
    }
    let nginx_bin = nginx_binary();
    if nginx_bin.is_none() {
        println!(
            "nginx not installed: the tile comparison is skipped \
             (apt-get install -y nginx-light, or nginx)"
        );
    }
    let wrk_bin = wrk_binary();
    if wrk_bin.is_none() {
        println!(
            "wrk not installed: only this bench's own client measures tiles (apt-get install -y wrk)"
        );
    }
    if let Ok(mib) = std::env::var("GAZETTE_BENCH_TILE_CACHE_MIB") {
        set_tile_cache(&data, &mib);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut failures = 0;
    for size in sizes {
        if size < generator.edge.size() {
            println!(
                "size {size}: skipped, the log already holds {}",
                generator.edge.size()
            );
            continue;
        }
        let t = Instant::now();
        let g = generator.grow(size);
        if g.entries > 0 {
            println!(
                "size {size}: generated {} entries (mean {:.0} bytes) in {:.1?}: signing {:.1?}, \
                 append + commit {:.1?}; {:.2} s per 10^5 entries ({:.2} signing, {:.2} writing)",
                g.entries,
                g.bytes as f64 / g.entries as f64,
                t.elapsed(),
                g.signing,
                g.writing,
                per_100k(t.elapsed(), g.entries),
                per_100k(g.signing, g.entries),
                per_100k(g.writing, g.entries),
            );
        }
        let t = Instant::now();
        let server = Server::start(&data, &rust_log, Duration::from_secs(3 * 3600));
        let listening = t.elapsed();
        let idle = settle(server.pid(), Duration::from_secs(600));
        println!(
            "size {size}: serve listening after {listening:.1?} ({} entries new since the \
             previous start), its CPU idle {idle:.1?} later; CPU {:.1} s, RSS {:.1} MiB",
            g.entries,
            cpu_seconds(&[server.pid()]),
            rss_mib(&[server.pid()])
        );
        println!(
            "size {size}: on disk: tiles {:.1} MB, record index {:.1} MB, lookup index {:.1} MB",
            dir_mb(&data.join("tile")),
            dir_mb(&data.join(gazette_log::log::RECORD_INDEX_DIR)),
            dir_mb(&data.join(gazette_log::log::LOOKUP_INDEX_DIR)),
        );
        failures += runtime.block_on(proofs(
            &client,
            &server,
            size,
            &mut rng,
            requests,
            connections,
        ));
        match (&nginx_bin, size >> HEIGHT) {
            (_, 0) => println!("  tiles: no full tile yet at size {size}: skipped"),
            (None, _) => {}
            (Some(bin), _) => match Nginx::start(bin, &data) {
                Err(e) => println!("  tiles: {e}: the nginx comparison is skipped"),
                Ok(nginx) => {
                    let paths = tile_paths(&data, size, &mut rng);
                    let mean = paths
                        .iter()
                        .map(|r| match r.expect {
                            Expect::Bytes(n) => n,
                            _ => 0,
                        })
                        .sum::<u64>() as f64
                        / paths.len() as f64;
                    let kind =
                        |prefix: &str| paths.iter().filter(|r| r.path.starts_with(prefix)).count();
                    println!(
                        "  tile workload: {} full tiles, {} tile/0, {} tile/entries, {} tile/1; \
                         mean {:.1} KB",
                        paths.len(),
                        kind("tile/0/"),
                        kind("tile/entries/"),
                        kind("tile/1/"),
                        mean / 1e3
                    );
                    if let Some(wrk) = &wrk_bin {
                        failures += tiles_wrk(
                            wrk,
                            &server,
                            &nginx,
                            &paths,
                            &tile_connections,
                            tile_seconds,
                        );
                    }
                    failures += runtime.block_on(tiles(
                        &client,
                        &server,
                        &nginx,
                        paths,
                        &tile_connections,
                        tile_seconds,
                    ));
                }
            },
        }
        drop(server);
    }
    failures
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("read: bench");
        return;
    }
    let failures = bench();
    if failures > 0 {
        println!("{failures} failed checks");
        std::process::exit(1);
    }
}
