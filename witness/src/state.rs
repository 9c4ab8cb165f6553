//! The durable per-log state: for each log, the last checkpoint this
//! witness cosigned (the log's signed note with the witness's cosignature
//! line), in `<data>/state/<hex SHA-256 of the origin>`, written with the
//! fsync discipline of [`gazette_kit::durable`] before any cosignature
//! is released.

use std::path::{Path, PathBuf};

use gazette_client::checkpoint::Checkpoint;
use gazette_client::encoding::hex_encode;
use gazette_client::note::{self, Note, Verifier};
use gazette_client::witness_protocol::WitnessState;
use sha2::{Digest, Sha256};

/// A state file that cannot be trusted.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct StateError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub why: String,
}

/// What the witness holds for one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The log's origin.
    pub origin: String,
    /// Size and root last cosigned.
    pub state: WitnessState,
    /// The cosigned checkpoint note, as served to monitors.
    pub note: String,
}

/// The lowercase hex SHA-256 of a log's origin: the name of its state
/// file, and its directory under the monitoring prefix
/// (`/<hash>/checkpoint`, c2sp.org/tlog-witness).
pub fn origin_hash(origin: &str) -> String {
    hex_encode(&Sha256::digest(origin.as_bytes()))
}

/// The state directory.
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// The state directory under the data directory (created if needed).
    pub fn open(data: &Path) -> std::io::Result<StateDir> {
        let dir = data.join("state");
        std::fs::create_dir_all(&dir)?;
        Ok(StateDir { dir })
    }

    /// Deletes the temporary files of writes that never finished: the
    /// states they would have held were never answered. Only the witness
    /// that serves may do this, before it starts: in any other process a
    /// write of the running witness may be under way.
    pub fn remove_temporaries(&self) -> std::io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                std::fs::remove_file(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn path(&self, origin: &str) -> PathBuf {
        self.dir.join(origin_hash(origin))
    }

    /// Every stored state, each checked: it parses, it is where its origin
    /// says, and its log signature verifies with the key in `logs` (a log
    /// not in `logs` is an error: it would be forgotten).
    pub fn load_all(&self, logs: &[Verifier]) -> Result<Vec<Stored>, StateError> {
        let err = |path: &Path, why: String| StateError {
            path: path.display().to_string(),
            why,
        };
        let entries = std::fs::read_dir(&self.dir).map_err(|e| err(&self.dir, e.to_string()))?;
        let mut stored = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| err(&self.dir, e.to_string()))?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') {
                // A temporary file of a write not finished (or under way in
                // the serving witness): not a state yet.
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| err(&path, e.to_string()))?;
            let parsed = Note::parse(text.as_bytes()).map_err(|e| err(&path, e.to_string()))?;
            let checkpoint =
                Checkpoint::parse(&parsed.text).map_err(|e| err(&path, e.to_string()))?;
            if self.path(&checkpoint.origin) != path {
                return Err(err(
                    &path,
                    format!("holds the log {:?} under another name", checkpoint.origin),
                ));
            }
            let keys: Vec<Verifier> = logs
                .iter()
                .filter(|k| k.name() == checkpoint.origin)
                .cloned()
                .collect();
            if keys.is_empty() {
                return Err(err(
                    &path,
                    format!(
                        "holds the state of the log {} (size {}), which the logs file no longer lists; \
                         add it back with `gazette-witness add-log` (a witness never forgets a log)",
                        checkpoint.origin, checkpoint.size
                    ),
                ));
            }
            note::open(text.as_bytes(), &keys)
                .map_err(|e| err(&path, format!("the log's signature does not verify: {e}")))?;
            stored.push(Stored {
                origin: checkpoint.origin,
                state: WitnessState {
                    size: checkpoint.size,
                    root: checkpoint.root,
                },
                note: text,
            });
        }
        Ok(stored)
    }

    /// The state of `origin` as stored now (none if there is no file), to
    /// learn after a failed write which one the disk holds: the old one or
    /// the new one, never a mix (writes are atomic).
    pub fn reread(&self, origin: &str) -> std::io::Result<Option<Stored>> {
        let path = self.path(origin);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let bad = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidData, why);
        let parsed = Note::parse(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let checkpoint = Checkpoint::parse(&parsed.text).map_err(|e| bad(e.to_string()))?;
        if checkpoint.origin != origin {
            return Err(bad(format!("{} holds another log", path.display())));
        }
        Ok(Some(Stored {
            origin: checkpoint.origin,
            state: WitnessState {
                size: checkpoint.size,
                root: checkpoint.root,
            },
            note: text,
        }))
    }

    /// Durably replaces the state of `origin` with the cosigned `note`.
    pub fn save(&self, origin: &str, note: &str) -> std::io::Result<()> {
        gazette_kit::durable::write_file(&self.path(origin), note.as_bytes(), None)
    }
}
