//! `gazette-log`: set up, run and maintain a Gazette log.

/// The server allocates per request and per record; with glibc malloc,
/// allocation was a third of the sequencer thread's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gazette_client::note::Verifier;
use gazette_client::registry::{Action, RegistryEntry, SignedRegistryEntry};
use gazette_kit::takeover::{self, Takeover};
use gazette_kit::{init, serve};
use gazette_log::config::{Config, DAEMON};
use gazette_log::index::{Digests, LookupIndex, RecordIndex};
use gazette_log::log::{self, Log};
use gazette_log::registry::RegistryOutcome;
use gazette_log::storage::{CHECKPOINT, FsStorage, ObjectStorage, Storage, object};
use gazette_log::{agencies, api};

#[derive(Parser)]
#[command(
    name = "gazette-log",
    version,
    about = "A Gazette verifiable public-record log"
)]
enum Command {
    /// Create a log: its signing key (mode 0600) and a commented configuration.
    Init {
        /// The log's origin, e.g. gazette.example.gov/records.
        #[arg(long)]
        origin: String,
        /// The data directory to create.
        #[arg(long, env = "GAZETTE_LOG_DIR")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Register, retire or list the agencies' keys: each change is logged
    /// as a registry entry, for anyone to verify.
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// Run the log's HTTP API.
    ///
    /// With `[object_store]` and `[lock]` configured, the log sequences
    /// once it holds the lease on etcd and serves reads from the bucket as
    /// a standby until then; several may run, one sequences.
    Serve {
        /// The data directory.
        #[arg(long, env = "GAZETTE_LOG_DIR")]
        dir: PathBuf,
        /// Listen here instead of the configured address (port 0: any free port).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Serve the read API of the log in `[object_store]`, following
        /// the bucket, and never sequence (a read replica; it needs no key
        /// file, only `log_vkey`).
        #[arg(long)]
        replica: bool,
    },
    /// Rebuild the lookup indexes from the tiles.
    Reindex {
        /// The data directory.
        #[arg(long, env = "GAZETTE_LOG_DIR")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Register an agency's record-signing key. An agency that has a
    /// current key registers another (a rotation) with a request it
    /// signed with that key (`--request`).
    Add {
        #[command(flatten)]
        change: Change,
    },
    /// Retire an agency key: records it signs from now on are refused and
    /// invalid; earlier ones stay valid. Needs a request the agency signed
    /// with one of its current keys (`--request`).
    Retire {
        #[command(flatten)]
        change: Change,
    },
    /// Declare an agency key compromised: records it signed from `--from`
    /// on (default: now) are invalid, earlier ones stay valid. The log's
    /// signature suffices: the agency may have lost its keys.
    Compromised {
        #[command(flatten)]
        change: Change,
        /// The first log index whose records under the key are not to be
        /// trusted (at most the log's size).
        #[arg(long)]
        from: Option<u64>,
    },
    /// List the agencies' current keys.
    List {
        /// The data directory.
        #[arg(long, env = "GAZETTE_LOG_DIR")]
        dir: PathBuf,
    },
}

/// One registry change: the key, or the agency's signed request naming it.
#[derive(clap::Args)]
struct Change {
    /// The agency key's vkey (`name+keyid+base64`).
    #[arg(required_unless_present = "request", conflicts_with = "request")]
    vkey: Option<String>,
    /// The change as the agency signed it (a `gazette.agency/v1` note,
    /// made with `gazette agency-request`); the log adds its signature.
    #[arg(long)]
    request: Option<PathBuf>,
    /// The running log's URL, when it does not listen where its
    /// configuration says (a port chosen at start, another machine).
    #[arg(long)]
    url: Option<String>,
    /// The data directory.
    #[arg(long, env = "GAZETTE_LOG_DIR")]
    dir: PathBuf,
}

fn main() -> std::process::ExitCode {
    serve::init_tracing();
    let result = match Command::parse() {
        Command::Init {
            origin,
            dir,
            listen,
        } => init(&origin, &dir, listen),
        Command::Agency {
            command: AgencyCommand::Add { change },
        } => registry_change(&change, Action::Register, None),
        Command::Agency {
            command: AgencyCommand::Retire { change },
        } => registry_change(&change, Action::Retire, None),
        Command::Agency {
            command: AgencyCommand::Compromised { change, from },
        } => registry_change(&change, Action::Compromised, from),
        Command::Agency {
            command: AgencyCommand::List { dir },
        } => agency_list(&dir),
        Command::Serve {
            dir,
            listen,
            replica,
        } => serve(&dir, listen, replica),
        Command::Reindex { dir } => reindex(&dir),
    };
    serve::exit_code(DAEMON.program, result.map_err(|e| format!("{e:#}")))
}

fn init(origin: &str, dir: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    let key = init::create(&DAEMON, origin, dir, &Config::template(origin, listen))?;
    let next = ["agency add <agency vkey>", "serve"];
    print!("{}", init::report(&DAEMON, origin, dir, &key, &next));
    Ok(())
}

/// The log's tree store, to read: the data directory, or the bucket.
fn tree_reader(config: &Config, dir: &Path) -> anyhow::Result<Arc<dyn Storage>> {
    Ok(match &config.object_store {
        None => Arc::new(FsStorage::open(dir)?),
        Some(store) => Arc::new(ObjectStorage::open_reader(
            object::clients(store)?,
            &store.prefix,
        )?),
    })
}

fn current_size(config: &Config, dir: &Path) -> anyhow::Result<u64> {
    let storage = tree_reader(config, dir)?;
    Ok(match storage.read(CHECKPOINT)? {
        None => 0,
        Some(note) => {
            let note = gazette_client::note::Note::parse(&note)
                .context("reading the stored checkpoint")?;
            gazette_client::checkpoint::Checkpoint::parse(&note.text)?.size
        }
    })
}

/// Logs one registry change, signed with the log's key: through the
/// running log, or, when none runs on the data directory, by opening the
/// log here for as long as it takes.
fn registry_change(change: &Change, action: Action, from: Option<u64>) -> anyhow::Result<()> {
    let dir = &change.dir;
    let config = Config::load(dir)?;
    let key = log::read_key(&config, dir)?;
    let signed = match (&change.vkey, &change.request) {
        (Some(vkey), _) => {
            let agency_key =
                Verifier::parse(vkey).with_context(|| format!("{vkey:?} is not a verifier key"))?;
            agencies::check_key(&agency_key).map_err(anyhow::Error::msg)?;
            RegistryEntry {
                log: config.origin.clone(),
                agency: agency_key.name().to_owned(),
                action,
                key: agency_key,
                from,
                time: gazette_kit::now_rfc3339(),
            }
            .sign(&[&key])?
        }
        (None, Some(path)) => signed_request(path, &key, action, from)?,
        (None, None) => anyhow::bail!("name the key, or give the agency's --request"),
    };
    let e = &signed.entry;
    let answer = match (change.url.as_deref(), log::lock_data_dir(dir)) {
        (None, Ok(lock)) => {
            drop(lock);
            if config.object_store.is_some() {
                anyhow::bail!(
                    "this log keeps its tree in a bucket: start it (gazette-log serve) and give its --url"
                );
            }
            log_here(dir, signed.clone())?
        }
        (url, _) => {
            let url = match url {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None if config.listen.port() == 0 => {
                    anyhow::bail!("the log runs, on a port chosen at its start: give its --url")
                }
                None => format!("http://{}", loopback(config.listen)),
            };
            post_registry(&url, &signed)?
        }
    };
    let key_label = format!("{}+{:08x}", e.key.name(), e.key.key_id());
    match answer {
        RegistryOutcome::Logged { index } => {
            println!(
                "logged at index {index}: {} {} {key_label}{}",
                e.agency,
                e.action.word(),
                e.from
                    .map(|f| format!(" from index {f}"))
                    .unwrap_or_default()
            );
            Ok(())
        }
        RegistryOutcome::Refused(why) => anyhow::bail!("refused: {why}"),
    }
}

/// The change the agency signed (`path`), with the log's signature added
/// after checking it says what the command does.
fn signed_request(
    path: &Path,
    key: &gazette_client::note::Signer,
    action: Action,
    from: Option<u64>,
) -> anyhow::Result<SignedRegistryEntry> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let request = SignedRegistryEntry::parse(&bytes)
        .with_context(|| format!("{} is not a signed registry entry", path.display()))?;
    let e = &request.entry;
    if e.action != action || e.log != key.name() || (from.is_some() && e.from != from) {
        anyhow::bail!(
            "{} asks to {} {} in log {}{}: not what this command does",
            path.display(),
            e.action.word(),
            e.key,
            e.log,
            e.from.map(|f| format!(" from {f}")).unwrap_or_default()
        );
    }
    let signature = key.sign_text(&request.text)?;
    request
        .with_signature(signature)
        .ok_or_else(|| anyhow::anyhow!("{} is signed by the log's key already", path.display()))
}

/// The address to reach a server listening on `addr` from this machine.
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr.ip().is_unspecified() {
        true => SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port()),
        false => addr,
    }
}

/// Logs `signed` by opening the log in `dir` (no other process has it).
fn log_here(dir: &Path, signed: SignedRegistryEntry) -> anyhow::Result<RegistryOutcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let log = Log::open(dir)?;
        let answer = log.sequencer.submit_registry(signed).await;
        close(&log)?;
        Ok(answer?)
    })
}

/// Logs `signed` through the log running at `url`.
fn post_registry(url: &str, signed: &SignedRegistryEntry) -> anyhow::Result<RegistryOutcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let response = client
            .post(format!("{url}/registry"))
            .body(signed.bytes.clone())
            .send()
            .await
            .with_context(|| {
                format!(
                    "sending the change to the log at {url} (a log runs on this data directory: give its --url if it listens elsewhere)"
                )
            })?;
        let status = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .with_context(|| format!("the log at {url} answered {status} without JSON"))?;
        match (status.as_u16(), body["index"].as_u64()) {
            (200, Some(index)) => Ok(RegistryOutcome::Logged { index }),
            _ => anyhow::bail!(
                "the log at {url} answered {status}: {}",
                body["error"].as_str().unwrap_or("(no reason given)")
            ),
        }
    })
}

fn agency_list(dir: &Path) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    for agency in agencies::load(&dir.join(&config.agencies_file))? {
        println!(
            "{}\t{}\tsince {}",
            agency.key.name(),
            agency.key,
            agency.since
        );
    }
    Ok(())
}

fn reindex(dir: &Path) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    let _lock = log::lock_data_dir(dir)?;
    let storage = tree_reader(&config, dir)?;
    let storage = storage.as_ref();
    let size = current_size(&config, dir)?;
    RecordIndex::rebuild(&dir.join(log::RECORD_INDEX_DIR), storage, size, ())?;
    LookupIndex::rebuild(
        &dir.join(log::LOOKUP_INDEX_DIR),
        storage,
        size,
        Digests::of(&config),
    )?;
    // The verifiable index, rebuilt from the entries to the roots the
    // tree's last commitment names (a mismatch is an error).
    let map_dir = dir.join(gazette_log::map::MAP_DIR);
    if map_dir.exists() {
        std::fs::remove_dir_all(&map_dir)?;
    }
    let nobody = gazette_log::checkpoints::latest(gazette_log::checkpoints::WitnessedCheckpoint {
        size: 0,
        root: gazette_client::merkle::empty_root(),
        note: Vec::new(),
    });
    let map = gazette_log::map::Map::open(dir, storage, size, nobody)?;
    println!(
        "reindexed {size} entries; verifiable index: {} segments (each root checked against the last commitment, if any)",
        map.segments().len()
    );
    Ok(())
}

fn serve(dir: &Path, listen: Option<SocketAddr>, replica: bool) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    match (&config.object_store, &config.lock, replica) {
        (None, _, true) => anyhow::bail!(
            "--replica follows a log in a bucket: {} has no [object_store]",
            dir.join(gazette_log::config::CONFIG_FILE).display()
        ),
        (None, _, false) => serve_local(dir, listen),
        (Some(_), _, true) => serve_replica(dir, config, listen),
        (Some(_), None, false) => anyhow::bail!(
            "{}: a log on [object_store] needs [lock] (etcd) to sequence, or --replica to only serve reads",
            dir.join(gazette_log::config::CONFIG_FILE).display()
        ),
        (Some(_), Some(_), false) => serve_distributed(dir, config, listen),
    }
}

fn serve_local(dir: &Path, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let log = Arc::new(match takeover::read_only(dir) {
        Some(why) => {
            tracing::warn!("{why}; serving reads only");
            Log::open_read_only(dir, why)?
        }
        None => Log::open(dir)?,
    });
    let addr = listen.unwrap_or(log.config.listen);
    serve::serve(DAEMON.program, addr, |listener| async move {
        tracing::info!(origin = %log.config.origin, size = log.published().size, "serving");
        let router = api::router(log.clone());
        let serving = Takeover::new(log.clone(), router.clone());
        // Only a read-only log is served through the takeover's router (one
        // more hop per request); a writable one is never replaced.
        let router = match log.read_only {
            None => router,
            Some(_) => {
                serving.once_writable(
                    dir.to_owned(),
                    |dir| Log::open(dir).map_err(|e| format!("{e:#}")),
                    Log::start_witnessing,
                    api::router,
                );
                serving.router()
            }
        };
        log.start_witnessing();
        let connections = log.config.connections.clone();
        drop(log);
        let current = serving.clone();
        serve_http(
            listener,
            router,
            move || Some(current.current()),
            &connections,
        )
        .await;
        close(&serving.current())
    })
}

/// Serves `router` on `listener` until a stop, each connection's tile
/// requests answered first by the fast lane from the log `current` gives.
async fn serve_http(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    current: impl Fn() -> Option<Arc<Log>> + Send + Sync + 'static,
    connections: &gazette_kit::http::Connections,
) {
    let lane = Arc::new(api::TileLane::new(current));
    gazette_kit::http::serve_http(
        listener,
        router,
        Some(lane),
        connections,
        serve::shutdown_signal(),
    )
    .await;
}

/// What a stop does to the log being served: a commit the storage keeps
/// refusing is not retried past it, and the indexes are flushed.
fn close(log: &Log) -> anyhow::Result<()> {
    log.sequencer.shut_down();
    if let Some(index) = &log.index {
        index.flush()?;
    }
    if let Some(lookup) = &log.lookup {
        lookup.flush()?;
    }
    Ok(())
}

/// A read replica of the log in the bucket.
fn serve_replica(dir: &Path, config: Config, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let storage = tree_reader(&config, dir)?;
    let why = "this is a read replica: writes go to the sequencer".to_owned();
    let log = Arc::new(Log::open_replica(dir, config, storage, why, true)?);
    let addr = listen.unwrap_or(log.config.listen);
    serve::serve(DAEMON.program, addr, |listener| async move {
        tracing::info!(origin = %log.config.origin, size = log.published().size, "serving a replica");
        log.start_following();
        let router = api::router(log.clone());
        let connections = log.config.connections.clone();
        let served = log.clone();
        serve_http(listener, router, move || Some(served.clone()), &connections).await;
        close(&log)
    })
}

/// A log on the bucket that sequences while it holds the lease on etcd,
/// serving reads as a standby (a replica without lookups) until then, or
/// answering 503 while the bucket holds no checkpoint to serve.
fn serve_distributed(dir: &Path, config: Config, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let addr = listen.unwrap_or(config.listen);
    let why = "this log is a standby: another gazette-log holds the sequencer lease".to_owned();
    let standby = match Log::open_replica(
        dir,
        config.clone(),
        tree_reader(&config, dir)?,
        why.clone(),
        false,
    ) {
        Ok(log) => Some(Arc::new(log)),
        Err(e) => {
            tracing::info!("no reads to serve while standing by: {e:#}");
            None
        }
    };
    let holder: Arc<std::sync::OnceLock<Arc<ObjectStorage>>> = Default::default();
    let connections = config.connections.clone();
    let dir = dir.to_owned();
    let held = holder.clone();
    serve::serve(DAEMON.program, addr, |listener| async move {
        let sequencing = move || -> anyhow::Result<Log> {
            let store = config.object_store.as_ref().expect("checked");
            let lock = config.lock.as_ref().expect("checked");
            let storage = Arc::new(ObjectStorage::open_sequencer(
                object::clients(store)?,
                &store.prefix,
                (&lock.etcd_endpoints, &lock.prefix(&config.origin)),
                std::time::Duration::from_secs(lock.lease_ttl_s),
                |why| {
                    // Another process may be sequencing now: stop at once,
                    // before this one's batches go anywhere.
                    tracing::error!("{why}; stopping");
                    eprintln!("gazette-log: {why}; stopping");
                    std::process::exit(3);
                },
            )?);
            let _ = held.set(storage.clone());
            Log::open_with(&dir, config.clone(), storage)
        };
        let router = match &standby {
            Some(replica) => {
                replica.start_following();
                api::router(replica.clone())
            }
            None => api::unavailable(format!("{why}, and the bucket holds no checkpoint yet")),
        };
        let serving = Takeover::new(Arc::new(standby), router);
        let takeover = serving.clone();
        tokio::spawn(async move {
            match tokio::task::spawn_blocking(sequencing).await {
                Ok(Ok(log)) => {
                    log.start_witnessing();
                    let log = Arc::new(log);
                    tracing::warn!(
                        size = log.committed().size,
                        "holding the sequencer lease: sequencing"
                    );
                    takeover.replace(Arc::new(Some(log.clone())), api::router(log));
                }
                Ok(Err(e)) => {
                    tracing::error!("could not become the sequencer: {e:#}");
                    eprintln!("gazette-log: could not become the sequencer: {e:#}");
                    std::process::exit(1);
                }
                Err(e) => panic!("becoming the sequencer: {e}"),
            }
        });
        let current = serving.clone();
        let router = serving.router();
        serve_http(
            listener,
            router,
            move || current.current().as_ref().clone(),
            &connections,
        )
        .await;
        if let Some(log) = serving.current().as_ref() {
            close(log)?;
        }
        // A clean stop hands the lease over at once.
        if let Some(storage) = holder.get() {
            storage.release();
        }
        anyhow::Ok(())
    })
}
