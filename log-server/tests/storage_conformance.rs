//! The storage contract (`gazette_log::storage`), checked the same way on
//! both backends: the filesystem, and the object store on a real 3-node
//! Garage cluster (replication factor 3) with the sequencer lease on a real
//! 3-node etcd cluster, started on loopback by `gazette_tests::engines`.
//! Then what only the object store has to keep: one sequencer at a time, a
//! stale one refused, a half-done commit finished by the next holder.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gazette_log::storage::{CHECKPOINT, FsStorage, ObjectStorage, Storage};
use object_store::ObjectStore;

mod common;

use common::engines::{Endpoints, Engines};

/// What every backend keeps; `storage` is empty.
fn contract(storage: &dyn Storage) {
    assert_eq!(storage.read(CHECKPOINT).unwrap(), None);
    assert_eq!(storage.read("tile/0/000").unwrap(), None);
    assert_eq!(storage.read_witnessed_checkpoint().unwrap(), None);

    // A commit: every object, then the checkpoint.
    let objects: Vec<(String, Vec<u8>)> = [
        "tile/0/000.p/1",
        "tile/0/000.p/2",
        "tile/0/000",
        "tile/entries/000.p/2",
        "tile/entries/000",
        "tile/0/x001/002.p/9",
        "tile/0/x001/002",
        "tile/0/001.p/3",
        "tile/0/001.p/4",
    ]
    .iter()
    .enumerate()
    .map(|(i, p)| (p.to_string(), vec![i as u8; 100 + i]))
    .collect();
    storage.commit(&objects, b"first checkpoint\n").unwrap();
    for (path, data) in &objects {
        assert_eq!(storage.read(path).unwrap().as_ref(), Some(data), "{path}");
    }
    assert_eq!(
        storage.read(CHECKPOINT).unwrap().as_deref(),
        Some(&b"first checkpoint\n"[..])
    );
    // A commit without objects replaces the checkpoint alone.
    storage.commit(&[], b"second checkpoint\n").unwrap();
    assert_eq!(
        storage.read(CHECKPOINT).unwrap().as_deref(),
        Some(&b"second checkpoint\n"[..])
    );

    // Partial tiles: found beside a full tile, or behind a wider one.
    assert_eq!(
        storage.superseded_partial_tiles().unwrap(),
        [
            "tile/0/000.p/1",
            "tile/0/000.p/2",
            "tile/0/001.p/3",
            "tile/0/x001/002.p/9",
            "tile/entries/000.p/2",
        ]
    );
    let mut widths = storage.partial_widths("tile/0/001").unwrap();
    widths.sort();
    assert_eq!(widths, [3, 4]);
    assert_eq!(
        storage.partial_widths("tile/0/005").unwrap(),
        Vec::<u32>::new()
    );
    assert_eq!(storage.remove_partial_tiles("tile/0/000").unwrap(), 2);
    assert_eq!(storage.remove_partial_tiles("tile/0/000").unwrap(), 0);
    assert!(storage.read("tile/0/000").unwrap().is_some());
    storage.remove("tile/0/001.p/3").unwrap();
    storage.remove("tile/0/001.p/3").unwrap(); // absent: nothing to do
    assert_eq!(storage.read("tile/0/001.p/3").unwrap(), None);
    assert!(storage.read("tile/0/001.p/4").unwrap().is_some());

    // The witnessed checkpoint is kept apart from the tree.
    storage
        .write_witnessed_checkpoint(b"witnessed 1\n")
        .unwrap();
    storage
        .write_witnessed_checkpoint(b"witnessed 2\n")
        .unwrap();
    storage.commit(&[], b"third checkpoint\n").unwrap();
    assert_eq!(
        storage.read_witnessed_checkpoint().unwrap().as_deref(),
        Some(&b"witnessed 2\n"[..])
    );

    // Paths that could leave the store are refused, and change nothing.
    for bad in ["../x", "tile/../../x", "/etc/passwd", ""] {
        assert!(storage.read(bad).is_err(), "read {bad:?}");
        assert!(storage.remove(bad).is_err(), "remove {bad:?}");
    }
    assert!(storage.remove_partial_tiles("../x").is_err());
    assert_eq!(storage.remove_temporaries("").unwrap(), 0);
}

#[test]
fn the_filesystem_keeps_the_storage_contract() {
    let dir = tempfile::tempdir().unwrap();
    let storage = FsStorage::open(dir.path()).unwrap();
    contract(&storage);
    // Partial tiles live in `<full>.p/`: the last one removed takes the
    // directory along, by either way of removing.
    assert!(!dir.path().join("tile/0/000.p").exists());
    assert!(dir.path().join("tile/0/001.p").exists());
    storage.remove("tile/entries/000.p/2").unwrap();
    assert!(!dir.path().join("tile/entries/000.p").exists());
}

/// The ways the suite opens the store on the engines.
impl Engines {
    fn clients_through(
        &self,
        wrap: &dyn Fn(Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore>,
    ) -> Endpoints {
        self.clients()
            .into_iter()
            .map(|(endpoint, store)| (endpoint, wrap(store)))
            .collect()
    }

    /// A sequencer under `prefix` (in the bucket and in etcd); `lost`
    /// records why it lost the lease.
    fn sequencer(
        &self,
        prefix: &str,
        lost: Arc<Mutex<Option<String>>>,
    ) -> anyhow::Result<ObjectStorage> {
        self.sequencer_through(prefix, lost, &|store| store)
    }

    fn sequencer_through(
        &self,
        prefix: &str,
        lost: Arc<Mutex<Option<String>>>,
        wrap: &dyn Fn(Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore>,
    ) -> anyhow::Result<ObjectStorage> {
        ObjectStorage::open_sequencer(
            self.clients_through(wrap),
            prefix,
            (&self.etcd.client_endpoints(), prefix),
            Duration::from_secs(2),
            move |why| *lost.lock().unwrap() = Some(why),
        )
    }

    fn reader(&self, prefix: &str) -> ObjectStorage {
        ObjectStorage::open_reader(self.clients(), prefix).unwrap()
    }
}

fn nobody() -> Arc<Mutex<Option<String>>> {
    Arc::new(Mutex::new(None))
}

#[test]
fn the_object_store_keeps_the_storage_contract_and_fences_sequencers() {
    let engines = Engines::start();
    contract(&engines.sequencer("contract/", nobody()).unwrap());

    // A replica reads what the sequencer wrote, and cannot write.
    let sequencer = engines.sequencer("fence/", nobody()).unwrap();
    sequencer
        .commit(&[("tile/0/000.p/1".into(), vec![1; 32])], b"size 1\n")
        .unwrap();
    let reader = engines.reader("fence/");
    assert_eq!(
        reader.read(CHECKPOINT).unwrap().as_deref(),
        Some(&b"size 1\n"[..])
    );
    let refused = reader.commit(&[], b"forged\n").unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::ReadOnlyFilesystem);

    // A second sequencer waits while the first holds the lease...
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let engines = &engines;
        let tx = tx.clone();
        scope.spawn(move || {
            let second = engines.sequencer("fence/", nobody());
            tx.send(second).unwrap();
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(5)).is_err(),
            "a second sequencer got the lease while the first held it"
        );
        // ...the first goes on committing meanwhile...
        sequencer.commit(&[], b"size 2\n").unwrap();
        // ...and once it gives the lease up, the second has it, and the
        // first can no longer commit anything.
        sequencer.release();
        let second = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the second sequencer takes over once the lease is free")
            .unwrap();
        assert!(sequencer.commit(&[], b"stale\n").is_err());
        assert_eq!(
            second.read(CHECKPOINT).unwrap().as_deref(),
            Some(&b"size 2\n"[..])
        );
        second.commit(&[], b"size 3\n").unwrap();
        assert_eq!(
            reader.read(CHECKPOINT).unwrap().as_deref(),
            Some(&b"size 3\n"[..])
        );
    });
}
