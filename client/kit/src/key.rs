//! A daemon's private key file: one skey line, written by `init` with mode
//! 0600. The daemon says which key it must be (type, name), because a
//! key that parses but is not the configured one would sign for someone
//! else.

use std::io;
use std::path::{Path, PathBuf};

use gazette_client::note::{KeyType, NoteError, Signer};

/// Why the key file gave no usable key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("reading the {what} {}", path.display())]
    Read {
        /// What the key is to the daemon: `log key`, `witness key`.
        what: &'static str,
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
    #[error("{}: {why}", path.display())]
    Unfit {
        /// The file.
        path: PathBuf,
        /// How it differs from the configured key.
        why: String,
    },
}

/// Reads the signer key in `path` (`what` names it in errors), which must
/// be of type `key_type` and named `name`; if it is not, `unfit` says how
/// it differs, in the daemon's words.
pub fn read_signer(
    path: &Path,
    what: &'static str,
    (key_type, name): (KeyType, &str),
    unfit: impl FnOnce(&Signer) -> String,
) -> Result<Signer, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        what,
        path: path.to_owned(),
        source,
    })?;
    let key = Signer::parse(text.trim()).map_err(|source| KeyError::Parse {
        path: path.to_owned(),
        source,
    })?;
    if key.key_type() != key_type || key.name() != name {
        return Err(KeyError::Unfit {
            path: path.to_owned(),
            why: unfit(&key),
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_read_trimmed_and_checked_and_each_failure_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let signer = Signer::from_seed("example.org/log", KeyType::Ed25519, [7; 32]).unwrap();
        std::fs::write(&path, format!("{}\n", signer.to_skey())).unwrap();

        let expected = (KeyType::Ed25519, "example.org/log");
        let unfit = |k: &Signer| format!("{} is not it", k.name());
        let read = read_signer(&path, "log key", expected, unfit).unwrap();
        assert_eq!(read.verifier(), signer.verifier());

        for other in [
            (KeyType::Cosignature, "example.org/log"),
            (KeyType::Ed25519, "example.org/other"),
        ] {
            let err = read_signer(&path, "log key", other, unfit).unwrap_err();
            let shown = format!("{}: example.org/log is not it", path.display());
            assert_eq!(err.to_string(), shown);
        }

        let missing =
            read_signer(&dir.path().join("none"), "log key", expected, unfit).unwrap_err();
        assert!(matches!(missing, KeyError::Read { .. }), "{missing}");
        assert!(
            missing.to_string().starts_with("reading the log key "),
            "{missing}"
        );

        std::fs::write(&path, "not a key\n").unwrap();
        let garbage = read_signer(&path, "log key", expected, unfit).unwrap_err();
        assert_eq!(
            garbage.to_string(),
            format!("{}: not a signer key", path.display())
        );
    }
}
