//! Operator files the log re-reads when they change (the agencies, the
//! display names), so editing one takes effect without a restart. A file
//! that no longer parses is refused at start and, while running, logged
//! and ignored: the previous contents stay in force.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// A file's parsed contents, re-read when its modification time changes.
pub struct Reloaded<T> {
    path: PathBuf,
    what: &'static str,
    load: fn(&Path) -> Result<T, String>,
    seen: RwLock<(Option<SystemTime>, Arc<T>)>,
}

impl<T> Reloaded<T> {
    /// Reads `path` (`what` names it in messages) with `load`.
    pub fn open(
        path: PathBuf,
        what: &'static str,
        load: fn(&Path) -> Result<T, String>,
    ) -> anyhow::Result<Reloaded<T>> {
        let modified = modified(&path);
        let value = load(&path).map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))?;
        Ok(Reloaded {
            path,
            what,
            load,
            seen: RwLock::new((modified, Arc::new(value))),
        })
    }

    /// The contents, re-read first if the file changed.
    pub fn get(&self) -> Arc<T> {
        let now = modified(&self.path);
        let (seen, value) = self.seen.read().expect("lock").clone();
        if now == seen {
            return value;
        }
        match (self.load)(&self.path) {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.seen.write().expect("lock") = (now, fresh.clone());
                tracing::info!(file = %self.path.display(), "reloaded the {}", self.what);
                fresh
            }
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "keeping the previous {}", self.what);
                value
            }
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
