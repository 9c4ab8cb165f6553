//! `init`: a new data directory holding the daemon's private key (mode
//! 0600) and its commented configuration, which the daemon supplies.
//! An existing configuration is never overwritten: it would orphan the
//! key, and with it the log or the witness.

use std::io;
use std::path::{Path, PathBuf};

use gazette_client::note::{NoteError, Signer};

use crate::{Daemon, durable};

/// Why `init` created nothing, or not all of it.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The directory already holds a configuration.
    #[error("{} exists: this directory already holds a {noun}", path.display())]
    Exists {
        /// The configuration file found.
        path: PathBuf,
        /// What the directory holds: `log`, `witness`.
        noun: &'static str,
    },
    /// The name cannot be a key name.
    #[error("{name:?} cannot be a {noun} {name_is}")]
    Name {
        /// The name given.
        name: String,
        /// `log`, `witness`.
        noun: &'static str,
        /// `origin`, `name`.
        name_is: &'static str,
        /// Why not.
        #[source]
        source: NoteError,
    },
    /// The data directory could not be created.
    #[error("creating {}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why not.
        #[source]
        source: io::Error,
    },
    /// The key or the configuration could not be written.
    #[error("writing {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why not.
        #[source]
        source: io::Error,
    },
}

/// Creates the data directory `dir` of a new `daemon` named `name`: a fresh
/// key in [`Daemon::key_file`] (mode 0600), then `config` in
/// [`Daemon::config_file`]. Returns the key, whose verifier the operator
/// hands to whoever is to trust it.
pub fn create(daemon: &Daemon, name: &str, dir: &Path, config: &str) -> Result<Signer, InitError> {
    let config_path = dir.join(daemon.config_file());
    if config_path.exists() {
        return Err(InitError::Exists {
            path: config_path,
            noun: daemon.noun,
        });
    }
    let key = Signer::generate(name, daemon.key_type, &mut rand_core::OsRng).map_err(|source| {
        InitError::Name {
            name: name.to_owned(),
            noun: daemon.noun,
            name_is: daemon.name_is,
            source,
        }
    })?;
    std::fs::create_dir_all(dir).map_err(|source| InitError::CreateDir {
        dir: dir.to_owned(),
        source,
    })?;
    let write = |path: PathBuf, data: &[u8], mode| {
        durable::write_file(&path, data, mode).map_err(|source| InitError::Write { path, source })
    };
    // The key first: a configuration without its key would look like a
    // data directory that lost its key.
    write(
        dir.join(daemon.key_file()),
        format!("{}\n", key.to_skey()).as_bytes(),
        Some(0o600),
    )?;
    write(config_path, config.as_bytes(), None)?;
    Ok(key)
}

/// What `init` tells the operator: where the daemon is, its verifier key
/// (to hand to whoever is to trust it), and the commands to run next, each
/// of `next` (e.g. `serve`) spelt out with the program and the directory.
pub fn report(daemon: &Daemon, name: &str, dir: &Path, key: &Signer, next: &[&str]) -> String {
    let (program, noun, dir) = (daemon.program, daemon.noun, dir.display());
    let next: Vec<String> = next
        .iter()
        .map(|command| format!("{program} {command} --dir {dir}"))
        .collect();
    format!(
        "created the {noun} {name} in {dir}\n{noun} verifier key: {}\nnext: {}\n",
        key.verifier(),
        next.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::TEST_DAEMON as DAEMON;

    #[test]
    fn init_writes_a_private_key_and_the_config_and_never_overwrites_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new");
        let key = create(&DAEMON, "example.org/test", &dir, "# hello\n").unwrap();
        let skey = std::fs::read_to_string(dir.join("test.key")).unwrap();
        assert_eq!(skey, format!("{}\n", key.to_skey()));
        let mode = std::fs::metadata(dir.join("test.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            std::fs::read_to_string(dir.join("gazette-test.toml")).unwrap(),
            "# hello\n"
        );
        let said = report(&DAEMON, "example.org/test", &dir, &key, &["add x", "serve"]);
        let d = dir.display();
        let expected = format!(
            "created the test example.org/test in {d}\ntest verifier key: {}\nnext: gazette-test add x --dir {d}; gazette-test serve --dir {d}\n",
            key.verifier()
        );
        assert_eq!(said, expected);

        let again = create(&DAEMON, "example.org/test", &dir, "# other\n").unwrap_err();
        assert!(matches!(again, InitError::Exists { .. }), "{again}");
        assert!(
            again.to_string().ends_with("already holds a test"),
            "{again}"
        );
        assert_eq!(std::fs::read_to_string(dir.join("test.key")).unwrap(), skey);
    }

    #[test]
    fn init_refuses_a_name_that_cannot_name_a_key_and_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new");
        let err = create(&DAEMON, "two words", &dir, "").unwrap_err();
        assert_eq!(err.to_string(), "\"two words\" cannot be a test origin");
        assert!(!dir.exists());
    }
}
