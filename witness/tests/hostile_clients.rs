//! The real `gazette-witness`, under a low open-file limit, against clients
//! that hold connections without finishing their headers (slowloris), from
//! other loopback addresses than the honest caller: it keeps answering
//! (`/healthz`, `/logs`) and closes the idle connections itself.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use gazette_tests::attack::{idle_connections, raise_open_file_limit, still_open};
use gazette_tests::process::{self, Options, Server};

fn gazette_witness() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gazette-witness"))
}

/// A bound against hanging, far above the timeouts configured here.
const DEADLINE: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_never_stop_the_witness() {
    let files = raise_open_file_limit();
    let idle = 1000.min(usize::try_from(files.saturating_sub(200)).unwrap_or(1000));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    process::run(
        gazette_witness(),
        &["init", "--name", "witness.example.org", "--dir", d],
    );
    let config = dir.path().join("gazette-witness.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("max_per_address = 128") && text.contains("header_timeout_s = 10"));
    let text = text
        .replace("max_per_address = 128", "max_per_address = 16")
        .replace("header_timeout_s = 10", "header_timeout_s = 2");
    std::fs::write(&config, text).unwrap();
    let server = Server::start_with(
        gazette_witness(),
        dir.path(),
        &Options {
            open_files: Some(256),
            ..Options::default()
        },
    );
    let addr: SocketAddr = server.addr().parse().unwrap();
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .unwrap();

    let held = idle_connections(addr, 4, idle, b"POST /add-checkpoint HTTP/1.1\r\n").await;
    for path in ["/healthz", "/logs"] {
        let reply = client
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "{path}");
    }
    let count = held.len();
    assert_eq!(
        still_open(held, DEADLINE).await,
        0,
        "idle connections the witness never closed"
    );
    println!(
        "witness: {count} of {idle} idle connections made, all closed by the witness; peak RSS {} MiB",
        process::peak_rss_kib(server.pid()) >> 10
    );
}
