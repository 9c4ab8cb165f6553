//! `gazette submit`: 100 000 records to a real log, the upload killed with
//! SIGKILL part-way and run again: the log then holds each record exactly
//! once, and the resume file says done.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, binary, run_status};

const RECORDS: u64 = 100_000;

fn agency() -> Signer {
    Signer::from_seed("bulk.example.gov", KeyType::Ed25519, [77; 32]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_bulk_upload_resumes_with_no_duplicates_and_no_gaps() {
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("records.jsonl");
    let resume = work.path().join("upload.resume");
    {
        let agency = agency();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&manifest).unwrap());
        for n in 0..RECORDS {
            let mut digest = [0x44; 32];
            digest[..8].copy_from_slice(&n.to_be_bytes());
            let record = Record::new(
                agency.name(),
                "e-invoice",
                &format!("B-{n:06}"),
                digest,
                "2026-11-24T10:00:00Z",
            )
            .sign(&agency)
            .unwrap();
            let line = serde_json::to_string(&String::from_utf8(record.bytes).unwrap()).unwrap();
            writeln!(out, "{line}").unwrap();
        }
    }
    let setup = WitnessedLog::start("bulk.example/log", &agency().verifier(), 0, 0);
    let args = |quiet: bool| {
        let mut a = vec![
            "submit".to_owned(),
            "--log".to_owned(),
            setup.log.url.clone(),
            "--resume".to_owned(),
            resume.to_str().unwrap().to_owned(),
            manifest.to_str().unwrap().to_owned(),
        ];
        if quiet {
            a.push("--quiet".to_owned());
        }
        a
    };

    // First run, killed once some batches are done.
    let mut child = Command::new(binary("gazette"))
        .args(args(false))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = std::fs::read(&resume)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["done"].as_array().map(Vec::len))
            .unwrap_or(0);
        if done >= 10 {
            break;
        }
        assert!(Instant::now() < deadline, "the upload does not progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&resume).unwrap()).unwrap();
    assert_eq!(state["state"], "in progress");

    // Second run: to the end.
    let args: Vec<String> = args(true);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run_status("gazette", &refs);
    assert_eq!(code, 0, "{err}");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&resume).unwrap()).unwrap();
    assert_eq!(state["state"], "done");
    assert_eq!(state["done"].as_array().unwrap().len(), 100);

    // Exactly the records, once each: the tree holds 100 000 entries, and
    // every id (sampled) is at one index.
    let client = reqwest::Client::new();
    let checkpoint = client
        .get(format!("{}/checkpoint", setup.log.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(checkpoint.lines().nth(1), Some("100000"), "{checkpoint}");
    for n in [0u64, 1, 999, 1000, 55_555, 99_999] {
        let found: serde_json::Value = client
            .get(format!(
                "{}/lookup?issuer=bulk.example.gov&kind=e-invoice&id=B-{n:06}",
                setup.log.url
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            found["matches"].as_array().unwrap().len(),
            1,
            "{n}: {found}"
        );
    }
    // A third run finds nothing to do.
    let (code, _, err) = run_status("gazette", &refs);
    assert_eq!(code, 0, "{err}");
}
