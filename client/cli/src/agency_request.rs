//! `gazette agency-request`: an agency's signed request for a change to
//! its keys in a log's registry (`gazette_client::registry`). Registering
//! another key (a rotation) and retiring one need the agency's own
//! signature beside the log's: the agency signs the entry here, with one
//! of its current keys, and the log's operator logs it
//! (`gazette-log agency add|retire --request <file>`), adding the log's.

use std::path::PathBuf;

use gazette_client::note::Verifier;
use gazette_client::registry::{Action, RegistryEntry};

use super::{Exit, Failure, Output, write_output};

/// What the agency asks for.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Requested {
    /// Register another key of the agency.
    Register,
    /// Retire one of its keys.
    Retire,
}

/// `gazette agency-request <register|retire> <vkey> --key <file> --log <origin>`.
#[derive(clap::Args)]
pub struct Args {
    /// What to ask for.
    #[arg(value_enum)]
    action: Requested,
    /// The key concerned: the new one to register, or the one to retire.
    vkey: String,
    /// One of the agency's current keys (its private key file), to sign with.
    #[arg(long)]
    key: PathBuf,
    /// The origin of the log whose registry changes (the first line of its checkpoints).
    #[arg(long)]
    log: String,
    /// Where to write the signed request; default: standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &Args, out: Output) -> Result<(), Failure> {
    let signer = super::record::read_signer(&args.key)?;
    let key = Verifier::parse(&args.vkey)
        .map_err(|e| Failure::new(Exit::Usage, format!("{:?}: {e}", args.vkey)))?;
    if key.name() != signer.name() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{} is a key of {}, and {} one of {}: an agency asks about its own keys",
                args.vkey,
                key.name(),
                args.key.display(),
                signer.name()
            ),
        ));
    }
    let entry = RegistryEntry {
        log: args.log.clone(),
        agency: signer.name().to_owned(),
        action: match args.action {
            Requested::Register => Action::Register,
            Requested::Retire => Action::Retire,
        },
        key,
        from: None,
        time: gazette_kit::now_rfc3339(),
    };
    let signed = entry
        .sign(&[&signer])
        .map_err(|e| Failure::new(Exit::Usage, e.to_string()))?;
    write_output(args.out.as_ref(), &signed.bytes)?;
    if let Some(path) = &args.out
        && !out.quiet
    {
        eprintln!(
            "wrote {}: give it to the log's operator (gazette-log agency {} --request {})",
            path.display(),
            if matches!(args.action, Requested::Register) {
                "add"
            } else {
                "retire"
            },
            path.display()
        );
    }
    Ok(())
}
