//! `gazette-log`: set up, run and maintain a Gazette log.

/// The server allocates per request and per record; with glibc malloc,
/// allocation was a third of the sequencer thread's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use gazette_client::note::{KeyType, Signer, Verifier};
use gazette_kit::durable;
use gazette_log::config::{CONFIG_FILE, Config};
use gazette_log::index::{LookupIndex, RecordIndex};
use gazette_log::log::{self, Log};
use gazette_log::storage::{CHECKPOINT, FsStorage, Storage};
use gazette_log::{agencies, api};

#[derive(Parser)]
#[command(
    name = "gazette-log",
    version,
    about = "A Gazette verifiable public-record log"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
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

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
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
    }
}

fn init(origin: &str, dir: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    let config_path = dir.join(CONFIG_FILE);
    if config_path.exists() {
        bail!(
            "{} exists: this directory already holds a log",
            config_path.display()
        );
    }
    let key = Signer::generate(origin, KeyType::Ed25519, &mut rand_core::OsRng)
        .with_context(|| format!("{origin:?} cannot be a log origin"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    durable::write_file(
        &dir.join("log.key"),
        format!("{}\n", key.to_skey()).as_bytes(),
        Some(0o600),
    )?;
    durable::write_file(
        &config_path,
        Config::template(origin, listen).as_bytes(),
        None,
    )?;
    println!("created the log {origin} in {}", dir.display());
    println!("log verifier key: {}", key.verifier());
    println!(
        "next: gazette-log agency add <agency vkey> --dir {0}; gazette-log serve --dir {0}",
        dir.display()
    );
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
    Config::load(dir)?;
    let _lock = log::lock_data_dir(dir)?;
    let storage = FsStorage::open(dir)?;
    let size = current_size(dir)?;
    RecordIndex::rebuild(&dir.join(log::RECORD_INDEX_DIR), &storage, size)?;
    LookupIndex::rebuild(&dir.join(log::LOOKUP_INDEX_DIR), &storage, size)?;
    println!("reindexed {size} entries");
    Ok(())
}

fn serve(dir: &Path, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let log = Arc::new(Log::open(dir)?);
    let addr = listen.unwrap_or(log.config.listen);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let bound = listener.local_addr()?;
        tracing::info!(origin = %log.config.origin, size = log.published().size, "serving");
        // Tests and scripts read this line to find the port.
        println!("gazette-log listening on http://{bound}");
        log.start_witnessing();
        let app = api::router(log.clone());
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        log.index.flush()?;
        log.lookup.flush()?;
        anyhow::Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM (what systemd sends to stop a service).
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
