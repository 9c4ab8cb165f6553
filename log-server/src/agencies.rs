//! The registered agencies: `<data>/agencies.txt`, one line per agency key,
//! `<vkey> <first index>` (the tree size when it was registered). Only
//! records signed by these keys are accepted.

use std::path::Path;

use gazette_client::note::{KeyType, Verifier};

/// A registered agency key.
#[derive(Clone, Debug)]
pub struct Agency {
    /// Its record-signing key; the key name is the agency's name.
    pub key: Verifier,
    /// The log size when it was registered.
    pub since: u64,
}

/// A problem in the agencies file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: line {line}: {why}")]
pub struct AgenciesError {
    /// The file.
    pub file: String,
    /// The line (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

const HEADER: &str = "# Registered agencies: `<vkey> <log size when registered>` per line.\n# Manage with `gazette-log agency add <vkey>`; restart not needed.\n";

/// Reads the agencies file (absent = none registered).
pub fn load(path: &Path) -> Result<Vec<Agency>, AgenciesError> {
    let file = path.display().to_string();
    let err = |line, why: String| AgenciesError {
        file: file.clone(),
        line,
        why,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err(0, e.to_string())),
    };
    let mut agencies: Vec<Agency> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(vkey), Some(since), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(err(i + 1, "expected `<vkey> <log size>`".into()));
        };
        let key = Verifier::parse(vkey).map_err(|e| err(i + 1, e.to_string()))?;
        check_key(&key).map_err(|why| err(i + 1, why))?;
        let since = since
            .parse()
            .map_err(|_| err(i + 1, format!("{since:?} is not a log size")))?;
        if agencies.iter().any(|a| a.key == key) {
            return Err(err(i + 1, format!("{} is registered twice", key.name())));
        }
        agencies.push(Agency { key, since });
    }
    Ok(agencies)
}

/// Why `key` cannot sign records, if it cannot: agencies sign with
/// Ed25519 (0x01) keys, and a small-order key would let anyone sign.
pub fn check_key(key: &Verifier) -> Result<(), String> {
    if key.key_type() != KeyType::Ed25519 {
        return Err(format!(
            "{} is a cosigner key; an agency signs records with an Ed25519 (0x01) key",
            key.name()
        ));
    }
    if key.is_weak() {
        return Err(format!(
            "{} is a small-order Ed25519 key, with which anyone could sign",
            key.name()
        ));
    }
    Ok(())
}

/// Registers `key` at log size `since`, rewriting the file atomically.
/// Registering a key already present changes nothing.
pub fn add(path: &Path, key: &Verifier, since: u64) -> Result<bool, AgenciesError> {
    let mut agencies = load(path)?;
    if agencies.iter().any(|a| a.key == *key) {
        return Ok(false);
    }
    agencies.push(Agency {
        key: key.clone(),
        since,
    });
    let mut text = String::from(HEADER);
    for agency in &agencies {
        text.push_str(&format!("{} {}\n", agency.key, agency.since));
    }
    gazette_kit::durable::write_file(path, text.as_bytes(), None).map_err(|e| AgenciesError {
        file: path.display().to_string(),
        line: 0,
        why: e.to_string(),
    })?;
    Ok(true)
}
