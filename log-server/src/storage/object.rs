//! The object-store backend: tiles, entry bundles and checkpoints as
//! objects in an S3-compatible bucket, in the c2sp.org/tlog-tiles layout
//! (under an optional prefix), so the bucket behind a CDN is the static
//! read path. One client per endpoint (every node of a Garage cluster is
//! one): a request that fails on one endpoint is tried on the next.
//!
//! A writing log also holds the sequencer [`Lease`] on etcd, which keeps
//! the authoritative checkpoint (`storage/etcd.rs`). One commit:
//!
//! 1. the commit's objects, as one staging object `staging/<sha256 of the
//!    checkpoint note>`;
//! 2. the checkpoint, swapped in etcd (this process must still hold the
//!    lease, and etcd's checkpoint must be the one it wrote last);
//! 3. the objects at their own paths, then the `checkpoint` object;
//! 4. the staging object removed.
//!
//! Objects reach their paths only once their checkpoint has won step 2,
//! so a sequencer that lost the lease never writes a tile that differs
//! from the winner's (anything it still writes late is a tile of a tree
//! the winner's extends: the same bytes). A crash between 2 and 3 is
//! finished by the next holder from the staging object
//! ([`ObjectStorage::open_sequencer`]). Readers of the bucket see the
//! `checkpoint` object only after every object it implies.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use gazette_client::encoding::hex_encode;
use gazette_client::tiles::Tile;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use sha2::{Digest, Sha256};

use super::etcd::{Etcd, Lease, LeaseError};
use super::{CHECKPOINT, Storage, WITNESSED_CHECKPOINT, check_path};
use crate::config::ObjectStoreConfig;
use crate::tile_cache::TileCache;

/// Where a commit's objects wait until its checkpoint is swapped in.
const STAGING: &str = "staging/";
/// The staging object's first line.
const STAGING_MAGIC: &[u8] = b"gazette staging v1\n";
/// Objects uploaded at once.
const UPLOADS: usize = 16;
/// Bytes of tiles and bundles kept in memory: every proof reads several,
/// and a GET to the bucket costs milliseconds where a local file read costs
/// microseconds. A tile's path names its bytes for good (partial ones too:
/// the width is in the path, and only the winner of a checkpoint swap
/// writes tiles, see the module), so the log's own [`TileCache`] holds them.
const TILE_CACHE: usize = 64 << 20;

/// The bucket, through one client per endpoint.
struct Bucket {
    endpoints: Vec<(String, Arc<dyn ObjectStore>)>,
    /// The endpoint that answered last: tried first.
    current: AtomicUsize,
    prefix: String,
}

impl Bucket {
    fn path(&self, path: &str) -> io::Result<ObjectPath> {
        check_path(path)?;
        ObjectPath::parse(format!("{}{path}", self.prefix))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{path:?}: {e}")))
    }

    /// Runs `op` on the endpoints in turn, from the one that answered
    /// last, until one succeeds; "not found" is an answer.
    async fn attempt<T, F, Fut>(&self, what: &str, op: F) -> io::Result<Option<T>>
    where
        F: Fn(Arc<dyn ObjectStore>) -> Fut,
        Fut: Future<Output = object_store::Result<T>>,
    {
        let n = self.endpoints.len();
        let start = self.current.load(Ordering::Relaxed);
        let mut errors = Vec::new();
        for i in 0..n {
            let at = (start + i) % n;
            let (endpoint, store) = &self.endpoints[at];
            match op(store.clone()).await {
                Ok(value) => {
                    self.current.store(at, Ordering::Relaxed);
                    return Ok(Some(value));
                }
                Err(object_store::Error::NotFound { .. }) => {
                    self.current.store(at, Ordering::Relaxed);
                    return Ok(None);
                }
                Err(e) => {
                    tracing::warn!(endpoint, error = %e, "{what} failed; trying the next endpoint");
                    errors.push(format!("{endpoint}: {e}"));
                }
            }
        }
        Err(io::Error::other(format!(
            "object store: {what} failed on every endpoint ({})",
            errors.join("; ")
        )))
    }

    async fn get(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let location = self.path(path)?;
        self.attempt(&format!("reading {path}"), |store| {
            let location = location.clone();
            async move { store.get(&location).await?.bytes().await }
        })
        .await
        .map(|found| found.map(|bytes| bytes.to_vec()))
    }

    async fn put(&self, path: &str, data: PutPayload) -> io::Result<()> {
        let location = self.path(path)?;
        self.attempt(&format!("writing {path}"), |store| {
            let (location, data) = (location.clone(), data.clone());
            async move { store.put(&location, data).await }
        })
        .await
        .map(|_| ())
    }

    /// Writes `objects`, [`UPLOADS`] at a time (their bytes shared, not
    /// copied: a retried upload sends the same buffer).
    async fn put_all(&self, objects: &[(String, Bytes)]) -> io::Result<()> {
        futures_util::stream::iter(objects.iter().cloned())
            .map(|(path, data)| async move { self.put(&path, PutPayload::from_bytes(data)).await })
            .buffer_unordered(UPLOADS)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    async fn delete(&self, path: &str) -> io::Result<()> {
        let location = self.path(path)?;
        self.attempt(&format!("removing {path}"), |store| {
            let location = location.clone();
            async move { store.delete(&location).await }
        })
        .await
        .map(|_| ())
    }

    /// The paths of every object under `dir` (relative to the prefix). A
    /// listing may still name an object deleted a moment ago (Garage filters
    /// deleted objects out on each node before merging the nodes' answers):
    /// every caller reads or removes what it lists, and finds it gone.
    async fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let location = self.path(dir.trim_end_matches('/'))?;
        let found = self
            .attempt(&format!("listing {dir}"), |store| {
                let location = location.clone();
                async move {
                    store
                        .list(Some(&location))
                        .map_ok(|meta| meta.location.to_string())
                        .try_collect::<Vec<String>>()
                        .await
                }
            })
            .await?
            .unwrap_or_default();
        Ok(found
            .into_iter()
            .filter_map(|p| p.strip_prefix(&self.prefix).map(str::to_owned))
            .collect())
    }
}

/// The writer's side: the lease, and what etcd held after its last swap.
struct Sequencing {
    lease: Lease,
    /// The revision of etcd's checkpoint and the hash of that note.
    last: Mutex<(i64, [u8; 32])>,
}

/// Tiles and checkpoints in an S3-compatible bucket (see the module).
pub struct ObjectStorage {
    bucket: Arc<Bucket>,
    tiles: TileCache,
    sequencing: Option<Arc<Sequencing>>,
    /// The store's own runtime: [`Storage`] is called from plain threads
    /// and from the server's runtime alike, and waits here.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for ObjectStorage {
    fn drop(&mut self) {
        // Dropping a runtime may block, which the server's runtime forbids.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("object-store")
        .enable_all()
        .build()
}

/// One S3 client per endpoint of `config`, credentials from the
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
pub fn clients(config: &ObjectStoreConfig) -> io::Result<Vec<(String, Arc<dyn ObjectStore>)>> {
    let key = |name: &str| {
        std::env::var(name).map_err(|_| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("[object_store] needs {name} in the environment"),
            )
        })
    };
    clients_with(
        config,
        &key("AWS_ACCESS_KEY_ID")?,
        &key("AWS_SECRET_ACCESS_KEY")?,
    )
}

/// One S3 client per endpoint of `config`, with the key `id` and `secret`.
pub fn clients_with(
    config: &ObjectStoreConfig,
    id: &str,
    secret: &str,
) -> io::Result<Vec<(String, Arc<dyn ObjectStore>)>> {
    // The S3 client's TLS needs a process-wide crypto provider (once; a
    // second install is refused, harmlessly). ring's lacks post-quantum key
    // exchange, hence deprecated; aws-lc-rs would build a C library here.
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    config
        .endpoints
        .iter()
        .map(|endpoint| {
            let store = AmazonS3Builder::new()
                .with_endpoint(endpoint)
                .with_bucket_name(&config.bucket)
                .with_region(&config.region)
                .with_access_key_id(id)
                .with_secret_access_key(secret)
                .with_virtual_hosted_style_request(false)
                // A dead node fails fast, and the next endpoint is tried.
                .with_retry(RetryConfig {
                    max_retries: 2,
                    retry_timeout: Duration::from_secs(10),
                    ..Default::default()
                })
                .with_client_options(
                    // (These replace the builder's own client options:
                    // allowing http must be said here.)
                    ClientOptions::new()
                        .with_allow_http(true)
                        .with_connect_timeout(Duration::from_secs(2))
                        .with_timeout(Duration::from_secs(30)),
                )
                .build()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            Ok((endpoint.clone(), Arc::new(store) as Arc<dyn ObjectStore>))
        })
        .collect()
}

impl ObjectStorage {
    /// The bucket through `endpoints`, read only: a replica's store.
    pub fn open_reader(
        endpoints: Vec<(String, Arc<dyn ObjectStore>)>,
        prefix: &str,
    ) -> io::Result<ObjectStorage> {
        Ok(ObjectStorage {
            bucket: Arc::new(Bucket {
                endpoints,
                current: AtomicUsize::new(0),
                prefix: prefix.to_owned(),
            }),
            tiles: TileCache::new(TILE_CACHE),
            sequencing: None,
            runtime: Some(runtime()?),
        })
    }

    /// The bucket through `endpoints`, written by this process once it
    /// holds the sequencer lease on `etcd` (waiting for it while another
    /// process holds it). A commit a crashed holder left half done is
    /// finished first, and staging objects of commits that never won are
    /// removed. `lost` is called if the lease is lost later.
    pub fn open_sequencer(
        endpoints: Vec<(String, Arc<dyn ObjectStore>)>,
        prefix: &str,
        etcd: (&[String], &str),
        ttl: Duration,
        lost: impl FnOnce(String) + Send + 'static,
    ) -> anyhow::Result<ObjectStorage> {
        let mut storage = ObjectStorage::open_reader(endpoints, prefix)?;
        let bucket = storage.bucket.clone();
        let (etcd_endpoints, etcd_prefix) = (etcd.0.to_vec(), etcd.1.to_owned());
        let holder = format!(
            "{}/{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "gazette-log".into()),
            std::process::id()
        );
        let sequencing = storage.block_on(async move {
            let etcd = Etcd::connect(&etcd_endpoints, &etcd_prefix).await?;
            etcd.check_enforced(&holder).await?;
            let lease = etcd.acquire(&holder, ttl, lost).await?;
            let last = finish_interrupted(&bucket, &lease).await?;
            anyhow::Ok(Sequencing {
                lease,
                last: Mutex::new(last),
            })
        })??;
        storage.sequencing = Some(Arc::new(sequencing));
        Ok(storage)
    }

    /// Runs `work` on the store's runtime and waits for it.
    fn block_on<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> io::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.as_ref().expect("running").spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| io::Error::other("the object store's runtime stopped"))
    }

    fn run<T: Send + 'static, Fut>(&self, work: impl FnOnce(Arc<Bucket>) -> Fut) -> io::Result<T>
    where
        Fut: Future<Output = io::Result<T>> + Send + 'static,
    {
        self.block_on(work(self.bucket.clone()))?
    }

    /// Forgets the tile at `path`, removed from the bucket: a read must
    /// then find nothing, as on any store.
    fn forget(&self, path: &str) {
        if let Ok(tile) = Tile::parse_path(path) {
            self.tiles.remove(tile.level, path);
        }
    }

    /// Gives the sequencer lease up, so that a standby takes over at once.
    pub fn release(&self) {
        if let Some(sequencing) = self.sequencing.clone() {
            let _ = self.block_on(async move { sequencing.lease.release().await });
        }
    }
}

/// Brings the bucket up to etcd's checkpoint (from its staging object),
/// or etcd up to the bucket's on a first start; removes stale staging
/// objects. Returns etcd's revision and the hash of its note.
async fn finish_interrupted(bucket: &Bucket, lease: &Lease) -> anyhow::Result<(i64, [u8; 32])> {
    let held = lease.etcd().checkpoint().await?;
    let in_bucket = bucket.get(CHECKPOINT).await?;
    let (revision, note) = match (held.note, in_bucket) {
        (None, None) => return Ok((0, [0; 32])),
        // A bucket written before etcd held its checkpoint: adopt it.
        (None, Some(note)) => {
            let revision = lease.swap_checkpoint(0, &note).await?;
            (revision, note)
        }
        (Some(note), in_bucket) => {
            if in_bucket.as_deref() != Some(&note[..]) {
                let staged = format!("{STAGING}{}", hex_encode(&Sha256::digest(&note)));
                if let Some(bundle) = bucket.get(&staged).await? {
                    let objects = unstage(&bundle)
                        .map_err(|e| anyhow::anyhow!("the staging object {staged}: {e}"))?;
                    tracing::warn!(
                        objects = objects.len(),
                        "finishing the commit a stopped sequencer left half done"
                    );
                    bucket.put_all(&shared(objects)).await?;
                }
                bucket
                    .put(CHECKPOINT, PutPayload::from(note.clone()))
                    .await?;
            }
            (held.revision, note)
        }
    };
    for stale in bucket.list(STAGING).await? {
        bucket.delete(&stale).await?;
    }
    Ok((revision, Sha256::digest(&note).into()))
}

/// The staging object of `objects`: the magic line, then per object its
/// path's length (2 bytes), path, data's length (4 bytes), data.
fn stage(objects: &[(String, Bytes)]) -> Vec<u8> {
    let size: usize = objects.iter().map(|(p, d)| 6 + p.len() + d.len()).sum();
    let mut out = Vec::with_capacity(STAGING_MAGIC.len() + size);
    out.extend_from_slice(STAGING_MAGIC);
    for (path, data) in objects {
        out.extend_from_slice(&(path.len() as u16).to_be_bytes());
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

/// `objects` with their bytes shareable.
fn shared(objects: Vec<(String, Vec<u8>)>) -> Vec<(String, Bytes)> {
    objects
        .into_iter()
        .map(|(path, data)| (path, Bytes::from(data)))
        .collect()
}

/// Reads a staging object back; every length is checked against the bytes.
fn unstage(mut bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    bytes = bytes
        .strip_prefix(STAGING_MAGIC)
        .ok_or("not a staging object")?;
    let mut objects = Vec::new();
    let take = |n: usize, bytes: &mut &[u8]| -> Result<Vec<u8>, String> {
        if bytes.len() < n {
            return Err("truncated".into());
        }
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        Ok(head.to_vec())
    };
    while !bytes.is_empty() {
        let len = u16::from_be_bytes(take(2, &mut bytes)?.try_into().expect("2 bytes"));
        let path = String::from_utf8(take(len.into(), &mut bytes)?).map_err(|_| "bad path")?;
        let len = u32::from_be_bytes(take(4, &mut bytes)?.try_into().expect("4 bytes"));
        objects.push((path, take(len as usize, &mut bytes)?));
    }
    Ok(objects)
}

fn lost(e: LeaseError) -> io::Error {
    io::Error::other(e.to_string())
}

impl Storage for ObjectStorage {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let tile = Tile::parse_path(path).ok();
        if let Some(tile) = &tile
            && let Some(data) = self.tiles.get(tile.level, path)
        {
            return Ok(Some(data.to_vec()));
        }
        let owned = path.to_owned();
        let found = self.run(|bucket| async move { bucket.get(&owned).await })?;
        if let (Some(tile), Some(data)) = (&tile, &found) {
            self.tiles
                .insert(tile.level, path, Bytes::copy_from_slice(data));
        }
        Ok(found)
    }

    fn commit(&self, objects: &[(String, Vec<u8>)], checkpoint: &[u8]) -> io::Result<()> {
        let Some(sequencing) = self.sequencing.clone() else {
            return Err(io::Error::new(
                io::ErrorKind::ReadOnlyFilesystem,
                "this log reads the bucket only (a replica): it does not hold the sequencer lease",
            ));
        };
        // Copied once, to outlive this call on the store's runtime.
        let (objects, note) = (shared(objects.to_vec()), checkpoint.to_vec());
        self.run(|bucket| async move {
            let hash: [u8; 32] = Sha256::digest(&note).into();
            let staged = format!("{STAGING}{}", hex_encode(&hash));
            let (revision, last) = *sequencing.last.lock().expect("lock");
            let started = std::time::Instant::now();
            // A retried commit whose swap already won goes on from step 3.
            if last != hash {
                if !objects.is_empty() {
                    bucket.put(&staged, PutPayload::from(stage(&objects))).await?;
                }
                let staged_at = started.elapsed();
                let revision = sequencing
                    .lease
                    .swap_checkpoint(revision, &note)
                    .await
                    .map_err(lost)?;
                *sequencing.last.lock().expect("lock") = (revision, hash);
                tracing::debug!(?staged_at, swapped_at = ?started.elapsed(), "commit staged and swapped");
            }
            bucket.put_all(&objects).await?;
            bucket.put(CHECKPOINT, PutPayload::from(note)).await?;
            let written_at = started.elapsed();
            if !objects.is_empty() {
                bucket.delete(&staged).await?;
            }
            tracing::debug!(objects = objects.len(), ?written_at, done_at = ?started.elapsed(), "commit");
            Ok(())
        })
    }

    fn remove_temporaries(&self, _dir: &str) -> io::Result<usize> {
        // Objects appear whole: an interrupted upload leaves nothing.
        Ok(0)
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        self.forget(path);
        let path = path.to_owned();
        self.run(|bucket| async move { bucket.delete(&path).await })
    }

    fn remove_partial_tiles(&self, full: &str) -> io::Result<usize> {
        let dir = format!("{full}.p/");
        self.run(|bucket| async move {
            let found = bucket.list(&dir).await?;
            for path in &found {
                bucket.delete(path).await?;
            }
            Ok(found)
        })
        .map(|found| {
            found.iter().for_each(|path| self.forget(path));
            found.len()
        })
    }

    fn partial_widths(&self, full: &str) -> io::Result<Vec<u32>> {
        let dir = format!("{full}.p/");
        self.run(|bucket| async move {
            Ok(bucket
                .list(&dir)
                .await?
                .iter()
                .filter_map(|p| p.strip_prefix(&dir)?.parse().ok())
                .collect())
        })
    }

    fn superseded_partial_tiles(&self) -> io::Result<Vec<String>> {
        let paths = self.run(|bucket| async move { bucket.list("tile/").await })?;
        Ok(super::superseded(&paths))
    }

    fn read_witnessed_checkpoint(&self) -> io::Result<Option<Vec<u8>>> {
        self.read(WITNESSED_CHECKPOINT)
    }

    fn write_witnessed_checkpoint(&self, note: &[u8]) -> io::Result<()> {
        let note = note.to_vec();
        self.run(|bucket| async move {
            bucket
                .put(WITNESSED_CHECKPOINT, PutPayload::from(note))
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staging_object_reads_back_and_refuses_truncation() {
        let objects = vec![
            ("tile/0/000".to_owned(), vec![7; 32 * 256]),
            ("tile/entries/000.p/3".to_owned(), b"abc".to_vec()),
            ("tile/1/000.p/1".to_owned(), Vec::new()),
        ];
        let bytes = stage(&shared(objects.clone()));
        assert_eq!(unstage(&bytes).unwrap(), objects);
        for cut in [1, 5, bytes.len() - 1] {
            assert!(unstage(&bytes[..bytes.len() - cut]).is_err(), "cut {cut}");
        }
        assert!(unstage(b"something else").is_err());
        assert_eq!(unstage(STAGING_MAGIC).unwrap(), Vec::new());
    }
}
