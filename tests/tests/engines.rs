//! The distributed engines the storage tests run against really are
//! replicated clusters: what is written through one node is read through
//! another, and losing one node of three loses neither service nor data.

use gazette_tests::engines::{EtcdCluster, GarageCluster, etcd_available, garage_available};
use std::time::Instant;

/// Fails (not skips) without the engine: CI must run these tests.
fn require(available: Result<(), String>) {
    if let Err(missing) = available {
        panic!("an engine is missing (./scripts/test installs it):\n{missing}");
    }
}

#[test]
fn garage_replicates_across_nodes_and_survives_a_killed_node() {
    require(garage_available());
    let dir = tempfile::tempdir().expect("a temp dir");
    let started = Instant::now();
    let mut garage = GarageCluster::start(dir.path());
    eprintln!("garage: 3 nodes serving after {:?}", started.elapsed());
    assert_eq!(garage.s3_endpoints().len(), 3);
    assert!(garage.access_key_id().starts_with("GK"));

    garage
        .put_object(0, "tile/0/000", b"written through node 0")
        .unwrap();
    assert_eq!(
        garage.get_object(1, "tile/0/000").unwrap(),
        b"written through node 0"
    );

    garage.kill(0);
    // Until Garage notices the dead peer (at its next ping), this may wait.
    let put = Instant::now();
    garage
        .put_object(1, "tile/0/001", b"written with node 0 down")
        .unwrap();
    eprintln!("garage: a put with node 0 down took {:?}", put.elapsed());
    assert_eq!(
        garage.get_object(2, "tile/0/001").unwrap(),
        b"written with node 0 down"
    );
    assert_eq!(
        garage.get_object(2, "tile/0/000").unwrap(),
        b"written through node 0",
        "an object written before the kill is lost"
    );
    // The unknown key is an error, not an empty object.
    assert!(garage.get_object(1, "tile/0/999").is_err());

    // Back, node 0 serves what was written while it was down.
    let restarted = Instant::now();
    garage.restart(0);
    eprintln!(
        "garage: node 0 serving again after {:?}",
        restarted.elapsed()
    );
    assert_eq!(
        garage.get_object(0, "tile/0/001").unwrap(),
        b"written with node 0 down"
    );
}

#[test]
fn etcd_keeps_serving_with_one_member_killed() {
    require(etcd_available());
    let dir = tempfile::tempdir().expect("a temp dir");
    let started = Instant::now();
    let mut etcd = EtcdCluster::start(dir.path());
    eprintln!("etcd: 3 members healthy after {:?}", started.elapsed());
    let endpoints = etcd.client_endpoints();
    assert_eq!(endpoints.len(), 3);
    assert!(endpoints.iter().all(|e| !e.ends_with(":2379")));

    etcd.etcdctl(0, &["put", "checkpoint", "size 1"]).unwrap();
    assert_eq!(get(&etcd, 1, "checkpoint"), "size 1");

    // The leader, so that the survivors must elect a new one.
    let leader = etcd.leader().expect("a leader");
    let [next, last] = [1, 2].map(|k| (leader + k) % 3);
    etcd.kill(leader);
    put_retrying(&etcd, next, "checkpoint", "size 2");
    assert_eq!(get(&etcd, last, "checkpoint"), "size 2");
    let new_leader = etcd.leader().expect("a new leader");
    assert_ne!(new_leader, leader);

    // Back, the old leader catches up on what it missed.
    let restarted = Instant::now();
    etcd.restart(leader);
    eprintln!(
        "etcd: member {leader} healthy again after {:?}",
        restarted.elapsed()
    );
    assert_eq!(get(&etcd, leader, "checkpoint"), "size 2");
}

/// Puts `value` through member `member`, trying again after a timeout as
/// every client must: a write sent during an election is lost. (Here the
/// value is the same each time, so a timed-out put that did land is
/// harmless.)
fn put_retrying(etcd: &EtcdCluster, member: usize, key: &str, value: &str) {
    let mut errors = Vec::new();
    for _ in 0..3 {
        match etcd.etcdctl(member, &["--command-timeout=3s", "put", key, value]) {
            Ok(_) => return,
            Err(e) => {
                eprintln!("etcd: a put through member {member} failed, trying again: {e}");
                errors.push(e);
            }
        }
    }
    panic!("3 puts through member {member} failed: {errors:#?}");
}

/// The value of `key`, read linearizably through member `member`.
fn get(etcd: &EtcdCluster, member: usize, key: &str) -> String {
    etcd.etcdctl(member, &["get", "--print-value-only", key])
        .unwrap()
        .trim_end()
        .to_owned()
}
