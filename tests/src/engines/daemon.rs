//! Engine processes, the tools that drive them, and free ports.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, mpsc};
use std::time::{Duration, Instant};

use super::*;

/// One engine process and its command line, so it can be started again
/// after a kill. Its stdout and stderr are appended to `log`.
pub(super) struct Daemon {
    name: String,
    program: &'static str,
    pub(super) args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
    log: PathBuf,
    /// Behind a lock so that waiting, which checks it, can share the
    /// cluster with the probes.
    child: Mutex<Option<Child>>,
}

impl Daemon {
    pub(super) fn new(
        name: String,
        program: &'static str,
        args: Vec<String>,
        env: &[(&'static str, &'static str)],
        log: PathBuf,
    ) -> Daemon {
        Daemon {
            name,
            program,
            args,
            env: env.to_vec(),
            log,
            child: Mutex::new(None),
        }
    }

    pub(super) fn spawn(&mut self) {
        let open = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .unwrap_or_else(|e| panic!("open {}: {e}", self.log.display()))
        };
        let (stdout, stderr): (File, File) = (open(), open());
        let mut command = Command::new("setpriv");
        command
            .args(["--pdeathsig", "KILL", "--", self.program])
            .args(&self.args)
            .envs(self.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        let child = spawn_tied_to_process(command).unwrap_or_else(|e| {
            panic!(
                "start {} (setpriv --pdeathsig KILL -- {}): {e}",
                self.name, self.program
            )
        });
        *self.child() = Some(child);
    }

    pub(super) fn kill(&mut self) {
        if let Some(mut child) = self.child().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        // A panic while it was held left nothing half-changed.
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether it was started and not killed (it may have crashed).
    pub(super) fn is_running(&self) -> bool {
        self.child().is_some()
    }

    /// Panics with the log's tail if the process has exited while we wait
    /// for `what`: waiting longer would only hide why.
    pub(super) fn assert_running(&self, what: &str) {
        let exited = match &mut *self.child() {
            Some(child) => child.try_wait().ok().flatten().map(|s| s.to_string()),
            None => Some("killed".to_owned()),
        };
        if let Some(status) = exited {
            panic!(
                "{} exited ({status}) while waiting for {what}\n{}",
                self.name,
                self.log_tail()
            );
        }
    }

    /// The last lines of the log, headed by its path.
    pub(super) fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.log.display())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Calls `probe` until it succeeds, pausing between tries; panics with
/// `daemon`'s log tail when it exits or START_WITHIN passes.
pub(super) fn wait_for<T>(
    daemon: &Daemon,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + START_WITHIN;
    loop {
        daemon.assert_running(what);
        match probe() {
            Ok(value) => return value,
            Err(e) if Instant::now() >= deadline => panic!(
                "{}: gave up waiting for {what} after {START_WITHIN:?}: {e}\n{}",
                daemon.name,
                daemon.log_tail()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Spawns `command` (a `setpriv --pdeathsig KILL` one) from a thread that
/// lives as long as the test process: the kernel then kills the engine when
/// the process ends, however it ends (a timeout's SIGKILL skips every
/// `Drop`). The signal comes when the spawning *thread* ends, so spawning
/// from the test's own thread would kill a shared cluster with that test.
pub(super) fn spawn_tied_to_process(command: Command) -> io::Result<Child> {
    type Request = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, received) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("engine spawner".into())
            .spawn(move || {
                for (mut command, reply) in received {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("start the engine spawner thread");
        requests
    });
    let (reply, child) = mpsc::channel();
    spawner
        .send((command, reply))
        .expect("the engine spawner thread runs");
    child.recv().expect("the engine spawner thread answers")
}

/// Runs a command-line tool to completion under `timeout` (it is killed
/// after TOOL_WITHIN); its stdout, or an error with the command line, exit
/// status and output.
pub(super) fn run_tool(
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<String, String> {
    let limit = format!("{}s", TOOL_WITHIN.as_secs());
    let output = Command::new("timeout")
        .args(["-s", "KILL", &limit, program])
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run timeout {program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    match output.status.code() {
        Some(0) => Ok(stdout),
        code => Err(format!(
            "{program} {}: {}: {}{stdout}",
            args.join(" "),
            match code {
                Some(127) => "not found".to_owned(),
                Some(137) => format!("killed after {limit}"),
                _ => output.status.to_string(),
            },
            String::from_utf8_lossy(&output.stderr),
        )),
    }
}

/// The body of a GET of `url` with curl (`args` before the URL), if the
/// status is 2xx. (Not reqwest's blocking client: it panics when called
/// from inside a tokio runtime, where a test may start a cluster.)
pub(super) fn http_get(url: &str, args: &[&str]) -> Result<String, String> {
    let mut all = vec!["-sS", "--max-time", "5", "-w", "\n%{http_code}"];
    all.extend_from_slice(args);
    all.push(url);
    let out = run_tool("curl", &all, &[])?;
    let (body, status) = out.rsplit_once('\n').unwrap_or(("", &out));
    if status.starts_with('2') {
        Ok(body.to_owned())
    } else {
        Err(format!("GET {url}: HTTP {status}: {body}"))
    }
}

/// `count` loopback ports that are free now, each held by its listener
/// until the caller drops it: ports taken and released one at a time
/// could be handed out twice.
pub(super) fn reserve_ports(count: usize) -> Vec<TcpListener> {
    (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect()
}

pub(super) fn port(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("a bound address").port()
}

/// `bytes` random bytes from the OS, in hex.
pub(super) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
