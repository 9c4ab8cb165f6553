//! Durable single-file writes: keys, configuration, a
//! witness's per-log state, a client's trusted state. Write a temporary
//! file beside the target, fsync it, rename it into place, fsync the
//! directory: after a crash the file holds the old bytes or the new ones.
//! Also the lock that keeps a second daemon off a data directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Atomically replaces `path` with `data`; `mode` sets Unix permissions of
/// the new file (e.g. `0o600` for private keys).
pub fn write_file(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("no file name"))?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if let Some(mode) = mode {
        options.mode(mode);
    }
    let mut file = options.open(&temp)?;
    file.write_all(data)?;
    file.sync_all()?;
    fs::rename(&temp, path)?;
    File::open(dir)?.sync_all()
}

/// Locks the data directory `dir` of the daemon `program` through the file
/// `lock_name` in it (created if missing), for as long as the returned file
/// is open, so that a second daemon on the same directory stops instead of
/// writing the same files (two log writers would fork the log, two witnesses
/// could cosign two trees of one size). Held elsewhere (another process, or
/// another open of the file): an error of kind
/// [`io::ErrorKind::WouldBlock`] that says so.
pub fn lock_data_dir(dir: &Path, lock_name: &str, program: &str) -> io::Result<File> {
    let path = dir.join(lock_name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("opening {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "{} is in use by another process: is {program} already running on this data directory?",
                dir.display()
            ),
        )),
        Err(fs::TryLockError::Error(e)) => Err(io::Error::new(
            e.kind(),
            format!("locking {}: {e}", path.display()),
        )),
    }
}
