//! The one harness for running real binaries as processes, used by the
//! end-to-end tests here and by the process-level tests and load generators
//! of `gazette-log` and `gazette-witness` (a dev-dependency there).
//!
//! It is generic over the binary: the caller gives its path, which is
//! `env!("CARGO_BIN_EXE_gazette-log")` inside the binary's own package and
//! [`crate::binary`] here. A daemon is started with `serve --dir D --listen
//! A` on a free loopback port, the harness waits for the line
//! `<binary name> listening on <url>` that both daemons print, keeps
//! draining its stdout (a full pipe would block it), and kills and reaps it
//! when the handle is dropped, so a failing test leaves no process behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `binary args` to completion; returns its exit code (-1 when a
/// signal ended it), stdout and stderr.
pub fn run_status(binary: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", binary.display()));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `binary args` to completion; panics with its stderr unless it
/// succeeded; returns its stdout.
pub fn run(binary: &Path, args: &[&str]) -> String {
    let (code, out, err) = run_status(binary, args);
    assert!(code == 0, "{} {args:?}: {err}", name(binary));
    out
}

/// The name a binary announces itself with: its file name.
fn name(binary: &Path) -> String {
    binary
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// How to start a daemon. The defaults suit a test: any free loopback
/// port, warnings only.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The address to listen on.
    pub listen: &'a str,
    /// Its `RUST_LOG`.
    pub rust_log: &'a str,
    /// How long to wait for its address at most (a bound against hanging:
    /// a first start of a large log catches up its indexes first).
    pub announce_within: Duration,
    /// Its open-file limit (soft and hard), if not the test's own.
    pub open_files: Option<u64>,
    /// More arguments after `serve --dir <dir> --listen <listen>`.
    pub args: &'a [&'a str],
    /// More environment variables.
    pub env: &'a [(&'a str, &'a str)],
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            listen: "127.0.0.1:0",
            rust_log: "warn",
            announce_within: Duration::from_secs(60),
            open_files: None,
            args: &[],
            env: &[],
        }
    }
}

/// A running daemon, killed (SIGKILL) and reaped when dropped.
pub struct Server {
    child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Starts `<binary> serve --dir <dir> --listen <listen>` with the
    /// default options and waits for it to announce its address.
    pub fn start(binary: &Path, dir: &Path, listen: &str) -> Server {
        Server::start_with(
            binary,
            dir,
            &Options {
                listen,
                ..Options::default()
            },
        )
    }

    /// Starts `<binary> serve --dir <dir>` with `options` and waits for it
    /// to announce its address.
    pub fn start_with(binary: &Path, dir: &Path, options: &Options) -> Server {
        let name = name(binary);
        // A limit is set by the shell, which then becomes the daemon (where
        // the hard limit is lower, the daemon keeps the test's own).
        let mut command = match options.open_files {
            Some(files) => {
                let mut sh = Command::new("sh");
                sh.args([
                    "-c",
                    &format!("ulimit -n {files} 2>/dev/null; exec \"$0\" \"$@\""),
                ])
                .arg(binary);
                sh
            }
            None => Command::new(binary),
        };
        let mut child = command
            .args(["serve", "--dir", dir.to_str().expect("a UTF-8 path")])
            .args(["--listen", options.listen])
            .args(options.args)
            .env("RUST_LOG", options.rust_log)
            .envs(options.env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} serve: {e}"));
        let stdout = child.stdout.take().expect("a piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let announce = format!("{name} listening on ");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix(&announce) {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        // From here a panic drops the handle, which kills the child.
        let mut server = Server {
            child,
            url: String::new(),
        };
        server.url = rx
            .recv_timeout(options.announce_within)
            .unwrap_or_else(|_| panic!("{name} serve did not announce its address"));
        server
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The `host:port` it listens on.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }

    /// Stops it now (SIGKILL) and reaps it; dropping it afterwards does
    /// nothing more.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks it to stop (SIGTERM: the daemons then shut down cleanly) and
    /// waits up to `grace`, then kills it. Whether it stopped by itself.
    pub fn terminate(&mut self, grace: Duration) -> bool {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return true;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while matches!(self.child.try_wait(), Ok(None)) {
            if Instant::now() > deadline {
                self.stop();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// utime + stime from a `/proc/.../stat` file, in seconds, with the
/// thread or process name (the load generators' CPU accounting).
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

/// utime + stime of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    stat_cpu(Path::new(&format!("/proc/{pid}/stat"))).1
}

/// A process's peak resident memory (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    memory_kib(pid, "VmHWM:")
}

/// A process's resident memory now (`VmRSS`), in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    memory_kib(pid, "VmRSS:")
}

fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How many file descriptors a process has open.
pub fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// `python3 -m http.server` on a free loopback port, serving `dir`; killed
/// when dropped.
pub struct StaticServer {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl StaticServer {
    /// Starts it.
    pub fn start(dir: &Path) -> StaticServer {
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"])
            .arg("--directory")
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 (a static file server, independent of Gazette)");
        let stdout = child.stdout.take().unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let line = BufReader::new(stdout)
            .lines()
            .next()
            .expect("http.server announces its port")
            .unwrap();
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        StaticServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
