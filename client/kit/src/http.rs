//! Serving HTTP to clients that may be hostile: slow, idle, flooding.
//!
//! - [`serve_http`] accepts connections itself, so that it can bound them:
//!   at most [`Connections::max`] at once and [`Connections::max_per_address`]
//!   from one address (beyond, a new connection is closed at once), each
//!   request's headers within [`Connections::header_timeout_s`] (an idle
//!   keep-alive connection too), and it keeps accepting after a failed
//!   accept (out of file descriptors) instead of spinning or stopping.
//! - [`whole_body`] reads a request's body before any handler or permit
//!   sees it, within [`Connections::body_timeout_s`] and a byte budget
//!   shared by every body being received, so a slow sender holds no write
//!   slot and only the memory of what it sent.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::config::ConfigError;
use crate::fast_lane::{self, FastLane, Lanes, Prefixed, Rest};

/// How a daemon bounds its connections (`[connections]` in its
/// configuration).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Connections {
    /// Connections at once; beyond, a new one is closed at once. Lowered
    /// at start to half the process's open-file limit if that is smaller.
    #[serde(default = "default_max")]
    pub max: usize,
    /// Connections at once from one client address.
    #[serde(default = "default_max_per_address")]
    pub max_per_address: usize,
    /// Seconds a connection may take to send a request's headers, and may
    /// stay idle between requests.
    #[serde(default = "default_header_timeout_s")]
    pub header_timeout_s: u64,
    /// Seconds a request's body may take to arrive whole; and an answer
    /// of the fast lane ([`crate::fast_lane`]) to be taken by the client.
    #[serde(default = "default_body_timeout_s")]
    pub body_timeout_s: u64,
    /// MiB of request bodies being received at once, all connections
    /// together; a body that would go beyond is answered 503.
    #[serde(default = "default_body_budget_mib")]
    pub body_budget_mib: usize,
}

fn default_max() -> usize {
    1024
}
fn default_max_per_address() -> usize {
    128
}
fn default_header_timeout_s() -> u64 {
    10
}
fn default_body_timeout_s() -> u64 {
    60
}
fn default_body_budget_mib() -> usize {
    512
}

impl Default for Connections {
    fn default() -> Connections {
        Connections {
            max: default_max(),
            max_per_address: default_max_per_address(),
            header_timeout_s: default_header_timeout_s(),
            body_timeout_s: default_body_timeout_s(),
            body_budget_mib: default_body_budget_mib(),
        }
    }
}

impl Connections {
    /// Checks the values (`file` names the configuration in errors).
    pub fn check(&self, file: &std::path::Path) -> Result<(), ConfigError> {
        let positive = [
            ("connections.max", self.max as u64),
            ("connections.max_per_address", self.max_per_address as u64),
            ("connections.header_timeout_s", self.header_timeout_s),
            ("connections.body_timeout_s", self.body_timeout_s),
            ("connections.body_budget_mib", self.body_budget_mib as u64),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(ConfigError::new(file, key, "must be at least 1"));
            }
        }
        Ok(())
    }

    /// The commented `[connections]` section `init` writes, with the
    /// defaults.
    pub fn template() -> String {
        let d = Connections::default();
        format!(
            r#"
[connections]
# Connections at once, and from one client address; beyond, a new one is
# closed at once. Each open connection takes a file descriptor: max is
# lowered at start to half the open-file limit (LimitNOFILE) if that is
# smaller.
max = {max}
max_per_address = {per_address}
# Seconds a client may take to send a request's headers (or stay idle
# between requests), and a request's body (or to take a tile).
header_timeout_s = {header}
body_timeout_s = {body}
# MiB of request bodies being received at once, all clients together;
# beyond, 503 with Retry-After.
body_budget_mib = {budget}
"#,
            max = d.max,
            per_address = d.max_per_address,
            header = d.header_timeout_s,
            body = d.body_timeout_s,
            budget = d.body_budget_mib,
        )
    }

    /// The connection cap this process can keep: [`Connections::max`], or
    /// half the open-file limit (raised to its hard limit first) if that
    /// is smaller, so that storage always has descriptors left.
    pub fn effective_max(&self) -> usize {
        let files = raise_open_file_limit();
        let room = usize::try_from(files / 2).unwrap_or(usize::MAX).max(1);
        if room < self.max {
            tracing::warn!(
                configured = self.max,
                open_file_limit = files,
                "connections.max lowered to {room}: raise the open-file limit (LimitNOFILE) to allow more"
            );
        }
        self.max.min(room)
    }
}

/// Raises the soft open-file limit to the hard one; returns the limit
/// (`u64::MAX` for none).
fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return limit.maximum.unwrap_or(u64::MAX);
        }
    }
    limit.current.unwrap_or(u64::MAX)
}

/// Open connections, in all and by client address.
#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection's place in [`Open`], given back when dropped.
struct Slot {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Slot {
    fn take(
        open: &Arc<Mutex<Open>>,
        address: IpAddr,
        max: usize,
        per_address: usize,
    ) -> Option<Slot> {
        let mut counts = open.lock().expect("connection counts");
        let from_address = counts.by_address.get(&address).copied().unwrap_or(0);
        if counts.total >= max || from_address >= per_address {
            return None;
        }
        counts.total += 1;
        counts.by_address.insert(address, from_address + 1);
        Some(Slot {
            open: open.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.open.lock().expect("connection counts");
        counts.total -= 1;
        if let Some(n) = counts.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// How long connections get to finish their requests once shutdown begins.
const GRACE: Duration = Duration::from_secs(10);
/// The pause after a failed accept (out of file descriptors, typically):
/// the connection waits in the backlog meanwhile.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` resolves, bounding the
/// connections as `limits` says (at most [`Connections::effective_max`]);
/// then lets open requests finish, for at most ten seconds.
///
/// With a `lane`, each connection's requests go to it first
/// ([`crate::fast_lane`]), and to the router from the first it does not
/// take.
pub async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    lane: Option<Arc<dyn FastLane>>,
    limits: &Connections,
    shutdown: impl Future<Output = ()>,
) {
    let max = limits.effective_max();
    let open = Arc::new(Mutex::new(Open::default()));
    let (stop, stopping) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout_s))
        .keep_alive(true);
    let lanes = Lanes {
        header_timeout: Duration::from_secs(limits.header_timeout_s),
        write_timeout: Duration::from_secs(limits.body_timeout_s),
    };
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    metrics::counter!(ACCEPT_FAILURES).increment(1);
                    tracing::warn!(error = %e, "accepting a connection failed; retrying shortly");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Some(slot) = Slot::take(&open, peer.ip(), max, limits.max_per_address) else {
            metrics::counter!(CONNECTIONS_REFUSED).increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let (http, lane) = (http.clone(), lane.clone());
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let _slot = slot;
            let stream = match lane {
                Some(lane) => match fast_lane::serve(stream, lane, lanes, &mut stopping).await {
                    Rest::Closed => return,
                    Rest::Router(rest) => rest,
                },
                None => Prefixed::new(Vec::new(), stream),
            };
            let connection = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = async { stopping.wait_for(|stop| *stop).await.map(|_| ()) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(GRACE, connection).await;
                }
            }
        });
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(GRACE + Duration::from_secs(1), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// Counter: accepts that failed (descriptors exhausted, typically).
pub const ACCEPT_FAILURES: &str = "gazette_http_accept_failures_total";
/// Counter: connections closed at once, over a cap.
pub const CONNECTIONS_REFUSED: &str = "gazette_http_connections_refused_total";

/// What [`whole_body`] needs: the body limit of each request, the time a
/// body may take, and the budget of bytes being received.
pub struct BodyRules {
    /// The largest body `parts` may carry.
    pub limit: Box<dyn Fn(&Parts) -> usize + Send + Sync>,
    /// How long a body may take to arrive.
    pub timeout: Duration,
    /// KiB of bodies being received or handled, all requests together.
    budget: Arc<Semaphore>,
}

impl BodyRules {
    /// Rules from the `[connections]` values and a per-request limit.
    pub fn new(
        limits: &Connections,
        limit: impl Fn(&Parts) -> usize + Send + Sync + 'static,
    ) -> Arc<BodyRules> {
        Arc::new(BodyRules {
            limit: Box::new(limit),
            timeout: Duration::from_secs(limits.body_timeout_s),
            budget: Arc::new(Semaphore::new(limits.body_budget_mib.saturating_mul(1024))),
        })
    }
}

/// An error in the shape of every other: `{"error","status"}`.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "{{\"error\":{},\"status\":{}}}",
        serde_json::Value::String(message.to_owned()),
        status.as_u16()
    );
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Middleware: gives every error answer the one JSON shape,
/// `{"error","status"}`, including those the framework makes itself (405
/// for a wrong method, 404 for no route, 413 or 400 from a body
/// extractor). Answers already JSON pass as they are; the reason is the
/// original text when there was one, and headers such as `Allow` stay.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let reason = match text.is_empty() {
        true => status.canonical_reason().unwrap_or("error").to_lowercase(),
        false => text,
    };
    let mut answer = json_error(status, &reason);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// Middleware: reads a `POST` request's body whole before passing it on
/// (so what comes after, write permits included, only ever sees complete
/// bodies), within the rules' time and its limit, taking its size from
/// the budget as it arrives and giving it back once the answer is made.
/// 413 past the limit, 408 past the time, 503 with `Retry-After` when the
/// budget is spent; nothing reaches the handler then.
pub async fn whole_body(
    State(rules): State<Arc<BodyRules>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let limit = (rules.limit)(&parts);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("a body of at most {limit} bytes is accepted here"),
        );
    }
    let mut held = None;
    let read = tokio::time::timeout(
        rules.timeout,
        read_body(body, limit, &rules.budget, &mut held),
    );
    let bytes = match read.await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(refusal)) => return refusal,
        Err(_) => {
            return json_error(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within {} s",
                    rules.timeout.as_secs()
                ),
            );
        }
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    drop(held);
    response
}

/// The body's bytes, each frame's KiB taken from `budget` into `held` (one
/// permit, grown as the body grows).
async fn read_body(
    mut body: Body,
    limit: usize,
    budget: &Arc<Semaphore>,
    held: &mut Option<tokio::sync::OwnedSemaphorePermit>,
) -> Result<Bytes, Response> {
    // Frames are kept as they came and joined once at the end: no
    // reallocation while a body grows, and no memory reserved on the word
    // of a Content-Length.
    let mut frames: Vec<Bytes> = Vec::new();
    let mut received = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            json_error(
                StatusCode::BAD_REQUEST,
                &format!("reading the request body: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received += data.len();
        if received > limit {
            return Err(json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("a body of at most {limit} bytes is accepted here"),
            ));
        }
        frames.push(data);
        let taken_kib = held.as_ref().map_or(0, |p| p.num_permits());
        let need = received.div_ceil(1024).saturating_sub(taken_kib);
        if need > 0 {
            let permit = u32::try_from(need)
                .ok()
                .and_then(|n| budget.clone().try_acquire_many_owned(n).ok())
                .ok_or_else(|| {
                    let mut busy = json_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "too many request bodies are being received at once; retry shortly",
                    );
                    busy.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                    busy
                })?;
            match held {
                Some(held) => held.merge(permit),
                None => *held = Some(permit),
            }
        }
    }
    Ok(match frames.len() {
        1 => frames.pop().expect("one frame"),
        _ => Bytes::from(frames.concat()),
    })
}
