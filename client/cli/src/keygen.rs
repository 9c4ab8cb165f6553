//! `gazette keygen`: a new key pair in files.

use std::path::PathBuf;

use gazette_client::note::{KeyType, Signer};

use super::{Exit, Failure, Output};

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

pub fn run(args: &Args, out: Output) -> Result<(), Failure> {
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
    let (private, public) = key_files(&args.name, args.out.as_deref());
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
    let kind = match args.cosigner {
        true => "cosigner",
        false => "ed25519",
    };
    out.json(&serde_json::json!({
        "name": key.name(),
        "key_id": format!("{:08x}", key.key_id()),
        "type": kind,
        "vkey": key.verifier().to_string(),
        "private_key": private,
        "public_key": public,
    }));
    out.line(format!(
        "wrote {} (private, mode 0600) and {}; the verifier key: {}",
        private.display(),
        public.display(),
        key.verifier()
    ));
    Ok(())
}

/// The private and public key files: `<out>.key` and `<out>.pub`, by
/// default named after the key (a `/` in it becomes `_`).
fn key_files(name: &str, out: Option<&std::path::Path>) -> (PathBuf, PathBuf) {
    let prefix = out.map_or_else(|| PathBuf::from(name.replace('/', "_")), PathBuf::from);
    // Appended, not replacing an extension: the name's last label
    // (`land-registry.example.gov`) is part of the name.
    let with_suffix = |suffix: &str| {
        let mut path = prefix.clone().into_os_string();
        path.push(suffix);
        PathBuf::from(path)
    };
    (with_suffix(".key"), with_suffix(".pub"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn key_files_keep_every_label_of_the_name() {
        for (name, out, private, public) in [
            (
                "land-registry.example.gov",
                None,
                "land-registry.example.gov.key",
                "land-registry.example.gov.pub",
            ),
            ("a/b", None, "a_b.key", "a_b.pub"),
            (
                "x",
                Some("keys/agency.v2"),
                "keys/agency.v2.key",
                "keys/agency.v2.pub",
            ),
        ] {
            let (k, p) = key_files(name, out.map(Path::new));
            assert_eq!(
                (k, p),
                (PathBuf::from(private), PathBuf::from(public)),
                "{name}"
            );
        }
    }
}
