//! A log with three witnesses, policy 2-of-3, all real processes on
//! loopback: records get receipts with at least two cosignatures that
//! verify offline; with one witness stopped publication goes on; with two
//! stopped, sequencing goes on and publication waits, then catches up when
//! they come back.

use std::time::{Duration, Instant};

use gazette_client::note::{KeyType, Signer};
use gazette_client::policy::Policy;
use gazette_client::record::{Record, SignedRecord};
use gazette_client::tlog_proof::TlogProof;
use gazette_tests::WitnessedLog;

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

/// Notes the index the log gave a record sent alone: its batch follows the
/// previous one, which ended with the verifiable index's commitment (the
/// first record follows the agency's registration, `records_from`).
fn logged_at(indexes: &mut Vec<u64>, records_from: u64, answer: &serde_json::Value) -> u64 {
    let index = answer["index"].as_u64().expect("an index");
    let expected = indexes.last().map_or(records_from, |previous| previous + 2);
    assert_eq!(index, expected, "{answer}");
    indexes.push(index);
    index
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_witnesses_publish_and_publication_waits_for_a_quorum() {
    let mut setup = WitnessedLog::start(ORIGIN, &agency().verifier(), 3, 2);
    let log = setup.log.url.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let info: serde_json::Value = client
        .get(format!("{}/info", log))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let verifier_policy = Policy::parse(info["policy"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(verifier_policy.witnesses().len(), 3);

    // All three up: receipts at once, with two or three cosignatures.
    let mut indexes = Vec::new();
    for n in 0..5 {
        let (status, answer) = add(&client, &log, n, true).await;
        assert_eq!(status, 200, "{answer}");
        logged_at(&mut indexes, setup.records_from, &answer);
        let cosigned = check_receipt(answer["receipt"].as_str().unwrap(), n, &verifier_policy);
        assert!(cosigned >= 2, "record {n}: {cosigned} cosignatures");
    }

    // One witness down: publication goes on.
    setup.stop_witness(0);
    for n in 5..10 {
        let (status, answer) = add(&client, &log, n, true).await;
        assert_eq!(status, 200, "{answer}");
        logged_at(&mut indexes, setup.records_from, &answer);
        assert_eq!(
            check_receipt(answer["receipt"].as_str().unwrap(), n, &verifier_policy),
            2
        );
    }

    // Two down: sequencing goes on, publication waits.
    setup.stop_witness(1);
    // Ten records, each followed by its batch's commitment.
    let published = gazette_tests::checkpoint_size(&log).await;
    assert_eq!(published, indexes[9] + 2);
    for n in 10..20 {
        let (status, answer) = add(&client, &log, n, false).await;
        assert_eq!(status, 200, "{answer}");
        logged_at(&mut indexes, setup.records_from, &answer);
    }
    let committed = indexes[19] + 2;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        gazette_tests::checkpoint_size(&log).await,
        published,
        "published without a quorum"
    );
    let reply = client
        .get(format!("{}/receipt/{}", log, indexes[15]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.status(),
        404,
        "a receipt before any witnessed checkpoint covers it"
    );
    let proof = client
        .get(format!(
            "{}/proof/inclusion?index={}&size={committed}",
            log, indexes[15]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        proof.status(),
        200,
        "the committed tree is readable all the same"
    );

    // They come back (on the same addresses): publication catches up.
    setup.restart_witness(0);
    setup.restart_witness(1);
    let deadline = Instant::now() + Duration::from_secs(60);
    while gazette_tests::checkpoint_size(&log).await < committed {
        assert!(Instant::now() < deadline, "publication did not catch up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let receipt = client
        .get(format!("{}/receipt/{}", log, indexes[15]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(check_receipt(&receipt, 15, &verifier_policy) >= 2);
    drop(setup);
}
