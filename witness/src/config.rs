//! The witness configuration, `<data>/gazette-witness.toml`. Errors name
//! the file, the key and why, and stop the start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The configuration file's name in the data directory.
pub const CONFIG_FILE: &str = "gazette-witness.toml";

/// A configuration problem: which file, which key, why.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {why}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The key (or `(file)`).
    pub key: String,
    /// What is wrong.
    pub why: String,
}

/// `gazette-witness.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The witness's name: its key's name, in every cosignature.
    pub name: String,
    /// Where the HTTP API listens.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The cosigner private key file.
    #[serde(default = "default_key_file")]
    pub key_file: PathBuf,
    /// The logs this witness follows.
    #[serde(default = "default_logs_file")]
    pub logs_file: PathBuf,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8090))
}
fn default_key_file() -> PathBuf {
    PathBuf::from("witness.key")
}
fn default_logs_file() -> PathBuf {
    PathBuf::from("logs.txt")
}

impl Config {
    /// Reads and validates `<dir>/gazette-witness.toml`.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let file = path.display().to_string();
        let err = |key: &str, why: String| ConfigError {
            file: file.clone(),
            key: key.to_owned(),
            why,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            err(
                "(file)",
                format!("cannot read it ({e}); run `gazette-witness init` first"),
            )
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!(" at line {}", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            err("(file)", format!("{}{line}", e.message()))
        })?;
        if !gazette_client::note::is_valid_key_name(&config.name) {
            return Err(err(
                "name",
                "must be a non-empty name without spaces or '+'".into(),
            ));
        }
        Ok(config)
    }

    /// The commented configuration `init` writes.
    pub fn template(name: &str, listen: SocketAddr) -> String {
        format!(
            r#"# Gazette witness configuration. Paths are relative to this directory.

# The witness's name: its key's name, in every cosignature it makes.
name = "{name}"

# Where the c2sp.org/tlog-witness API listens (POST /add-checkpoint).
listen = "{listen}"

# The witness's private cosigning key (mode 0600). Back it up; a new key is
# a new witness to every log and verifier that trusts this one.
key_file = "witness.key"

# The logs this witness follows, one verifier key per line; manage it with
# `gazette-witness add-log`. The per-log state lives in state/: never edit
# or restore it by hand (an older state could let the witness cosign a fork).
logs_file = "logs.txt"
"#
        )
    }
}
