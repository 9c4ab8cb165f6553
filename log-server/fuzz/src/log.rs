//! The `http_log` target: any request to the log's whole router, on one
//! log (in a temporary directory, with one registered agency) kept for the
//! process. Besides never panicking and never answering a server error,
//! every error answer has the one JSON shape, `{"error","status"}`, its
//! status the answer's.

use std::sync::{Arc, OnceLock};

use gazette_client::note::{KeyType, Signer};
use gazette_log::config::Config;
use gazette_log::log::Log;

use crate::request::{Served, request};

/// The agency whose records the log takes (so well-formed inputs can log).
pub fn agency() -> Signer {
    Signer::from_seed("agency.fuzz.example", KeyType::Ed25519, [0x22; 32]).unwrap()
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let origin = "log.fuzz.example/records";
        let key = Signer::from_seed(origin, KeyType::Ed25519, [0x11; 32]).unwrap();
        let listen = "127.0.0.1:0".parse().unwrap();
        Served::start(
            ("gazette-log.toml", Config::template(origin, listen)),
            ("log.key", &key),
            |dir| {
                gazette_log::agencies::add(&dir.join("agencies.txt"), &agency().verifier(), 0)
                    .unwrap();
            },
            |dir| gazette_log::api::router(Arc::new(Log::open(dir).unwrap())),
        )
    })
}

/// The target's body.
pub fn http_log(data: &[u8]) {
    let Some(request) = request(data) else {
        return;
    };
    let head = request.method() == axum::http::Method::HEAD;
    let (status, body) = served().answer(request);
    if status.as_u16() >= 400 && !head {
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "{status}: not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        assert_eq!(json["status"], status.as_u16(), "{json}");
        assert!(json["error"].is_string(), "{json}");
    }
}
