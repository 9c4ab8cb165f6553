//! The README's first command, `./scripts/demo`, run as a newcomer would:
//! it sets up a log, three witnesses and two agencies in a fresh data
//! directory, logs the example records with witnessed receipts, prints the
//! page's URL — which must answer — and stops everything on Ctrl-C. (It
//! uses the binaries this test run built, through `GAZETTE_DEMO_BIN`,
//! instead of a release build of its own.)

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use gazette_tests::{binary, run_status, signal_group};

/// A port with the next three free too (the demo's witnesses use them).
fn four_free_ports() -> u16 {
    for _ in 0..100 {
        let base = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if base < 65_000 && (base..base + 4).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no four consecutive free ports")
}

/// The demo's process group, killed if the test ends early (a failed
/// assertion must not leave a log and witnesses running).
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            signal_group(self.0.id(), "KILL");
            let _ = self.0.wait();
        }
    }
}

/// Starts `scripts/demo` as from a terminal and waits for the page's URL;
/// gives the running demo, its URL and what it printed up to there.
fn start_demo(data: &Path, port: u16) -> (Group, String, Vec<String>) {
    let bin = binary("gazette-log").parent().unwrap().to_owned();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // `env --default-signal=INT`: as from a terminal, even when this test
    // was started with SIGINT ignored (a background job), which the demo
    // would inherit and could not trap.
    let mut demo = Command::new("env")
        .args(["--default-signal=INT", "bash"])
        .arg(root.join("scripts/demo"))
        .current_dir(&root)
        .env("GAZETTE_DEMO_DIR", data)
        .env("GAZETTE_DEMO_PORT", port.to_string())
        .env("GAZETTE_DEMO_BIN", &bin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        // Its own process group, as in a terminal, so Ctrl-C reaches it all.
        .process_group(0)
        .spawn()
        .expect("start scripts/demo");
    let stdout = demo.stdout.take().unwrap();
    let demo = Group(demo);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("demo: {line}");
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("the demo printed no page URL");
        printed.push(line.clone());
        if let Some(url) = line.trim().strip_prefix("Verification page:") {
            return (demo, url.trim().to_owned(), printed);
        }
    }
}

/// Ctrl-C: SIGINT to the demo's whole group; everything stops, the ports
/// are free again.
fn ctrl_c(mut demo: Group, port: u16) {
    assert!(signal_group(demo.0.id(), "INT"));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while demo.0.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The demo's daemons may exit a moment after the script: wait for each
    // port (bounded) rather than a fixed time a busy machine may exceed.
    for p in port..port + 4 {
        while TcpListener::bind(("127.0.0.1", p)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "port {p} still in use after Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn the_demo_prints_a_working_page_url_with_example_receipts_stops_on_ctrl_c_and_reuses_its_data() {
    let data = tempfile::tempdir().unwrap();
    let port = four_free_ports();
    let (demo, url, _) = start_demo(data.path(), port);
    assert_eq!(url, format!("http://127.0.0.1:{port}/"));

    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let page = http.get(&url).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("id=\"verdict\""), "{html}");
    let wasm = http
        .get(format!("{url}pkg/gazette_wasm_bg.wasm"))
        .send()
        .unwrap();
    assert_eq!(wasm.status(), 200);
    let info = |http: &reqwest::blocking::Client| -> serde_json::Value {
        http.get(format!("{url}info"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let first = info(&http);
    assert_eq!(first["origin"], "demo.gazette.example/log");
    assert_eq!(first["agencies"].as_array().unwrap().len(), 2);

    // The next command it suggests works: a receipt verifies offline.
    let receipts: Vec<_> = std::fs::read_dir(data.path().join("receipts"))
        .unwrap()
        .collect();
    assert_eq!(receipts.len(), 5, "a receipt per example record");
    let policy = data.path().join("policy.txt");
    let document = data.path().join("examples/certificate.txt");
    let receipt = data
        .path()
        .join("receipts/city-services.demo.gov_e-certificate_VAX-2026-0192.tlog-proof");
    let (code, out, err) = run_status(
        "gazette",
        &[
            "verify",
            "--policy",
            policy.to_str().unwrap(),
            "--document",
            document.to_str().unwrap(),
            receipt.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");

    // The old deed is revoked, although the demo logs its revocation first
    // (`old-property-deed-revocation.note` sorts before
    // `old-property-deed.note`): the log says so, and so does
    // `verify --online` on its receipt.
    let found: serde_json::Value = http
        .get(format!(
            "{url}lookup?issuer=land-registry.demo.gov&kind=property-registration&id=HD-42-17-A"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let deed = &found["matches"][0];
    let (index, revoked_by) = (deed["index"].as_u64(), deed["revoked_by"].as_u64());
    assert!(
        matches!((index, revoked_by), (Some(i), Some(r)) if r < i),
        "the old deed, revoked by a revocation logged before it: {found}"
    );
    let receipt = data
        .path()
        .join("receipts/land-registry.demo.gov_property-registration_HD-42-17-A.tlog-proof");
    let (code, out, err) = run_status(
        "gazette",
        &[
            "verify",
            "--policy",
            policy.to_str().unwrap(),
            "--online",
            "--log",
            url.trim_end_matches('/'),
            "--state",
            data.path().join("verify.checkpoint").to_str().unwrap(),
            receipt.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 14, "{out}{err}");
    assert!(err.contains("revoked"), "{err}");
    ctrl_c(demo, port);

    // Run again: the same log, its data reused, as it says.
    let (demo, _, printed) = start_demo(data.path(), port);
    assert!(printed.iter().any(|l| l.contains("reusing")), "{printed:?}");
    let again = info(&http);
    assert_eq!(again["vkey"], first["vkey"]);
    assert_eq!(again["size"], first["size"]);
    ctrl_c(demo, port);
}
