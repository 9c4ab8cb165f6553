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

/// Sends `request` through `router` on `runtime` (bounded in time) and
/// returns the answer's status and body. A server error other than 503 or
/// 507 (both of which say "retry later") is a bug: it panics.
pub fn answer(
    runtime: &tokio::runtime::Runtime,
    router: &axum::Router,
    request: Request<Body>,
) -> (StatusCode, Vec<u8>) {
    use tower::ServiceExt;
    let what = format!("{} {}", request.method(), request.uri());
    let response: Response<Body> = runtime.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            router.clone().oneshot(request),
        )
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 30 s"))
        .expect("the router is infallible")
    });
    let status = response.status();
    let body = runtime
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
