//! The witness configuration, `<data>/gazette-witness.toml`. Errors name
//! the file, the key and why, and stop the start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use gazette_client::note::KeyType;
use gazette_kit::Daemon;
pub use gazette_kit::config::ConfigError;
use gazette_kit::config::check_key_name;
use serde::Deserialize;

/// `gazette-witness.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The witness's name: its key's name, in every cosignature.
    pub name: String,
    /// Where the HTTP API listens.
    #[serde(default = "gazette_kit::config::loopback::<8090>")]
    pub listen: SocketAddr,
    /// The cosigner private key file.
    #[serde(default = "default_key_file")]
    pub key_file: PathBuf,
    /// The logs this witness follows.
    #[serde(default = "default_logs_file")]
    pub logs_file: PathBuf,
    /// Connection caps and timeouts.
    #[serde(default)]
    pub connections: gazette_kit::http::Connections,
}

fn default_key_file() -> PathBuf {
    PathBuf::from(DAEMON.key_file())
}
fn default_logs_file() -> PathBuf {
    PathBuf::from("logs.txt")
}

/// The configuration file's name in the data directory (the kit's
/// convention: `<program>.toml`).
pub const CONFIG_FILE: &str = "gazette-witness.toml";

/// The witness as the kit sets it up: `init`, the configuration, messages.
pub const DAEMON: Daemon = Daemon::new("gazette-witness", "witness", "name", KeyType::Cosignature);

impl Config {
    /// Reads and validates `<dir>/gazette-witness.toml`.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let config: Config = gazette_kit::config::load(&DAEMON, dir)?;
        check_key_name(&dir.join(CONFIG_FILE), "name", &config.name)?;
        config.connections.check(&dir.join(CONFIG_FILE))?;
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
{connections}"#,
            connections = gazette_kit::http::Connections::template(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kit_looks_for_the_configuration_where_init_writes_it() {
        assert_eq!(DAEMON.config_file(), CONFIG_FILE);
    }
}
