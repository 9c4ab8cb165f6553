//! Durable single-file writes: keys, configuration, a
//! witness's per-log state, a client's trusted state. Write a temporary
//! file beside the target, fsync it, rename it into place, fsync the
//! directory: after a crash the file holds the old bytes or the new ones.
//! Also the lock that keeps a second daemon off a data directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Atomically replaces `path` with `data`; `mode` sets Unix permissions of
/// the new file (e.g. `0o600` for private keys), from the moment it exists.
pub fn write_file(path: &Path, data: &[u8], mode: Option<u32>) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("no file name"))?
        .to_string_lossy()
        .into_owned();
    let (temp, mut file) = create_temp(temp_names(dir, &name), mode.unwrap_or(0o666))?;
    let written = file
        .write_all(data)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    File::open(dir)?.sync_all()
}

/// Whether files can be created in `dir`: creates a temporary one there
/// and removes it. A read-only filesystem answers with an error of kind
/// [`io::ErrorKind::ReadOnlyFilesystem`], a directory the user may not
/// write with [`io::ErrorKind::PermissionDenied`].
pub fn check_writable(dir: &Path) -> io::Result<()> {
    let (temp, _file) = create_temp(temp_names(dir, "writable"), 0o600)?;
    fs::remove_file(temp)
}

/// Names tried for a temporary file before giving up.
const TEMP_ATTEMPTS: usize = 16;

/// Unpredictable names for a temporary file beside `dir/name`.
fn temp_names(dir: &Path, name: &str) -> impl Iterator<Item = PathBuf> {
    (0..TEMP_ATTEMPTS).map(move |_| {
        let nonce = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
        dir.join(format!(".{name}.tmp-{}-{nonce:016x}", std::process::id()))
    })
}

/// Creates the first of `names` that does not exist yet, with `mode`.
/// Exclusive creation (`O_CREAT | O_EXCL`) never opens what is already
/// there: not a file someone made with looser permissions, and not a
/// symbolic link, which `O_EXCL` refuses rather than follows. The names
/// are unpredictable, so a planted one only costs an attempt.
fn create_temp(names: impl IntoIterator<Item = PathBuf>, mode: u32) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for temp in names {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(temp),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "no temporary file could be created: every name tried exists (the last: {})",
            last.map_or_else(String::new, |p| p.display().to_string())
        ),
    ))
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_secret_file_has_its_mode_from_the_start_and_replaces_the_old() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        write_file(&path, b"old", Some(0o600)).unwrap();
        write_file(&path, b"new", Some(0o600)).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Nothing else is left beside it.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A file or a symbolic link planted under a temporary name is never
    /// opened: the next name is taken, the planted ones stay as they were.
    #[test]
    fn planted_temporary_files_and_links_are_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, b"someone else's file").unwrap();
        let link = dir.path().join(".log.key.tmp-1");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let planted = dir.path().join(".log.key.tmp-2");
        fs::write(&planted, b"").unwrap();
        fs::set_permissions(&planted, fs::Permissions::from_mode(0o644)).unwrap();
        let fresh = dir.path().join(".log.key.tmp-3");

        let names = [link.clone(), planted.clone(), fresh.clone()];
        let (temp, mut file) = create_temp(names, 0o600).unwrap();
        assert_eq!(temp, fresh);
        file.write_all(b"secret").unwrap();
        let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read(&outside).unwrap(), b"someone else's file");
        assert_eq!(fs::read(&planted).unwrap(), b"");

        // Every name taken: an error, and nothing written anywhere.
        let err = create_temp([link, planted], 0o600).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&outside).unwrap(), b"someone else's file");
    }
}
