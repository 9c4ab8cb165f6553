//! The `http_witness` target: any request to the witness's router, on one
//! witness (in a temporary directory, following one log) kept for the
//! process. Besides never panicking, it never answers a server error
//! other than "retry later".

use std::sync::{Arc, OnceLock};

use gazette_client::note::{KeyType, Signer};
use gazette_witness::config::Config;
use gazette_witness::witness::Witness;

use crate::request::{Served, request};

/// The log the witness follows (so well-formed inputs can be cosigned).
pub fn followed_log() -> Signer {
    Signer::from_seed("log.fuzz.example/records", KeyType::Ed25519, [0x11; 32]).unwrap()
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let name = "witness.fuzz.example";
        let key = Signer::from_seed(name, KeyType::Cosignature, [0x33; 32]).unwrap();
        let listen = "127.0.0.1:0".parse().unwrap();
        Served::start(
            ("gazette-witness.toml", Config::template(name, listen)),
            ("witness.key", &key),
            |dir| {
                gazette_witness::logs::add(&dir.join("logs.txt"), &followed_log().verifier())
                    .unwrap();
            },
            |dir| gazette_witness::api::router(Arc::new(Witness::open(dir).unwrap())),
        )
    })
}

/// The target's body.
pub fn http_witness(data: &[u8]) {
    if let Some(request) = request(data) {
        served().answer(request);
    }
}
