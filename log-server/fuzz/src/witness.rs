//! The `http_witness` target: any request to the witness's router, on one
//! witness (in a temporary directory, following one log) kept for the
//! process. Besides never panicking, it never answers a server error
//! other than "retry later".

use std::sync::{Arc, OnceLock};

use gazette_client::note::{KeyType, Signer};
use gazette_witness::config::Config;
use gazette_witness::witness::Witness;

use crate::request::{answer, request};

struct Served {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

/// The log the witness follows (so well-formed inputs can be cosigned).
pub fn followed_log() -> Signer {
    Signer::from_seed("log.fuzz.example/records", KeyType::Ed25519, [0x11; 32]).unwrap()
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let name = "witness.fuzz.example";
        let key = Signer::from_seed(name, KeyType::Cosignature, [0x33; 32]).unwrap();
        let listen = "127.0.0.1:0".parse().unwrap();
        std::fs::write(
            dir.path().join("gazette-witness.toml"),
            Config::template(name, listen),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("witness.key"),
            format!("{}\n", key.to_skey()),
        )
        .unwrap();
        gazette_witness::logs::add(&dir.path().join("logs.txt"), &followed_log().verifier())
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let witness = Arc::new(Witness::open(dir.path()).unwrap());
        let router = gazette_witness::api::router(witness);
        Served {
            _dir: dir,
            runtime,
            router,
        }
    })
}

/// The target's body.
pub fn http_witness(data: &[u8]) {
    let Some(request) = request(data) else {
        return;
    };
    let served = served();
    answer(&served.runtime, &served.router, request);
}
