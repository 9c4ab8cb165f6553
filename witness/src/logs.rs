//! The logs a witness follows: `<data>/logs.txt`, one log verifier key per
//! line (the key's name is the log's origin). A log once added stays: the
//! witness refuses to start if a log it holds state for is no longer listed.

use std::path::Path;

use gazette_client::note::{KeyType, Verifier};

/// A problem in the logs file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: line {line}: {why}")]
pub struct LogsError {
    /// The file.
    pub file: String,
    /// The line (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

const HEADER: &str = "# Logs this witness follows: one log verifier key (`origin+keyid+key`) per line.\n# Manage with `gazette-witness add-log`; a listed log is never dropped silently.\n";

/// Reads the logs file (absent = no logs yet).
pub fn load(path: &Path) -> Result<Vec<Verifier>, LogsError> {
    let file = path.display().to_string();
    let err = |line, why: String| LogsError {
        file: file.clone(),
        line,
        why,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err(0, e.to_string())),
    };
    let mut logs: Vec<Verifier> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = Verifier::parse(line).map_err(|e| err(i + 1, e.to_string()))?;
        check_key(&key).map_err(|why| err(i + 1, why))?;
        if logs.iter().any(|k| k.name() == key.name()) {
            return Err(err(
                i + 1,
                format!("the log {} is listed twice", key.name()),
            ));
        }
        logs.push(key);
    }
    Ok(logs)
}

/// Why `key` cannot be a log's checkpoint key, if it cannot.
pub fn check_key(key: &Verifier) -> Result<(), String> {
    if key.key_type() != KeyType::Ed25519 {
        return Err(format!(
            "{} is a cosigner key; a log signs checkpoints with an Ed25519 (0x01) key",
            key.name()
        ));
    }
    if key.is_weak() {
        return Err(format!("{} is a small-order Ed25519 key", key.name()));
    }
    Ok(())
}

/// Adds `key`, rewriting the file atomically. The same key again changes
/// nothing (`Ok(false)`); another key for a listed origin is refused.
pub fn add(path: &Path, key: &Verifier) -> Result<bool, LogsError> {
    let mut logs = load(path)?;
    if let Some(listed) = logs.iter().find(|k| k.name() == key.name()) {
        if listed == key {
            return Ok(false);
        }
        return Err(LogsError {
            file: path.display().to_string(),
            line: 0,
            why: format!(
                "the log {} is already followed with the key {listed}; a log's key does not change",
                key.name()
            ),
        });
    }
    check_key(key).map_err(|why| LogsError {
        file: path.display().to_string(),
        line: 0,
        why,
    })?;
    logs.push(key.clone());
    let mut text = String::from(HEADER);
    for log in &logs {
        text.push_str(&format!("{log}\n"));
    }
    gazette_kit::durable::write_file(path, text.as_bytes(), None).map_err(|e| LogsError {
        file: path.display().to_string(),
        line: 0,
        why: e.to_string(),
    })?;
    Ok(true)
}
