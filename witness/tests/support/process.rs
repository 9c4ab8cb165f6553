//! Running the real `gazette-witness` binary, for the process-level tests
//! and the load generator (which includes this file with `#[path]`).

#![allow(dead_code)] // each includer uses part of this

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The binary under test, built by cargo for this package's tests and benches.
pub const BIN: &str = env!("CARGO_BIN_EXE_gazette-witness");

/// Runs a `gazette-witness` command to completion; panics with its stderr
/// on failure; returns its stdout.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run gazette-witness");
    assert!(
        out.status.success(),
        "gazette-witness {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running witness, killed (SIGKILL) and reaped when dropped.
pub struct Server {
    /// The child process.
    pub child: Child,
    /// Its base URL.
    pub url: String,
}

impl Server {
    /// Starts `serve` on a free loopback port.
    pub fn start(dir: &Path) -> Server {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--dir",
                dir.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start gazette-witness serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("gazette-witness listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("gazette-witness serve did not report its address");
        Server { child, url }
    }

    /// SIGKILL, now.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
