//! The command line never leaves its user guessing: a log that cannot be
//! reached ends the command with exit 11 naming the URL and the reason
//! (never a silent hang); a URL without a scheme, or `https://` (this
//! build has no TLS), is refused at once; Ctrl-C during an upload says
//! where it stopped and the same command finishes it, each record logged
//! once; every verb ends with a one-line summary (nothing with `-q`) and
//! `--json` carries machine values; state lives in the state directory,
//! one folder per log, never in the working directory; completions and
//! man pages are generated.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gazette_client::index::commitment::IndexCommitment;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::{Record, is_rfc3339_utc};
use gazette_tests::{WitnessedLog, assert_registry_only, binary, get_json, read_entries};
use serde_json::Value;

/// Long enough for any honest run here; a hang fails instead of blocking.
const BOUND: Duration = Duration::from_secs(120);

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A working directory and a state directory for the command line.
struct Work {
    _dir: tempfile::TempDir,
    cwd: PathBuf,
    state: PathBuf,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let (cwd, state) = (dir.path().join("work"), dir.path().join("state"));
        std::fs::create_dir(&cwd).unwrap();
        Work {
            _dir: dir,
            cwd,
            state,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.cwd.join(name)
    }

    /// `gazette <args>` in the working directory, with this state
    /// directory and no settings from the environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary("gazette"));
        command
            .args(args)
            .current_dir(&self.cwd)
            .env("GAZETTE_STATE_DIR", &self.state)
            .env_remove("GAZETTE_LOG_URL")
            .env_remove("GAZETTE_POLICY")
            .env_remove("GAZETTE_LOG_VKEY");
        command
    }

    /// Runs `gazette <args>` to its end (killed, and the test failed,
    /// after [`BOUND`]): exit code, stdout, stderr.
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let Ok(out) = rx.recv_timeout(BOUND) else {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("gazette {args:?} still ran after {BOUND:?}");
        };
        let out = out.unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs `gazette <args>`; panics unless it succeeded; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "gazette {args:?}: {out}{err}");
        out
    }

    /// Runs `gazette --json <args>`; panics unless it succeeded; its JSON.
    fn json(&self, args: &[&str]) -> Value {
        let mut with = vec!["--json"];
        with.extend_from_slice(args);
        let out = self.ok(&with);
        assert_eq!(out.lines().count(), 1, "one JSON line: {out}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// The files the command line left in the working directory (only
    /// those the test made itself are expected).
    fn cwd_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.cwd)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// The arguments as `&str`s.
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A loopback address nothing listens on: bound, then closed.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// A policy for a log no one runs (the command fails before it matters).
fn some_policy(work: &Work) -> PathBuf {
    let log = Signer::from_seed("dead.example/log", KeyType::Ed25519, [1; 32]).unwrap();
    let witness = Signer::from_seed("w.example.org", KeyType::Cosignature, [2; 32]).unwrap();
    let path = work.path("policy.txt");
    std::fs::write(
        &path,
        format!(
            "log {}\nwitness w1 {}\nquorum w1\n",
            log.verifier(),
            witness.verifier()
        ),
    )
    .unwrap();
    path
}

/// `n` signed records of `agency`, kind `e-invoice`, ids `I-<n>`.
fn records(agency: &Signer, ids: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    ids.map(|n| {
        let mut digest = [0x5a; 32];
        digest[..8].copy_from_slice(&n.to_be_bytes());
        Record::new(
            agency.name(),
            "e-invoice",
            &format!("I-{n:04}"),
            digest,
            "2026-11-24T10:00:00Z",
        )
        .sign(agency)
        .unwrap()
        .bytes
    })
    .collect()
}

#[test]
fn a_log_that_cannot_be_reached_ends_the_command_with_exit_11_naming_it() {
    let work = Work::new();
    let url = dead_url();
    let agency = Signer::from_seed("dead.example.gov", KeyType::Ed25519, [3; 32]).unwrap();
    std::fs::write(work.path("a.record"), &records(&agency, 0..1)[0]).unwrap();
    let policy = some_policy(&work);
    for args in [
        vec!["submit", "-q", "--log", &url, "a.record"],
        vec!["checkpoint", "--log", &url, "--policy", p(&policy)],
        vec![
            "inclusion",
            "--index",
            "0",
            "--log",
            &url,
            "--policy",
            p(&policy),
        ],
    ] {
        let (code, out, err) = work.run(&args);
        assert_eq!(code, 11, "{args:?}: {out}{err}");
        assert!(
            err.contains(&url)
                && err.contains("could not be reached (3 attempts)")
                && err.contains("cannot connect"),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // The upload says what is done and how to go on.
    let (_, _, err) = work.run(&["submit", "-q", "--log", &url, "a.record"]);
    assert!(
        err.contains("stopped at 0 of 1 records; run the same command to resume"),
        "{err}"
    );
}

#[test]
fn https_and_a_url_without_a_scheme_are_refused_at_once() {
    let work = Work::new();
    let policy = some_policy(&work);
    std::fs::write(work.path("a.record"), "not read: the URL is refused first").unwrap();
    for (url, says) in [
        (
            "https://log.example",
            "built without TLS and speaks http:// only",
        ),
        ("127.0.0.1:8080", "has no scheme"),
        ("log.example", "e.g. http://log.example"),
        ("ftp://log.example", "not one a log is reached by"),
        ("http://", "is not a URL"),
    ] {
        for args in [
            vec!["submit", "--log", url, "a.record"],
            vec!["checkpoint", "--log", url, "--policy", p(&policy)],
            vec![
                "verify",
                "r.tlog-proof",
                "--policy",
                p(&policy),
                "--online",
                "--log",
                url,
            ],
        ] {
            let started = Instant::now();
            let (code, out, err) = work.run(&args);
            assert_eq!(code, 2, "{args:?}: {out}{err}");
            assert!(
                err.contains("--log") && err.contains(says),
                "{args:?}: {err}"
            );
            assert_eq!(out, "");
            // At once: no connection is tried (a generous bound for a
            // loaded machine; an attempt would take far longer).
            assert!(started.elapsed() < Duration::from_secs(10), "{args:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_submit_says_where_and_the_same_command_finishes_it_once() {
    const RECORDS: u64 = 600;
    let agency = Signer::from_seed("slow.example.gov", KeyType::Ed25519, [4; 32]).unwrap();
    let mut setup = WitnessedLog::start("slow.example/log", &agency.verifier(), 0, 0);
    // 50 records a second: the upload takes about 12 s, long enough to
    // interrupt part-way, whatever the machine.
    let config_path = setup.log_dir.join("gazette-log.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let limited = config
        .lines()
        .map(|line| match line.split('=').next().map(str::trim) {
            Some("records_per_second") => "records_per_second = 50".to_owned(),
            Some("burst") => "burst = 50".to_owned(),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(limited, config, "the configuration has rate limits");
    std::fs::write(&config_path, limited).unwrap();
    setup.restart_log();
    let url = setup.log.url.clone();

    let work = Work::new();
    let submitted = records(&agency, 0..RECORDS);
    let manifest: String = submitted
        .iter()
        .map(|r| serde_json::to_string(&String::from_utf8(r.clone()).unwrap()).unwrap() + "\n")
        .collect();
    std::fs::write(work.path("invoices.jsonl"), manifest).unwrap();
    let args = [
        "submit",
        "--log",
        &url,
        "--batch",
        "10",
        "--concurrency",
        "2",
        "invoices.jsonl",
    ];

    // The default resume file is in the state directory, one per upload.
    let mut child = work
        .command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let resume_dir = work.state.join("submit");
    let done = || -> Option<(PathBuf, usize)> {
        // The resume file itself, never the temporary file it is being
        // rewritten through (renamed over it a moment later).
        let file = std::fs::read_dir(&resume_dir)
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path()))
            .find(|path| path.extension().is_some_and(|e| e == "resume"))?;
        let state: Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
        Some((file, state["done"].as_array()?.len()))
    };
    let deadline = Instant::now() + BOUND;
    let resume = loop {
        if let Some((file, batches)) = done()
            && batches >= 5
        {
            break file;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before it was interrupted"
        );
        assert!(Instant::now() < deadline, "the upload does not progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let at: u64 = err
        .strip_prefix("gazette: interrupted at ")
        .and_then(|rest| rest.split(" of ").next())
        .map(|n| n.replace(' ', ""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no \"interrupted at N of M\": {err}"));
    assert!(
        err.trim_end()
            .ends_with(" of 600 records; run the same command to resume"),
        "{err}"
    );
    // The resume file agrees with the message, and is consistent.
    let state: Value = serde_json::from_slice(&std::fs::read(&resume).unwrap()).unwrap();
    assert_eq!(state["state"], "in progress", "{state}");
    let batches = state["done"].as_array().unwrap().len() as u64;
    assert_eq!(batches * 10, at, "{state}");
    assert!(at > 0 && at < RECORDS, "{at}");

    // The same command again finishes it; this run's rate counts only the
    // records it sent (an absurd one came from counting earlier runs').
    let mut again = vec!["--json"];
    again.extend_from_slice(&args);
    let (code, out, err) = work.run(&again);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["records"], RECORDS, "{report}");
    assert_eq!(report["logged"], RECORDS, "{report}");
    assert_eq!(report["refused"], 0, "{report}");
    assert_eq!(report["sent_this_run"], RECORDS - at, "{report}");
    let rate = report["records_per_second"].as_u64().unwrap();
    assert!(rate > 0 && rate < 1000, "{report}");
    assert_eq!(report["resume"], p(&resume), "{report}");
    let state: Value = serde_json::from_slice(&std::fs::read(&resume).unwrap()).unwrap();
    assert_eq!(state["state"], "done", "{state}");
    // A third run has nothing to do and says how things stand.
    let out = work.ok(&args);
    assert_eq!(out, "600 logged, 0 refused\n");

    // Each record logged once; after the agency's registration, every
    // other entry is a commitment.
    let size = gazette_tests::checkpoint_size(&url).await;
    let entries = read_entries(&url, size).await;
    assert_registry_only(&url, setup.records_from).await;
    for record in &submitted {
        let times = entries.iter().filter(|e| *e == record).count();
        assert_eq!(times, 1, "{}", String::from_utf8_lossy(record));
    }
    for entry in entries
        .iter()
        .skip(setup.records_from as usize)
        .filter(|e| !submitted.contains(e))
    {
        assert!(IndexCommitment::parse(entry).is_some(), "a stray entry");
    }
    // Nothing in the working directory but the manifest.
    assert_eq!(work.cwd_files(), ["invoices.jsonl"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_verb_says_what_it_did_in_one_line_and_json_has_machine_values() {
    let work = Work::new();
    let w = |name: &str| work.path(name);
    // keygen
    let key = work.json(&["keygen", "--name", "permits.example.gov", "--out", "agency"]);
    let vkey = key["vkey"].as_str().unwrap().to_owned();
    assert_eq!(key["name"], "permits.example.gov");
    assert_eq!(key["type"], "ed25519");
    assert_eq!(key["key_id"].as_str().unwrap().len(), 8, "{key}");
    assert_eq!(key["private_key"], "agency.key");
    let out = work.ok(&["keygen", "--name", "w9.example.org", "--cosigner"]);
    assert!(
        out.starts_with("wrote w9.example.org.key (private, mode 0600) and w9.example.org.pub; the verifier key: w9.example.org+"),
        "{out}"
    );
    assert_eq!(
        work.ok(&["-q", "keygen", "--name", "q.example.org", "--cosigner"]),
        ""
    );

    // record
    std::fs::create_dir(w("records")).unwrap();
    for n in 1..=2 {
        std::fs::write(w(&format!("permit{n}.pdf")), format!("building permit {n}")).unwrap();
    }
    let out = work.ok(&[
        "record",
        "--key",
        "agency.key",
        "--kind",
        "permit",
        "--id",
        "BP-1",
        "--out",
        "records/p1.record",
        "permit1.pdf",
    ]);
    assert!(
        out.starts_with("wrote records/p1.record: permits.example.gov permit BP-1, signed, of the document sha256:")
            && out.trim_end().ends_with("(permit1.pdf)")
            && out.lines().count() == 1,
        "{out}"
    );
    let record = work.json(&[
        "record",
        "--key",
        "agency.key",
        "--kind",
        "permit",
        "--id",
        "BP-2",
        "--issued",
        "2026-11-24T10:00:00Z",
        "--out",
        "records/p2.record",
        "permit2.pdf",
    ]);
    assert_eq!(record["id"], "BP-2");
    assert_eq!(record["issued"], "2026-11-24T10:00:00Z");
    assert!(
        record["digest"].as_str().unwrap().starts_with("sha256:"),
        "{record}"
    );
    assert!(record["bytes"].as_u64().unwrap() > 0, "{record}");
    work.ok(&[
        "-q",
        "record",
        "--key",
        "agency.key",
        "--revokes",
        "permit",
        "BP-1",
        "--id",
        "REV-1",
        "--out",
        "records/p3.record",
        "permit1.pdf",
    ]);
    // A record to standard output is the only thing there.
    let out = work.ok(&[
        "record",
        "--key",
        "agency.key",
        "--kind",
        "permit",
        "--id",
        "BP-9",
        "permit2.pdf",
    ]);
    assert!(out.starts_with("gazette.record/v1\n"), "{out}");

    // submit, with receipts
    let agency = gazette_client::note::Verifier::parse(&vkey).unwrap();
    let setup = WitnessedLog::start("permits.example/log", &agency, 1, 1);
    let url = setup.log.url.clone();
    let info = get_json(&format!("{url}/info")).await;
    std::fs::write(w("policy.txt"), info["policy"].as_str().unwrap()).unwrap();
    let out = work.ok(&["submit", "--log", &url, "--receipts", "receipts", "records"]);
    assert_eq!(out, "3 logged, 0 refused, receipts in receipts\n");
    let receipt = "receipts/permits.example.gov_permit_BP-2.tlog-proof";
    assert!(w(receipt).exists());
    let submitted = work.json(&["submit", "--log", &url, "records"]);
    assert_eq!(submitted["records"], 3, "{submitted}");
    assert_eq!(submitted["logged"], 3, "{submitted}");
    assert_eq!(submitted["refusals"], serde_json::json!([]), "{submitted}");

    // A refused record is named by its file, and stays refused on a rerun.
    std::fs::create_dir(w("strangers")).unwrap();
    let stranger = Signer::from_seed("stranger.example.gov", KeyType::Ed25519, [7; 32]).unwrap();
    std::fs::write(w("strangers/s1.record"), &records(&stranger, 0..1)[0]).unwrap();
    for _ in 0..2 {
        let (code, out, err) = work.run(&["submit", "--log", &url, "strangers"]);
        assert_eq!(code, 9, "{out}{err}");
        assert_eq!(out, "0 logged, 1 refused\n");
        assert!(
            err.starts_with("gazette: strangers/s1.record refused: ")
                && err
                    .trim_end()
                    .ends_with("gazette: 1 of 1 record refused by the log"),
            "{err}"
        );
    }

    let trust = ["--log", url.as_str(), "--policy", "policy.txt"];
    let with = |verb: &[&str]| -> Vec<String> {
        verb.iter()
            .chain(trust.iter())
            .map(|s| (*s).to_owned())
            .collect()
    };
    // checkpoint
    let args = with(&["checkpoint"]);
    let out = work.ok(&strs(&args));
    assert!(
        out.starts_with("checkpoint of permits.example/log verified and trusted: ")
            && out.trim_end().ends_with("cosigned by w1")
            && out.lines().count() == 1,
        "{out}"
    );
    let checkpoint = work.json(&strs(&args));
    let size = checkpoint["size"].as_u64().unwrap();
    assert_eq!(checkpoint["origin"], "permits.example/log");
    assert_eq!(checkpoint["witnesses"], serde_json::json!(["w1"]));
    assert_eq!(checkpoint["cosigned"][0]["witness"], "w1");
    assert!(is_rfc3339_utc(
        checkpoint["cosigned"][0]["time"].as_str().unwrap()
    ));
    // The trusted checkpoint is in this log's folder of the state directory.
    let state = PathBuf::from(checkpoint["state"].as_str().unwrap());
    assert!(state.starts_with(work.state.join("logs")), "{state:?}");
    assert!(state.exists());
    // inclusion
    let args = with(&["inclusion", "--index", "0"]);
    let out = work.ok(&strs(&args));
    assert_eq!(
        out,
        format!(
            "entry 0 is in the trusted tree of permits.example/log (size {size}): inclusion proven\n"
        )
    );
    let included = work.json(&strs(&args));
    assert_eq!(included["index"], 0);
    assert_eq!(included["size"], size);
    assert_eq!(included["included"], true);
    let args = with(&["inclusion", "--index", "999"]);
    let (code, out, err) = work.run(&strs(&args));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!(
            "--index 999 is beyond the trusted tree of size {size}"
        )),
        "{err}"
    );
    // consistency
    let args = with(&["consistency", "--from", receipt]);
    let out = work.ok(&strs(&args));
    assert!(
        out.contains(&format!(
            "is a prefix of the log's trusted tree of size {size}: consistency proven"
        )),
        "{out}"
    );
    let consistent = work.json(&strs(&args));
    assert_eq!(consistent["consistent"], true);
    assert_eq!(consistent["size"], size);
    assert!(consistent["proof"].is_u64(), "{consistent}");
    // lookup
    let args = with(&["lookup", "--document", "permit2.pdf"]);
    let out = work.ok(&strs(&args));
    assert!(
        out.trim_end().ends_with(&format!(
            "1 record found as of the log's checkpoint of size {size}: the list is proven complete"
        )),
        "{out}"
    );
    // verify (offline, then online)
    let out = work.ok(&["verify", receipt, "--policy", "policy.txt"]);
    assert!(
        out.starts_with("verified: permits.example.gov permit BP-2, entry ")
            && out.contains("agency signature not checked (no --agency)")
            && out.lines().count() == 1,
        "{out}"
    );
    let verified = work.json(&[
        "verify",
        receipt,
        "--policy",
        "policy.txt",
        "--document",
        "permit2.pdf",
        "--online",
        "--log",
        &url,
    ]);
    assert_eq!(verified["agency_signature"], "not_checked");
    assert_eq!(verified["document"], "matches");
    assert_eq!(verified["revocation_check"]["status"], "valid");
    assert!(verified["revocation_check"]["size"].is_u64(), "{verified}");
    assert_eq!(verified["issued"], "2026-11-24T10:00:00Z");
    // monitor: plurals agree with their counts
    let args = with(&["monitor", "--once"]);
    let out = work.ok(&strs(&args));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "permits.example.gov: 3 records, 1 revocation",
        "{out}"
    );
    assert!(
        lines[1].ends_with(&format!(
            "of permits.example/log checked ({size} new), up to its checkpoint of size {size}: no findings"
        )),
        "{out}"
    );
    let monitored = work.json(&strs(&args));
    assert_eq!(
        monitored["issuers"]["permits.example.gov"]["revocations"],
        1
    );
    assert_eq!(monitored["scanned"], size);
    // -q: nothing on success, for every verb.
    for verb in [
        with(&["checkpoint"]),
        with(&["inclusion", "--index", "0"]),
        with(&["consistency", "--from", receipt]),
        with(&["lookup", "--document", "permit2.pdf"]),
        with(&["monitor", "--once"]),
        vec![
            "verify".into(),
            receipt.into(),
            "--policy".into(),
            "policy.txt".into(),
        ],
        vec![
            "submit".into(),
            "--log".into(),
            url.clone(),
            "records".into(),
        ],
    ] {
        let mut args = vec!["-q"];
        args.extend(strs(&verb));
        assert_eq!(work.ok(&args), "", "{verb:?}");
    }
    // -v adds what was checked and where the state is kept.
    let out = work.ok(&strs(&with(&["-v", "checkpoint"])));
    assert!(
        out.lines().count() > 1 && out.contains(&format!("kept in {}", state.display())),
        "{out}"
    );
    // None of it wrote state into the working directory.
    assert_eq!(
        work.cwd_files(),
        [
            "agency.key",
            "agency.pub",
            "permit1.pdf",
            "permit2.pdf",
            "policy.txt",
            "q.example.org.key",
            "q.example.org.pub",
            "receipts",
            "records",
            "strangers",
            "w9.example.org.key",
            "w9.example.org.pub",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_log_has_its_own_trusted_state() {
    let work = Work::new();
    let agency = Signer::from_seed("two.example.gov", KeyType::Ed25519, [6; 32]).unwrap();
    let (a, b) = (
        WitnessedLog::start("a.example/log", &agency.verifier(), 1, 1),
        WitnessedLog::start("b.example/log", &agency.verifier(), 1, 1),
    );
    for (name, setup) in [("a", &a), ("b", &b)] {
        gazette_tests::add_with_receipt(&setup.log.url, records(&agency, 0..1).remove(0)).await;
        let info = get_json(&format!("{}/info", setup.log.url)).await;
        std::fs::write(
            work.path(&format!("{name}.policy")),
            info["policy"].as_str().unwrap(),
        )
        .unwrap();
    }
    // One after the other, each twice: each log's checkpoint is trusted in
    // its own folder (one state shared by both would be another log's).
    let mut states = Vec::new();
    for _ in 0..2 {
        for (name, setup) in [("a", &a), ("b", &b)] {
            let policy = format!("{name}.policy");
            let checkpoint =
                work.json(&["checkpoint", "--log", &setup.log.url, "--policy", &policy]);
            states.push(checkpoint["state"].as_str().unwrap().to_owned());
        }
    }
    assert_ne!(states[0], states[1]);
    assert_eq!(states[0], states[2]);
    assert_eq!(states[1], states[3]);
    let logs: Vec<_> = std::fs::read_dir(work.state.join("logs"))
        .unwrap()
        .collect();
    assert_eq!(logs.len(), 2);
}

#[test]
fn completions_and_man_pages_are_generated_from_the_command_line() {
    let work = Work::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = work.ok(&["completions", shell]);
        assert!(out.len() > 1000, "{shell}: {out}");
        for verb in ["submit", "verify", "checkpoint", "monitor", "completions"] {
            assert!(out.contains(verb), "{shell} lacks {verb}");
        }
    }
    let (code, _, err) = work.run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");

    let page = work.ok(&["man"]);
    assert!(page.contains(".TH gazette 1"), "{page}");
    assert!(page.contains("submit"), "{page}");
    let out = work.ok(&["man", "--out", "man"]);
    assert!(out.ends_with("written to man\n"), "{out}");
    for name in ["gazette.1", "gazette-submit.1", "gazette-verify.1"] {
        let page = std::fs::read_to_string(work.path("man").join(name)).unwrap();
        assert!(page.contains(".TH gazette"), "{name}: {page}");
    }
    let submit = std::fs::read_to_string(work.path("man/gazette-submit.1")).unwrap();
    assert!(submit.contains("resume"), "{submit}");
}
