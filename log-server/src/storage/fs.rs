//! The filesystem backend and the one fsync discipline of the log: write a
//! temporary file, fsync it, rename it into place, fsync its directory; the
//! checkpoint last, the same way (and the witnessed checkpoint, on its own).
//! The files of one commit are fsynced together, then renamed, then their
//! directories fsynced together.

use std::collections::{BTreeSet, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CHECKPOINT, Storage, WITNESSED_CHECKPOINT};

/// The four steps every durable write is made of, one call each: the
/// seam where the fsync discipline meets the operating system.
/// [`OsFiles`] does them; a decorating implementation can watch or fail
/// each step in turn (the fault-injection tests do).
pub trait Files: Send + Sync + 'static {
    /// Writes `data` into `file`, the new temporary file for `target`.
    fn write(&self, file: &mut File, target: &Path, data: &[u8]) -> io::Result<()>;
    /// Makes `file`, the temporary file for `target`, durable.
    fn sync_file(&self, file: &File, target: &Path) -> io::Result<()>;
    /// Renames the durable temporary file `temp` to `target`.
    fn rename(&self, temp: &Path, target: &Path) -> io::Result<()>;
    /// Makes the entries of the directory `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The operating system's files.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsFiles;

impl Files for OsFiles {
    fn write(&self, file: &mut File, _target: &Path, data: &[u8]) -> io::Result<()> {
        file.write_all(data)
    }

    fn sync_file(&self, file: &File, _target: &Path) -> io::Result<()> {
        file.sync_all()
    }

    fn rename(&self, temp: &Path, target: &Path) -> io::Result<()> {
        fs::rename(temp, target)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}

/// Tiles, checkpoints and the witnessed checkpoint as files under one
/// directory, written through `F`.
pub struct FsStorage<F: Files = OsFiles> {
    root: PathBuf,
    temp_counter: AtomicU64,
    /// Directories whose entries (and ancestors') this process has synced.
    durable_dirs: Mutex<HashSet<PathBuf>>,
    files: F,
}

impl FsStorage {
    /// Opens (creating it if needed) the store under `root`.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<FsStorage> {
        FsStorage::open_with(root, OsFiles)
    }
}

impl<F: Files> FsStorage<F> {
    /// Opens (creating it if needed) the store under `root`, writing
    /// through `files`.
    pub fn open_with(root: impl Into<PathBuf>, files: F) -> io::Result<FsStorage<F>> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(FsStorage {
            root,
            temp_counter: AtomicU64::new(0),
            durable_dirs: Mutex::new(HashSet::new()),
            files,
        })
    }

    fn path_of(&self, object: &str) -> io::Result<PathBuf> {
        super::check_path(object)?;
        Ok(self.root.join(object))
    }

    /// Writes a temporary file beside `target` (not yet fsynced); returns
    /// its path and the open file.
    fn write_temp(&self, target: &Path, data: &[u8]) -> io::Result<(PathBuf, File)> {
        let dir = target.parent().expect("object paths have a parent");
        fs::create_dir_all(dir)?;
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let name = target
            .file_name()
            .expect("object paths have a file name")
            .to_string_lossy();
        let temp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        match self.files.write(&mut file, target, data) {
            Ok(()) => Ok((temp, file)),
            Err(e) => {
                let _ = fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Renames written temporaries into place, then fsyncs each directory.
    fn publish(&self, renames: &[(PathBuf, PathBuf)]) -> io::Result<()> {
        let mut dirs = BTreeSet::new();
        for (temp, target) in renames {
            self.files.rename(temp, target)?;
            dirs.insert(
                target
                    .parent()
                    .expect("object paths have a parent")
                    .to_path_buf(),
            );
        }
        // A directory's own entry lives in its parent: the first time this
        // process writes into a directory (new, or left by an earlier run),
        // sync every ancestor up to the root too, so a durable checkpoint
        // never names a tile behind a directory entry that was lost.
        let mut known = self.durable_dirs.lock().expect("lock");
        let mut ancestors = BTreeSet::new();
        for dir in &dirs {
            if !known.contains(dir) {
                ancestors.extend(
                    dir.ancestors()
                        .skip(1)
                        .take_while(|a| a.starts_with(&self.root))
                        .map(Path::to_path_buf),
                );
            }
        }
        let newly_known: Vec<PathBuf> = dirs
            .iter()
            .filter(|d| !known.contains(*d))
            .cloned()
            .collect();
        let to_sync: Vec<&PathBuf> = dirs.iter().chain(ancestors.difference(&dirs)).collect();
        in_parallel(&to_sync, |dir| self.files.sync_dir(dir))?;
        known.extend(newly_known);
        Ok(())
    }

    fn write_all_durably(&self, objects: &[(PathBuf, &[u8])]) -> io::Result<()> {
        let mut renames = Vec::with_capacity(objects.len());
        let result = (|| {
            let mut files = Vec::with_capacity(objects.len());
            for (target, data) in objects {
                let (temp, file) = self.write_temp(target, data)?;
                renames.push((temp, target.clone()));
                files.push((file, target));
            }
            in_parallel(&files, |(file, target)| self.files.sync_file(file, target))?;
            self.publish(&renames)
        })();
        if result.is_err() {
            for (temp, _) in &renames {
                let _ = fs::remove_file(temp);
            }
        }
        result
    }
}

/// The entries of `dir`; `None` if there is no such directory.
fn read_dir_if_any(dir: &Path) -> io::Result<Option<fs::ReadDir>> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(Some(entries)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Most threads one commit fsyncs on at once.
const SYNC_THREADS: usize = 8;

/// Runs `sync` on every item, on up to [`SYNC_THREADS`] threads: fsyncs
/// issued together are committed together by the filesystem's journal,
/// where one after another each waits for the disk (the measured bound of a
/// commit, docs/BENCHMARKS.md). The first error wins.
fn in_parallel<T: Sync>(items: &[T], sync: impl Fn(&T) -> io::Result<()> + Sync) -> io::Result<()> {
    if items.len() <= 1 {
        return items.iter().try_for_each(&sync);
    }
    let per_thread = items.len().div_ceil(SYNC_THREADS);
    // The first failure is kept; the other threads stop at their next item.
    let failure: Mutex<Option<io::Error>> = Mutex::new(None);
    let run = |chunk: &[T]| {
        for item in chunk {
            if failure.lock().expect("lock").is_some() {
                return;
            }
            if let Err(e) = sync(item) {
                failure.lock().expect("lock").get_or_insert(e);
                return;
            }
        }
    };
    std::thread::scope(|scope| {
        for chunk in items.chunks(per_thread) {
            scope.spawn(|| run(chunk));
        }
    });
    match failure.into_inner().expect("lock") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl<F: Files> Storage for FsStorage<F> {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.path_of(path)?) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn local_path(&self, path: &str) -> Option<PathBuf> {
        self.path_of(path).ok()
    }

    fn commit(&self, objects: &[(String, Vec<u8>)], checkpoint: &[u8]) -> io::Result<()> {
        let objects = objects
            .iter()
            .map(|(path, data)| Ok((self.path_of(path)?, data.as_slice())))
            .collect::<io::Result<Vec<_>>>()?;
        self.write_all_durably(&objects)?;
        // Only once every tile is durable may the checkpoint name them.
        self.write_all_durably(&[(self.path_of(CHECKPOINT)?, checkpoint)])
    }

    fn remove_temporaries(&self, dir: &str) -> io::Result<usize> {
        let dir = if dir.is_empty() {
            self.root.clone()
        } else {
            self.path_of(dir)?
        };
        let Some(entries) = read_dir_if_any(&dir)? else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.contains(".tmp-") {
                fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn remove(&self, path: &str) -> io::Result<()> {
        let path = self.path_of(path)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // The last partial tile of a position takes its `.p` directory
        // along (a directory still holding others stays).
        if let Some(dir) = path
            .parent()
            .filter(|d| d.extension().is_some_and(|e| e == "p"))
        {
            let _ = fs::remove_dir(dir);
        }
        Ok(())
    }

    fn remove_partial_tiles(&self, full: &str) -> io::Result<usize> {
        // Partial tiles of a position live in the directory `<full>.p`.
        let dir = self.path_of(&format!("{full}.p"))?;
        let Some(entries) = read_dir_if_any(&dir)? else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries {
            fs::remove_file(entry?.path())?;
            removed += 1;
        }
        // Not synced: a removal lost in a crash leaves a partial tile the
        // next start finds and removes again.
        fs::remove_dir(&dir)?;
        Ok(removed)
    }

    fn partial_widths(&self, full: &str) -> io::Result<Vec<u32>> {
        let Some(entries) = read_dir_if_any(&self.path_of(&format!("{full}.p"))?)? else {
            return Ok(Vec::new());
        };
        Ok(entries
            .filter_map(|w| w.ok()?.file_name().to_str()?.parse().ok())
            .collect())
    }

    fn superseded_partial_tiles(&self) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        let mut dirs = vec![self.root.join("tile")];
        while let Some(dir) = dirs.pop() {
            let Some(entries) = read_dir_if_any(&dir)? else {
                continue;
            };
            for entry in entries {
                let entry = entry?;
                if !entry.file_type()?.is_dir() {
                    continue;
                }
                let name = entry.file_name();
                let Some(full) = name.to_str().and_then(|n| n.strip_suffix(".p")) else {
                    dirs.push(entry.path());
                    continue;
                };
                // The partial tiles of one position: all superseded by the
                // full tile, else all but the widest.
                let has_full = dir.join(full).is_file();
                let full = dir.join(full);
                let full = full.strip_prefix(&self.root).expect("under the root");
                let full = full.to_string_lossy();
                let mut widths = self.partial_widths(&full)?;
                widths.sort_unstable();
                if !has_full {
                    widths.pop();
                }
                found.extend(widths.into_iter().map(|w| format!("{full}.p/{w}")));
            }
        }
        found.sort();
        Ok(found)
    }

    fn read_witnessed_checkpoint(&self) -> io::Result<Option<Vec<u8>>> {
        self.read(WITNESSED_CHECKPOINT)
    }

    fn write_witnessed_checkpoint(&self, note: &[u8]) -> io::Result<()> {
        self.write_all_durably(&[(self.path_of(WITNESSED_CHECKPOINT)?, note)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_witnessed_checkpoint_is_kept_beside_the_tree_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let storage = FsStorage::open(dir.path()).unwrap();
        assert_eq!(storage.read_witnessed_checkpoint().unwrap(), None);
        storage.write_witnessed_checkpoint(b"first\n").unwrap();
        storage.write_witnessed_checkpoint(b"second\n").unwrap();
        assert_eq!(
            storage.read_witnessed_checkpoint().unwrap().as_deref(),
            Some(&b"second\n"[..])
        );
        // The same file as before it moved into the store, so a log keeps
        // publishing what it kept across the upgrade.
        assert_eq!(
            fs::read(dir.path().join("witnessed-checkpoint")).unwrap(),
            b"second\n"
        );
        assert_eq!(storage.remove_temporaries("").unwrap(), 0);
        // It is not part of the tree: a commit leaves it alone.
        storage.commit(&[], b"checkpoint\n").unwrap();
        assert_eq!(
            storage.read_witnessed_checkpoint().unwrap().as_deref(),
            Some(&b"second\n"[..])
        );
    }
}
