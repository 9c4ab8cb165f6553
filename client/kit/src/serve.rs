//! What a daemon's `serve` does around its HTTP router: tracing to stderr
//! with one line per request, a tokio runtime, the listener, the line that
//! says where it listens, and stopping on Ctrl-C or SIGTERM.

use std::io::{self, IsTerminal as _};
use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{Request, Response};
use tokio::net::TcpListener;
use tracing::Span;

/// Why a daemon could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No tokio runtime.
    #[error("starting the tokio runtime")]
    Runtime(#[source] io::Error),
    /// No listener on the address.
    #[error("listening on {addr}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why not.
        #[source]
        source: io::Error,
    },
}

/// What is logged when `RUST_LOG` is unset: `info`, with the storage
/// engine's own chatter (fjall and lsm-tree, some twenty lines at every
/// start) kept to its warnings.
pub const DEFAULT_LOG_FILTER: &str = "info,fjall=warn,lsm_tree=warn";

/// The target of the one line per HTTP request ([`log_response`]):
/// `RUST_LOG=info,gazette::access=warn` leaves the requests out.
pub const ACCESS_TARGET: &str = "gazette::access";

/// Sends the process's tracing to stderr (stdout is for what scripts
/// read), filtered by `RUST_LOG` or else [`DEFAULT_LOG_FILTER`]. Colour
/// only on a terminal, and never with `NO_COLOR` set (no-color.org): a
/// file or journald gets plain text.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| DEFAULT_LOG_FILTER.into());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal() && !no_color)
        .with_writer(io::stderr)
        .init();
}

/// The request id header: the client's, or a new UUID.
pub const REQUEST_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-request-id");

/// The outermost layers of both daemons' routers: every request gets an
/// `x-request-id` (the client's, or a new UUID), returned with its answer,
/// and one log line ([`log_response`]) in a span that names it
/// ([`request_span`]).
pub fn with_request_log<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
) -> axum::Router<S> {
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    use tower_http::trace::TraceLayer;
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(log_response)
                // A 5xx is on the request line already (and a failing
                // handler logs why); nothing else reaches `on_failure`.
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The span a request is traced in: method, path (never the query) and
/// the `x-request-id` a layer outside has set, so every line written while
/// the request is handled names it. At level ERROR, so that the span, and
/// the request id with it, is there whatever `RUST_LOG` lets through.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let id = request
        .headers()
        .get("x-request-id")
        .map_or(&b""[..], |v| v.as_bytes());
    access_span(request.method().as_str(), request.uri().path(), id)
}

/// The span of a request to `path` with the request id `id`: a plain id
/// as it is, any other quoted (one with spaces, quotes or `=` cannot pass
/// for other fields of the line).
fn access_span(method: &str, path: &str, id: &[u8]) -> Span {
    // Text as a header value's `to_str` reads it: visible ASCII or tabs.
    let text = id.iter().all(|&b| b == b'\t' || (32..127).contains(&b));
    let id = std::str::from_utf8(id).ok().filter(|_| text).unwrap_or("");
    match plain_request_id(id.as_bytes()) {
        true => tracing::error_span!("request", %method, %path, request_id = %id),
        false => tracing::error_span!("request", %method, %path, request_id = ?id),
    }
}

/// Whether a client's request id is plain: letters, digits and `-_.:/+`.
pub fn plain_request_id(id: &[u8]) -> bool {
    id.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"-_.:/+".contains(&b))
}

/// The one line per request, at INFO in the request's span, once the
/// response's head is ready: its status and the time taken in
/// milliseconds. Never a body. (A failure inside the handler has its own
/// line, in the same span.)
pub fn log_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    access_line(response.status().as_u16(), latency);
}

fn access_line(status: u16, latency: Duration) {
    tracing::info!(
        target: ACCESS_TARGET,
        status,
        latency_ms = %format_args!("{:.2}", latency.as_secs_f64() * 1e3),
        "answered",
    );
}

/// The line [`log_response`] writes, in the span [`request_span`] makes,
/// for a request answered outside the router (`http`'s fast lane).
pub fn log_answer(method: &str, path: &str, id: &str, status: u16, latency: Duration) {
    if tracing::enabled!(target: ACCESS_TARGET, tracing::Level::INFO) {
        access_span(method, path, id.as_bytes()).in_scope(|| access_line(status, latency));
    }
}

/// Runs `serve` on a new multi-threaded tokio runtime with a listener
/// bound to `addr` (port 0: any free port), once `program` has printed
/// `<program> listening on http://<address>` on stdout: tests and scripts
/// read that line to find the port.
pub fn serve<F, E>(
    program: &str,
    addr: SocketAddr,
    serve: impl FnOnce(TcpListener) -> F,
) -> Result<(), E>
where
    F: Future<Output = Result<(), E>>,
    E: From<ServeError>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let listen = |source| ServeError::Listen { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(listen)?;
        let bound = listener.local_addr().map_err(listen)?;
        println!("{program} listening on http://{bound}");
        serve(listener).await
    })
}

/// A daemon command's end: exit 0, or the error and its causes (given as
/// `format!("{e:#}")`) on one line of stderr and exit 1. Never a stack
/// backtrace, even with `RUST_BACKTRACE` set: an operator's mistake (a
/// missing file, a bad key) is not a crash.
pub fn exit_code(program: &str, result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{program}: error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what systemd sends to stop a service):
/// hand it to the server as its graceful shutdown.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What `request_span` and `log_response` write for `request`
    /// answered with `status`, formatted as the daemons do (no colour).
    fn logged(request: Request<()>, status: u16) -> String {
        written(|| {
            let span = request_span(&request);
            let _entered = span.enter();
            let response = Response::builder().status(status).body(()).unwrap();
            log_response(&response, Duration::from_micros(1500), &span);
        })
    }

    /// What `log` writes, formatted as the daemons do (no colour).
    fn written(log: impl FnOnce()) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(DEFAULT_LOG_FILTER)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn an_answer_outside_the_router_is_logged_with_the_same_line() {
        for id in ["3f2a-77", "x status=500", "caf\u{e9}"] {
            let request = Request::get("/tile/0/000")
                .header("x-request-id", id.as_bytes())
                .body(())
                .unwrap();
            let routed = logged(request, 200);
            let outside = written(|| {
                log_answer("GET", "/tile/0/000", id, 200, Duration::from_micros(1500));
            });
            // The lines but their time stamps.
            let text = |out: &str| out.split_once(' ').map(|(_, rest)| rest.to_owned());
            assert_eq!(text(&outside), text(&routed), "{id}");
            assert!(
                routed.contains("answered status=200 latency_ms=1.50"),
                "{routed}"
            );
        }
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_request_is_one_line_with_its_id_method_path_status_and_latency_but_no_query() {
        let request = Request::get("/lookup?digest=00ff&id=X-1")
            .header("x-request-id", "3f2a-77")
            .body(())
            .unwrap();
        let out = logged(request, 404);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.contains(" INFO request{method=GET path=/lookup request_id=3f2a-77}: gazette::access: answered status=404 latency_ms=1.50\n"), "{out}");
        assert!(!out.contains("digest") && !out.contains("X-1"), "{out}");
    }

    #[test]
    fn a_client_request_id_that_could_pass_for_fields_is_quoted() {
        let request = Request::get("/checkpoint")
            .header("x-request-id", "x status=500")
            .body(())
            .unwrap();
        let out = logged(request, 200);
        assert!(out.contains(r#"request_id="x status=500"}"#), "{out}");
        assert!(out.contains("answered status=200 "), "{out}");
    }

    #[test]
    fn serve_hands_over_a_listener_bound_to_a_free_port() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut port = 0;
        let served: Result<(), ServeError> = serve("gazette-test", addr, |listener| {
            port = listener.local_addr().unwrap().port();
            async { Ok(()) }
        });
        served.unwrap();
        assert_ne!(port, 0);
    }

    #[test]
    fn an_address_in_use_is_refused_with_the_address() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let served: Result<(), ServeError> = serve("gazette-test", addr, |_| async { Ok(()) });
        let err = served.unwrap_err();
        assert!(matches!(err, ServeError::Listen { .. }), "{err:?}");
        assert_eq!(err.to_string(), format!("listening on {addr}"));
    }
}
