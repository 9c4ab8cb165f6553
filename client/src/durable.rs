//! Durable single-file writes (feature `fs`): keys, configuration, a
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

/// Locks `path` (created if missing) for this process, for as long as the
/// returned file is open: a daemon holds it on its data directory, so that
/// a second one stops instead of writing the same files (two log writers
/// would fork the log, two witnesses could cosign two trees of one size).
/// Fails with [`io::ErrorKind::WouldBlock`] while another process (or
/// another open of the file) holds it.
pub fn lock_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(io::ErrorKind::WouldBlock.into()),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}
