//! Fuzz input → HTTP request, shared by the HTTP fuzz targets and by the
//! stable tests that replay their corpora.
//!
//! The input: one byte choosing the method; the request target (path and
//! query) up to the first newline; header lines `name: value` up to an
//! empty line (at most 32; malformed ones are skipped); the rest is the
//! body. A target that is not a valid URI gives no request.

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};

const METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::HEAD,
    Method::PUT,
    Method::DELETE,
    Method::OPTIONS,
];

/// The request `data` describes, if any.
pub fn request(data: &[u8]) -> Option<Request<Body>> {
    let (&method, rest) = data.split_first()?;
    let method = METHODS[usize::from(method) % METHODS.len()].clone();
    let (target, rest) = split_once(rest, b"\n").unwrap_or((rest, b""));
    let (head, body) = split_once(rest, b"\n\n").unwrap_or((rest, b""));
    let target = std::str::from_utf8(target).ok()?;
    if !target.starts_with('/') {
        return None;
    }
    let mut request = Request::builder().method(method).uri(target);
    for line in head.split(|&b| b == b'\n').take(32) {
        let Some((name, value)) = split_once(line, b":") else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.trim_ascii()),
            axum::http::HeaderValue::from_bytes(value.trim_ascii()),
        ) else {
            continue;
        };
        request = request.header(name, value);
    }
    request.body(Body::from(body.to_vec())).ok()
}

fn split_once<'a>(data: &'a [u8], at: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let i = data.windows(at.len()).position(|w| w == at)?;
    Some((&data[..i], &data[i + at.len()..]))
}

/// A server kept for the process: its data directory, its runtime and its
/// router.
pub struct Served {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

impl Served {
    /// A daemon in a new temporary directory: `config` and `key` written as
    /// `init` writes them (`key` as its skey line), then `setup` (the lists
    /// it follows), then `open` (on the server's own runtime) gives the
    /// router.
    pub fn start(
        config: (&str, String),
        key: (&str, &gazette_client::note::Signer),
        setup: impl FnOnce(&std::path::Path),
        open: impl FnOnce(&std::path::Path) -> axum::Router,
    ) -> Served {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(config.0), config.1).unwrap();
        std::fs::write(dir.path().join(key.0), format!("{}\n", key.1.to_skey())).unwrap();
        setup(dir.path());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let router = runtime.block_on(async { open(dir.path()) });
        Served {
            _dir: dir,
            runtime,
            router,
        }
    }

    /// Sends `request` through the router (bounded in time) and returns
    /// the answer's status and body. A server error other than 503 or 507
    /// (both of which say "retry later") is a bug: it panics.
    pub fn answer(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        use tower::ServiceExt;
        let what = format!("{} {}", request.method(), request.uri());
        let response: Response<Body> = self.runtime.block_on(async {
            tokio::time::timeout(
                std::time::Duration::from_secs(30),
                self.router.clone().oneshot(request),
            )
            .await
            .unwrap_or_else(|_| panic!("{what}: no answer within 30 s"))
            .expect("the router is infallible")
        });
        let status = response.status();
        let body = self
            .runtime
            .block_on(axum::body::to_bytes(response.into_body(), 64 << 20))
            .expect("a body");
        assert!(
            !status.is_server_error()
                || status == StatusCode::SERVICE_UNAVAILABLE
                || status == StatusCode::INSUFFICIENT_STORAGE,
            "{what}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        (status, body.to_vec())
    }
}
