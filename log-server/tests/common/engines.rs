//! Real Garage (3 nodes) and etcd (3 members) on loopback, for the suites
//! that run the object store, and clean S3 clients for them.

use std::sync::Arc;

use gazette_log::config::ObjectStoreConfig;
use gazette_log::storage::object::clients_with;
use gazette_tests::engines::{EtcdCluster, GarageCluster};
use object_store::ObjectStore;

/// One client per S3 endpoint.
pub type Endpoints = Vec<(String, Arc<dyn ObjectStore>)>;

/// Garage and etcd, their data in a temp directory; stopped when dropped.
pub struct Engines {
    _dir: tempfile::TempDir,
    /// The object store.
    pub garage: GarageCluster,
    /// The lock store.
    pub etcd: EtcdCluster,
}

impl Engines {
    /// Starts both clusters.
    pub fn start() -> Engines {
        let dir = tempfile::tempdir().unwrap();
        let garage = GarageCluster::start(&dir.path().join("garage"));
        let etcd = EtcdCluster::start(&dir.path().join("etcd"));
        Engines {
            _dir: dir,
            garage,
            etcd,
        }
    }

    /// A clean client per Garage node.
    pub fn clients(&self) -> Endpoints {
        let config = ObjectStoreConfig {
            endpoints: self.garage.s3_endpoints(),
            bucket: self.garage.bucket().to_owned(),
            region: self.garage.region().to_owned(),
            prefix: String::new(),
        };
        clients_with(
            &config,
            self.garage.access_key_id(),
            self.garage.secret_access_key(),
        )
        .unwrap()
    }
}
