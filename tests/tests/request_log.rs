//! What an operator finds in a daemon's log file with the default logging
//! (`RUST_LOG` unset, stderr a file rather than a terminal, as under
//! journald): exactly one line per HTTP request, naming the request id its
//! answer carried, the method, the path without the query, and the status;
//! no colour codes; and none of the storage engine's start-up chatter.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gazette_tests::{binary, run};

/// A daemon started as from a service manager, killed if the test ends
/// early.
struct Daemon {
    child: Child,
    url: String,
}

impl Daemon {
    /// Starts `<name> serve --dir <dir>` on a free loopback port with
    /// `RUST_LOG` and `NO_COLOR` unset and stderr written to `stderr`;
    /// waits (bounded) for its address.
    fn start(name: &str, dir: &Path, stderr: &Path) -> Daemon {
        let mut child = Command::new(binary(name))
            .args(["serve", "--dir", dir.to_str().unwrap()])
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .env_remove("NO_COLOR")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} serve: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let announce = format!("{name} listening on ");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix(&announce) {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let mut daemon = Daemon {
            child,
            url: String::new(),
        };
        daemon.url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{name} serve did not announce its address"));
        daemon
    }

    /// SIGTERM, and a bounded wait for it to have stopped (so that all it
    /// wrote is in the file).
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "it did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GETs `path`; its status and the `x-request-id` it carried.
fn get(http: &reqwest::blocking::Client, url: &str, path: &str) -> (u16, String) {
    let response = http.get(format!("{url}{path}")).send().unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .unwrap_or_else(|| panic!("no x-request-id on GET {path}"))
        .to_str()
        .unwrap()
        .to_owned();
    (response.status().as_u16(), id)
}

/// The checks on a daemon's stderr after `requests`: (path, status,
/// request id), each path asked as `path` plus a query that must not
/// appear.
fn assert_one_line_per_request(log: &Path, requests: &[(&str, u16, String)]) {
    let bytes = std::fs::read(log).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(!bytes.contains(&0x1b), "colour codes in a file:\n{text}");
    let access: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" gazette::access: "))
        .collect();
    assert_eq!(access.len(), requests.len(), "request lines:\n{text}");
    for (path, status, id) in requests {
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(id.as_str())).collect();
        assert_eq!(lines.len(), 1, "lines naming request {id}:\n{text}");
        let line = lines[0];
        assert!(line.contains(" INFO "), "{line}");
        assert!(
            line.contains(&format!(
                "request{{method=GET path={path} request_id={id}}}: gazette::access: answered status={status} latency_ms="
            )),
            "{line}"
        );
    }
    assert!(!text.contains("secret-query"), "a query logged:\n{text}");
    for line in text.lines() {
        let chatter = line.contains(" fjall") || line.contains(" lsm_tree");
        assert!(
            !(chatter && line.contains(" INFO ")),
            "storage chatter at INFO:\n{text}"
        );
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[test]
fn the_log_by_default_writes_one_plain_line_per_request_with_its_id_and_no_storage_chatter() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    run(
        "gazette-log",
        &[
            "init",
            "--origin",
            "requests.example/log",
            "--dir",
            dir.to_str().unwrap(),
        ],
    );
    let stderr = tmp.path().join("log.err");
    let log = Daemon::start("gazette-log", &dir, &stderr);
    let http = client();
    let mut requests = Vec::new();
    for (path, query) in [
        ("/checkpoint", ""),
        ("/info", "?secret-query=1"),
        ("/nope", "?digest=secret-query"),
    ] {
        let (status, id) = get(&http, &log.url, &format!("{path}{query}"));
        requests.push((path, status, id));
    }
    assert_eq!(
        requests.iter().map(|r| r.1).collect::<Vec<_>>(),
        [200, 200, 404]
    );
    log.terminate();
    assert_one_line_per_request(&stderr, &requests);
}

#[test]
fn the_witness_by_default_writes_one_plain_line_per_request_with_its_id() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("witness");
    run(
        "gazette-witness",
        &[
            "init",
            "--name",
            "w.requests.example",
            "--dir",
            dir.to_str().unwrap(),
        ],
    );
    let stderr = tmp.path().join("witness.err");
    let witness = Daemon::start("gazette-witness", &dir, &stderr);
    let http = client();
    let (logs, logs_id) = get(&http, &witness.url, "/logs?secret-query=1");
    let (unknown, unknown_id) = get(&http, &witness.url, "/checkpoint/unknown.example");
    assert_eq!((logs, unknown), (200, 404));
    witness.terminate();
    assert_one_line_per_request(
        &stderr,
        &[
            ("/logs", logs, logs_id),
            ("/checkpoint/unknown.example", unknown, unknown_id),
        ],
    );
}
