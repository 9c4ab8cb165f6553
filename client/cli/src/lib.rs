//! The `gazette` command line: one tool for an agency's
//! clerk, an auditor and a monitor. Every verb ends a success with one
//! line saying what it did (`-q` silences it, `-v` adds what was checked,
//! `--json` prints one JSON object of machine values instead); every
//! failure prints one precise reason on stderr and exits with its own code
//! ([`Exit`]). What must be remembered between runs (the trusted checkpoint
//! of each log, evidence, a monitor's progress, an upload's resume file)
//! lives in a state directory ([`state`]), never in the working directory.
//!
//! Built so far: `keygen`, `record`, the offline `verify`, `submit`,
//! `checkpoint`, `inclusion`, `consistency`, `lookup`, `monitor`,
//! `certificate`, `page build`, `completions` and `man`.

mod agency_request;
mod certificate;
mod docs;
mod http;
mod keygen;
mod monitor;
mod online;
mod page;
mod proven;
mod record;
mod state;
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
    /// (`submit`) stopped by Ctrl-C (128 + SIGINT, as shells report it);
    /// the resume file says what is done.
    Interrupted = 130,
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
    #[command(flatten)]
    output: Output,
}

/// What a successful run prints, the same for every verb.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Output {
    /// Print nothing on success (failures still go to standard error).
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print what was checked and where state is kept.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Print the result as one JSON object on standard output: machine
    /// values only (numbers, RFC 3339 times, fixed words).
    #[arg(long, global = true)]
    pub json: bool,
}

impl Output {
    /// A line for people: the summary of a success, or a result line
    /// (not with `--quiet` or `--json`).
    pub fn line(&self, line: impl std::fmt::Display) {
        if !self.quiet && !self.json {
            println!("{line}");
        }
    }

    /// A detail for `--verbose` (not with `--json`).
    pub fn detail(&self, line: impl std::fmt::Display) {
        if self.verbose && !self.json {
            println!("{line}");
        }
    }

    /// The machine-readable result, with `--json`.
    pub fn json(&self, value: &serde_json::Value) {
        if self.json {
            println!("{value}");
        }
    }

    /// Whether people's lines are printed at all.
    pub fn human(&self) -> bool {
        !self.quiet && !self.json
    }
}

/// `n` in groups of three digits separated by spaces (`10 000`), as
/// people read counts.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun, singular or plural: `1 revocation`, `2 revocations`,
/// `10 000 records`.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    // entry → entries, key → keys, hash → hashes
    let stem = &noun[..noun.len().saturating_sub(1)];
    if noun.ends_with('y') && !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
        format!("{} {stem}ies", count(n))
    } else if noun.ends_with(['s', 'x', 'z']) || noun.ends_with("sh") || noun.ends_with("ch") {
        format!("{} {noun}es", count(n))
    } else {
        format!("{} {noun}s", count(n))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Make a key pair: the private key file (mode 0600) and the verifier key.
    Keygen(keygen::Args),
    /// Hash a document locally and write a signed record of it.
    Record(record::Args),
    /// Sign a request to register another key of your agency, or retire
    /// one, in a log's registry (the log's operator logs it).
    AgencyRequest(agency_request::Args),
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
    /// Print an evidence certificate (PDF, with a QR code) of a receipt,
    /// or of every receipt in a folder.
    Certificate(certificate::Args),
    /// The verification page as a static folder, with its own trust root.
    #[command(subcommand)]
    Page(page::Command),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the man page, or write one per command into a folder.
    Man(docs::ManArgs),
}

/// The command line's clap definition: for completions and man pages.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
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
        .and_then(|runtime| runtime.block_on(run(cli.command, cli.output)));
    match result {
        Ok(()) => Exit::Ok as u8,
        Err(failure) => {
            eprintln!("gazette: {}", failure.reason);
            failure.exit as u8
        }
    }
}

/// Runs one command.
async fn run(command: Command, out: Output) -> Result<(), Failure> {
    match command {
        Command::Keygen(args) => keygen::run(&args, out),
        Command::Record(args) => record::run(&args, out),
        Command::AgencyRequest(args) => agency_request::run(&args, out),
        Command::Verify(args) => verify::run(&args, out).await,
        Command::Submit(args) => submit::run(&args, out).await,
        Command::Checkpoint(args) => online::checkpoint(&args, out).await,
        Command::Inclusion(args) => online::inclusion(&args, out).await,
        Command::Monitor(args) => monitor::run(&args, out).await,
        Command::Consistency(args) => online::consistency(&args, out).await,
        Command::Lookup(args) => online::lookup(&args, out).await,
        Command::Certificate(args) => certificate::run(&args, out),
        Command::Page(command) => page::run(&command, out),
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args, out),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_and_nouns_agree_with_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(10_000), "10 000");
        assert_eq!(count(1_234_567), "1 234 567");
        assert_eq!(plural(1, "revocation"), "1 revocation");
        assert_eq!(plural(2, "revocation"), "2 revocations");
        assert_eq!(plural(0, "record"), "0 records");
        assert_eq!(plural(10_000, "record"), "10 000 records");
        assert_eq!(plural(3, "entry"), "3 entries");
        assert_eq!(plural(2, "key"), "2 keys");
        assert_eq!(plural(2, "proof hash"), "2 proof hashes");
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        command().debug_assert();
    }
}
