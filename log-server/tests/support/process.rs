//! Running the real `gazette-log` binary, for the process-level tests and
//! the load generator (which includes this file with `#[path]`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The binary under test, built by cargo for this package's tests and benches.
pub const BIN: &str = env!("CARGO_BIN_EXE_gazette-log");

/// Runs a `gazette-log` command to completion; panics with its stderr on
/// failure; returns its stdout.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run gazette-log");
    assert!(
        out.status.success(),
        "gazette-log {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts `serve` on a free loopback port with `RUST_LOG=rust_log`; returns
/// the child and the URL it printed. Its stdout keeps being drained.
pub fn start(dir: &Path, rust_log: &str) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start gazette-log serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("gazette-log listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("gazette-log serve did not report its address");
    (child, url)
}

/// A running server, killed (SIGKILL) and reaped when dropped, so that a
/// failing test leaves no process behind.
#[allow(dead_code)] // not every file that includes this module uses it
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[allow(dead_code)] // the load generators use it, the tests do not
/// utime + stime from a `/proc/.../stat` file, in seconds, with the
/// thread or process name.
pub fn stat_cpu(path: &Path) -> (String, f64) {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let name = stat
        .split_once('(')
        .and_then(|(_, r)| r.rsplit_once(')'))
        .map_or(String::new(), |(n, _)| n.to_owned());
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (name, (tick(11) + tick(12)) / 100.0)
}

#[allow(dead_code)]
/// utime + stime of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    stat_cpu(Path::new(&format!("/proc/{pid}/stat"))).1
}
