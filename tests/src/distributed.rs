//! A log on real distributed engines: a 3-node Garage cluster holds the
//! tiles and checkpoints, a 3-node etcd cluster the sequencer lease, and
//! any number of `gazette-log` processes share them, each with its own
//! data directory (configuration, key, indexes), as separate machines
//! would.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;

use crate::engines::{EtcdCluster, GarageCluster};
use crate::process::{Options, Server};
use crate::{binary, init_log};

/// The log's origin.
pub const ORIGIN: &str = "distributed.example/log";
/// Seconds of the sequencer lease by default: short, so a takeover is
/// quick.
pub const LEASE_TTL_S: u64 = 2;

/// The agency whose records the tests send.
pub fn agency() -> Signer {
    Signer::from_seed("registry.example.gov", KeyType::Ed25519, [23; 32]).expect("a key")
}

/// Record `n` of the agency (a distinct digest and id per `n`).
pub fn record(n: u64) -> Vec<u8> {
    let mut digest = [0x44; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    Record::new(
        agency().name(),
        "permit",
        &format!("P-{n}"),
        digest,
        "2026-12-05T10:00:00Z",
    )
    .sign(&agency())
    .expect("signed")
    .bytes
}

/// The engines and a template log directory the nodes are copied from.
pub struct Cluster {
    /// The object store.
    pub garage: GarageCluster,
    /// The lock store.
    pub etcd: EtcdCluster,
    /// The log's public key.
    pub log_vkey: String,
    /// Seconds of the sequencer lease the nodes are configured with.
    pub lease_ttl_s: u64,
    template: PathBuf,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts Garage and etcd and sets up the log (key, agency): the
    /// template's log is on its own disk, the nodes' in the bucket.
    pub fn start() -> Cluster {
        Cluster::start_with(LEASE_TTL_S)
    }

    /// [`Cluster::start`], the nodes holding the lease for `lease_ttl_s`.
    pub fn start_with(lease_ttl_s: u64) -> Cluster {
        let dir = tempfile::tempdir().expect("a temp dir");
        let garage = GarageCluster::start(&dir.path().join("garage"));
        let etcd = EtcdCluster::start(&dir.path().join("etcd"));
        let template = dir.path().join("template");
        let log_vkey = init_log(&template, ORIGIN, &agency().verifier());
        Cluster {
            garage,
            etcd,
            log_vkey,
            lease_ttl_s,
            template,
            dir,
        }
    }

    /// A new node's data directory `name`: the template's files, and the
    /// configuration pointing at the engines. A replica (`with_key`
    /// false) gets no key file, only the log's public key.
    ///
    /// The template's agencies file lists the agency's key (the view the
    /// template's own registration left): the first node to sequence logs
    /// it in the bucket's registry (the migration of a log from before the
    /// registry), and every later node finds it there. Once the bucket's
    /// log runs, changes go through it (`gazette-log agency ... --url`).
    pub fn node_dir(&self, name: &str, with_key: bool) -> PathBuf {
        let node = self.dir.path().join(name);
        std::fs::create_dir_all(&node).expect("a node dir");
        for file in ["gazette-log.toml", "agencies.txt", "log.key"] {
            if file == "log.key" && !with_key {
                continue;
            }
            let from = self.template.join(file);
            if from.exists() {
                std::fs::copy(&from, node.join(file)).expect("copy a template file");
            }
        }
        let quoted = |urls: Vec<String>| {
            urls.iter()
                .map(|u| format!("{u:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut config =
            std::fs::read_to_string(node.join("gazette-log.toml")).expect("the configuration");
        // Top-level keys go before the first table.
        config = format!("log_vkey = {:?}\n{config}", self.log_vkey);
        config.push_str(&format!(
            "\n[object_store]\nendpoints = [{}]\nbucket = {:?}\nregion = {:?}\n\n[lock]\netcd_endpoints = [{}]\nlease_ttl_s = {}\n",
            quoted(self.garage.s3_endpoints()),
            self.garage.bucket(),
            self.garage.region(),
            quoted(self.etcd.client_endpoints()),
            self.lease_ttl_s,
        ));
        std::fs::write(node.join("gazette-log.toml"), config).expect("write the configuration");
        node
    }

    /// Starts `gazette-log serve` on `dir` with `args` (`--replica`).
    pub fn serve(&self, dir: &Path, args: &[&str]) -> Server {
        let env = [
            ("AWS_ACCESS_KEY_ID", self.garage.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", self.garage.secret_access_key()),
        ];
        // GAZETTE_TEST_RUST_LOG=gazette_log=debug shows, among others, the
        // time each step of a commit took.
        let rust_log = std::env::var("GAZETTE_TEST_RUST_LOG").unwrap_or_else(|_| "warn".into());
        Server::start_with(
            &binary("gazette-log"),
            dir,
            &Options {
                args,
                env: &env,
                rust_log: &rust_log,
                ..Options::default()
            },
        )
    }
}

/// Waits until `GET <url>/healthz` answers 200 (the process sequences),
/// at most `within`; whether it did.
pub fn wait_sequencing(url: &str, within: Duration) -> bool {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client");
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(reply) = client.get(format!("{url}/healthz")).send()
            && reply.status().is_success()
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// The key etcd keeps the log's checkpoint under.
pub fn checkpoint_key() -> String {
    format!("gazette/{ORIGIN}/checkpoint")
}

/// Every version of the checkpoint etcd has held (newest first), read
/// back through its history: each version's `mod_revision - 1` is where
/// the one before it was current.
pub fn checkpoint_history(etcd: &EtcdCluster) -> Vec<Vec<u8>> {
    use base64::Engine;
    let mut versions = Vec::new();
    let mut at: Option<i64> = None;
    loop {
        let mut args = vec![
            "get".to_owned(),
            checkpoint_key(),
            "-w".into(),
            "json".into(),
        ];
        if let Some(rev) = at {
            args.push(format!("--rev={rev}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = (0..3)
            .find_map(|member| etcd.etcdctl(member, &args).ok())
            .expect("some etcd member answers");
        let answer: serde_json::Value = serde_json::from_str(&out).expect("etcdctl JSON");
        let Some(kv) = answer["kvs"].as_array().and_then(|k| k.first()) else {
            return versions;
        };
        let value = base64::engine::general_purpose::STANDARD
            .decode(kv["value"].as_str().expect("a value"))
            .expect("base64");
        versions.push(value);
        let modified = kv["mod_revision"].as_i64().expect("a revision");
        if modified <= 1 {
            return versions;
        }
        at = Some(modified - 1);
    }
}
