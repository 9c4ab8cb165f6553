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
use gazette_kit::takeover::{self, Takeover};
use gazette_kit::{init, serve};
use gazette_log::config::{Config, DAEMON};
use gazette_log::index::{Digests, LookupIndex, RecordIndex};
use gazette_log::log::{self, Log};
use gazette_log::storage::{CHECKPOINT, FsStorage, Storage};
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
    /// Register or list the agencies whose records the log accepts.
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// Run the log's HTTP API.
    Serve {
        /// The data directory.
        #[arg(long, env = "GAZETTE_LOG_DIR")]
        dir: PathBuf,
        /// Listen here instead of the configured address (port 0: any free port).
        #[arg(long)]
        listen: Option<SocketAddr>,
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
    /// Register an agency's record-signing verifier key.
    Add {
        /// The agency's vkey (`name+keyid+base64`).
        vkey: String,
        /// The data directory.
        #[arg(long, env = "GAZETTE_LOG_DIR")]
        dir: PathBuf,
    },
    /// List the registered agencies.
    List {
        /// The data directory.
        #[arg(long, env = "GAZETTE_LOG_DIR")]
        dir: PathBuf,
    },
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
            command: AgencyCommand::Add { vkey, dir },
        } => agency_add(&vkey, &dir),
        Command::Agency {
            command: AgencyCommand::List { dir },
        } => agency_list(&dir),
        Command::Serve { dir, listen } => serve(&dir, listen),
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

fn current_size(dir: &Path) -> anyhow::Result<u64> {
    let storage = FsStorage::open(dir)?;
    Ok(match storage.read(CHECKPOINT)? {
        None => 0,
        Some(note) => {
            let note = gazette_client::note::Note::parse(&note)
                .context("reading the stored checkpoint")?;
            gazette_client::checkpoint::Checkpoint::parse(&note.text)?.size
        }
    })
}

fn agency_add(vkey: &str, dir: &Path) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    let key = Verifier::parse(vkey).with_context(|| format!("{vkey:?} is not a verifier key"))?;
    agencies::check_key(&key).map_err(anyhow::Error::msg)?;
    let since = current_size(dir)?;
    if agencies::add(&dir.join(&config.agencies_file), &key, since)? {
        println!("registered {} (records from log size {since})", key.name());
    } else {
        println!("{} is already registered", key.name());
    }
    Ok(())
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
    let storage = FsStorage::open(dir)?;
    let size = current_size(dir)?;
    RecordIndex::rebuild(&dir.join(log::RECORD_INDEX_DIR), &storage, size, ())?;
    LookupIndex::rebuild(
        &dir.join(log::LOOKUP_INDEX_DIR),
        &storage,
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
    let map = gazette_log::map::Map::open(dir, &storage, size, nobody)?;
    println!(
        "reindexed {size} entries; verifiable index: {} segments (each root checked against the last commitment, if any)",
        map.segments().len()
    );
    Ok(())
}

fn serve(dir: &Path, listen: Option<SocketAddr>) -> anyhow::Result<()> {
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
        gazette_kit::http::serve_http(listener, router, &connections, serve::shutdown_signal())
            .await;
        let log = serving.current();
        // A commit the storage keeps refusing is not retried past a stop.
        log.sequencer.shut_down();
        if let Some(index) = &log.index {
            index.flush()?;
        }
        if let Some(lookup) = &log.lookup {
            lookup.flush()?;
        }
        anyhow::Ok(())
    })
}
