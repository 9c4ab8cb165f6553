//! The agency registry through the real binaries: `gazette-log agency
//! add|retire|compromised` with the log stopped (it opens the log for the
//! moment) and running (it sends the change to the log), `gazette
//! agency-request` for the agency's signature on a rotation and a
//! retirement, and the log refusing what the registry forbids.

use gazette_client::registry::{Action, AgencyHistory, SignedRegistryEntry};
use gazette_tests::process::Server;
use gazette_tests::{binary, checkpoint_size, get_json, run, run_status};

const ORIGIN: &str = "registry.test.example/log";
const AGENCY: &str = "land-registry.example.gov";

fn keygen(dir: &std::path::Path, out: &str) -> String {
    let prefix = dir.join(out);
    run(
        "gazette",
        &[
            "keygen",
            "--name",
            AGENCY,
            "--out",
            prefix.to_str().unwrap(),
        ],
    );
    std::fs::read_to_string(prefix.with_extension("pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A record of document `n` signed with the key `key` (a path prefix).
fn record(dir: &std::path::Path, key: &str, n: u64) -> Vec<u8> {
    let doc = dir.join(format!("doc-{n}.txt"));
    std::fs::write(&doc, format!("document {n}")).unwrap();
    let out = dir.join(format!("record-{n}-{key}.txt"));
    run(
        "gazette",
        &[
            "record",
            "--key",
            dir.join(format!("{key}.key")).to_str().unwrap(),
            "--kind",
            "deed",
            "--id",
            &format!("D-{n}"),
            "--out",
            out.to_str().unwrap(),
            doc.to_str().unwrap(),
        ],
    );
    std::fs::read(out).unwrap()
}

async fn add(url: &str, record: Vec<u8>) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/add"))
        .body(record)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn operators_and_agencies_change_keys_through_the_log_and_the_log_enforces_it() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let d = w.join("log");
    let ds = d.to_str().unwrap();
    run("gazette-log", &["init", "--origin", ORIGIN, "--dir", ds]);
    let first = keygen(w, "first");
    let second = keygen(w, "second");
    // With the log stopped, the command opens the log to log the change.
    let out = run("gazette-log", &["agency", "add", &first, "--dir", ds]);
    assert!(out.starts_with("logged at index 0: "), "{out}");
    // A second key needs the agency's signature.
    let (code, _, err) = run_status("gazette-log", &["agency", "add", &second, "--dir", ds]);
    assert_ne!(code, 0);
    assert!(
        err.contains("must also be signed by one of its current keys"),
        "{err}"
    );

    let mut log = Server::start(&binary("gazette-log"), &d, "127.0.0.1:0");
    let url = format!("http://{}", log.addr());
    let before = add(&url, record(w, "first", 1)).await;
    assert_eq!(before.0, 200, "{:?}", before.1);
    // The rotation, requested by the agency with its current key, logged
    // through the running log.
    let request = w.join("rotate.txt");
    let rq = request.to_str().unwrap();
    let first_key = w.join("first.key");
    run(
        "gazette",
        &[
            "agency-request",
            "register",
            &second,
            "--key",
            first_key.to_str().unwrap(),
            "--log",
            ORIGIN,
            "--out",
            rq,
        ],
    );
    let out = run(
        "gazette-log",
        &["agency", "add", "--request", rq, "--url", &url, "--dir", ds],
    );
    assert!(out.contains(&format!("{AGENCY} register")), "{out}");
    let by_second = add(&url, record(w, "second", 2)).await;
    assert_eq!(by_second.0, 200, "{:?}", by_second.1);
    // Without --url, a log listening elsewhere than its configured address
    // (here a port chosen at start) is not found, and the error says what to do.
    let (code, _, err) = run_status(
        "gazette-log",
        &["agency", "add", "--request", rq, "--dir", ds],
    );
    assert_ne!(code, 0);
    assert!(err.contains("give its --url"), "{err}");
    assert_eq!(
        checkpoint_size(&url).await,
        by_second.1["index"].as_u64().unwrap() + 2
    );
    // The first key retired, at the agency's request signed with the second.
    let retire = w.join("retire.txt");
    let second_key = w.join("second.key");
    run(
        "gazette",
        &[
            "agency-request",
            "retire",
            &first,
            "--key",
            second_key.to_str().unwrap(),
            "--log",
            ORIGIN,
            "--out",
            retire.to_str().unwrap(),
        ],
    );
    run(
        "gazette-log",
        &[
            "agency",
            "retire",
            "--request",
            retire.to_str().unwrap(),
            "--url",
            &url,
            "--dir",
            ds,
        ],
    );
    let refused = add(&url, record(w, "first", 3)).await;
    assert_eq!(refused.0, 403);
    let error = refused.1["error"].as_str().unwrap();
    assert!(error.contains("was retired from index"), "{error}");
    // The second key declared compromised from just after its record.
    let cut = by_second.1["index"].as_u64().unwrap() + 1;
    run(
        "gazette-log",
        &[
            "agency",
            "compromised",
            &second,
            "--from",
            &cut.to_string(),
            "--url",
            &url,
            "--dir",
            ds,
        ],
    );
    let refused = add(&url, record(w, "second", 4)).await;
    assert_eq!(refused.0, 403, "{:?}", refused.1);

    // The whole history, proven, as any verifier folds it.
    let answer = get_json(&format!("{url}/index/lookup?agency={AGENCY}")).await;
    let size = checkpoint_size(&url).await;
    let proof = gazette_tests::lookup_proof(&answer);
    let log_vkey = get_json(&format!("{url}/info")).await["vkey"]
        .as_str()
        .unwrap()
        .to_owned();
    let log_key = gazette_client::note::Verifier::parse(&log_vkey).unwrap();
    let checkpoint = gazette_client::checkpoint::open_checkpoint(
        answer["checkpoint"].as_str().unwrap().as_bytes(),
        &log_key,
    )
    .unwrap()
    .checkpoint;
    assert_eq!(checkpoint.size, size);
    let list = gazette_client::index::lookup::verify_lookup(
        &gazette_client::index::lookup::LookupKey::Agency(AGENCY.into()),
        &proof,
        checkpoint.size,
        &checkpoint.root,
    )
    .unwrap();
    let actions: Vec<Action> = list.registry.iter().map(|(_, e)| e.entry.action).collect();
    assert_eq!(
        actions,
        [
            Action::Register,
            Action::Register,
            Action::Retire,
            Action::Compromised
        ]
    );
    let rotation: &SignedRegistryEntry = &list.registry[1].1;
    assert_eq!(rotation.signatures.len(), 2, "the log's and the agency's");
    let history = AgencyHistory::fold(
        &log_key,
        AGENCY,
        list.registry.iter().map(|(i, e)| (*i, e.bytes.as_slice())),
    );
    assert!(history.problems.is_empty(), "{:?}", history.problems);
    assert_eq!(history.current().count(), 0);
    // The old key's record (before its retirement) and the new key's (before
    // its cut-off) both stay valid for `verify --online`.
    let info = get_json(&format!("{url}/info")).await;
    std::fs::write(w.join("policy.txt"), info["policy"].as_str().unwrap()).unwrap();
    for index in [
        before.1["index"].as_u64().unwrap(),
        by_second.1["index"].as_u64().unwrap(),
    ] {
        let receipt = w.join(format!("{index}.tlog-proof"));
        std::fs::write(&receipt, gazette_tests::receipt(&url, index).await).unwrap();
        let (code, _, err) = verify_online(w, &url, &receipt);
        assert_eq!(code, 0, "the record at {index}: {err}");
    }
    // agencies.txt is the log's view: no current keys left.
    log.stop();
    let view = std::fs::read_to_string(d.join("agencies.txt")).unwrap();
    assert!(!view.contains(&first) && !view.contains(&second), "{view}");
}

/// `gazette verify <receipt> --online` against the log at `url`, under
/// `w/policy.txt`: its exit code, standard output and error.
fn verify_online(
    w: &std::path::Path,
    url: &str,
    receipt: &std::path::Path,
) -> (i32, String, String) {
    run_status(
        "gazette",
        &[
            "verify",
            receipt.to_str().unwrap(),
            "--policy",
            w.join("policy.txt").to_str().unwrap(),
            "--no-witnesses",
            "--online",
            "--log",
            url,
            "--state",
            w.join("verify-state").to_str().unwrap(),
        ],
    )
}

/// A log in `w/log` running on a free port, with one agency key
/// (`w/<key>.key`) registered, and the log's policy in `w/policy.txt`.
struct Running {
    _log: Server,
    url: String,
    dir: std::path::PathBuf,
    key: String,
}

async fn running(w: &std::path::Path, key: &str) -> Running {
    let dir = w.join("log");
    let d = dir.to_str().unwrap();
    run("gazette-log", &["init", "--origin", ORIGIN, "--dir", d]);
    let vkey = keygen(w, key);
    run("gazette-log", &["agency", "add", &vkey, "--dir", d]);
    let log = Server::start(&binary("gazette-log"), &dir, "127.0.0.1:0");
    let url = format!("http://{}", log.addr());
    let info = get_json(&format!("{url}/info")).await;
    std::fs::write(w.join("policy.txt"), info["policy"].as_str().unwrap()).unwrap();
    Running {
        _log: log,
        url,
        dir,
        key: vkey,
    }
}

/// `gazette monitor --once --json` of the log at `url`, watching `agency`
/// values, with the hook writing the findings to `hook_out`.
fn monitor(
    w: &std::path::Path,
    url: &str,
    agency: &[&str],
    hook_out: &std::path::Path,
) -> (i32, serde_json::Value, String) {
    let mut args = vec![
        "monitor".to_owned(),
        "--log".into(),
        url.into(),
        "--policy".into(),
        w.join("policy.txt").to_str().unwrap().into(),
        "--no-witnesses".into(),
        "--state".into(),
        w.join("trusted").to_str().unwrap().into(),
        "--progress".into(),
        w.join("monitor.json").to_str().unwrap().into(),
        "--once".into(),
        "--json".into(),
        "--on-finding".into(),
        format!("printenv GAZETTE_FINDINGS > {}", hook_out.display()),
    ];
    for a in agency {
        args.extend(["--agency".to_owned(), (*a).to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run_status("gazette", &args);
    let report = serde_json::from_str(out.trim()).unwrap_or(serde_json::Value::Null);
    (code, report, err)
}

#[tokio::test]
async fn a_rogue_key_registered_by_the_operator_alerts_the_agencys_monitor_with_the_evidence() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let Running {
        _log,
        url,
        dir: d,
        key: own,
    } = running(w, "own").await;
    let ds = d.to_str().unwrap();
    let rogue = keygen(w, "rogue");
    let mine = add(&url, record(w, "own", 1)).await;
    assert_eq!(mine.0, 200, "{:?}", mine.1);
    let hook = w.join("hook.json");

    // The agency's monitor, given its own key: nothing to report.
    let (code, report, err) = monitor(w, &url, &[&own], &hook);
    assert_eq!(code, 0, "{err} {report}");
    assert_eq!(
        report["registry_changes"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert!(
        report["registry_changes"][0]["finding"].is_null(),
        "{report}"
    );
    assert!(!hook.exists());

    // The operator declares the agency's key compromised and registers a
    // key of its own under the agency's name; a record signed with it is
    // logged.
    let cut = run(
        "gazette-log",
        &["agency", "compromised", &own, "--url", &url, "--dir", ds],
    );
    let added = run(
        "gazette-log",
        &["agency", "add", &rogue, "--url", &url, "--dir", ds],
    );
    let rogue_at: u64 = gazette_tests::line_value(&added, "logged at index ")
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let forged = add(&url, record(w, "rogue", 2)).await;
    assert_eq!(forged.0, 200, "{:?}", forged.1);
    let forged_at = forged.1["index"].as_u64().unwrap();

    // The agency's monitor alerts, with each entry's index, and runs the hook.
    let (code, report, err) = monitor(w, &url, &[&own], &hook);
    assert_eq!(code, 12, "{err} {report}");
    let changes = report["registry_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{report}");
    assert!(
        changes[1]["finding"]
            .as_str()
            .unwrap()
            .contains("declared compromised"),
        "{cut} {report}"
    );
    assert_eq!(changes[2]["index"], rogue_at);
    assert!(
        changes[2]["finding"]
            .as_str()
            .unwrap()
            .contains("a key you did not give was registered"),
        "{report}"
    );
    assert_eq!(
        report["unannounced_key"],
        serde_json::json!([forged_at]),
        "{report}"
    );
    let hooked: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&hook).unwrap().trim()).unwrap();
    assert_eq!(hooked["unannounced_key"], serde_json::json!([forged_at]));
    // Watching by name alone, every change is for the agency to review.
    std::fs::remove_file(w.join("monitor.json")).unwrap();
    let (code, report, _) = monitor(w, &url, &["land-registry.example.gov"], &hook);
    assert_eq!(code, 12);
    let findings = report["registry_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["finding"].is_null())
        .count();
    assert_eq!(findings, 3, "{report}");
    assert_eq!(report["unannounced_key"], serde_json::json!([]), "{report}");
}

#[tokio::test]
async fn a_compromise_cut_off_keeps_earlier_records_valid_and_later_ones_invalid_in_the_cli() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let Running {
        _log,
        url,
        dir: d,
        key,
    } = running(w, "key").await;
    let ds = d.to_str().unwrap();
    let before = add(&url, record(w, "key", 1)).await.1["index"]
        .as_u64()
        .unwrap();
    let cut = checkpoint_size(&url).await;
    let after = add(&url, record(w, "key", 2)).await.1["index"]
        .as_u64()
        .unwrap();
    for (index, name) in [(before, "before"), (after, "after")] {
        let receipt = gazette_tests::receipt(&url, index).await;
        std::fs::write(w.join(format!("{name}.tlog-proof")), receipt).unwrap();
    }
    let verify = |name: &str| verify_online(w, &url, &w.join(format!("{name}.tlog-proof")));
    assert_eq!(verify("before").0, 0);
    assert_eq!(
        verify("after").0,
        0,
        "valid until the key is declared compromised"
    );
    run(
        "gazette-log",
        &[
            "agency",
            "compromised",
            &key,
            "--from",
            &cut.to_string(),
            "--url",
            &url,
            "--dir",
            ds,
        ],
    );
    let (code, _, err) = verify("before");
    assert_eq!(
        code, 0,
        "a record logged before the cut-off stays valid: {err}"
    );
    let (code, _, err) = verify("after");
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("declared compromised"), "{err}");
    // The monitor sees the same: the later record is outside its key's window.
    let hook = w.join("hook.json");
    let (code, report, err) = monitor(w, &url, &[], &hook);
    assert_eq!(code, 12, "{err} {report}");
    assert_eq!(
        report["outside_window"],
        serde_json::json!([after]),
        "{report}"
    );
}
