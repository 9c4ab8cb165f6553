//! The log's configuration: `<data>/gazette-log.toml`, written commented by
//! `gazette-log init`. Every error names the file, the key and why, and
//! stops the start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gazette_client::note::KeyType;
use gazette_kit::Daemon;
pub use gazette_kit::config::ConfigError;
use gazette_kit::config::check_key_name;
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The log's origin (its key name and checkpoint first line).
    pub origin: String,
    /// Address to listen on.
    #[serde(default = "gazette_kit::config::loopback::<8080>")]
    pub listen: SocketAddr,
    /// The log's signer key file, relative to the data directory.
    #[serde(default = "default_key_file")]
    pub key_file: PathBuf,
    /// The log's public key (`name+id+base64`): what a replica, which has
    /// no key file, checks the followed checkpoints with.
    #[serde(default)]
    pub log_vkey: Option<String>,
    /// The registered agencies file, relative to the data directory.
    #[serde(default = "default_agencies_file")]
    pub agencies_file: PathBuf,
    /// The display names of agencies and kinds the log's page shows,
    /// relative to the data directory (absent: none).
    #[serde(default = "default_names_file")]
    pub names_file: PathBuf,
    /// The witness policy (c2sp.org/tlog-policy text: `witness <name>
    /// <vkey> <url>`, `group`, `quorum`); none: checkpoints are published
    /// as soon as they are committed.
    #[serde(default)]
    pub witness_policy_file: Option<PathBuf>,
    /// Batching.
    #[serde(default)]
    pub sequencer: SequencerConfig,
    /// How tiles are kept.
    #[serde(default)]
    pub storage: StorageConfig,
    /// Tiles and checkpoints in an S3-compatible bucket instead of the
    /// data directory (which then holds only the rebuildable indexes).
    #[serde(default)]
    pub object_store: Option<ObjectStoreConfig>,
    /// The store that lets exactly one process sequence: required with
    /// `[object_store]`, except for a replica.
    #[serde(default)]
    pub lock: Option<LockConfig>,
    /// Request limits.
    #[serde(default)]
    pub limits: Limits,
    /// Per-agency rate limits.
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Connection caps and timeouts.
    #[serde(default)]
    pub connections: gazette_kit::http::Connections,
    /// The public verification page (`wasm/www/` with its built bundle in
    /// `pkg/`), served at `GET /`; none: the `wasm/www` of the source tree
    /// this binary was built from.
    #[serde(default)]
    pub page_dir: Option<PathBuf>,
}

impl Config {
    /// Where the verification page's files are.
    pub fn page_dir(&self, data_dir: &std::path::Path) -> PathBuf {
        match &self.page_dir {
            Some(dir) => data_dir.join(dir),
            None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm/www")),
        }
    }
}

/// How the sequencer batches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequencerConfig {
    /// A batch closes when it holds this many records...
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// ...or this many milliseconds after its first record arrived.
    #[serde(default = "default_batch_interval_ms")]
    pub batch_interval_ms: u64,
    /// Records waiting at most; beyond, writes get 503 with Retry-After.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// MiB of record text waiting at most (the records' own bytes; their
    /// parsed form is held beside them); beyond, writes get 503 too.
    #[serde(default = "default_queue_budget_mib")]
    pub queue_budget_mib: usize,
    /// Whether every batch ends with an index commitment (`docs/INDEX.md`),
    /// so that "not found" and "not revoked" are proven.
    #[serde(default = "default_verifiable_index")]
    pub verifiable_index: bool,
}

/// How tiles are kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Seconds a partial tile is kept once a wider or the full tile at its
    /// position is durable: a client that has just read a checkpoint can
    /// still fetch its partial tiles from a file server or mirror of the
    /// `tile/` directory. The log itself serves every partial tile its tree
    /// implies, cut from the wider one; clients fall back to full tiles.
    #[serde(default = "default_partial_tile_grace_s")]
    pub partial_tile_grace_s: u64,
}

fn default_partial_tile_grace_s() -> u64 {
    5
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            partial_tile_grace_s: default_partial_tile_grace_s(),
        }
    }
}

/// An S3-compatible bucket (credentials from the environment:
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// The S3 API of each node (`http://host:port`); a request that fails
    /// on one is tried on the next.
    pub endpoints: Vec<String>,
    /// The bucket.
    pub bucket: String,
    /// The region the endpoints expect in signatures.
    #[serde(default = "default_region")]
    pub region: String,
    /// Objects are stored under this prefix (empty, or ending in `/`).
    #[serde(default)]
    pub prefix: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// The sequencer's lease and the checkpoint's compare-and-swap, on etcd.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockConfig {
    /// The client URL of each etcd member (`http://host:2379`).
    pub etcd_endpoints: Vec<String>,
    /// Seconds the lease lives without a renewal: how long a standby
    /// waits after the sequencer died, and how long a paused sequencer
    /// may go unnoticed (it can never commit after losing the lease).
    #[serde(default = "default_lease_ttl_s")]
    pub lease_ttl_s: u64,
    /// The keys' prefix in etcd; default `gazette/<origin>/`.
    #[serde(default)]
    pub prefix: Option<String>,
}

fn default_lease_ttl_s() -> u64 {
    10
}

impl LockConfig {
    /// The keys' prefix in etcd for the log `origin`.
    pub fn prefix(&self, origin: &str) -> String {
        self.prefix
            .clone()
            .unwrap_or_else(|| format!("gazette/{origin}/"))
    }
}

/// Request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Most records in one `/add-batch` request.
    #[serde(default = "default_max_batch_records")]
    pub max_batch_records: usize,
    /// Most `/add-batch` requests handled at once; more wait their turn,
    /// their bodies read whole first (within the body budget of
    /// `[connections]`), so a slow sender never holds a turn.
    #[serde(default = "default_max_concurrent_batches")]
    pub max_concurrent_batches: usize,
    /// Most `/add` requests handled at once.
    #[serde(default = "default_max_concurrent_adds")]
    pub max_concurrent_adds: usize,
    /// MiB of recently served tiles kept in memory, entry bundles also
    /// gzip-encoded for the clients that accept gzip (0: none kept, and
    /// no bundle gzip-encoded). On local disk a tile asked for as stored
    /// is sent from its file (the page cache) instead, and not kept here.
    /// Tiles never change, so the cache is never stale; its size bounds
    /// its memory.
    #[serde(default = "default_tile_cache_mib")]
    pub tile_cache_mib: usize,
    /// Most `/add?wait=receipt` requests waiting for a witnessed checkpoint
    /// at once; more are answered at once (202, receipt later). Waiting
    /// holds no `/add` turn.
    #[serde(default = "default_max_receipt_waiters")]
    pub max_receipt_waiters: usize,
    /// Seconds `/add?wait=receipt` waits for a witnessed checkpoint.
    #[serde(default = "default_receipt_wait_s")]
    pub receipt_wait_s: u64,
}

/// How many records an agency may submit: a token bucket per agency that
/// refills at `records_per_second` and holds at most `burst`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Sustained records per second.
    pub records_per_second: u32,
    /// Records that may arrive at once.
    pub burst: u32,
}

/// Per-agency rate limits: a default quota and overrides by agency name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Sustained records per second of every agency without an override.
    #[serde(default = "default_records_per_second")]
    pub records_per_second: u32,
    /// Burst of every agency without an override.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Overrides, by agency (key) name.
    #[serde(default)]
    pub agency: std::collections::BTreeMap<String, Quota>,
}

impl RateLimits {
    /// The quota of the agency named `name`.
    pub fn quota(&self, name: &str) -> Quota {
        self.agency.get(name).copied().unwrap_or(Quota {
            records_per_second: self.records_per_second,
            burst: self.burst,
        })
    }
}

fn default_key_file() -> PathBuf {
    PathBuf::from(DAEMON.key_file())
}
fn default_names_file() -> PathBuf {
    PathBuf::from("names.txt")
}

fn default_agencies_file() -> PathBuf {
    PathBuf::from("agencies.txt")
}
fn default_max_batch() -> usize {
    16384
}
fn default_batch_interval_ms() -> u64 {
    5
}
fn default_verifiable_index() -> bool {
    true
}
fn default_queue_capacity() -> usize {
    200_000
}
fn default_queue_budget_mib() -> usize {
    256
}
fn default_max_batch_records() -> usize {
    10_000
}
fn default_max_concurrent_batches() -> usize {
    4
}
fn default_max_concurrent_adds() -> usize {
    512
}
fn default_max_receipt_waiters() -> usize {
    1024
}
fn default_receipt_wait_s() -> u64 {
    10
}
fn default_tile_cache_mib() -> usize {
    64
}
/// About what a 2-core machine sustains durably through `/add-batch`
/// (75 k records/s with 4 requests at once, 98–100 k with 64,
/// docs/BENCHMARKS.md): one agency alone can use the
/// whole log; an operator with several busy agencies sets shares below it.
fn default_records_per_second() -> u32 {
    100_000
}
/// Four seconds at the default rate.
fn default_burst() -> u32 {
    400_000
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            records_per_second: default_records_per_second(),
            burst: default_burst(),
            agency: Default::default(),
        }
    }
}

impl Default for SequencerConfig {
    fn default() -> Self {
        SequencerConfig {
            max_batch: default_max_batch(),
            batch_interval_ms: default_batch_interval_ms(),
            queue_capacity: default_queue_capacity(),
            queue_budget_mib: default_queue_budget_mib(),
            verifiable_index: default_verifiable_index(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_batch_records: default_max_batch_records(),
            max_concurrent_batches: default_max_concurrent_batches(),
            max_concurrent_adds: default_max_concurrent_adds(),
            tile_cache_mib: default_tile_cache_mib(),
            max_receipt_waiters: default_max_receipt_waiters(),
            receipt_wait_s: default_receipt_wait_s(),
        }
    }
}

/// The `[object_store]` and `[lock]` sections, checked together.
fn check_distributed(
    config: &Config,
    err: &impl Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let urls = |key: &str, urls: &[String]| {
        if urls.is_empty() {
            return Err(err(key, "needs at least one URL".into()));
        }
        match urls
            .iter()
            .find(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            Some(bad) => Err(err(
                key,
                format!("{bad:?} is not an http:// or https:// URL"),
            )),
            None => Ok(()),
        }
    };
    if let Some(store) = &config.object_store {
        urls("object_store.endpoints", &store.endpoints)?;
        if store.bucket.is_empty() {
            return Err(err("object_store.bucket", "must name a bucket".into()));
        }
        if !(store.prefix.is_empty() || store.prefix.ends_with('/'))
            || store.prefix.starts_with('/')
        {
            return Err(err(
                "object_store.prefix",
                "must be empty or end with / (and not start with one)".into(),
            ));
        }
    }
    if let Some(lock) = &config.lock {
        if config.object_store.is_none() {
            return Err(err(
                "lock",
                "only a log on [object_store] needs a lock store".into(),
            ));
        }
        urls("lock.etcd_endpoints", &lock.etcd_endpoints)?;
        if !(2..=300).contains(&lock.lease_ttl_s) {
            return Err(err("lock.lease_ttl_s", "must be between 2 and 300".into()));
        }
    }
    Ok(())
}

/// File name of the configuration inside the data directory (the kit's
/// convention: `<program>.toml`).
pub const CONFIG_FILE: &str = "gazette-log.toml";

/// The log as the kit sets it up: `init`, the configuration, messages.
pub const DAEMON: Daemon = Daemon::new("gazette-log", "log", "origin", KeyType::Ed25519);

impl Config {
    /// Reads and validates `<dir>/gazette-log.toml`.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let config: Config = gazette_kit::config::load(&DAEMON, dir)?;
        let path = dir.join(CONFIG_FILE);
        let err = |key: &str, why: String| ConfigError::new(&path, key, why);
        check_key_name(&path, "origin", &config.origin)?;
        let s = &config.sequencer;
        if !(1..=100_000).contains(&s.max_batch) {
            return Err(err(
                "sequencer.max_batch",
                "must be between 1 and 100000".into(),
            ));
        }
        if !(1..=10_000).contains(&s.batch_interval_ms) {
            return Err(err(
                "sequencer.batch_interval_ms",
                "must be between 1 and 10000".into(),
            ));
        }
        if s.queue_capacity < config.limits.max_batch_records {
            return Err(err(
                "sequencer.queue_capacity",
                "must be at least limits.max_batch_records".into(),
            ));
        }
        if !(1..=100_000).contains(&config.limits.max_batch_records) {
            return Err(err(
                "limits.max_batch_records",
                "must be between 1 and 100000".into(),
            ));
        }
        // (After max_batch_records is checked: the product cannot overflow.)
        // One batch of the largest records must fit, or it could never go.
        let largest_batch =
            config.limits.max_batch_records * gazette_client::record::MAX_RECORD_SIZE;
        if !(1..=1 << 20).contains(&s.queue_budget_mib) || s.queue_budget_mib << 20 < largest_batch
        {
            return Err(err(
                "sequencer.queue_budget_mib",
                format!(
                    "must be at most 1048576 and hold limits.max_batch_records records of the largest size ({} MiB)",
                    largest_batch.div_ceil(1 << 20)
                ),
            ));
        }
        for (key, value) in [
            (
                "limits.max_concurrent_batches",
                config.limits.max_concurrent_batches,
            ),
            (
                "limits.max_concurrent_adds",
                config.limits.max_concurrent_adds,
            ),
            (
                "limits.max_receipt_waiters",
                config.limits.max_receipt_waiters,
            ),
        ] {
            if !(1..=10_000).contains(&value) {
                return Err(err(key, "must be between 1 and 10000".into()));
            }
        }
        if !(1..=300).contains(&config.limits.receipt_wait_s) {
            return Err(err(
                "limits.receipt_wait_s",
                "must be between 1 and 300".into(),
            ));
        }
        if config.limits.tile_cache_mib > 65_536 {
            return Err(err(
                "limits.tile_cache_mib",
                "must be between 0 and 65536".into(),
            ));
        }
        config.connections.check(&path)?;
        check_distributed(&config, &err)?;
        let limits = &config.rate_limits;
        let default = Quota {
            records_per_second: limits.records_per_second,
            burst: limits.burst,
        };
        let quotas = std::iter::once(("rate_limits".to_owned(), default)).chain(
            config
                .rate_limits
                .agency
                .iter()
                .map(|(name, quota)| (format!("rate_limits.agency.{name:?}"), *quota)),
        );
        for (key, quota) in quotas {
            if quota.records_per_second == 0 || quota.burst == 0 {
                return Err(err(
                    &key,
                    "records_per_second and burst must both be at least 1".into(),
                ));
            }
        }
        Ok(config)
    }

    /// The commented configuration `init` writes.
    pub fn template(origin: &str, listen: SocketAddr) -> String {
        format!(
            r#"# Gazette log configuration. Paths are relative to this directory.

# The log's name: the first line of every checkpoint and the name of its key.
origin = "{origin}"

# Where the HTTP API listens. Keep it on loopback behind a reverse proxy
# unless this machine is meant to face the network directly.
listen = "{listen}"

# The log's private signing key (mode 0600). Back it up; losing it ends the log.
key_file = "log.key"

# Registered agencies and their record-signing keys; manage it with
# `gazette-log agency add <vkey>` and `gazette-log agency list`.
agencies_file = "agencies.txt"

# Display names the page shows for agencies and kinds, in English and
# Simplified Chinese, one per line (the file may be absent):
#   agency land-registry.example.gov en Land Registry
#   agency land-registry.example.gov zh-CN 土地登记局
#   kind business-licence en Business licence
#   kind business-licence zh-CN 营业执照
# Re-read when it changes; served at GET /names for the page.
names_file = "names.txt"

# Witnesses: a policy file in the ecosystem's format, for example
#   witness w1 w1.example.org+1234abcd+BASE64KEY http://127.0.0.1:8091
#   witness w2 w2.example.org+5678ef01+BASE64KEY http://127.0.0.1:8092
#   group two-of-two 2 w1 w2
#   quorum two-of-two
# With it, /checkpoint and receipts carry only checkpoints whose witness
# cosignatures meet the quorum. Without it, checkpoints are published as
# soon as they are committed.
# witness_policy_file = "policy.txt"

# The public verification page served at GET / (the folder wasm/www with the
# bundle built by scripts/build-page in wasm/www/pkg). Default: the source
# tree this binary was built from.
# page_dir = "/usr/share/gazette/www"

[sequencer]
# A batch of records is committed (tiles + checkpoint, fsynced) when it holds
# max_batch records or batch_interval_ms after its first record arrived.
max_batch = {max_batch}
batch_interval_ms = {interval}
# Records waiting to be committed at most, and MiB of their text at most;
# beyond either, writes get 503.
queue_capacity = {queue}
queue_budget_mib = {queue_budget}
# Every batch ends with an entry committing to the verifiable index, which
# proves "not found" and "not revoked" (docs/INDEX.md in the source tree).
verifiable_index = true

[storage]
# Every commit that does not end on a tile boundary writes new partial
# tiles; once a wider or the full tile at their position is written, they
# are removed after this many seconds (for readers of the tile/ directory
# itself; the log serves every partial tile, cut from the wider one).
partial_tile_grace_s = {grace}

# Scale-out: tiles and checkpoints in an S3-compatible bucket (Garage, Ceph
# RGW, AWS S3, R2, ...) instead of this directory, which then keeps only the
# configuration, the key and rebuildable indexes. Credentials come from the
# environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
# [object_store]
# endpoints = ["http://10.0.0.1:3900", "http://10.0.0.2:3900", "http://10.0.0.3:3900"]
# bucket = "gazette"
# region = "garage"
# prefix = ""
#
# Exactly one gazette-log sequences: the one holding a lease on etcd, which
# also keeps the checkpoint. Others started the same way stand by (serving
# reads) and take over within lease_ttl_s of its death. Read replicas
# (`gazette-log serve --replica`) need no [lock] and no key file, only
# log_vkey = "<the log's verifier key>" at the top of their configuration.
# [lock]
# etcd_endpoints = ["http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"]
# lease_ttl_s = 10

[limits]
# Most records in one POST /add-batch request.
max_batch_records = {records}
# Requests handled at once; more wait, their bodies read (within the
# body budget of [connections]) but no write slot held.
max_concurrent_batches = {batches}
max_concurrent_adds = {adds}
# POST /add?wait=receipt: at most this many wait at once (more get 202 at
# once: fetch the receipt later), each at most receipt_wait_s seconds.
max_receipt_waiters = {waiters}
receipt_wait_s = {receipt_wait}
# MiB of recently served tiles kept in memory (0: none): tiles read from the
# object store, and entry bundles gzip-encoded once for the clients that
# accept gzip (on local disk, other tiles go from the page cache). Tiles
# never change.
tile_cache_mib = {tile_cache}

[rate_limits]
# Each agency may submit records_per_second on average and burst at once;
# beyond that its records get 429 with Retry-After.
records_per_second = {rps}
burst = {burst}
# Per-agency overrides:
# [rate_limits.agency."land-registry.example.gov"]
# records_per_second = 1000
# burst = 10000
{connections}"#,
            max_batch = default_max_batch(),
            interval = default_batch_interval_ms(),
            queue = default_queue_capacity(),
            queue_budget = default_queue_budget_mib(),
            records = default_max_batch_records(),
            batches = default_max_concurrent_batches(),
            adds = default_max_concurrent_adds(),
            waiters = default_max_receipt_waiters(),
            receipt_wait = default_receipt_wait_s(),
            tile_cache = default_tile_cache_mib(),
            grace = default_partial_tile_grace_s(),
            rps = default_records_per_second(),
            burst = default_burst(),
            connections = gazette_kit::http::Connections::template(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error loading a configuration of `origin = ...` and `extra`.
    fn error_with(extra: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("origin = \"log.example/x\"\n{extra}");
        std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        Config::load(dir.path()).unwrap_err().to_string()
    }

    #[test]
    fn distributed_settings_are_checked_with_precise_errors() {
        let store = "[object_store]\nendpoints = [\"http://127.0.0.1:3900\"]\nbucket = \"b\"\n";
        for (extra, expected) in [
            (
                "[lock]\netcd_endpoints = [\"http://e:2379\"]\n",
                "only a log on [object_store]",
            ),
            (
                "[object_store]\nendpoints = []\nbucket = \"b\"\n",
                "object_store.endpoints",
            ),
            (
                // 10 000 records of 16 KiB need 157 MiB.
                "[sequencer]\nqueue_budget_mib = 156\n",
                "sequencer.queue_budget_mib",
            ),
            (
                "[object_store]\nendpoints = [\"127.0.0.1:3900\"]\nbucket = \"b\"\n",
                "is not an http",
            ),
            (
                "[object_store]\nendpoints = [\"http://h\"]\nbucket = \"\"\n",
                "object_store.bucket",
            ),
            (
                &format!("{store}prefix = \"logs\"\n"),
                "object_store.prefix",
            ),
            (
                &format!("{store}[lock]\netcd_endpoints = []\n"),
                "lock.etcd_endpoints",
            ),
            (
                &format!("{store}[lock]\netcd_endpoints = [\"http://e:2379\"]\nlease_ttl_s = 1\n"),
                "lock.lease_ttl_s",
            ),
        ] {
            let error = error_with(extra);
            assert!(error.contains(expected), "{extra}: {error}");
        }
    }

    #[test]
    fn the_kit_looks_for_the_configuration_where_init_writes_it() {
        assert_eq!(DAEMON.config_file(), CONFIG_FILE);
    }
}
