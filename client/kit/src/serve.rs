//! What a daemon's `serve` does around its HTTP router: tracing to stderr,
//! a tokio runtime, the listener, the line that says where it listens, and
//! stopping on Ctrl-C or SIGTERM.

use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;

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

/// Sends the process's tracing to stderr, filtered by `RUST_LOG` (default
/// `info`): stdout is for what scripts read.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
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
    use super::*;

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
