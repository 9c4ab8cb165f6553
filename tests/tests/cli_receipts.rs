//! `gazette submit --receipts` from a CSV manifest against a log with a
//! witness: every record's receipt lands in the directory and verifies
//! offline with `gazette verify`; with too few cosignatures for the policy,
//! none does.

use std::path::Path;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, get_json, run_status};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_fetches_witnessed_receipts_that_verify_offline() {
    let agency = Signer::from_seed("certs.example.gov", KeyType::Ed25519, [12; 32]).unwrap();
    let setup = WitnessedLog::start("receipts.example/log", &agency.verifier(), 1, 1);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::create_dir(w.join("records")).unwrap();
    let mut csv = String::from("id,path\n");
    for n in 0..3u64 {
        let record = Record::new(
            agency.name(),
            "e-certificate",
            &format!("C/{n}"),
            [n as u8; 32],
            "2026-11-24T10:00:00Z",
        )
        .sign(&agency)
        .unwrap();
        std::fs::write(w.join(format!("records/c{n}.record")), record.bytes).unwrap();
        csv.push_str(&format!("C/{n},records/c{n}.record\n"));
    }
    std::fs::write(w.join("manifest.csv"), csv).unwrap();
    let receipts = w.join("receipts");
    let (code, _, err) = run_status(
        "gazette",
        &[
            "submit",
            "--log",
            &setup.log.url,
            "--resume",
            p(&w.join("resume")),
            "--receipts",
            p(&receipts),
            "--quiet",
            p(&w.join("manifest.csv")),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let info = get_json(&format!("{}/info", setup.log.url)).await;
    std::fs::write(w.join("policy.txt"), info["policy"].as_str().unwrap()).unwrap();
    for n in 0..3 {
        let file = receipts.join(format!("certs.example.gov_e-certificate_C_{n}.tlog-proof"));
        let (code, out, err) = run_status(
            "gazette",
            &[
                "verify",
                p(&file),
                "--policy",
                p(&w.join("policy.txt")),
                "--agency",
                &agency.verifier().to_string(),
                "--json",
            ],
        );
        assert_eq!(code, 0, "{n}: {err}");
        assert!(
            out.contains(&format!("\"id\":\"C/{n}\"")) && out.contains("\"witnesses\":[\"w1\"]"),
            "{out}"
        );
    }

    // Too few cosignatures are refused by default (exit 4): under a policy
    // that wants two witnesses, and with the one cosignature taken out.
    let receipt = receipts.join("certs.example.gov_e-certificate_C_0.tlog-proof");
    let stranger = Signer::from_seed("stranger.example.org", KeyType::Cosignature, [13; 32])
        .unwrap()
        .verifier();
    let policy = info["policy"].as_str().unwrap();
    let mut two = String::new();
    for line in policy
        .lines()
        .filter(|l| l.starts_with("log ") || l.starts_with("witness "))
    {
        two.push_str(&format!("{line}\n"));
    }
    two.push_str(&format!(
        "witness w2 {stranger}\ngroup both all w1 w2\nquorum both\n"
    ));
    std::fs::write(w.join("two.policy"), two).unwrap();
    let text = std::fs::read_to_string(&receipt).unwrap();
    let bare: String = text
        .lines()
        .filter(|l| !l.starts_with("— w1.example.org "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(bare, text, "the receipt had w1's cosignature");
    std::fs::write(w.join("bare.tlog-proof"), bare).unwrap();
    for (file, policy) in [
        (receipt.clone(), "two.policy"),
        (w.join("bare.tlog-proof"), "policy.txt"),
    ] {
        let (code, _, err) = run_status(
            "gazette",
            &["verify", p(&file), "--policy", p(&w.join(policy))],
        );
        assert_eq!(code, 4, "{policy}: {err}");
        assert!(err.contains("quorum not met"), "{err}");
    }
}
