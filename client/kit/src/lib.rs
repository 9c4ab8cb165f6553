//! # gazette-kit — what the daemons and the command line share on the host
//!
//! `gazette-client` is pure; everything that touches the machine and is
//! needed by more than one program lives here once.
//!
//! | module | what it is |
//! | --- | --- |
//! | [`durable`] | atomic fsynced file writes, the data-directory lock |
//! | [`init`] | `init`: a new data directory with a private key and a commented configuration |
//! | [`key`] | reading a daemon's private key file |
//! | [`key_list`] | the one-key-per-line files (a log's agencies, a witness's logs) |
//! | `config` | (feature `daemon`) a daemon's TOML configuration, with errors naming the file and the key |
//! | `metrics` | (feature `daemon`) the process's Prometheus recorder |
//! | `serve` | (feature `daemon`) tracing to stderr with one line per HTTP request, the HTTP listener, stopping on Ctrl-C or SIGTERM |
//! | `http` | (feature `daemon`) serving hostile clients: connection caps, header and body timeouts, a budget for bodies being received |
//! | `fast_lane` | (feature `daemon`) plain `GET`s answered before the router, bodies sent with `sendfile` |

use gazette_client::note::KeyType;

#[cfg(feature = "daemon")]
pub mod config;
pub mod durable;
#[cfg(feature = "daemon")]
pub mod fast_lane;
#[cfg(feature = "daemon")]
pub mod http;
pub mod init;
pub mod key;
pub mod key_list;
#[cfg(feature = "daemon")]
pub mod metrics;
#[cfg(feature = "daemon")]
pub mod serve;
#[cfg(feature = "daemon")]
pub mod takeover;

/// Now, as RFC 3339 UTC to the second: the time a record or a registry
/// entry says it was written (the clock is the host's, hence here and not
/// in the pure core).
pub fn now_rfc3339() -> String {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    gazette_client::encoding::rfc3339_utc(unix)
}

/// What the kit needs to know of a daemon to set up its data directory and
/// speak of it. Its files follow one convention: `<program>.toml` for the
/// configuration, `<noun>.key` for the private key.
#[derive(Clone, Copy, Debug)]
pub struct Daemon {
    /// The binary, as operators type it: `gazette-log`.
    pub program: &'static str,
    /// What one instance is called in messages: `log`, `witness`.
    pub noun: &'static str,
    /// What its key's name is called: `origin` for a log, `name` for a witness.
    pub name_is: &'static str,
    /// The type of the key it signs with.
    pub key_type: KeyType,
}

impl Daemon {
    /// The daemon `program`, one of which is a `noun`, whose key of type
    /// `key_type` is named by its `name_is`.
    pub const fn new(
        program: &'static str,
        noun: &'static str,
        name_is: &'static str,
        key_type: KeyType,
    ) -> Daemon {
        Daemon {
            program,
            noun,
            name_is,
            key_type,
        }
    }

    /// Its configuration file in the data directory: `<program>.toml`.
    pub fn config_file(&self) -> String {
        format!("{}.toml", self.program)
    }

    /// The private key file `init` writes in the data directory: `<noun>.key`.
    pub fn key_file(&self) -> String {
        format!("{}.key", self.noun)
    }
}

/// The daemon of the kit's own tests.
#[cfg(test)]
const TEST_DAEMON: Daemon = Daemon::new("gazette-test", "test", "origin", KeyType::Ed25519);

#[cfg(test)]
mod tests {
    #[test]
    fn now_is_rfc3339_utc() {
        assert!(gazette_client::record::is_rfc3339_utc(&super::now_rfc3339()));
    }
}
