//! Filesystems the process tests mount (root only: each `mount` returns
//! why not where it is refused, for the test to say SKIPPED): a small
//! tmpfs that fills up, and a read-only view of a directory.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Something mounted at a path, unmounted (lazily) when dropped.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// A tmpfs of `mib` MiB at `at`, unmounted when dropped.
pub struct Tmpfs {
    _mounted: Mounted,
}

impl Tmpfs {
    /// Mounts it.
    pub fn mount(at: &Path, mib: u64) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(at).unwrap();
        let size = format!("size={mib}m");
        mount(
            &["tmpfs".as_ref(), at.as_os_str()],
            &["-t", "tmpfs", "-o", &size],
        )?;
        Ok(Tmpfs {
            _mounted: Mounted(at.to_owned()),
        })
    }
}

/// `from` seen read-only at `at` (a bind mount), unmounted when dropped.
pub struct ReadOnlyView(Mounted);

impl ReadOnlyView {
    /// Mounts it.
    pub fn mount(from: &Path, at: &Path) -> Result<ReadOnlyView, String> {
        std::fs::create_dir_all(at).unwrap();
        mount(&[from.as_os_str(), at.as_os_str()], &["--bind"])?;
        let view = ReadOnlyView(Mounted(at.to_owned()));
        view.remount("ro")?;
        Ok(view)
    }

    /// Where the view is.
    pub fn path(&self) -> &Path {
        &self.0.0
    }

    /// Makes the view read-only (`ro`) or writable (`rw`).
    pub fn remount(&self, how: &str) -> Result<(), String> {
        let options = format!("remount,bind,{how}");
        mount(&[self.0.0.as_os_str()], &["-o", &options])
    }
}

/// Runs `mount` with `options` and then `paths`.
fn mount(paths: &[&OsStr], options: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("mount")
        .args(options)
        .args(paths)
        .output()
        .map_err(|e| e.to_string())?;
    match out.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&out.stderr).trim().to_owned()),
    }
}
