//! `GET /`: the public verification page, static files from `wasm/www/`
//! (the WebAssembly bundle in `pkg/` is built by `scripts/build-page`), and
//! `GET /policy`, its trust root, and `GET /names`, the display names it shows.
//! Anything that is neither an API route nor a page file is a JSON 404.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::ApiError;
use crate::log::Log;

/// What the page may load: its own files and the log's API, nothing else,
/// so a document dropped on it cannot be sent anywhere but the log (and the
/// page sends only digests). `wasm-unsafe-eval` lets it compile its wasm.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The static page with its headers, and a JSON 404 for everything else:
/// the API router's fallback.
pub fn router<S: Clone + Send + Sync + 'static>(dir: PathBuf) -> Router<S> {
    if !dir.join("pkg").join("gazette_wasm_bg.wasm").is_file() {
        tracing::warn!(
            page = %dir.display(),
            "the verification page's bundle is not built (run scripts/build-page)"
        );
    }
    let not_found =
        (|| async { ApiError::NotFound("no such route or page file; see GET /info".into()) })
            .into_service();
    let files = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        // The page and its bundle change with each build: always revalidate.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(
            ServeDir::new(dir)
                // POST /no-such-route is a JSON 404 too, not ServeDir's 405.
                .call_fallback_on_method_not_allowed(true)
                .not_found_service(not_found),
        );
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(page_paths_only))
}

/// `GET /policy`: the trust root of the page served at `/` (the file an
/// independently hosted copy keeps beside its `index.html`): the log's own
/// witness policy with its `log` line, which has no URL, so the page reads
/// the log where it was loaded from. A copy hosted elsewhere, built with
/// `gazette page build`, keeps its own and never reads this one.
pub async fn policy(State(log): State<Arc<Log>>) -> Response {
    page_file_text(log.policy_text.clone())
}

/// `GET /names`: the display names the page served at `/` shows (the
/// file an independently hosted copy keeps beside its `index.html`); empty
/// when the log has none.
pub async fn names(State(log): State<Arc<Log>>) -> Response {
    page_file_text(log.names().as_ref().clone())
}

/// A trust-root file of the page as the log serves it: plain text, always
/// revalidated (the operator may change it while the log runs).
fn page_file_text(text: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        text,
    )
        .into_response()
}

/// Longest name a page file may have, and longest path.
const MAX_NAME: usize = 255;
const MAX_PATH: usize = 1024;

/// Lets through only paths that could name a page file: a path whose
/// decoded form holds a control byte (`%00`), an over-long name or an
/// over-long path is a JSON 404 here, before the filesystem is asked (it
/// would fail with an error the file server reports as a 500).
async fn page_paths_only(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let plain = path.len() <= MAX_PATH
        && path.split('/').all(|name| name.len() <= MAX_NAME)
        && !percent_decoded(path).any(|b| b < 0x20 || b == 0x7f);
    if !plain {
        return ApiError::NotFound("no such route or page file; see GET /info".into())
            .into_response();
    }
    next.run(request).await
}

/// The bytes of `path` with `%XX` escapes decoded (a malformed escape is
/// kept as it is).
fn percent_decoded(path: &str) -> impl Iterator<Item = u8> + '_ {
    let bytes = path.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *bytes.get(i)?;
        let hex = |c: u8| (c as char).to_digit(16);
        if b == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|&c| hex(c)),
                bytes.get(i + 2).and_then(|&c| hex(c)),
            )
        {
            i += 3;
            return Some((hi * 16 + lo) as u8);
        }
        i += 1;
        Some(b)
    })
}
