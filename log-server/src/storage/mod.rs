//! Every durable piece of the log's state: tiles, entry bundles and the
//! signed checkpoint, addressed by their c2sp.org/tlog-tiles paths
//! (`tile/0/000`, `tile/entries/x001/234.p/5`, `checkpoint`), and the
//! newest witnessed checkpoint (`witnessed-checkpoint`). The layout maps
//! one-to-one onto object storage; the filesystem ([`FsStorage`]) is the
//! embedded default. (The fjall indexes live beside it but hold nothing
//! that cannot be rebuilt from the tiles.)
//!
//! The contract every backend keeps: [`Storage::commit`] makes every object
//! durable first and the checkpoint last, so after a crash at any instant
//! the stored checkpoint describes a tree whose tiles are all present. A
//! failed commit leaves either the old checkpoint or the new one.

pub mod etcd;
mod fs;
pub mod object;

pub use fs::{Files, FsStorage, OsFiles};
pub use object::ObjectStorage;

/// Path of the signed checkpoint.
pub const CHECKPOINT: &str = "checkpoint";
/// Path of the newest witnessed checkpoint, with its cosignatures.
pub const WITNESSED_CHECKPOINT: &str = "witnessed-checkpoint";

/// A tree store.
pub trait Storage: Send + Sync + 'static {
    /// Reads the object at `path`; `None` if there is none.
    fn read(&self, path: &str) -> std::io::Result<Option<Vec<u8>>>;

    /// Durably writes `objects`, then the checkpoint; returns only when all
    /// of it is durable.
    fn commit(&self, objects: &[(String, Vec<u8>)], checkpoint: &[u8]) -> std::io::Result<()>;

    /// Removes the temporary files a crashed commit left in the directory
    /// `dir` ("" for the top); returns how many.
    fn remove_temporaries(&self, dir: &str) -> std::io::Result<usize>;

    /// Removes the object at `path` if present (objects a crashed commit
    /// left beyond the checkpoint, superseded partial tiles).
    fn remove(&self, path: &str) -> std::io::Result<()>;

    /// Removes every partial tile at the position of the full tile `full`
    /// (`<full>.p/<W>`, any width), once that full tile is durable: a
    /// reader falls back to it (c2sp.org/tlog-tiles). Returns how many.
    fn remove_partial_tiles(&self, full: &str) -> std::io::Result<usize>;

    /// The widths of the partial tiles stored at the position of the full
    /// tile `full` (`<full>.p/<W>`), in no particular order.
    fn partial_widths(&self, full: &str) -> std::io::Result<Vec<u32>>;

    /// The partial tiles superseded by a full tile, or by a wider partial
    /// tile, at their position (left by a stop before they were removed,
    /// or by an older version).
    fn superseded_partial_tiles(&self) -> std::io::Result<Vec<String>>;

    /// The file holding the object at `path`, if this store is a local
    /// directory (whether or not the object exists); `None` otherwise.
    fn local_path(&self, _path: &str) -> Option<std::path::PathBuf> {
        None
    }

    /// Reads the newest witnessed checkpoint kept; `None` if none was.
    fn read_witnessed_checkpoint(&self) -> std::io::Result<Option<Vec<u8>>>;

    /// Durably replaces the witnessed checkpoint with `note`; returns only
    /// when it is durable. A crash leaves the old note or the new one.
    fn write_witnessed_checkpoint(&self, note: &[u8]) -> std::io::Result<()>;
}

/// Checks an object path: relative, no empty, `.` or `..` segment. Paths
/// come from the log's own formatting; anything else is refused all the
/// same, so that no store is ever asked for a path outside it.
pub fn check_path(path: &str) -> std::io::Result<()> {
    if path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bad object path {path:?}"),
        ));
    }
    Ok(())
}

/// Of the tile paths `paths`, the partial tiles superseded by the full
/// tile at their position, or by a wider partial tile there, sorted.
pub fn superseded(paths: &[String]) -> Vec<String> {
    use std::collections::{BTreeMap, HashSet};
    let present: HashSet<&str> = paths.iter().map(String::as_str).collect();
    let mut partial: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for path in paths {
        if let Some((full, width)) = path.rsplit_once(".p/")
            && let Ok(width) = width.parse()
        {
            partial.entry(full).or_default().push(width);
        }
    }
    let mut found = Vec::new();
    for (full, mut widths) in partial {
        widths.sort_unstable();
        if !present.contains(full) {
            widths.pop();
        }
        found.extend(widths.into_iter().map(|w| format!("{full}.p/{w}")));
    }
    found.sort();
    found
}
