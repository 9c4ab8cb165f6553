//! `gazette-witness`: set up and run a c2sp.org/tlog-witness node.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;
use gazette_client::note::Verifier;
use gazette_kit::takeover::{self, Takeover};
use gazette_kit::{init, serve};
use gazette_witness::config::{Config, DAEMON};
use gazette_witness::state::StateDir;
use gazette_witness::witness::Witness;
use gazette_witness::{api, logs};

/// Small allocations on every request; mimalloc keeps them cheap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A witness for transparency logs (c2sp.org/tlog-witness): it cosigns a
/// log's checkpoint only if it extends the last one it cosigned, and never
/// cosigns two different trees of the same size.
#[derive(Parser)]
#[command(version)]
enum Command {
    /// Create a witness: its cosigning key (mode 0600) and a commented configuration.
    Init {
        /// The witness's name (its key's name), e.g. `witness.example.org`.
        #[arg(long)]
        name: String,
        /// The data directory to create.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Where the API will listen.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
    },
    /// Follow a log: cosign its checkpoints from now on.
    AddLog {
        /// The log's origin (the name of its key).
        #[arg(long)]
        origin: String,
        /// The log's verifier key (`origin+keyid+base64`).
        #[arg(long)]
        vkey: String,
        /// The witness's data directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// List the followed logs and the size last cosigned for each.
    ListLogs {
        /// The witness's data directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Run the witness until Ctrl-C or SIGTERM.
    Serve {
        /// The witness's data directory.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Listen here instead of the configured address.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
}

fn main() -> std::process::ExitCode {
    serve::init_tracing();
    let result = match Command::parse() {
        Command::Init { name, dir, listen } => init(&name, &dir, listen),
        Command::AddLog { origin, vkey, dir } => add_log(&origin, &vkey, &dir),
        Command::ListLogs { dir } => list_logs(&dir),
        Command::Serve { dir, listen } => serve(&dir, listen),
    };
    serve::exit_code(DAEMON.program, result.map_err(|e| format!("{e:#}")))
}

fn init(name: &str, dir: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    let key = init::create(&DAEMON, name, dir, &Config::template(name, listen))?;
    let next = ["add-log --origin <origin> --vkey <log vkey>", "serve"];
    print!("{}", init::report(&DAEMON, name, dir, &key, &next));
    Ok(())
}

fn add_log(origin: &str, vkey: &str, dir: &Path) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    let key = Verifier::parse(vkey).with_context(|| format!("{vkey:?} is not a verifier key"))?;
    if key.name() != origin {
        bail!(
            "the key is named {:?} but the origin is {origin:?}: a log's checkpoint key is named after its origin",
            key.name()
        );
    }
    if logs::add(&dir.join(&config.logs_file), &key)? {
        println!("following {origin}; restart `gazette-witness serve` to take it up");
    } else {
        println!("{origin} is already followed with this key");
    }
    Ok(())
}

/// Reads the logs and their states without opening the witness: a running
/// witness may be writing its state meanwhile (its temporary files are
/// its own to clean up).
fn list_logs(dir: &Path) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    let logs = logs::load(&dir.join(&config.logs_file))?;
    let stored = StateDir::open(dir)?.load_all(&logs)?;
    for log in &logs {
        let size = stored
            .iter()
            .find(|s| s.origin == log.name())
            .map_or(0, |s| s.state.size);
        println!("{}\t{size}\t{log}", log.name());
    }
    Ok(())
}

fn serve(dir: &Path, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let witness = Arc::new(match takeover::read_only(dir) {
        Some(why) => {
            tracing::warn!("{why}; serving reads only");
            Witness::open_read_only(dir, why)?
        }
        None => Witness::open(dir)?,
    });
    let addr = listen.unwrap_or(witness.config.listen);
    serve::serve(DAEMON.program, addr, |listener| async move {
        tracing::info!(witness = %witness.verifier, logs = witness.logs().len(), "serving");
        println!("witness verifier key: {}", witness.verifier);
        let connections = witness.config.connections.clone();
        let router = api::router(witness.clone());
        // Kept until the end: a replaced witness's log threads finish
        // their groups when it is dropped.
        let serving = Takeover::new(witness.clone(), router.clone());
        let router = match witness.read_only {
            None => router,
            Some(_) => {
                serving.once_writable(
                    dir.to_owned(),
                    |dir| Witness::open(dir).map_err(|e| format!("{e:#}")),
                    |_| {},
                    api::router,
                );
                serving.router()
            }
        };
        drop(witness);
        gazette_kit::http::serve_http(
            listener,
            router,
            None,
            &connections,
            serve::shutdown_signal(),
        )
        .await;
        anyhow::Ok(())
    })
}
