//! `gazette submit`: 100 000 records to a real log, the upload killed with
//! SIGKILL part-way and run again: the log then holds each record exactly
//! once (every other entry is the verifiable index's commitment that ends
//! a batch), and the resume file says done.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gazette_client::index::commitment::IndexCommitment;
use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, assert_registry_only, binary, read_entries, run_status};

const RECORDS: u64 = 100_000;

fn agency() -> Signer {
    Signer::from_seed("bulk.example.gov", KeyType::Ed25519, [77; 32]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_bulk_upload_resumes_with_no_duplicates_and_no_gaps() {
    let work = tempfile::tempdir().unwrap();
    let manifest = work.path().join("records.jsonl");
    let resume = work.path().join("upload.resume");
    let mut submitted: Vec<Vec<u8>> = Vec::with_capacity(RECORDS as usize);
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
            let line =
                serde_json::to_string(&String::from_utf8(record.bytes.clone()).unwrap()).unwrap();
            writeln!(out, "{line}").unwrap();
            submitted.push(record.bytes);
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

    // Exactly the records, once each: after the agency's registration (and
    // its batch's commitment), every record of the manifest is one entry of
    // the tree, and every other entry is a commitment at its own index; the
    // tree ends with one. Every id (sampled) is found at one index.
    let client = reqwest::Client::new();
    let size = gazette_tests::checkpoint_size(&setup.log.url).await;
    let start = setup.records_from;
    assert_registry_only(&setup.log.url, start).await;
    let mut logged: HashMap<&[u8], Vec<u64>> = submitted
        .iter()
        .map(|r| (r.as_slice(), Vec::new()))
        .collect();
    let entries = read_entries(&setup.log.url, size).await;
    let mut commitments = 0u64;
    for (index, entry) in (0u64..).zip(&entries).skip(start as usize) {
        if let Some(at) = logged.get_mut(entry.as_slice()) {
            at.push(index);
            continue;
        }
        let commitment = IndexCommitment::parse(entry)
            .unwrap_or_else(|| panic!("entry {index} is neither a record nor a commitment"));
        assert_eq!(
            commitment.size, index,
            "a commitment elsewhere than its own index"
        );
        commitments += 1;
    }
    for (record, at) in &logged {
        assert_eq!(
            at.len(),
            1,
            "logged at {at:?}: {}",
            String::from_utf8_lossy(record)
        );
    }
    assert_eq!(size, start + RECORDS + commitments);
    let last = entries.last().expect("entries");
    assert_eq!(IndexCommitment::parse(last).map(|c| c.size), Some(size - 1));
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
