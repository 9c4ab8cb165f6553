//! Shared by the witness tests: a witness in a temp directory, a test log
//! (its key and an in-memory tree of stored hashes), and requests.

#![allow(dead_code)] // each test file uses part of this

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use gazette_client::checkpoint::Checkpoint;
use gazette_client::merkle::{self, Hash, leaf_hash, stored_hashes_for_leaf};
use gazette_client::note::{KeyType, Signer, Verifier};
use gazette_client::witness_protocol::AddCheckpointRequest;
use gazette_witness::config::{CONFIG_FILE, Config};
use gazette_witness::witness::Witness;
use tower::ServiceExt as _;

pub const WITNESS: &str = "witness.test.example";
pub const ORIGIN: &str = "log.test.example/records";

pub fn witness_key() -> Signer {
    Signer::from_seed(WITNESS, KeyType::Cosignature, [41; 32]).unwrap()
}

pub fn log_key() -> Signer {
    Signer::from_seed(ORIGIN, KeyType::Ed25519, [42; 32]).unwrap()
}

/// Writes a witness data directory following `logs`, as `init` and
/// `add-log` do.
pub fn init_witness(dir: &Path, logs: &[Verifier]) {
    std::fs::create_dir_all(dir).unwrap();
    let listen = "127.0.0.1:0".parse().unwrap();
    std::fs::write(dir.join(CONFIG_FILE), Config::template(WITNESS, listen)).unwrap();
    std::fs::write(
        dir.join("witness.key"),
        format!("{}\n", witness_key().to_skey()),
    )
    .unwrap();
    for log in logs {
        gazette_witness::logs::add(&dir.join("logs.txt"), log).unwrap();
    }
}

pub fn open(dir: &Path) -> Arc<Witness> {
    Arc::new(Witness::open(dir).expect("open the witness"))
}

pub fn router(witness: &Arc<Witness>) -> Router {
    gazette_witness::api::router(witness.clone())
}

/// A reply, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

pub async fn post(app: &Router, body: &str) -> Reply {
    let request = Request::post("/add-checkpoint")
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(app, request).await
}

pub async fn get(app: &Router, path: &str) -> Reply {
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    Reply {
        status,
        content_type,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// A log's tree in memory: Go's stored-hash layout, any size's root and
/// consistency proofs.
#[derive(Clone, Default)]
pub struct Tree {
    stored: Vec<Hash>,
    size: u64,
}

impl Tree {
    /// A tree of `n` leaves, leaf `i` being `tag ‖ i`.
    pub fn with_leaves(n: u64, tag: &str) -> Tree {
        let mut tree = Tree::default();
        tree.grow(n, tag);
        tree
    }

    /// Appends leaves until the tree has `n`.
    pub fn grow(&mut self, n: u64, tag: &str) {
        while self.size < n {
            let leaf = leaf_hash(format!("{tag} {}", self.size).as_bytes());
            let hashes = stored_hashes_for_leaf(self.size, leaf, self.stored.as_slice()).unwrap();
            self.stored.extend(hashes);
            self.size += 1;
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn root(&self, size: u64) -> Hash {
        if size == 0 {
            return merkle::empty_root();
        }
        merkle::tree_hash(size, self.stored.as_slice()).unwrap()
    }

    pub fn consistency(&self, old: u64, size: u64) -> Vec<Hash> {
        if old == 0 || old == size {
            return Vec::new();
        }
        merkle::prove_consistency(old, size, self.stored.as_slice()).unwrap()
    }

    /// The checkpoint of `size` signed by `key`.
    pub fn signed(&self, size: u64, key: &Signer) -> String {
        Checkpoint {
            origin: key.name().to_owned(),
            size,
            root: self.root(size),
            extensions: Vec::new(),
        }
        .sign(key)
        .unwrap()
    }

    /// The add-checkpoint body taking a witness from `old` to `size`.
    pub fn request(&self, old: u64, size: u64, key: &Signer) -> String {
        let note = self.signed(size, key);
        AddCheckpointRequest {
            old_size: old,
            proof: self.consistency(old, size),
            checkpoint: Checkpoint::parse(&note[..note.find("\n\n").unwrap() + 1]).unwrap(),
            note,
        }
        .to_body()
    }
}
