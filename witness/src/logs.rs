//! The logs a witness follows: `<data>/logs.txt`, one log verifier key per
//! line (the key's name is the log's origin). A log once added stays: the
//! witness refuses to start if a log it holds state for is no longer listed.

use std::path::Path;

use gazette_client::note::Verifier;
use gazette_kit::key_list::{self, KeyLine};

/// A problem in the logs file, with its line.
pub use gazette_kit::key_list::KeyListError as LogsError;

/// One line: a log's checkpoint key, one per origin (a log's key never
/// changes: a new key is a new log).
struct Followed(Verifier);

impl KeyLine for Followed {
    const FIELDS: &'static [&'static str] = &[];

    fn parse(key: Verifier, _: &[&str]) -> Result<Followed, String> {
        check_key(&key).map(|()| Followed(key))
    }

    fn key(&self) -> &Verifier {
        &self.0
    }

    fn fields(&self) -> Vec<String> {
        Vec::new()
    }

    fn duplicate(&self, earlier: &Followed) -> Option<String> {
        let origin = self.0.name();
        (earlier.0.name() == origin).then(|| format!("the log {origin} is listed twice"))
    }

    fn refuse(&self, listed: &Followed) -> Option<String> {
        let (origin, listed) = (self.0.name(), &listed.0);
        (listed.name() == origin).then(|| {
            format!(
                "the log {origin} is already followed with the key {listed}; a log's key does not change"
            )
        })
    }
}

const HEADER: &str = "# Logs this witness follows: one log verifier key (`origin+keyid+key`) per line.\n# Manage with `gazette-witness add-log`; a listed log is never dropped silently.\n";

/// Reads the logs file (absent = no logs yet).
pub fn load(path: &Path) -> Result<Vec<Verifier>, LogsError> {
    let logs = key_list::load::<Followed>(path)?;
    Ok(logs.into_iter().map(|log| log.0).collect())
}

/// Why `key` cannot be a log's checkpoint key, if it cannot.
pub fn check_key(key: &Verifier) -> Result<(), String> {
    gazette_kit::key::check_ed25519(key, "a log signs checkpoints")
}

/// Adds `key`, rewriting the file atomically. The same key again changes
/// nothing (`Ok(false)`); another key for a listed origin is refused.
pub fn add(path: &Path, key: &Verifier) -> Result<bool, LogsError> {
    key_list::add(path, HEADER, &Followed(key.clone()))
}
