//! The sequencer's lease and the checkpoint's compare-and-swap, on etcd.
//!
//! Object stores without enforced conditional writes (Garage) cannot keep
//! two `gazette-log` processes from both sequencing. etcd, a Raft-replicated
//! store, does: one key held under a lease names the sequencer, and the
//! signed checkpoint itself lives in etcd, replaced only by a transaction
//! that checks both that this process still holds the lease and that the
//! checkpoint is the one it last wrote. A process that lost the lease (a
//! pause longer than the lease, a partition) can never replace it, so at
//! most one checkpoint of each size is ever stored.
//!
//! Keys, under the configured prefix: `<prefix>sequencer` (the holder's
//! name, attached to its lease) and `<prefix>checkpoint` (the note).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, PutOptions, Txn, TxnOp, TxnOpResponse,
};

/// Why the lease or the checkpoint could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// etcd did not answer, or answered with an error.
    // (Not a `source`: the message says it once, an error chain again.)
    #[error("etcd at {endpoints}: {error}")]
    Etcd {
        /// The endpoints tried.
        endpoints: String,
        /// What failed.
        error: etcd_client::Error,
    },
    /// Another process holds the sequencer lease now, or replaced the
    /// checkpoint: this one must stop sequencing.
    #[error("{0}")]
    Lost(String),
    /// etcd lets a stale compare-and-swap through: it is not safe to use.
    #[error("etcd did not refuse a stale compare-and-swap: it cannot fence sequencers")]
    NotEnforced,
}

/// What a process does once it learns it lost the lease.
type OnLost = Box<dyn FnOnce(String) + Send>;

/// Whether this process still holds the lease, and what to do once it
/// learns that it does not (whoever learns it first: the renewals, or a
/// swap etcd refused).
struct Holding {
    alive: AtomicBool,
    lost: std::sync::Mutex<Option<OnLost>>,
}

impl Holding {
    fn alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// The lease is gone: `lost` is called, once.
    fn lose(&self, why: String) {
        self.alive.store(false, Ordering::SeqCst);
        if let Some(lost) = self.lost.lock().expect("lock").take() {
            lost(why);
        }
    }

    /// The lease is given up: nobody is told.
    fn release(&self) {
        self.alive.store(false, Ordering::SeqCst);
        self.lost.lock().expect("lock").take();
    }
}

/// The checkpoint etcd holds, with the revision that last changed it
/// (0: there is none yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The signed note, if any.
    pub note: Option<Vec<u8>>,
    /// Its modification revision.
    pub revision: i64,
}

/// A connection to etcd under one key prefix.
#[derive(Clone)]
pub struct Etcd {
    client: Client,
    prefix: String,
    endpoints: String,
}

impl Etcd {
    /// Connects to the cluster at `endpoints` (any member answers).
    pub async fn connect(endpoints: &[String], prefix: &str) -> Result<Etcd, LeaseError> {
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(2))
            .with_timeout(Duration::from_secs(5))
            .with_keep_alive(Duration::from_secs(2), Duration::from_secs(2));
        let joined = endpoints.join(",");
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(|error| LeaseError::Etcd {
                endpoints: joined.clone(),
                error,
            })?;
        Ok(Etcd {
            client,
            prefix: prefix.to_owned(),
            endpoints: joined,
        })
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn failed(&self, error: etcd_client::Error) -> LeaseError {
        LeaseError::Etcd {
            endpoints: self.endpoints.clone(),
            error,
        }
    }

    /// The checkpoint etcd holds.
    pub async fn checkpoint(&self) -> Result<Stored, LeaseError> {
        let response = self
            .client
            .clone()
            .get(self.key("checkpoint"), None)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(match response.kvs().first() {
            Some(kv) => Stored {
                note: Some(kv.value().to_vec()),
                revision: kv.mod_revision(),
            },
            None => Stored {
                note: None,
                revision: 0,
            },
        })
    }

    /// Waits until this process holds the sequencer lease, under the name
    /// `holder`, and keeps it alive from then on. `lost` is called once if
    /// the lease cannot be renewed before it expires.
    pub async fn acquire(
        &self,
        holder: &str,
        ttl: Duration,
        lost: impl FnOnce(String) + Send + 'static,
    ) -> Result<Lease, LeaseError> {
        let ttl_s = ttl.as_secs().max(2) as i64;
        let key = self.key("sequencer");
        let mut lost: Option<OnLost> = Some(Box::new(lost));
        let mut waited_since: Option<Instant> = None;
        loop {
            let mut client = self.client.clone();
            let lease = client
                .lease_grant(ttl_s, None)
                .await
                .map_err(|e| self.failed(e))?
                .id();
            let claim = Txn::new()
                .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(
                    key.clone(),
                    holder,
                    Some(PutOptions::new().with_lease(lease)),
                )])
                .or_else([TxnOp::get(key.clone(), None)]);
            let response = client.txn(claim).await.map_err(|e| self.failed(e))?;
            if response.succeeded() {
                let claimed = self.holder_revision(&key).await?;
                let holding = Arc::new(Holding {
                    alive: AtomicBool::new(true),
                    lost: std::sync::Mutex::new(lost.take()),
                });
                self.keep_alive(lease, ttl_s, holding.clone());
                tracing::info!(holder, lease, "holding the sequencer lease");
                return Ok(Lease {
                    etcd: self.clone(),
                    lease,
                    claimed,
                    holding,
                });
            }
            let _ = client.lease_revoke(lease).await;
            if waited_since.is_none() {
                tracing::info!(
                    "another gazette-log holds the sequencer lease; standing by until it is free"
                );
                waited_since = Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn holder_revision(&self, key: &str) -> Result<i64, LeaseError> {
        let response = self
            .client
            .clone()
            .get(key, None)
            .await
            .map_err(|e| self.failed(e))?;
        response
            .kvs()
            .first()
            .map(|kv| kv.create_revision())
            .ok_or_else(|| {
                LeaseError::Lost("the sequencer key vanished just after it was claimed".into())
            })
    }

    /// Renews the lease a third of its time to live; after a whole time to
    /// live without a renewal the lease must be taken as lost.
    fn keep_alive(&self, lease: i64, ttl_s: i64, holding: Arc<Holding>) {
        let etcd = self.clone();
        tokio::spawn(async move {
            let ttl = Duration::from_secs(ttl_s as u64);
            let mut renewed = Instant::now();
            let why = loop {
                tokio::time::sleep(ttl / 3).await;
                if !holding.alive() {
                    return; // released, or found lost by a swap
                }
                match etcd.renew(lease).await {
                    Ok(true) => renewed = Instant::now(),
                    Ok(false) => break "etcd says the sequencer lease has expired".to_owned(),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not renew the sequencer lease; retrying");
                        if renewed.elapsed() >= ttl {
                            break format!(
                                "the sequencer lease could not be renewed for {ttl_s} s ({e})"
                            );
                        }
                    }
                }
            };
            holding.lose(why);
        });
    }

    /// One renewal; `false` if the lease is gone.
    async fn renew(&self, lease: i64) -> Result<bool, LeaseError> {
        let mut client = self.client.clone();
        let (mut keeper, mut stream) = client
            .lease_keep_alive(lease)
            .await
            .map_err(|e| self.failed(e))?;
        keeper.keep_alive().await.map_err(|e| self.failed(e))?;
        match stream.message().await.map_err(|e| self.failed(e))? {
            Some(answer) => Ok(answer.ttl() > 0),
            None => Ok(false),
        }
    }

    /// Checks that etcd refuses a stale compare-and-swap: two writers race
    /// on one scratch key from the same revision; exactly one may win.
    pub async fn check_enforced(&self, holder: &str) -> Result<(), LeaseError> {
        let key = self.key(&format!("check/{holder}"));
        let mut client = self.client.clone();
        client
            .put(key.clone(), "start", None)
            .await
            .map_err(|e| self.failed(e))?;
        let revision = client
            .get(key.clone(), None)
            .await
            .map_err(|e| self.failed(e))?
            .kvs()
            .first()
            .map(|kv| kv.mod_revision())
            .unwrap_or(0);
        let swap = |value: &'static str| {
            let mut client = self.client.clone();
            let txn = Txn::new()
                .when([Compare::mod_revision(
                    key.clone(),
                    CompareOp::Equal,
                    revision,
                )])
                .and_then([TxnOp::put(key.clone(), value, None)]);
            async move { client.txn(txn).await }
        };
        let (a, b) = tokio::join!(swap("a"), swap("b"));
        let wins = [a, b]
            .into_iter()
            .map(|r| r.map(|r| r.succeeded()).map_err(|e| self.failed(e)))
            .collect::<Result<Vec<bool>, _>>()?;
        let _ = client.delete(key, None).await;
        match wins.iter().filter(|w| **w).count() {
            1 => Ok(()),
            _ => Err(LeaseError::NotEnforced),
        }
    }
}

/// The sequencer lease, held.
pub struct Lease {
    etcd: Etcd,
    lease: i64,
    /// The revision at which this process created the sequencer key: the
    /// key still has it only while this process holds the lease.
    claimed: i64,
    holding: Arc<Holding>,
}

impl Lease {
    /// The connection the lease was taken on.
    pub fn etcd(&self) -> &Etcd {
        &self.etcd
    }

    /// Replaces the checkpoint last read or written at `revision` with
    /// `note`, if this process still holds the lease; returns the new
    /// revision. Anything else is [`LeaseError::Lost`].
    pub async fn swap_checkpoint(&self, revision: i64, note: &[u8]) -> Result<i64, LeaseError> {
        if !self.holding.alive() {
            return Err(LeaseError::Lost("the sequencer lease was lost".into()));
        }
        let etcd = &self.etcd;
        let (checkpoint, sequencer) = (etcd.key("checkpoint"), etcd.key("sequencer"));
        let txn = Txn::new()
            .when([
                Compare::create_revision(sequencer.clone(), CompareOp::Equal, self.claimed),
                Compare::mod_revision(checkpoint.clone(), CompareOp::Equal, revision),
            ])
            .and_then([TxnOp::put(checkpoint.clone(), note, None)])
            .or_else([TxnOp::get(checkpoint, None), TxnOp::get(sequencer, None)]);
        let response = etcd
            .client
            .clone()
            .txn(txn)
            .await
            .map_err(|e| etcd.failed(e))?;
        if response.succeeded() {
            return Ok(response
                .header()
                .map(|h| h.revision())
                .expect("etcd answers with a header"));
        }
        // A swap retried after its answer was lost finds its own note in
        // place, under this process's lease: it won the first time.
        let found = |i: usize| match response.op_responses().get(i) {
            Some(TxnOpResponse::Get(got)) => got.kvs().first().cloned(),
            _ => None,
        };
        if let (Some(held), Some(holder)) = (found(0), found(1))
            && held.value() == note
            && holder.create_revision() == self.claimed
        {
            return Ok(held.mod_revision());
        }
        let why = "another gazette-log took the sequencer lease or replaced the checkpoint: this one stops sequencing";
        self.holding.lose(why.into());
        Err(LeaseError::Lost(why.into()))
    }

    /// Gives the lease up (a clean stop), so a standby takes over at once.
    pub async fn release(&self) {
        self.holding.release();
        let _ = self.etcd.client.clone().lease_revoke(self.lease).await;
    }
}
