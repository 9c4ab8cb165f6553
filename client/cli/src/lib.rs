//! The `gazette` command line: one tool for an agency's
//! clerk, an auditor and a monitor. Success is silent unless asked
//! (`--json`, `--verbose`); every failure prints one precise reason on
//! stderr and exits with its own code ([`Exit`]).
//!
//! Built so far: `keygen`, `record`, the offline `verify`, `submit`,
//! `checkpoint`, `inclusion`, `consistency`, `lookup`, `monitor` and `page build`.

mod http;
mod keygen;
mod monitor;
mod online;
mod page;
mod proven;
mod record;
mod submit;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit codes: each failure its own, so scripts can tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything verified / done.
    Ok = 0,
    /// A usage error or an unreadable input file.
    Usage = 2,
    /// The receipt (or another input) does not parse.
    Malformed = 3,
    /// The checkpoint is not trusted: bad log signature or quorum not met.
    Untrusted = 4,
    /// The inclusion proof does not bind the record to the checkpoint.
    NotIncluded = 5,
    /// The document's digest is not the record's.
    WrongDocument = 6,
    /// The record's agency signature does not verify, or its key is not given.
    BadRecordSignature = 7,
    /// Writing an output file failed.
    Io = 8,
    /// The log refused some records (each is named on stderr).
    Refused = 9,
    /// The log showed a rollback or a fork (the evidence is kept).
    Misbehaviour = 10,
    /// The log could not be reached or answered an error.
    Network = 11,
    /// The monitor found records by unknown keys, bad signatures or conflicts.
    Findings = 12,
    /// (`lookup`) no record matches in the trusted tree.
    NotFound = 13,
    /// (`verify --online`) the record was revoked by its issuer: proven by
    /// the log's verifiable index.
    Revoked = 14,
    /// (`verify --online`, `lookup`) no verdict could be proven: the log
    /// keeps no verifiable index (404), or cannot prove against its
    /// published checkpoint now (503). Neither "valid" nor "revoked" nor
    /// "not found" is claimed.
    Unchecked = 15,
}

/// A failure: its exit code and the reason printed.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong, in one line.
    pub reason: String,
}

impl Failure {
    fn new(exit: Exit, reason: impl Into<String>) -> Failure {
        Failure {
            exit,
            reason: reason.into(),
        }
    }
}

/// Reads a file whole, as a usage failure naming it if it cannot.
fn read_file(path: &std::path::Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!("reading the {what} {}: {e}", path.display()),
        )
    })
}

/// The `gazette` command line.
#[derive(Parser)]
#[command(
    name = "gazette",
    version,
    about = "Gazette: sign records, verify receipts, watch a log"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a key pair: the private key file (mode 0600) and the verifier key.
    Keygen(keygen::Args),
    /// Hash a document locally and write a signed record of it.
    Record(record::Args),
    /// Fetch the log's newest checkpoint, verify it and trust it.
    Checkpoint(online::CheckpointArgs),
    /// Prove that an entry (or a record file) is in the trusted tree.
    Inclusion(online::InclusionArgs),
    /// Prove that an older checkpoint (or a receipt's) is a prefix of the log.
    Consistency(online::ConsistencyArgs),
    /// Find records by document, digest or id, each proven in the trusted tree.
    Lookup(online::LookupArgs),
    /// Follow a log: check every checkpoint and every record; report per issuer.
    Monitor(monitor::Args),
    /// Upload records in bulk, resumably, with progress.
    Submit(submit::Args),
    /// Verify a receipt offline: the checkpoint under a policy, the
    /// inclusion proof, the record's signature, optionally the document.
    Verify(verify::Args),
    /// The verification page as a static folder, with its own trust root.
    #[command(subcommand)]
    Page(page::Command),
}

/// Runs the command line; returns the exit code.
pub fn main() -> u8 {
    let cli = Cli::parse();
    // One runtime for the whole run, built once: every command that reaches
    // a log awaits on it, bulk upload with many requests in flight.
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Io, format!("starting the runtime: {e}")))
        .and_then(|runtime| runtime.block_on(run(cli.command)));
    match result {
        Ok(()) => Exit::Ok as u8,
        Err(failure) => {
            eprintln!("gazette: {}", failure.reason);
            failure.exit as u8
        }
    }
}

/// Runs one command.
async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Record(args) => record::run(&args),
        Command::Verify(args) => verify::run(&args).await,
        Command::Submit(args) => submit::run(&args).await,
        Command::Checkpoint(args) => online::checkpoint(&args).await,
        Command::Inclusion(args) => online::inclusion(&args).await,
        Command::Monitor(args) => monitor::run(&args).await,
        Command::Consistency(args) => online::consistency(&args).await,
        Command::Lookup(args) => online::lookup(&args).await,
        Command::Page(command) => page::run(&command),
    }
}

/// Where an output goes: a file (written atomically) or standard output.
fn write_output(path: Option<&PathBuf>, bytes: &[u8]) -> Result<(), Failure> {
    match path {
        Some(path) => gazette_kit::durable::write_file(path, bytes, None)
            .map_err(|e| Failure::new(Exit::Io, format!("writing {}: {e}", path.display()))),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(bytes)
                .map_err(|e| Failure::new(Exit::Io, format!("writing to standard output: {e}")))
        }
    }
}

/// The `--agency` verifier keys given on the command line.
pub fn agency_keys(given: &[String]) -> Result<Vec<gazette_client::note::Verifier>, Failure> {
    given
        .iter()
        .map(|v| {
            gazette_client::note::Verifier::parse(v)
                .map_err(|e| Failure::new(Exit::Usage, format!("--agency {v:?}: {e}")))
        })
        .collect()
}
