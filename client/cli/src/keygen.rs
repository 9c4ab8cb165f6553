//! `gazette keygen`: a new key pair in files.

use std::path::PathBuf;

use gazette_client::note::{KeyType, Signer};

use super::{Exit, Failure};

/// `gazette keygen --name <n> [--cosigner] [--out <prefix>]`.
#[derive(clap::Args)]
pub struct Args {
    /// The key's name: an agency's name (it goes in every record's
    /// `issuer`), or a witness's.
    #[arg(long)]
    name: String,
    /// A witness cosigning key (type 0x04) instead of a signing key.
    #[arg(long)]
    cosigner: bool,
    /// Files `<out>.key` (private, mode 0600) and `<out>.pub`; default: the name.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<(), Failure> {
    let key_type = if args.cosigner {
        KeyType::Cosignature
    } else {
        KeyType::Ed25519
    };
    let key = Signer::generate(&args.name, key_type, &mut rand_core::OsRng).map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!("{:?} cannot name a key: {e}", args.name),
        )
    })?;
    let prefix = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(args.name.replace('/', "_")));
    let private = prefix.with_extension("key");
    let public = prefix.with_extension("pub");
    if private.exists() {
        return Err(Failure::new(
            Exit::Usage,
            format!("{} exists: not overwriting a key", private.display()),
        ));
    }
    gazette_kit::durable::write_file(
        &private,
        format!("{}\n", key.to_skey()).as_bytes(),
        Some(0o600),
    )
    .map_err(|e| Failure::new(Exit::Io, format!("writing {}: {e}", private.display())))?;
    gazette_kit::durable::write_file(&public, format!("{}\n", key.verifier()).as_bytes(), None)
        .map_err(|e| Failure::new(Exit::Io, format!("writing {}: {e}", public.display())))?;
    println!("{}", key.verifier());
    Ok(())
}
