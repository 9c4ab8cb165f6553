//! A log with three witnesses, policy 2-of-3, all real processes on
//! loopback: records get receipts with at least two cosignatures that
//! verify offline; with one witness stopped publication goes on; with two
//! stopped, sequencing goes on and publication waits, then catches up when
//! they come back.

use std::time::{Duration, Instant};

use gazette_client::checkpoint::Checkpoint;
use gazette_client::note::{KeyType, Note, Signer};
use gazette_client::policy::Policy;
use gazette_client::record::{Record, SignedRecord};
use gazette_client::tlog_proof::TlogProof;
use gazette_tests::{Server, line_value, run};

const ORIGIN: &str = "e2e.example/log";

fn agency() -> Signer {
    Signer::from_seed("registry.example.gov", KeyType::Ed25519, [21; 32]).unwrap()
}

fn record(n: u64) -> Vec<u8> {
    let mut digest = [0x33; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    Record::new(
        agency().name(),
        "e-certificate",
        &format!("E-{n}"),
        digest,
        "2026-11-24T10:00:00Z",
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

struct Setup {
    _dir: tempfile::TempDir,
    log_dir: std::path::PathBuf,
    witness_dirs: Vec<std::path::PathBuf>,
}

fn size_of(note: &str) -> u64 {
    Checkpoint::parse(&Note::parse(note.as_bytes()).unwrap().text)
        .unwrap()
        .size
}

async fn add(client: &reqwest::Client, url: &str, n: u64, wait: bool) -> (u16, serde_json::Value) {
    let query = if wait { "?wait=receipt" } else { "" };
    let reply = client
        .post(format!("{url}/add{query}"))
        .body(record(n))
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap())
}

/// Checks a receipt offline and returns how many witnesses cosigned it.
fn check_receipt(receipt: &str, n: u64, policy: &Policy) -> usize {
    let proof = TlogProof::parse(receipt.as_bytes()).unwrap();
    let record = proof.extra.clone().unwrap();
    assert_eq!(record, self::record(n));
    let signed = SignedRecord::verify(&record, &[agency().verifier()]).unwrap();
    proof
        .verify(&signed.leaf_hash(), policy)
        .unwrap()
        .cosignatures
        .len()
}

async fn checkpoint_size(client: &reqwest::Client, url: &str) -> u64 {
    let note = client
        .get(format!("{url}/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    size_of(&note)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_witnesses_publish_and_publication_waits_for_a_quorum() {
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("log");
    let out = run(
        "gazette-log",
        &[
            "init",
            "--origin",
            ORIGIN,
            "--dir",
            log_dir.to_str().unwrap(),
        ],
    );
    let log_vkey = line_value(&out, "log verifier key:");
    run(
        "gazette-log",
        &[
            "agency",
            "add",
            &agency().verifier().to_string(),
            "--dir",
            log_dir.to_str().unwrap(),
        ],
    );

    // Three witnesses following the log.
    let mut witness_vkeys = Vec::new();
    let mut witness_dirs = Vec::new();
    for i in 1..=3 {
        let wdir = dir.path().join(format!("witness{i}"));
        let w = wdir.to_str().unwrap();
        let out = run(
            "gazette-witness",
            &["init", "--name", &format!("w{i}.example.org"), "--dir", w],
        );
        witness_vkeys.push(line_value(&out, "witness verifier key:"));
        run(
            "gazette-witness",
            &[
                "add-log", "--origin", ORIGIN, "--vkey", &log_vkey, "--dir", w,
            ],
        );
        witness_dirs.push(wdir);
    }
    let setup = Setup {
        _dir: dir,
        log_dir,
        witness_dirs,
    };
    let mut witnesses: Vec<Option<Server>> = setup
        .witness_dirs
        .iter()
        .map(|d| Some(Server::start("gazette-witness", d, "127.0.0.1:0")))
        .collect();
    let addrs: Vec<String> = witnesses
        .iter()
        .map(|w| w.as_ref().unwrap().addr())
        .collect();

    // The log's witness policy: any two of the three.
    let mut policy = String::new();
    for (i, (vkey, addr)) in witness_vkeys.iter().zip(&addrs).enumerate() {
        policy.push_str(&format!("witness w{} {vkey} http://{addr}\n", i + 1));
    }
    policy.push_str("group two-of-three 2 w1 w2 w3\nquorum two-of-three\n");
    std::fs::write(setup.log_dir.join("policy.txt"), policy).unwrap();
    let config_path = setup.log_dir.join("gazette-log.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let config = config.replace(
        "# witness_policy_file = \"policy.txt\"",
        "witness_policy_file = \"policy.txt\"",
    );
    std::fs::write(&config_path, config).unwrap();

    let log = Server::start("gazette-log", &setup.log_dir, "127.0.0.1:0");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let info: serde_json::Value = client
        .get(format!("{}/info", log.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier_policy = Policy::parse(info["policy"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(verifier_policy.witnesses().len(), 3);

    // All three up: receipts at once, with two or three cosignatures.
    for n in 0..5 {
        let (status, answer) = add(&client, &log.url, n, true).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["index"], n);
        let cosigned = check_receipt(answer["receipt"].as_str().unwrap(), n, &verifier_policy);
        assert!(cosigned >= 2, "record {n}: {cosigned} cosignatures");
    }

    // One witness down: publication goes on.
    witnesses[0] = None;
    for n in 5..10 {
        let (status, answer) = add(&client, &log.url, n, true).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            check_receipt(answer["receipt"].as_str().unwrap(), n, &verifier_policy),
            2
        );
    }

    // Two down: sequencing goes on, publication waits.
    witnesses[1] = None;
    let published = checkpoint_size(&client, &log.url).await;
    assert_eq!(published, 10);
    for n in 10..20 {
        let (status, answer) = add(&client, &log.url, n, false).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["index"], n);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        checkpoint_size(&client, &log.url).await,
        10,
        "published without a quorum"
    );
    let reply = client
        .get(format!("{}/receipt/15", log.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.status(),
        404,
        "a receipt before any witnessed checkpoint covers it"
    );
    let proof = client
        .get(format!("{}/proof/inclusion?index=15&size=20", log.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        proof.status(),
        200,
        "the committed tree is readable all the same"
    );

    // They come back (on the same addresses): publication catches up.
    witnesses[0] = Some(Server::start(
        "gazette-witness",
        &setup.witness_dirs[0],
        &addrs[0],
    ));
    witnesses[1] = Some(Server::start(
        "gazette-witness",
        &setup.witness_dirs[1],
        &addrs[1],
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while checkpoint_size(&client, &log.url).await < 20 {
        assert!(Instant::now() < deadline, "publication did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let receipt = client
        .get(format!("{}/receipt/15", log.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(check_receipt(&receipt, 15, &verifier_policy) >= 2);
    drop(witnesses);
    drop(log);
}
