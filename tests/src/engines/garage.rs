//! The Garage cluster.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::daemon::*;
use super::*;

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
    /// Writes node `i`'s configuration into its directory. Metadata in
    /// LMDB, Garage's recommended engine: under the distributed bench's
    /// appends it took 53–58 µs of CPU per record against SQLite's 77–91
    /// (docs/BENCHMARKS.md); data blocks zstd-compressed at level 1, the
    /// default (turning it off saved nothing measurable).
    fn configure(i: usize, c: &GarageConfig) -> GarageNode {
        let dir = c.dir;
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let config = dir.join("garage.toml");
        let text = format!(
            r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "lmdb"
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
