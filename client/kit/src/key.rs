//! A daemon's private key file (one skey line, written by `init` with mode
//! 0600), and what makes a verifier key fit to sign records or
//! checkpoints. The daemon's key must be the configured one (type, name):
//! a key that parses but is another would sign for someone else.

use std::io;
use std::path::{Path, PathBuf};

use gazette_client::note::{KeyType, NoteError, Signer, Verifier};

use crate::Daemon;

/// Why the key file gave no usable key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("reading the {noun} key {}", path.display())]
    Read {
        /// Whose key: `log`, `witness`.
        noun: &'static str,
        /// The file.
        path: PathBuf,
        /// Why not.
        #[source]
        source: io::Error,
    },
    /// The file holds no signer key.
    #[error("{}: not a signer key", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why not.
        #[source]
        source: NoteError,
    },
    /// The key is not the one the configuration names.
    #[error(
        "{}: expected a{} key named {expected:?} (the configured {name_is}), found a{} key named {found:?}",
        path.display(), kind(*expected_type), kind(*found_type)
    )]
    Unfit {
        /// The file.
        path: PathBuf,
        /// What the configuration calls the key's name: `origin`, `name`.
        name_is: &'static str,
        /// The type the daemon signs with.
        expected_type: KeyType,
        /// The configured name.
        expected: String,
        /// The type of the key in the file.
        found_type: KeyType,
        /// The name of the key in the file.
        found: String,
    },
}

fn kind(key_type: KeyType) -> &'static str {
    match key_type {
        KeyType::Ed25519 => "n Ed25519 (0x01)",
        KeyType::Cosignature => " cosigner (0x04)",
    }
}

/// Reads `daemon`'s signer key in `path`, which must be of the daemon's
/// type and named `name`.
pub fn read_signer(daemon: &Daemon, path: &Path, name: &str) -> Result<Signer, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        noun: daemon.noun,
        path: path.to_owned(),
        source,
    })?;
    let key = Signer::parse(text.trim()).map_err(|source| KeyError::Parse {
        path: path.to_owned(),
        source,
    })?;
    if key.key_type() != daemon.key_type || key.name() != name {
        return Err(KeyError::Unfit {
            path: path.to_owned(),
            name_is: daemon.name_is,
            expected_type: daemon.key_type,
            expected: name.to_owned(),
            found_type: key.key_type(),
            found: key.name().to_owned(),
        });
    }
    Ok(key)
}

/// Why `key` cannot check what `signs` (e.g. `an agency signs records`),
/// if it cannot: that takes an Ed25519 (0x01) key, and not a small-order
/// one, whose signatures anyone can forge.
pub fn check_ed25519(key: &Verifier, signs: &str) -> Result<(), String> {
    let name = key.name();
    if key.key_type() != KeyType::Ed25519 {
        return Err(format!(
            "{name} is a cosigner key; {signs} with an Ed25519 (0x01) key"
        ));
    }
    if key.is_weak() {
        return Err(format!(
            "{name} is a small-order Ed25519 key, with which anyone could sign"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TEST_DAEMON as LOG;

    #[test]
    fn a_key_is_read_trimmed_and_checked_and_each_failure_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let signer = Signer::from_seed("example.org/log", KeyType::Ed25519, [7; 32]).unwrap();
        std::fs::write(&path, format!("{}\n", signer.to_skey())).unwrap();

        let read = read_signer(&LOG, &path, "example.org/log").unwrap();
        assert_eq!(read.verifier(), signer.verifier());

        let other = read_signer(&LOG, &path, "example.org/other").unwrap_err();
        let expected = format!(
            "{}: expected an Ed25519 (0x01) key named \"example.org/other\" (the configured origin), found an Ed25519 (0x01) key named \"example.org/log\"",
            path.display()
        );
        assert_eq!(other.to_string(), expected);
        let witness = Daemon::new("gazette-test", "test", "name", KeyType::Cosignature);
        let err = read_signer(&witness, &path, "example.org/log").unwrap_err();
        assert!(
            err.to_string()
                .contains(": expected a cosigner (0x04) key named"),
            "{err}"
        );

        let missing = read_signer(&LOG, &dir.path().join("none"), "x").unwrap_err();
        assert!(matches!(missing, KeyError::Read { .. }), "{missing}");
        assert!(
            missing.to_string().starts_with("reading the test key "),
            "{missing}"
        );

        std::fs::write(&path, "not a key\n").unwrap();
        let garbage = read_signer(&LOG, &path, "example.org/log").unwrap_err();
        assert_eq!(
            garbage.to_string(),
            format!("{}: not a signer key", path.display())
        );
    }

    #[test]
    fn only_a_strong_ed25519_key_can_check_signatures() {
        let good = Signer::from_seed("a.example", KeyType::Ed25519, [1; 32]).unwrap();
        assert!(check_ed25519(&good.verifier(), "an agency signs records").is_ok());
        let cosigner = Signer::from_seed("w.example", KeyType::Cosignature, [1; 32]).unwrap();
        let why = check_ed25519(&cosigner.verifier(), "an agency signs records").unwrap_err();
        assert_eq!(
            why,
            "w.example is a cosigner key; an agency signs records with an Ed25519 (0x01) key"
        );
    }
}
