//! Real distributed engines for the storage tests: a 3-node Garage cluster
//! (S3) and a 3-member etcd cluster, run as separate programs on loopback
//! ports that were free a moment before, with their data under a directory
//! the caller gives (a fresh one). They are killed (SIGKILL) when their
//! handle is dropped, and by the kernel when the test process ends without
//! dropping it, so no test leaves an engine behind.
//!
//! Garage is `garage` 2.5.0 (`cargo install garage --version 2.5.0
//! --locked`: AGPL, so it is run, never linked), etcd is Debian's
//! `etcd-server` 3.4; `scripts/test` installs both and
//! [`engines_available`] says what is missing. S3 requests are signed by
//! `curl --aws-sigv4`.
//!
//! Every wait has a deadline; a cluster that misses it panics with the
//! tail of the node's log (`<dir>/node<i>/garage.log`,
//! `<dir>/member<i>/etcd.log`).
//!
//! Garage 2.5.0 ignores conditional writes (`If-None-Match: *` and a wrong
//! `If-Match` both overwrite): a backend must not use them as a lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The Garage release the tests run against.
pub const GARAGE_VERSION: &str = "2.5.0";

/// Nodes per cluster: the fewest with a majority left after one is lost.
const NODES: usize = 3;
/// How long a cluster, or one restarted node, may take to serve.
const START_WITHIN: Duration = Duration::from_secs(60);
/// How long one CLI call (garage, etcdctl, curl) may take: a CLI whose
/// daemon does not answer may otherwise retry for a long time.
const TOOL_WITHIN: Duration = Duration::from_secs(30);
const REGION: &str = "garage";
const BUCKET: &str = "gazette";

/// `Ok` when both clusters can run (see [`garage_available`] and
/// [`etcd_available`]);
/// otherwise what is missing, one item per line.
pub fn engines_available() -> Result<(), String> {
    lines(
        [garage_available(), etcd_available()]
            .into_iter()
            .filter_map(Result::err)
            .collect(),
    )
}

/// `Ok` when [`GarageCluster`] can run: `garage` 2.5.0, curl and setpriv.
pub fn garage_available() -> Result<(), String> {
    let mut missing = Vec::new();
    match run_tool("garage", &["--version"], &[]) {
        Ok(out) if has_version(&out, GARAGE_VERSION) => {}
        Ok(out) => missing.push(format!(
            "garage {GARAGE_VERSION} is needed, `garage --version` says {:?}: \
             cargo install garage --version {GARAGE_VERSION} --locked",
            out.trim()
        )),
        Err(e) => missing.push(format!(
            "garage cannot be run ({}): cargo install garage --version {GARAGE_VERSION} --locked",
            e.trim()
        )),
    }
    missing.extend(tool_missing("curl", &["--version"], "curl").err());
    missing.extend(tool_missing("setpriv", &["--version"], "util-linux").err());
    lines(missing)
}

/// `Ok` when [`EtcdCluster`] can run: etcd, etcdctl and setpriv.
pub fn etcd_available() -> Result<(), String> {
    let missing = [
        tool_missing("etcd", &["--version"], "etcd-server"),
        tool_missing("etcdctl", &["version"], "etcd-client"),
        tool_missing("setpriv", &["--version"], "util-linux"),
    ];
    lines(missing.into_iter().filter_map(Result::err).collect())
}

/// `Ok` when `tool args` succeeds, otherwise what to install.
fn tool_missing(tool: &str, args: &[&str], package: &str) -> Result<(), String> {
    run_tool(tool, args, &[]).map(drop).map_err(|e| {
        let first = e.lines().next().unwrap_or_default();
        format!("{tool} cannot be run ({first}): apt-get install {package}")
    })
}

fn lines(items: Vec<String>) -> Result<(), String> {
    if items.is_empty() {
        Ok(())
    } else {
        Err(items.join("\n"))
    }
}

/// Whether `output` names `version` as a whole word (`garage --version`
/// says `garage cargo:2.5.0` for a crates.io build, `garage v2.5.0` for a
/// release).
fn has_version(output: &str, version: &str) -> bool {
    output
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|word| word == version)
}

// ---------------------------------------------------------------- Garage

/// A 3-node Garage cluster on loopback (replication factor 3, one zone),
/// with one bucket and one access key that may read, write and own it.
/// Nodes are numbered from 0.
pub struct GarageCluster {
    nodes: Vec<GarageNode>,
    admin_token: String,
    access_key_id: String,
    secret_access_key: String,
}

struct GarageNode {
    daemon: Daemon,
    config: PathBuf,
    /// `<node id>@127.0.0.1:<rpc port>`, known once it has started.
    address: String,
    s3_url: String,
    admin_url: String,
}

impl GarageCluster {
    /// Configures and starts the nodes under `dir/node0..2`, connects
    /// them, applies a layout that gives each 1 GB, creates the bucket and
    /// the key, and returns once every node serves S3 requests.
    pub fn start(dir: &Path) -> GarageCluster {
        let rpc_secret = random_hex(32);
        let admin_token = random_hex(32);
        let mut ports = reserve_ports(3 * NODES);
        let mut nodes = Vec::with_capacity(NODES);
        for i in 0..NODES {
            let held: Vec<TcpListener> = ports.drain(..3).collect();
            let [rpc, s3, admin] = [0, 1, 2].map(|k| port(&held[k]));
            let node_dir = dir.join(format!("node{i}"));
            let config = GarageConfig {
                dir: &node_dir,
                rpc_secret: &rpc_secret,
                admin_token: &admin_token,
                rpc,
                s3,
                admin,
            };
            let mut node = GarageNode::configure(i, &config);
            // Released only now, so no other node or test can take them.
            drop(held);
            node.daemon.spawn();
            nodes.push(node);
        }
        // From here a panic drops the cluster, which kills the nodes.
        let mut cluster = GarageCluster {
            nodes,
            admin_token,
            access_key_id: String::new(),
            secret_access_key: String::new(),
        };
        cluster.connect_nodes();
        cluster.apply_layout();
        for node in 0..NODES {
            cluster.wait(node, "all 3 nodes in layout 1", || {
                cluster.cluster_healthy(node)
            });
        }
        cluster.create_bucket_and_key();
        for node in 0..NODES {
            cluster.wait_serving(node);
        }
        cluster
    }

    /// Each node's S3 endpoint, `http://127.0.0.1:PORT` (path-style).
    pub fn s3_endpoints(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.s3_url.clone()).collect()
    }

    /// The access key's id (`GK...`).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The access key's secret.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The bucket the key may read, write and own.
    pub fn bucket(&self) -> &str {
        BUCKET
    }

    /// The S3 region requests are signed for.
    pub fn region(&self) -> &str {
        REGION
    }

    /// Kills node `node` (SIGKILL) and reaps it; a no-op when it is down.
    ///
    /// The others notice only when they next write to it (Garage pings
    /// every 15 s): until then a request through them that involves the
    /// dead node waits (7 s was typical here), though a quorum is up.
    pub fn kill(&mut self, node: usize) {
        self.nodes[node].daemon.kill();
    }

    /// Starts node `node` again on its configuration and data (killing it
    /// first if it runs) and returns once it serves S3 requests.
    ///
    /// Once a node has failed to reconnect to a dead peer, it retries only
    /// every 30 s or so: the nodes are told to connect right away instead.
    pub fn restart(&mut self, node: usize) {
        self.kill(node);
        self.nodes[node].daemon.spawn();
        let others: Vec<usize> = (0..NODES)
            .filter(|&other| other != node && self.nodes[other].daemon.is_running())
            .collect();
        self.wait(node, "connections to the running nodes", || {
            others.iter().try_for_each(|&other| {
                self.connect(node, other)?;
                self.connect(other, node)
            })
        });
        self.wait_serving(node);
    }

    /// Stores `body` as object `key` through node `node`. `key` goes into
    /// the URL as it is: keep it to URL-safe characters.
    pub fn put_object(&self, node: usize, key: &str, body: &[u8]) -> Result<(), String> {
        self.s3_request(node, key, Some(body), TOOL_WITHIN)
            .map(drop)
    }

    /// Object `key` read through node `node`.
    pub fn get_object(&self, node: usize, key: &str) -> Result<Vec<u8>, String> {
        self.s3_request(node, key, None, TOOL_WITHIN)
    }

    /// Runs `garage <args>` against node `node`; its stdout.
    pub fn garage(&self, node: usize, args: &[&str]) -> Result<String, String> {
        let config = path_str(&self.nodes[node].config);
        let mut all = vec!["-c", config];
        all.extend_from_slice(args);
        run_tool("garage", &all, &[])
    }

    /// Learns the nodes' addresses and connects node 0 to the others
    /// (which then learn of each other from it).
    fn connect_nodes(&mut self) {
        for node in 0..NODES {
            // A node writes its key at its first start: until then it has
            // no id.
            let address = self.wait(node, "its node id", || {
                self.garage(node, &["node", "id", "-q"])
            });
            self.nodes[node].address = address.trim().to_owned();
        }
        for node in 1..NODES {
            self.wait(0, "a connection to its peers", || self.connect(0, node));
        }
    }

    /// Tells node `from` to connect to node `to`.
    fn connect(&self, from: usize, to: usize) -> Result<(), String> {
        let address = self.nodes[to].address.as_str();
        self.garage(from, &["node", "connect", address]).map(drop)
    }

    /// Gives each node 1 GB in zone dc1, as layout version 1.
    fn apply_layout(&mut self) {
        for node in 0..NODES {
            let address = &self.nodes[node].address;
            let id = address.split('@').next().unwrap_or_default().to_owned();
            self.run_on_first(&["layout", "assign", "-z", "dc1", "-c", "1G", &id]);
        }
        self.run_on_first(&["layout", "apply", "--version", "1"]);
    }

    fn create_bucket_and_key(&mut self) {
        let out = self.run_on_first(&["key", "create", "gazette-tests"]);
        self.access_key_id = crate::line_value(&out, "Key ID:");
        self.secret_access_key = crate::line_value(&out, "Secret key:");
        self.run_on_first(&["bucket", "create", BUCKET]);
        let key = self.access_key_id.clone();
        self.run_on_first(&[
            "bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", &key,
        ]);
    }

    /// `garage <args>` on node 0, which must succeed.
    fn run_on_first(&self, args: &[&str]) -> String {
        self.garage(0, args)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.nodes[0].daemon.log_tail()))
    }

    /// `Ok` once node `node` is connected to all 3 storage nodes of an
    /// applied layout. (Before any layout Garage calls itself healthy:
    /// the storage node count tells the two apart.)
    fn cluster_healthy(&self, node: usize) -> Result<(), String> {
        let url = format!("{}/v2/GetClusterHealth", self.nodes[node].admin_url);
        let bearer = format!("Authorization: Bearer {}", self.admin_token);
        let text = http_get(&url, &["-H", &bearer])?;
        let health: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        let healthy = health["status"] == "healthy" && health["storageNodes"] == NODES;
        if healthy {
            Ok(())
        } else {
            Err(format!("not yet: {health}"))
        }
    }

    /// Waits until node `node` lists the bucket: it has the layout, the
    /// key and the bucket, and a quorum of its peers answers.
    fn wait_serving(&self, node: usize) {
        // A request can hang on a peer's dead connection: try again soon.
        let probe_within = Duration::from_secs(5);
        self.wait(node, "S3 service", || {
            self.s3_request(node, "", None, probe_within).map(drop)
        });
    }

    /// `probe` retried until it succeeds (see [`wait_for`]).
    fn wait<T>(&self, node: usize, what: &str, probe: impl FnMut() -> Result<T, String>) -> T {
        wait_for(&self.nodes[node].daemon, what, probe)
    }

    /// A signed path-style request on the bucket through node `node`:
    /// a PUT of `body` when there is one, a GET otherwise. The response
    /// body on a 2xx status, an error with the status and body otherwise
    /// (or when no answer came within `within`).
    fn s3_request(
        &self,
        node: usize,
        key: &str,
        body: Option<&[u8]>,
        within: Duration,
    ) -> Result<Vec<u8>, String> {
        let url = format!("{}/{BUCKET}/{key}", self.nodes[node].s3_url);
        let user = format!("{}:{}", self.access_key_id, self.secret_access_key);
        let sigv4 = format!("aws:amz:{REGION}:s3");
        let scratch = tempfile::tempdir().map_err(|e| format!("a temp dir: {e}"))?;
        let response = scratch.path().join("response");
        let upload = scratch.path().join("upload");
        let max_time = within.as_secs().to_string();
        let mut args = vec![
            "-sS",
            "--max-time",
            &max_time,
            "--aws-sigv4",
            &sigv4,
            "--user",
            &user,
            "-H",
            // Garage wants the header; curl does not add it itself.
            "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "-o",
            path_str(&response),
            "-w",
            "%{http_code}",
        ];
        if let Some(body) = body {
            fs::write(&upload, body).map_err(|e| format!("write {}: {e}", upload.display()))?;
            args.extend(["--upload-file", path_str(&upload)]);
        }
        args.push(&url);
        let status = run_tool("curl", &args, &[])?;
        let content = fs::read(&response).unwrap_or_default();
        if status.starts_with('2') {
            Ok(content)
        } else {
            Err(format!(
                "{} {url}: HTTP {status}: {}",
                if body.is_some() { "PUT" } else { "GET" },
                String::from_utf8_lossy(&content)
            ))
        }
    }
}

/// What differs between the nodes' configurations.
struct GarageConfig<'a> {
    dir: &'a Path,
    rpc_secret: &'a str,
    admin_token: &'a str,
    rpc: u16,
    s3: u16,
    admin: u16,
}

impl GarageNode {
    /// Writes node `i`'s configuration into its directory.
    fn configure(i: usize, c: &GarageConfig) -> GarageNode {
        let dir = c.dir;
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let config = dir.join("garage.toml");
        let text = format!(
            r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "sqlite"
replication_factor = {NODES}

rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
admin_token = "{token}"
"#,
            meta = dir.join("meta").display(),
            data = dir.join("data").display(),
            rpc = c.rpc,
            secret = c.rpc_secret,
            s3 = c.s3,
            admin = c.admin,
            token = c.admin_token,
        );
        fs::write(&config, text).unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
        let args = vec!["-c".into(), path_str(&config).into(), "server".into()];
        GarageNode {
            // An ambient RUST_LOG=debug would flood the log.
            daemon: Daemon::new(
                format!("garage node {i}"),
                "garage",
                args,
                &[("RUST_LOG", "garage=info")],
                dir.join("garage.log"),
            ),
            config,
            address: String::new(),
            s3_url: format!("http://127.0.0.1:{}", c.s3),
            admin_url: format!("http://127.0.0.1:{}", c.admin),
        }
    }
}

// ------------------------------------------------------------------ etcd

/// A 3-member etcd cluster on loopback, bootstrapped statically.
/// Members are numbered from 0.
pub struct EtcdCluster {
    members: Vec<EtcdMember>,
}

struct EtcdMember {
    daemon: Daemon,
    client_url: String,
}

impl EtcdCluster {
    /// Starts the members with their data under `dir/member0..2` and
    /// returns once each reports itself healthy.
    pub fn start(dir: &Path) -> EtcdCluster {
        let mut ports = reserve_ports(2 * NODES);
        let (clients, peers): (Vec<u16>, Vec<u16>) =
            ports.chunks(2).map(|p| (port(&p[0]), port(&p[1]))).unzip();
        let bootstrap = Bootstrap {
            initial_cluster: (0..NODES)
                .map(|i| format!("{}=http://127.0.0.1:{}", member_name(i), peers[i]))
                .collect::<Vec<_>>()
                .join(","),
            // Another cluster that once used these ports must never take
            // our members in.
            token: format!("gazette-tests-{}", random_hex(8)),
        };
        let members = (0..NODES)
            .map(|i| EtcdMember::configure(i, dir, clients[i], peers[i], &bootstrap))
            .collect();
        let mut cluster = EtcdCluster { members };
        // A member serves only once a quorum has started, so all start
        // together; their ports are released only now.
        ports.clear();
        for member in &mut cluster.members {
            member.daemon.spawn();
        }
        for member in 0..NODES {
            cluster.wait_healthy(member);
        }
        cluster
    }

    /// Each member's client URL, `http://127.0.0.1:PORT`.
    pub fn client_endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// Kills member `member` (SIGKILL) and reaps it; a no-op when it is
    /// down.
    pub fn kill(&mut self, member: usize) {
        self.members[member].daemon.kill();
    }

    /// Starts member `member` again on its data directory (killing it
    /// first if it runs), rejoining the cluster it belongs to, and returns
    /// once it is healthy.
    pub fn restart(&mut self, member: usize) {
        self.kill(member);
        // etcd goes by its data directory then, but says what this is.
        let daemon = &mut self.members[member].daemon;
        for arg in &mut daemon.args {
            if arg == "--initial-cluster-state=new" {
                *arg = "--initial-cluster-state=existing".to_owned();
            }
        }
        daemon.spawn();
        self.wait_healthy(member);
    }

    /// The member that is the leader in its own eyes, if a running one is.
    /// Killing it is the harsher fault: until a new leader is elected (a
    /// second or two), writes sent to a follower are forwarded to the dead
    /// leader and lost, and the client sees a timeout.
    pub fn leader(&self) -> Option<usize> {
        (0..NODES).find(|&member| {
            self.members[member].daemon.is_running()
                && self
                    .etcdctl(member, &["endpoint", "status", "-w", "json"])
                    .ok()
                    .and_then(|out| serde_json::from_str::<serde_json::Value>(&out).ok())
                    .is_some_and(|status| {
                        let status = &status[0]["Status"];
                        status["leader"].is_u64()
                            && status["leader"] == status["header"]["member_id"]
                    })
        })
    }

    /// Runs `etcdctl <args>` (API v3) against member `member` alone; its
    /// stdout.
    pub fn etcdctl(&self, member: usize, args: &[&str]) -> Result<String, String> {
        let endpoints = format!("--endpoints={}", self.members[member].client_url);
        let mut all = vec![endpoints.as_str()];
        all.extend_from_slice(args);
        run_tool("etcdctl", &all, &[("ETCDCTL_API", "3")])
    }

    /// Waits until member `member`'s `/health` says true: it has a leader
    /// and a quorum answers.
    fn wait_healthy(&self, member: usize) {
        let member = &self.members[member];
        let url = format!("{}/health", member.client_url);
        wait_for(&member.daemon, "health", || {
            let body = http_get(&url, &[])?;
            if body.contains(r#""health":"true""#) {
                Ok(())
            } else {
                Err(body)
            }
        });
    }
}

/// What the members' command lines share.
struct Bootstrap {
    initial_cluster: String,
    token: String,
}

impl EtcdMember {
    /// Member `i`'s command line and directory.
    fn configure(i: usize, dir: &Path, client: u16, peer: u16, b: &Bootstrap) -> EtcdMember {
        let dir = dir.join(member_name(i));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let args = [
            ("name", member_name(i)),
            ("data-dir", path_str(&dir.join("data")).to_owned()),
            ("listen-client-urls", client_url.clone()),
            ("advertise-client-urls", client_url.clone()),
            ("listen-peer-urls", peer_url.clone()),
            ("initial-advertise-peer-urls", peer_url),
            ("initial-cluster", b.initial_cluster.clone()),
            ("initial-cluster-token", b.token.clone()),
            ("initial-cluster-state", "new".to_owned()),
            // The default logger warns that it is deprecated.
            ("logger", "zap".to_owned()),
        ]
        .map(|(flag, value)| format!("--{flag}={value}"))
        .to_vec();
        let name = format!("etcd member {i}");
        EtcdMember {
            daemon: Daemon::new(name, "etcd", args, &[], dir.join("etcd.log")),
            client_url,
        }
    }
}

fn member_name(i: usize) -> String {
    format!("member{i}")
}

// ---------------------------------------------------------- processes

/// One engine process and its command line, so it can be started again
/// after a kill. Its stdout and stderr are appended to `log`.
struct Daemon {
    name: String,
    program: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
    log: PathBuf,
    /// Behind a lock so that waiting, which checks it, can share the
    /// cluster with the probes.
    child: Mutex<Option<Child>>,
}

impl Daemon {
    fn new(
        name: String,
        program: &'static str,
        args: Vec<String>,
        env: &[(&'static str, &'static str)],
        log: PathBuf,
    ) -> Daemon {
        Daemon {
            name,
            program,
            args,
            env: env.to_vec(),
            log,
            child: Mutex::new(None),
        }
    }

    fn spawn(&mut self) {
        let open = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .unwrap_or_else(|e| panic!("open {}: {e}", self.log.display()))
        };
        let (stdout, stderr): (File, File) = (open(), open());
        let mut command = Command::new("setpriv");
        command
            .args(["--pdeathsig", "KILL", "--", self.program])
            .args(&self.args)
            .envs(self.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        let child = spawn_tied_to_process(command).unwrap_or_else(|e| {
            panic!(
                "start {} (setpriv --pdeathsig KILL -- {}): {e}",
                self.name, self.program
            )
        });
        *self.child() = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        // A panic while it was held left nothing half-changed.
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether it was started and not killed (it may have crashed).
    fn is_running(&self) -> bool {
        self.child().is_some()
    }

    /// Panics with the log's tail if the process has exited while we wait
    /// for `what`: waiting longer would only hide why.
    fn assert_running(&self, what: &str) {
        let exited = match &mut *self.child() {
            Some(child) => child.try_wait().ok().flatten().map(|s| s.to_string()),
            None => Some("killed".to_owned()),
        };
        if let Some(status) = exited {
            panic!(
                "{} exited ({status}) while waiting for {what}\n{}",
                self.name,
                self.log_tail()
            );
        }
    }

    /// The last lines of the log, headed by its path.
    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.log.display())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Calls `probe` until it succeeds, pausing between tries; panics with
/// `daemon`'s log tail when it exits or START_WITHIN passes.
fn wait_for<T>(daemon: &Daemon, what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + START_WITHIN;
    loop {
        daemon.assert_running(what);
        match probe() {
            Ok(value) => return value,
            Err(e) if Instant::now() >= deadline => panic!(
                "{}: gave up waiting for {what} after {START_WITHIN:?}: {e}\n{}",
                daemon.name,
                daemon.log_tail()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Spawns `command` (a `setpriv --pdeathsig KILL` one) from a thread that
/// lives as long as the test process: the kernel then kills the engine when
/// the process ends, however it ends (a timeout's SIGKILL skips every
/// `Drop`). The signal comes when the spawning *thread* ends, so spawning
/// from the test's own thread would kill a shared cluster with that test.
fn spawn_tied_to_process(command: Command) -> io::Result<Child> {
    type Request = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, received) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("engine spawner".into())
            .spawn(move || {
                for (mut command, reply) in received {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("start the engine spawner thread");
        requests
    });
    let (reply, child) = mpsc::channel();
    spawner
        .send((command, reply))
        .expect("the engine spawner thread runs");
    child.recv().expect("the engine spawner thread answers")
}

/// Runs a command-line tool to completion under `timeout` (it is killed
/// after TOOL_WITHIN); its stdout, or an error with the command line, exit
/// status and output.
fn run_tool(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let limit = format!("{}s", TOOL_WITHIN.as_secs());
    let output = Command::new("timeout")
        .args(["-s", "KILL", &limit, program])
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run timeout {program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    match output.status.code() {
        Some(0) => Ok(stdout),
        code => Err(format!(
            "{program} {}: {}: {}{stdout}",
            args.join(" "),
            match code {
                Some(127) => "not found".to_owned(),
                Some(137) => format!("killed after {limit}"),
                _ => output.status.to_string(),
            },
            String::from_utf8_lossy(&output.stderr),
        )),
    }
}

/// The body of a GET of `url` with curl (`args` before the URL), if the
/// status is 2xx. (Not reqwest's blocking client: it panics when called
/// from inside a tokio runtime, where a test may start a cluster.)
fn http_get(url: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["-sS", "--max-time", "5", "-w", "\n%{http_code}"];
    all.extend_from_slice(args);
    all.push(url);
    let out = run_tool("curl", &all, &[])?;
    let (body, status) = out.rsplit_once('\n').unwrap_or(("", &out));
    if status.starts_with('2') {
        Ok(body.to_owned())
    } else {
        Err(format!("GET {url}: HTTP {status}: {body}"))
    }
}

/// `count` loopback ports that are free now, each held by its listener
/// until the caller drops it: ports taken and released one at a time
/// could be handed out twice.
fn reserve_ports(count: usize) -> Vec<TcpListener> {
    (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect()
}

fn port(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("a bound address").port()
}

/// `bytes` random bytes from the OS, in hex.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garage_version_is_found_in_both_spellings() {
        assert!(has_version("garage cargo:2.5.0", "2.5.0"));
        assert!(has_version("garage v2.5.0 [features: k2v]\n", "2.5.0"));
        assert!(!has_version("garage cargo:2.5.01", "2.5.0"));
        assert!(!has_version("garage v12.5.0", "2.5.0"));
    }
}
