//! The command line's verdicts come from proofs only: `gazette verify
//! --online` and `gazette lookup` against real logs ask the log's
//! verifiable index (`/index/lookup`) and check its proofs. A revocation
//! logged after the record or before it is proven (exit 14); an unrevoked
//! record is proven not revoked as of a checkpoint (exit 0); a document
//! never logged is proven absent (exit 13); a log that keeps no index gives
//! no verdict (exit 15), never the log's word.

use std::path::Path;

use gazette_client::note::{KeyType, Signer};
use gazette_client::record::Record;
use gazette_tests::{WitnessedLog, add_batch, get_json, run_status};
use serde_json::Value;

fn agency() -> Signer {
    Signer::from_seed("proven.example.gov", KeyType::Ed25519, [47; 32]).unwrap()
}

fn digest(n: u64) -> [u8; 32] {
    let mut digest = [0x77; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    digest
}

fn record(id: &str, n: u64) -> Vec<u8> {
    Record::new(
        agency().name(),
        "permit",
        id,
        digest(n),
        "2026-11-24T10:00:00Z",
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

/// A revocation of `permit <id>` by the agency.
fn revocation(revocation_id: &str, id: &str, n: u64) -> Vec<u8> {
    Record::revocation(
        agency().name(),
        revocation_id,
        digest(n),
        "2026-11-25T00:00:00Z",
        "permit",
        id,
    )
    .sign(&agency())
    .unwrap()
    .bytes
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The paths one test's runs share.
struct Work {
    _dir: tempfile::TempDir,
    policy: std::path::PathBuf,
    /// Whether the policy asks for cosignatures (else every command is
    /// told `--no-witnesses`).
    witnessed: bool,
    state: std::path::PathBuf,
    evidence: std::path::PathBuf,
}

impl Work {
    async fn new(url: &str) -> Work {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.txt");
        let info = get_json(&format!("{url}/info")).await;
        let text = info["policy"].as_str().unwrap();
        std::fs::write(&policy, text).unwrap();
        let witnessed = gazette_client::policy::Policy::parse(text.as_bytes())
            .unwrap()
            .requires_witnesses();
        Work {
            policy,
            witnessed,
            state: dir.path().join("trusted.checkpoint"),
            evidence: dir.path().join("evidence.txt"),
            _dir: dir,
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self._dir.path().join(name)
    }

    /// `--policy <file>`, and `--no-witnesses` where it asks for none.
    fn trust(&self) -> Vec<&str> {
        let mut args = vec!["--policy", p(&self.policy)];
        if !self.witnessed {
            args.push("--no-witnesses");
        }
        args
    }

    /// `gazette verify <receipt of index> --online --log url extra...`.
    async fn verify(&self, url: &str, index: u64, extra: &[&str]) -> (i32, String, String) {
        let file = self.path(&format!("{index}.tlog-proof"));
        std::fs::write(&file, gazette_tests::receipt(url, index).await).unwrap();
        let mut args = vec!["verify", p(&file)];
        args.extend(self.trust());
        args.extend(["--online", "--log", url, "--state", p(&self.state)]);
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    }

    /// `gazette lookup --log url` the agency's permit `id`, `extra...`.
    fn lookup_permit(&self, url: &str, id: &str, extra: &[&str]) -> (i32, String, String) {
        let name = agency();
        let mut args = vec!["--issuer", name.name(), "--kind", "permit", "--id", id];
        args.extend_from_slice(extra);
        self.lookup(url, &args)
    }

    /// `gazette lookup --log url extra...`.
    fn lookup(&self, url: &str, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec!["lookup", "--log", url];
        args.extend(self.trust());
        args.extend(["--state", p(&self.state), "--evidence", p(&self.evidence)]);
        args.extend_from_slice(extra);
        run_status("gazette", &args)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_either_side_of_the_record_and_absence_are_proven() {
    let log = WitnessedLog::start("proven.example/log", &agency().verifier(), 1, 1);
    let url = log.log.url.clone();
    let work = Work::new(&url).await;
    let agency_vkey = agency().verifier().to_string();

    // P-1 then its revocation (a later batch); the revocation of P-2, then
    // P-2 (a later batch); P-3 and P-4 in one batch with the revocation of
    // P-4 between them; P-5 never revoked.
    let p1 = add_batch(&url, vec![record("P-1", 1)]).await[0];
    let rev1 = add_batch(&url, vec![revocation("REV-1", "P-1", 1)]).await[0];
    let rev2 = add_batch(&url, vec![revocation("REV-2", "P-2", 2)]).await[0];
    let p2 = add_batch(&url, vec![record("P-2", 2)]).await[0];
    let batch = add_batch(
        &url,
        vec![
            record("P-3", 3),
            revocation("REV-4", "P-4", 4),
            record("P-4", 4),
        ],
    )
    .await;
    let (p3, rev4, p4) = (batch[0], batch[1], batch[2]);
    let p5 = add_batch(&url, vec![record("P-5", 5)]).await[0];
    assert!(
        p1 < rev1 && rev2 < p2 && rev4 < p4,
        "{p1} {rev1} {rev2} {p2}"
    );
    // Every entry is in the published checkpoint once the last has a receipt.
    gazette_tests::receipt(&url, p5).await;

    for (index, revoked_by) in [(p1, rev1), (p2, rev2), (p4, rev4)] {
        for agency in [&[][..], &["--agency", &agency_vkey][..]] {
            let (code, out, err) = work.verify(&url, index, agency).await;
            assert_eq!(code, 14, "{index} {agency:?}: {out}{err}");
            assert!(
                err.contains(&format!("revocation at index {revoked_by} (proven"))
                    && err.contains("proven"),
                "{err}"
            );
        }
        let (code, out, err) = work.verify(&url, index, &["--json"]).await;
        assert_eq!(code, 14, "{out}{err}");
        let report: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(report["revoked_by"], revoked_by, "{report}");
        assert_eq!(report["revocation_check"]["status"], "revoked", "{report}");
        assert_eq!(report["revocation_check"]["proven"], true, "{report}");
    }

    // Not revoked: proven as of the checkpoint, cosigned by the witness.
    for index in [p3, p5] {
        let (code, out, err) = work.verify(&url, index, &["--agency", &agency_vkey]).await;
        assert_eq!(code, 0, "{index}: {out}{err}");
        assert!(out.contains("not revoked as of checkpoint size"), "{out}");
        assert!(out.contains("cosigned by w1 at 20"), "{out}");
    }
    let (code, out, err) = work.verify(&url, p5, &["--json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["revoked_by"], Value::Null, "{report}");
    assert_eq!(report["revocation_check"]["status"], "valid", "{report}");
    assert_eq!(report["revocation_check"]["proven"], true, "{report}");
    // Machine values only: the size a number, each cosignature a witness
    // and an RFC 3339 time.
    assert!(
        report["revocation_check"]["size"].as_u64().unwrap() > p5,
        "{report}"
    );
    let cosigned = report["revocation_check"]["cosigned"].as_array().unwrap();
    assert_eq!(cosigned[0]["witness"], "w1", "{report}");
    assert!(
        gazette_client::record::is_rfc3339_utc(cosigned[0]["time"].as_str().unwrap()),
        "{report}"
    );
    // A revocation's own receipt: it has no status, and says so.
    let (code, out, err) = work.verify(&url, rev1, &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("a revocation"), "{out}");

    // Lookups: a name's record with its proven status; a document's records
    // (the record and the revocation naming it); a document never logged is
    // proven absent.
    let (code, out, err) = work.lookup_permit(&url, "P-2", &["--json"]);
    assert_eq!(code, 0, "{err}");
    let found: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(found["proven"], true, "{found}");
    let matches = found["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{found}");
    assert_eq!(matches[0]["index"], p2, "{found}");
    assert_eq!(matches[0]["status"], "revoked", "{found}");
    assert_eq!(matches[0]["revoked_by"], rev2, "{found}");
    assert_eq!(matches[0]["proven"], true, "{found}");

    let hex = |n: u64| gazette_client::encoding::hex_encode(&digest(n));
    let (code, out, err) =
        work.lookup(&url, &["--digest", &format!("sha256:{}", hex(4)), "--json"]);
    assert_eq!(code, 0, "{err}");
    let found: Value = serde_json::from_str(out.trim()).unwrap();
    let statuses: Vec<(u64, &str)> = found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["index"].as_u64().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [(rev4, "revocation"), (p4, "revoked")], "{found}");
    let (code, out, err) = work.lookup(&url, &["--digest", &format!("sha256:{}", hex(3))]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "P-3 2026-11-24T10:00:00Z at index {p3}, not revoked (proven)"
        )),
        "{out}"
    );

    let never = work.path("never-logged.pdf");
    std::fs::write(&never, b"a document no agency ever recorded").unwrap();
    let (code, out, err) = work.lookup(&url, &["--document", p(&never)]);
    assert_eq!(code, 13, "{out}{err}");
    assert!(err.contains("proven absent"), "{err}");
    let (code, _, err) = work.lookup_permit(&url, "P-99", &[]);
    assert_eq!(code, 13, "{err}");
    assert!(err.contains("proven absent"), "{err}");
    assert!(!work.evidence.exists(), "no misbehaviour was seen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_without_an_index_gives_no_verdict() {
    let mut log = WitnessedLog::start("unindexed.example/log", &agency().verifier(), 0, 0);
    let config = log.log_dir.join("gazette-log.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("\nverifiable_index = true\n"), "{text}");
    std::fs::write(
        &config,
        text.replace(
            "\nverifiable_index = true\n",
            "\nverifiable_index = false\n",
        ),
    )
    .unwrap();
    log.restart_log();
    let url = log.log.url.clone();
    let work = Work::new(&url).await;
    // The agency's registration came before (with the index still on).
    let first = log.records_from;
    let p1 = add_batch(&url, vec![record("P-1", 1)]).await[0];
    let rev1 = add_batch(&url, vec![revocation("REV-1", "P-1", 1)]).await[0];
    let p2 = add_batch(&url, vec![record("P-2", 2)]).await[0];
    assert_eq!(
        (p1, rev1, p2),
        (first, first + 1, first + 2),
        "no commitment entries"
    );
    gazette_tests::receipt(&url, p2).await;

    // Revoked or not, the log cannot prove it: exit 15, never its word.
    for index in [p1, p2] {
        let (code, out, err) = work.verify(&url, index, &[]).await;
        assert_eq!(code, 15, "{index}: {out}{err}");
        assert!(
            err.contains("could not check revocation") && err.contains("no verifiable index"),
            "{err}"
        );
        let (code, out, err) = work.verify(&url, index, &["--json"]).await;
        assert_eq!(code, 15, "{out}{err}");
        let report: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(
            report["revocation_check"]["status"], "unchecked",
            "{report}"
        );
        assert_eq!(report["revoked_by"], Value::Null, "{report}");
    }
    // The receipt itself still verifies offline.
    let receipt = work.path(&format!("{p1}.tlog-proof"));
    let mut args = vec!["verify", p(&receipt)];
    args.extend(work.trust());
    let (code, _, err) = run_status("gazette", &args);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = work.lookup_permit(&url, "P-99", &[]);
    assert_eq!(code, 15, "{err}");
    assert!(err.contains("could not look up with proofs"), "{err}");
}

/// How the lying proxy in front of a log tampers with `/index/lookup`.
#[derive(Clone, Copy)]
enum Tamper {
    /// Drops every revocation from the listed entries: hides them.
    HideRevocations,
    /// Answers 503 (the index not at hand) every time.
    Unavailable,
}

/// A log's HTTP API passed through unchanged except for `/index/lookup`,
/// tampered with as `tamper` says. Plain blocking HTTP/1.1 on loopback,
/// one thread per connection, each closed after one answer.
fn lying_proxy(upstream: &str, tamper: Tamper) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
                let (status, body) = if path.starts_with("/index/lookup") {
                    match tamper {
                        Tamper::Unavailable => (
                            "503 Service Unavailable\r\nRetry-After: 1",
                            r#"{"error":"the index is not at hand"}"#.as_bytes().to_vec(),
                        ),
                        Tamper::HideRevocations => {
                            let mut answer: Value =
                                reqwest::blocking::get(format!("{upstream}{path}"))
                                    .unwrap()
                                    .json()
                                    .unwrap();
                            answer["entries"].as_array_mut().unwrap().retain(|e| {
                                !e["entry"].as_str().unwrap().contains("\nkind revocation\n")
                            });
                            ("200 OK", answer.to_string().into_bytes())
                        }
                    }
                } else {
                    let reply = reqwest::blocking::get(format!("{upstream}{path}")).unwrap();
                    let status = if reply.status().is_success() {
                        "200 OK"
                    } else {
                        "404 Not Found"
                    };
                    (status, reply.bytes().unwrap().to_vec())
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_proof_that_fails_is_misbehaviour_and_an_index_not_at_hand_no_verdict() {
    let log = WitnessedLog::start("lying.example/log", &agency().verifier(), 0, 0);
    let url = log.log.url.clone();
    let work = Work::new(&url).await;
    let p1 = add_batch(&url, vec![record("P-1", 1)]).await[0];
    let rev1 = add_batch(&url, vec![revocation("REV-1", "P-1", 1)]).await[0];
    gazette_tests::receipt(&url, rev1).await;
    // The honest log proves the revocation.
    let (code, out, err) = work.verify(&url, p1, &[]).await;
    assert_eq!(code, 14, "{out}{err}");

    // A log hiding the revocation: its map proof fails, exit 10 with the
    // evidence kept (never "not revoked").
    let liar = lying_proxy(&url, Tamper::HideRevocations);
    let (code, out, err) = work.verify(&liar, p1, &[]).await;
    assert_eq!(code, 10, "{out}{err}");
    assert!(
        err.contains("the log misbehaved") && err.contains("does not verify"),
        "{err}"
    );
    let kept = std::fs::read_to_string(work.state.with_extension("evidence")).unwrap();
    assert!(kept.starts_with("gazette index evidence\n"), "{kept}");
    assert!(
        kept.contains("lying.example/log\n"),
        "the checkpoint: {kept}"
    );
    let (code, out, err) = work.lookup_permit(&liar, "P-1", &[]);
    assert_eq!(code, 10, "{out}{err}");
    assert!(
        std::fs::read_to_string(&work.evidence)
            .unwrap()
            .starts_with("gazette index evidence\n")
    );

    // A log that cannot prove now: no verdict, after a few attempts.
    let busy = lying_proxy(&url, Tamper::Unavailable);
    let (code, out, err) = work.verify(&busy, p1, &[]).await;
    assert_eq!(code, 15, "{out}{err}");
    assert!(
        err.contains("could not check revocation") && err.contains("503"),
        "{err}"
    );
    // The honest log still proves it: the trusted state was not disturbed.
    let (code, out, err) = work.verify(&url, p1, &[]).await;
    assert_eq!(code, 14, "{out}{err}");
}
