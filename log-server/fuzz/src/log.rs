//! The `http_log` target: any request to the log's whole router, on one
//! log (in a temporary directory, with a registered agency and a few
//! records) kept for the process. Besides never panicking and never
//! answering a server error, every error answer has the one JSON shape,
//! `{"error","status"}`, its status the answer's.

use std::sync::{Arc, OnceLock};

use gazette_client::note::{KeyType, Signer};
use gazette_log::config::Config;
use gazette_log::log::Log;

use crate::request::{answer, request};

struct Served {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

/// The agency whose records the log takes (so well-formed inputs can log).
pub fn agency() -> Signer {
    Signer::from_seed("agency.fuzz.example", KeyType::Ed25519, [0x22; 32]).unwrap()
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let origin = "log.fuzz.example/records";
        let log_key = Signer::from_seed(origin, KeyType::Ed25519, [0x11; 32]).unwrap();
        let listen = "127.0.0.1:0".parse().unwrap();
        std::fs::write(
            dir.path().join("gazette-log.toml"),
            Config::template(origin, listen),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("log.key"),
            format!("{}\n", log_key.to_skey()),
        )
        .unwrap();
        gazette_log::agencies::add(&dir.path().join("agencies.txt"), &agency().verifier(), 0)
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let log = runtime.block_on(async { Arc::new(Log::open(dir.path()).unwrap()) });
        let router = gazette_log::api::router(log);
        Served {
            _dir: dir,
            runtime,
            router,
        }
    })
}

/// The target's body.
pub fn http_log(data: &[u8]) {
    let Some(request) = request(data) else {
        return;
    };
    let head = request.method() == axum::http::Method::HEAD;
    let served = served();
    let (status, body) = answer(&served.runtime, &served.router, request);
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
