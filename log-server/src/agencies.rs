//! The registered agencies: `<data>/agencies.txt`, one line per agency key,
//! `<vkey> <first index>` (the tree size when it was registered). Only
//! records signed by these keys are accepted.

use std::path::Path;

use gazette_client::note::Verifier;
use gazette_kit::key_list::{self, KeyLine};

/// A problem in the agencies file, with its line.
pub use gazette_kit::key_list::KeyListError as AgenciesError;

/// A registered agency key.
#[derive(Clone, Debug)]
pub struct Agency {
    /// Its record-signing key; the key name is the agency's name.
    pub key: Verifier,
    /// The log size when it was registered.
    pub since: u64,
}

/// One line: `<vkey> <log size>`; an agency may hold several keys (a new
/// one before the old one is revoked), so a key, not a name, is listed once.
impl KeyLine for Agency {
    const FIELDS: &'static [&'static str] = &["<log size>"];

    fn parse(key: Verifier, fields: &[&str]) -> Result<Agency, String> {
        check_key(&key)?;
        let since = fields[0];
        let since = since
            .parse()
            .map_err(|_| format!("{since:?} is not a log size"))?;
        Ok(Agency { key, since })
    }

    fn key(&self) -> &Verifier {
        &self.key
    }

    fn fields(&self) -> Vec<String> {
        vec![self.since.to_string()]
    }

    fn duplicate(&self, earlier: &Agency) -> Option<String> {
        (earlier.key == self.key).then(|| format!("{} is registered twice", self.key.name()))
    }
}

const HEADER: &str = "# Registered agencies: `<vkey> <log size when registered>` per line.\n# Manage with `gazette-log agency add <vkey>`; restart not needed.\n";

/// Reads the agencies file (absent = none registered).
pub fn load(path: &Path) -> Result<Vec<Agency>, AgenciesError> {
    key_list::load(path)
}

/// Why `key` cannot sign records, if it cannot: agencies sign with
/// Ed25519 (0x01) keys, and a small-order key would let anyone sign.
pub fn check_key(key: &Verifier) -> Result<(), String> {
    gazette_kit::key::check_ed25519(key, "an agency signs records")
}

/// Registers `key` at log size `since`, rewriting the file atomically.
/// Registering a key already present changes nothing.
pub fn add(path: &Path, key: &Verifier, since: u64) -> Result<bool, AgenciesError> {
    let agency = Agency {
        key: key.clone(),
        since,
    };
    key_list::add(path, HEADER, &agency)
}
